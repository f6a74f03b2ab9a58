/**
 * A Temporal dev server of a drill's own that keeps its state in a SQLite file, so it can be SIGKILLed and
 * started again on the same file and port: workflows, timers and activity tasks survive the crash as they
 * would on a real cluster. Never the shared stack's server; stopped only through the pid it started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectTemporal, freePort, installQuietRuntime, spawnTemporalServer, type TemporalServerProcess } from './services';

export interface PrivateTemporal {
  address: string;
  /** Client and native connection to the first server; they reconnect to the restarted one on the same port. */
  env: TestWorkflowEnvironment;
  pid(): number | undefined;
  /** SIGKILL, no warning; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same SQLite file and port; resolves once it answers. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateTemporal(): Promise<PrivateTemporal> {
  installQuietRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'moisson-drill-temporal-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = ['--db-filename', join(dir, 'temporal.db')];
  let server: TemporalServerProcess = spawnTemporalServer(port, args);
  let env: TestWorkflowEnvironment;
  try {
    env = await connectTemporal(address, server);
  } catch (err) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // Whoever uses the environment (a test world) may tear it down first: the second call must be a no-op.
  const teardown = env.teardown.bind(env);
  let tornDown: Promise<void> | undefined;
  env.teardown = () => (tornDown ??= teardown());
  return {
    address,
    env,
    pid: () => (server.running() ? server.pid : undefined),
    kill: () => server.kill(),
    async restart() {
      server = spawnTemporalServer(port, args);
      // A second connection proves the server answers; the first one's client keeps being used.
      const probe = await connectTemporal(address, server);
      await probe.teardown();
    },
    async destroy() {
      await env.teardown().catch(() => undefined);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
