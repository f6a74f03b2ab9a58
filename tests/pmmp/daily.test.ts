/**
 * The daily run, end to end on a real Temporal dev server against the portal replica: what lands in
 * PostgreSQL is compared with the replica's oracle, stream by stream.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/daily.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { PmmpDailyResult, PmmpProgress } from '../../workflows/pmmp/daily';
import { DEFAULT_KNOBS } from '../replicas/pmmp/index';
import { recordHistories } from '../support/histories';
import { startPmmpWorld, storedConsultations as stored, type PmmpWorld } from './worker';

let world: PmmpWorld;
const histories = new URL('./histories/', import.meta.url);
const key = (c: { orgAcronyme: string; refConsultation: string }) => `${c.orgAcronyme}/${c.refConsultation}`;
const NOTICE_KIND = { pv: 'extrait_pv', resultat: 'resultat_definitif', achevement: 'achevement' } as const;

function minusDays(day: string, n: number): string {
  const t = new Date(`${day}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() - n);
  return t.toISOString().slice(0, 10);
}

async function daily(day: string, extra: Record<string, unknown> = {}, suffix = ''): Promise<PmmpDailyResult> {
  return world.temporal.client.workflow.execute('pmmpDaily', { taskQueue: world.taskQueue, workflowId: `pmmp-daily-${day}${suffix}`, args: [{ day, ...extra }] });
}

const storedConsultations = (from: string, to: string) => stored(world.db, from, to);

before(async () => {
  world = await startPmmpWorld('daily');
});

after(async () => {
  await world?.close();
});

beforeEach(() => {
  world.replica.setKnobs({ ...DEFAULT_KNOBS });
});

describe('pmmpDaily', () => {
  const DAY = '2026-09-16';
  const FROM = minusDays(DAY, 1);

  it('extracts the day: consultations, the three notice lists, /bdc/, documents; the database equals the oracle', async () => {
    const r = await daily(DAY);
    assert.equal(r.status, 'success', JSON.stringify(r.streams));
    await recordHistories(world.temporal.client, histories, 'day', `pmmp-daily-${DAY}`);
    assert.equal(r.day, DAY);
    assert.deepEqual(r.streams.map((s) => s.stream).sort(), ['bdc', 'consultations', 'documents', 'notices-achevements', 'notices-pv', 'notices-resultats']);

    const want = world.replica.oracle.consultations({ publishedFrom: FROM, publishedTo: DAY });
    assert.ok(want.length > 10, `${want.length} consultations in the window`);
    assert.deepEqual(await storedConsultations(FROM, DAY), want.map(key).sort());

    // Every notice published in the window is found through its list and its consultation's detail page,
    // downloaded, and read; its kind and publication day come from the list.
    const notices = await world.db.sql<{ k: string; kind: string; published_on: string | null; proof_id: string | null; parser_version: string | null }[]>`
      select org_acronyme || '/' || ref_consultation || '/' || id_avis as k, kind, published_on, proof_id, parser_version from pmmp.notices`;
    const byKey = new Map(notices.map((n) => [n.k, n]));
    let expectedNotices = 0;
    for (const type of ['pv', 'resultat', 'achevement'] as const) {
      for (const n of world.replica.oracle.notices(type, { publishedFrom: FROM, publishedTo: DAY })) {
        expectedNotices++;
        const got = byKey.get(`${key(n)}/${n.idAvis}`);
        assert.ok(got, `${type} notice ${key(n)}/${n.idAvis} discovered`);
        assert.equal(got.kind, NOTICE_KIND[type]);
        assert.equal(got.published_on, n.publishedOn);
        assert.ok(got.proof_id, `${key(n)}/${n.idAvis} downloaded`);
        assert.ok(got.parser_version, `${key(n)}/${n.idAvis} read`);
      }
    }
    assert.ok(expectedNotices > 10, `${expectedNotices} notices in the window`);
    assert.equal(r.noticesPending, 0);
    assert.ok(r.documents && r.documents.documents >= expectedNotices, `documents read: ${JSON.stringify(r.documents)}`);
    const completions = world.replica.oracle.notices('achevement', { publishedFrom: FROM, publishedTo: DAY }).length;
    const [achevements] = await world.db.sql<{ n: number }[]>`select count(*)::int as n from pmmp.achevements where completed_on is not null and final_amount is not null`;
    assert.equal(achevements!.n, completions, 'each rapport d’achèvement read: final amount, completion day');
    const [awarded] = await world.db.sql<{ n: number }[]>`select count(*)::int as n from pmmp.attributions where status = 'attribue'`;
    assert.ok(awarded!.n > 0, 'attributions read from the documents');

    // /bdc/: three days, each card once although the order drifts between requests.
    const bdcWant = world.replica.oracle.bdcResults({ publishedFrom: minusDays(DAY, 2), publishedTo: DAY });
    const bdcRows = await world.db.sql<{ reference: string; buyer: string; outcome: string }[]>`select reference, buyer, outcome from pmmp.bdc_results`;
    assert.ok(bdcWant.length > 5, `${bdcWant.length} /bdc/ results`);
    assert.deepEqual(
      bdcRows.map((b) => `${b.buyer}|${b.reference}|${b.outcome}`).sort(),
      bdcWant.map((b) => `${b.buyer}|${b.reference}|${b.outcome}`).sort(),
    );

    // The analysis step: the run row, one log row per stream, the statistics refreshed.
    const [run] = await world.db.sql<{ status: string; kind: string }[]>`select status, kind from etl.runs where id = ${r.runId}`;
    assert.deepEqual(run, { status: 'success', kind: 'daily' });
    const streams = (await world.db.sql<{ stream: string }[]>`select stream from etl.etl_logs where run_id = ${r.runId} order by stream`).map((s) => s.stream);
    for (const prefix of ['analysis', 'bdc:', 'consultations:searchAnnCons:', 'notices:AvisAttribution:', 'notices:AvisExtraitPV:', 'notices:AvisRapportAchevement:']) {
      assert.ok(streams.some((s) => s.startsWith(prefix)), `log row ${prefix} in ${streams.join(', ')}`);
    }
    const [stats] = await world.db.sql<{ n: number }[]>`select coalesce(sum(consultations), 0)::int as n from pmmp.stats_monthly`;
    assert.ok(stats!.n >= want.length, 'stats_monthly refreshed');

    const progress = await world.temporal.client.workflow.getHandle(`pmmp-daily-${DAY}`).query<PmmpProgress>('pmmpProgress');
    assert.equal(progress.phase, 'done');
    assert.equal(progress.streams.consultations, 'success');
  });

  it('running the same day again changes nothing', async () => {
    const count = async () =>
      world.db.sql`select (select count(*) from pmmp.consultations)::int as c, (select count(*) from pmmp.notices)::int as n,
        (select count(*) from pmmp.attributions)::int as a, (select count(*) from pmmp.bids)::int as b, (select count(*) from pmmp.bdc_results)::int as bdc,
        (select max(updated_at)::text from pmmp.consultations) as cu, (select max(updated_at)::text from pmmp.bdc_results) as bu`;
    const before = await count();
    const r = await daily(DAY, {}, '-again');
    assert.equal(r.status, 'success');
    const consultations = r.streams.find((s) => s.stream === 'consultations')!.counts!;
    assert.equal(consultations['inserted'], 0);
    assert.equal(consultations['updated'], 0);
    assert.equal(r.documents?.documents, 0, 'nothing left to download');
    assert.deepEqual(await count(), before);
  });

  it("the replica's 429s, 5xx and truncated pages slow the run but lose nothing", async () => {
    const day = '2026-10-07';
    world.replica.setKnobs({ ...DEFAULT_KNOBS, rate429: 0.04, retryAfterSeconds: 1, rate5xx: 0.04, truncate: { rate: 0.04, mode: 'short-body' } });
    const r = await daily(day);
    const faults = Object.values(world.replica.stats().byKind).reduce((n, k) => n + k.faults.rateLimited + k.faults.serverError + k.faults.truncated, 0);
    assert.ok(faults > 0, `${faults} faults injected`);
    assert.equal(r.status, 'success', JSON.stringify(r.streams));
    const want = world.replica.oracle.consultations({ publishedFrom: minusDays(day, 1), publishedTo: day });
    assert.deepEqual(await storedConsultations(minusDays(day, 1), day), want.map(key).sort());
    for (const n of world.replica.oracle.notices('pv', { publishedFrom: minusDays(day, 1), publishedTo: day })) {
      const [row] = await world.db.sql`select proof_id from pmmp.notices where org_acronyme = ${n.orgAcronyme} and ref_consultation = ${n.refConsultation} and id_avis = ${n.idAvis}`;
      assert.ok(row?.['proof_id'], `PV ${key(n)}/${n.idAvis} downloaded despite the faults`);
    }
  });

  it('a /bdc/ page whose shape changed fails that stream loudly, with its proof kept; the other streams complete', async () => {
    const day = '2026-10-21';
    world.replica.setKnobs({ ...DEFAULT_KNOBS, shapeChanged: ['bdc'] });
    const r = await daily(day);
    assert.equal(r.status, 'partial');
    const bdc = r.streams.find((s) => s.stream === 'bdc')!;
    assert.equal(bdc.status, 'failure');
    assert.match(bdc.error ?? '', /ResponseShapeError: \/bdc\/ results page of .*entreprise__card/);
    for (const s of r.streams.filter((x) => x.stream !== 'bdc')) assert.notEqual(s.status, 'failure', `${s.stream}: ${s.error}`);
    const want = world.replica.oracle.consultations({ publishedFrom: minusDays(day, 1), publishedTo: day });
    assert.deepEqual(await storedConsultations(minusDays(day, 1), day), want.map(key).sort());
    const [log] = await world.db.sql`select status, error from etl.etl_logs where run_id = ${r.runId} and stream = 'bdc'`;
    assert.equal(log?.['status'], 'failure');
    const [proof] = await world.db.sql`select count(*)::int as n from etl.proofs where kind = 'pmmp.bdc-results' and proof_id in (
      select proof_id from etl.proof_fetches where fetched_at > now() - interval '10 minutes')`;
    assert.ok((proof?.['n'] as number) > 0, 'the changed /bdc/ page is in the proof store');
    const [run] = await world.db.sql`select status from etl.runs where id = ${r.runId}`;
    assert.equal(run?.['status'], 'partial');
  });

  it('a day that is not a date is refused before any request', async () => {
    const before = world.replica.stats().requests;
    await assert.rejects(daily('2026-02-30'), (err: unknown) => {
      // The contract refuses the input at the boundary, naming the field.
      let e: unknown = err;
      while (e instanceof Error && e.cause) e = e.cause;
      assert.match(String((e as Error).message), /pmmpDaily input refused: day: is not a day of the calendar/);
      return true;
    });
    assert.equal(world.replica.stats().requests, before);
  });
});
