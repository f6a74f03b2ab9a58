/**
 * What tests run against: the real PostgreSQL and FerretDB of the local stack (or whatever
 * DATABASE_URL / MONGO_URL name), and a real Temporal dev server started from the project's own
 * binary. Each test file gets its own database names, so files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { connectMongo, connectPostgres, type Archive, type Database } from '../../activities/engine/db';
import { LOCAL_STACK } from '../../schema/config';
import { migrateDatabase } from '../../scripts/db/migrate';
import { paths } from '../../scripts/stack/paths';
import { workflowsPath } from '../../workers/create';

function serviceUrl(variable: 'DATABASE_URL' | 'MONGO_URL', fallback: string): string {
  return process.env[variable] ?? fallback;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase extends Database {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the stack's PostgreSQL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = new URL(serviceUrl('DATABASE_URL', LOCAL_STACK.databaseUrl));
  const name = uniqueName('moisson_test');
  const url = new URL(base);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  const database = connectPostgres(url.toString());
  return {
    ...database,
    url: url.toString(),
    async drop() {
      await database.close();
      const admin = connectPostgres(base.toString(), { max: 1 });
      try {
        await admin.sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.close();
      }
    },
  };
}

export interface TestArchive extends Archive {
  url: string;
  drop(): Promise<void>;
}

export async function createTestArchive(): Promise<TestArchive> {
  const base = new URL(serviceUrl('MONGO_URL', LOCAL_STACK.mongoUrl));
  const name = uniqueName('moisson_test');
  base.pathname = `/${name}`;
  const archive = await connectMongo(base.toString());
  return {
    ...archive,
    url: base.toString(),
    async drop() {
      await archive.db.dropDatabase().catch(() => undefined);
      await archive.close();
    },
  };
}

export function temporalCliPath(): string {
  const path = process.env.MOISSON_TEMPORAL_CLI ?? paths.temporalCli;
  if (!existsSync(path)) throw new Error(`Temporal CLI not found at ${path}: run \`npm run stack:install\``);
  return path;
}

let runtimeInstalled = false;

/** A real Temporal dev server from the installed CLI: never a download. */
export function startTemporal(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // Expected activity failures (faults the tests inject) would otherwise flood the output.
    Runtime.install({ logger: new DefaultLogger(process.env.TEMPORAL_TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'ERROR') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, ip: '127.0.0.1', log: { format: 'pretty', level: 'error' } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never });
  return bundle;
}
