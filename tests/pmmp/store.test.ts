/**
 * The set-based consultation store on a real PostgreSQL: a key read twice in one batch, lots replaced
 * only where they changed, the publication day only filled, and a value the database refuses (a NUL
 * byte, class 22) rejected alone while the other rows of the batch are stored.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/store.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { storeConsultations, upsertConsultations, type ConsultationRecord } from '../../activities/pmmp/store';
import type { NewLot } from '../../schema/pmmp/tables';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`truncate pmmp.lots, pmmp.notices, pmmp.consultation_search, pmmp.consultations`;
});

const KEY = { orgAcronyme: 'org', refConsultation: '1' };

function record(ref: string, object: string, opts: { lots?: number[]; publishedOn?: string | null } = {}): ConsultationRecord {
  const key = { orgAcronyme: 'org', refConsultation: ref };
  const lots: NewLot[] = (opts.lots ?? []).map((n) => ({ ...key, lotNumber: n, object: `lot ${n}`, qualifications: [], agrements: [], proofId: 'p' }));
  return {
    row: {
      ...key,
      object,
      publishedOn: opts.publishedOn === undefined ? '2026-03-02' : opts.publishedOn,
      siteVisits: [],
      qualifications: [],
      agrements: [],
      activityDomains: [],
      allotted: lots.length > 0,
      contentHash: `${object}/${lots.map((l) => l.lotNumber).join(',')}`,
    },
    lots,
    notices: [{ ...key, idAvis: `a${ref}`, kind: 'avis', url: `https://portal.example/${ref}`, label: null, annonceType: null, publishedOn: null }],
  };
}

const rows = () => db.sql`select ref_consultation, object, published_on::text, updated_at::text from pmmp.consultations order by 1`;
const lotRows = () => db.sql`select lot_number, updated_at::text from pmmp.lots where ref_consultation = ${KEY.refConsultation} order by 1`;

describe('pmmp consultation store', () => {
  it('a key read twice in one batch: both readings are written in order, the last one stays', async () => {
    const counts = await upsertConsultations(db.db, [record('1', 'first'), record('2', 'other'), record('1', 'second')]);
    assert.deepEqual(counts, { inserted: 2, updated: 1, unchanged: 0 });
    assert.deepEqual(
      (await rows()).map((r) => [r['ref_consultation'], r['object']]),
      [
        ['1', 'second'],
        ['2', 'other'],
      ],
    );
  });

  it('unchanged rows and lots keep their updated_at; a dropped lot goes; the publication day is only filled', async () => {
    await upsertConsultations(db.db, [record('1', 'same', { lots: [1, 2, 3], publishedOn: null })]);
    const before = await lotRows();
    assert.deepEqual(await upsertConsultations(db.db, [record('1', 'same', { lots: [1, 2, 3], publishedOn: null })]), { inserted: 0, updated: 0, unchanged: 1 });
    // Only the day is new: the row is written for it, the lots are untouched.
    assert.deepEqual(await upsertConsultations(db.db, [record('1', 'same', { lots: [1, 2, 3] })]), { inserted: 0, updated: 1, unchanged: 0 });
    assert.equal((await rows())[0]?.['published_on'], '2026-03-02');
    assert.deepEqual(await lotRows(), before);
    // A notice list has no day: the stored one stays.
    await upsertConsultations(db.db, [record('1', 'changed', { lots: [1, 3], publishedOn: null })]);
    assert.equal((await rows())[0]?.['published_on'], '2026-03-02');
    // Lot 2 is gone; lots 1 and 3 say the same and were not rewritten.
    assert.deepEqual([...(await lotRows())], [before[0], before[2]]);
  });

  it('a value the database refuses: that record is reported with the error, the others of the batch are stored', async () => {
    await db.db.transaction(async (tx) => {
      const outcomes = await storeConsultations(tx, [record('1', 'fine', { lots: [1] }), record('2', 'nul \u0000 byte'), record('3', 'fine too')]);
      assert.equal(outcomes[0], 'inserted');
      assert.equal(outcomes[2], 'inserted');
      const refused = outcomes[1];
      assert.ok(typeof refused === 'object' && refused.refused.code.startsWith('22'), `refused by the database: ${JSON.stringify(refused)}`);
    });
    assert.deepEqual(
      (await rows()).map((r) => r['ref_consultation']),
      ['1', '3'],
    );
    assert.equal((await lotRows()).length, 1);
    assert.deepEqual((await db.sql`select ref_consultation from pmmp.notices order by 1`).map((r) => r['ref_consultation']), ['1', '3']);
  });
});
