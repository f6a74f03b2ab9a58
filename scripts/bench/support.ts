/**
 * What the bench runner and the pipelines' scenario files share: the result shape of bench/results.json
 * (DESIGN.md §6, "Benchmarks"), the scenario registry type, timing with peak-RSS sampling, percentiles,
 * a time budget for slow baselines, throwaway databases on the stack's servers, and deadlines so a
 * wedged server fails the bench instead of hanging it.
 */
import { connectMongo, connectPostgres, type Archive, type Database } from '../../activities/engine/db';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import type { Db } from 'mongodb';
import type { Sql } from 'postgres';
import { migrateDatabase } from '../db/migrate';
import { cpuSeconds } from './proc-cpu';

/** One entry of bench/results.json. `ratio = value / baseline`, both measured in the same run. */
export interface BenchResult {
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  peakRssMb?: number;
  p50Ms?: number;
  p99Ms?: number;
  params: Record<string, unknown>;
}

export interface BenchOptions {
  /** Rows of the main data set (`--rows`, 100,000 by default). */
  rows: number;
  /** Chunk size handed to chunked product code (`--chunk`); the product's default when absent. */
  chunkSize?: number;
  /** A baseline too slow for the whole set (projected > limitSeconds) is measured for this long. */
  baselineSeconds: number;
  /** Above this projected duration a baseline runs on a subset (DESIGN: never extrapolate silently). */
  baselineLimitSeconds: number;
  skipBaseline: boolean;
}

export interface BenchContext extends BenchOptions {
  /** Whether the run asked for this result key (`--only`): a scenario skips work nobody asked for. */
  wants(key: string): boolean;
  log(message: string): void;
  /** The stack's servers (`loadCoreConfig()`): throwaway databases are created there. */
  databaseUrl: string;
  mongoUrl: string;
  /** `moisson_bench_<pid>`: the prefix of every database this run creates. */
  namePrefix: string;
  /** Registers a clean-up that also runs on Ctrl-C. */
  onCleanup(fn: () => Promise<void>): () => void;
}

export interface Scenario {
  /** The result keys (`<pipeline>.<what>`) this scenario can write. */
  produces: readonly string[];
  description: string;
  run(ctx: BenchContext): Promise<Record<string, BenchResult>>;
}

export const round = (x: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Nearest-rank percentile of an unsorted list (ms). */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function latencySummary(values: readonly number[]): { p50Ms?: number; p99Ms?: number } {
  const p50 = percentile(values, 50);
  const p99 = percentile(values, 99);
  return { ...(p50 === undefined ? {} : { p50Ms: round(p50, 2) }), ...(p99 === undefined ? {} : { p99Ms: round(p99, 2) }) };
}

export interface Measured<T> {
  result: T;
  ms: number;
  /** The bench process's own peak resident set during the call (the servers' memory is not in it). */
  peakRssMb: number;
}

/** Wall time with performance.now(), and the peak RSS sampled every `sampleMs` while `fn` runs. */
export async function measure<T>(fn: () => Promise<T>, sampleMs = 20): Promise<Measured<T>> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, sampleMs);
  const start = performance.now();
  try {
    const result = await fn();
    const ms = performance.now() - start;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, ms, peakRssMb: round(peak / 2 ** 20, 1) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * When a baseline loop should stop: never before the whole set when it is projected to fit in
 * `limitSeconds`; otherwise once `budgetSeconds` are spent (a subset, which the scenario must report).
 * The projection uses the rate of the last 30 s, not the average: a loop whose every step gets slower
 * (an unindexed upsert into a growing collection) would otherwise look fine until it is far too late.
 * Past `limitSeconds` it stops whatever the projection said.
 */
export function baselineBudget(total: number, budgetSeconds: number, limitSeconds: number) {
  const start = performance.now();
  const marks: { t: number; done: number }[] = [{ t: start, done: 0 }];
  let subset = false;
  return {
    elapsedMs: () => performance.now() - start,
    shouldStop(done: number): boolean {
      if (done >= total) return false;
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      if (elapsed >= limitSeconds) return (subset = true);
      if (now - marks[marks.length - 1]!.t >= 1000) marks.push({ t: now, done });
      while (marks.length > 2 && now - marks[1]!.t >= 30_000) marks.shift();
      if (elapsed < Math.min(15, budgetSeconds) || done === 0) return false;
      const from = marks[0]!;
      const recentPerSecond = (done - from.done) / ((now - from.t) / 1000) || done / elapsed;
      const projected = elapsed + (total - done) / recentPerSecond;
      if (projected > limitSeconds && elapsed >= budgetSeconds) return (subset = true);
      return false;
    },
    get subset() {
      return subset;
    },
  };
}

export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}

/** Rejects when `promise` has not settled after `ms`: a wedged server must fail the bench, not hang it. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string, hint = ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what}: no answer after ${round(ms / 1000, 0)} s${hint ? `. ${hint}` : ''}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ThrowawayPostgres extends Database {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the stack's PostgreSQL, dropped by `drop()` (and on Ctrl-C). */
export async function throwawayPostgres(ctx: BenchContext, suffix: string): Promise<ThrowawayPostgres> {
  const name = `${ctx.namePrefix}_${suffix}`;
  const url = new URL(ctx.databaseUrl);
  url.pathname = `/${name}`;
  const admin = new URL(ctx.databaseUrl);
  const dropIt = async () => {
    const a = connectPostgres(admin.toString(), { max: 1 });
    try {
      await a.sql.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await a.close();
    }
  };
  await dropIt();
  await migrateDatabase(url.toString());
  const database = connectPostgres(url.toString());
  // postgres.js fetches the array type OIDs with its first connection; a statement built before that
  // (upsertQuotes' sql.array(...) as the very first query) is sent as a malformed array literal. The
  // worker always runs other queries first; a throwaway database must too.
  await database.sql`select 1`;
  let unregister = () => {};
  const drop = async () => {
    unregister();
    await database.close().catch(() => undefined);
    await withDeadline(dropIt(), 60_000, `dropping PostgreSQL database ${name}`);
  };
  unregister = ctx.onCleanup(drop);
  return { ...database, name, url: url.toString(), drop };
}

export { cpuSeconds };

/**
 * CPU seconds used so far by each PostgreSQL backend serving `sql`'s database, by pid, read from
 * /proc/<pid>/stat: only when the server runs on this machine (the local stack), as a backend's title
 * (`postgres: user database client state`) names the database. A remote server's pids mean nothing
 * here: the map is then empty, and a scenario leaves the figure out.
 */
export async function postgresBackendsCpu(sql: Sql): Promise<Map<number, number>> {
  const rows = await sql<{ pid: number; datname: string }[]>`select pid, datname from pg_stat_activity where datname = current_database()`;
  const seconds = new Map<number, number>();
  for (const { pid, datname } of rows) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.includes(` ${datname} `)) continue;
      seconds.set(pid, cpuSeconds(pid));
    } catch {
      // No such process here (a remote server), or the backend just ended.
    }
  }
  return seconds;
}

/** CPU seconds the backends of `after` used since `before` (a backend started in between counts from zero). */
export function backendsCpuSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

export interface ThrowawayMongo extends Archive {
  name: string;
  drop(): Promise<void>;
}

/** A fresh database on the stack's MongoDB server (FerretDB locally), dropped by `drop()`. */
export async function throwawayMongo(ctx: BenchContext, suffix: string): Promise<ThrowawayMongo> {
  const name = `${ctx.namePrefix}_${suffix}`;
  const url = new URL(ctx.mongoUrl);
  url.pathname = `/${name}`;
  const archive = await withDeadline(connectMongo(url.toString()), 30_000, `connecting to ${redact(ctx.mongoUrl)}`);
  await withDeadline(archive.db.dropDatabase(), 60_000, `dropping leftover MongoDB database ${name}`, FERRETDB_HINT);
  let unregister = () => {};
  const drop = async () => {
    unregister();
    try {
      await withDeadline(archive.db.dropDatabase(), 60_000, `dropping MongoDB database ${name}`, FERRETDB_HINT);
    } finally {
      await archive.client.close(true).catch(() => undefined);
    }
  };
  unregister = ctx.onCleanup(drop);
  return { ...archive, name, drop };
}

export const FERRETDB_HINT =
  'FerretDB v1 wedges for good when one update command carries many statements (SQLite: 100, PostgreSQL backend: 50); look at its goroutines (debug address /debug/pprof/goroutine?debug=1) and restart it';

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

/** What answers on the MongoDB URL: FerretDB (and its version) or MongoDB. */
export async function describeMongo(db: Db): Promise<Record<string, unknown>> {
  const info = await db.admin().command({ buildInfo: 1 });
  const ferret = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : undefined;
  return {
    backend: ferret ? `FerretDB ${ferret}` : `MongoDB ${String(info.version)}`,
    wireVersion: String(info.version),
    ...(ferret ? { ferretdbFeatures: 'no index use: FerretDB evaluates ranges itself over the whole collection; its PostgreSQL backend hands equality filters to PostgreSQL, its SQLite backend only _id equality' } : {}),
  };
}

export async function describePostgres(sql: Sql): Promise<string> {
  const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
  return `PostgreSQL ${row?.v ?? '?'}`;
}

/** A small fast deterministic PRNG (mulberry32), so every run benches the same data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A mutable map of named durations, for the "where does the time go" breakdowns. */
export class Stopwatches {
  readonly ms = new Map<string, number>();
  readonly calls = new Map<string, number>();
  add(label: string, ms: number): void {
    this.ms.set(label, (this.ms.get(label) ?? 0) + ms);
    this.calls.set(label, (this.calls.get(label) ?? 0) + 1);
  }
  async time<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.add(label, performance.now() - start);
    }
  }
  /** `{label: {ms, calls}}` plus `other` = total − the labelled time (JS work between the calls). */
  report(totalMs: number): Record<string, { ms: number; calls?: number }> {
    const out: Record<string, { ms: number; calls?: number }> = {};
    let sum = 0;
    for (const [label, ms] of this.ms) {
      sum += ms;
      out[label] = { ms: round(ms, 0), calls: this.calls.get(label) ?? 0 };
    }
    out.other = { ms: round(Math.max(0, totalMs - sum), 0) };
    return out;
  }
}

/** HTTP load of the API benches: autocannon, `connections` in flight for `durationS`, cycling over `paths`. */
export const HTTP_LOAD = { connections: 16, durationS: 10 } as const;

/** `paths` hammered on `port` (GET, optional cookie); any non-2xx answer or error fails the scenario. */
export async function httpLoad(name: string, paths: readonly string[], port: number, cookie?: string): Promise<autocannon.Result> {
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: HTTP_LOAD.connections,
    duration: HTTP_LOAD.durationS,
    ...(cookie ? { headers: { cookie } } : {}),
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  return result;
}

/** An HTTP load's figures beside its peer's (`baselineName`) in the same run. */
export function httpLoadResult(r: autocannon.Result, bare: autocannon.Result | undefined, baselineName: string, params: Record<string, unknown>): BenchResult {
  const value = round(r.requests.average, 1);
  return {
    value,
    unit: 'requests/s',
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ...(bare ? { baseline: round(bare.requests.average, 1), baselineName, ratio: round(value / bare.requests.average, 2) } : {}),
    params: {
      connections: HTTP_LOAD.connections,
      durationS: HTTP_LOAD.durationS,
      requests: r.requests.total,
      ...(bare ? { bare: { p50Ms: bare.latency.p50, p99Ms: bare.latency.p99, requests: bare.requests.total } } : {}),
      loadAverage: loadavg().map((x) => round(x, 2)),
      ...params,
    },
  };
}
