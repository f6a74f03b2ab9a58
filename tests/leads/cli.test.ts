/**
 * `moisson leads …` as a user runs it: a real process against the test Temporal server and database,
 * a worker of the test world serving the queue.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLeadsWorld, eventually, type LeadsWorld } from './harness';
import { runMoisson, type CliResult } from '../support/cli';

let world: LeadsWorld;

before(async () => {
  world = await createLeadsWorld();
});
after(async () => {
  await world?.close();
});

function moisson(args: string[]): Promise<CliResult> {
  return runMoisson(args, { TEMPORAL_ADDRESS: world.temporal.address, MOISSON_TASK_QUEUE: world.taskQueue, MOISSON_BROWSER_TASK_QUEUE: world.browserTaskQueue, DATABASE_URL: world.db.url });
}

test('moisson leads job create | list | pause | status | resume | cancel, validate, sync', async () => {
  const sites = world.replica.businesses.slice(0, 10).map((b) => world.replica.siteUrl(b));
  world.replica.setLatency(100);
  try {
    await world.withWorker(
      async () => {
        const bad = await moisson(['leads', 'job', 'create', '--type', 'custom_urls', '--url', 'not a url']);
        assert.equal(bad.code, 3, bad.stdout + bad.stderr);
        assert.match(bad.stderr, /--url \(value 1\): must be an http\(s\) URL/);
        const deep = await moisson(['leads', 'job', 'create', '--type', 'search', '--query', 'plombier', '--depth', '7']);
        assert.equal(deep.code, 3, deep.stdout + deep.stderr);
        assert.match(deep.stderr, /--depth: /);
        assert.doesNotMatch(deep.stderr, /followDepth/);
        const refused = await moisson(['leads', 'job', 'create', '--type', 'custom_urls', '--id', 'cli-refused', '--url', 'http://10.1.2.3/contact', '--wait']);
        assert.equal(refused.code, 0, refused.stdout + refused.stderr);
        assert.match(refused.stdout, /completed: pages \d+, contacts 0, errors 1/);
        assert.match(refused.stdout, /ssrf \S*10\.1\.2\.3\S*: refusing http:\/\/10\.1\.2\.3.*private/, 'the reason, not just a count');
        assert.match(refused.stdout, /finished leads-job-cli-refused in \d+ s: /);

        const created = await moisson(['leads', 'job', 'create', '--type', 'custom_urls', '--id', 'cli-job', '--depth', '2', ...sites.flatMap((u) => ['--url', u])]);
        assert.equal(created.code, 0, created.stdout + created.stderr);
        assert.match(created.stdout, /job cli-job created \(custom_urls\); workflow leads-job-cli-job/);
        await eventually(async () => {
          const [r] = await world.db.sql<{ pages_done: number }[]>`select pages_done from leads.jobs where id = 'cli-job'`;
          return (r?.pages_done ?? 0) > 0;
        });
        assert.equal((await moisson(['leads', 'job', 'pause', 'cli-job'])).code, 0);
        await eventually(async () => {
          const s = await moisson(['leads', 'job', 'status', 'cli-job']);
          return /cli-job {2}paused \(live\)/.test(s.stdout);
        }, 300);
        const list = await moisson(['leads', 'job', 'list', '--status', 'paused']);
        assert.match(list.stdout, /cli-job\s+paused\s+custom_urls/);
        assert.match(list.stdout, /1 of 1/);
        assert.equal((await moisson(['leads', 'job', 'resume', 'cli-job'])).code, 0);
        const cancel = await moisson(['leads', 'job', 'cancel', 'cli-job']);
        assert.equal(cancel.code, 0, cancel.stderr);
        await eventually(async () => /cancelled/.test((await moisson(['leads', 'job', 'status', 'cli-job'])).stdout), 300);
        const again = await moisson(['leads', 'job', 'resume', 'cli-job']);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /job cli-job is cancelled: it cannot be resumed/);
        const missing = await moisson(['leads', 'job', 'status', 'nope']);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /no scraping job nope/);

        const domain = world.replica.businesses[1]!.domain;
        const whois = await moisson(['leads', 'whois', domain]);
        assert.equal(whois.code, 0, whois.stdout + whois.stderr);
        assert.match(whois.stdout, new RegExp(`${domain.replace(/\./g, '\\.')}\\n  registrar OVH SAS`));
        assert.match((await moisson(['leads', 'whois', domain])).stdout, /\(cached\)/);
        const unknown = await moisson(['leads', 'whois', 'nobody-here.fr']);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stdout, /not registered/);

        const validate = await moisson(['leads', 'validate', '--sync']);
        assert.equal(validate.code, 0, validate.stderr);
        assert.match(validate.stdout, /claimed \d+: valid \d+/);
        const sync = await moisson(['leads', 'sync', '--sync']);
        assert.equal(sync.code, 0, sync.stdout + sync.stderr);
        assert.match(sync.stdout, /created [1-9]\d*, already there 0, failed 0/);
      },
      { env: { LEADS_BATCH_PAGES: '2', LEADS_CRAWL_CONCURRENCY: '1' } },
    );
  } finally {
    world.replica.setLatency(0);
  }
});
