/**
 * Drill `ferretdb-kill-archive`: a daily prices run archives a year-long window (13,512 documents) to a
 * FerretDB of the drill's own; mid-archive FerretDB is SIGKILLed, left down a few seconds, and started
 * again on the same SQLite folder and port. The archive activity fails while it is away and Temporal
 * retries it from its heartbeated cursor: the run completes with the counts an uninterrupted run reports,
 * its consistency check passes, every (asset, date) is archived once, and the documents equal those of the
 * uninterrupted run. The shared stack's FerretDB is never touched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectMongo, type Archive } from '../../activities/engine/db';
import { pricesDaily, type PricesDailyResult } from '../../workflows/prices';
import { ARCHIVED, DAILY, TODAY, longWindowWorker, seedHistory, stored } from '../prices/long-window';
import { startPricesReplica, type PricesReplica } from '../replicas/prices';
import { startPrivateFerretDb, type PrivateFerretDb } from '../support/private-ferretdb';
import { createTestDatabase, startTemporal, uniqueName, type TestDatabase } from '../support/services';

const DOWN_MS = 5_000;
let replica: PricesReplica;
let temporal: TestWorkflowEnvironment;
let ferret: PrivateFerretDb;
const sides: { clean?: { db: TestDatabase; archive: Archive }; killed?: { db: TestDatabase; archive: Archive } } = {};
let clean: PricesDailyResult | undefined;

const archiveCounts = (x: PricesDailyResult) => (x.archive && 'counts' in x.archive ? x.archive.counts : undefined);

async function runDaily(side: { db: TestDatabase; archive: Archive }, label: string, during?: (done: Promise<unknown>) => Promise<void>) {
  const taskQueue = `drill-ferretdb-${label}-${randomBytes(3).toString('hex')}`;
  const worker = await longWindowWorker(temporal, side, replica, taskQueue);
  const workflowId = `${label}-${taskQueue}`;
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start(pricesDaily, { taskQueue, workflowId, args: [DAILY] });
    const result = handle.result();
    if (during) await during(result);
    return { result: await result, workflowId };
  });
}

/** The archive child's activities as its history records them: the highest attempt one finished on, and why earlier attempts failed. */
async function archiveAttempts(workflowId: string): Promise<{ attempt: number; failures: string[] }> {
  const history = await temporal.client.workflow.getHandle(`${workflowId}-archive`).fetchHistory();
  let attempt = 0;
  const failures: string[] = [];
  for (const e of history.events ?? []) {
    attempt = Math.max(attempt, e.activityTaskStartedEventAttributes?.attempt ?? 0);
    const failure = e.activityTaskStartedEventAttributes?.lastFailure;
    if (failure?.message) failures.push(failure.message);
  }
  return { attempt, failures };
}

before(async () => {
  ferret = await startPrivateFerretDb();
  const [db1, db2, a1, a2] = await Promise.all([
    createTestDatabase(),
    createTestDatabase(),
    connectMongo(ferret.url(uniqueName('drill_clean'))),
    connectMongo(ferret.url(uniqueName('drill_killed'))),
  ]);
  sides.clean = { db: db1, archive: a1 };
  sides.killed = { db: db2, archive: a2 };
  [replica, temporal] = await Promise.all([startPricesReplica({ today: TODAY }), startTemporal()]);
  await Promise.all([seedHistory(db1), seedHistory(db2)]);
});

after(async () => {
  await Promise.allSettled([temporal?.teardown(), replica?.close()]);
  for (const s of [sides.clean, sides.killed]) if (s) await Promise.allSettled([s.db.drop(), s.archive.close()]);
  await ferret?.destroy();
});

describe('FerretDB killed mid prices archive', () => {
  it('an uninterrupted daily run with a long archive window, for reference', async () => {
    clean = (await runDaily(sides.clean!, 'clean')).result;
    assert.equal(clean.outcome, 'success', JSON.stringify(clean, null, 2));
    assert.deepEqual(archiveCounts(clean), { pgRows: ARCHIVED, inserted: ARCHIVED, updated: 0, unchanged: 0, deleted: 0 });
  });

  it(`FerretDB SIGKILLed mid-archive, down ${DOWN_MS / 1000} s, started again: the run completes, check passes, every document once`, async () => {
    assert.ok(clean, 'the reference ran first');
    const side = sides.killed!;
    const probe = side.archive.db.collection('prices');
    let atKill = 0;
    let pid: number | undefined;
    const { result: r, workflowId } = await runDaily(side, 'killed', async (done) => {
      let finished = false;
      void done.finally(() => (finished = true)).catch(() => undefined);
      for (;;) {
        assert.ok(!finished, 'the archive finished before FerretDB could be killed');
        atKill = await probe.countDocuments({});
        if (atKill > 0) break;
        await sleep(20);
      }
      pid = ferret.pid();
      await ferret.kill();
      await sleep(DOWN_MS);
      await ferret.start();
    });
    assert.ok(atKill > 0 && atKill < ARCHIVED, `killed mid-archive (${atKill} of ${ARCHIVED} documents)`);
    assert.notEqual(ferret.pid(), pid, 'a new FerretDB process');

    assert.equal(r.outcome, 'success', JSON.stringify(r, null, 2));
    assert.deepEqual(r.counts, clean.counts);
    assert.deepEqual(archiveCounts(r), archiveCounts(clean), 'the archive counts what it recorded for the run, as the uninterrupted run does');
    const { attempt, failures } = await archiveAttempts(workflowId);
    assert.ok(attempt > 1, `an archive activity finished on a retry (attempt ${attempt}; earlier failure: ${failures.join(' | ')})`);
    console.log(`archive activities: highest attempt ${attempt}, earlier failure: ${failures.join(' | ')}`);
    assert.ok(r.archive && 'verify' in r.archive && r.archive.verify?.ok, `the consistency check passes: ${JSON.stringify(r.archive)}`);

    const dupes = await side.archive.db
      .collection('prices')
      .aggregate([{ $group: { _id: { a: '$asset_code', d: '$date' }, n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }])
      .toArray();
    assert.deepEqual(dupes, [], 'no (asset, date) archived twice');
    const [want, got] = await Promise.all([stored(sides.clean!), stored(side)]);
    assert.deepEqual(got.quotes, want.quotes, 'prices.quotes equal the uninterrupted run');
    assert.equal(got.docs.length, ARCHIVED);
    assert.deepEqual(got.docs, want.docs, 'the archive equals the uninterrupted run');
  });
});
