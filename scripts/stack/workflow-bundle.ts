/**
 * The stack's workflow bundle: built once by scripts/build-workflows.ts (as the image does) and handed to
 * the worker through MOISSON_WORKFLOW_BUNDLE, so the worker does not run webpack at each start (webpack
 * left in a worker's heap costs ~150 MB of RSS for its whole life).
 *
 * A stale bundle must never run: its file is named by a hash of everything it may be built from (the
 * sources a workflow can import, the lockfile and patches that fix the SDK, webpack and zod, the build
 * script). Any change gives another name, so the next start builds a fresh bundle; nothing is compared
 * by date. The set is wider than what webpack really bundles (workflows/ and three packages): hashing
 * more costs a rebuild now and then, hashing less could run old workflow code.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { paths, projectRoot } from './paths';
import { StackError } from './process';

/** What a workflow bundle may be built from, relative to the project root (directories walked whole). */
export const WORKFLOW_BUNDLE_INPUTS = ['workflows', 'activities', 'schema', 'control', 'workers', 'patches', 'package-lock.json', 'tsconfig.json', 'scripts/build-workflows.ts'] as const;

/** Bundles kept besides the current one: a worker started a moment ago may still be reading its own. */
const KEEP_OLD_BUNDLES = 2;

function filesUnder(root: string, entry: string): string[] {
  const path = join(root, entry);
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [entry];
  return readdirSync(path, { withFileTypes: true })
    .filter((d) => d.name !== 'node_modules' && !d.name.startsWith('.'))
    .flatMap((d) => filesUnder(root, join(entry, d.name)));
}

/** The hash of every input's path and content (sorted, so the walk's order does not matter); `salt` is hashed first. */
export function sourceHash(inputs: readonly string[], root: string, salt = ''): string {
  const hash = createHash('sha256');
  if (salt) hash.update(`${salt}\0`);
  const files = inputs.flatMap((entry) => filesUnder(root, entry)).sort();
  for (const file of files) {
    const content = readFileSync(join(root, file));
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex').slice(0, 20);
}

export function workflowSourceHash(root = projectRoot): string {
  return sourceHash(WORKFLOW_BUNDLE_INPUTS, root);
}

export function workflowBundlePath(hash: string, dir = join(paths.data, 'workflow-bundle')): string {
  return join(dir, `workflows-${hash}.js`);
}

/**
 * The bundle of the current sources, built first when it does not exist yet (in a child process, so
 * webpack's memory leaves with it). The file appears whole or not at all (written aside, then renamed).
 */
export async function ensureWorkflowBundle(log: (line: string) => void, opts: { root?: string; dir?: string } = {}): Promise<string> {
  const root = opts.root ?? projectRoot;
  const dir = opts.dir ?? join(paths.data, 'workflow-bundle');
  const hash = workflowSourceHash(root);
  const out = workflowBundlePath(hash, dir);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.${process.pid}.partial`;
  log(`building the workflow bundle (sources ${hash})`);
  await runBuildScript(root, 'scripts/build-workflows.ts', partial, 'the workflow bundle (npm run build:workflows)');
  renameSync(partial, out);
  pruneOldOutputs(dir, (f) => /^workflows-[0-9a-f]+\.js$/.test(f), basename(out), KEEP_OLD_BUNDLES);
  return out;
}

/**
 * Runs a build script of scripts/ into `partial` in a child process (the builder's memory leaves with it);
 * on a failure the partial output is removed and the script's own output is the error.
 */
export async function runBuildScript(root: string, script: string, partial: string, what: string): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', script, partial], { cwd: root, maxBuffer: 16 * 2 ** 20 });
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new StackError(`building ${what} failed: ${(e.stderr || e.stdout || e.message).trim().slice(-4000)}`);
  }
}

/**
 * Removes the outputs of older sources in `dir` (entries named as `isOutput` says, `current` excepted),
 * keeping the `keep` newest: a worker may still run from the one before.
 */
export function pruneOldOutputs(dir: string, isOutput: (name: string) => boolean, current: string, keep: number): void {
  const old = readdirSync(dir)
    .filter((f) => isOutput(f) && f !== current)
    .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of old.slice(keep)) rmSync(path, { recursive: true, force: true });
}
