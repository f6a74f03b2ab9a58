/**
 * A FerretDB of a drill's own: the stack's binary (`.tools/bin/ferretdb`) on its SQLite handler, in a
 * temporary folder, on free ports, its process a child of this one. A drill SIGKILLs it and starts it again
 * on the same folder and port by that pid; the shared stack's FerretDB is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { paths } from '../../scripts/stack/paths';
import { freePort } from './services';

export interface PrivateFerretDb {
  port: number;
  /** A database on this server (FerretDB creates it on first write). */
  url(database: string): string;
  /** The running process's pid (undefined while it is down). */
  pid(): number | undefined;
  /** SIGKILL, no warning; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same folder and port; resolves once it answers a ping. */
  start(): Promise<void>;
  destroy(): Promise<void>;
  log(): string;
}

export async function startPrivateFerretDb(): Promise<PrivateFerretDb> {
  const binary = process.env.MOISSON_FERRETDB_BIN ?? paths.ferretdb;
  if (!existsSync(binary)) throw new Error(`FerretDB not found at ${binary}: run \`npm run stack:install\``);
  const root = mkdtempSync(join(tmpdir(), 'moisson-drill-ferretdb-'));
  const data = join(root, 'data');
  mkdirSync(data);
  const logFile = join(root, 'server.log');
  const [port, debugPort] = [await freePort(), await freePort()];
  let child: ChildProcess | undefined;

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const killNow = () => {
    if (running()) child!.kill('SIGKILL');
  };
  process.once('exit', killNow);

  async function start(): Promise<void> {
    if (running()) return;
    const out = openSync(logFile, 'a');
    child = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${data}/`,
        `--state-dir=${data}`,
        `--listen-addr=127.0.0.1:${port}`,
        `--debug-addr=127.0.0.1:${debugPort}`,
        '--telemetry=disable',
        '--log-level=warn',
      ],
      { stdio: ['ignore', out, out] },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!running()) throw new Error(`the drill's FerretDB exited at start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      const probe = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 1000 });
      try {
        await probe.db('admin').command({ ping: 1 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        await probe.close();
      }
    }
  }

  async function kill(): Promise<void> {
    if (!running()) return;
    const exited = once(child!, 'exit');
    child!.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: (database) => `mongodb://127.0.0.1:${port}/${database}`,
    pid: () => (running() ? child!.pid : undefined),
    kill,
    start,
    async destroy() {
      await kill();
      process.removeListener('exit', killNow);
      rmSync(root, { recursive: true, force: true });
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
}
