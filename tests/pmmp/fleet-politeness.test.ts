/**
 * Politeness across a fleet: two real worker processes (`workers/main.ts`), each crawling its own pmmp
 * window at the same time against the portal replica, with politeness on at a configured rate. The
 * per-host budget is one for both (etl.host_budgets, FETCH_POLITENESS_SCOPE=fleet, the default):
 * - the replica sees at most the configured rate over any window: the k-th request after any request
 *   arrives no sooner than k intervals after it, less BURST_TOLERANCE_MS (the lag between a turn granted
 *   by the database and the request leaving a busy event loop on this 2-core machine); so any window of
 *   W ms holds at most 1 + (W + BURST_TOLERANCE_MS) × rate requests;
 * - a 429 answered to one worker (its User-Agent) stops both for the Retry-After.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/fleet-politeness.test.ts
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startPortalReplica, type PortalReplica, type RequestLogEntry } from '../replicas/pmmp/index';
import { createTestArchive, createTestDatabase, startTemporal, type TestArchive, type TestDatabase } from '../support/services';
import { startPmmpWorkerProcess } from './worker-process';

const RATE = 6;
const INTERVAL_MS = 1000 / RATE;
const BURST_TOLERANCE_MS = 150;
const RETRY_AFTER_S = 3;
const AGENTS = { a: 'moisson-fleet-a/0.1 (+mailto:test@example.org)', b: 'moisson-fleet-b/0.1 (+mailto:test@example.org)' } as const;

let replica: PortalReplica;
let temporal: TestWorkflowEnvironment;
let db: TestDatabase;
let archive: TestArchive;
let dir: string;
const children: ChildProcess[] = [];
const handles: Array<{ terminate(): Promise<unknown> }> = [];

before(async () => {
  [replica, temporal, db, archive, dir] = await Promise.all([
    startPortalReplica({ seed: 23, today: '2026-11-20', consultations: 2_000, knobs: { latencyMs: { min: 2, max: 10 }, retryAfterSeconds: RETRY_AFTER_S } }),
    startTemporal(),
    createTestDatabase(),
    createTestArchive(),
    mkdtemp(join(tmpdir(), 'moisson-pmmp-fleet-')),
  ]);
});

after(async () => {
  await Promise.allSettled(handles.map((h) => h.terminate()));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled([temporal?.teardown(), replica?.close(), db?.drop(), archive?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The replica's requests from our two workers, by arrival. */
function arrivals(): RequestLogEntry[] {
  return replica
    .stats()
    .log.filter((e) => e.agent === AGENTS.a || e.agent === AGENTS.b)
    .sort((x, y) => x.receivedAt - y.receivedAt);
}

/** The worst excess over the configured rate: for each request, the k-th next one must not come sooner than k intervals. */
function worstSpacing(log: RequestLogEntry[]): { shortfallMs: number; at: number; k: number } {
  let worst = { shortfallMs: -Infinity, at: 0, k: 0 };
  for (let i = 0; i < log.length; i++) {
    for (let k = 1; i + k < log.length && k <= 50; k++) {
      const shortfallMs = k * INTERVAL_MS - (log[i + k]!.receivedAt - log[i]!.receivedAt);
      if (shortfallMs > worst.shortfallMs) worst = { shortfallMs, at: log[i]!.receivedAt, k };
    }
  }
  return worst;
}

describe('pmmp politeness across a fleet of workers', () => {
  it('two worker processes crawling two windows at once share one rate, and a 429 seen by one slows both', async (t) => {
    const suffix = randomBytes(3).toString('hex');
    const windows = { a: { from: '2026-09-01', to: '2026-09-30' }, b: { from: '2026-10-01', to: '2026-10-31' } } as const;
    for (const label of ['a', 'b'] as const) {
      const taskQueue = `pmmp-fleet-${label}-${suffix}`;
      const child = await startPmmpWorkerProcess({
        db,
        archive,
        temporal,
        taskQueue,
        portalUrl: `${replica.url}/index.php`,
        dir,
        label,
        env: {
          FETCH_POLITENESS: 'on',
          FETCH_MAX_CONCURRENT_PER_HOST: '1',
          FETCH_RATE_PER_SECOND: String(RATE),
          FETCH_DELAY_MIN_MS: '0',
          FETCH_DELAY_MAX_MS: '0',
          FETCH_USER_AGENT: AGENTS[label],
          ...(process.env.FLEET_TEST_SCOPE ? { FETCH_POLITENESS_SCOPE: process.env.FLEET_TEST_SCOPE } : {}),
        },
      });
      children.push(child);
      // Each window on its own worker's queue: both processes crawl at once, whatever Temporal's dispatch.
      handles.push(
        await temporal.client.workflow.start('pmmpConsultationsWindow', { taskQueue, workflowId: `fleet-${label}-${suffix}`, args: [{ ...windows[label], pageSize: 20 }] }),
      );
    }

    // Both crawling: enough requests from each since the second one started.
    const deadline = Date.now() + 120_000;
    let log: RequestLogEntry[] = [];
    for (;;) {
      for (const c of children) if (c.exitCode !== null) assert.fail(`a worker exited (code ${c.exitCode}); see ${dir}/worker-*.log`);
      log = arrivals();
      const firstB = log.find((e) => e.agent === AGENTS.b)?.receivedAt ?? Infinity;
      const firstA = log.find((e) => e.agent === AGENTS.a)?.receivedAt ?? Infinity;
      const since = log.filter((e) => e.receivedAt >= Math.max(firstA, firstB));
      if (since.filter((e) => e.agent === AGENTS.a).length >= 25 && since.filter((e) => e.agent === AGENTS.b).length >= 25) break;
      assert.ok(Date.now() < deadline, `both workers crawling within 2 min (${log.length} requests so far); see ${dir}/worker-*.log`);
      await sleep(100);
    }

    // The shared rate: no burst beyond the bound, and close to the rate (the budget is shared, not split in two).
    const together = log.filter((e) => e.receivedAt >= Math.max(log.find((x) => x.agent === AGENTS.a)!.receivedAt, log.find((x) => x.agent === AGENTS.b)!.receivedAt));
    const worst = worstSpacing(log);
    assert.ok(worst.shortfallMs <= BURST_TOLERANCE_MS, `${worst.k} requests after ${new Date(worst.at).toISOString()} came ${worst.shortfallMs.toFixed(0)} ms early (allowed ${BURST_TOLERANCE_MS})`);
    const reached = (together.length - 1) / ((together.at(-1)!.receivedAt - together[0]!.receivedAt) / 1000);
    t.diagnostic(`${together.length} requests with both crawling: ${reached.toFixed(2)} req/s (configured ${RATE}); worst: ${worst.k} requests ${worst.shortfallMs.toFixed(0)} ms early`);
    assert.ok(reached <= RATE * 1.05, `${reached.toFixed(2)} req/s together, configured ${RATE}`);
    assert.ok(reached >= RATE * 0.7, `${reached.toFixed(2)} req/s together: the two workers use the shared budget, not a slice each`);

    // A 429 answered to worker a only: from then until its Retry-After has passed, neither worker sends anything.
    replica.setKnobs({ rateLimitUserAgents: 'moisson-fleet-a' });
    let throttled: RequestLogEntry | undefined;
    while (!throttled) {
      throttled = replica.stats().log.find((e) => e.status === 429 && e.agent === AGENTS.a);
      assert.ok(Date.now() < deadline + 30_000, 'worker a got its 429');
      if (!throttled) await sleep(5);
    }
    replica.setKnobs({ rateLimitUserAgents: null });
    const t429 = throttled.receivedAt;
    await sleep(RETRY_AFTER_S * 1000 + 3_000);
    const afterwards = arrivals();
    const beforeB = afterwards.filter((e) => e.agent === AGENTS.b && e.receivedAt < t429 && e.receivedAt > t429 - 2_000);
    assert.ok(beforeB.length >= 2, `worker b was crawling when a got its 429 (${beforeB.length} requests in the 2 s before)`);
    const during = afterwards.filter((e) => e.receivedAt > t429 && e.receivedAt < t429 + RETRY_AFTER_S * 1000 - 50);
    assert.deepEqual(
      during.map((e) => `${e.agent.slice(0, 15)} +${e.receivedAt - t429} ms ${e.status}`),
      [],
      `nobody sends during the ${RETRY_AFTER_S} s worker a was asked to wait`,
    );
    const resumedB = afterwards.filter((e) => e.agent === AGENTS.b && e.receivedAt >= t429 + RETRY_AFTER_S * 1000 - 50);
    assert.ok(resumedB.length >= 1, 'worker b resumed once the Retry-After had passed');
    const resumedA = afterwards.filter((e) => e.agent === AGENTS.a && e.receivedAt >= t429 + RETRY_AFTER_S * 1000 - 50);
    assert.ok(resumedA.length >= 1, 'worker a resumed too');
    const worstAfter = worstSpacing(afterwards);
    assert.ok(worstAfter.shortfallMs <= BURST_TOLERANCE_MS, `after the 429 too: ${worstAfter.k} requests came ${worstAfter.shortfallMs.toFixed(0)} ms early`);

    const [budget] = await db.sql<{ cooldowns: number; leases: Record<string, number> }[]>`select cooldowns::int, leases from etl.host_budgets`;
    assert.ok((budget?.cooldowns ?? 0) >= 1, 'the cool-down was recorded in the shared budget');
  });
});
