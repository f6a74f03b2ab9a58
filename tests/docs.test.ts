/**
 * The guides cannot go stale silently: every repository path a doc under docs/ names (in backquotes or as a
 * link) must exist. A `<name>` segment stands for any name, and at least one must match
 * (`workflows/<pipeline>/contract.ts` is satisfied by the prices pipeline's).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));
const docsDir = join(root, 'docs');

/** The first segment of every path the repository has at its top (paths in prose start there). */
const topLevel = new Set(readdirSync(root).filter((n) => !n.startsWith('.') && n !== 'node_modules'));

/** Backquoted spans and link targets that look like paths of this repository. */
function pathsNamed(markdown: string): string[] {
  const candidates = [...markdown.matchAll(/`([^`\s]+)`/g), ...markdown.matchAll(/\]\(([^)\s#]+)[^)]*\)/g)].map((m) => m[1]!);
  return [...new Set(candidates.filter((c) => !/^[a-z]+:/.test(c) && c.includes('/') && topLevel.has(c.split('/')[0]!)))];
}

/** Whether the path exists, `<x>` segments matching any name. */
function exists(path: string): boolean {
  const segments = path.replace(/\/$/, '').split('/');
  const walk = (dir: string, i: number): boolean => {
    if (i === segments.length) return true;
    const seg = segments[i]!;
    if (!seg.includes('<')) {
      const next = join(dir, seg);
      return existsSync(next) && (i === segments.length - 1 || statSync(next).isDirectory()) && walk(next, i + 1);
    }
    const pattern = new RegExp(`^${seg.split(/<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
    return readdirSync(dir).some((name) => pattern.test(name) && walk(join(dir, name), i + 1));
  };
  return walk(root, 0);
}

test('every path the docs name exists', () => {
  const docs = readdirSync(docsDir).filter((f) => f.endsWith('.md'));
  assert.ok(docs.includes('adding-a-pipeline.md'));
  for (const doc of docs) {
    const named = pathsNamed(readFileSync(join(docsDir, doc), 'utf8'));
    assert.ok(named.length >= 10, `${doc} names paths (found ${named.length})`);
    assert.deepEqual(named.filter((p) => !exists(p)), [], `${doc} names paths that do not exist`);
  }
});

test('the check finds what is missing', () => {
  const named = pathsNamed('See `workflows/nowhere/contract.ts`, `workflows/<pipeline>/contract.ts`, [x](control/runs.ts) and `https://example.org/a`.');
  assert.deepEqual(named, ['workflows/nowhere/contract.ts', 'workflows/<pipeline>/contract.ts', 'control/runs.ts']);
  assert.deepEqual(named.filter((p) => !exists(p)), ['workflows/nowhere/contract.ts']);
  assert.equal(exists('workflows/<pipeline>/nothing.ts'), false);
});
