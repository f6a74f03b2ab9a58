/** The local stack's commands, on the stack the test run itself uses. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { portOpen, sleep, startDetached, waitFor } from '../scripts/stack/process';
import { daemon } from '../scripts/stack/services';
import { pruneOldOutputs } from '../scripts/stack/workflow-bundle';

const stack = fileURLToPath(new URL('../scripts/stack/index.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', stack, ...args], { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

test('a second stack:up starts nothing and changes nothing', async () => {
  const res = await run(['up']);
  assert.equal(res.code, 0, res.out);
  assert.doesNotMatch(res.out, /starting|creating|installing|building/, 'everything was already up and installed');
  assert.match(res.out, /postgres\s+(running|external)/);
  assert.match(res.out, /temporal\s+(running|external)/);
  assert.match(res.out, /ferretdb\s+(running|external)/);
});

test('stack:status exits 0 while every service runs, and names its log', async () => {
  const res = await run(['status']);
  assert.equal(res.code, 0, res.out);
  assert.match(res.out, /temporal\s+running .* pid \d+\s+log \S+temporal\.log/);
});

test('an unknown command is refused with the usage', async () => {
  const res = await run(['upp']);
  assert.equal(res.code, 2);
  assert.match(res.out, /usage: .* install\|up\|down\|status/);
});

test('outputs of older sources are pruned to the newest few, the current one and other files kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moisson-prune-'));
  try {
    // Five builds of older sources, oldest first, the current one, and a file that is no build.
    const names = ['a1', 'b2', 'c3', 'd4', 'e5'];
    for (const [i, name] of names.entries()) {
      await mkdir(join(dir, name, 'sub'), { recursive: true });
      const at = new Date(Date.UTC(2026, 0, 1, 0, i));
      await utimes(join(dir, name), at, at);
    }
    await mkdir(join(dir, 'f6'));
    await writeFile(join(dir, 'notes.txt'), 'kept');
    pruneOldOutputs(dir, (f) => /^[0-9a-f]+$/.test(f), 'a1', 2);
    assert.deepEqual((await readdir(dir)).sort(), ['a1', 'e5', 'f6', 'notes.txt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a program that dies silently during start-up is reported with how it ended and the free disk space', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moisson-startup-'));
  try {
    const log = join(dir, 'dies.log');
    const started = startDetached('sh', ['-c', 'kill -KILL $$'], log);
    await assert.rejects(
      waitFor('dies', () => Promise.resolve(false), { timeoutMs: 10_000, logFile: log, stillAlive: () => started.ended() === undefined, ended: started.ended }),
      (e: Error) => {
        assert.match(e.message, /^dies exited during start-up \(killed by SIGKILL\); see \S+dies\.log:\n\(empty log; \d+ MB free on its file system\)$/);
        return true;
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a service that dies at its first start is started once more, and says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moisson-restart-'));
  // The first start kills itself before it listens; the second listens on a free port.
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const flag = join(dir, 'first-start-done');
  const program = `const fs=require('fs');if(!fs.existsSync(${JSON.stringify(flag)})){fs.writeFileSync(${JSON.stringify(flag)},'');process.kill(process.pid,'SIGKILL')}require('net').createServer().listen(${port},'127.0.0.1')`;
  const name = `stack-test-restart-${process.pid}`;
  const service = daemon({
    name,
    external: undefined,
    address: `127.0.0.1:${port}`,
    port,
    command: () => ({ cmd: process.execPath, args: ['-e', program, name], marker: name }),
    ready: () => portOpen(port),
    timeoutMs: 20_000,
  });
  const said: string[] = [];
  try {
    await service.start((line) => said.push(line));
    assert.equal(service.status().state, 'running');
    assert.match(said.join('\n'), new RegExp(`${name} exited during start-up \\(killed by SIGKILL\\)[^]*starting ${name} once more`));
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
  await sleep(100);
  assert.equal(await portOpen(port), false, 'stopped by its pid');
});
