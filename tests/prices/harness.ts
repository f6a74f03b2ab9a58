/** One prices test world: its own database and archive, a real Temporal server, the replica. */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import { createMoissonWorker } from '../../workers/create';
import { startPricesReplica, type PricesReplica } from '../replicas/prices';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

export interface PricesWorld {
  db: TestDatabase;
  archive: TestArchive;
  temporal: TestWorkflowEnvironment;
  replica: PricesReplica;
  taskQueue: string;
  /** The date the replica and the activities take for "today". */
  today: string;
  /** The environment of a worker pointed at the replica. */
  env(overrides?: Record<string, string | undefined>): Record<string, string | undefined>;
  /** Runs `fn` while a worker (with this environment) polls the world's task queue. */
  withWorker<T>(fn: () => Promise<T>, envOverrides?: Record<string, string | undefined>, plugins?: WorkerOptions['plugins']): Promise<T>;
  close(): Promise<void>;
}

export async function createPricesWorld(): Promise<PricesWorld> {
  const [db, archive, temporal] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal()]);
  const world: PricesWorld = {
    db,
    archive,
    temporal,
    replica: undefined as unknown as PricesReplica,
    taskQueue: `prices-test-${randomBytes(3).toString('hex')}`,
    today: '2026-03-10',
    env(overrides = {}) {
      return {
        PRICES_ERAPI_URL: world.replica.baseUrls.erapi,
        PRICES_FAWAZ_URL: world.replica.baseUrls.fawaz,
        PRICES_COINGECKO_URL: world.replica.baseUrls.coingecko,
        PRICES_METALPRICEAPI_URL: world.replica.baseUrls.metalpriceapi,
        METALPRICEAPI_KEY: 'replica-metals-key',
        PRICES_HTTP_TIMEOUT_MS: '2000',
        ...overrides,
      };
    },
    async withWorker(fn, envOverrides = {}, plugins) {
      const worker = await createMoissonWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace ?? 'default',
        taskQueue: world.taskQueue,
        deps: { sql: db.sql, db: db.db, mongo: archive.db, env: world.env(envOverrides), today: () => world.today },
        // A plugin may add workflow interceptors, which only a bundle it builds itself contains.
        workflowBundle: plugins?.length ? undefined : await workflowBundle(),
        plugins,
      });
      return worker.runUntil(fn);
    },
    async close() {
      await Promise.allSettled([world.replica?.close(), temporal.teardown(), db.drop(), archive.drop()]);
    },
  };
  world.replica = await startPricesReplica({ today: () => world.today });
  return world;
}
