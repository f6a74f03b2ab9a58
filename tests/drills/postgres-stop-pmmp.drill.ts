/**
 * Drill `postgres-stop-pmmp-daily`: a pmmp daily (a month-long window on the portal replica) stores into a
 * PostgreSQL cluster of the drill's own; mid-crawl the cluster is stopped (fast shutdown: sessions cut,
 * open transactions rolled back) for 25 s, then started again. The activities fail while the database is
 * away and Temporal retries them: the run completes, reports the consultation counts an uninterrupted run
 * reports, and every pmmp table holds exactly the rows of the uninterrupted run (on the shared stack's
 * database, from the same replica). The shared stack's PostgreSQL is never stopped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createFetcher, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore } from '../../activities/engine/proofs';
import type { PmmpDailyResult } from '../../workflows/pmmp/daily';
import { pmmpActivities } from '../pmmp/worker';
import { countRows, pmmpSnapshot } from '../pmmp/worker-process';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { createTestDatabase, startTemporal, workflowBundle, type TestDatabase } from '../support/services';

/** A daily whose window reaches a month back: long enough for the stop to land mid-crawl. */
const DAILY = { day: '2026-11-19', overlapDays: 31, bdcDays: 7 };
const DOWN_MS = 25_000;

let pg: PrivatePostgres;
let replica: PortalReplica;
let temporal: TestWorkflowEnvironment;
let reference: TestDatabase;
let interrupted: TestDatabase;
let dir: string;
let fetcher: Fetcher;
let clean: PmmpDailyResult | undefined;

async function runDaily(db: TestDatabase, label: string, during?: (done: Promise<unknown>) => Promise<void>): Promise<{ result: PmmpDailyResult; workflowId: string }> {
  const taskQueue = `drill-pg-pmmp-${label}-${randomBytes(3).toString('hex')}`;
  const workflowId = `${label}-${taskQueue}`;
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: pmmpActivities({ db: db.db, fetcher, proofs: createProofStore({ db: db.db, dir: join(dir, label) }), portalUrl: `${replica.url}/index.php` }),
  });
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start('pmmpDaily', { taskQueue, workflowId, args: [DAILY] });
    const result = handle.result() as Promise<PmmpDailyResult>;
    if (during) await during(result);
    return { result: await result, workflowId };
  });
}

/** The highest attempt any activity of the run, or of its child workflows, finished on. */
async function maxAttempt(workflowId: string, runId?: string): Promise<number> {
  const history = await temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
  let max = 0;
  for (const e of history.events ?? []) {
    max = Math.max(max, e.activityTaskStartedEventAttributes?.attempt ?? 0);
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (child?.workflowId) max = Math.max(max, await maxAttempt(child.workflowId, child.runId ?? undefined));
  }
  return max;
}

before(async () => {
  pg = await startPrivatePostgres();
  [replica, temporal, reference, interrupted, dir] = await Promise.all([
    startPortalReplica({ seed: 11, today: '2026-11-20', consultations: 3_000, bdcResults: 1_000, knobs: { latencyMs: { min: 5, max: 25 } } }),
    startTemporal(),
    createTestDatabase(),
    createTestDatabase(pg.databaseUrl('postgres')),
    mkdtemp(join(tmpdir(), 'moisson-drill-pg-pmmp-')),
  ]);
  fetcher = createFetcher({ politeness: false, robots: false });
});

after(async () => {
  await fetcher?.close();
  await Promise.allSettled([temporal?.teardown(), replica?.close(), reference?.drop(), interrupted?.drop()]);
  await pg?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PostgreSQL stopped mid pmmp daily', () => {
  it('an uninterrupted daily run, for reference', async () => {
    clean = (await runDaily(reference, 'reference')).result;
    assert.equal(clean.status, 'success', JSON.stringify(clean));
    assert.ok((clean.consultations?.inserted ?? 0) > 60, `a month of consultations: ${JSON.stringify(clean.consultations)}`);
  });

  it(`PostgreSQL stopped ${DOWN_MS / 1000} s mid-crawl and started again: the counts and tables of the uninterrupted run`, async () => {
    assert.ok(clean?.consultations, 'the reference ran first');
    const total = clean.consultations.inserted;
    let atStop = 0;
    let pid: number | undefined;
    const { result: r, workflowId } = await runDaily(interrupted, 'stopped', async (done) => {
      let finished = false;
      void done.finally(() => (finished = true)).catch(() => undefined);
      for (;;) {
        assert.ok(!finished, 'the run finished before PostgreSQL could be stopped');
        atStop = await countRows(interrupted, 'pmmp.consultations');
        if (atStop >= Math.min(20, total / 3)) break;
        await sleep(50);
      }
      pid = pg.pid();
      await pg.stop();
      assert.equal(pg.pid(), undefined, 'the cluster is down');
      await sleep(DOWN_MS);
      await pg.start();
    });
    assert.ok(atStop < total, `stopped mid-crawl (${atStop} of ${total} consultations stored)`);
    assert.notEqual(pg.pid(), pid, 'a new postmaster');
    assert.match(pg.log(), /received fast shutdown request/);

    assert.equal(r.status, 'success', JSON.stringify(r));
    assert.deepEqual(r.consultations, clean.consultations, 'the run reports what the database recorded, as the uninterrupted run does');
    assert.ok((await maxAttempt(workflowId)) > 1, 'an activity finished on a retry');

    const [want, got] = await Promise.all([pmmpSnapshot(reference), pmmpSnapshot(interrupted)]);
    for (const table of Object.keys(want)) assert.deepEqual(got[table], want[table], `${table}: the interrupted run stored exactly what the uninterrupted one did`);
  });
});
