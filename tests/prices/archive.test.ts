/** The archive's bulk path against FerretDB's limits, and the upsert on a fresh connection. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectPostgres } from '../../activities/engine/db';
import { archiveWindow, ensureArchiveIndexes, verifyWindow } from '../../activities/prices/archive';
import { upsertQuotes, type QuoteRow } from '../../activities/prices/store';
import { createTestArchive, createTestDatabase, type TestArchive, type TestDatabase } from '../support/services';

let db: TestDatabase;
let archive: TestArchive;
before(async () => {
  [db, archive] = await Promise.all([createTestDatabase(), createTestArchive()]);
});
after(async () => {
  await Promise.allSettled([db?.drop(), archive?.drop()]);
});

function rows(days: number, assets: number, price: (i: number) => string): QuoteRow[] {
  const out: QuoteRow[] = [];
  for (let d = 0; d < days; d++) {
    const date = new Date(Date.UTC(2026, 0, 1 + d)).toISOString().slice(0, 10);
    for (let a = 0; a < assets; a++) {
      out.push({
        assetCode: `A${String(a).padStart(3, '0')}`, quoteDate: date, assetClass: 'fx', priceMru: price(d * assets + a), unit: '1 unit',
        source: 'bench', sourceTimestamp: `${date}T00:00:00.000Z`, direction: 'direct', sourceValue: '1', sourceCurrency: 'MRU', runId: null,
      });
    }
  }
  return out;
}

test('upsertQuotes works as the very first query of a new connection', async () => {
  const fresh = connectPostgres(db.url, { max: 1 });
  try {
    const counts = await upsertQuotes(fresh.sql, rows(1, 3, (i) => `${40 + i}.00000000`));
    assert.deepEqual(counts, { inserted: 3, updated: 0, unchanged: 0 });
  } finally {
    await fresh.close();
  }
});

test('150 changed documents are rewritten in one run without wedging FerretDB (it hangs on 100+ updates in one command)', async () => {
  const window = { from: '2026-01-01', to: '2026-01-10' };
  await upsertQuotes(db.sql, rows(10, 15, (i) => `${100 + i}.00000000`));
  await ensureArchiveIndexes(archive.db);
  const first = await archiveWindow(db.sql, archive.db, window);
  assert.equal(first.inserted, 150);
  await upsertQuotes(db.sql, rows(10, 15, (i) => `${200 + i}.00000000`));
  const second = await archiveWindow(db.sql, archive.db, window);
  assert.deepEqual({ ...second }, { pgRows: 150, inserted: 0, updated: 150, unchanged: 0, deleted: 0 });
  const report = await verifyWindow(db.sql, archive.db, window);
  assert.ok(report.ok, JSON.stringify(report.samples));
  assert.equal(await archive.db.command({ ping: 1 }).then((r) => r.ok), 1, 'the archive still answers');
});
