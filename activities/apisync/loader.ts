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
import { ident, type ColumnInfo, type ShapedBatch } from './shape';

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

/** COPY the batch into a staging table and upsert it into `table`; returns the rows written. */
export async function copyUpsert(tx: TransactionSql, table: string, pk: string, batch: ShapedBatch, runId: string | null): Promise<number> {
  if (batch.rows === 0) return 0;
  const stage = `_stage_${table}`.slice(0, 63);
  const cols = batch.columns.map((c) => ident(c.column));
  await tx.unsafe(`create temp table if not exists ${ident(stage)} (_ord integer, ${batch.columns.map((c) => `${ident(c.column)} ${c.type}`).join(', ')}) on commit drop`);
  const writable = await tx.unsafe(`copy ${ident(stage)} (_ord, ${cols.join(', ')}) from stdin`).writable();
  await new Promise<void>((resolve, reject) => {
    writable.once('error', reject);
    writable.once('finish', resolve);
    writable.end(batch.text);
  });
  const updates = [...cols.filter((c) => c !== ident(pk)), '_run_id', '_loaded_at'].map((c) => `${c} = excluded.${c}`);
  const result = await tx.unsafe(
    `insert into ${qualified(table)} (${cols.join(', ')}, _run_id, _loaded_at) ` +
      `select distinct on (${ident(pk)}) ${cols.join(', ')}, $1::uuid, now() from ${ident(stage)} order by ${ident(pk)}, _ord desc ` +
      `on conflict (${ident(pk)}) do update set ${updates.join(', ')}`,
    [runId],
  );
  await tx.unsafe(`drop table ${ident(stage)}`);
  return result.count;
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

/** A fresh, empty shadow table with the live table's columns (whatever was there from an earlier attempt goes). */
export async function createShadow(sql: Sql, table: string, pk: ColumnInfo): Promise<void> {
  const shadow = shadowName(table);
  await sql.begin(async (tx) => {
    await tx.unsafe(`drop table if exists ${qualified(shadow)}`);
    await tx.unsafe(`create table ${qualified(shadow)} (like ${qualified(table)} including defaults, constraint ${ident(`${shadow}_pkey`)} primary key (${ident(pk.column)}))`);
  });
}

/** Puts the shadow table in place of the live one, inside the caller's transaction. */
export async function swapShadow(tx: TransactionSql, table: string): Promise<void> {
  const shadow = shadowName(table);
  const old = `${table}__old`;
  await tx.unsafe(`lock table ${qualified(table)} in access exclusive mode`);
  await tx.unsafe(`drop table if exists ${qualified(old)}`);
  await tx.unsafe(`alter table ${qualified(table)} rename to ${ident(old)}`);
  await tx.unsafe(`alter table ${qualified(shadow)} rename to ${ident(table)}`);
  await tx.unsafe(`drop table ${qualified(old)}`);
  await tx.unsafe(`alter table ${qualified(table)} rename constraint ${ident(`${shadow}_pkey`)} to ${ident(`${table}_pkey`)}`);
}

export async function countRows(sql: Sql | TransactionSql, table: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: string }[]>(`select count(*)::bigint as n from ${qualified(table)}`);
  return Number(row?.n ?? 0);
}

/**
 * Batches written one after the other, each in its own transaction (rows and cursor together), with the
 * next batch's fetching and shaping going on while the previous one is being written: at most one write
 * in flight, so cursors still commit in order. A failed write surfaces at the next `submit` or `drain`.
 */
export class BatchWriter {
  private last: Promise<void> | undefined;

  constructor(private readonly sql: Sql) {}

  /** Waits for the write in flight (if any), then starts this one and returns without waiting for it. */
  async submit(write: (tx: TransactionSql) => Promise<void>): Promise<void> {
    await this.drain();
    const p = this.sql.begin(async (tx) => {
      // Rows and cursor commit together: a crash loses both or neither, never one of them.
      await tx`set local synchronous_commit = off`;
      await write(tx);
    }) as Promise<unknown> as Promise<void>;
    // Marked handled here; the error is rethrown to whoever awaits it next.
    p.catch(() => {});
    this.last = p;
  }

  async drain(): Promise<void> {
    const p = this.last;
    this.last = undefined;
    if (p) await p;
  }
}
