/** PostgreSQL (postgres.js under drizzle) and MongoDB handles, created once per process and shared. */
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { MongoClient, type Db } from 'mongodb';
import postgres, { type Sql } from 'postgres';
import { tracedSql, traceMongoCommands } from './tracing';

export interface Database {
  sql: Sql;
  db: PostgresJsDatabase;
  close(): Promise<void>;
}

/** `connection`: server settings for every session (the API sets its time zone and a statement timeout). */
export function connectPostgres(url: string, opts: { max?: number; connection?: Record<string, string | number> } = {}): Database {
  const sql = tracedSql(postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // numeric stays a string (exact); dates stay strings: no float, no time-zone surprise.
    types: { date: { to: 1082, from: [1082], serialize: (x: string) => x, parse: (x: string) => x } },
    connection: { application_name: 'moisson', ...opts.connection },
  }));
  return { sql, db: drizzle(sql), close: () => sql.end({ timeout: 5 }) };
}

export interface Archive {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/** The database is the URL's path (`mongodb://host/moisson`), `moisson` when it has none. */
export async function connectMongo(url: string, opts: { dbName?: string } = {}): Promise<Archive> {
  // Command monitoring feeds the archive's trace spans (tracing.ts).
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000, appName: 'moisson', monitorCommands: true });
  traceMongoCommands(client);
  await client.connect();
  const path = new URL(url.replace(/^mongodb(\+srv)?:/, 'http:')).pathname.replace(/^\//, '');
  const db = client.db(opts.dbName ?? (path || 'moisson'));
  return { client, db, close: () => client.close() };
}
