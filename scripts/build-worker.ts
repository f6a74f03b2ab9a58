/**
 * `npm run build:worker [-- outdir]`: the worker process built ahead as JavaScript (the image and the local
 * stack run it), so it runs on plain `node`: no tsx loader hooks (Node 20 runs `--import` hooks in a thread
 * of their own, another isolate of ~13 MB), no source maps (tsx enables them: ~8 MB of heap), no TypeScript
 * sources kept by a loader. No source map is written either: a stack trace names the built file's lines.
 *
 * esbuild bundles the project's modules and leaves every package external (`packages: 'external'`):
 * bare imports resolve from the repository's node_modules by walking up from the built files, which is
 * why the build lives inside the repository (`.data/worker-build/`, `dist/worker-build/` in the image).
 *
 * Entries, all in the one output directory under their sources' names:
 * - `main.js`: workers/main.ts;
 * - `parse-thread.js`, `worker-thread.js`, `failure-converter.js`: the files loaded by path at run time
 *   (pmmp's parse threads, the clustering thread, the SDK's failure converter), found through
 *   activities/engine/entry-script.ts, to which the build gives MOISSON_WORKER_BUILD_URL (the built file's
 *   real `import.meta.url`).
 * Code splitting is on: the pipelines the worker loads on first use (`import('./leads')`, the S3 reader…)
 * stay separate chunks loaded on first use, with their packages. In one file, esbuild would hoist those
 * packages' imports to the top and an idle worker would hold them (~35 MB).
 *
 * Every other `import.meta.url` of a project module is rewritten to the URL of that module's source file,
 * relative to the built file, so what a module finds next to its source is the same file built or not:
 * consolidation's built-in declarations, the workflows webpack would bundle without MOISSON_WORKFLOW_BUNDLE,
 * `createRequire` bases. The relative path holds because every built file sits in the output directory
 * itself (no subdirectories) and the build is never moved apart from the sources it was built from.
 */
import { mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Output name → source, relative to the project root. */
export const WORKER_BUILD_ENTRIES = {
  main: 'workers/main.ts',
  'parse-thread': 'activities/pmmp/parse-thread.ts',
  'worker-thread': 'activities/consolidation/cluster/worker-thread.ts',
  'failure-converter': 'control/failure-converter.ts',
} as const;

/** Rewrites `import.meta.url` in each project module to its source file's URL (see above). */
function sourceUrls(outdir: string): Plugin {
  return {
    name: 'moisson-source-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        // Real paths on both sides: `.data` may be a link, and Node gives a main module its real path.
        const rel = relative(outdir, await realpath(args.path)).split('\\').join('/');
        const url = `new URL(${JSON.stringify(rel)}, MOISSON_WORKER_BUILD_URL).href`;
        return { contents: source.replace(/\bimport\.meta\.url\b/g, url), loader: 'ts' };
      });
    },
  };
}

export async function buildWorker(out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const outdir = await realpath(out);
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(WORKER_BUILD_ENTRIES).map(([name, source]) => [name, join(root, source)])),
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: false,
    // Names kept: errors are told apart by `name` and constructors (activities/engine/errors.ts), logs name functions.
    minify: false,
    keepNames: true,
    define: { MOISSON_WORKER_BUILD_URL: 'import.meta.url' },
    plugins: [sourceUrls(outdir)],
    logLevel: 'warning',
    metafile: true,
  });
  // The built files are ES modules wherever the build is put (the repository's package.json says so too).
  await writeFile(join(outdir, 'package.json'), '{ "type": "module" }\n');
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`worker build: ${dirname(join(outdir, 'main.js'))} (${Object.keys(result.metafile.outputs).length} files, ${(bytes / 2 ** 20).toFixed(1)} MB)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWorker(resolve(process.argv[2] ?? 'dist/worker-build'));
}
