/**
 * A PostgreSQL cluster of a drill's own: initdb'd in a temporary folder with the stack's server binaries,
 * on a free port, its postmaster a child of this process. A drill stops and restarts it by that pid and
 * never touches the shared stack's server. Everything goes when the process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { pgBin } from '../../scripts/stack/install';
import { isRoot } from '../../scripts/stack/process';
import { freePort } from './services';

export interface PrivatePostgres {
  port: number;
  /** A database on this cluster (created by the caller, e.g. with migrateDatabase). */
  databaseUrl(name: string): string;
  /** The running postmaster's pid (undefined while stopped). */
  pid(): number | undefined;
  /** Fast shutdown (SIGINT to the postmaster, what `pg_ctl stop -m fast` sends): sessions are cut, open transactions roll back. */
  stop(): Promise<void>;
  /** Starts the postmaster again on the same folder and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
  log(): string;
}

/** PostgreSQL refuses to run as root: as root the cluster belongs to the Debian `postgres` user. */
function pgUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBin();
  const user = pgUser();
  const root = mkdtempSync(join(tmpdir(), 'moisson-drill-pg-'));
  if (user) chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const logFile = join(root, 'server.log');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'moisson', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'], {
    encoding: 'utf8',
    ...(user ?? {}),
  });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  }
  const port = await freePort();
  let child: ChildProcess | undefined;

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const kill = () => {
    if (running()) child!.kill('SIGKILL');
  };
  process.once('exit', kill);

  async function start(): Promise<void> {
    if (running()) return;
    const out = openSync(logFile, 'a');
    // fsync off: a drill's cluster is thrown away, and a fast shutdown checkpoints anyway.
    child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=100'], {
      stdio: ['ignore', out, out],
      ...(user ?? {}),
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!running()) throw new Error(`the drill's PostgreSQL exited at start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      const probe = postgres({ host: '127.0.0.1', port, user: 'moisson', database: 'postgres', max: 1, connect_timeout: 2, onnotice: () => {} });
      try {
        await probe`select 1`;
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        await probe.end({ timeout: 1 });
      }
    }
  }

  async function stop(): Promise<void> {
    if (!running()) return;
    const exited = once(child!, 'exit');
    child!.kill('SIGINT');
    const timer = setTimeout(kill, 30_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    port,
    databaseUrl: (name) => `postgres://moisson@127.0.0.1:${port}/${name}`,
    pid: () => (running() ? child!.pid : undefined),
    stop,
    start,
    async destroy() {
      await stop();
      process.removeListener('exit', kill);
      rmSync(root, { recursive: true, force: true });
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
}
