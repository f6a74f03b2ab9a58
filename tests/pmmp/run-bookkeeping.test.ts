/**
 * The run's bookkeeping activities heartbeat while a statement runs (BOOKKEEPING's 30 s heartbeat
 * timeout): the end of a run refreshes the statistics views, one statement that takes minutes on a big
 * database, and a worker killed during it must be noticed by its silence, not after the 10-minute
 * start-to-close.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { finishPmmpRun, planPmmpRun, type PmmpRunAnalysis, type PmmpRunPlan } from '../../activities/pmmp/runs';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
});

after(async () => {
  await db?.drop();
});

describe('pmmp run bookkeeping', () => {
  it('finishPmmpRun heartbeats while the views refresh is held up, then ends the run', async () => {
    const env = new MockActivityEnvironment();
    const heartbeats: number[] = [];
    env.on('heartbeat', () => heartbeats.push(Date.now()));
    const plan: PmmpRunPlan = await env.run(() => planPmmpRun({ db: db.db }, { kind: 'daily', workflowId: 'bookkeeping-test', workflowRunId: 'r1', day: '2026-11-19' }));

    // A refresh of the same view in another session, not yet committed: the run's refresh waits for it, as
    // it would wait for a long refresh on a big database.
    const locker = await db.sql.reserve();
    let finished = false;
    let finishing: Promise<PmmpRunAnalysis> | undefined;
    try {
      await locker`begin`;
      await locker`refresh materialized view concurrently pmmp.stats_monthly`;
      const started = Date.now();
      finishing = (
        env.run(() => finishPmmpRun({ db: db.db }, { runId: plan.runId, streams: [{ stream: 'consultations', status: 'success' }], summary: {} })) as Promise<PmmpRunAnalysis>
      ).finally(() => (finished = true));
      await sleep(6_500);
      assert.equal(finished, false, 'the refresh waited for the lock');
      assert.ok(heartbeats.some((t) => t >= started + 4_000), `heartbeats while the statement waited: ${heartbeats.map((t) => t - started).join(', ')} ms`);
      await locker`commit`;
      const analysis = await finishing;
      assert.equal(analysis.status, 'success');
      assert.deepEqual(analysis.viewsRefreshed, ['stats_monthly', 'top_buyers', 'top_winners']);
    } finally {
      // On a failed check: let the run's refresh through before the database is dropped.
      if (!finished) await locker`rollback`.catch(() => undefined);
      await finishing?.catch(() => undefined);
      locker.release();
    }
    const [run] = await db.sql<{ status: string }[]>`select status from etl.runs where id = ${plan.runId}`;
    assert.equal(run?.status, 'success');
  });
});
