/**
 * Benchmarks of the prices pipeline (DESIGN.md §3.4): the PostgreSQL → MongoDB archive (bulk path vs
 * the seed system's one-upsert-per-document loop), the daily 7-day re-archive, and the PostgreSQL
 * upsert of quotes (one unnest statement per batch vs one statement per row).
 *
 * The baselines here are the seed systems' ways, written in this file on purpose: they are yardsticks,
 * not product code. Every archive is verified with `verifyWindow`; a fast wrong archive fails the bench.
 */
import type { Collection, Db } from 'mongodb';
import type { Sql } from 'postgres';
import {
  archiveWindow,
  ensureArchiveIndexes,
  PRICES_COLLECTION,
  verifyWindow,
  windowEnding,
  type ArchiveCounts,
  type ArchiveWindow,
  type PriceDocument,
  type VerifyReport,
} from '../../activities/prices/archive';
import { upsertQuotes, type QuoteRow } from '../../activities/prices/store';
import type { AssetClass } from '../../schema/prices/assets';
import type { QuoteDirection } from '../../schema/prices/tables';
import {
  baselineBudget,
  describeMongo,
  describePostgres,
  FERRETDB_HINT,
  latencySummary,
  measure,
  percentile,
  round,
  seededRandom,
  Stopwatches,
  throwawayMongo,
  throwawayPostgres,
  withDeadline,
  type BenchContext,
  type BenchResult,
  type Scenario,
} from './support';

/** The archive's own default (archiveWindow's `chunkSize`), recorded in params when `--chunk` is absent. */
const PRODUCT_CHUNK_SIZE = 5_000;
/** upsertQuotes' default batch. */
const UPSERT_BATCH = 10_000;
const ASSET_COUNT = 100;
/** The last day of the generated history; the daily scenario adds the days after it. */
const LAST_DAY = '2026-06-30';
const DAILY_REPEATS = 3;
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------------
// Synthetic but realistic quotes: 100 assets (60 fx, 25 crypto, 15 metals) × N days, prices as exact
// 8-place decimal strings following a random walk, with source, source timestamp, direction, and the
// source's own number and currency. Deterministic (seeded), so every run benches the same rows.

interface SyntheticAsset {
  code: string;
  assetClass: AssetClass;
  unit: string;
  sources: [string, string];
  direction: QuoteDirection;
  sourceCurrency: string;
  price: number;
}

function syntheticAssets(random: () => number): SyntheticAsset[] {
  const assets: SyntheticAsset[] = [];
  const logUniform = (lo: number, hi: number) => Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo)));
  for (let i = 0; i < ASSET_COUNT; i++) {
    if (i < 60) {
      const code = `F${String(i).padStart(2, '0')}`;
      assets.push({ code: `FX${code}`, assetClass: 'fx', unit: `1 ${code}`, sources: ['erapi', 'fawaz'], direction: i % 3 === 0 ? 'inverse' : 'cross', sourceCurrency: 'USD', price: logUniform(0.05, 500) });
    } else if (i < 85) {
      assets.push({ code: `CR${String(i - 60).padStart(2, '0')}`, assetClass: 'crypto', unit: '1 coin', sources: ['coingecko', 'fawaz'], direction: 'cross', sourceCurrency: 'USD', price: logUniform(0.5, 4_000_000) });
    } else {
      const troy = i % 2 === 0;
      assets.push({ code: `MT${String(i - 85).padStart(2, '0')}`, assetClass: 'metals', unit: troy ? '1 troy ounce' : '1 avoirdupois ounce', sources: ['metalpriceapi', 'fawaz'], direction: troy ? 'inverse' : 'direct', sourceCurrency: 'USD', price: logUniform(50, 150_000) });
    }
  }
  return assets;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** A v4-shaped UUID from the seeded PRNG (one run id per day, like the daily workflow makes). */
function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface Dataset {
  rows: QuoteRow[];
  days: string[];
  /** Rows for the day after the history, and the days after that (the daily scenario). */
  nextDay(offset: number): QuoteRow[];
}

function generateQuotes(count: number): Dataset {
  const random = seededRandom(20_261_123);
  const assets = syntheticAssets(random);
  const usdMru = 39.75;
  const dayCount = Math.max(1, Math.ceil(count / ASSET_COUNT));
  const firstDay = addDays(LAST_DAY, -(dayCount - 1));
  const dayRows = (day: string): QuoteRow[] => {
    const runId = seededUuid(random);
    return assets.map((a, i) => {
      // A daily random walk (±1.5 %, ±4 % for crypto), never under the pipeline's 0.01 MRU floor.
      const sigma = a.assetClass === 'crypto' ? 0.04 : 0.015;
      a.price = Math.max(0.02, a.price * (1 + (random() * 2 - 1) * sigma));
      const price = a.price.toFixed(8);
      const fallback = random() < 0.08;
      const sourceValue = a.direction === 'inverse' ? (usdMru / Number(price)).toFixed(12) : (Number(price) / usdMru).toFixed(12);
      const seconds = 60 + ((i * 37) % 600);
      const ts = new Date(Date.parse(`${day}T00:00:00Z`) + seconds * 1000).toISOString();
      return {
        assetCode: a.code,
        quoteDate: day,
        assetClass: a.assetClass,
        priceMru: price,
        unit: a.unit,
        source: fallback ? a.sources[1] : a.sources[0],
        sourceTimestamp: ts,
        direction: a.direction,
        sourceValue,
        sourceCurrency: a.sourceCurrency,
        runId,
      };
    });
  };
  const days: string[] = [];
  const rows: QuoteRow[] = [];
  for (let d = 0; d < dayCount; d++) {
    const day = addDays(firstDay, d);
    days.push(day);
    rows.push(...dayRows(day));
  }
  rows.length = count;
  // Rows are generated day after day, so the next days continue each asset's walk.
  return { rows, days, nextDay: (offset) => dayRows(addDays(LAST_DAY, offset)) };
}

// ---------------------------------------------------------------------------------------------------
// Profiling: the archive code gets a PostgreSQL handle and a MongoDB database that time every call,
// so a run says where its time went (PostgreSQL reads, MongoDB reads, bulk writes, JS in between).

function profiledSql(sql: Sql, watch: Stopwatches): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      const query = Reflect.apply(target, thisArg, args) as PromiseLike<unknown>;
      const strings = args[0];
      if (!Array.isArray(strings) || !('raw' in strings)) return query;
      const text = strings.join('?').replace(/\s+/g, ' ').trim();
      const label = text.startsWith('select asset_code, quote_date, asset_class') ? 'pg.readChunk' : text.includes('unnest') ? 'pg.keysStillThere' : 'pg.other';
      return watch.time(label, async () => await query);
    },
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function profiledCursor<T extends object>(cursor: T, watch: Stopwatches, label: string): T {
  const proxy: T = new Proxy(cursor, {
    get(target, prop) {
      if (prop === 'toArray') return () => watch.time(`${label}.chunkDocs`, () => (target as unknown as { toArray(): Promise<unknown[]> }).toArray());
      if (prop === 'batchSize')
        return (n: number) => {
          (target as unknown as { batchSize(n: number): unknown }).batchSize(n);
          return proxy;
        };
      if (prop === Symbol.asyncIterator) {
        return () => {
          const it = (target as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
          return {
            next: () => watch.time(`${label}.windowKeysForExtras`, () => it.next()),
            return: async (v?: unknown) => (it.return ? it.return(v) : { done: true, value: v }),
            [Symbol.asyncIterator]() {
              return this;
            },
          };
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return proxy;
}

function profiledDb(db: Db, watch: Stopwatches): Db {
  const wrapCollection = (coll: Collection<PriceDocument>) =>
    new Proxy(coll, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        const fn = (value as (...a: unknown[]) => unknown).bind(target);
        switch (prop) {
          case 'find':
            // archive.ts reads with find() twice: toArray() for a chunk's documents (docsForChunk),
            // and a cursor over the whole window's keys (deleteExtras).
            return (...a: unknown[]) => profiledCursor(fn(...a) as object, watch, 'mongo.find');
          case 'bulkWrite':
          case 'deleteMany':
          case 'countDocuments':
            return (...a: unknown[]) => watch.time(`mongo.${prop}`, async () => await (fn(...a) as Promise<unknown>));
          default:
            return fn;
        }
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'collection') return (name: string) => wrapCollection(target.collection<PriceDocument>(name));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

// ---------------------------------------------------------------------------------------------------

/** verifyWindow reads by chunks, each a full collection scan on FerretDB: big chunks keep the bench short. */
const VERIFY_CHUNK = 100_000;

async function verifyOrFail(sql: Sql, db: Db, w: ArchiveWindow, expected: number, what: string): Promise<{ report: VerifyReport; ms: number }> {
  const start = performance.now();
  const report = await withDeadline(verifyWindow(sql, db, w, { chunkSize: VERIFY_CHUNK }), 60 * MINUTE, `verifyWindow (${what})`, FERRETDB_HINT);
  const ms = performance.now() - start;
  if (!report.ok || report.pgCount !== expected || report.mongoCount !== expected) {
    throw new Error(
      `${what}: the archive of ${w.from}..${w.to} does not verify (expected ${expected} documents): ` +
        `pg ${report.pgCount}, mongo ${report.mongoCount}, missing ${report.missing}, extra ${report.extra}, mismatched ${report.mismatched}; ` +
        `samples: ${JSON.stringify(report.samples.slice(0, 5))}`,
    );
  }
  return { report, ms };
}

function expectCounts(what: string, got: ArchiveCounts, want: Partial<ArchiveCounts>): void {
  for (const [k, v] of Object.entries(want)) {
    if (got[k as keyof ArchiveCounts] !== v) throw new Error(`${what}: expected ${k} = ${v}, archiveWindow reported ${JSON.stringify(got)}`);
  }
}

interface PgQuote {
  asset_code: string;
  quote_date: string;
  asset_class: string;
  price_mru: string;
  unit: string;
  source: string;
  source_timestamp: Date;
  direction: string;
  source_value: string;
  source_currency: string;
}

/**
 * The seed system's archive, as the yardstick: rows read from PostgreSQL the way archiveWindow reads
 * them (same keyset query, same chunk size), then one `updateOne(…, {$set}, {upsert: true})` per row,
 * each awaited before the next. Stops early on the time budget, at a day boundary, so what was
 * written is whole days that verifyWindow can check.
 */
async function seedArchiveLoop(sql: Sql, db: Db, w: ArchiveWindow, total: number, chunkSize: number, ctx: BenchContext) {
  const coll = db.collection<PriceDocument>(PRICES_COLLECTION);
  const budget = baselineBudget(total, ctx.baselineSeconds, ctx.baselineLimitSeconds);
  const latencies: number[] = [];
  const watch = new Stopwatches();
  let done = 0;
  let lastDay: string | undefined;
  let after = { date: '0001-01-01', asset: '' };
  const archivedAt = new Date();
  outer: for (;;) {
    const chunk = await watch.time('pg.readChunk', () =>
      sql<PgQuote[]>`
        select asset_code, quote_date, asset_class, price_mru::text as price_mru, unit, source, source_timestamp, direction,
               source_value::text as source_value, source_currency
        from prices.quotes
        where quote_date between ${w.from} and ${w.to} and (quote_date, asset_code) > (${after.date}::date, ${after.asset})
        order by quote_date, asset_code
        limit ${chunkSize}`.then((r) => [...r]),
    );
    if (chunk.length === 0) break;
    for (const row of chunk) {
      // Stop only between days: `done` is then a whole number of days.
      if (row.quote_date !== lastDay && lastDay !== undefined && budget.shouldStop(done)) break outer;
      const doc: PriceDocument = {
        asset_code: row.asset_code,
        date: row.quote_date,
        asset_class: row.asset_class,
        price_mru: row.price_mru,
        price_mru_value: Number(row.price_mru),
        unit: row.unit,
        source: row.source,
        source_timestamp: row.source_timestamp,
        direction: row.direction,
        source_value: row.source_value,
        source_currency: row.source_currency,
        archived_at: archivedAt,
      };
      const t = performance.now();
      await withDeadline(coll.updateOne({ asset_code: row.asset_code, date: row.quote_date }, { $set: doc }, { upsert: true }), 5 * MINUTE, 'baseline updateOne', FERRETDB_HINT);
      const ms = performance.now() - t;
      watch.add('mongo.updateOne', ms);
      latencies.push(ms);
      done++;
      lastDay = row.quote_date;
      if (done % 500 === 0) ctx.log(`  baseline: ${done} documents, ${round(budget.elapsedMs() / 1000, 0)} s, last updateOne ${round(ms, 0)} ms`);
    }
    const last = chunk[chunk.length - 1]!;
    after = { date: last.quote_date, asset: last.asset_code };
    if (chunk.length < chunkSize) break;
  }
  return { done, lastDay, latencies, subset: budget.subset || done < total, watch };
}

const archiveScenario: Scenario = {
  produces: ['prices.archive', 'prices.archive.daily'],
  description: 'PostgreSQL → MongoDB archive: bulk path vs one updateOne upsert per document; then the daily 7-day re-archive',
  async run(ctx) {
    const results: Record<string, BenchResult> = {};
    const n = ctx.rows;
    const chunkSize = ctx.chunkSize ?? PRODUCT_CHUNK_SIZE;
    const pg = await throwawayPostgres(ctx, 'archive');
    const bulk = await throwawayMongo(ctx, 'archive');
    try {
      const data = generateQuotes(n);
      ctx.log(`  seeding ${n} quotes into ${pg.name} with upsertQuotes`);
      const seeded = await upsertQuotes(pg.sql, data.rows);
      if (seeded.inserted !== n) throw new Error(`seeding: expected ${n} inserted rows, got ${JSON.stringify(seeded)}`);
      await pg.sql`analyze prices.quotes`;
      const backend = await describeMongo(bulk.db);
      const postgres = await describePostgres(pg.sql);
      const window: ArchiveWindow = { from: data.days[0]!, to: data.days[data.days.length - 1]! };

      // 1. The bulk path on a fresh collection.
      await ensureArchiveIndexes(bulk.db);
      const watch = new Stopwatches();
      const chunkMs: number[] = [];
      let last = 0;
      ctx.log(`  bulk archive of ${window.from}..${window.to} (${n} rows, chunks of ${chunkSize}) into ${bulk.name}`);
      const run = await measure(async () => {
        last = performance.now();
        return withDeadline(
          archiveWindow(profiledSql(pg.sql, watch), profiledDb(bulk.db, watch), window, {
            chunkSize,
            onChunk: (_cursor, counts) => {
              const now = performance.now();
              chunkMs.push(now - last);
              last = now;
              if (chunkMs.length % 5 === 0) ctx.log(`  bulk: ${counts.pgRows} rows archived`);
            },
          }),
          120 * MINUTE,
          'archiveWindow (bulk)',
          FERRETDB_HINT,
        );
      });
      expectCounts('bulk archive', run.result, { pgRows: n, inserted: n, updated: 0, deleted: 0 });
      const bulkRate = n / (run.ms / 1000);
      ctx.log(`  bulk: ${round(run.ms / 1000, 1)} s (${round(bulkRate, 0)} docs/s); verifying`);
      const verified = await verifyOrFail(pg.sql, bulk.db, window, n, 'bulk archive');

      const archive: BenchResult = {
        value: round(bulkRate, 1),
        unit: 'docs/s',
        peakRssMb: run.peakRssMb,
        ...latencySummary(chunkMs),
        params: {
          rows: n,
          assets: ASSET_COUNT,
          days: data.days.length,
          window: `${window.from}..${window.to}`,
          chunkSize,
          latencyOf: `one chunk of ${chunkSize} rows (PostgreSQL read, MongoDB read, bulkWrite)`,
          wallMs: round(run.ms, 0),
          counts: run.result,
          breakdownMs: watch.report(run.ms),
          verifyMs: round(verified.ms, 0),
          mongo: backend,
          postgres,
          collectionAtStart: 'empty, with ensureArchiveIndexes',
        },
      };

      // 2. The seed system's way on a fresh collection with the same indexes, in its own database.
      if (ctx.wants('prices.archive') && !ctx.skipBaseline) {
        const seedDb = await throwawayMongo(ctx, 'archive_seed');
        try {
          await ensureArchiveIndexes(seedDb.db);
          ctx.log(`  baseline: one updateOne upsert per document into ${seedDb.name} (budget ${ctx.baselineSeconds} s if the whole set would take > ${ctx.baselineLimitSeconds} s)`);
          const base = await measure(() => seedArchiveLoop(pg.sql, seedDb.db, window, n, chunkSize, ctx));
          const { done, lastDay, latencies, subset } = base.result;
          if (done === 0 || !lastDay) throw new Error('baseline: no document written');
          const baseRate = done / (base.ms / 1000);
          ctx.log(`  baseline: ${done} documents in ${round(base.ms / 1000, 1)} s (${round(baseRate, 2)} docs/s); verifying`);
          const baseWindow = { from: window.from, to: lastDay };
          const baseVerified = await verifyOrFail(pg.sql, seedDb.db, baseWindow, done, 'baseline archive');
          const tenth = Math.max(1, Math.floor(latencies.length / 10));
          archive.baseline = round(baseRate, 2);
          archive.baselineName = 'one updateOne upsert per document (seed)';
          archive.ratio = round(bulkRate / baseRate, 1);
          Object.assign(archive.params, {
            baselineRows: done,
            baselineSubset: subset
              ? `measured on the first ${done} of ${n} rows (${baseWindow.from}..${baseWindow.to}, whole days): the whole set was projected past ${ctx.baselineLimitSeconds} s, so it ran for a ${ctx.baselineSeconds} s budget. Its rate comes from what was measured, not extrapolated; on FerretDB each updateOne scans the collection, so the rate on a small collection flatters the baseline`
              : false,
            baselineWallMs: round(base.ms, 0),
            baselineP50Ms: percentile(latencies, 50) === undefined ? undefined : round(percentile(latencies, 50)!, 2),
            baselineP99Ms: percentile(latencies, 99) === undefined ? undefined : round(percentile(latencies, 99)!, 2),
            baselineFirstTenthMeanMs: round(latencies.slice(0, tenth).reduce((a, b) => a + b, 0) / tenth, 2),
            baselineLastTenthMeanMs: round(latencies.slice(-tenth).reduce((a, b) => a + b, 0) / tenth, 2),
            baselineBreakdownMs: base.result.watch.report(base.ms),
            baselinePeakRssMb: base.peakRssMb,
            baselineVerifyMs: round(baseVerified.ms, 0),
          });
        } finally {
          await seedDb.drop();
        }
      }
      if (ctx.wants('prices.archive')) results['prices.archive'] = archive;

      // 3. The daily case on top of the full archive: one new day, the 7-day window re-archived.
      if (ctx.wants('prices.archive.daily')) {
        const walls: number[] = [];
        const peaks: number[] = [];
        const dailyWatch = new Stopwatches();
        let considered = 0;
        let lastCounts: ArchiveCounts | undefined;
        let dailyVerifyMs = 0;
        for (let r = 1; r <= DAILY_REPEATS; r++) {
          const dayRows = data.nextDay(r);
          const added = await upsertQuotes(pg.sql, dayRows);
          if (added.inserted !== dayRows.length) throw new Error(`daily: expected ${dayRows.length} new rows, got ${JSON.stringify(added)}`);
          const w = windowEnding(dayRows[0]!.quoteDate, 7);
          const [{ count } = { count: 0 }] = await pg.sql<{ count: number }[]>`select count(*)::int as count from prices.quotes where quote_date between ${w.from} and ${w.to}`;
          const day = await measure(() =>
            withDeadline(archiveWindow(profiledSql(pg.sql, dailyWatch), profiledDb(bulk.db, dailyWatch), w, { chunkSize }), 60 * MINUTE, 'archiveWindow (daily)', FERRETDB_HINT),
          );
          expectCounts('daily archive', day.result, { pgRows: count, inserted: dayRows.length, unchanged: count - dayRows.length, updated: 0, deleted: 0 });
          walls.push(day.ms);
          peaks.push(day.peakRssMb);
          considered = count;
          lastCounts = day.result;
          ctx.log(`  daily ${w.from}..${w.to}: ${count} rows considered, ${dayRows.length} new, ${round(day.ms / 1000, 2)} s; verifying`);
          dailyVerifyMs = (await verifyOrFail(pg.sql, bulk.db, w, count, 'daily archive')).ms;
        }
        // And once more with nothing new: the no-op run a retried activity makes.
        const lastWindow = windowEnding(addDays(LAST_DAY, DAILY_REPEATS), 7);
        const noop = await measure(() => withDeadline(archiveWindow(pg.sql, bulk.db, lastWindow, { chunkSize }), 60 * MINUTE, 'archiveWindow (daily, unchanged)', FERRETDB_HINT));
        expectCounts('daily archive, nothing new', noop.result, { inserted: 0, updated: 0, deleted: 0 });
        const median = percentile(walls, 50)!;
        results['prices.archive.daily'] = {
          value: round(considered / (median / 1000), 1),
          unit: 'docs considered/s',
          peakRssMb: Math.max(...peaks),
          ...latencySummary(walls),
          params: {
            window: '7 days',
            rowsConsidered: considered,
            newRowsPerRun: ASSET_COUNT,
            archiveDocsBefore: n,
            repeats: DAILY_REPEATS,
            latencyOf: 'one whole daily archiveWindow call',
            wallMs: round(median, 0),
            wallMsEach: walls.map((x) => round(x, 0)),
            counts: lastCounts,
            breakdownMsAllRepeats: dailyWatch.report(walls.reduce((a, b) => a + b, 0)),
            unchangedRerunWallMs: round(noop.ms, 0),
            verifyMs: round(dailyVerifyMs, 0),
            chunkSize,
            mongo: backend,
            postgres,
          },
        };
      }
    } finally {
      await bulk.drop();
      await pg.drop();
    }
    return results;
  },
};

/** The row-by-row way, as the yardstick for upsertQuotes: one statement per row, each awaited. */
async function rowByRowUpsert(sql: Sql, rows: QuoteRow[], ctx: BenchContext) {
  const budget = baselineBudget(rows.length, ctx.baselineSeconds, ctx.baselineLimitSeconds);
  const latencies: number[] = [];
  let done = 0;
  for (const r of rows) {
    if (budget.shouldStop(done)) break;
    const t = performance.now();
    await sql`
      insert into prices.quotes as q
        (asset_code, quote_date, asset_class, price_mru, unit, source, source_timestamp, direction, source_value, source_currency, run_id)
      values (${r.assetCode}, ${r.quoteDate}, ${r.assetClass}, ${r.priceMru}::numeric, ${r.unit}, ${r.source}, ${r.sourceTimestamp}::timestamptz,
              ${r.direction}, ${r.sourceValue}::numeric, ${r.sourceCurrency}, ${r.runId}::uuid)
      on conflict (asset_code, quote_date) do update set
        asset_class = excluded.asset_class, price_mru = excluded.price_mru, unit = excluded.unit, source = excluded.source,
        source_timestamp = excluded.source_timestamp, direction = excluded.direction, source_value = excluded.source_value,
        source_currency = excluded.source_currency, run_id = excluded.run_id, fetched_at = now(), updated_at = now()
      where (q.asset_class, q.price_mru, q.unit, q.source, q.source_timestamp, q.direction, q.source_value, q.source_currency)
        is distinct from (excluded.asset_class, excluded.price_mru, excluded.unit, excluded.source, excluded.source_timestamp,
                          excluded.direction, excluded.source_value, excluded.source_currency)`;
    latencies.push(performance.now() - t);
    done++;
  }
  return { done, latencies, subset: budget.subset || done < rows.length };
}

/** A digest of the stored rows up to a key, to prove two databases hold the same data. */
async function quotesDigest(sql: Sql, upTo: QuoteRow): Promise<{ count: number; md5: string }> {
  const [row] = await sql<{ count: number; md5: string }[]>`
    select count(*)::int as count,
           md5(string_agg(concat_ws('|', asset_code, quote_date, asset_class, price_mru, unit, source, source_timestamp,
                                    direction, source_value, source_currency, run_id), ',' order by quote_date, asset_code)) as md5
    from prices.quotes where (quote_date, asset_code) <= (${upTo.quoteDate}::date, ${upTo.assetCode})`;
  return row ?? { count: 0, md5: '' };
}

const upsertScenario: Scenario = {
  produces: ['prices.upsert', 'prices.upsert.unchanged'],
  description: 'upsertQuotes into PostgreSQL: fresh table (inserts) vs a statement per row; then the same rows again (no-op path)',
  async run(ctx) {
    const results: Record<string, BenchResult> = {};
    const n = ctx.rows;
    const data = generateQuotes(n);
    const batches = async (sql: Sql) => {
      const ms: number[] = [];
      const total = { inserted: 0, updated: 0, unchanged: 0 };
      for (let i = 0; i < data.rows.length; i += UPSERT_BATCH) {
        const t = performance.now();
        const c = await upsertQuotes(sql, data.rows.slice(i, i + UPSERT_BATCH));
        ms.push(performance.now() - t);
        total.inserted += c.inserted;
        total.updated += c.updated;
        total.unchanged += c.unchanged;
      }
      return { counts: total, batchMs: ms };
    };
    const pg = await throwawayPostgres(ctx, 'upsert');
    try {
      const postgres = await describePostgres(pg.sql);
      ctx.log(`  upsertQuotes: ${n} new rows into ${pg.name}`);
      const fresh = await measure(() => batches(pg.sql));
      if (fresh.result.counts.inserted !== n) throw new Error(`upsert: expected ${n} inserted, got ${JSON.stringify(fresh.result.counts)}`);
      const rate = n / (fresh.ms / 1000);
      const upsert: BenchResult = {
        value: round(rate, 1),
        unit: 'rows/s',
        peakRssMb: fresh.peakRssMb,
        ...latencySummary(fresh.result.batchMs),
        params: { rows: n, batchSize: UPSERT_BATCH, latencyOf: `one upsertQuotes batch of ${UPSERT_BATCH} rows`, wallMs: round(fresh.ms, 0), counts: fresh.result.counts, table: 'fresh (inserts)', postgres },
      };

      ctx.log(`  upsertQuotes: the same ${n} rows again`);
      const again = await measure(() => batches(pg.sql));
      if (again.result.counts.unchanged !== n) throw new Error(`upsert (unchanged): expected ${n} unchanged, got ${JSON.stringify(again.result.counts)}`);
      if (ctx.wants('prices.upsert.unchanged')) {
        results['prices.upsert.unchanged'] = {
          value: round(n / (again.ms / 1000), 1),
          unit: 'rows/s',
          peakRssMb: again.peakRssMb,
          ...latencySummary(again.result.batchMs),
          params: { rows: n, batchSize: UPSERT_BATCH, latencyOf: `one upsertQuotes batch of ${UPSERT_BATCH} rows`, wallMs: round(again.ms, 0), counts: again.result.counts, table: 'holding the same rows (no-op path)', postgres },
        };
      }

      if (ctx.wants('prices.upsert') && !ctx.skipBaseline) {
        const other = await throwawayPostgres(ctx, 'upsert_rowbyrow');
        try {
          ctx.log(`  baseline: one insert … on conflict statement per row into ${other.name}`);
          const base = await measure(() => rowByRowUpsert(other.sql, data.rows, ctx));
          const { done, latencies, subset } = base.result;
          const baseRate = done / (base.ms / 1000);
          // Same data in both databases, or the comparison means nothing.
          const a = await quotesDigest(pg.sql, data.rows[done - 1]!);
          const b = await quotesDigest(other.sql, data.rows[done - 1]!);
          if (a.count !== done || b.count !== done || a.md5 !== b.md5) throw new Error(`upsert baseline: the two databases differ (${JSON.stringify(a)} vs ${JSON.stringify(b)})`);
          upsert.baseline = round(baseRate, 1);
          upsert.baselineName = 'one insert … on conflict do update per row, awaited (seed)';
          upsert.ratio = round(rate / baseRate, 1);
          Object.assign(upsert.params, {
            baselineRows: done,
            baselineSubset: subset ? `measured on the first ${done} of ${n} rows: the whole set was projected past ${ctx.baselineLimitSeconds} s` : false,
            baselineWallMs: round(base.ms, 0),
            baselineP50Ms: round(percentile(latencies, 50) ?? 0, 3),
            baselineP99Ms: round(percentile(latencies, 99) ?? 0, 3),
            baselinePeakRssMb: base.peakRssMb,
            sameDataChecked: `md5 of ${done} rows`,
          });
        } finally {
          await other.drop();
        }
      }
      if (ctx.wants('prices.upsert')) results['prices.upsert'] = upsert;
    } finally {
      await pg.drop();
    }
    return results;
  },
};

export const pricesScenarios: Scenario[] = [upsertScenario, archiveScenario];
