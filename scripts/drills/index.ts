/**
 * `npm run drills [-- --only name,name] [--fast] [--list]`
 *
 * The failure drills of issue 18, kept as a suite: each automated drill is a test file (or one test of
 * a file) that breaks something for real on the local stack — a worker process SIGKILLed, an API under
 * a burst — and asserts the tables against an uninterrupted run or the replica's own record. Each test
 * file starts its own Temporal dev server and databases, so a drill never stops a shared service.
 * Results are merged into drills/results.json (the README quotes it): keys not run keep their result.
 * The fast drills are ordinary test files, so `npm test` (and CI) runs them too.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface Drill {
  name: string;
  what: string;
  /** The test file that runs it, and the test's name when the file holds others. */
  file?: string;
  pattern?: string;
  /**
   * Runs in CI (a minute or two at most). A slow drill that is not also an ordinary test lives in a
   * `*.drill.ts` file: `npm test` (and so CI) runs only the `*.test.ts` files under tests/.
   */
  fast: boolean;
}

export const DRILLS: Drill[] = [
  { name: 'api-burst', what: 'REST API under a burst of signed writes 4× its rate limit: 429s, no 5xx, every accepted write stored', file: 'tests/drills/api-burst.test.ts', fast: true },
  {
    name: 'mailwizz-push-killed',
    what: '28 validated contacts, MailWizz replica latency 700 ms, the real worker SIGKILLed mid-push and restarted: 0 duplicates, 0 left syncing, totals = subscribers created',
    file: 'tests/leads/crash.test.ts',
    pattern: 'mid-push to MailWizz',
    fast: false,
  },
  {
    name: 'worker-kill-leads-job',
    what: 'the real worker SIGKILLed mid leads job and restarted: every page once, every email once',
    file: 'tests/leads/crash.test.ts',
    pattern: 'killed mid-job',
    fast: false,
  },
  {
    name: 'worker-kill-pmmp-backfill',
    what: 'the real worker process (workers/main.ts) SIGKILLed mid pmmp backfill and restarted: tables equal to an uninterrupted run',
    file: 'tests/pmmp/durability.test.ts',
    fast: false,
  },
  {
    name: 'worker-kill-pmmp-daily',
    what: 'workers/main.ts SIGKILLed mid pmmp daily (a month-long window) and restarted: consultation counts and tables equal to an uninterrupted run',
    file: 'tests/pmmp/daily-crash.test.ts',
    fast: false,
  },
  {
    name: 'worker-kill-apisync',
    what: 'an apisync worker process SIGKILLed mid full and mid incremental sync and replaced: resumes from its committed cursor, rows loaded equal to a clean run / the changes the source made',
    file: 'tests/apisync/workers.test.ts',
    fast: false,
  },
  {
    name: 'worker-kill-prices-archive',
    what: 'workers/main.ts SIGKILLed while a daily prices run archives 13,512 documents, restarted: daily and archive counts, rows and documents equal to an uninterrupted run',
    file: 'tests/prices/crash.test.ts',
    fast: false,
  },
  {
    name: 'leads-job-pause-resume-kill',
    what: 'a leads job paused, its worker SIGKILLed while paused, another worker started: the job stays paused (no page crawled) until resumed, then completes with every page once and every email once',
    file: 'tests/leads/crash.test.ts',
    pattern: 'paused job whose worker is killed',
    fast: false,
  },
  {
    name: 'postgres-stop-pmmp-daily',
    what: "a PostgreSQL cluster of the drill's own stopped 25 s mid pmmp daily (a month-long window on the portal replica), started again: the run completes on retries, consultation counts and every pmmp table equal to an uninterrupted run",
    file: 'tests/drills/postgres-stop-pmmp.drill.ts',
    fast: false,
  },
  {
    name: 'postgres-stop-apisync-full',
    what: "a PostgreSQL cluster of the drill's own stopped 25 s mid apisync full sync (4,000 rows), started again: the stream finishes on a retry (attempt in its result and log, moisson_activity_retried) from its committed cursor, every row once",
    file: 'tests/drills/postgres-stop.test.ts',
    fast: true,
  },
  {
    name: 'temporal-kill',
    what: "a Temporal dev server of the drill's own SIGKILLed mid apisync full sync, restarted on its SQLite file and port: the run completes, every row once, one run and one log row",
    file: 'tests/drills/temporal-kill.test.ts',
    fast: true,
  },
  {
    name: 'ferretdb-kill-archive',
    what: "a FerretDB of the drill's own SIGKILLed while a daily prices run archives 13,512 documents, down 5 s, restarted on its SQLite folder and port: the run completes on a retry, its consistency check passes, no duplicate documents, rows and documents equal to an uninterrupted run",
    file: 'tests/drills/ferretdb-kill.drill.ts',
    fast: false,
  },
  {
    name: 'portal-chaos',
    what: "a two-month pmmp backfill against the portal replica serving 429s (4 %), 500/502/503s (6 %) and truncated pages (6 %, short bodies and resets): consultations, lots and /bdc/ results equal the replica's oracle",
    file: 'tests/drills/portal-chaos.drill.ts',
    fast: false,
  },
  {
    name: 'browser-worker-kill-maps',
    what: 'a maps job of three listing pages on the leads replica; the browser worker process (workers/browser.ts, Chromium) SIGKILLed mid-render and another started: the render is retried once, the job completes, every listing page, listing and website email once, no error',
    file: 'tests/drills/browser-worker-kill.drill.ts',
    fast: false,
  },
];

export interface DrillResult {
  status: 'pass' | 'fail' | 'not automated';
  seconds?: number;
  at?: string;
  commit?: string;
  what: string;
  runs?: string;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const resultsFile = resolve(root, 'drills/results.json');

/** The stack's environment, as `npm test` loads it (services on moved ports, replicas). */
function stackEnv(): Record<string, string> {
  const file = resolve(root, '.data/stack.env');
  if (!existsSync(file)) return {};
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function main(): void {
  const { values } = parseArgs({ options: { only: { type: 'string' }, fast: { type: 'boolean' }, list: { type: 'boolean' } } });
  if (values.list) {
    for (const d of DRILLS) console.log(`${d.name.padEnd(28)} ${d.file ? (d.fast ? 'fast' : 'slow') : 'not automated'}  ${d.what}`);
    return;
  }
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !DRILLS.some((d) => d.name === n)) ?? [];
  if (unknown.length) {
    console.error(`unknown drill(s): ${unknown.join(', ')}; see npm run drills -- --list`);
    process.exit(3);
  }
  const chosen = DRILLS.filter((d) => (!only || only.includes(d.name)) && (!values.fast || d.fast));
  const results: Record<string, DrillResult> = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, DrillResult>) : {};
  const env = { ...process.env, ...stackEnv() };
  let failed = 0;
  for (const d of chosen) {
    if (!d.file) {
      results[d.name] = { status: 'not automated', what: d.what };
      console.log(`${d.name}: not automated`);
      continue;
    }
    const args = ['--import', 'tsx', '--test', '--test-reporter=spec', ...(d.pattern ? ['--test-name-pattern', d.pattern] : []), d.file];
    const started = Date.now();
    console.log(`${d.name}: node ${args.join(' ')}`);
    const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    const status = r.status === 0 ? 'pass' : 'fail';
    if (status === 'fail') failed++;
    results[d.name] = {
      status,
      seconds: Math.round((Date.now() - started) / 1000),
      at: new Date().toISOString(),
      commit: commit(),
      what: d.what,
      runs: d.pattern ? `${d.file} — ${d.pattern}` : d.file,
    };
    console.log(`${d.name}: ${status} in ${results[d.name]!.seconds} s`);
  }
  const ordered = Object.fromEntries(DRILLS.filter((d) => results[d.name]).map((d) => [d.name, results[d.name]!]));
  writeFileSync(resultsFile, `${JSON.stringify(ordered, null, 2)}\n`);
  process.exitCode = failed ? 1 : 0;
}

main();
