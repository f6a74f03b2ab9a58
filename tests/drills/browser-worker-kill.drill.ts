/**
 * Drill `browser-worker-kill-maps`: a maps job (three queries, so three listing pages) runs with its
 * listing pages rendered by the real browser worker process (workers/browser.ts: Playwright on Debian's
 * Chromium, the `moisson-browser` queue of the leads test world) against the leads replica. While the
 * second listing page renders, that process is SIGKILLed (no goodbye to Temporal) and another one is
 * started: Temporal notices the silence at the render's heartbeat timeout and retries it on the new
 * process. The job completes with every listing page rendered and stored once, every listed business
 * once and every email of their websites once, and no error logged; the retry shows in the history and
 * in the new worker's `moisson_activity_retried`. The main worker (storing, crawling
 * the websites) runs in this process and is not touched.
 *
 * Slow (the heartbeat timeout is a minute): `npm run drills -- --only browser-worker-kill-maps`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJob, workflowIdFor } from '../../control/leads-jobs';
import type { LeadsJobResult } from '../../workflows/leads';
import { BROWSER_WORKER_NODE_FLAGS } from '../../workers/browser-flags';
import { createLeadsWorld, eventually, type LeadsWorld } from '../leads/harness';
import { mapsMatches, siteEmails } from '../replicas/leads/index';
import { seriesValue } from '../support/metrics';
import { freePort } from '../support/services';

// 48 businesses: 16 restaurants (two feed pages of the maps app), 8 plumbers, 8 hotels.
const QUERIES = ['restaurant', 'plombier', 'hôtel'];
// Each request of the replica waits this long while the listings render: a render takes seconds, so
// the kill lands inside one.
const RENDER_LATENCY_MS = 400;

let world: LeadsWorld;

before(async () => {
  world = await createLeadsWorld({ businesses: 48 });
});

after(async () => {
  await world?.close();
});

interface BrowserWorker {
  child: ChildProcess;
  metricsUrl: string;
}

/** workers/browser.ts as its own process on the world's browser queue; resolves once it polls. */
async function spawnBrowserWorker(): Promise<BrowserWorker> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [...BROWSER_WORKER_NODE_FLAGS, '--import', 'tsx', fileURLToPath(new URL('../../workers/browser.ts', import.meta.url))], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: world.temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      MOISSON_BROWSER_TASK_QUEUE: world.browserTaskQueue,
      METRICS_HOST: '127.0.0.1',
      BROWSER_METRICS_PORT: String(metricsPort),
      BROWSER_CONCURRENCY: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Its log is read to the end (a full pipe would block the worker); the last lines explain an early exit.
  const lines: string[] = [];
  const polling = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 20) lines.shift();
      if (line.includes('polling task queue')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the browser worker exited (${code}) before polling:\n${lines.join('\n')}`)));
  });
  await polling;
  return { child, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function stop(worker: BrowserWorker | undefined, signal: NodeJS.Signals): Promise<void> {
  const child = worker?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
}

test('the browser worker SIGKILLed mid maps job: another one renders the page again, every listing page, listing and email once', async () => {
  const listed = world.replica.businesses.filter((b) => QUERIES.some((q) => mapsMatches(b, q)));
  assert.equal(listed.length, 32, 'the replica lists 32 businesses for the three queries');
  const control = world.jobControl();
  const maps = async () =>
    world.db.sql<{ state: string; n: number }[]>`select state, count(*)::int as n from leads.frontier where job_id = 'maps-kill' and kind = 'maps' group by 1 order by 1`;
  let first: BrowserWorker | undefined = await spawnBrowserWorker();
  let second: BrowserWorker | undefined;
  try {
    const r = await world.withWorker(async () => {
      world.replica.setLatency(RENDER_LATENCY_MS);
      await createJob(control, { id: 'maps-kill', sourceType: 'maps', config: { queries: QUERIES, maxResults: 100 } });
      // Once the first listing page is stored, the next request for /maps is the second page's render.
      const servedAfterFirst = await eventually(async () => ((await maps()).some((m) => m.state === 'done') ? world.replica.requests('/maps') : false));
      await eventually(async () => world.replica.requests('/maps') > servedAfterFirst);
      await stop(first, 'SIGKILL');
      first = undefined;
      world.replica.setLatency(0);
      const atKill = Object.fromEntries((await maps()).map((m) => [m.state, m.n]));
      assert.equal(atKill.done, 1, `one listing page stored before the kill: ${JSON.stringify(atKill)}`);
      assert.equal(atKill.queued, QUERIES.length - 1, 'the page in flight and the last one are still queued');

      second = await spawnBrowserWorker();
      return (await world.temporal.client.workflow.getHandle(workflowIdFor('maps-kill')).result()) as LeadsJobResult;
    });
    assert.equal(r.status, 'completed');
    assert.equal(r.counts.errors, 0);
    const errors = await world.db.sql`select url, message from leads.error_log where job_id = 'maps-kill'`;
    assert.deepEqual([...errors], [], 'nothing logged as an error');

    // Every listing page once: each query's page done, marked done by one store.
    const pages = await world.db.sql<{ kind: string; state: string; n: number; urls: number; marks: number }[]>`
      select kind, state, count(*)::int as n, count(distinct url)::int as urls, sum(attempts)::int as marks
        from leads.frontier where job_id = 'maps-kill' group by 1, 2 order by 1, 2`;
    assert.deepEqual(
      pages.map((p) => [p.kind, p.state, p.n, p.urls, p.marks]),
      [
        ['maps', 'done', QUERIES.length, QUERIES.length, QUERIES.length],
        ...pages.filter((p) => p.kind !== 'maps').map((p) => [p.kind, 'done', p.n, p.n, p.n]),
      ],
      'every page done, once',
    );
    const homes = await world.db.sql<{ url: string }[]>`select url from leads.frontier where job_id = 'maps-kill' and kind <> 'maps' and depth = 0`;
    assert.deepEqual(
      homes.map((h) => h.url).sort(),
      // The frontier keeps a URL normalised: no trailing slash.
      listed.map((b) => world.replica.siteUrl(b).replace(/\/$/, '')).sort(),
      "every listed business's website visited",
    );

    // Every listed business once, as its listing says it.
    const listings = await world.db.sql<{ company: string; phones: string[]; address: string; website: string }[]>`
      select company, phones, address, website from leads.scraped_contacts where job_id = 'maps-kill' and dedup_key like 'listing:%'`;
    const byName = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    assert.deepEqual(
      listings.map((l) => [l.company, l.phones, l.address, l.website]).sort(byName),
      listed.map((b) => [b.name, [b.phoneE164], b.address, world.replica.siteUrl(b)]).sort(byName),
    );
    const emails = await world.db.sql<{ email: string }[]>`select email from leads.scraped_contacts where job_id = 'maps-kill' and email is not null order by email`;
    assert.deepEqual(emails.map((e) => e.email), [...new Set(listed.flatMap((b) => siteEmails(b, 1)))].sort(), 'every email once');

    // The kill shows in the history: the render in flight was attempted again.
    const history = await world.temporal.client.workflow.getHandle(workflowIdFor('maps-kill')).fetchHistory();
    const renders = new Set(
      (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'renderMapsListings').map((e) => String(e.eventId)),
    );
    assert.equal(renders.size, QUERIES.length, 'one render scheduled per listing page');
    const retried = (history.events ?? []).filter(
      (e) => e.activityTaskStartedEventAttributes && renders.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)) && Number(e.activityTaskStartedEventAttributes.attempt) > 1,
    );
    assert.equal(retried.length, 1, 'the render of the killed worker was retried, once');
    // And where operators look: the new worker's metrics count the render that succeeded on a retry.
    const metrics = await (await fetch(second!.metricsUrl)).text();
    assert.equal(seriesValue(metrics, 'moisson_activity_retried_total', { activity: 'renderMapsListings', workflow: 'leadsJob', outcome: 'succeeded' }), 1, metrics);
  } finally {
    world.replica.setLatency(0);
    await stop(first, 'SIGKILL');
    await stop(second, 'SIGTERM');
  }
});
