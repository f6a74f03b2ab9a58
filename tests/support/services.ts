/**
 * What tests run against: the real PostgreSQL and FerretDB of the local stack (or whatever
 * DATABASE_URL / MONGO_URL name), and a real Temporal dev server started from the project's own
 * binary, with moisson's search attributes registered. Each test file gets its own database names, so files never see each other's rows.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type RuntimeOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { connectMongo, connectPostgres, type Archive, type Database } from '../../activities/engine/db';
import { registerSearchAttributes } from '../../control/search-attributes';
import { LOCAL_STACK } from '../../schema/config';
import { migrateDatabase } from '../../scripts/db/migrate';
import { paths, projectRoot } from '../../scripts/stack/paths';
import { workflowsPath } from '../../workers/create';
import { runMetricsInterceptorModule } from '../../workers/run-metrics';

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

/** A fresh, migrated database on the stack's PostgreSQL (or on the server `serverUrl` names: a drill's own). */
export async function createTestDatabase(serverUrl: string = serviceUrl('DATABASE_URL', LOCAL_STACK.databaseUrl)): Promise<TestDatabase> {
  const base = new URL(serverUrl);
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

/** For a test that checks what the runtime logs: its options replace the quiet default. Call before startTemporal. */
export function installTestRuntime(options: RuntimeOptions): void {
  Runtime.install(options);
  runtimeInstalled = true;
}

/** Where test files note the pids of the Temporal servers they start; `npm test` stops whatever is left. */
export const testServerPids = join(paths.run, 'test-servers');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Listens on `port` of loopback, or resolves null if it is taken. */
export function holdPort(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The first port of the kernel's ephemeral range (local ports of outgoing connections, and of listen(0)). */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A free port whose next one is free too, for a worker process: it serves its metrics on METRICS_PORT and
 * the Temporal SDK's runtime on METRICS_PORT + 1 (a worker that cannot bind either exits). Chosen below
 * the ephemeral range: Linux gives listen(0) a port of one parity there and outgoing connections the ports
 * of the other, so the port after a listen(0) port is just the kind the next connection to PostgreSQL or
 * Temporal takes before the worker binds it. Both are checked free, held together.
 */
export async function freePortPair(): Promise<number> {
  const high = Math.min(ephemeralLow(), 65_000) - 2;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (high - 20_000));
    const held = await Promise.all([holdPort(port), holdPort(port + 1)]);
    await Promise.all(held.map((server) => (server ? new Promise((ok) => server.close(ok)) : undefined)));
    if (held.every(Boolean)) return port;
  }
  throw new Error('freePortPair: no two consecutive free ports below the ephemeral range in 200 tries');
}

/**
 * Runs a process entry point (`workers/main.ts`, `api/server.ts`…) with `env` until it exits or prints
 * `ready` (then SIGKILLed): how it refuses to start, or that it starts.
 */
export function startEntry(entry: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (ready.test(output)) child.kill('SIGKILL');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('close', (code) => resolve({ code, output }));
  });
}

export interface TemporalServerProcess {
  pid: number | undefined;
  running(): boolean;
  /** SIGTERM, SIGKILL after 10 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL at once: what a crash of the server looks like. Resolves once it has exited. */
  kill(): Promise<void>;
  stderr(): string;
}

/**
 * A real Temporal dev server from the installed CLI (never a download), started here rather than by the
 * SDK so that its pid is ours: a test file killed on a timeout would otherwise leave its server running.
 * The pid is noted in `testServerPids`; stop(), kill(), a normal exit or SIGTERM stop it, and `npm test`
 * stops any left after a SIGKILL. `args` adds flags (a drill's `--db-filename`).
 */
export function spawnTemporalServer(port: number, args: string[] = []): TemporalServerProcess {
  const child = spawn(temporalCliPath(), ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const pidFile = join(testServerPids, `temporal-${child.pid}.pid`);
  mkdirSync(testServerPids, { recursive: true });
  writeFileSync(pidFile, `${child.pid}\n`);
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = () => {
    if (running()) child.kill('SIGKILL');
    rmSync(pidFile, { force: true });
  };
  process.once('exit', kill);
  const onTerm = () => {
    kill();
    process.exit(143);
  };
  process.once('SIGTERM', onTerm);
  const forget = () => {
    process.removeListener('exit', kill);
    process.removeListener('SIGTERM', onTerm);
  };
  return {
    pid: child.pid,
    running,
    stderr: () => stderr,
    async stop() {
      forget();
      if (running()) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      kill();
    },
    async kill() {
      forget();
      const exited = running() ? once(child, 'exit') : Promise.resolve();
      kill();
      await exited;
    },
  };
}

/** Connects to a dev server being started; resolves once it answers and its default namespace exists. */
export async function connectTemporal(address: string, server: TemporalServerProcess): Promise<TestWorkflowEnvironment> {
  for (let i = 0; ; i++) {
    if (!server.running()) throw new Error(`the Temporal dev server exited at start: ${server.stderr()}`);
    let env: TestWorkflowEnvironment | undefined;
    try {
      env = await TestWorkflowEnvironment.createFromExistingServer({ address });
      await env.client.workflowService.describeNamespace({ namespace: env.namespace ?? 'default' });
      // As `stack:up` does: every start sets moisson's search attributes, which the server must know.
      await registerSearchAttributes(env.connection, env.namespace ?? 'default');
      return env;
    } catch (err) {
      await env?.teardown().catch(() => undefined);
      if (i >= 300) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  // Expected activity failures (faults the tests inject) would otherwise flood the output.
  Runtime.install({ logger: new DefaultLogger(process.env.TEMPORAL_TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'ERROR') });
  runtimeInstalled = true;
}

/** A dev server of this test file's own, in memory; its teardown stops the server too. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const port = await freePort();
  const server = spawnTemporalServer(port);
  try {
    const env = await connectTemporal(`127.0.0.1:${port}`, server);
    const teardown = env.teardown.bind(env);
    env.teardown = async () => {
      await teardown();
      await server.stop();
    };
    return env;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [runMetricsInterceptorModule], logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never });
  return bundle;
}
