/**
 * The proof store: the raw bytes of every page and document fetched, so that each stored row can point
 * to the exact bytes it came from and a parser can run again over them without refetching.
 *
 * Content-addressed: the proof id is the sha256 of the bytes, the file is `ab/cd/<sha256>.br` under
 * the root, brotli-compressed (quality 4: ~14× on the portal's HTML, half the CPU of quality 5 on a
 * 100-row list page and two thirds of it on a detail page for ~5% more bytes; quality 7+ costs 4× the
 * time of 5 for 3% less). Files are written before their metadata row and atomically (temp
 * file, fsync, rename), so a row always points to complete bytes; equal bytes are written once.
 * Metadata lives in `etl.proofs` (one row per content) and `etl.proof_fetches` (one row per fetch),
 * see schema/etl/proofs.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants as zlib } from 'node:zlib';
import { and, asc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { proofFetches, proofs } from '../../schema/etl/proofs';
import { InvalidInputError, StopError } from './errors';
import { redactUrl } from './http';
import { proofBytesWritten } from './metrics';

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);

export const BROTLI_QUALITY = 4;
/** The largest output chunk asked of zlib when decompressing (bigger bodies come in several). */
const MAX_CHUNK = 64 * 1024 * 1024;

/** The proof id names no stored proof. */
export class ProofNotFoundError extends StopError {}
/** The stored bytes no longer match their id (disk damage, a truncated copy, a hand edit). */
export class ProofCorruptedError extends StopError {}

export interface ProofInput {
  body: Buffer;
  url: string;
  fetchedAt: Date | string;
  contentType?: string | null;
  /** What the bytes are, for a later reparse: `pmmp.detail`, `pmmp.notice-pdf`… */
  kind?: string | null;
  meta?: Record<string, unknown>;
}

export interface PutResult {
  proofId: string;
  sha256: string;
  size: number;
  storedSize: number;
  /** False when these bytes were already stored (the fetch is still recorded). */
  stored: boolean;
}

export interface ProofSummary {
  proofId: string;
  url: string;
  fetchedAt: Date;
  contentType: string | null;
  kind: string | null;
  size: number;
  storedSize: number;
  meta: Record<string, unknown>;
  firstSeenAt: Date;
}

export interface Proof extends ProofSummary {
  sha256: string;
  body: Buffer;
}

export interface ListOptions {
  kind?: string;
  /** First fetch at or after this instant. */
  from?: Date | string;
  /** First fetch strictly before this instant (half-open windows tile without overlap). */
  to?: Date | string;
  /** The `next` cursor of the previous page. */
  after?: string;
  /** 1–1000, default 100. */
  limit?: number;
}

export interface ProofPage {
  items: ProofSummary[];
  /** Pass as `after` for the next page; undefined on the last page. */
  next: string | undefined;
}

export interface ProofStore {
  put(input: ProofInput): Promise<PutResult>;
  /** The bytes, verified against their id. */
  get(proofId: string): Promise<Proof>;
  /**
   * Many proofs at once (a reparse batch): one metadata query, the files read and decompressed
   * `concurrency` at a time; each verified as `get` does, a missing one fails the call.
   */
  getMany(proofIds: readonly string[], opts?: { concurrency?: number }): Promise<Map<string, Proof>>;
  has(proofId: string): Promise<boolean>;
  /** Proofs in order of first fetch, a page at a time (keyset pagination: stable under inserts). */
  list(opts?: ListOptions): Promise<ProofPage>;
  /** Every proof matching the filter, fetched a page at a time. */
  iterate(opts?: Omit<ListOptions, 'after'>): AsyncGenerator<ProofSummary>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `dir` comes from configuration (PROOF_STORE_DIR, `loadFetchConfig().proofStoreDir`). */
export function createProofStore(opts: { db: PostgresJsDatabase; dir: string }): ProofStore {
  return new FsProofStore(opts.db, resolve(opts.dir));
}

class FsProofStore implements ProofStore {
  constructor(
    private readonly db: PostgresJsDatabase,
    readonly root: string,
  ) {}

  pathOf(proofId: string): string {
    return proofPath(this.root, proofId);
  }

  async put(input: ProofInput): Promise<PutResult> {
    if (!Buffer.isBuffer(input.body)) throw new InvalidInputError('a proof body must be a Buffer');
    const fetchedAt = toDate(input.fetchedAt, 'fetchedAt');
    const sha256 = createHash('sha256').update(input.body).digest('hex');
    const storedSize = await this.ensureFile(sha256, input.body);
    // Secrets in a query string must not outlive the request in a table.
    const url = redactUrl(input.url);
    const kind = input.kind ?? null;
    const meta = input.meta ?? {};
    // One statement (one round trip, atomic by itself): the proof's row unless it exists, and the fetch.
    // The fetch's foreign key is checked at the end of the statement, when the proof's row is there.
    //
    // Committed without waiting for its WAL flush (`synchronous_commit` off for this statement's own
    // transaction: `this.db` is a pool, never a caller's transaction). A crawl puts a proof per page, and a
    // flush per put paced it (about a third of its rate on a busy disk). Nothing that matters can be lost:
    // PostgreSQL flushes WAL in order, so the next synchronous commit of the cluster makes this row durable,
    // and every row that points to a proof (a consultation, a rejection, a notice) commits synchronously
    // after its proof was put. A crash can only lose the rows of proofs nothing committed refers to yet;
    // their files are on disk (synced above) and the retried page puts them again.
    const metaJson = JSON.stringify(meta);
    const [row] = await this.db.execute<{ inserted: number }>(sql`
      with commit_mode as (select set_config('synchronous_commit', 'off', true)),
      p as (
        insert into ${proofs} (proof_id, url, fetched_at, content_type, kind, size, stored_size, compression, meta)
        values (${sha256}, ${url}, ${fetchedAt.toISOString()}::timestamptz, ${input.contentType ?? null}, ${kind}, ${input.body.length}, ${storedSize}, 'br', ${metaJson}::jsonb)
        on conflict (proof_id) do nothing
        returning 1
      ), f as (
        insert into ${proofFetches} (proof_id, url, fetched_at, kind, meta)
        values (${sha256}, ${url}, ${fetchedAt.toISOString()}::timestamptz, ${kind}, ${metaJson}::jsonb)
        on conflict do nothing
      )
      select (select count(*) from p)::int as inserted from commit_mode`);
    const stored = (row?.inserted ?? 0) > 0;
    if (stored) proofBytesWritten().add(storedSize, { pipeline: kind?.split('.')[0] || 'unknown' });
    return { proofId: sha256, sha256, size: input.body.length, storedSize, stored };
  }

  async get(proofId: string): Promise<Proof> {
    checkId(proofId);
    const [row] = await this.db.select().from(proofs).where(eq(proofs.proofId, proofId)).limit(1);
    if (!row) throw new ProofNotFoundError(`no proof ${proofId}`, { proofId });
    return { ...summary(row), sha256: proofId, body: await this.readBody(proofId, row.size) };
  }

  /** The stored body of a proof whose metadata exists, checked against its hash. */
  private async readBody(proofId: string, size?: number | null): Promise<Buffer> {
    const path = this.pathOf(proofId);
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch (err) {
      if (isNotFound(err)) throw new ProofCorruptedError(`proof ${proofId} has metadata but no file at ${path}`, { proofId, path });
      throw err;
    }
    return this.verify(file, proofId, path, size);
  }

  async getMany(proofIds: readonly string[], opts: { concurrency?: number } = {}): Promise<Map<string, Proof>> {
    const ids = [...new Set(proofIds)];
    ids.forEach(checkId);
    const out = new Map<string, Proof>();
    if (ids.length === 0) return out;
    const rows = await this.db.select().from(proofs).where(inArray(proofs.proofId, ids));
    const byId = new Map(rows.map((r) => [r.proofId, r]));
    const missing = ids.find((id) => !byId.has(id));
    if (missing) throw new ProofNotFoundError(`no proof ${missing}`, { proofId: missing });
    // Reads and brotli run on libuv's thread pool: a few in flight keep it busy while the caller parses.
    let next = 0;
    let failure = false;
    const read = async () => {
      while (next < ids.length && !failure) {
        const proofId = ids[next++]!;
        out.set(proofId, { ...summary(byId.get(proofId)!), sha256: proofId, body: await this.readBody(proofId, byId.get(proofId)!.size) });
      }
    };
    const worker = async () => {
      try {
        await read();
      } catch (err) {
        failure = true;
        throw err;
      }
    };
    // Settled, not raced: no read is left running behind a failure.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(ids.length, Math.max(1, opts.concurrency ?? 8)) }, worker));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  async has(proofId: string): Promise<boolean> {
    if (!SHA256_HEX.test(proofId)) return false;
    const rows = await this.db.select({ one: sql<number>`1` }).from(proofs).where(eq(proofs.proofId, proofId)).limit(1);
    return rows.length > 0;
  }

  async list(opts: ListOptions = {}): Promise<ProofPage> {
    const limit = opts.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidInputError(`limit must be an integer in 1..1000, not ${limit}`);
    const where: SQL[] = [];
    if (opts.kind !== undefined) where.push(eq(proofs.kind, opts.kind));
    if (opts.from !== undefined) where.push(gte(proofs.fetchedAt, toDate(opts.from, 'from')));
    if (opts.to !== undefined) where.push(lt(proofs.fetchedAt, toDate(opts.to, 'to')));
    if (opts.after !== undefined) {
      const [at, id] = decodeCursor(opts.after);
      where.push(sql`(${proofs.fetchedAt}, ${proofs.proofId}) > (${at}::timestamptz, ${id})`);
    }
    const rows = await this.db
      .select({ row: proofs, cursorAt: sql<string>`${proofs.fetchedAt}::text` })
      .from(proofs)
      .where(and(...where))
      .orderBy(asc(proofs.fetchedAt), asc(proofs.proofId))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    // The cursor carries the database's own text of the timestamp: a JS Date would drop microseconds.
    const next = rows.length > limit && last ? encodeCursor(last.cursorAt, last.row.proofId) : undefined;
    return { items: page.map((r) => summary(r.row)), next };
  }

  async *iterate(opts: Omit<ListOptions, 'after'> = {}): AsyncGenerator<ProofSummary> {
    let after: string | undefined;
    do {
      const page = await this.list({ ...opts, after });
      yield* page.items;
      after = page.next;
    } while (after);
  }

  /** Writes the compressed file unless a sound copy is there; returns its size on disk. */
  private async ensureFile(proofId: string, body: Buffer): Promise<number> {
    const path = this.pathOf(proofId);
    try {
      const existing = await readFile(path);
      // Checked rather than trusted: a damaged copy is replaced by the good bytes we hold now.
      await this.verify(existing, proofId, path);
      return existing.length;
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof ProofCorruptedError)) throw err;
    }
    const compressed = await compress(body, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      // The directory is made only when it is missing: a mkdir per proof was a syscall per page for nothing.
      const handle = await open(tmp, 'wx').catch(async (err: unknown) => {
        if (!isNotFound(err)) throw err;
        await mkdir(dirname(path), { recursive: true });
        return open(tmp, 'wx');
      });
      try {
        await handle.writeFile(compressed);
        // Durable before it becomes visible under its name: a crash never leaves a short file there.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return compressed.length;
  }

  /** `size`: the body's length as recorded, when known (a hint only: the hash decides). */
  private async verify(file: Buffer, proofId: string, path: string, size?: number | null): Promise<Buffer> {
    let body: Buffer;
    try {
      // The whole body in one output chunk: by default zlib hands out 16 KB at a time, a round trip between
      // libuv's pool and the event loop each (a 150 KB page: ~3x the wall time and ~1.5x the CPU of one chunk).
      body = await decompress(file, size ? { chunkSize: Math.min(Math.max(size + 64, zlib.Z_DEFAULT_CHUNK), MAX_CHUNK) } : {});
    } catch (err) {
      throw new ProofCorruptedError(`proof ${proofId} at ${path} does not decompress: ${err instanceof Error ? err.message : String(err)}`, { proofId, path });
    }
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== proofId) throw new ProofCorruptedError(`proof ${proofId} at ${path} hashes to ${actual}`, { proofId, path, actual });
    return body;
  }
}

function summary(row: typeof proofs.$inferSelect): ProofSummary {
  return {
    proofId: row.proofId,
    url: row.url,
    fetchedAt: row.fetchedAt,
    contentType: row.contentType,
    kind: row.kind,
    size: row.size,
    storedSize: row.storedSize,
    meta: row.meta,
    firstSeenAt: row.firstSeenAt,
  };
}

function checkId(proofId: string): void {
  // Also what keeps a proof id from walking out of the store's directory.
  if (!SHA256_HEX.test(proofId)) throw new InvalidInputError(`not a proof id (64 lowercase hex digits): ${proofId.slice(0, 80)}`);
}

function toDate(value: Date | string, field: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError(`${field} is not a date: ${String(value)}`);
  return date;
}

function encodeCursor(at: string, proofId: string): string {
  return Buffer.from(JSON.stringify([at, proofId])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && SHA256_HEX.test(value[1])) {
      return [value[0], value[1]];
    }
  } catch {
    // reported below
  }
  throw new InvalidInputError(`not a proof list cursor: ${cursor.slice(0, 80)}`);
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}

/** Where a proof's file lives under a root; for tools and tests that look at the files themselves. */
export function proofPath(root: string, proofId: string): string {
  checkId(proofId);
  return join(resolve(root), proofId.slice(0, 2), proofId.slice(2, 4), `${proofId}.br`);
}
