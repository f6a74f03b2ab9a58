/**
 * Many rows in one statement, as one parameter: the rows travel as a single JSON array and
 * `jsonb_to_recordset` turns them back into typed columns on the server. Building a drizzle multi-row
 * VALUES list costs more CPU than PostgreSQL spends inserting it (every value is a bound parameter
 * checked and typed one by one); one JSON value costs a JSON.stringify.
 */
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * `(col, …) select col, … from jsonb_to_recordset($1) as x(col type, …)`, for `insert into <table> ${…}`.
 * `props` are the table's property names to write (others get their defaults); an undefined value is NULL.
 */
export function jsonRecordset<T extends PgTable>(table: T, rows: readonly Record<string, unknown>[], props: readonly (keyof T['$inferInsert'] & string)[]): SQL {
  const defs = columnsOf(table, props);
  const json = JSON.stringify(rows.map((r) => Object.fromEntries(props.map((p, i) => [defs[i]!.name, r[p] ?? null]))));
  const names = sql.raw(defs.map((c) => `"${c.name}"`).join(', '));
  const types = sql.raw(defs.map((c) => `"${c.name}" ${c.getSQLType()}`).join(', '));
  return sql`(${names}) select ${names} from jsonb_to_recordset(${json}::jsonb) as x(${types})`;
}

type InsertProp<T extends PgTable> = keyof T['$inferInsert'] & string;

function columnsOf<T extends PgTable>(table: T, props: readonly string[]) {
  const columns = getTableColumns(table);
  return props.map((p) => {
    const column = columns[p];
    if (!column) throw new Error(`no column ${p} in this table`);
    return column;
  });
}

function columnNames<T extends PgTable>(table: T, props: readonly InsertProp<T>[]): string[] {
  return columnsOf(table, props).map((c) => c.name);
}

/** The `set` of an upsert where these properties take the proposed row's values (`excluded.<column>`). */
export function fromExcluded<T extends PgTable>(table: T, props: readonly InsertProp<T>[]): Record<string, SQL> {
  const names = columnNames(table, props);
  return Object.fromEntries(props.map((p, i) => [p, sql.raw(`excluded."${names[i]}"`)]));
}

/** An upsert's `setWhere`: any of these properties differs between the stored row and the proposed one. */
export function anyChanged<T extends PgTable>(table: T, props: readonly InsertProp<T>[]): SQL {
  return sql.join(
    columnNames(table, props).map((name) => sql`${table}.${sql.identifier(name)} is distinct from excluded.${sql.identifier(name)}`),
    sql` or `,
  );
}
