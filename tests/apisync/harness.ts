/** One apisync test world: its own database, a real Temporal dev server, the Pennylane replica. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createMoissonWorker } from '../../workers/create';
import type { Resource } from '../replicas/pennylane/index';
import { DEFAULT_TOKEN, startPennylaneReplica, type PennylaneReplica, type PennylaneReplicaOptions } from '../replicas/pennylane/index';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

export interface ApisyncWorld {
  db: TestDatabase;
  archive: TestArchive;
  temporal: TestWorkflowEnvironment;
  replica: PennylaneReplica;
  taskQueue: string;
  /** Moves the replica's clock (to age the change feed). */
  replicaClockOffsetMs: number;
  env(overrides?: Record<string, string | undefined>): Record<string, string | undefined>;
  /** Runs `fn` while an in-process worker (workflows and activities) polls the world's task queue. */
  withWorker<T>(fn: () => Promise<T>, envOverrides?: Record<string, string | undefined>): Promise<T>;
  /** Runs `fn` while an in-process worker polls workflow tasks only (activities go to worker processes). */
  withWorkflowWorker<T>(fn: () => Promise<T>): Promise<T>;
  /** A worker process running the apisync activities only (tests/apisync/worker-process.ts). */
  spawnActivityWorker(name: string, envOverrides?: Record<string, string>): Promise<ActivityWorkerProcess>;
  close(): Promise<void>;
}

export interface ActivityWorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Streams this process started, in order (from its log lines). */
  streamsStarted: () => string[];
  stop(): Promise<void>;
}

const workerEntry = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** Where a world's database and Temporal come from: the stack's PostgreSQL and a dev server by default, a drill's own instances otherwise. */
export interface ApisyncServices {
  database?: () => Promise<TestDatabase>;
  temporal?: () => Promise<TestWorkflowEnvironment>;
}

export async function createApisyncWorld(
  sizes: Partial<Record<Resource, number>>,
  replicaOptions: Omit<PennylaneReplicaOptions, 'sizes' | 'now'> = {},
  services: ApisyncServices = {},
): Promise<ApisyncWorld> {
  const [db, archive, temporal] = await Promise.all([(services.database ?? createTestDatabase)(), createTestArchive(), (services.temporal ?? startTemporal)()]);
  // postgres.js learns type ids with its first query; do it before anything builds parameters.
  await db.sql`select 1`;
  const children = new Set<ActivityWorkerProcess>();
  const world: ApisyncWorld = {
    db,
    archive,
    temporal,
    replica: undefined as unknown as PennylaneReplica,
    taskQueue: `apisync-test-${randomBytes(3).toString('hex')}`,
    replicaClockOffsetMs: 0,
    env(overrides = {}) {
      return {
        PENNYLANE_API_URL: world.replica.baseUrl,
        PENNYLANE_API_TOKEN: DEFAULT_TOKEN,
        APISYNC_HTTP_TIMEOUT_MS: '5000',
        ...overrides,
      };
    },
    async withWorker(fn, envOverrides = {}) {
      const worker = await createMoissonWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace ?? 'default',
        taskQueue: world.taskQueue,
        deps: { sql: db.sql, db: db.db, mongo: archive.db, env: world.env(envOverrides) },
        workflowBundle: await workflowBundle(),
      });
      return worker.runUntil(fn);
    },
    async withWorkflowWorker(fn) {
      const worker = await Worker.create({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace ?? 'default',
        taskQueue: world.taskQueue,
        workflowBundle: await workflowBundle(),
      });
      return worker.runUntil(fn);
    },
    async spawnActivityWorker(name, envOverrides = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
        env: {
          ...process.env,
          ...(world.env() as Record<string, string>),
          ...envOverrides,
          DATABASE_URL: db.url,
          TEMPORAL_ADDRESS: temporal.address,
          MOISSON_TASK_QUEUE: world.taskQueue,
          APISYNC_TEST_WORKER_NAME: name,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const proc: ActivityWorkerProcess = {
        child,
        output: () => out,
        streamsStarted: () => [...out.matchAll(/^start (\S+)$/gm)].map((m) => m[1]!),
        async stop() {
          children.delete(proc);
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        },
      };
      children.add(proc);
      const deadline = Date.now() + 60_000;
      while (!out.includes('polling')) {
        if (child.exitCode !== null) throw new Error(`worker process ${name} exited (${child.exitCode}):\n${out}`);
        if (Date.now() > deadline) throw new Error(`worker process ${name} did not start polling within 60 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return proc;
    },
    async close() {
      await Promise.allSettled([...children].map((c) => c.stop()));
      await Promise.allSettled([world.replica?.close(), temporal.teardown(), db.drop(), archive.drop()]);
    },
  };
  world.replica = await startPennylaneReplica({ ...replicaOptions, sizes, now: () => Date.now() + world.replicaClockOffsetMs });
  return world;
}

/** The loaded table's rows as comparable tuples, ascending id. */
export async function loadedRows(world: Pick<ApisyncWorld, 'db'>, resource: Resource): Promise<{ id: string; updated_at: string; amount?: string; label?: string; name?: string }[]> {
  const amountCol = ['customer_invoices', 'supplier_invoices', 'transactions'].includes(resource) ? ', amount::text as amount' : resource === 'products' ? ', price::text as amount' : '';
  const textCol = ['customers', 'suppliers'].includes(resource) ? ', name as label' : ', label';
  return world.db.sql.unsafe(
    `select id::text as id, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_at${amountCol}${textCol} from apisync."pennylane_${resource}" order by id`,
  ) as never;
}

/** What the replica serves, in the same form: amounts as sent, text trimmed (the loader's promise). */
export function servedRows(world: Pick<ApisyncWorld, 'replica'>, resource: Resource) {
  return world.replica.snapshot(resource).map((r) => {
    const amount = (['customer_invoices', 'supplier_invoices', 'transactions'].includes(resource) ? r.amount : resource === 'products' ? r.price : undefined) as string | undefined;
    const label = String(['customers', 'suppliers'].includes(resource) ? r.name : r.label).trim();
    return { id: String(r.id), updated_at: String(r.updated_at), ...(amount === undefined ? {} : { amount }), label };
  });
}
