/**
 * The full-load path on its own, against PostgreSQL: the shadow table filled by parallel writers whose
 * cursors commit in order, keys kept distinct (within a batch, across batches, and the ones only the
 * database sees as equal), an interrupted load resumed, and the shaping of awkward values.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BatchWriter, ensureColumns, ensureTable, qualified, ShadowLoad, tableColumns } from '../../activities/apisync/loader';
import { RowShaper, unescapeCopy, escapeCopy } from '../../activities/apisync/shape';
import type { StreamDefinition } from '../../activities/apisync/definition';
import type { TransactionSql } from 'postgres';
import { createTestDatabase, type TestDatabase } from '../support/services';

const RUN = '00000000-0000-4000-8000-00000000a001';
const TABLE = 'test_widgets';

const stream: StreamDefinition = {
  name: 'widgets',
  path: '/widgets',
  primaryKey: 'id',
  pagination: { style: 'cursor', cursorParam: 'cursor', limitParam: 'limit', nextField: 'next_cursor', hasMoreField: 'has_more', itemsField: 'items' },
  incremental: { strategy: 'none' },
  fields: { id: 'bigint', label: 'text', amount: 'numeric', owner: { type: 'bigint', transform: 'ref' }, updatedAt: 'timestamptz' },
} as unknown as StreamDefinition;

function widget(id: number | string, label: string, amount = '1.00'): Record<string, unknown> {
  return { id, label, amount, owner: { id: 7, url: 'https://api.example/owners/7' }, updatedAt: '2026-11-20T10:00:00Z' };
}

let db: TestDatabase;
let shaper: RowShaper;

before(async () => {
  db = await createTestDatabase();
  shaper = new RowShaper(stream);
  await ensureTable(db.sql, TABLE, shaper.primaryKeyColumn, shaper.columns);
  await ensureColumns(db.sql, TABLE, await tableColumns(db.sql, TABLE), shaper.columns, { source: 'test', stream: 'widgets', runId: null });
  await db.sql`insert into apisync.sync_state (source, stream) values ('test', 'widgets') on conflict do nothing`;
});
after(async () => db?.drop());

async function cursor(): Promise<unknown> {
  const [row] = await db.sql<{ pending: { position: number } | null }[]>`select pending from apisync.sync_state where source = 'test' and stream = 'widgets'`;
  return row?.pending?.position ?? null;
}

/** Writes the batches as a full sync does; returns rows loaded and duplicates replaced. */
async function load(target: ShadowLoad, batches: Record<string, unknown>[][], writers: number, firstPosition = 0) {
  const writer = new BatchWriter(db.sql, writers);
  let loaded = 0;
  let duplicates = 0;
  let position = firstPosition;
  for (const items of batches) {
    const batch = shaper.shape(items);
    duplicates += batch.duplicates;
    const repeated = target.repeated(batch);
    const at = ++position;
    await writer.submit({
      exclusive: repeated.length > 0,
      load: (tx) => target.write(tx, batch, repeated),
      seal: async (tx, done) => {
        loaded += done.loaded;
        duplicates += done.replaced;
        await tx`update apisync.sync_state set pending = ${JSON.stringify({ position: at })}::jsonb where source = 'test' and stream = 'widgets'`;
      },
    });
  }
  await writer.drain();
  return { loaded, duplicates };
}

async function rows(table = TABLE): Promise<{ id: string; label: string; amount: string; run: string | null }[]> {
  return db.sql.unsafe(`select id::text, label, amount::text, _run_id::text as run from ${qualified(table)} order by id`);
}

describe('apisync full load', () => {
  test('parallel writers fill the shadow table; the last record of a key wins, within a batch and across batches', async () => {
    const target = await ShadowLoad.create(db.sql, TABLE, shaper.primaryKeyColumn, RUN);
    const batches = [
      [widget(1, 'one'), widget(2, 'two'), widget(1, 'one, again')],
      [widget(3, 'three'), widget(4, 'four')],
      [widget(2, 'two, later'), widget(5, 'five')],
      [widget(6, 'six')],
    ];
    const { loaded, duplicates } = await load(target, batches, 3);
    assert.equal(loaded, 6, 'six distinct keys');
    assert.equal(duplicates, 2, 'one repeated inside a batch, one across batches');
    assert.equal(await cursor(), 4, 'the cursor of the last batch');
    assert.equal(await target.buildKey(), 0);
    await db.sql.begin((tx) => target.swap(tx));
    const live = await rows();
    assert.deepEqual(
      live.map((r) => [r.id, r.label]),
      [
        ['1', 'one, again'],
        ['2', 'two, later'],
        ['3', 'three'],
        ['4', 'four'],
        ['5', 'five'],
        ['6', 'six'],
      ],
    );
    assert.ok(live.every((r) => r.run === RUN), 'every row carries the run');
    const [key] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_constraint where conname = ${`${TABLE}_pkey`} and contype = 'p'`;
    assert.equal(key?.n, 1, 'the live table has its primary key back under its own name');
    const [dflt] = await db.sql<{ d: string | null }[]>`
      select column_default as d from information_schema.columns where table_schema = 'apisync' and table_name = ${TABLE} and column_name = '_run_id'`;
    assert.equal(dflt?.d, null, "the run's default does not outlive the load");
  });

  test('keys only the database sees as equal (007 and 7) are collapsed when the key is built, newest kept', async () => {
    const target = await ShadowLoad.create(db.sql, TABLE, shaper.primaryKeyColumn, RUN);
    await load(target, [[widget(7, 'seven')], [widget('007', 'seven, as a string')]], 1);
    assert.equal(await target.buildKey(), 1, 'one duplicate removed');
    await db.sql.begin((tx) => target.swap(tx));
    assert.deepEqual(
      (await rows()).map((r) => [r.id, r.label]),
      [['7', 'seven, as a string']],
    );
  });

  test('a batch that fails takes the later batches down with it: no cursor gets ahead of missing rows', async () => {
    await db.sql`update apisync.sync_state set pending = ${JSON.stringify({ position: 0 })}::jsonb where source = 'test' and stream = 'widgets'`;
    const target = await ShadowLoad.create(db.sql, TABLE, shaper.primaryKeyColumn, RUN);
    const writer = new BatchWriter(db.sql, 2);
    const seal = (position: number) => async (tx: TransactionSql) => {
      await tx`update apisync.sync_state set pending = ${JSON.stringify({ position })}::jsonb where source = 'test' and stream = 'widgets'`;
    };
    const good = shaper.shape([widget(10, 'ten')]);
    const later = shaper.shape([widget(12, 'twelve')]);
    await writer.submit({ load: (tx) => target.write(tx, good, []), seal: seal(1) });
    await writer.drain();
    let laterLoaded!: () => void;
    const laterStarted = new Promise<void>((r) => (laterLoaded = r));
    // The second batch fails once the third has loaded its rows (both in flight at once).
    await writer.submit({
      load: async () => {
        await laterStarted;
        throw new Error('connection lost in the middle of batch 2');
      },
      seal: seal(2),
    });
    let failure: unknown;
    try {
      await writer.submit({
        load: async (tx) => {
          const done = await target.write(tx, later, []);
          laterLoaded();
          return done;
        },
        seal: seal(3),
      });
      await writer.drain();
    } catch (err) {
      failure = err;
    }
    assert.match(String((failure as Error)?.message), /batch 2/, 'the failure surfaces');
    await writer.drain().catch(() => {});
    // The third batch's transaction ends its rollback on its own connection.
    for (let i = 0; i < 50 && (await db.sql.unsafe(`select 1 from ${qualified(target.shadow)} where id = 12`)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await cursor(), 1, 'the cursor stays after the last batch whose rows are all there');
    const shadowRows = await db.sql.unsafe(`select id::text from ${qualified(target.shadow)} order by id`);
    assert.deepEqual(
      shadowRows.map((r) => r.id),
      ['10'],
      'the batch after the failed one was rolled back too',
    );
  });

  test('a row PostgreSQL refuses is rejected with its message; the rest of the batch loads', async () => {
    const target = await ShadowLoad.create(db.sql, TABLE, shaper.primaryKeyColumn, RUN);
    // Values the shaping lets through (they look right) but the server does not take.
    const batch = shaper.shape([
      widget(50, 'fifty'),
      { ...widget(51, 'month 13'), updatedAt: '2026-13-01T10:00:00Z' },
      widget(52, 'fifty-two'),
      { ...widget(53, 'nul \u0000 byte') },
      widget(54, 'fifty-four'),
    ]);
    assert.equal(batch.rows, 5, 'the shaping accepted all five');
    const writer = new BatchWriter(db.sql, 1);
    let result: Awaited<ReturnType<ShadowLoad['write']>> | undefined;
    await writer.submit({ load: (tx) => target.write(tx, batch, []), seal: async (_tx, done) => void (result = done) });
    await writer.drain();
    assert.equal(result?.loaded, 3);
    assert.deepEqual(
      result?.refused.map((r) => r.key),
      ['51', '53'],
    );
    assert.match(result!.refused[0]!.reason, /^PostgreSQL refused it: .*out of range.*\(COPY .*line 2, column updated_at/);
    assert.match(result!.refused[1]!.reason, /0x00/);
    assert.equal((result!.refused[0]!.payload as { label: string }).label, 'month 13', 'the record itself is kept for the rejected-records table');
    assert.deepEqual(
      (await db.sql.unsafe(`select id::text from ${qualified(target.shadow)} order by id`)).map((r) => r.id),
      ['50', '52', '54'],
    );
  });

  test('an interrupted load resumes into its shadow table and still recognises the keys it wrote', async () => {
    const first = await ShadowLoad.create(db.sql, TABLE, shaper.primaryKeyColumn, RUN);
    await load(first, [[widget(20, 'twenty'), widget(21, 'twenty-one')]], 2);
    // A new attempt (another worker): only the shadow table and the cursor survive.
    const resumed = await ShadowLoad.resume(db.sql, TABLE, shaper.primaryKeyColumn);
    assert.ok(resumed, 'the shadow table is found');
    const { loaded, duplicates } = await load(resumed, [[widget(21, 'twenty-one, changed'), widget(22, 'twenty-two')]], 2, 1);
    assert.equal(loaded, 1);
    assert.equal(duplicates, 1, 'key 21, written by the first attempt, is replaced, not doubled');
    assert.equal(await resumed.buildKey(), 0);
    // Built already: an attempt dying between the key and the swap builds nothing twice.
    assert.equal(await resumed.buildKey(), 0);
    await db.sql.begin((tx) => resumed.swap(tx));
    assert.deepEqual(
      (await rows()).map((r) => [r.id, r.label]),
      [
        ['20', 'twenty'],
        ['21', 'twenty-one, changed'],
        ['22', 'twenty-two'],
      ],
    );
    assert.equal(await ShadowLoad.resume(db.sql, TABLE, shaper.primaryKeyColumn), undefined, 'no shadow table is left');
  });
});

describe('apisync shaping', () => {
  test('values needing work take the slow path: trimmed, escaped, converted, or their record rejected', () => {
    const batch = shaper.shape([
      { ...widget(30, '  padded\tand\ttabbed \n'), amount: ' 12.50 ' },
      { ...widget(31, 'back\\slash'), amount: 3, owner: null },
      { ...widget(32, 'bad amount'), amount: '12,50' },
      { ...widget(33, 'bad time'), updatedAt: 'yesterday' },
      { ...widget(34, 'ref without url'), owner: 9 },
    ]);
    assert.equal(batch.rows, 3);
    const lines = batch.text.trimEnd().split('\n').map((l) => l.split('\t'));
    assert.deepEqual(lines[0], ['30', 'padded\\tand\\ttabbed', '12.50', '7', '2026-11-20T10:00:00Z']);
    assert.deepEqual(lines[1], ['31', 'back\\\\slash', '3', '\\N', '2026-11-20T10:00:00Z']);
    assert.deepEqual(lines[2], ['34', 'ref without url', '1.00', '9', '2026-11-20T10:00:00Z']);
    assert.deepEqual(
      batch.rejected.map((r) => [r.key, r.reason]),
      [
        ['32', 'amount = "12,50": not an exact decimal (column amount is numeric)'],
        ['33', 'updatedAt = "yesterday": not an ISO 8601 timestamp (column updated_at is timestamptz)'],
      ],
    );
  });

  test('COPY escaping round-trips', () => {
    for (const s of ['plain', 'a\\b', 'tab\there', 'line\nbreak\r', '\\n literally']) assert.equal(unescapeCopy(escapeCopy(s)), s);
  });

  test('a field name that is not an identifier is read as it is, not run', () => {
    const odd: StreamDefinition = { ...stream, fields: { ...stream.fields, "x'];throw 1;//": 'text' } } as StreamDefinition;
    const s = new RowShaper(odd);
    const batch = s.shape([{ ...widget(40, 'odd'), "x'];throw 1;//": 'value' }]);
    assert.equal(batch.rows, 1);
    assert.ok(batch.text.trimEnd().endsWith('\tvalue'));
  });
});
