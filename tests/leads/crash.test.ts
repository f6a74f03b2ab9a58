/**
 * A worker killed mid-job (SIGKILL, no goodbye): another worker takes the job over from its state in
 * Temporal and the frontier in PostgreSQL, and the job ends with every page visited once and every
 * contact stored once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJob, getJob, workflowIdFor } from '../../control/leads-jobs';
import type { LeadsJobResult } from '../../workflows/leads';
import { siteEmails, sitePageCount } from '../replicas/leads/index';
import { createLeadsWorld, eventually, type LeadsWorld } from './harness';

let world: LeadsWorld;

before(async () => {
  world = await createLeadsWorld();
});

after(async () => {
  await world?.close();
});

async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./worker-process.ts', import.meta.url))], {
    env: {
      ...process.env,
      ...world.env({ LEADS_BATCH_PAGES: '4', LEADS_CRAWL_CONCURRENCY: '2' }),
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
