/** The local stack's commands, on the stack the test run itself uses. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
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
