/** Small process helpers for the local stack: pid files, ports, commands. Nothing here knows a service. */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname } from 'node:path';

export class StackError extends Error {
  override readonly name = 'StackError';
}

/** Runs a command to completion; throws a StackError naming the command and its output tail on failure. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): string {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    throw new StackError(code === 'ENOENT' ? `command not found: ${cmd}` : `${cmd} failed to start: ${res.error.message}`);
  }
  if (res.status !== 0) {
    const tail = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new StackError(`\`${[cmd, ...args].join(' ')}\` exited with ${res.status}:\n${tail}`);
  }
  if (!opts.quiet && res.stdout.trim()) process.stdout.write(res.stdout);
  return res.stdout;
}

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${cmd}"`], { stdio: 'ignore' }).status === 0;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * A pid file is trusted only if that pid is alive AND still runs the program we started: pids are
 * reused, and stopping a stranger's process by a stale pid file would be a real bug.
 */
export function pidRunning(pid: number | undefined, expectedCommand: string): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes(expectedCommand);
  } catch {
    return true;
  }
}

export function writePid(pidFile: string, pid: number): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/** A program started detached: its pid, and how it ended once it has (while this process still runs). */
export interface DetachedProcess {
  pid: number;
  /** `exit code N` or `killed by SIGX` once it has ended, else undefined. */
  ended(): string | undefined;
}

/** Starts a long-running program detached from this process, output to a log file. */
export function startDetached(cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): DetachedProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', out, out] });
  if (child.pid === undefined) throw new StackError(`could not start ${cmd}`);
  let ending: string | undefined;
  // A program that dies during start-up may print nothing (a signal, a full disk): its status is the clue.
  child.once('exit', (code, signal) => {
    ending = signal ? `killed by ${signal}` : `exit code ${code}`;
  });
  child.unref();
  return { pid: child.pid, ended: () => ending };
}

/** The free space on the file system holding `path`, for messages about a program that printed nothing. */
function freeSpace(path: string): string {
  try {
    const fs = statfsSync(path);
    return `${Math.round((fs.bavail * fs.bsize) / 2 ** 20)} MB free on its file system`;
  } catch (e) {
    return `free space unknown (${(e as Error).message})`;
  }
}

export async function stopPid(pid: number, expectedCommand: string, timeoutMs = 15_000): Promise<void> {
  if (!pidRunning(pid, expectedCommand)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidRunning(pid, expectedCommand)) return;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when nothing listens and we may bind: a port in use by someone else must be reported, not fought. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A program that ended before it became ready: `status` says how, when known. */
export class ExitedDuringStartup extends StackError {
  constructor(what: string, status: string | undefined, logFile: string | undefined) {
    super(`${what} exited during start-up${status ? ` (${status})` : ''}${logFile ? `; see ${logFile}:\n${logTailOrSpace(logFile)}` : ''}`);
  }
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; logFile?: string; stillAlive?: () => boolean; ended?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (opts.stillAlive && !opts.stillAlive()) throw new ExitedDuringStartup(what, opts.ended?.(), opts.logFile);
    await sleep(250);
  }
  throw new StackError(`${what} did not become ready in ${opts.timeoutMs / 1000}s${opts.logFile ? `; see ${opts.logFile}:\n${logTail(opts.logFile)}` : ''}`);
}

/** The log's tail; for an empty log, the free disk space instead (a program that cannot write says nothing). */
function logTailOrSpace(logFile: string): string {
  const tail = logTail(logFile);
  return tail.trim() ? tail : `(empty log; ${freeSpace(dirname(logFile))})`;
}

export function logTail(logFile: string, lines = 12): string {
  if (!existsSync(logFile)) return '(no log)';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
