/** The archive's bulk path against FerretDB's limits, and the upsert on a fresh connection. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectPostgres } from '../../activities/engine/db';
import { archiveWindow, ensureArchiveIndexes, verifyWindow } from '../../activities/prices/archive';
import { upsertQuotes, type QuoteRow } from '../../activities/prices/store';
import { seriesValue, testTelemetry } from '../support/metrics';
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

test('a verify that finds the archive different from PostgreSQL counts the differing rows on the metrics endpoint', async () => {
  const telemetry = testTelemetry();
  const window = { from: '2026-03-01', to: '2026-03-02' };
  const quotes = rows(2, 2, (i) => `${300 + i}.00000000`).map((r, i) => ({ ...r, quoteDate: i < 2 ? window.from : window.to }));
  await upsertQuotes(db.sql, quotes);
  await ensureArchiveIndexes(archive.db);
  await archiveWindow(db.sql, archive.db, window);
  const before = seriesValue(await telemetry.scrape(), 'moisson_archive_verify_mismatches_total');
  assert.ok((await verifyWindow(db.sql, archive.db, window)).ok);
  assert.equal(seriesValue(await telemetry.scrape(), 'moisson_archive_verify_mismatches_total'), before, 'a clean verify records nothing');
  await archive.db.collection('prices').deleteOne({ date: window.to });
  const report = await verifyWindow(db.sql, archive.db, window);
  assert.equal(report.missing, 1);
  assert.equal(seriesValue(await telemetry.scrape(), 'moisson_archive_verify_mismatches_total', { collection: 'prices' }), before + 1);
});
