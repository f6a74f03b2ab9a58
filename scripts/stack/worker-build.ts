/**
 * The stack's worker build: workers/main.ts built ahead by scripts/build-worker.ts (as the image does), run
 * by plain `node` (no tsx at run time). Like the workflow bundle (workflow-bundle.ts), a stale build must
 * never run: its directory is named by a hash of everything the build is made from (the modules esbuild
 * bundles, the lockfile that fixes esbuild, the build script), so any change gives another name and the next
 * start builds afresh. The project's real path is hashed too: the built files find the sources they were
 * built from (declarations, migrations) by a path relative to themselves, so two checkouts sharing one
 * `.data` (a linked worktree) never share a build.
 */
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { paths, projectRoot } from './paths';
import { pruneOldOutputs, runBuildScript, sourceHash } from './workflow-bundle';

/** What the worker build is made from, relative to the project root (directories walked whole). */
export const WORKER_BUILD_INPUTS = ['activities', 'schema', 'control', 'workers', 'workflows', 'scripts/db', 'package-lock.json', 'tsconfig.json', 'scripts/build-worker.ts'] as const;

/** Builds kept besides the current one: a worker started a moment ago still loads its chunks and threads from its own. */
const KEEP_OLD_BUILDS = 2;

export function workerSourceHash(root = projectRoot): string {
  return sourceHash(WORKER_BUILD_INPUTS, root, realpathSync(root));
}

/** The built worker's entry (`main.js`) in the build of sources `hash`. */
export function workerBuildEntry(hash: string, dir = join(paths.data, 'worker-build')): string {
  return join(dir, hash, 'main.js');
}

/**
 * The entry of the build of the current sources, built first when it does not exist yet (in a child
 * process, as the image runs the script). The directory appears whole or not at all (built aside, then renamed).
 */
export async function ensureWorkerBuild(log: (line: string) => void, opts: { root?: string; dir?: string } = {}): Promise<string> {
  const root = opts.root ?? projectRoot;
  const dir = opts.dir ?? join(paths.data, 'worker-build');
  const hash = workerSourceHash(root);
  const entry = workerBuildEntry(hash, dir);
  if (existsSync(entry)) return entry;
  mkdirSync(dir, { recursive: true });
  // Beside the final directory, at the same depth: the built files' relative paths to the sources hold after the rename.
  const partial = join(dir, `${hash}.${process.pid}.partial`);
  log(`building the worker (sources ${hash})`);
  await runBuildScript(root, 'scripts/build-worker.ts', partial, 'the worker (npm run build:worker)');
  try {
    renameSync(partial, join(dir, hash));
  } catch (err) {
    // Another start built the same sources meanwhile (a directory is not renamed over another): keep that one, a worker may be running from it.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(entry)) throw err;
  }
  pruneOldOutputs(dir, (f) => /^[0-9a-f]+$/.test(f), hash, KEEP_OLD_BUILDS);
  return entry;
}

