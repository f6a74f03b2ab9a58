/**
 * pmmp.consultation_search (0026) is kept by triggers on pmmp.consultations alone (0022): a TRUNCATE of
 * the consultations that does not name the side table works and empties it, and deletes and key
 * changes reach it as the foreign key's cascades did. Its stored one-word ranks (0023) follow each step.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
});

after(async () => {
  await db?.drop();
});

async function insert(...refs: string[]): Promise<void> {
  for (const ref of refs) {
    await db.sql`insert into pmmp.consultations (org_acronyme, ref_consultation, object, published_on) values ('t5y', ${ref}, ${`Travaux de ${ref}`}, '2026-11-20')`;
  }
}

async function sideKeys(): Promise<string[]> {
  const rows = await db.sql<{ ref_consultation: string; search: string }[]>`select ref_consultation, search::text from pmmp.consultation_search order by 1`;
  return rows.map((r) => `${r.ref_consultation}:${r.search}`);
}

/** Stored one-word ranks that differ from what the side table's rows give now, both ways, and how many are stored. */
async function lexemeDrift(): Promise<{ n: number; stored: number }> {
  const [row] = await db.sql<{ n: number; stored: number }[]>`
    with want as (select r.* from pmmp.consultation_search s, pmmp.search_lexeme_rows(s.org_acronyme, s.ref_consultation, s.published_on, s.search) r),
         got as (select * from pmmp.consultation_search_lexemes)
    select (select count(*)::int from (select * from want except all select * from got) a) +
           (select count(*)::int from (select * from got except all select * from want) b) as n,
           (select count(*)::int from got) as stored`;
  return row!;
}

async function consultationKeys(): Promise<string[]> {
  const rows = await db.sql<{ ref_consultation: string; search: string }[]>`select ref_consultation, search::text from pmmp.consultations order by 1`;
  return rows.map((r) => `${r.ref_consultation}:${r.search}`);
}

test('TRUNCATE of the consultations without naming the side table: both are emptied, later writes fill it again', async () => {
  await insert('quetzal', 'tlaloc');
  assert.equal((await sideKeys()).length, 2);
  // The list the tests used before 0026: it failed with "cannot truncate a table referenced in a foreign key constraint".
  await db.sql`truncate pmmp.lots, pmmp.notices, pmmp.consultations`;
  assert.deepEqual(await sideKeys(), []);
  assert.equal((await lexemeDrift()).n, 0);
  await insert('quetzal');
  await db.sql`truncate pmmp.consultations`;
  assert.deepEqual(await sideKeys(), []);
  assert.equal((await lexemeDrift()).n, 0);
  // Naming it too (as some tests do) still works.
  await insert('quetzal');
  await db.sql`truncate pmmp.consultation_search, pmmp.consultations`;
  assert.deepEqual(await sideKeys(), []);
  assert.equal((await lexemeDrift()).n, 0);
  await insert('xolotl');
  assert.deepEqual(await sideKeys(), await consultationKeys());
  assert.equal((await lexemeDrift()).n, 0);
  assert.ok((await lexemeDrift()).stored >= 2, 'the last writes filled the stored ranks again');
  const fks = await db.sql`select 1 from pg_constraint where conrelid = 'pmmp.consultation_search'::regclass and contype = 'f'`;
  assert.equal(fks.length, 0, 'no foreign key left to trip a TRUNCATE');
});

test('deletes and key changes reach the side table as the cascades did, a chain of renames included', async () => {
  await db.sql`truncate pmmp.consultations`;
  await insert('alpha', 'bravo', 'charlie', 'delta');
  await db.sql`delete from pmmp.consultations where ref_consultation in ('charlie', 'delta')`;
  assert.deepEqual(await sideKeys(), await consultationKeys());
  assert.equal((await lexemeDrift()).n, 0);
  assert.equal((await sideKeys()).length, 2);
  await db.sql`update pmmp.consultations set ref_consultation = 'echo' where ref_consultation = 'bravo'`;
  assert.deepEqual(await sideKeys(), await consultationKeys());
  assert.equal((await lexemeDrift()).n, 0);
  // A chain of renames in one statement (rows in insertion order: alpha's key is free when echo takes it).
  await db.sql`truncate pmmp.consultations`;
  await insert('alpha', 'echo');
  await db.sql`update pmmp.consultations set ref_consultation = case ref_consultation when 'alpha' then 'foxtrot' else 'alpha' end`;
  assert.deepEqual(await sideKeys(), await consultationKeys());
  assert.equal((await lexemeDrift()).n, 0);
  assert.deepEqual((await sideKeys()).map((k) => k.split(':')[0]), ['alpha', 'foxtrot']);
  assert.match((await sideKeys())[0]!, /^alpha:.*'echo'/, "alpha's side row holds the words of the row that took its key");
  // An upsert that does not touch the key (what the crawls do) keeps the side row as it was.
  const [before] = await db.sql<{ xmin: string }[]>`select xmin::text from pmmp.consultation_search where ref_consultation = 'alpha'`;
  await db.sql`
    insert into pmmp.consultations (org_acronyme, ref_consultation, object, published_on) values ('t5y', 'alpha', 'Travaux de echo', '2026-11-20')
    on conflict (org_acronyme, ref_consultation) do update set updated_at = now()`;
  const [same] = await db.sql<{ xmin: string }[]>`select xmin::text from pmmp.consultation_search where ref_consultation = 'alpha'`;
  assert.equal(same!.xmin, before!.xmin);
});
