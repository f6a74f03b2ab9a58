/**
 * `npm run bench [-- --only <prefix>] [--rows N] [--chunk N] [--baseline-seconds S] [--skip-baseline] [--out FILE]`
 *
 * Runs the registered scenarios one after the other on the local stack (DATABASE_URL / MONGO_URL from
 * the core config), each in throwaway databases named `moisson_bench_<pid>_…`, prints a table and
 * merges the figures into bench/results.json (DESIGN.md §6 "Benchmarks"): keys it did not run keep
 * their figures, `_meta` says when, on which commit and on what machine each key was measured.
 * A scenario that fails (a wrong archive, a wedged server) is reported, not written, and the exit code is 1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCoreConfig } from '../../schema/config';
import { redact, round, type BenchContext, type BenchResult, type Scenario } from './support';

/**
 * Every pipeline adds its scenarios here, under the family every key it produces starts with (`pmmp` for
 * `pmmp.details`). A module is imported only when a selected key may belong to it: the bench process is
 * the worker-equivalent whose memory some scenarios measure, and the others' libraries (vite, autocannon,
 * Playwright…) would add ~230 MB of RSS to it.
 */
const registry: { family: string; load: () => Promise<Scenario[]> }[] = [
  { family: 'prices', load: async () => (await import('./prices')).pricesScenarios },
  { family: 'apisync', load: async () => (await import('./apisync')).apisyncScenarios },
  { family: 'api', load: async () => (await import('./api')).apiScenarios },
  { family: 'leads', load: async () => (await import('./leads')).leadsScenarios },
  { family: 'pmmp', load: async () => (await import('./pmmp')).pmmpScenarios },
  { family: 'pmmp', load: async () => (await import('./pmmp-politeness')).pmmpPolitenessScenarios },
  { family: 'consolidation', load: async () => (await import('./consolidation')).consolidationScenarios },
  { family: 'consolidation', load: async () => (await import('./consolidation-geocode')).consolidationGeocodeScenarios },
  { family: 'consolidation', load: async () => (await import('./consolidation-publish')).consolidationPublishScenarios },
  { family: 'console', load: async () => (await import('./console')).consoleScenarios },
  { family: 'worker', load: async () => (await import('./worker')).workerScenarios },
];

/** The scenarios of the families a key with one of the prefixes may belong to (all of them without prefixes). */
async function loadScenarios(prefixes: readonly string[]): Promise<Scenario[]> {
  const mayMatch = (family: string) => prefixes.length === 0 || prefixes.some((p) => p.startsWith(`${family}.`) || `${family}.`.startsWith(p) || p === family);
  const loaded = await Promise.all(registry.filter((m) => mayMatch(m.family)).map((m) => m.load()));
  return loaded.flat();
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function usage(): never {
  console.error(
    [
      'usage: npm run bench -- [--only <prefix>]... [--rows N] [--chunk N] [--baseline-seconds S] [--skip-baseline] [--out FILE]',
      '  --only <prefix>        run only the results whose key starts with the prefix (repeatable)',
      '  --rows N               rows of the main data set (default 100000)',
      '  --chunk N              chunk size for chunked product code (default: the product default)',
      '  --baseline-seconds S   how long a baseline that cannot finish within 10 minutes runs (default 180)',
      '  --skip-baseline        no baselines (for quick profiling runs)',
      '  --out FILE             where to merge the results (default bench/results.json)',
      `families: ${[...new Set(registry.map((m) => m.family))].join(', ')} (each key starts with its family: pmmp.details…; a family prefix runs all of its keys)`,
    ].join('\n'),
  );
  process.exit(2);
}

function positiveInt(name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`bench: --${name} must be a positive integer, not '${raw}'`);
    usage();
  }
  return n;
}

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

type ResultsFile = Record<string, unknown> & { _meta?: Record<string, unknown> };

function readResults(path: string): ResultsFile {
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as ResultsFile;
  } catch (err) {
    throw new Error(`bench: ${path} is not valid JSON (${String(err)}); fix or remove it, the bench merges into it`);
  }
  throw new Error(`bench: ${path} does not hold a JSON object`);
}

function formatNumber(x: number | undefined): string {
  if (x === undefined) return '';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  return String(round(x, 2));
}

function printTable(results: Record<string, BenchResult>): void {
  const header = ['scenario', 'value', 'unit', 'baseline', 'ratio', 'peak RSS MB', 'p50 ms', 'p99 ms', 'wall s'];
  const rows = Object.entries(results).map(([key, r]) => [
    key,
    formatNumber(r.value),
    r.unit,
    formatNumber(r.baseline),
    r.ratio === undefined ? '' : `${formatNumber(r.ratio)}×`,
    formatNumber(r.peakRssMb),
    formatNumber(r.p50Ms),
    formatNumber(r.p99Ms),
    typeof r.params.wallMs === 'number' ? formatNumber(r.params.wallMs / 1000) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  for (const [key, r] of Object.entries(results)) {
    if (r.baselineName) console.log(`  ${key}: baseline = ${r.baselineName}${r.params.baselineSubset ? ` — ${String(r.params.baselineSubset)}` : ''}`);
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        only: { type: 'string', multiple: true },
        rows: { type: 'string' },
        chunk: { type: 'string' },
        'baseline-seconds': { type: 'string' },
        'skip-baseline': { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    usage();
  }
  const { values } = parsed;
  if (values.help) usage();
  const only = values.only ?? [];
  const wants = (key: string) => only.length === 0 || only.some((p) => key.startsWith(p));
  const selected = (await loadScenarios(only)).filter((s) => s.produces.some(wants));
  if (selected.length === 0) {
    console.error(`bench: no scenario matches ${only.map((p) => `'${p}'`).join(', ')}`);
    usage();
  }
  const out = resolve(values.out ?? resolve(root, 'bench/results.json'));
  const config = loadCoreConfig();
  const cleanups = new Set<() => Promise<void>>();
  const ctx: BenchContext = {
    rows: positiveInt('rows', values.rows, 100_000)!,
    chunkSize: positiveInt('chunk', values.chunk, undefined),
    baselineSeconds: positiveInt('baseline-seconds', values['baseline-seconds'], 180)!,
    baselineLimitSeconds: 600,
    skipBaseline: values['skip-baseline'],
    wants,
    log: (m) => console.log(m),
    databaseUrl: config.databaseUrl,
    mongoUrl: config.mongoUrl,
    namePrefix: `moisson_bench_${process.pid}`,
    onCleanup(fn) {
      cleanups.add(fn);
      return () => cleanups.delete(fn);
    },
  };
  process.once('SIGINT', () => {
    console.error('\nbench: interrupted, dropping the throwaway databases');
    void Promise.allSettled([...cleanups].map((fn) => fn())).finally(() => process.exit(130));
  });

  const existing = readResults(out);
  console.log(`bench: PostgreSQL ${redact(config.databaseUrl)}, MongoDB ${redact(config.mongoUrl)}, ${ctx.rows} rows`);
  const measured: Record<string, BenchResult> = {};
  const failures: string[] = [];
  for (const scenario of selected) {
    console.log(`\n▶ ${scenario.produces.filter(wants).join(', ')}: ${scenario.description}`);
    const started = performance.now();
    try {
      const results = await scenario.run(ctx);
      for (const [key, result] of Object.entries(results)) if (wants(key)) measured[key] = result;
      console.log(`  done in ${round((performance.now() - started) / 1000, 1)} s`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push(`${scenario.produces.join(', ')}: ${message}`);
      console.error(`\n✗ FAILED ${scenario.produces.filter(wants).join(', ')}\n${message}\n`);
    }
  }

  if (Object.keys(measured).length > 0) {
    const commit = git('rev-parse', 'HEAD');
    const dirty = (git('status', '--porcelain') ?? '') !== '';
    const generatedAt = new Date().toISOString();
    const cpuList = cpus();
    const previousMeta = existing._meta ?? {};
    const provenance = { ...((previousMeta.measured as Record<string, unknown> | undefined) ?? {}) };
    for (const key of Object.keys(measured)) provenance[key] = { at: generatedAt, commit, dirty, rows: ctx.rows };
    const meta = {
      generatedAt,
      commit,
      dirtyWorkTree: dirty,
      node: process.version,
      cpu: { model: cpuList[0]?.model ?? 'unknown', count: cpuList.length },
      memoryGb: round(totalmem() / 2 ** 30, 1),
      platform: `${process.platform} ${process.arch}`,
      mongoUrl: redact(config.mongoUrl),
      databaseUrl: redact(config.databaseUrl),
      measured: provenance,
    };
    const merged: ResultsFile = { _meta: meta };
    const keys = new Set([...Object.keys(existing).filter((k) => k !== '_meta'), ...Object.keys(measured)]);
    for (const key of [...keys].sort()) merged[key] = measured[key] ?? existing[key];
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
    console.log('');
    printTable(measured);
    console.log(`\nbench: wrote ${Object.keys(measured).length} result(s) into ${out}`);
  }
  if (failures.length > 0) {
    console.error(`\nbench: ${failures.length} scenario(s) FAILED: nothing written for them`);
    process.exitCode = 1;
  }
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  })
  // A wedged server keeps sockets open: leave anyway once the results are written.
  .finally(() => setTimeout(() => process.exit(), 100).unref());
