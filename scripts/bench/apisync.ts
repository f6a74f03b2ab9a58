/**
 * Benchmarks of the SaaS API sync (DESIGN.md §3.3):
 * - `apisync.load`: rows/s of Pennylane customer invoices (API records as the replica serves them) loaded
 *   into PostgreSQL by the product's full-sync loader (shape, COPY into the shadow table by parallel
 *   writers with the cursor committed after each batch in order, key built, swap), against one `insert … on conflict do update` statement per row (the seed's way)
 *   in the same run;
 * - `apisync.rate`: during a long full extraction of every stream against the replica's real 25 req / 5 s
 *   limit, the achieved request rate as a fraction of the allowed one (target ≥ 0.95), with no 429.
 */
import type { Sql } from 'postgres';
import { syncStream } from '../../activities/apisync/sync';
import { BatchWriter, copyRows, copyUpsert, ensureColumns, ensureTable, qualified, ShadowLoad, tableColumns } from '../../activities/apisync/loader';
import { ident, RowShaper } from '../../activities/apisync/shape';
import { pennylane } from '../../activities/apisync/sources/pennylane';
import { loadApisyncConfig } from '../../schema/config';
import { DEFAULT_TOKEN, RESOURCES, startPennylaneReplica } from '../../tests/replicas/pennylane/index';
import { ResourceStore } from '../../tests/replicas/pennylane/model';
import { baselineBudget, describePostgres, latencySummary, measure, round, throwawayPostgres, type BenchResult, type Scenario } from './support';

const LOAD_BATCH = 5_000;
const BENCH_RUN = '00000000-0000-4000-8000-0000000000b1';
/** Distinct records generated once; the rows loaded are copies of them with their own ids. */
const POOL = 20_000;

function invoicePool(): Record<string, unknown>[] {
  const store = new ResourceStore('customer_invoices', POOL);
  const ctx = { baseUrl: 'https://app.pennylane.com/api/external/v2', seedEpochMs: Date.parse('2026-11-23T00:00:00Z') };
  const sizes = Object.fromEntries(RESOURCES.map((r) => [r, 10_000])) as Record<(typeof RESOURCES)[number], number>;
  // Parsed from JSON, as the HTTP client hands them over.
  return JSON.parse(JSON.stringify(store.liveIds().map((id) => store.record(ctx, id, sizes)!))) as Record<string, unknown>[];
}

/**
 * The next `size` records: pool records given their own ids in place. The product gets its records from
 * the HTTP client already parsed; copying them here would measure the bench, not the loader. (A batch is
 * shaped before the next one reuses the same records.)
 */
function batchOf(pool: Record<string, unknown>[], start: number, size: number): Record<string, unknown>[] {
  const out = new Array<Record<string, unknown>>(size);
  for (let i = 0; i < size; i++) {
    const record = pool[(start + i) % pool.length]!;
    record.id = 400_000_001 + start + i;
    out[i] = record;
  }
  return out;
}

const stream = pennylane.streams.find((s) => s.name === 'customer_invoices')!;

async function prepareTable(sql: Sql, table: string, sample: Record<string, unknown>[]): Promise<RowShaper> {
  const shaper = new RowShaper(stream);
  shaper.accept(shaper.discover(sample));
  await ensureTable(sql, table, shaper.primaryKeyColumn, shaper.columns);
  await ensureColumns(sql, table, await tableColumns(sql, table), shaper.columns, { source: 'pennylane', stream: stream.name, runId: null });
  return shaper;
}

/** Rows of the database-share measurement (shaped beforehand, so held in memory as COPY text). */
const CEILING_ROWS = 200_000;

/** Rows/s PostgreSQL takes in through the loader's COPY path when the shaping is already done. */
async function databaseShare(sql: Sql, table: string, shaper: RowShaper, pool: Record<string, unknown>[], rows: number, writers: number): Promise<number> {
  const batches = [];
  for (let i = 0; i < rows; i += LOAD_BATCH) batches.push(shaper.shape(batchOf(pool, i, Math.min(LOAD_BATCH, rows - i))));
  const target = `${table}_ceiling`;
  await sql.unsafe(`create table ${qualified(target)} (like ${qualified(table)} including defaults)`);
  try {
    const t = performance.now();
    const writer = new BatchWriter(sql, writers);
    for (const batch of batches) await writer.submit({ load: (tx) => copyRows(tx, target, batch), seal: async () => {} });
    await writer.drain();
    await sql.unsafe(`alter table ${qualified(target)} add primary key (id)`);
    return round(rows / ((performance.now() - t) / 1000), 1);
  } finally {
    await sql.unsafe(`drop table ${qualified(target)}`);
  }
}

/** Records changed in the incremental measurement. */
const UPSERT_ROWS = 200_000;

/**
 * An incremental sync's write: records already in the table come back changed, and go through COPY into
 * staging + `insert … on conflict do update`, one writer, the cursor committed with each batch.
 */
async function incrementalUpsert(sql: Sql, table: string, shaper: RowShaper, pool: Record<string, unknown>[], rows: number): Promise<BenchResult> {
  const writer = new BatchWriter(sql, 1);
  const batchMs: number[] = [];
  let written = 0;
  const run = await measure(async () => {
    for (let i = 0; i < rows; i += LOAD_BATCH) {
      const t = performance.now();
      const items = batchOf(pool, i, Math.min(LOAD_BATCH, rows - i));
      for (const item of items) item.updated_at = '2026-11-23T12:00:00.000001Z';
      const batch = shaper.shape(items);
      await writer.submit({
        load: (tx) => copyUpsert(tx, table, 'id', batch, BENCH_RUN),
        seal: async (tx, done) => {
          written += done.written;
          await tx`update apisync.sync_state set pending = ${JSON.stringify({ position: String(i) })}::jsonb, updated_at = now() where source = 'bench' and stream = 'customer_invoices'`;
        },
      });
      batchMs.push(performance.now() - t);
    }
    await writer.drain();
  });
  if (written !== rows) throw new Error(`apisync.upsert: expected ${rows} rows written, got ${written}`);
  const [check] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${qualified(table)} where updated_at = '2026-11-23T12:00:00.000001Z'`);
  if (check?.n !== rows) throw new Error(`apisync.upsert: ${check?.n} rows carry the change, expected ${rows}`);
  return {
    value: round(rows / (run.ms / 1000), 1),
    unit: 'rows/s',
    peakRssMb: run.peakRssMb,
    ...latencySummary(batchMs),
    params: {
      rows,
      tableRows: 'the table the full load left (every changed record already there)',
      batchSize: LOAD_BATCH,
      writers: 1,
      load: 'an incremental sync: COPY into a staging table, one insert … on conflict do update per batch, cursor committed with it',
      latencyOf: `one batch of ${LOAD_BATCH}: shaped, then handed to the writer`,
      wallMs: round(run.ms, 0),
    },
  };
}

/** The seed's way: every row its own `insert … on conflict do update`, awaited. */
async function rowByRow(sql: Sql, shaper: RowShaper, table: string, pool: Record<string, unknown>[], total: number, budget: ReturnType<typeof baselineBudget>) {
  const cols = shaper.columns;
  const names = cols.map((c) => ident(c.column));
  const statement =
    `insert into ${qualified(table)} (${names.join(', ')}, _run_id, _loaded_at) values (${cols.map((c, i) => `$${i + 1}::${c.type}`).join(', ')}, null, now()) ` +
    `on conflict (id) do update set ${names.filter((n) => n !== '"id"').map((n) => `${n} = excluded.${n}`).join(', ')}, _loaded_at = excluded._loaded_at`;
  let done = 0;
  const latencies: number[] = [];
  while (done < total && !budget.shouldStop(done)) {
    const items = batchOf(pool, done, Math.min(500, total - done));
    for (const item of items) {
      // The same shaping as the product (trim, references, types), one row at a time.
      const line = shaper.shape([item]).text.slice(0, -1).split('\t');
      const values = line.map((v) => (v === '\\N' ? null : v.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r').replace(/\\\\/g, '\\')));
      const t = performance.now();
      await sql.unsafe(statement, values);
      latencies.push(performance.now() - t);
      done++;
    }
  }
  return { done, latencies, subset: budget.subset };
}

async function digest(sql: Sql, table: string, upTo: number) {
  const [row] = await sql.unsafe<{ n: string; md5: string }[]>(
    `select count(*)::text as n, md5(string_agg(id::text || '|' || amount::text || '|' || coalesce(label, '') || '|' || coalesce(customer_id::text, ''), ',' order by id)) as md5 from ${qualified(table)} where id <= ${400_000_000 + upTo}`,
  );
  return { count: Number(row?.n ?? 0), md5: row?.md5 ?? '' };
}

const loadScenario: Scenario = {
  produces: ['apisync.load', 'apisync.upsert'],
  description: 'Pennylane customer invoices into PostgreSQL as a full sync loads them (shape, parallel COPY into the shadow table, key, swap), vs one upsert statement per row',
  async run(ctx) {
    const n = ctx.rows;
    const pool = invoicePool();
    const table = 'pennylane_customer_invoices';
    const pg = await throwawayPostgres(ctx, 'apisync_load');
    try {
      const postgres = await describePostgres(pg.sql);
      const shaper = await prepareTable(pg.sql, table, pool);
      ctx.log(`  loader: ${n} customer invoices (${shaper.columns.length} columns) into ${pg.name}, ${LOAD_BATCH} per batch`);
      const batchMs: number[] = [];
      let loaded = 0;
      const writers = loadApisyncConfig({}).loadWriters;
      const run = await measure(async () => {
        // As a full sync does it: a shadow table without its key, batches COPY'd in by several writers
        // (each committing the cursor after it, in order), the key built at the end, then the swap.
        const load = await ShadowLoad.create(pg.sql, table, shaper.primaryKeyColumn, BENCH_RUN);
        const writer = new BatchWriter(pg.sql, writers);
        for (let i = 0; i < n; i += LOAD_BATCH) {
          const items = batchOf(pool, i, Math.min(LOAD_BATCH, n - i));
          const t = performance.now();
          const batch = shaper.shape(items);
          const repeated = load.repeated(batch);
          await writer.submit({
            exclusive: repeated.length > 0,
            load: (tx) => load.write(tx, batch, repeated),
            seal: async (tx, done) => {
              loaded += done.loaded;
              await tx`insert into apisync.sync_state (source, stream, pending) values ('bench', 'customer_invoices', ${JSON.stringify({ position: String(i) })}::jsonb)
                       on conflict (source, stream) do update set pending = excluded.pending, updated_at = now()`;
            },
          });
          batchMs.push(performance.now() - t);
        }
        await writer.drain();
        await load.buildKey();
        await pg.sql.begin((tx) => load.swap(tx));
      });
      if (loaded !== n) throw new Error(`apisync.load: expected ${n} rows loaded, got ${loaded}`);
      const ceiling = await databaseShare(pg.sql, table, shaper, pool, Math.min(n, CEILING_ROWS), writers);
      const upsert = await incrementalUpsert(pg.sql, table, shaper, pool, Math.min(n, UPSERT_ROWS));
      const result: BenchResult = {
        value: round(n / (run.ms / 1000), 1),
        unit: 'rows/s',
        peakRssMb: run.peakRssMb,
        ...latencySummary(batchMs),
        params: {
          rows: n,
          batchSize: LOAD_BATCH,
          columns: shaper.columns.length,
          stream: 'pennylane customer_invoices (replica records: decimal-string amounts, references, nested objects, untrimmed text)',
          writers,
          latencyOf: `one batch of ${LOAD_BATCH}: shaped, then handed to a writer (waiting for one to be free)`,
          wallMs: round(run.ms, 0),
          load: 'a full sync: COPY into the shadow table by parallel writers, cursor committed with each batch in order, key built, swapped in place of the live table',
          records: 'a pool of 20,000 replica records parsed from JSON, each batch taking the next ones with their ids rewritten in place (no copy in the wall time)',
          postgres,
          databaseShare: {
            rowsPerSecond: ceiling,
            rows: Math.min(n, CEILING_ROWS),
            what: 'the same rows shaped beforehand, then only COPY (same writers) + key: what PostgreSQL alone takes in on this machine, the ceiling of the loader',
          },
        },
      };
      if (!ctx.skipBaseline) {
        const other = await throwawayPostgres(ctx, 'apisync_load_rowbyrow');
        try {
          const otherShaper = await prepareTable(other.sql, table, pool);
          ctx.log(`  baseline: one insert … on conflict statement per row into ${other.name}`);
          const budget = baselineBudget(n, ctx.baselineSeconds, ctx.baselineLimitSeconds);
          const base = await measure(() => rowByRow(other.sql, otherShaper, table, pool, n, budget));
          const { done, latencies, subset } = base.result;
          const a = await digest(pg.sql, table, done);
          const b = await digest(other.sql, table, done);
          if (a.count !== done || b.count !== done || a.md5 !== b.md5) throw new Error(`apisync.load baseline: the two databases differ (${JSON.stringify(a)} vs ${JSON.stringify(b)})`);
          result.baseline = round(done / (base.ms / 1000), 1);
          result.baselineName = 'one insert … on conflict do update per row, awaited (the seed ETL\'s per-row upsert)';
          result.ratio = round(result.value / result.baseline, 1);
          result.params.baselineRows = done;
          result.params.baselineLatency = latencySummary(latencies);
          if (subset) result.params.baselineSubset = `the first ${done} of ${n} rows (stopped after ${round(base.ms / 1000, 0)} s; its rate was steady)`;
        } finally {
          await other.drop();
        }
      }
      if (result.baseline) {
        upsert.baseline = result.baseline;
        upsert.baselineName = result.baselineName;
        upsert.ratio = round(upsert.value / result.baseline, 1);
      }
      return { 'apisync.load': result, 'apisync.upsert': upsert };
    } finally {
      await pg.drop();
    }
  },
};

/** Requests the rate scenario aims for: at 5 req/s, about two minutes. */
const RATE_REQUESTS = 600;

const rateScenario: Scenario = {
  produces: ['apisync.rate'],
  description: 'a full extraction of every Pennylane stream against the replica (25 req / 5 s): achieved request rate / allowed rate',
  async run(ctx) {
    const perStream = Math.ceil((RATE_REQUESTS * 100) / RESOURCES.length);
    const replica = await startPennylaneReplica({ sizes: Object.fromEntries(RESOURCES.map((r) => [r, perStream])) });
    const pg = await throwawayPostgres(ctx, 'apisync_rate');
    try {
      const config = loadApisyncConfig({ PENNYLANE_API_URL: replica.baseUrl, PENNYLANE_API_TOKEN: DEFAULT_TOKEN });
      const limit = config.sources.pennylane.rateLimit;
      ctx.log(`  ${RESOURCES.length} streams × ${perStream} records at ${limit.requests} req / ${limit.windowMs / 1000} s, all streams at once`);
      let rejected = 0;
      const deps = { sql: pg.sql, config, reject: async (_: string, __: string, r: unknown[]) => void (rejected += r.length) };
      const run = await measure(() =>
        Promise.all(RESOURCES.map((stream, i) => syncStream(deps, { source: 'pennylane', stream, mode: 'full', runId: `00000000-0000-4000-8000-00000000000${i}` }))),
      );
      const log = replica.requests().filter((r) => r.token === DEFAULT_TOKEN);
      const throttled = log.filter((r) => r.status === 429).length;
      const first = log[0]!.at;
      const last = log[log.length - 1]!.at;
      const allowedPerSecond = limit.requests / (limit.windowMs / 1000);
      // n requests span n - 1 intervals.
      const achieved = (log.length - 1) / ((last - first) / 1000);
      const rows = run.result.reduce((s, r) => s + r.counts.loaded, 0);
      if (rows !== perStream * RESOURCES.length) throw new Error(`apisync.rate: expected ${perStream * RESOURCES.length} rows, loaded ${rows}`);
      const gaps = log.slice(1).map((r, i) => r.at - log[i]!.at);
      return {
        'apisync.rate': {
          value: round(achieved / allowedPerSecond, 3),
          unit: 'fraction of the allowed request rate',
          peakRssMb: run.peakRssMb,
          ...latencySummary(gaps),
          params: {
            requests: log.length,
            seconds: round((last - first) / 1000, 1),
            achievedPerSecond: round(achieved, 3),
            allowedPerSecond,
            rateLimit: `${limit.requests} requests / ${limit.windowMs} ms per token, margin ${limit.marginMs} ms`,
            maxInAnyWindow: replica.maxInWindow(DEFAULT_TOKEN, limit.windowMs),
            status429: throttled,
            rowsLoaded: rows,
            rowsPerSecond: round(rows / (run.ms / 1000), 1),
            streams: RESOURCES.length,
            pageSize: config.pageSize,
            rejected,
            latencyOf: 'the gap between two consecutive requests at the replica',
            wallMs: round(run.ms, 0),
          },
        },
      };
    } finally {
      await replica.close();
      await pg.drop();
    }
  },
};

export const apisyncScenarios: Scenario[] = [loadScenario, rateScenario];
