/**
 * Files loaded by path while the worker runs — a worker thread's script, the Temporal SDK's failure
 * converter — are entries of the worker build (scripts/build-worker.ts): JavaScript files beside the built
 * worker, named as their sources. From source (tsx: tests, `npm run worker`, the API) they are the
 * TypeScript files beside the module that names them.
 *
 * The build defines MOISSON_WORKER_BUILD_URL as the built file's own `import.meta.url` (every built file
 * sits in the build's one directory); from source the name is not defined at all.
 */
declare const MOISSON_WORKER_BUILD_URL: string | undefined;

/** The script `name` (no extension) to load: the built entry in the worker build, else `./name.ts` beside `moduleUrl`. */
export function entryScript(name: string, moduleUrl: string): URL {
  return typeof MOISSON_WORKER_BUILD_URL === 'string' ? new URL(`./${name}.js`, MOISSON_WORKER_BUILD_URL) : new URL(`./${name}.ts`, moduleUrl);
}
