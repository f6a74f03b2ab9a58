/**
 * The daily run and the backfill, end to end on a real Temporal dev server against the portal replica:
 * what lands in PostgreSQL is compared with the replica's oracle, stream by stream.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/daily.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createFetcher, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore, type ProofStore } from '../../activities/engine/proofs';
import type { PmmpBackfillProgress, PmmpBackfillResult } from '../../workflows/pmmp/backfill';
import type { PmmpDailyResult, PmmpProgress } from '../../workflows/pmmp/daily';
import type { PmmpReparseResult } from '../../workflows/pmmp/notices';
import { DEFAULT_KNOBS, startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { createTestDatabase, startTemporal, workflowBundle, type TestDatabase } from '../support/services';
import { pmmpActivities } from './worker';

let replica: PortalReplica;
let db: TestDatabase;
let proofDir: string;
let proofs: ProofStore;
let fetcher: Fetcher;
let temporal: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `pmmp-daily-${randomBytes(3).toString('hex')}`;

const key = (c: { orgAcronyme: string; refConsultation: string }) => `${c.orgAcronyme}/${c.refConsultation}`;
const NOTICE_KIND = { pv: 'extrait_pv', resultat: 'resultat_definitif', achevement: 'achevement' } as const;

function minusDays(day: string, n: number): string {
  const t = new Date(`${day}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() - n);
  return t.toISOString().slice(0, 10);
}

async function daily(day: string, extra: Record<string, unknown> = {}, suffix = ''): Promise<PmmpDailyResult> {
  return temporal.client.workflow.execute('pmmpDaily', { taskQueue, workflowId: `pmmp-daily-${day}${suffix}`, args: [{ day, ...extra }] });
}

async function storedConsultations(from: string, to: string): Promise<string[]> {
  const rows = await db.sql<{ k: string }[]>`
    select org_acronyme || '/' || ref_consultation as k from pmmp.consultations where published_on between ${from} and ${to} order by 1`;
  return rows.map((r) => r.k);
}

before(async () => {
  [replica, db, proofDir, temporal] = await Promise.all([
    startPortalReplica({ seed: 7, today: '2026-11-20', consultations: 10_000, bdcResults: 4_000 }),
    createTestDatabase(),
    mkdtemp(join(tmpdir(), 'moisson-pmmp-daily-')),
    startTemporal(),
  ]);
  proofs = createProofStore({ db: db.db, dir: proofDir });
  fetcher = createFetcher({ politeness: false, robots: false });
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: pmmpActivities({ db: db.db, fetcher, proofs, portalUrl: `${replica.url}/index.php`, requestTimeoutMs: 10_000, maxInlineWaitMs: 5_000 }),
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await fetcher?.close();
  await Promise.allSettled([temporal?.teardown(), replica?.close(), db?.drop(), proofDir ? rm(proofDir, { recursive: true, force: true }) : undefined]);
});

beforeEach(() => {
  replica.setKnobs({ ...DEFAULT_KNOBS });
});

describe('pmmpDaily', () => {
  const DAY = '2026-09-16';
  const FROM = minusDays(DAY, 1);

  it('extracts the day: consultations, the three notice lists, /bdc/, documents; the database equals the oracle', async () => {
    const r = await daily(DAY);
    assert.equal(r.status, 'success', JSON.stringify(r.streams));
    assert.equal(r.day, DAY);
    assert.deepEqual(r.streams.map((s) => s.stream).sort(), ['bdc', 'consultations', 'documents', 'notices-achevements', 'notices-pv', 'notices-resultats']);

    const want = replica.oracle.consultations({ publishedFrom: FROM, publishedTo: DAY });
    assert.ok(want.length > 10, `${want.length} consultations in the window`);
    assert.deepEqual(await storedConsultations(FROM, DAY), want.map(key).sort());

    // Every notice published in the window is found through its list and its consultation's detail page,
    // downloaded, and read; its kind and publication day come from the list.
    const notices = await db.sql<{ k: string; kind: string; published_on: string | null; proof_id: string | null; parser_version: string | null }[]>`
      select org_acronyme || '/' || ref_consultation || '/' || id_avis as k, kind, published_on, proof_id, parser_version from pmmp.notices`;
    const byKey = new Map(notices.map((n) => [n.k, n]));
    let expectedNotices = 0;
    for (const type of ['pv', 'resultat', 'achevement'] as const) {
      for (const n of replica.oracle.notices(type, { publishedFrom: FROM, publishedTo: DAY })) {
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
    const completions = replica.oracle.notices('achevement', { publishedFrom: FROM, publishedTo: DAY }).length;
    const [achevements] = await db.sql<{ n: number }[]>`select count(*)::int as n from pmmp.achevements where completed_on is not null and final_amount is not null`;
    assert.equal(achevements!.n, completions, 'each rapport d’achèvement read: final amount, completion day');
    const [awarded] = await db.sql<{ n: number }[]>`select count(*)::int as n from pmmp.attributions where status = 'attribue'`;
    assert.ok(awarded!.n > 0, 'attributions read from the documents');

    // /bdc/: three days, each card once although the order drifts between requests.
    const bdcWant = replica.oracle.bdcResults({ publishedFrom: minusDays(DAY, 2), publishedTo: DAY });
    const bdcRows = await db.sql<{ reference: string; buyer: string; outcome: string }[]>`select reference, buyer, outcome from pmmp.bdc_results`;
    assert.ok(bdcWant.length > 5, `${bdcWant.length} /bdc/ results`);
    assert.deepEqual(
      bdcRows.map((b) => `${b.buyer}|${b.reference}|${b.outcome}`).sort(),
      bdcWant.map((b) => `${b.buyer}|${b.reference}|${b.outcome}`).sort(),
    );

    // The analysis step: the run row, one log row per stream, the statistics refreshed.
    const [run] = await db.sql<{ status: string; kind: string }[]>`select status, kind from etl.runs where id = ${r.runId}`;
    assert.deepEqual(run, { status: 'success', kind: 'daily' });
    const streams = (await db.sql<{ stream: string }[]>`select stream from etl.etl_logs where run_id = ${r.runId} order by stream`).map((s) => s.stream);
    for (const prefix of ['analysis', 'bdc:', 'consultations:searchAnnCons:', 'notices:AvisAttribution:', 'notices:AvisExtraitPV:', 'notices:AvisRapportAchevement:']) {
      assert.ok(streams.some((s) => s.startsWith(prefix)), `log row ${prefix} in ${streams.join(', ')}`);
    }
    const [stats] = await db.sql<{ n: number }[]>`select coalesce(sum(consultations), 0)::int as n from pmmp.stats_monthly`;
    assert.ok(stats!.n >= want.length, 'stats_monthly refreshed');

    const progress = await temporal.client.workflow.getHandle(`pmmp-daily-${DAY}`).query<PmmpProgress>('pmmpProgress');
    assert.equal(progress.phase, 'done');
    assert.equal(progress.streams.consultations, 'success');
  });

  it('running the same day again changes nothing', async () => {
    const count = async () =>
      db.sql`select (select count(*) from pmmp.consultations)::int as c, (select count(*) from pmmp.notices)::int as n,
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
    replica.setKnobs({ ...DEFAULT_KNOBS, rate429: 0.04, retryAfterSeconds: 1, rate5xx: 0.04, truncate: { rate: 0.04, mode: 'short-body' } });
    const r = await daily(day);
    const faults = Object.values(replica.stats().byKind).reduce((n, k) => n + k.faults.rateLimited + k.faults.serverError + k.faults.truncated, 0);
    assert.ok(faults > 0, `${faults} faults injected`);
    assert.equal(r.status, 'success', JSON.stringify(r.streams));
    const want = replica.oracle.consultations({ publishedFrom: minusDays(day, 1), publishedTo: day });
    assert.deepEqual(await storedConsultations(minusDays(day, 1), day), want.map(key).sort());
    for (const n of replica.oracle.notices('pv', { publishedFrom: minusDays(day, 1), publishedTo: day })) {
      const [row] = await db.sql`select proof_id from pmmp.notices where org_acronyme = ${n.orgAcronyme} and ref_consultation = ${n.refConsultation} and id_avis = ${n.idAvis}`;
      assert.ok(row?.['proof_id'], `PV ${key(n)}/${n.idAvis} downloaded despite the faults`);
    }
  });

  it('a /bdc/ page whose shape changed fails that stream loudly, with its proof kept; the other streams complete', async () => {
    const day = '2026-10-21';
    replica.setKnobs({ ...DEFAULT_KNOBS, shapeChanged: ['bdc'] });
    const r = await daily(day);
    assert.equal(r.status, 'partial');
    const bdc = r.streams.find((s) => s.stream === 'bdc')!;
    assert.equal(bdc.status, 'failure');
    assert.match(bdc.error ?? '', /ResponseShapeError: \/bdc\/ results page of .*entreprise__card/);
    for (const s of r.streams.filter((x) => x.stream !== 'bdc')) assert.notEqual(s.status, 'failure', `${s.stream}: ${s.error}`);
    const want = replica.oracle.consultations({ publishedFrom: minusDays(day, 1), publishedTo: day });
    assert.deepEqual(await storedConsultations(minusDays(day, 1), day), want.map(key).sort());
    const [log] = await db.sql`select status, error from etl.etl_logs where run_id = ${r.runId} and stream = 'bdc'`;
    assert.equal(log?.['status'], 'failure');
    const [proof] = await db.sql`select count(*)::int as n from etl.proofs where kind = 'pmmp.bdc-results' and proof_id in (
      select proof_id from etl.proof_fetches where fetched_at > now() - interval '10 minutes')`;
    assert.ok((proof?.['n'] as number) > 0, 'the changed /bdc/ page is in the proof store');
    const [run] = await db.sql`select status from etl.runs where id = ${r.runId}`;
    assert.equal(run?.['status'], 'partial');
  });

  it('a day that is not a date is refused before any request', async () => {
    const before = replica.stats().requests;
    await assert.rejects(daily('2026-02-30'), (err: unknown) => {
      // The workflow fails with the activity's own words, at the end of the cause chain.
      let e: unknown = err;
      while (e instanceof Error && e.cause) e = e.cause;
      assert.match(String((e as Error).message), /day '2026-02-30' is not a YYYY-MM-DD date/);
      return true;
    });
    assert.equal(replica.stats().requests, before);
  });
});

describe('pmmpReparse from stored pages', () => {
  it('repairs consultations and /bdc/ rows from their proofs without a request to the portal; a second pass changes nothing', async () => {
    const snapshot = async () => ({
      consultations: await db.sql`select org_acronyme, ref_consultation, object, buyer, deadline::text, content_hash from pmmp.consultations order by 1, 2`,
      lots: await db.sql`select org_acronyme, ref_consultation, lot_number, object from pmmp.lots order by 1, 2, 3`,
      bdc: await db.sql`select bdc_id, winner, amount_ttc::text, outcome from pmmp.bdc_results order by 1`,
    });
    const before = await snapshot();
    // What a parser bug would have written: wrong values under the right keys.
    await db.sql`update pmmp.consultations set object = 'mal lu', content_hash = 'stale'
      where (org_acronyme, ref_consultation) in (select org_acronyme, ref_consultation from pmmp.consultations order by 1, 2 limit 10)`;
    await db.sql`update pmmp.bdc_results set winner = 'mal lu' where bdc_id in (select bdc_id from pmmp.bdc_results order by 1 limit 5)`;
    const requests = replica.stats().requests;
    const reparse = (suffix: string) =>
      temporal.client.workflow.execute('pmmpReparse', {
        taskQueue,
        workflowId: `pmmp-reparse-${suffix}-${randomBytes(2).toString('hex')}`,
        args: [{ scope: ['consultations', 'bdc'], parserVersion: 'unused', batchSize: 40 }],
      }) as Promise<PmmpReparseResult>;
    const first = await reparse('first');
    assert.equal(first.consultations.consultations, before.consultations.length);
    assert.equal(first.consultations.updated, 10);
    assert.equal(first.consultations.rejected, 0);
    assert.equal(first.bdc.updated, 5);
    assert.equal(first.bdc.rejected, 0);
    assert.deepEqual(await snapshot(), before, 'the rows are back to what the pages say');
    assert.equal(replica.stats().requests, requests, 'no request to the portal');

    const second = await reparse('second');
    assert.deepEqual([second.consultations.updated, second.bdc.updated], [0, 0]);
    assert.deepEqual(await snapshot(), before);
  });
});

describe('pmmpBackfill', () => {
  it('crawls whole months a few at a time, continuing as new between them; the database equals the oracle', async () => {
    const workflowId = `pmmp-backfill-2026-05-2026-07-${randomBytes(2).toString('hex')}`;
    const handle = await temporal.client.workflow.start('pmmpBackfill', {
      taskQueue,
      workflowId,
      args: [{ from: '2026-05', to: '2026-07', concurrency: 2, documents: false, monthsPerRun: 2 }],
    });
    const r = (await handle.result()) as PmmpBackfillResult;
    assert.equal(r.status, 'success', JSON.stringify(r));
    assert.equal(r.months, 3);
    const want = replica.oracle.consultations({ publishedFrom: '2026-05-01', publishedTo: '2026-07-31' });
    assert.deepEqual(await storedConsultations('2026-05-01', '2026-07-31'), want.map(key).sort());
    assert.equal(r.counts.listed, want.length);
    const bdcWant = replica.oracle.bdcResults({ publishedFrom: '2026-05-01', publishedTo: '2026-07-31' });
    const [bdc] = await db.sql`select count(*)::int as n from pmmp.bdc_results where result_published_at >= '2026-05-01' and result_published_at < '2026-08-01'`;
    assert.equal(bdc?.['n'], bdcWant.length);

    // monthsPerRun 2 over 3 months: the history was continued as new at least once.
    const first = await temporal.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    const progress = await temporal.client.workflow.getHandle(workflowId).query<PmmpBackfillProgress>('pmmpProgress');
    assert.equal(progress.monthsDone, 3);
    assert.equal(progress.phase, 'done');
  });

  it('a range that is not months ends the run as a failure saying why', async () => {
    const r = (await temporal.client.workflow.execute('pmmpBackfill', {
      taskQueue,
      workflowId: `pmmp-backfill-bad-${randomBytes(2).toString('hex')}`,
      args: [{ from: '2026-07', to: '2026-05' }],
    })) as PmmpBackfillResult;
    assert.equal(r.status, 'failure');
    const [log] = await db.sql`select error from etl.etl_logs where run_id = ${r.runId} and stream = 'months'`;
    assert.match(String(log?.['error']), /not a range of months/);
  });
});
