/**
 * The bulk load of the data set (tests/api/dataset.ts `bulkLoad`: secondary indexes and derived-data
 * triggers off during the load, then one pass each) must leave the very database the per-batch load
 * leaves: the same small data set is built both ways into two fresh databases, and every table of pmmp
 * and etl (row count and a digest of all its rows), every materialized view, every index definition and
 * every trigger's enabled state are compared. An index dropped and not built again, a trigger left off,
 * or a derived pass that differs from its trigger fails here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectPostgres, type Database } from '../../activities/engine/db';
import { createProofStore } from '../../activities/engine/proofs';
import { LOCAL_STACK } from '../../schema/config';
import { migrateDatabase } from '../../scripts/db/migrate';
import { uniqueName } from '../support/services';
import { loadDataset, type DatasetSummary } from './dataset';

const CONSULTATIONS = 3_000;
const base = process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl;

/**
 * Columns that hold the clock of the build, not the data: `now()` defaults (first_seen_at, updated_at,
 * recorded_at, created_at, started_at) and the parse time the award store writes (notices.parsed_at).
 * Two builds the same way differ there too. Serial ids are compared: both builds write in the same order.
 */
const CLOCK_COLUMNS = new Set(['first_seen_at', 'updated_at', 'recorded_at', 'created_at', 'started_at', 'parsed_at']);

/** Tables and views the data set writes, directly or through triggers: each must hold rows, or comparing it proves nothing. */
const WRITTEN = [
  'pmmp.consultations',
  'pmmp.lots',
  'pmmp.notices',
  'pmmp.attributions',
  'pmmp.bids',
  'pmmp.consultation_search',
  'pmmp.consultation_search_lexemes',
  'pmmp.stats_monthly',
  'pmmp.top_buyers',
  'pmmp.top_winners',
  'etl.proofs',
  'etl.proof_fetches',
];

interface Built extends Database {
  name: string;
  proofDir: string;
  summary: DatasetSummary;
}

const built: Built[] = [];

async function build(bulk: boolean): Promise<Built> {
  const name = uniqueName(bulk ? 'moisson_test_dsbulk' : 'moisson_test_dsbatch');
  const url = new URL(`/${name}`, base).toString();
  const proofDir = await mkdtemp(join(tmpdir(), `${name}-`));
  await migrateDatabase(url);
  const db = connectPostgres(url);
  const entry: Built = { ...db, name, proofDir, summary: undefined as unknown as DatasetSummary };
  built.push(entry);
  entry.summary = await loadDataset(db.db, createProofStore({ db: db.db, dir: proofDir }), { consultations: CONSULTATIONS, bulk });
  return entry;
}

interface Digest {
  relations: Record<string, { rows: number; md5: string }>;
  indexes: string[];
  triggers: string[];
  /** Derived values that must be set somewhere, so that a skipped pass cannot compare equal by being empty on both sides. */
  derived: { latest: number; notice_published_on: number; award_outcome: number };
}

async function digest(db: Built): Promise<Digest> {
  const relations: Digest['relations'] = {};
  const rels = await db.sql<{ rel: string; kind: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as rel, c.relkind as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('pmmp', 'etl') and c.relkind in ('r', 'm', 'p')
    order by 1`;
  for (const { rel } of rels) {
    const columns = await db.sql<{ name: string }[]>`
      select quote_ident(attname) as name from pg_attribute
      where attrelid = ${rel}::regclass and attnum > 0 and not attisdropped order by attnum`;
    const kept = columns.map((c) => c.name).filter((c) => !CLOCK_COLUMNS.has(c));
    const [row] = await db.sql.unsafe<{ rows: number; md5: string }[]>(
      `select count(*)::int as rows, md5(coalesce(string_agg(r::text, '|' order by r::text), '')) as md5 from (select ${kept.join(', ')} from ${rel}) r`,
    );
    relations[rel] = row!;
  }
  const indexes = (
    await db.sql<{ def: string }[]>`
      select indexdef as def from pg_indexes where schemaname not in ('pg_catalog', 'information_schema') order by schemaname, tablename, indexname`
  ).map((r) => r.def);
  // Internal triggers (foreign keys) are named by OID, which differs between databases: their state is
  // compared as a count per state.
  const triggers = (
    await db.sql<{ t: string }[]>`
      select case when tgisinternal then 'internal' else tgrelid::regclass::text || ' ' || tgname end || ' ' || tgenabled::text as t
      from pg_trigger order by 1`
  ).map((r) => r.t);
  const [derived] = await db.sql<Digest['derived'][]>`
    select (select count(*)::int from pmmp.attributions where latest) as latest,
           (select count(*)::int from pmmp.attributions where notice_published_on is not null) as notice_published_on,
           (select count(*)::int from pmmp.consultations where award_outcome is not null) as award_outcome`;
  return { relations, indexes, triggers, derived: derived! };
}

after(async () => {
  for (const db of built) {
    await db.close();
    await rm(db.proofDir, { recursive: true, force: true });
  }
  const admin = connectPostgres(new URL('/postgres', base).toString(), { max: 1 });
  try {
    for (const db of built) await admin.sql.unsafe(`drop database if exists "${db.name}" with (force)`);
  } finally {
    await admin.close();
  }
});

test('the bulk load leaves the same database as the per-batch load', { timeout: 300_000 }, async () => {
  const perBatch = await build(false);
  const bulk = await build(true);
  const { ms: _a, ...perBatchCounts } = perBatch.summary;
  const { ms: _b, ...bulkCounts } = bulk.summary;
  assert.deepEqual(bulkCounts, perBatchCounts);
  const [expected, actual] = [await digest(perBatch), await digest(bulk)];
  for (const rel of WRITTEN) assert.ok((expected.relations[rel]?.rows ?? 0) > 0, `${rel} holds rows`);
  for (const [what, n] of Object.entries(expected.derived)) assert.ok(n > 0, `some ${what} set`);
  assert.deepEqual(actual.derived, expected.derived);
  assert.deepEqual(Object.keys(actual.relations), Object.keys(expected.relations));
  for (const rel of Object.keys(expected.relations)) assert.deepEqual(actual.relations[rel], expected.relations[rel], rel);
  assert.deepEqual(actual.indexes, expected.indexes);
  assert.deepEqual(actual.triggers, expected.triggers);
  assert.ok(!expected.triggers.some((t) => !t.endsWith(' O')), 'every trigger of the per-batch build fires');
});
