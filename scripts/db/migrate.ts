/**
 * Applies the committed drizzle migrations (drizzle/); creates the database first when it is missing.
 *
 * Not drizzle's own migrator: it only applies journal entries whose `when` is above the newest recorded
 * one, so a migration merged after a higher-numbered one had been applied (0017 landing after 0020) is
 * skipped forever on every existing database. Here every journal entry that is not recorded yet is
 * applied, in journal order. Entries are recorded exactly as drizzle records them (sha256 of the file,
 * the entry's `when` as created_at, in drizzle.__drizzle_migrations), so drizzle-kit keeps reading the
 * same table.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres, { type Sql } from 'postgres';
import { z } from 'zod';
import { redactConfig } from '../../schema/config';

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** drizzle's bookkeeping table (its defaults: schema `drizzle`, table `__drizzle_migrations`). */
const MIGRATIONS_SCHEMA = 'drizzle';
const MIGRATIONS_TABLE = '__drizzle_migrations';
/**
 * Session advisory lock held while migrating: two processes starting at once (tests, compose's migrate
 * job next to a developer's `db:migrate`) would otherwise both see an entry unrecorded and both run it.
 * Advisory locks are per database, so runs on different databases never wait on each other.
 */
export const MIGRATION_LOCK_KEY = 7_240_176_301_017n;

const journalSchema = z.object({
  entries: z.array(z.object({ idx: z.number().int(), when: z.number().int(), tag: z.string().min(1), breakpoints: z.boolean() })),
});

export interface JournalMigration {
  tag: string;
  /** The journal's `when`, recorded by drizzle as created_at. */
  when: number;
  /** sha256 of the file as drizzle computes it: how drizzle recognises an applied migration. */
  hash: string;
  statements: string[];
}

/** The journal's entries in its order, read the way drizzle reads them (same split, same hash). */
export function readJournal(folder: string = migrationsFolder): JournalMigration[] {
  const journal = journalSchema.parse(JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')));
  return journal.entries.map((entry) => {
    const text = readFileSync(join(folder, `${entry.tag}.sql`), 'utf8');
    return {
      tag: entry.tag,
      when: entry.when,
      hash: createHash('sha256').update(text).digest('hex'),
      statements: text.split('--> statement-breakpoint').filter((s) => s.trim() !== ''),
    };
  });
}

interface RecordedRow {
  hash: string;
  created_at: string | null;
}

/** An entry counts as recorded when its hash is in drizzle's table, or its `when` (what drizzle itself compares). */
function recordedTest(recorded: RecordedRow[]): (migration: JournalMigration) => boolean {
  const hashes = new Set(recorded.map((r) => r.hash));
  const whens = new Set(recorded.map((r) => (r.created_at === null ? undefined : Number(r.created_at))));
  return (migration) => hashes.has(migration.hash) || whens.has(migration.when);
}

export interface MigrationReport {
  /** Tags applied by this run, in the order they ran. */
  applied: string[];
  /** Journal entries found already recorded. */
  alreadyRecorded: number;
}

export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[\w-]+$/.test(name)) throw new Error(`unexpected database name in DATABASE_URL: '${name}'`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length === 0) {
      await sql.unsafe(`create database "${name}"`).catch((err: unknown) => {
        // Another process created it between the check and ours (42P04, or the catalog's unique index).
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      });
    }
  } finally {
    await sql.end();
  }
}

/**
 * Applies every journal entry not recorded in drizzle's table, in journal order, each in its own
 * transaction with its record, under the advisory lock. A file reformatted after it ran is not rerun
 * (its `when` is recorded).
 */
export async function applyMigrations(sql: Sql, folder: string = migrationsFolder): Promise<MigrationReport> {
  const migrations = readJournal(folder);
  const connection = await sql.reserve();
  const table = `"${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`;
  try {
    await connection`select pg_advisory_lock(${String(MIGRATION_LOCK_KEY)}::bigint)`;
    try {
      await connection.unsafe(`create schema if not exists "${MIGRATIONS_SCHEMA}"`);
      await connection.unsafe(`create table if not exists ${table} (id serial primary key, hash text not null, created_at bigint)`);
      const isRecorded = recordedTest(await connection.unsafe<RecordedRow[]>(`select hash, created_at from ${table}`));
      const report: MigrationReport = { applied: [], alreadyRecorded: 0 };
      for (const migration of migrations) {
        if (isRecorded(migration)) {
          report.alreadyRecorded++;
          continue;
        }
        // Explicit BEGIN/COMMIT: a reserved connection has no begin(), and the lock lives on this connection.
        await connection.unsafe('begin');
        try {
          for (const statement of migration.statements) await connection.unsafe(statement);
          await connection.unsafe(`insert into ${table} (hash, created_at) values ($1, $2)`, [migration.hash, migration.when]);
          await connection.unsafe('commit');
        } catch (err) {
          await connection.unsafe('rollback').catch(() => undefined);
          throw new Error(`migration ${migration.tag} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        report.applied.push(migration.tag);
      }
      return report;
    } finally {
      await connection`select pg_advisory_unlock(${String(MIGRATION_LOCK_KEY)}::bigint)`;
    }
  } finally {
    connection.release();
  }
}

export async function migrateDatabase(url: string): Promise<MigrationReport> {
  await ensureDatabase(url);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await applyMigrations(sql);
  } finally {
    await sql.end();
  }
}

/** The journal entries a database has not recorded, in journal order (all of them on a database never migrated). */
export async function pendingMigrations(sql: Sql, folder: string = migrationsFolder): Promise<string[]> {
  const [{ table }] = (await sql`select to_regclass(${`"${MIGRATIONS_SCHEMA}"."${MIGRATIONS_TABLE}"`})::text as table`) as unknown as [{ table: string | null }];
  const isRecorded = recordedTest(table ? await sql.unsafe<RecordedRow[]>(`select hash, created_at from ${table}`) : []);
  return readJournal(folder)
    .filter((m) => !isRecorded(m))
    .map((m) => m.tag);
}

/** The command that applies the migrations, as an operator types it. */
export const MIGRATE_COMMAND = '`npm run db:migrate` (in the image: `node --import tsx scripts/migrate.ts`, the compose file\'s `migrate` service)';

/** A database this release's code must not run on: it lacks committed migrations (or does not exist). */
export class MissingMigrationsError extends Error {
  constructor(
    readonly where: string,
    readonly missing: string[],
    readonly total: number,
    readonly databaseMissing = false,
  ) {
    const what = databaseMissing
      ? `database ${where} does not exist: create it and apply the ${total} migrations`
      : missing.length === total
        ? `database ${where} has none of the ${total} migrations (${missing[0]} to ${missing[missing.length - 1]}): apply them`
        : `database ${where} lacks ${missing.length === 1 ? 'migration' : `${missing.length} migrations`} ${missing.join(', ')}: apply ${missing.length === 1 ? 'it' : 'them'}`;
    super(`${what} with ${MIGRATE_COMMAND}, then start again`);
    this.name = 'MissingMigrationsError';
  }
}

/**
 * Refuses, before a process does anything with it, a database that lacks committed migrations: without
 * this, a worker or the API started on it runs until a statement meets a relation or column that does not
 * exist. Throws MissingMigrationsError; a server that cannot be reached throws its own error (the caller
 * decides what that means for it).
 */
export async function assertMigrated(url: string, folder: string = migrationsFolder): Promise<void> {
  const where = String(redactConfig(url));
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    let missing: string[];
    try {
      missing = await pendingMigrations(sql, folder);
    } catch (err) {
      // 3D000 invalid_catalog_name: the database itself is missing (db:migrate creates it).
      if ((err as { code?: string }).code !== '3D000') throw err;
      const tags = readJournal(folder).map((m) => m.tag);
      throw new MissingMigrationsError(where, tags, tags.length, true);
    }
    if (missing.length > 0) throw new MissingMigrationsError(where, missing, readJournal(folder).length);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
