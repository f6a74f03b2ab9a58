/**
 * Node's flags for the browser worker process, given by everything that starts it (`npm run
 * worker:browser`, the local stack, docker-compose.temporal.yml, the drill, the maps bench; a test checks
 * the first three). V8 reads them only at start. The process does little JavaScript (Playwright's
 * messages), so a 1 MB young generation instead of Node's 16 MB semi-spaces costs nothing measurable
 * and saves ~35 MB of RSS (maps bench).
 */
export const BROWSER_WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
