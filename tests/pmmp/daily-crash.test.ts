/**
 * A daily run whose worker process (`workers/main.ts`) is SIGKILLed mid-crawl and started again: the run
 * completes, reports the consultation counts an uninterrupted run reports (they are read from what the
 * database recorded for the run, not from what the surviving attempts saw), and the database equals the
 * one an uninterrupted run (an in-process worker on another database) produced from the same portal.
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
import { Worker } from '@temporalio/worker';
import { createFetcher, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore } from '../../activities/engine/proofs';
import { logTail } from '../../scripts/stack/process';
import type { PmmpDailyResult } from '../../workflows/pmmp/daily';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { resultAfterRestart } from '../support/restarted-run';
import { workerLogFile } from '../support/worker-process';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';
import { pmmpActivities } from './worker';
import { countRows, pmmpSnapshot, startPmmpWorkerProcess } from './worker-process';

/** A daily whose window reaches a month back: long enough for the kill to land mid-crawl. */
const DAILY = { day: '2026-11-19', overlapDays: 31, bdcDays: 7 };

let replica: PortalReplica;
let temporal: TestWorkflowEnvironment;
let reference: TestDatabase;
let interrupted: TestDatabase;
let archive: TestArchive;
let dir: string;
let fetcher: Fetcher;
let clean: PmmpDailyResult | undefined;
const children: ChildProcess[] = [];

async function startWorkerProcess(taskQueue: string, label: string): Promise<ChildProcess> {
  const child = await startPmmpWorkerProcess({ db: interrupted, archive, temporal, taskQueue, portalUrl: `${replica.url}/index.php`, dir, label });
  children.push(child);
  return child;
}

before(async () => {
  [replica, temporal, reference, interrupted, archive, dir] = await Promise.all([
    startPortalReplica({ seed: 11, today: '2026-11-20', consultations: 3_000, bdcResults: 1_000, knobs: { latencyMs: { min: 5, max: 25 } } }),
    startTemporal(),
    createTestDatabase(),
    createTestDatabase(),
    createTestArchive(),
    mkdtemp(join(tmpdir(), 'moisson-pmmp-daily-crash-')),
  ]);
  fetcher = createFetcher({ politeness: false, robots: false });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fetcher?.close();
  await Promise.allSettled([temporal?.teardown(), replica?.close(), reference?.drop(), interrupted?.drop(), archive?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const consultationCounts = (r: PmmpDailyResult) => {
  const c = r.streams.find((s) => s.stream === 'consultations')?.counts;
  return [c?.listed, c?.inserted, c?.updated, c?.unchanged];
};

describe('pmmp daily after a crash', () => {
  it('an uninterrupted daily run, for reference', async () => {
    const taskQueue = `pmmp-daily-reference-${randomBytes(3).toString('hex')}`;
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: pmmpActivities({ db: reference.db, fetcher, proofs: createProofStore({ db: reference.db, dir: join(dir, 'reference') }), portalUrl: `${replica.url}/index.php` }),
    });
    clean = (await worker.runUntil(
      temporal.client.workflow.execute('pmmpDaily', { taskQueue, workflowId: `reference-${taskQueue}`, args: [DAILY] }),
    )) as PmmpDailyResult;
    assert.equal(clean.status, 'success', JSON.stringify(clean));
    assert.ok((clean.consultations?.inserted ?? 0) > 60, `a month of consultations: ${JSON.stringify(clean.consultations)}`);
    assert.deepEqual(consultationCounts(clean), [clean.consultations!.listed, clean.consultations!.inserted, clean.consultations!.updated, clean.consultations!.unchanged]);
  });

  it('the worker process SIGKILLed mid-run and started again: the counts of the uninterrupted run, the same tables', async () => {
    assert.ok(clean?.consultations, 'the reference ran first');
    const total = clean.consultations.inserted;
    const taskQueue = `pmmp-daily-killed-${randomBytes(3).toString('hex')}`;
    const first = await startWorkerProcess(taskQueue, 'first');
    const handle = await temporal.client.workflow.start('pmmpDaily', { taskQueue, workflowId: `killed-${taskQueue}`, args: [DAILY] });
    // Bounded waits that say where they stopped: a wedged run must fail with its worker's log, not time the
    // whole file out (the log directory is gone by then).
    const waitUntil = Date.now() + 180_000;
    for (;;) {
      if (first.exitCode !== null) assert.fail(`the worker exited early (code ${first.exitCode}):\n${logTail(workerLogFile(dir, 'first'), 30)}`);
      if ((await countRows(interrupted, 'pmmp.consultations')) >= Math.min(20, total / 3)) break;
      if (Date.now() > waitUntil) assert.fail(`no consultation stored after 180 s:\n${logTail(workerLogFile(dir, 'first'), 30)}`);
      await sleep(50);
    }
    first.kill('SIGKILL');
    await new Promise((ok) => first.once('exit', ok));
    // A list page commits at once, so the kill may land after the last page, in the downloads that follow.
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'killed before the run ended');

    const second = await startWorkerProcess(taskQueue, 'second');
    const r = await resultAfterRestart<PmmpDailyResult>(handle, second, workerLogFile(dir, 'second'));
    assert.equal(r.status, 'success', JSON.stringify(r));
    assert.deepEqual(r.consultations, clean.consultations, 'the run reports what the database recorded, as the uninterrupted run does');
    assert.deepEqual(consultationCounts(r), consultationCounts(clean), 'the consultations stream reports the recorded counts');

    const [want, got] = await Promise.all([pmmpSnapshot(reference), pmmpSnapshot(interrupted)]);
    for (const table of Object.keys(want)) assert.deepEqual(got[table], want[table], `${table}: the interrupted run stored exactly what the uninterrupted one did`);
  });
});
