/**
 * The operator console's build (console/ → console/dist), done only when missing or older than its
 * sources: `npm test` and `npm run stack:up` call it so the API always has a page to serve at /console/.
 * `node --import tsx scripts/console/build.ts` runs it alone (`npm run console:build` rebuilds always).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const consoleDir = join(root, 'console');
const builtPage = join(consoleDir, 'dist', 'index.html');

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newestMtime(join(path, name))), st.mtimeMs);
}

/** Why the console must be built, or undefined when console/dist is up to date. */
export function consoleBuildReason(): string | undefined {
  if (!existsSync(builtPage)) return 'console/dist is missing';
  const built = statSync(builtPage).mtimeMs;
  const sources = [join(consoleDir, 'src'), join(consoleDir, 'index.html'), join(consoleDir, 'vite.config.ts'), join(root, 'package-lock.json')];
  const stale = sources.filter((p) => existsSync(p) && newestMtime(p) > built);
  return stale.length > 0 ? 'console/dist is older than its sources' : undefined;
}

export async function ensureConsoleBuilt(log: (line: string) => void): Promise<void> {
  const reason = consoleBuildReason();
  if (!reason) return;
  log(`console: building (${reason})`);
  await build({ configFile: join(consoleDir, 'vite.config.ts'), logLevel: 'warn' });
  log('console: built into console/dist');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureConsoleBuilt((line) => console.log(line));
}
