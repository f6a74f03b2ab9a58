/**
 * A daily prices run whose worker process (`workers/main.ts`) is SIGKILLed while its archive writes a
 * long window to MongoDB, then started again: the run completes and reports the counts an uninterrupted
 * run reports (the quotes' and the archive documents' own marks say which run wrote them, so the retried
 * attempt that finds its killed attempt's documents identical still counts them as the run's), and both
 * sides hold what the uninterrupted run stored.
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
import { pricesDaily, type PricesDailyResult } from '../../workflows/prices';
import { startPricesReplica, type PricesReplica } from '../replicas/prices';
import { resultAfterRestart } from '../support/restarted-run';
import { ARCHIVED, DAILY, TODAY, longWindowWorker, replicaEnv, seedHistory, stored } from './long-window';
import { createTestArchive, createTestDatabase, startTemporal, type TestArchive, type TestDatabase } from '../support/services';
import { startWorkerProcess, workerLogFile } from '../support/worker-process';

let replica: PricesReplica;
let temporal: TestWorkflowEnvironment;
const sides: { clean?: { db: TestDatabase; archive: TestArchive }; killed?: { db: TestDatabase; archive: TestArchive } } = {};
let dir: string;
let clean: PricesDailyResult | undefined;
const children: ChildProcess[] = [];

async function startPricesWorker(taskQueue: string, label: string): Promise<ChildProcess> {
  const side = sides.killed!;
  const child = await startWorkerProcess({ db: side.db, archive: side.archive, temporal, taskQueue, logDir: dir, label, env: replicaEnv(replica) });
  children.push(child);
  return child;
}

before(async () => {
  const [db1, db2, a1, a2] = await Promise.all([createTestDatabase(), createTestDatabase(), createTestArchive(), createTestArchive()]);
  sides.clean = { db: db1, archive: a1 };
  sides.killed = { db: db2, archive: a2 };
  [replica, temporal, dir] = await Promise.all([startPricesReplica({ today: TODAY }), startTemporal(), mkdtemp(join(tmpdir(), 'moisson-prices-crash-'))]);
  await Promise.all([seedHistory(db1), seedHistory(db2)]);
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled([
    temporal?.teardown(),
    replica?.close(),
    ...[sides.clean, sides.killed].flatMap((s) => (s ? [s.db.drop(), s.archive.drop()] : [])),
  ]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('prices daily after a crash', () => {
  it('an uninterrupted daily run with a long archive window, for reference', async () => {
    const side = sides.clean!;
    const taskQueue = `prices-clean-${randomBytes(3).toString('hex')}`;
    const worker = await longWindowWorker(temporal, side, replica, taskQueue);
    clean = await worker.runUntil(temporal.client.workflow.execute(pricesDaily, { taskQueue, workflowId: `clean-${taskQueue}`, args: [DAILY] }));
    assert.equal(clean.outcome, 'success', JSON.stringify(clean, null, 2));
    assert.deepEqual(clean.counts, { requested: 7, saved: 7, inserted: 7, updated: 0, unchanged: 0, rejected: 0 });
    const archived = clean.archive && 'counts' in clean.archive ? clean.archive.counts : undefined;
    assert.deepEqual(archived, { pgRows: ARCHIVED, inserted: ARCHIVED, updated: 0, unchanged: 0, deleted: 0 });
  });

  it('the worker process SIGKILLed mid-archive and started again: the counts of the uninterrupted run, the same rows and documents', async () => {
    assert.ok(clean, 'the reference ran first');
    const side = sides.killed!;
    const total = ARCHIVED;
    const taskQueue = `prices-killed-${randomBytes(3).toString('hex')}`;
    const first = await startPricesWorker(taskQueue, 'first');
    const handle = await temporal.client.workflow.start(pricesDaily, { taskQueue, workflowId: `killed-${taskQueue}`, args: [DAILY] });
    const docs = side.archive.db.collection('prices');
    for (;;) {
      if (first.exitCode !== null) assert.fail(`the worker exited early (code ${first.exitCode}); see ${dir}/worker-first.log`);
      if ((await docs.estimatedDocumentCount()) > 0) break;
      await sleep(20);
    }
    first.kill('SIGKILL');
    await new Promise((ok) => first.once('exit', ok));
    // Whether the kill cut a write short or came after it (before the attempt reported), the retry finds
    // documents it did not write itself.
    const atKill = await docs.countDocuments({});
    assert.ok(atKill > 0, `killed once the archive had begun (${atKill} of ${total} documents)`);
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'killed before the run ended');

    const second = await startPricesWorker(taskQueue, 'second');
    const r = await resultAfterRestart<PricesDailyResult>(handle, second, workerLogFile(dir, 'second'));
    assert.equal(r.outcome, 'success', JSON.stringify(r, null, 2));
    assert.deepEqual(r.counts, clean.counts);
    const counts = (x: PricesDailyResult) => (x.archive && 'counts' in x.archive ? x.archive.counts : undefined);
    assert.deepEqual(counts(r), counts(clean), 'the archive counts what it recorded for the run, as the uninterrupted run does');
    assert.ok(r.archive && 'verify' in r.archive && r.archive.verify?.ok, JSON.stringify(r.archive));

    const [want, got] = await Promise.all([stored(sides.clean!), stored(side)]);
    assert.deepEqual(got.quotes, want.quotes, 'prices.quotes equal the uninterrupted run');
    assert.equal(got.docs.length, want.docs.length);
    assert.deepEqual(got.docs, want.docs, 'the archive equals the uninterrupted run');
  });
});
