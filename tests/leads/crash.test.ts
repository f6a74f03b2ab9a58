/**
 * A worker killed mid-job (SIGKILL, no goodbye): another worker takes the job over from its state in
 * Temporal and the frontier in PostgreSQL, and the job ends with every page visited once and every
 * contact stored once. The same for a MailWizz push: no contact left `syncing`, no duplicate
 * subscriber, and the run's totals count what the killed attempt created.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJob, getJob, pauseJob, resumeJob, workflowIdFor } from '../../control/leads-jobs';
import type { LeadsJobResult, LeadsSyncResult } from '../../workflows/leads';
import { siteEmails, sitePageCount } from '../replicas/leads/index';
import { createLeadsWorld, eventually, type LeadsWorld } from './harness';

let world: LeadsWorld;

before(async () => {
  world = await createLeadsWorld();
});

after(async () => {
  await world?.close();
});

async function spawnWorker(overrides: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./worker-process.ts', import.meta.url))], {
    env: {
      ...process.env,
      ...world.env({ LEADS_BATCH_PAGES: '4', LEADS_CRAWL_CONCURRENCY: '2', ...overrides }),
      TEMPORAL_ADDRESS: world.temporal.address,
      DATABASE_URL: world.db.url,
      LEADS_TEST_TASK_QUEUE: world.taskQueue,
      LEADS_TEST_PAGE_DELAY_MS: '100',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if (line.includes('polling')) break;
  return child;
}

test('a worker killed mid-job: another one finishes it, nothing lost, nothing twice', async () => {
  const sites = world.replica.businesses.slice(0, 8);
  const control = world.jobControl();
  const first = await spawnWorker();
  let second: ChildProcess | undefined;
  try {
    await createJob(control, { id: 'crash', sourceType: 'custom_urls', config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 2 } });
    await eventually(async () => (await getJob(control, 'crash')).pagesDone >= 10);
    first.kill('SIGKILL');
    await once(first, 'exit');
    const atKill = await getJob(control, 'crash');
    assert.ok(atKill.pagesQueued > 0, 'killed before the end');

    second = await spawnWorker();
    const r = (await world.temporal.client.workflow.getHandle(workflowIdFor('crash')).result()) as LeadsJobResult;
    assert.equal(r.status, 'completed');
    assert.equal(r.counts.pagesDone, sites.length * sitePageCount(2));
    assert.equal(r.counts.errors, 0);
    const pages = await world.db.sql<{ n: number; distinct_urls: number }[]>`
      select count(*)::int as n, count(distinct url)::int as distinct_urls from leads.frontier where job_id = 'crash' and state = 'done'`;
    assert.equal(pages[0]!.n, pages[0]!.distinct_urls);
    const emails = await world.db.sql<{ email: string }[]>`select email from leads.scraped_contacts where job_id = 'crash' and email is not null order by email`;
    assert.deepEqual(emails.map((e) => e.email), sites.flatMap((b) => siteEmails(b, 2)).sort(), 'every email once');
    // The crash shows in the history: the batch in flight was attempted again.
    const history = await world.temporal.client.workflow.getHandle(workflowIdFor('crash')).fetchHistory();
    const retried = history.events?.some((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.attempt) > 1);
    assert.ok(retried, 'the batch of the killed worker was retried');
  } finally {
    first.kill('SIGKILL');
    second?.kill('SIGTERM');
    if (second && second.exitCode === null) await once(second, 'exit');
  }
});

test('a paused job whose worker is killed: another worker keeps it paused, resumes it, every page once', async () => {
  const sites = world.replica.businesses.slice(8, 14);
  const control = world.jobControl();
  const first = await spawnWorker();
  let second: ChildProcess | undefined;
  try {
    await createJob(control, { id: 'paused-crash', sourceType: 'custom_urls', config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 2 } });
    await eventually(async () => (await getJob(control, 'paused-crash')).pagesDone >= 6);
    await pauseJob(control, 'paused-crash');
    // The batch in flight finishes first: the job says paused once the workflow waits.
    const paused = await eventually(async () => {
      const j = await getJob(control, 'paused-crash');
      return j.status === 'paused' && j;
    });
    assert.ok(paused.pagesQueued > 0, 'paused before the end');
    first.kill('SIGKILL');
    await once(first, 'exit');

    second = await spawnWorker();
    // The new worker replays the job into its pause: nothing is crawled until it is resumed.
    await new Promise((r) => setTimeout(r, 3000));
    const still = await getJob(control, 'paused-crash');
    assert.equal(still.status, 'paused', 'still paused on the new worker');
    assert.equal(still.pagesDone, paused.pagesDone, 'no page crawled while paused');

    await resumeJob(control, 'paused-crash');
    const r = (await world.temporal.client.workflow.getHandle(workflowIdFor('paused-crash')).result()) as LeadsJobResult;
    assert.equal(r.status, 'completed');
    assert.equal(r.counts.pagesDone, sites.length * sitePageCount(2));
    assert.equal(r.counts.errors, 0);
    const pages = await world.db.sql<{ n: number; distinct_urls: number }[]>`
      select count(*)::int as n, count(distinct url)::int as distinct_urls from leads.frontier where job_id = 'paused-crash' and state = 'done'`;
    assert.equal(pages[0]!.n, sites.length * sitePageCount(2), 'every page done');
    assert.equal(pages[0]!.n, pages[0]!.distinct_urls, 'every page once');
    const emails = await world.db.sql<{ email: string }[]>`select email from leads.scraped_contacts where job_id = 'paused-crash' and email is not null order by email`;
    assert.deepEqual(emails.map((e) => e.email), sites.flatMap((b) => siteEmails(b, 2)).sort(), 'every email once');
  } finally {
    first.kill('SIGKILL');
    second?.kill('SIGTERM');
    if (second && second.exitCode === null) await once(second, 'exit');
  }
});

test('a worker killed mid-push to MailWizz: the retry takes back its claim, no duplicate, totals count every subscriber created', async () => {
  const emails = Array.from({ length: 28 }, (_, i) => `push${String(i).padStart(2, '0')}@plomberie-richard.fr`);
  await world.db.sql`insert into leads.jobs (id, name, source_type, config, workflow_id) values ('push', 'push', 'custom_urls', '{"urls":["http://x.example/"]}'::jsonb, 'leads-job-push')`;
  for (const email of emails) {
    const [c] = await world.db.sql<{ id: number }[]>`
      insert into leads.scraped_contacts (job_id, dedup_key, email, domain, source_url, status)
      values ('push', ${email}, ${email}, 'plomberie-richard.fr', 'http://x.example/', 'valid') returning id`;
    await world.db.sql`
      insert into leads.validated_contacts (email, scraped_contact_id, job_id, domain, category, platform, list_uid, template, tags)
      values (${email}, ${c!.id}, 'push', 'plomberie-richard.fr', 'general', 'general', 'general-list', 'welcome', '["lead"]'::jsonb)`;
  }
  // Each call takes 700 ms: a search and a create per contact, so the kill lands mid-batch.
  world.mailwizz.setLatency(700);
  const createsBefore = world.mailwizz.calls('create');
  const first = await spawnWorker();
  let second: ChildProcess | undefined;
  try {
    const handle = await world.temporal.client.workflow.start('leadsSyncMailwizz', { taskQueue: world.taskQueue, workflowId: 'push-killed', args: [{}] });
    await eventually(async () => {
      const [{ n }] = (await world.db.sql`select count(*)::int as n from leads.sync_log where outcome = 'created' and email like 'push%'`) as unknown as [{ n: number }];
      return n >= 4;
    });
    first.kill('SIGKILL');
    await once(first, 'exit');
    const [{ syncing }] = (await world.db.sql`select count(*)::int as syncing from leads.validated_contacts where sync_status = 'syncing'`) as unknown as [{ syncing: number }];
    assert.ok(syncing > 0, 'killed with contacts mid-push');

    second = await spawnWorker();
    const r = (await handle.result()) as LeadsSyncResult;
    const subscribers = world.mailwizz.subscribers('general-list').filter((s) => s.email.startsWith('push'));
    assert.equal(subscribers.length, emails.length, 'every contact is a subscriber');
    assert.equal(new Set(subscribers.map((s) => s.email)).size, subscribers.length, 'no duplicate subscriber');
    // The one create whose answer died with the worker (if any) is the only create more than the subscribers.
    const creates = world.mailwizz.calls('create') - createsBefore;
    assert.ok(creates === emails.length || creates === emails.length + 1, `${creates} create calls for ${emails.length} contacts`);
    const states = await world.db.sql<{ sync_status: string; n: number }[]>`select sync_status, count(*)::int as n from leads.validated_contacts group by 1`;
    assert.deepEqual(states.map((s) => [s.sync_status, s.n]), [['synced', emails.length]], 'nothing left syncing');
    assert.equal(r.created, emails.length, `the run's totals count what the killed attempt created: ${JSON.stringify(r)}`);
    assert.deepEqual([r.existing, r.failed, r.rejected], [0, 0, 0]);
    const logged = await world.db.sql<{ email: string; outcome: string; attempt: number }[]>`select email, outcome, attempt from leads.sync_log where email like 'push%' order by email`;
    assert.deepEqual(logged.map((l) => [l.email, l.outcome, l.attempt]), emails.map((e) => [e, 'created', 1]), 'one try each');
    const history = await handle.fetchHistory();
    const retried = history.events?.some((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.attempt) > 1);
    assert.ok(retried, 'the batch of the killed worker was retried');
  } finally {
    world.mailwizz.setLatency(0);
    first.kill('SIGKILL');
    second?.kill('SIGTERM');
    if (second && second.exitCode === null) await once(second, 'exit');
  }
});
