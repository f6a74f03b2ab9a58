/** Every pmmp activity, as the production worker composes them, over a test's database and replica. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { createFetcher, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore, type ProofStore } from '../../activities/engine/proofs';
import type { PmmpDeps } from '../../activities/pmmp/consultations';
import { bindPmmpActivities } from '../../activities/pmmp/index';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { createTestDatabase, startTemporal, workflowBundle, type TestDatabase } from '../support/services';

export function pmmpActivities(deps: { db: PostgresJsDatabase; fetcher: Fetcher; proofs: ProofStore; portalUrl: string } & Partial<PmmpDeps>) {
  return bindPmmpActivities(deps);
}

/** A portal replica, a migrated database, a Temporal dev server and a worker running every workflow with the pmmp activities. */
export interface PmmpWorld {
  replica: PortalReplica;
  db: TestDatabase;
  temporal: TestWorkflowEnvironment;
  taskQueue: string;
  close(): Promise<void>;
}

export async function startPmmpWorld(label: string): Promise<PmmpWorld> {
  const [replica, db, proofDir, temporal] = await Promise.all([
    startPortalReplica({ seed: 7, today: '2026-11-20', consultations: 10_000, bdcResults: 4_000 }),
    createTestDatabase(),
    mkdtemp(join(tmpdir(), `moisson-pmmp-${label}-`)),
    startTemporal(),
  ]);
  const proofs = createProofStore({ db: db.db, dir: proofDir });
  const fetcher = createFetcher({ politeness: false, robots: false });
  const taskQueue = `pmmp-${label}-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: pmmpActivities({ db: db.db, fetcher, proofs, portalUrl: `${replica.url}/index.php`, requestTimeoutMs: 10_000, maxInlineWaitMs: 5_000 }),
  });
  const running = worker.run();
  return {
    replica,
    db,
    temporal,
    taskQueue,
    async close() {
      worker.shutdown();
      await running.catch(() => undefined);
      await fetcher.close();
      await Promise.allSettled([temporal.teardown(), replica.close(), db.drop(), rm(proofDir, { recursive: true, force: true })]);
    },
  };
}

/** Keys of the consultations stored with a publication day in the window. */
export async function storedConsultations(db: TestDatabase, from: string, to: string): Promise<string[]> {
  const rows = await db.sql<{ k: string }[]>`
    select org_acronyme || '/' || ref_consultation as k from pmmp.consultations where published_on between ${from} and ${to} order by 1`;
  return rows.map((r) => r.k);
}
