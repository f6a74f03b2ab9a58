/**
 * The sliding-window archive, PostgreSQL → MongoDB `prices` collection. Inside the window the archive
 * mirrors PostgreSQL: missing documents are inserted, changed ones replaced, extra ones removed, and
 * identical ones left alone, so a daily run rewrites only the one new day. Work goes by keyset chunks,
 * heartbeating its cursor, so a retried activity resumes where the last one stopped.
 */
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import type { Sql } from 'postgres';
import { archiveVerifyMismatches } from '../engine/metrics';

export const PRICES_COLLECTION = 'prices';

const MAX_UPDATES_PER_COMMAND = 50;

/**
 * Rows compared per round. Large on purpose: each round reads the archive over its dates, and
 * FerretDB on SQLite answers a date range by scanning the collection, so fewer rounds is faster.
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


async function docsForChunk(coll: Collection<PriceDocument>, chunk: PgQuote[]): Promise<Map<string, PriceDocument>> {
  const first = chunk[0]!.quote_date;
  const last = chunk[chunk.length - 1]!.quote_date;
  const docs = await coll.find({ date: { $gte: first, $lte: last } }, { projection: { _id: 0, archived_at: 0 } }).toArray();
  return new Map(docs.map((d) => [key(d.asset_code, d.date), d as PriceDocument]));
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
  for (;;) {
    const chunk = await readChunk(sql, w, cursor, chunkSize);
    if (chunk.length === 0) break;
    const existing = await docsForChunk(coll, chunk);
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
        counts.updated++;
      } else {
        counts.unchanged++;
      }
    }
    if (inserts.length > 0) await coll.insertMany(inserts, { ordered: false });
    // FerretDB 1.x (SQLite) deadlocks every client on one `update` command of 100 statements or
    // more (measured: 99 pass, 100 hang); MongoDB does not mind smaller batches either.
    for (let i = 0; i < replaces.length; i += MAX_UPDATES_PER_COMMAND) {
      await coll.bulkWrite(replaces.slice(i, i + MAX_UPDATES_PER_COMMAND), { ordered: false });
    }
    counts.pgRows += chunk.length;
    const last = chunk[chunk.length - 1]!;
    cursor = { date: last.quote_date, asset: last.asset_code };
    opts.onChunk?.(cursor, counts);
    if (chunk.length < chunkSize) break;
  }
  counts.deleted += await deleteExtras(sql, coll, w, chunkSize);
  if (opts.runKey) Object.assign(counts, await recordedCounts(sql, coll, w, opts.runKey));
  return counts;
}

/**
 * The window's documents as the archive recorded them for a run: an attempt killed after writing a chunk
 * and before heartbeating it leaves documents its retry finds identical ("unchanged"); their marks say
 * which run wrote them. (Deletions leave nothing to read back: they are the attempts' own count.)
 */
async function recordedCounts(sql: Sql, coll: Collection<PriceDocument>, w: ArchiveWindow, runKey: string): Promise<Pick<ArchiveCounts, 'pgRows' | 'inserted' | 'updated' | 'unchanged'>> {
  const inWindow = { date: { $gte: w.from, $lte: w.to } };
  const [[pg], inserted, updated] = await Promise.all([
    sql<{ n: number }[]>`select count(*)::int as n from prices.quotes where quote_date between ${w.from} and ${w.to}`,
    coll.countDocuments({ ...inWindow, first_archived_by: runKey }),
    coll.countDocuments({ ...inWindow, archived_by: runKey, first_archived_by: { $ne: runKey } }),
  ]);
  const pgRows = pg!.n;
  return { pgRows, inserted, updated, unchanged: Math.max(0, pgRows - inserted - updated) };
}

/** Documents inside the window whose row no longer exists in PostgreSQL. */
async function deleteExtras(sql: Sql, coll: Collection<PriceDocument>, w: ArchiveWindow, chunkSize: number): Promise<number> {
  let deleted = 0;
  const keys = coll.find({ date: { $gte: w.from, $lte: w.to } }, { projection: { _id: 0, asset_code: 1, date: 1 } }).batchSize(chunkSize);
  let batch: { asset_code: string; date: string }[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const present = await sql<{ asset_code: string; quote_date: string }[]>`
      select asset_code, quote_date from prices.quotes
      where (asset_code, quote_date) in (select asset_code, date from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as k(asset_code text, date date))`;
    const kept = new Set(present.map((p) => key(p.asset_code, p.quote_date)));
    const gone = batch.filter((b) => !kept.has(key(b.asset_code, b.date)));
    if (gone.length > 0) {
      const res = await coll.deleteMany({ $or: gone.map((g) => ({ asset_code: g.asset_code, date: g.date })) });
      deleted += res.deletedCount;
    }
    batch = [];
  };
  for await (const doc of keys) {
    batch.push(doc as { asset_code: string; date: string });
    if (batch.length >= chunkSize) await flush();
  }
  await flush();
  return deleted;
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
  for (;;) {
    const chunk = await readChunk(sql, w, cursor, chunkSize);
    if (chunk.length === 0) break;
    const docs = await docsForChunk(coll, chunk);
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
  report.mongoCount = await coll.countDocuments({ date: { $gte: w.from, $lte: w.to } });
  report.extra = report.mongoCount - matched;
  if (report.extra > 0) note('*', `${w.from}..${w.to}`, `${report.extra} document(s) in the archive have no row in PostgreSQL`);
  report.ok = report.missing === 0 && report.extra === 0 && report.mismatched === 0;
  const differing = report.missing + report.extra + report.mismatched;
  if (differing > 0) archiveVerifyMismatches().add(differing, { collection: PRICES_COLLECTION });
  return report;
}
