/**
 * The sliding-window archive, PostgreSQL → MongoDB `prices` collection. Inside the window the archive
 * mirrors PostgreSQL: missing documents are inserted, changed ones replaced, extra ones removed, and
 * identical ones left alone, so a daily run rewrites only the one new day. Work goes by keyset chunks,
 * heartbeating its cursor, so a retried activity resumes where the last one stopped. Every read of the
 * archive is an equality on `date` (never a range), the one shape FerretDB 1.x's PostgreSQL backend
 * hands to PostgreSQL instead of scanning the whole collection itself.
 */
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import type { Sql } from 'postgres';
import { archiveVerifyMismatches } from '../engine/metrics';

export const PRICES_COLLECTION = 'prices';

/**
 * FerretDB 1.x wedges every client on one `update` command of many statements: on SQLite at 100 (99
 * pass), on its PostgreSQL backend already at 50 (measured: 50 `replaceOne`s hold 50 idle connections
 * and never answer). MongoDB does not mind smaller batches.
 */
const MAX_UPDATES_PER_COMMAND = 25;

/**
 * Rows compared per round. Each round reads the archive's documents of its dates, one date at a time
 * (see DATE_READS_IN_FLIGHT); a date a round boundary splits is read twice, so rounds stay large.
 */
const DEFAULT_CHUNK_SIZE = 50_000;

export interface PriceDocument {
  asset_code: string;
  date: string;
  asset_class: string;
  /** Exact decimal as text, as PostgreSQL has it; `price_mru_value` is its double for range queries. */
  price_mru: string;
  price_mru_value: number;
  unit: string;
  source: string;
  source_timestamp: Date;
  direction: string;
  source_value: string;
  source_currency: string;
  archived_at: Date;
  /** The archive run that last wrote the document, and the one that first did (kept by replacements). */
  archived_by?: string;
  first_archived_by?: string;
}

/** The fields that must agree between PostgreSQL and the archive. */
const COMPARED = ['asset_class', 'price_mru', 'unit', 'source', 'source_timestamp', 'direction', 'source_value', 'source_currency'] as const;

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

export interface ArchiveWindow {
  from: string;
  to: string;
}

export interface ArchiveCursor {
  date: string;
  asset: string;
}

export interface ArchiveCounts {
  pgRows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export interface VerifyReport {
  ok: boolean;
  pgCount: number;
  mongoCount: number;
  missing: number;
  extra: number;
  mismatched: number;
  /** A few examples, so a person can look at them: never the whole list. */
  samples: { asset: string; date: string; problem: string }[];
}

export function windowEnding(endDate: string, days: number): ArchiveWindow {
  const end = new Date(`${endDate}T00:00:00Z`);
  const start = new Date(end.getTime() - (days - 1) * 86_400_000);
  return { from: start.toISOString().slice(0, 10), to: endDate };
}

export async function ensureArchiveIndexes(db: Db): Promise<void> {
  const coll = db.collection<PriceDocument>(PRICES_COLLECTION);
  await coll.createIndex({ asset_code: 1, date: 1 }, { unique: true, name: 'asset_code_date_unique' });
  await coll.createIndex({ date: 1 }, { name: 'date' });
}

async function readChunk(sql: Sql, w: ArchiveWindow, after: ArchiveCursor | undefined, limit: number): Promise<PgQuote[]> {
  const afterDate = after?.date ?? '0001-01-01';
  const afterAsset = after?.asset ?? '';
  return sql<PgQuote[]>`
    select asset_code, quote_date, asset_class, price_mru::text as price_mru, unit, source, source_timestamp, direction,
           source_value::text as source_value, source_currency
    from prices.quotes
    where quote_date between ${w.from} and ${w.to} and (quote_date, asset_code) > (${afterDate}::date, ${afterAsset})
    order by quote_date, asset_code
    limit ${limit}`;
}

function toDocument(row: PgQuote, archivedAt: Date, by?: { archivedBy: string; firstArchivedBy?: string }): PriceDocument {
  return {
    ...(by ? { archived_by: by.archivedBy } : {}),
    ...(by?.firstArchivedBy ? { first_archived_by: by.firstArchivedBy } : {}),
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
}

/** The first field that differs, or undefined when the document matches the row. */
function difference(row: PgQuote, doc: Partial<PriceDocument>): string | undefined {
  const expected = toDocument(row, new Date(0));
  for (const field of COMPARED) {
    const a = expected[field];
    const b = doc[field];
    const same = a instanceof Date ? b instanceof Date && a.getTime() === b.getTime() : a === b;
    if (!same) return `${field}: archive has ${b instanceof Date ? b.toISOString() : JSON.stringify(b)}, PostgreSQL has ${a instanceof Date ? a.toISOString() : JSON.stringify(a)}`;
  }
  return undefined;
}

const key = (asset: string, date: string) => `${asset}\u0000${date}`;

/**
 * Dates read from the archive at once. FerretDB 1.x pushes an equality filter down to its PostgreSQL
 * backend (a SQL WHERE), but evaluates a range ($gte/$lte) itself over every document of the collection;
 * so the archive reads one `{ date }` at a time, a week's dates at once (measured on a 7-day window over
 * 100,000 documents: 4 in flight 0.63 s a call, 8 in flight 0.33 s). MongoDB answers both from the date index.
 */
const DATE_READS_IN_FLIGHT = 8;

/** Beyond this many dates without any PostgreSQL row, their documents are looked for with one range read. */
const MAX_EMPTY_DATE_READS = 62;

function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Whether the server hands an equality on `date` to its storage: FerretDB says so in explain's
 * `filterPushdown` (true on its PostgreSQL backend, false on SQLite, which then scans the whole
 * collection once per date: one range read per chunk is cheaper there); MongoDB has no such field and
 * answers from the date index.
 */
async function datesPushedDown(coll: Collection<PriceDocument>): Promise<boolean> {
  const plan = await coll.find({ date: '0001-01-01' }).explain();
  return (plan as { filterPushdown?: unknown }).filterPushdown !== false;
}

/** The archive's documents of the given dates (one read each, or one range read), in `projection`. */
async function readDates<T extends { date: string }>(
  coll: Collection<PriceDocument>,
  dates: readonly string[],
  perDate: boolean,
  projection: Record<string, 0 | 1>,
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(dates.map((d) => [d, []]));
  if (dates.length === 0) return out;
  const docs =
    perDate || dates.length === 1
      ? (await inParallel(dates, DATE_READS_IN_FLIGHT, (date) => coll.find({ date }, { projection }).toArray())).flat()
      : await coll.find({ date: { $gte: dates.reduce((a, b) => (a < b ? a : b)), $lte: dates.reduce((a, b) => (a > b ? a : b)) } }, { projection }).toArray();
  for (const d of docs as unknown as T[]) out.get(d.date)?.push(d);
  return out;
}

/** The archive's documents of each date, by date (without `_id` and `archived_at`, which are never compared). */
function docsOnDates(coll: Collection<PriceDocument>, dates: readonly string[], perDate: boolean): Promise<Map<string, PriceDocument[]>> {
  return readDates<PriceDocument>(coll, dates, perDate, { _id: 0, archived_at: 0 });
}

/** The dates of the window that have no row in PostgreSQL: any document on them is extra. */
async function datesWithoutRows(sql: Sql, w: ArchiveWindow): Promise<string[]> {
  const rows = await sql<{ d: string }[]>`select distinct quote_date::text as d from prices.quotes where quote_date between ${w.from} and ${w.to}`;
  const withRows = new Set(rows.map((r) => r.d));
  return datesBetween(w.from, w.to).filter((d) => !withRows.has(d));
}

/** The asset codes of the archive's documents on the given dates (many dates: one range read). */
async function assetsOnDates(coll: Collection<PriceDocument>, dates: readonly string[], perDate: boolean): Promise<Map<string, string[]>> {
  const docs = await readDates<{ asset_code: string; date: string }>(coll, dates, perDate && dates.length <= MAX_EMPTY_DATE_READS, { _id: 0, asset_code: 1, date: 1 });
  return new Map([...docs].map(([d, ofDate]) => [d, ofDate.map((x) => x.asset_code)]));
}

/** Removes a date's documents whose asset is not among PostgreSQL's rows of that date; how many went. */
async function deleteExtrasOfDate(coll: Collection<PriceDocument>, date: string, archived: readonly string[], inPostgres: ReadonlySet<string>): Promise<number> {
  const gone = archived.filter((a) => !inPostgres.has(a));
  if (gone.length === 0) return 0;
  // Equality on the date keeps FerretDB's delete to that date's documents (see DATE_READS_IN_FLIGHT).
  const res = await coll.deleteMany({ date, asset_code: { $in: gone } });
  return res.deletedCount;
}

export async function archiveWindow(
  sql: Sql,
  db: Db,
  w: ArchiveWindow,
  opts: {
    chunkSize?: number;
    resumeFrom?: ArchiveCursor;
    counts?: ArchiveCounts;
    onChunk?: (cursor: ArchiveCursor, counts: ArchiveCounts) => void;
    /** The archive run (same across its retries): documents say which run wrote them, and the counts come from that. */
    runKey?: string;
  } = {},
): Promise<ArchiveCounts> {
  const coll = db.collection<PriceDocument>(PRICES_COLLECTION);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const counts: ArchiveCounts = opts.counts ?? { pgRows: 0, inserted: 0, updated: 0, unchanged: 0, deleted: 0 };
  let cursor = opts.resumeFrom;
  const archivedAt = new Date();
  const perDate = await datesPushedDown(coll);
  // A chunk can end inside a date: that date's extras are settled by the next chunk, which needs the
  // assets the earlier one saw (on a resumed attempt, asked of PostgreSQL again).
  let open: { date: string; assets: Set<string> } | undefined;
  if (cursor) {
    const seen = await sql<{ asset_code: string }[]>`select asset_code from prices.quotes where quote_date = ${cursor.date} and asset_code <= ${cursor.asset}`;
    open = { date: cursor.date, assets: new Set(seen.map((r) => r.asset_code)) };
  }
  for (;;) {
    const chunk = await readChunk(sql, w, cursor, chunkSize);
    const last = chunk.length < chunkSize;
    if (chunk.length === 0) {
      if (open) {
        const docs = (await docsOnDates(coll, [open.date], perDate)).get(open.date) ?? [];
        counts.deleted += await deleteExtrasOfDate(coll, open.date, docs.map((d) => d.asset_code), open.assets);
      }
      break;
    }
    const byDate = new Map<string, PgQuote[]>();
    for (const row of chunk) byDate.set(row.quote_date, [...(byDate.get(row.quote_date) ?? []), row]);
    const docsByDate = await docsOnDates(coll, [...byDate.keys()], perDate);
    const existing = new Map<string, PriceDocument>();
    for (const docs of docsByDate.values()) for (const d of docs) existing.set(key(d.asset_code, d.date), d);
    const inserts: PriceDocument[] = [];
    const replaces: AnyBulkWriteOperation<PriceDocument>[] = [];
    for (const row of chunk) {
      const doc = existing.get(key(row.asset_code, row.quote_date));
      if (!doc) {
        inserts.push(toDocument(row, archivedAt, opts.runKey ? { archivedBy: opts.runKey, firstArchivedBy: opts.runKey } : undefined));
        counts.inserted++;
      } else if (difference(row, doc) !== undefined) {
        const by = opts.runKey ? { archivedBy: opts.runKey, ...(doc.first_archived_by ? { firstArchivedBy: doc.first_archived_by } : {}) } : undefined;
        replaces.push({ replaceOne: { filter: { asset_code: row.asset_code, date: row.quote_date }, replacement: toDocument(row, archivedAt, by), upsert: true } });
        // A document this run first wrote (an earlier attempt, killed before it reported) counts as inserted.
        if (opts.runKey && doc.first_archived_by === opts.runKey) counts.inserted++;
        else counts.updated++;
      } else if (opts.runKey && doc.first_archived_by === opts.runKey) {
        // Written by an earlier attempt of this run: the marks say what it did, as an uninterrupted run counts it.
        counts.inserted++;
      } else if (opts.runKey && doc.archived_by === opts.runKey) {
        counts.updated++;
      } else {
        counts.unchanged++;
      }
    }
    if (inserts.length > 0) await coll.insertMany(inserts, { ordered: false });
    for (let i = 0; i < replaces.length; i += MAX_UPDATES_PER_COMMAND) {
      await coll.bulkWrite(replaces.slice(i, i + MAX_UPDATES_PER_COMMAND), { ordered: false });
    }
    // Extras of each date this chunk completes (all of them but a last date the next chunk continues).
    const dates = [...byDate.keys()];
    for (const [i, date] of dates.entries()) {
      const assets = new Set(byDate.get(date)!.map((r) => r.asset_code));
      if (open?.date === date) for (const a of open.assets) assets.add(a);
      if (i === dates.length - 1 && !last) {
        open = { date, assets };
        continue;
      }
      counts.deleted += await deleteExtrasOfDate(coll, date, docsByDate.get(date)!.map((d) => d.asset_code), assets);
    }
    if (last) open = undefined;
    counts.pgRows += chunk.length;
    const lastRow = chunk[chunk.length - 1]!;
    cursor = { date: lastRow.quote_date, asset: lastRow.asset_code };
    opts.onChunk?.(cursor, counts);
    if (last) break;
  }
  // Dates of the window PostgreSQL has no row for: whatever the archive holds there is extra.
  const empty = await datesWithoutRows(sql, w);
  for (const [date, assets] of await assetsOnDates(coll, empty, perDate)) {
    if (assets.length === 0) continue;
    const res = await coll.deleteMany({ date });
    counts.deleted += res.deletedCount;
  }
  return counts;
}

export async function verifyWindow(sql: Sql, db: Db, w: ArchiveWindow, opts: { chunkSize?: number; onChunk?: () => void } = {}): Promise<VerifyReport> {
  const coll = db.collection<PriceDocument>(PRICES_COLLECTION);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const report: VerifyReport = { ok: true, pgCount: 0, mongoCount: 0, missing: 0, extra: 0, mismatched: 0, samples: [] };
  const note = (asset: string, date: string, problem: string) => {
    if (report.samples.length < 20) report.samples.push({ asset, date, problem });
  };
  let cursor: ArchiveCursor | undefined;
  let matched = 0;
  const perDate = await datesPushedDown(coll);
  // A date a chunk boundary splits is read twice: its documents are counted once.
  const counted = new Set<string>();
  for (;;) {
    const chunk = await readChunk(sql, w, cursor, chunkSize);
    if (chunk.length === 0) break;
    const docsByDate = await docsOnDates(coll, [...new Set(chunk.map((r) => r.quote_date))], perDate);
    const docs = new Map<string, PriceDocument>();
    for (const [date, ofDate] of docsByDate) {
      for (const d of ofDate) docs.set(key(d.asset_code, d.date), d);
      if (!counted.has(date)) report.mongoCount += ofDate.length;
      counted.add(date);
    }
    for (const row of chunk) {
      const doc = docs.get(key(row.asset_code, row.quote_date));
      if (!doc) {
        report.missing++;
        note(row.asset_code, row.quote_date, 'missing from the archive');
        continue;
      }
      matched++;
      const diff = difference(row, doc);
      if (diff) {
        report.mismatched++;
        note(row.asset_code, row.quote_date, diff);
      }
    }
    report.pgCount += chunk.length;
    const last = chunk[chunk.length - 1]!;
    cursor = { date: last.quote_date, asset: last.asset_code };
    opts.onChunk?.();
    if (chunk.length < chunkSize) break;
  }
  for (const assets of (await assetsOnDates(coll, await datesWithoutRows(sql, w), perDate)).values()) report.mongoCount += assets.length;
  report.extra = report.mongoCount - matched;
  if (report.extra > 0) note('*', `${w.from}..${w.to}`, `${report.extra} document(s) in the archive have no row in PostgreSQL`);
  report.ok = report.missing === 0 && report.extra === 0 && report.mismatched === 0;
  const differing = report.missing + report.extra + report.mismatched;
  if (differing > 0) archiveVerifyMismatches().add(differing, { collection: PRICES_COLLECTION });
  return report;
}
