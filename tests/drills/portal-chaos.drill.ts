/**
 * Drill `portal-chaos`: a pmmp backfill of two months against the portal replica with its fault knobs on —
 * 429s (with Retry-After), 500/502/503s and truncated pages (short bodies and connections reset mid-body)
 * on every page kind — ends with the database equal to the replica's oracle: every consultation of the
 * window exactly once with its fields and lots, every /bdc/ result with its outcome, winner and amount.
 * The faults are counted by the replica, so the drill fails if none were served.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PmmpBackfillResult } from '../../workflows/pmmp/backfill';
import { startPmmpWorld, type PmmpWorld } from '../pmmp/worker';
import { DEFAULT_KNOBS } from '../replicas/pmmp/index';

const FROM = '2026-06-01';
const TO = '2026-07-31';
let world: PmmpWorld;

const money = (v: unknown) => (v === null || v === undefined ? null : Number(v).toFixed(2));

before(async () => {
  world = await startPmmpWorld('chaos');
});

after(async () => {
  await world?.close();
});

describe('portal chaos during a backfill', () => {
  it("429s, 5xx and truncated pages on every page kind: the stored rows equal the replica's oracle", async () => {
    world.replica.resetStats();
    world.replica.setKnobs({
      ...DEFAULT_KNOBS,
      rate429: 0.04,
      retryAfterSeconds: 1,
      rate5xx: 0.06,
      truncate: { rate: 0.06 },
    });
    const r = (await world.temporal.client.workflow.execute('pmmpBackfill', {
      taskQueue: world.taskQueue,
      workflowId: `drill-portal-chaos-${randomBytes(3).toString('hex')}`,
      args: [{ from: FROM.slice(0, 7), to: TO.slice(0, 7), concurrency: 2, documents: false }],
    })) as PmmpBackfillResult;
    const stats = world.replica.stats();
    const faults = Object.values(stats.byKind).reduce((f, k) => ({ rateLimited: f.rateLimited + k.faults.rateLimited, serverError: f.serverError + k.faults.serverError, truncated: f.truncated + k.faults.truncated }), { rateLimited: 0, serverError: 0, truncated: 0 });
    console.log(`portal chaos: ${stats.requests} requests, faults ${JSON.stringify(faults)}`);
    assert.equal(r.status, 'success', JSON.stringify(r));
    assert.ok(faults.rateLimited > 0 && faults.serverError > 0 && faults.truncated > 0, `every kind of fault served: ${JSON.stringify(faults)}`);

    const want = world.replica.oracle.consultations({ publishedFrom: FROM, publishedTo: TO });
    assert.ok(want.length > 40, `${want.length} consultations in the window`);
    assert.equal(r.counts.listed, want.length);
    const rows = await world.db.sql<Record<string, unknown>[]>`
      select c.org_acronyme || '/' || c.ref_consultation as k, c.reference, c.object, c.procedure_code, c.published_on::text as published_on,
             c.allotted, c.lot_count, c.estimation_ttc::text as estimation_ttc,
             coalesce((select jsonb_agg(jsonb_build_array(l.lot_number, l.object) order by l.lot_number) from pmmp.lots l
               where l.org_acronyme = c.org_acronyme and l.ref_consultation = c.ref_consultation), '[]'::jsonb) as lots
        from pmmp.consultations c where c.published_on between ${FROM} and ${TO} order by 1`;
    const got = rows.map((c) => ({
      k: c['k'],
      reference: c['reference'],
      object: c['object'],
      procedureCode: c['procedure_code'],
      publishedOn: c['published_on'],
      allotted: c['allotted'],
      lotCount: c['lot_count'],
      estimationTtc: money(c['estimation_ttc']),
      lots: c['lots'],
    }));
    const expected = want
      .map((o) => ({
        k: `${o.orgAcronyme}/${o.refConsultation}`,
        reference: o.reference,
        object: o.object,
        procedureCode: o.procedureCode,
        publishedOn: o.publishedOn,
        allotted: o.allotted,
        lotCount: o.lotCount,
        estimationTtc: money(o.estimationTtc),
        lots: o.lots.map((l) => [l.lotNumber, l.object]),
      }))
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    assert.equal(got.length, expected.length, 'every consultation of the window exactly once');
    assert.deepEqual(got, expected, 'consultations and lots equal the oracle');

    // The store keys a /bdc/ result by its buyer, reference and publication (the portal shows no id).
    const byContent = (a: object, b: object) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
    const bdcWant = world.replica.oracle
      .bdcResults({ publishedFrom: FROM, publishedTo: TO })
      .map((b) => ({ reference: b.reference, outcome: b.outcome, winner: b.winner, amount: money(b.amountTtc) }))
      .sort(byContent);
    const bdcRows = await world.db.sql<Record<string, unknown>[]>`
      select reference, outcome, winner, amount_ttc::text as amount from pmmp.bdc_results
       where result_published_at >= ${FROM}::date and result_published_at < ${TO}::date + 1`;
    const bdcGot = bdcRows.map((b) => ({ reference: b['reference'], outcome: b['outcome'], winner: b['winner'], amount: money(b['amount']) })).sort(byContent);
    assert.equal(bdcGot.length, bdcWant.length, 'every /bdc/ result of the window exactly once');
    assert.ok(bdcWant.length > 0, 'the window has /bdc/ results');
    assert.deepEqual(bdcGot, bdcWant, '/bdc/ results equal the oracle');
  });
});
