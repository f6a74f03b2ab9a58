/**
 * The guides cannot go stale silently: every repository path a doc under docs/ names (in backquotes or as a
 * link) must exist. A `<name>` segment stands for any name, and at least one must match
 * (`workflows/<pipeline>/contract.ts` is satisfied by the prices pipeline's), as does a `*`. The README is held to
 * the same, and its links to its own headings must name one.
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

/** Whether the path exists, `<x>` and `*` in a segment matching any name. */
function exists(path: string): boolean {
  const segments = path.replace(/\/$/, '').split('/');
  const walk = (dir: string, i: number): boolean => {
    if (i === segments.length) return true;
    const seg = segments[i]!;
    if (!seg.includes('<') && !seg.includes('*')) {
      const next = join(dir, seg);
      return existsSync(next) && (i === segments.length - 1 || statSync(next).isDirectory()) && walk(next, i + 1);
    }
    const pattern = new RegExp(`^${seg.split(/<[^>]+>|\*/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
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

/** GitHub's anchor for a heading: lower case, backquotes and punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

test('every path the README names exists, and every link to one of its headings finds it', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const named = pathsNamed(readme);
  assert.ok(named.length >= 50, `README.md names paths (found ${named.length})`);
  assert.deepEqual(named.filter((p) => !exists(p)), [], 'README.md names paths that do not exist');
  const headings = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!)));
  const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  assert.ok(links.length >= 5, `README.md links to its headings (found ${links.length})`);
  assert.deepEqual(links.filter((l) => !headings.has(l)), [], 'README.md links to headings it does not have');
});

test('the check finds what is missing', () => {
  const named = pathsNamed('See `workflows/nowhere/contract.ts`, `workflows/<pipeline>/contract.ts`, [x](control/runs.ts) and `https://example.org/a`.');
  assert.deepEqual(named, ['workflows/nowhere/contract.ts', 'workflows/<pipeline>/contract.ts', 'control/runs.ts']);
  assert.deepEqual(named.filter((p) => !exists(p)), ['workflows/nowhere/contract.ts']);
  assert.equal(exists('workflows/<pipeline>/nothing.ts'), false);
  assert.equal(exists('tests/drills/*.drill.ts'), true);
  assert.equal(exists('tests/drills/*.nothing.ts'), false);
  assert.equal(anchor('The `moisson` command'), 'the-moisson-command');
  assert.equal(anchor('API performance (issue 13)'), 'api-performance-issue-13');
});

test('the install notes name every Debian package stack:install installs', async () => {
  const { SYSTEM_PACKAGES } = await import('../scripts/stack/install');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(SYSTEM_PACKAGES.length > 0);
  assert.deepEqual(SYSTEM_PACKAGES.map((p) => p.pkg).filter((pkg) => !readme.includes(`\`${pkg}\``)), []);
});
