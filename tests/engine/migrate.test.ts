/**
 * The migration step applies every journal entry that is not recorded yet, whatever its `when`: a
 * migration merged after a higher-numbered one had run (0017 after 0020) reaches existing databases,
 * where drizzle's own migrator skips it. Each test uses a fresh database of its own. A worker or the API
 * started on a database that lacks migrations names them and exits 3 before starting anything.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as drizzleMigrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { LOCAL_STACK, redactConfig } from '../../schema/config';
import { applyMigrations, assertMigrated, ensureDatabase, migrateDatabase, migrationsFolder, MissingMigrationsError, pendingMigrations, readJournal } from '../../scripts/db/migrate';
import { freePort, freePortPair, startEntry, uniqueName } from '../support/services';

const base = process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl;
const created: string[] = [];
const folders: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = uniqueName('moisson_migrate');
  const url = new URL(base);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  created.push(name);
  return url.toString();
}

after(async () => {
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    for (const name of created) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

interface Journal {
  entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
}

/** A copy of the migrations folder whose journal is `edit`ed: a database's view before or after some merge. */
function editedFolder(edit: (journal: Journal) => Journal): string {
  const folder = mkdtempSync(join(tmpdir(), 'moisson-migrations-'));
  folders.push(folder);
  cpSync(migrationsFolder, folder, { recursive: true });
  const path = join(folder, 'meta', '_journal.json');
  writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')) as Journal), null, 2));
  return folder;
}

function folderWithout(skipped: string): string {
  return editedFolder((journal) => ({ ...journal, entries: journal.entries.filter((e) => e.tag !== skipped) }));
}

async function recordedCount(sql: postgres.Sql): Promise<{ rows: number; hashes: number }> {
  const [row] = await sql<{ rows: number; hashes: number }[]>`
    select count(*)::int as rows, count(distinct hash)::int as hashes from drizzle.__drizzle_migrations`;
  return row!;
}

async function hasFirstStoredAt(sql: postgres.Sql): Promise<boolean> {
  const rows = await sql`select 1 from information_schema.columns where table_schema = 'prices' and table_name = 'quotes' and column_name = 'first_stored_at'`;
  return rows.length === 1;
}

test('an entry merged after a later one had run is applied by ours and skipped by drizzle', async () => {
  const journal = readJournal();
  const gap = '0017_prices_first_stored';
  const gapIndex = journal.findIndex((m) => m.tag === gap);
  assert.ok(gapIndex >= 0 && gapIndex < journal.length - 1, 'the journal has 0017 followed by a later entry');
  // Two databases in the same state: every entry but 0017 applied and recorded (0020 included).
  const urls = [await freshDatabase(), await freshDatabase()];
  const clients = urls.map((url) => postgres(url, { max: 1, onnotice: () => {} }));
  try {
    for (const sql of clients) {
      const first = await applyMigrations(sql, folderWithout(gap));
      assert.equal(first.applied.length, journal.length - 1);
      assert.ok(!first.applied.includes(gap));
      assert.equal(await hasFirstStoredAt(sql), false);
    }
    const [theirs, ours] = clients as [postgres.Sql, postgres.Sql];

    // drizzle's migrator compares `when` with the newest recorded one: 0017's is lower than 0020's.
    await drizzleMigrate(drizzle(theirs), { migrationsFolder });
    assert.equal(await hasFirstStoredAt(theirs), false, "drizzle's migrator skips the entry in the gap");
    assert.equal((await recordedCount(theirs)).rows, journal.length - 1);

    const report = await applyMigrations(ours);
    assert.deepEqual(report.applied, [gap]);
    assert.equal(report.alreadyRecorded, journal.length - 1);
    assert.equal(await hasFirstStoredAt(ours), true);
    const [row] = await ours<{ created_at: string }[]>`select created_at from drizzle.__drizzle_migrations where hash = ${journal[gapIndex]!.hash}`;
    assert.equal(Number(row!.created_at), journal[gapIndex]!.when, 'recorded the way drizzle records it');

    // The same step repairs the database drizzle left behind.
    assert.deepEqual((await applyMigrations(theirs)).applied, [gap]);
    assert.equal(await hasFirstStoredAt(theirs), true);

    // Idempotent: nothing left to apply, and drizzle's own migrator agrees.
    const again = await applyMigrations(ours);
    assert.deepEqual(again.applied, []);
    assert.equal(again.alreadyRecorded, journal.length);
    await drizzleMigrate(drizzle(ours), { migrationsFolder });
    assert.deepEqual(await recordedCount(ours), { rows: journal.length, hashes: journal.length });
  } finally {
    for (const sql of clients) await sql.end();
  }
});

test('a failing entry leaves neither its changes nor its record, and stops the run', async () => {
  const url = await freshDatabase();
  const tag = '9999_broken';
  const folder = editedFolder((journal) => ({
    ...journal,
    entries: [...journal.entries, { idx: 9999, version: '7', when: 1896472486854, tag, breakpoints: true }],
  }));
  writeFileSync(join(folder, `${tag}.sql`), 'CREATE TABLE "public"."half_done" (id int);--> statement-breakpoint\nSELECT no_such_function();');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await assert.rejects(applyMigrations(sql, folder), /migration 9999_broken failed/);
    const tables = await sql`select 1 from information_schema.tables where table_name = 'half_done'`;
    assert.equal(tables.length, 0, 'the failed entry rolled back whole');
    assert.equal((await recordedCount(sql)).rows, readJournal().length, 'the entries before it stay applied');
    // The lock was released: the next run goes through.
    assert.deepEqual((await applyMigrations(sql)).applied, []);
  } finally {
    await sql.end();
  }
});

test('concurrent runs on one database apply each entry once', async () => {
  const url = await freshDatabase();
  const journal = readJournal();
  const reports = await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
  const applied = reports.flatMap((r) => r.applied).sort();
  assert.deepEqual(applied, journal.map((m) => m.tag).sort(), 'every entry applied by exactly one run');
  for (const r of reports) assert.equal(r.applied.length + r.alreadyRecorded, journal.length);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    assert.deepEqual(await recordedCount(sql), { rows: journal.length, hashes: journal.length });
  } finally {
    await sql.end();
  }
});

/** The journal's newest entry: the one a database "behind" lacks. */
function newestTag(): string {
  const journal = readJournal();
  return journal[journal.length - 1]!.tag;
}

/** Every entry but `tag` applied to the database at `url`. */
async function migrateWithout(url: string, tag: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await applyMigrations(sql, folderWithout(tag));
  } finally {
    await sql.end();
  }
}

test('the entries a database has not recorded: all on a new one, the ones left out, none once migrated', async () => {
  const journal = readJournal();
  const last = newestTag();
  const url = await freshDatabase();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    assert.deepEqual(await pendingMigrations(sql), journal.map((m) => m.tag), 'a database never migrated lacks every entry');
    await assert.rejects(assertMigrated(url), (err: unknown) => err instanceof MissingMigrationsError && /has none of the \d+ migrations/.test(err.message));
    await migrateWithout(url, last);
    assert.deepEqual(await pendingMigrations(sql), [last]);
    await assert.rejects(assertMigrated(url), (err: unknown) => {
      assert.ok(err instanceof MissingMigrationsError);
      assert.equal(err.message, `database ${String(redactConfig(url))} lacks migration ${last}: apply it with \`npm run db:migrate\` (in the image: \`node --import tsx scripts/migrate.ts\`, the compose file's \`migrate\` service), then start again`);
      return true;
    });
    await applyMigrations(sql);
    assert.deepEqual(await pendingMigrations(sql), []);
    await assertMigrated(url);
  } finally {
    await sql.end();
  }
});

/** An entry point on `databaseUrl`; its Temporal address is a closed port and its task queue its own: it can reach no shared worker's queue. */
async function startOn(entry: string, databaseUrl: string, ready: RegExp): Promise<{ code: number | null; output: string }> {
  return startEntry(
    entry,
    {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      MOISSON_TASK_QUEUE: uniqueName('migrate-check'),
      METRICS_PORT: String(await freePortPair()),
      API_PORT: String(await freePort()),
    },
    ready,
  );
}

test('a worker or the API started on a database that lacks a migration names it and exits 3; on a migrated one they start', async () => {
  const last = newestTag();
  const behind = await freshDatabase();
  await migrateWithout(behind, last);
  const gone = new URL(behind);
  gone.pathname = `/${uniqueName('moisson_never_created')}`;
  const migrated = await freshDatabase();
  await migrateDatabase(migrated);

  for (const [entry, ready] of [
    ['workers/main.ts', /metrics on http/],
    ['api/server.ts', /moisson API listening/],
  ] as const) {
    const refused = await startOn(entry, behind, ready);
    assert.equal(refused.code, 3, `${entry}: ${refused.output}`);
    assert.match(refused.output, new RegExp(`lacks migration ${last}: apply it with \`npm run db:migrate\``), entry);
    assert.doesNotMatch(refused.output, /does not exist|at .*\.ts:\d+|metrics on|listening/, `${entry}: no stack trace, nothing started`);

    const none = await startOn(entry, gone.toString(), ready);
    assert.equal(none.code, 3, `${entry}: ${none.output}`);
    assert.match(none.output, /database .* does not exist: create it and apply the \d+ migrations with `npm run db:migrate`/, entry);

    const started = await startOn(entry, migrated, ready);
    assert.match(started.output, ready, `${entry} starts on a migrated database: ${started.output}`);
    assert.doesNotMatch(started.output, /migration/, entry);
  }
});
