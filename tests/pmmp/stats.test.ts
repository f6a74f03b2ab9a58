/** The pmmp statistics views on the real PostgreSQL: a lot stated twice counts once, by its latest word. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { attributions, consultations, notices } from '../../schema/pmmp/tables';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

test('monthly stats, top buyers and top winners count each lot once, the résultat définitif over the PV', async () => {
  const key = { orgAcronyme: 'g3h', refConsultation: '1034700' };
  await db.db.insert(consultations).values([
    { ...key, buyer: 'COMMUNE X', marketKind: 'travaux', publishedOn: '2026-08-03', estimationTtc: '1000000.00' },
    { orgAcronyme: 'g3h', refConsultation: '1034701', buyer: 'COMMUNE X', marketKind: 'travaux', publishedOn: '2026-08-20', estimationTtc: '500000.00' },
  ]);
  await db.db.insert(notices).values([
    { ...key, idAvis: '11', kind: 'extrait_pv', url: 'https://example.org/pv', publishedOn: '2026-08-25' },
    { ...key, idAvis: '12', kind: 'resultat_definitif', url: 'https://example.org/res', publishedOn: '2026-09-02' },
  ]);
  await db.db.insert(attributions).values([
    { ...key, idAvis: '11', lotKey: '', status: 'attribue', winner: 'Ste  Atlas  BTP', amount: '990000.00' },
    { ...key, idAvis: '12', lotKey: '', status: 'attribue', winner: 'STE ATLAS BTP', amount: '980000.00' },
  ]);
  for (const view of ['stats_monthly', 'top_buyers', 'top_winners']) await db.sql.unsafe(`refresh materialized view concurrently pmmp.${view}`);

  const [month] = await db.sql`select month::text, market_kind, consultations, estimation_ttc_total::text, lots_awarded, awarded_amount_total::text from pmmp.stats_monthly`;
  assert.deepEqual({ ...month }, {
    month: '2026-08-01', market_kind: 'travaux', consultations: 2, estimation_ttc_total: '1500000.00', lots_awarded: 1, awarded_amount_total: '980000.00',
  });
  const [buyer] = await db.sql`select buyer, consultations, lots_awarded from pmmp.top_buyers`;
  assert.deepEqual({ ...buyer }, { buyer: 'COMMUNE X', consultations: 2, lots_awarded: 1 });
  const winners = await db.sql`select winner, lots_won, awarded_amount_total::text from pmmp.top_winners`;
  assert.deepEqual(winners.map((w) => ({ ...w })), [{ winner: 'STE ATLAS BTP', lots_won: 1, awarded_amount_total: '980000.00' }]);
});
