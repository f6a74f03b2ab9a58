/**
 * Loading a stream into `apisync.<source>_<stream>`: COPY into a temporary staging table, then one
 * `insert … select distinct on (pk) … on conflict do update` (duplicates inside a batch collapse to the
 * last one the API sent), in a transaction that also commits the stream's cursor. Because rows and
 * cursor commit together, the transaction may skip the WAL flush (`synchronous_commit = off`): a crash
 * loses both or neither, and the retry re-reads from the cursor that is there.
 *
 * A full sync loads into a shadow table (`<table>__next`) and swaps it in with renames inside one
 * transaction: readers see the old complete table until the commit, then the new complete one.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { ColumnType } from './definition';
import { escapeCopy, ident, unescapeCopy, type ColumnInfo, type ShapedBatch, type ShapeRejection } from './shape';

export const SCHEMA = 'apisync';

export function qualified(table: string): string {
  return `${ident(SCHEMA)}.${ident(table)}`;
}

const SYSTEM_COLUMNS = new Set(['_run_id', '_loaded_at']);

export interface TableColumns {
  /** column → PostgreSQL type name as the catalog spells it */
  types: Map<string, string>;
}

const CATALOG_TYPE: Record<ColumnType, string> = {
  bigint: 'bigint',
  numeric: 'numeric',
  text: 'text',
  boolean: 'boolean',
  date: 'date',
  timestamptz: 'timestamp with time zone',
  jsonb: 'jsonb',
};

export async function tableExists(sql: Sql | TransactionSql, table: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`select to_regclass(${`${SCHEMA}.${table}`}) is not null as ok`;
  return row?.ok ?? false;
}

export async function tableColumns(sql: Sql | TransactionSql, table: string): Promise<Map<string, string>> {
  const rows = await sql<{ column_name: string; data_type: string }[]>`
    select column_name, data_type from information_schema.columns where table_schema = ${SCHEMA} and table_name = ${table}`;
  return new Map(rows.filter((r) => !SYSTEM_COLUMNS.has(r.column_name)).map((r) => [r.column_name, r.data_type]));
}

/** Creates the table with these columns when it does not exist (primary key named `<table>_pkey`). */
export async function ensureTable(sql: Sql | TransactionSql, table: string, pk: ColumnInfo, columns: readonly ColumnInfo[]): Promise<void> {
  const defs = columns.map((c) => `${ident(c.column)} ${c.type}${c.column === pk.column ? ' not null' : ''}`);
  await sql.unsafe(
    `create table if not exists ${qualified(table)} (${defs.join(', ')}, _run_id uuid, _loaded_at timestamptz not null default now(), ` +
      `constraint ${ident(`${table}_pkey`)} primary key (${ident(pk.column)}))`,
  );
}

/**
 * Adds the columns the table lacks (the API grew a field) and records every column of the stream in
 * `apisync.columns`. Returns the columns that were added.
 */
export async function ensureColumns(
  sql: Sql | TransactionSql,
  table: string,
  known: Map<string, string>,
  columns: readonly ColumnInfo[],
  record: { source: string; stream: string; runId: string | null },
): Promise<ColumnInfo[]> {
  const added: ColumnInfo[] = [];
  for (const c of columns) {
    const have = known.get(c.column);
    if (have === undefined) {
      await sql.unsafe(`alter table ${qualified(table)} add column if not exists ${ident(c.column)} ${c.type}`);
      known.set(c.column, CATALOG_TYPE[c.type]);
      added.push(c);
    }
  }
  if (columns.length > 0) {
    await sql`
      insert into apisync.columns (source, stream, "column", pg_type, origin, field, first_run_id)
      select * from jsonb_to_recordset(${JSON.stringify(
        columns.map((c) => ({ source: record.source, stream: record.stream, column: c.column, pg_type: c.type, origin: c.origin, field: c.field, first_run_id: record.runId })),
      )}::jsonb) as x(source text, stream text, "column" text, pg_type text, origin text, field text, first_run_id uuid)
      on conflict do nothing`;
  }
  return added;
}

/** At most this many records of one batch are rejected on PostgreSQL's word before the batch fails as a whole. */
export const MAX_REFUSED_PER_BATCH = 100;

export interface CopyResult {
  written: number;
  /** Records PostgreSQL refused (a value the shaping let through: Feb 30, a NUL byte…), with its message. */
  refused: ShapeRejection[];
}

async function copyText(tx: TransactionSql, target: string, batch: ShapedBatch): Promise<number> {
  const writable = await tx.unsafe(`copy ${target} (${batch.columns.map((c) => ident(c.column)).join(', ')}) from stdin`).writable();
  await new Promise<void>((resolve, reject) => {
    writable.once('error', reject);
    writable.once('finish', resolve);
    writable.end(batch.text);
  });
  return batch.rows;
}

/** The 1-based COPY line a data error (SQLSTATE class 22) names, e.g. `COPY t, line 7, column amount: "x"`. */
function refusedLine(err: unknown): number | undefined {
  const e = err as { code?: unknown; where?: unknown };
  if (typeof e?.code !== 'string' || !e.code.startsWith('22') || typeof e.where !== 'string') return undefined;
  const m = /^COPY [^,]+, line (\d+)/m.exec(e.where);
  return m ? Number(m[1]) : undefined;
}

function withoutRow(batch: ShapedBatch, index: number): ShapedBatch {
  const lines = batch.text.slice(0, -1).split('\n');
  lines.splice(index, 1);
  const drop = <T>(xs: T[]) => xs.filter((_, i) => i !== index);
  return { ...batch, text: lines.length ? `${lines.join('\n')}\n` : '', rows: lines.length, keys: drop(batch.keys), records: drop(batch.records) };
}

/**
 * COPY the batch into `target` (a qualified or temporary table name). A row PostgreSQL refuses is taken out
 * and rejected with the server's message, and the rest is copied again; each attempt is a savepoint, so
 * the transaction (and the batches around it) carry on.
 */
async function copyRefusing(tx: TransactionSql, target: string, batch: ShapedBatch): Promise<CopyResult> {
  const refused: ShapeRejection[] = [];
  let current = batch;
  for (;;) {
    if (current.rows === 0) return { written: 0, refused };
    try {
      const attempt = current;
      const written = (await tx.savepoint((sp) => copyText(sp, target, attempt))) as number;
      return { written, refused };
    } catch (err) {
      const line = refusedLine(err);
      if (line === undefined || line > current.rows) throw err;
      if (refused.length >= MAX_REFUSED_PER_BATCH) {
        throw new Error(`PostgreSQL refused more than ${MAX_REFUSED_PER_BATCH} records of one batch for ${target} (first: ${refused[0]!.reason}; last: ${(err as Error).message})`);
      }
      const e = err as Error & { where?: string };
      refused.push({ key: current.keys[line - 1]!, reason: `PostgreSQL refused it: ${e.message} (${String(e.where).split('\n')[0]})`, payload: current.records[line - 1] });
      current = withoutRow(current, line - 1);
    }
  }
}

/** COPY the batch straight into `table` (a full load's shadow, which has no key yet). */
export async function copyRows(tx: TransactionSql, table: string, batch: ShapedBatch): Promise<CopyResult> {
  return copyRefusing(tx, qualified(table), batch);
}

/** COPY the batch (its keys are distinct) into a staging table and upsert it into `table`. */
export async function copyUpsert(tx: TransactionSql, table: string, pk: string, batch: ShapedBatch, runId: string | null): Promise<CopyResult> {
  if (batch.rows === 0) return { written: 0, refused: [] };
  const stage = ident(`_stage_${table}`.slice(0, 63));
  const cols = batch.columns.map((c) => ident(c.column));
  await tx.unsafe(`create temp table if not exists ${stage} (${batch.columns.map((c) => `${ident(c.column)} ${c.type}`).join(', ')}) on commit drop`);
  const { refused } = await copyRefusing(tx, stage, batch);
  const updates = [...cols.filter((c) => c !== ident(pk)), '_run_id', '_loaded_at'].map((c) => `${c} = excluded.${c}`);
  const result = await tx.unsafe(
    `insert into ${qualified(table)} (${cols.join(', ')}, _run_id, _loaded_at) select ${cols.join(', ')}, $1::uuid, now() from ${stage} ` +
      `on conflict (${ident(pk)}) do update set ${updates.join(', ')}`,
    [runId],
  );
  await tx.unsafe(`drop table ${stage}`);
  return { written: result.count, refused };
}

/** Deletes these keys; returns how many rows went. */
export async function deleteKeys(tx: TransactionSql, table: string, pk: ColumnInfo, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const result = await tx.unsafe(`delete from ${qualified(table)} where ${ident(pk.column)} in (select jsonb_array_elements_text($1::jsonb)::${pk.type})`, [JSON.stringify(keys)]);
  return result.count;
}

export function shadowName(table: string): string {
  return `${table}__next`;
}

/**
 * A full load's shadow table (`<table>__next`): the live table's columns, no key while it fills (a key
 * checked on every COPY costs about as much as the COPY), `_run_id` defaulting to the run. Keys are kept
 * distinct by the loader instead (`ShadowLoad`), and the key is built once, when the load is complete.
 */
export class ShadowLoad {
  readonly shadow: string;
  private constructor(
    private readonly sql: Sql,
    readonly table: string,
    readonly pk: ColumnInfo,
    /** Keys already in the shadow table (COPY text form). */
    private readonly written: Set<string>,
  ) {
    this.shadow = shadowName(table);
  }

  /** A fresh, empty shadow table (whatever an earlier attempt left goes). */
  static async create(sql: Sql, table: string, pk: ColumnInfo, runId: string): Promise<ShadowLoad> {
    const shadow = shadowName(table);
    await sql.begin(async (tx) => {
      await tx.unsafe(`drop table if exists ${qualified(shadow)}`);
      await tx.unsafe(`create table ${qualified(shadow)} (like ${qualified(table)} including defaults)`);
      await tx.unsafe(`alter table ${qualified(shadow)} alter column _run_id set default ${literal(runId)}::uuid`);
    });
    return new ShadowLoad(sql, table, pk, new Set());
  }

  /** The shadow table an interrupted attempt of this run left, with the keys it holds (undefined if there is none). */
  static async resume(sql: Sql, table: string, pk: ColumnInfo): Promise<ShadowLoad | undefined> {
    if (!(await tableExists(sql, shadowName(table)))) return undefined;
    const written = new Set<string>();
    await sql
      .unsafe<{ k: string }[]>(`select ${ident(pk.column)}::text as k from ${qualified(shadowName(table))}`)
      .cursor(10_000, (rows) => {
        for (const r of rows) written.add(escapeCopy(r.k));
      });
    return new ShadowLoad(sql, table, pk, written);
  }

  /** The keys of this batch an earlier batch already wrote (they must be replaced, in order), and claims the others. */
  repeated(batch: ShapedBatch): string[] {
    const again: string[] = [];
    for (const k of batch.keys) {
      if (this.written.has(k)) again.push(k);
      else this.written.add(k);
    }
    return again;
  }

  /** Writes the batch, replacing the rows of `repeated` keys; `loaded` counts the rows new in the shadow. */
  async write(tx: TransactionSql, batch: ShapedBatch, repeated: readonly string[]): Promise<{ loaded: number; replaced: number; refused: ShapeRejection[] }> {
    const replaced = repeated.length ? await tx.unsafe(`delete from ${qualified(this.shadow)} where ${ident(this.pk.column)}::text = any($1::text[])`, [repeated.map(unescapeCopy)]) : { count: 0 };
    const { written, refused } = await copyRows(tx, this.shadow, batch);
    return { loaded: written - replaced.count, replaced: replaced.count, refused };
  }

  /**
   * Builds the key. Should it find two rows of one key (a key the loader could not see as the same, e.g.
   * `007` and `7`), the newest stays and the others are counted as duplicates.
   */
  async buildKey(): Promise<number> {
    const shadow = qualified(this.shadow);
    const key = ident(this.pk.column);
    const constraint = `${this.shadow}_pkey`;
    const addKey = `alter table ${shadow} add constraint ${ident(constraint)} primary key (${key})`;
    // An attempt that died between the key and the swap.
    const [built] = await this.sql<{ n: number }[]>`select count(*)::int as n from pg_constraint where conname = ${constraint} and conrelid = ${`${SCHEMA}.${this.shadow}`}::regclass`;
    if (built && built.n > 0) return 0;
    try {
      await this.sql.unsafe(addKey);
      return 0;
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
    }
    return this.sql.begin(async (tx) => {
      const removed = await tx.unsafe(
        `delete from ${shadow} s where exists (select 1 from ${shadow} n where n.${key} = s.${key} and (n._loaded_at, n.ctid) > (s._loaded_at, s.ctid))`,
      );
      await tx.unsafe(addKey);
      return removed.count;
    }) as Promise<number>;
  }

  /** Puts the shadow table in place of the live one, inside the caller's transaction (call `buildKey` first). */
  async swap(tx: TransactionSql): Promise<void> {
    const { table, shadow } = this;
    const old = `${table}__old`;
    await tx.unsafe(`lock table ${qualified(table)} in access exclusive mode`);
    await tx.unsafe(`drop table if exists ${qualified(old)}`);
    await tx.unsafe(`alter table ${qualified(table)} rename to ${ident(old)}`);
    await tx.unsafe(`alter table ${qualified(shadow)} rename to ${ident(table)}`);
    await tx.unsafe(`drop table ${qualified(old)}`);
    await tx.unsafe(`alter table ${qualified(table)} rename constraint ${ident(`${shadow}_pkey`)} to ${ident(`${table}_pkey`)}`);
    await tx.unsafe(`alter table ${qualified(table)} alter column _run_id drop default`);
  }
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export async function countRows(sql: Sql | TransactionSql, table: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: string }[]>(`select count(*)::bigint as n from ${qualified(table)}`);
  return Number(row?.n ?? 0);
}

/** Rows of `table` last written by this run (`_run_id`). */
export async function countRunRows(sql: Sql | TransactionSql, table: string, runId: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: string }[]>(`select count(*)::bigint as n from ${qualified(table)} where _run_id = $1::uuid`, [runId]);
  return Number(row?.n ?? 0);
}

export interface BatchWrite<T> {
  /** The rows (COPY, upsert, deletions): may run while earlier batches are still being written. */
  load(tx: TransactionSql): Promise<T>;
  /** The cursor after the batch: runs once every earlier batch has committed. */
  seal(tx: TransactionSql, loaded: T): Promise<void>;
  /** Waits for every earlier batch to commit before loading (the batch replaces rows they wrote). */
  exclusive?: boolean;
}

/**
 * Batches written while the next pages are fetched and shaped, up to `concurrency` at once, each in its
 * own transaction with the cursor after it. Loads overlap; commits do not: a batch seals its cursor only
 * once the batch before it has committed, and fails with it, so the cursor that is there always has every
 * row before it. A failed write surfaces at the next `submit` or `drain`.
 */
export class BatchWriter {
  private last: Promise<void> | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly sql: Sql,
    private readonly concurrency = 1,
  ) {}

  /** Starts this batch once a writer is free and returns without waiting for it. */
  async submit<T>(write: BatchWrite<T>): Promise<void> {
    if (write.exclusive) await this.drain();
    while (this.running.size >= this.concurrency) await Promise.race(this.running);
    const previous = this.last;
    const p = this.sql.begin(async (tx) => {
      // Rows and cursor commit together: a crash loses both or neither, so the WAL flush can wait.
      await tx`set local synchronous_commit = off`;
      const loaded = await write.load(tx);
      if (previous) await previous;
      await write.seal(tx, loaded);
    }) as Promise<unknown> as Promise<void>;
    const tracked: Promise<void> = p.finally(() => this.running.delete(tracked));
    // Marked handled here; the error is rethrown to whoever awaits it next.
    tracked.catch(() => {});
    this.running.add(tracked);
    this.last = tracked;
  }

  /** Waits for every batch in flight; throws the first failure. */
  async drain(): Promise<void> {
    const all = [...this.running];
    const last = this.last;
    this.last = undefined;
    await Promise.all(all);
    if (last) await last;
  }
}
