/**
 * Durability of the backfill: the real worker process (`workers/main.ts`) is killed with SIGKILL in
 * the middle of a backfill and started again; the run completes and the database equals the one an
 * uninterrupted run (an in-process worker on another database) produced from the same portal.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/durability.test.ts
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
import type { PmmpBackfillResult } from '../../workflows/pmmp/backfill';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { resultAfterRestart } from '../support/restarted-run';
import { workerLogFile } from '../support/worker-process';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';
import { pmmpActivities } from './worker';
import { countRows, pmmpSnapshot, startPmmpWorkerProcess } from './worker-process';

const BACKFILL = { from: '2026-04', to: '2026-05', concurrency: 2 };

let replica: PortalReplica;
let temporal: TestWorkflowEnvironment;
let reference: TestDatabase;
let interrupted: TestDatabase;
let archive: TestArchive;
let proofDir: string;
let fetcher: Fetcher;
let referenceCounts: PmmpBackfillResult['counts'] | undefined;
const children: ChildProcess[] = [];

function startWorkerProcess(taskQueue: string, label: string): Promise<ChildProcess> {
  return startPmmpWorkerProcess({ db: interrupted, archive, temporal, taskQueue, portalUrl: `${replica.url}/index.php`, dir: proofDir, label }).then((child) => {
    children.push(child);
    return child;
  });
}

before(async () => {
  [replica, temporal, reference, interrupted, archive, proofDir] = await Promise.all([
    // Small enough for two backfills of two months; slow enough (latency) that the kill lands mid-crawl.
    startPortalReplica({ seed: 11, today: '2026-11-20', consultations: 3_000, bdcResults: 1_000, knobs: { latencyMs: { min: 5, max: 25 } } }),
    startTemporal(),
    createTestDatabase(),
    createTestDatabase(),
    createTestArchive(),
    mkdtemp(join(tmpdir(), 'moisson-pmmp-durability-')),
  ]);
  fetcher = createFetcher({ politeness: false, robots: false });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fetcher?.close();
  await Promise.allSettled([temporal?.teardown(), replica?.close(), reference?.drop(), interrupted?.drop(), archive?.drop()]);
  if (proofDir) await rm(proofDir, { recursive: true, force: true });
});

describe('pmmp backfill durability', () => {
  it('an uninterrupted backfill, for reference', async () => {
    const taskQueue = `pmmp-reference-${randomBytes(3).toString('hex')}`;
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace ?? 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: pmmpActivities({
        db: reference.db,
        fetcher,
        proofs: createProofStore({ db: reference.db, dir: join(proofDir, 'reference') }),
        portalUrl: `${replica.url}/index.php`,
      }),
    });
    const r = (await worker.runUntil(
      temporal.client.workflow.execute('pmmpBackfill', { taskQueue, workflowId: `reference-${taskQueue}`, args: [BACKFILL] }),
    )) as PmmpBackfillResult;
    assert.equal(r.status, 'success', JSON.stringify(r));
    referenceCounts = r.counts;
    assert.ok(r.counts.listed > 100, `${r.counts.listed} consultations`);
    assert.ok((r.documents?.documents ?? 0) > 50, `${r.documents?.documents} documents`);
  });

  it('killing the worker process mid-backfill and starting it again: the run completes, the database equals the reference', async () => {
    const taskQueue = `pmmp-killed-${randomBytes(3).toString('hex')}`;
    const first = await startWorkerProcess(taskQueue, 'first');
    const handle = await temporal.client.workflow.start('pmmpBackfill', { taskQueue, workflowId: `killed-${taskQueue}`, args: [BACKFILL] });

    // Kill it once it is well into the backfill: some consultations stored, not everything. A window's
    // list page is committed at once (one transaction a page), so the kill may land between windows or
    // in the notice downloads that follow them.
    const total = await countRows(reference, 'pmmp.consultations');
    const downloaded = (db: TestDatabase) => db.sql<{ n: number }[]>`select count(*)::int as n from pmmp.notices where proof_id is not null`.then((r) => r[0]!.n);
    const totalDownloaded = await downloaded(reference);
    for (;;) {
      if (first.exitCode !== null) assert.fail(`the worker exited early (code ${first.exitCode}); see ${proofDir}/worker-first.log`);
      const n = await countRows(interrupted, 'pmmp.consultations');
      if (n >= Math.min(40, total / 4)) break;
      await sleep(200);
    }
    first.kill('SIGKILL');
    await new Promise((ok) => first.once('exit', ok));
    const atKill = await countRows(interrupted, 'pmmp.consultations');
    const downloadedAtKill = await downloaded(interrupted);
    assert.ok(atKill < total || downloadedAtKill < totalDownloaded, `killed mid-backfill (${atKill} of ${total} consultations, ${downloadedAtKill} of ${totalDownloaded} documents)`);

    const second = await startWorkerProcess(taskQueue, 'second');
    const r = await resultAfterRestart<PmmpBackfillResult>(handle, second, workerLogFile(proofDir, 'second'));
    assert.equal(r.status, 'success', JSON.stringify(r));

    // The counters users read are what the database recorded, not what the surviving attempts saw.
    assert.ok(referenceCounts, 'the reference ran first');
    assert.deepEqual(
      [r.counts.listed, r.counts.inserted, r.counts.updated, r.counts.unchanged],
      [referenceCounts.listed, referenceCounts.inserted, referenceCounts.updated, referenceCounts.unchanged],
      `counts after the kill equal the clean run's: ${JSON.stringify(r.counts)} vs ${JSON.stringify(referenceCounts)}`,
    );

    const [want, got] = await Promise.all([pmmpSnapshot(reference), pmmpSnapshot(interrupted)]);
    for (const table of Object.keys(want)) {
      assert.deepEqual(got[table], want[table], `${table}: the interrupted run stored exactly what the uninterrupted one did`);
    }
  });
});
