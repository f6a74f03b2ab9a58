/**
 * Pages of a sorted list. Two ways, both bounded: a cursor (keyset: the next page starts after the
 * last row's sort value and key, so page 2,000 costs what page 1 costs and rows inserted meanwhile
 * shift nothing) and an offset capped by API_MAX_OFFSET for clients that want page numbers.
 *
 * Sort columns may be null; nulls come last in either direction. A keyset over a nullable column is
 * two ranges: the non-null values (one index range scan on (column, key…)) then the nulls in key order.
 * The cursor says which range it stopped in.
 */
import type postgres from 'postgres';
import { z } from 'zod';
import { badRequest } from './errors';

/**
 * A number in a query string. `z.coerce.number` reads a blank value ("", "\n", " ") as 0, which would
 * let `offset=%0A` through as a first page; a blank reaches the number check as NaN instead and is
 * refused like any other non-number. The OpenAPI document still shows the inner number's bounds.
 */
export function queryNumber<T extends z.ZodType>(schema: T) {
  return z.preprocess((raw) => (typeof raw === 'string' && raw.trim() === '' ? Number.NaN : raw), schema);
}

type Sql = postgres.Sql;
type Fragment = postgres.Fragment;

const CursorSchema = z.strictObject({
  /** The sort it was made for: a cursor is only valid with the same sort. */
  s: z.string().max(40),
  /** Sort value of the last row as PostgreSQL printed it; null when the page ended among the nulls. */
  v: z.string().max(200).nullable(),
  k: z.array(z.string().max(200)).min(1).max(4),
});
export type Cursor = z.infer<typeof CursorSchema>;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string, sort: string, keyCount: number): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = CursorSchema.safeParse(parsed);
  if (!result.success || result.data.k.length !== keyCount) {
    throw badRequest([{ in: 'query', field: 'cursor', problem: 'not a cursor of this list: pass `next_cursor` of the previous page unchanged' }]);
  }
  if (result.data.s !== sort) {
    throw badRequest([{ in: 'query', field: 'cursor', problem: `made for sort '${result.data.s}', not '${sort}': keep the sort while paging` }]);
  }
  return result.data;
}

export interface SortColumn {
  /** Expression sorted on (a column of the FROM clause). */
  expr: Fragment;
  /** Its SQL type, to read the cursor's value back exactly. */
  type: 'date' | 'timestamptz' | 'numeric' | 'text';
}

export interface KeysetRequest {
  sql: Sql;
  /** `select <columns>` (without `sort_value` or `key_n`, which are added). */
  select: Fragment;
  /** What follows FROM: tables and joins, up to the WHERE clause. */
  from: Fragment;
  where: Fragment[];
  sortName: string;
  sort: SortColumn;
  dir: 'asc' | 'desc';
  /** Key columns (unique together), as text. */
  keys: Fragment[];
  limit: number;
  cursor?: string;
  offset?: number;
}

export interface Page<T> {
  rows: T[];
  /** More rows follow this page. */
  hasMore: boolean;
  /** Where the next page starts (cursor mode; also given in offset mode, to switch to cursors). */
  nextCursor: string | null;
}

type KeyedRow = Record<string, unknown> & { sort_value: string | null };

function and(sql: Sql, parts: Fragment[]): Fragment {
  if (parts.length === 0) return sql`true`;
  return parts.reduce((acc, p) => sql`${acc} and ${p}`);
}

function tuple(sql: Sql, parts: Fragment[]): Fragment {
  return parts.reduce((acc, p) => sql`${acc}, ${p}`);
}

function list(sql: Sql, parts: Fragment[], dir: Fragment): Fragment {
  return parts.map((p) => sql`${p} ${dir}`).reduce((acc, p) => sql`${acc}, ${p}`);
}

export async function keysetPage<T extends Record<string, unknown>>(req: KeysetRequest): Promise<Page<T>> {
  const { sql, sort, keys, limit } = req;
  const dir = req.dir === 'asc' ? sql`asc` : sql`desc`;
  const cmp = req.dir === 'asc' ? sql`>` : sql`<`;
  const keySelect = keys.map((k, i) => sql`${k}::text as ${sql(`key_${i}`)}`).reduce((acc, p) => sql`${acc}, ${p}`);
  const select = (extraWhere: Fragment[], order: Fragment, tail: Fragment) => sql`
    ${req.select}, (${sort.expr})::text as sort_value, ${keySelect}
    from ${req.from}
    where ${and(sql, [...req.where, ...extraWhere])}
    order by ${order}
    ${tail}`;
  const typeCast = sql.unsafe(sort.type);

  if (req.offset !== undefined) {
    const rows = await select([], sql`${sort.expr} ${dir} nulls last, ${list(sql, keys, dir)}`, sql`offset ${req.offset} limit ${limit + 1}`);
    return finish<T>(rows as unknown as KeyedRow[], req, keys.length);
  }

  const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor, req.sortName, keys.length);
  const keyValues = cursor?.k.map((k) => sql`${k}`);
  const collected: KeyedRow[] = [];
  if (!cursor || cursor.v !== null) {
    const after = cursor && keyValues ? [sql`(${tuple(sql, [sort.expr, ...keys])}) ${cmp} (${tuple(sql, [sql`${cursor.v}::${typeCast}`, ...keyValues])})`] : [];
    const rows = await select([sql`${sort.expr} is not null`, ...after], sql`${sort.expr} ${dir}, ${list(sql, keys, dir)}`, sql`limit ${limit + 1}`);
    collected.push(...(rows as unknown as KeyedRow[]));
  }
  if (collected.length <= limit) {
    const after = cursor && cursor.v === null && keyValues ? [sql`(${tuple(sql, keys)}) ${cmp} (${tuple(sql, keyValues)})`] : [];
    const rows = await select([sql`${sort.expr} is null`, ...after], list(sql, keys, dir), sql`limit ${limit + 1 - collected.length}`);
    collected.push(...(rows as unknown as KeyedRow[]));
  }
  return finish<T>(collected, req, keys.length);
}

function finish<T>(rows: KeyedRow[], req: KeysetRequest, keyCount: number): Page<T> {
  const page = rows.slice(0, req.limit);
  const last = page.at(-1);
  let nextCursor: string | null = null;
  if (rows.length > req.limit && last) {
    nextCursor = encodeCursor({ s: req.sortName, v: last.sort_value, k: Array.from({ length: keyCount }, (_, i) => String(last[`key_${i}`])) });
  }
  // Copied without the paging columns, not `delete`d from the row: deleting a property turns an object
  // into a slow dictionary, which every later spread, schema check and JSON.stringify of the row pays.
  const paging = new Set(['sort_value', ...Array.from({ length: keyCount }, (_, i) => `key_${i}`)]);
  const names = page.length ? Object.keys(page[0]!).filter((name) => !paging.has(name)) : [];
  const clean = page.map((r) => {
    const row: Record<string, unknown> = {};
    for (const name of names) row[name] = r[name];
    return row as T;
  });
  return { rows: clean, hasMore: rows.length > req.limit, nextCursor };
}
