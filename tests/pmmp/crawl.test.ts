/**
 * Crawling consultations from the portal replica into PostgreSQL: the workflow on a real Temporal
 * dev server, the activity in Temporal's mock activity environment where a test needs to kill it
 * mid-crawl and hand the next attempt its heartbeat, as Temporal would.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/crawl.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { bindActivities } from '../../activities/engine/bind';
import { pmmpCrawlActivities, type CrawlConsultationWindowInput, type CrawlCounts, type CrawlCursor, type PmmpDeps } from '../../activities/pmmp/consultations';
import { TransientError } from '../../activities/engine/errors';
import { pmmpReparseActivities } from '../../activities/pmmp/reparse';
import { createFetcher, type FetchSession, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore, type ProofStore } from '../../activities/engine/proofs';
import { pmmpConsultationsWindow } from '../../workflows/pmmp/consultations';
import { DEFAULT_KNOBS, startPortalReplica, type OracleConsultation, type PortalReplica } from '../replicas/pmmp/index';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createTestDatabase, startTemporal, type TestDatabase } from '../support/services';

// Installed before the activities make their instruments: the crawl's counts are read off its scrape.
const telemetry = testTelemetry();
const consultationItems = async (result: string) => seriesValue(await telemetry.scrape(), 'moisson_items_total', { pipeline: 'pmmp', kind: 'consultation', result });

const FROM = '2026-09-01';
const TO = '2026-09-30';
const WINDOW: CrawlConsultationWindowInput = { from: FROM, to: TO, pageSize: 20 };

let replica: PortalReplica;
let db: TestDatabase;
let proofDir: string;
let proofs: ProofStore;
let fetcher: Fetcher;
let expected: OracleConsultation[];

function deps(overrides: Partial<PmmpDeps> = {}): PmmpDeps {
  return { db: db.db, fetcher, proofs, portalUrl: `${replica.url}/index.php`, requestTimeoutMs: 10_000, ...overrides };
}

/** Runs the activity once, as one attempt of Temporal would, reporting its heartbeats. */
async function attempt(input: CrawlConsultationWindowInput, d: PmmpDeps, heartbeatDetails?: CrawlCursor) {
  const env = new MockActivityEnvironment(heartbeatDetails ? { heartbeatDetails } : {}, { logger: quiet });
  const beats: CrawlCursor[] = [];
  env.on('heartbeat', (b: CrawlCursor | undefined) => {
    if (b) beats.push(b);
  });
  const { crawlConsultationWindow } = bindActivities(d, pmmpCrawlActivities);
  try {
    const counts: CrawlCounts = await env.run(crawlConsultationWindow, input);
    return { counts, beats, error: undefined };
  } catch (error) {
    return { counts: undefined, beats, error };
  }
}

async function clearTables(): Promise<void> {
  await db.sql`truncate pmmp.lots, pmmp.consultation_search, pmmp.consultations, etl.rejected_records`;
}

// Failed attempts are what these tests provoke; the mock environment would log each one.
const quiet = new DefaultLogger('ERROR');

const key = (c: { orgAcronyme: string; refConsultation: string }) => `${c.orgAcronyme}/${c.refConsultation}`;

/** The crawl ended with every consultation inserted but `victim`, the one rejection, for `reason`; its row. */
async function assertOnlyRejected(run: { counts?: CrawlCounts; error: unknown }, victim: OracleConsultation, reason: RegExp): Promise<Record<string, unknown>> {
  assert.equal(run.error, undefined, String(run.error));
  assert.equal(run.counts?.rejected, 1);
  assert.equal(run.counts?.inserted, expected.length - 1);
  const rejected = await db.sql<Record<string, unknown>[]>`select natural_key, reason, proof_id, kind from etl.rejected_records where pipeline = 'pmmp'`;
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0]?.['natural_key'], key(victim));
  assert.equal(rejected[0]?.['kind'], 'pmmp.consultation');
  assert.match(String(rejected[0]?.['reason']), reason);
  return rejected[0]!;
}

/** The window in the database, field by field against the oracle; `except` are expected missing. */
async function assertDatabaseEqualsOracle(except: string[] = []): Promise<void> {
  const rows = await db.sql<Record<string, unknown>[]>`
    select c.*, (extract(epoch from c.deadline) * 1000)::bigint::text as deadline_ms,
      coalesce((select jsonb_agg(to_jsonb(l) order by l.lot_number) from pmmp.lots l
        where l.org_acronyme = c.org_acronyme and l.ref_consultation = c.ref_consultation), '[]'::jsonb) as lot_rows
    from pmmp.consultations c`;
  const want = expected.filter((c) => !except.includes(key(c)));
  const byKey = new Map(rows.map((r) => [`${String(r['org_acronyme'])}/${String(r['ref_consultation'])}`, r]));
  assert.equal(rows.length, want.length, 'every consultation of the window exactly once, nothing else');
  for (const o of want) {
    const r = byKey.get(key(o));
    assert.ok(r, `${key(o)} stored`);
    const got = {
      reference: r['reference'],
      object: r['object'],
      buyer: r['buyer'],
      procedure: r['procedure'],
      procedureCode: r['procedure_code'],
      passationMode: r['passation_mode'],
      category: r['category'],
      marketKind: r['market_kind'],
      executionPlace: r['execution_place'],
      publishedOn: r['published_on'],
      deadline: Number(r['deadline_ms']),
      estimationTtc: r['estimation_ttc'],
      cautionProvisoire: r['caution_provisoire'],
      variantAllowed: r['variant_allowed'],
      reservedForSmallBusiness: r['reserved_small_business'],
      siteVisits: (r['site_visits'] as { at: string | null }[]).map((v) => v.at),
      allotted: r['allotted'],
      lotCount: r['lot_count'],
      lots: (r['lot_rows'] as Record<string, unknown>[]).map((l) => ({
        lotNumber: l['lot_number'],
        object: l['object'],
        category: l['category'],
        description: l['description'],
        estimationTtc: l['estimation_ttc'] === null ? null : Number(l['estimation_ttc']).toFixed(2),
        cautionProvisoire: l['caution_provisoire'] === null ? null : Number(l['caution_provisoire']).toFixed(2),
        qualifications: l['qualifications'],
        agrements: l['agrements'],
      })),
    };
    assert.deepEqual(
      got,
      {
        reference: o.reference,
        object: o.object,
        buyer: o.buyer,
        procedure: o.procedure,
        procedureCode: o.procedureCode,
        passationMode: o.passationMode,
        category: o.category,
        marketKind: o.category.toLowerCase(),
        executionPlace: o.executionPlace,
        publishedOn: o.publishedOn,
        deadline: Date.parse(o.deadline),
        estimationTtc: o.estimationTtc,
        cautionProvisoire: o.cautionProvisoire,
        variantAllowed: o.variantAllowed,
        reservedForSmallBusiness: o.reservedForSmallBusiness,
        siteVisits: o.siteVisits,
        allotted: o.allotted,
        lotCount: o.lotCount,
        lots: o.lots,
      },
      key(o),
    );
    assert.ok(r['list_proof_id'] && r['detail_proof_id'], `${key(o)} names its proofs`);
  }
}

before(async () => {
  [replica, db, proofDir] = await Promise.all([
    startPortalReplica({ seed: 42, today: '2026-11-20', consultations: 2_000 }),
    createTestDatabase(),
    mkdtemp(join(tmpdir(), 'moisson-pmmp-proofs-')),
  ]);
  proofs = createProofStore({ db: db.db, dir: proofDir });
  fetcher = createFetcher({ politeness: false, robots: false });
  expected = replica.oracle.consultations({ publishedFrom: FROM, publishedTo: TO });
});

after(async () => {
  await fetcher?.close();
  await Promise.allSettled([replica?.close(), db?.drop(), proofDir ? rm(proofDir, { recursive: true, force: true }) : undefined]);
});

beforeEach(() => {
  replica.setKnobs({ ...DEFAULT_KNOBS });
});

describe('pmmp consultations crawl', () => {
  it('the window has several list pages and allotted consultations to exercise', () => {
    assert.ok(expected.length > 40, `${expected.length} consultations`);
    assert.ok(expected.some((c) => c.allotted), 'some allotted');
  });

  it('crawls one month through the workflow on Temporal: the database equals the oracle', async () => {
    let temporal: TestWorkflowEnvironment | undefined;
    try {
      temporal = await startTemporal();
      const taskQueue = `pmmp-crawl-${randomBytes(3).toString('hex')}`;
      const workflowBundle = await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('../../workflows/pmmp/consultations.ts', import.meta.url)),
        logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never,
      });
      const worker = await Worker.create({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace ?? 'default',
        taskQueue,
        workflowBundle,
        activities: bindActivities(deps(), pmmpCrawlActivities),
      });
      const env = temporal;
      const counts = await worker.runUntil(() =>
        env.client.workflow.execute(pmmpConsultationsWindow, {
          taskQueue,
          workflowId: `pmmp-consultations-${FROM}-${TO}`,
          args: [{ from: FROM, to: TO, pageSize: 20 }],
        }),
      );
      assert.deepEqual(counts, { pages: Math.ceil(expected.length / 20), listed: expected.length, inserted: expected.length, updated: 0, unchanged: 0, rejected: 0 });
      await assertDatabaseEqualsOracle();
      const [lists] = await db.sql`select count(*)::int as n from etl.proof_fetches f join etl.proofs p using (proof_id) where p.kind = 'pmmp.list'`;
      assert.ok((lists?.['n'] as number) >= Math.ceil(expected.length / 20), 'list pages are in the proof store');
    } finally {
      await temporal?.teardown();
    }
  });

  it('a second crawl changes nothing: every row unchanged, updated_at untouched', async () => {
    const before = await db.sql`select org_acronyme, ref_consultation, updated_at::text, content_hash from pmmp.consultations order by 1, 2`;
    const lotsBefore = await db.sql`select org_acronyme, ref_consultation, lot_number, updated_at::text from pmmp.lots order by 1, 2, 3`;
    assert.equal(before.length, expected.length);
    const [scraped, parsed, saved] = [await consultationItems('scraped'), await consultationItems('parsed'), await consultationItems('saved')];
    const { counts, error } = await attempt(WINDOW, deps());
    assert.equal(error, undefined);
    assert.deepEqual(counts, { pages: Math.ceil(expected.length / 20), listed: expected.length, inserted: 0, updated: 0, unchanged: expected.length, rejected: 0 });
    // The alert on consultations (deploy/prometheus/rules) reads these: listed, and stored or confirmed unchanged.
    assert.equal((await consultationItems('scraped')) - scraped, expected.length);
    assert.equal((await consultationItems('parsed')) - parsed, expected.length, 'detail pages read into a record');
    assert.equal((await consultationItems('saved')) - saved, expected.length);
    assert.deepEqual(await db.sql`select org_acronyme, ref_consultation, updated_at::text, content_hash from pmmp.consultations order by 1, 2`, before);
    assert.deepEqual(await db.sql`select org_acronyme, ref_consultation, lot_number, updated_at::text from pmmp.lots order by 1, 2, 3`, lotsBefore);
  });

  it('reparsing the stored pages changes nothing: every consultation keeps its own lots', async () => {
    const snapshot = () =>
      db.sql`select c.org_acronyme, c.ref_consultation, c.content_hash, c.updated_at::text,
               coalesce((select jsonb_agg(jsonb_build_array(l.lot_number, l.object, l.updated_at::text) order by l.lot_number) from pmmp.lots l
                 where l.org_acronyme = c.org_acronyme and l.ref_consultation = c.ref_consultation), '[]'::jsonb) as lots
             from pmmp.consultations c order by 1, 2`;
    const before = await snapshot();
    assert.ok(before.some((r) => (r['lots'] as unknown[]).length > 0) && before.some((r) => (r['lots'] as unknown[]).length === 0), 'allotted and single-lot consultations');
    const requests = replica.stats().requests;
    const { reparseConsultationProofs } = bindActivities({ db: db.db, proofs }, pmmpReparseActivities);
    const env = new MockActivityEnvironment({}, { logger: quiet });
    const counts = await env.run(() => reparseConsultationProofs({ limit: expected.length + 1 }));
    assert.deepEqual(counts, { consultations: expected.length, updated: 0, unchanged: expected.length, rejected: 0, next: null });
    assert.deepEqual(await snapshot(), before);
    assert.equal(replica.stats().requests, requests, 'no request to the portal');
    await assertDatabaseEqualsOracle();
  });

  it('a reparse with every hash stale rewrites every row in batches; a row its list page does not hold is rejected with its detail proof', async () => {
    const batch = 10;
    const batches = Math.ceil(expected.length / batch);
    assert.ok(batches >= 3, `${batches} batches: the window must span several`);
    const stored = () => db.sql`select org_acronyme, ref_consultation, content_hash, object, list_proof_id, detail_proof_id from pmmp.consultations order by 1, 2`;
    const lotsOf = () => db.sql`select org_acronyme, ref_consultation, lot_number, object, proof_id from pmmp.lots order by 1, 2, 3`;
    const [before, lotsBefore] = [await stored(), await lotsOf()];
    // The victim points to a list page of other consultations: the reparse cannot find its row there.
    const [victim] = await db.sql<{ org: string; ref: string; detail: string; other: string }[]>`
      select c.org_acronyme as org, c.ref_consultation as ref, c.detail_proof_id as detail,
             (select o.list_proof_id from pmmp.consultations o where o.list_proof_id <> c.list_proof_id limit 1) as other
      from pmmp.consultations c order by 1, 2 offset ${batch + 3} limit 1`;
    assert.ok(victim?.other);
    await db.sql`update pmmp.consultations set content_hash = 'stale', list_proof_id = case
      when (org_acronyme, ref_consultation) = (${victim.org}, ${victim.ref}) then ${victim.other} else list_proof_id end`;
    await db.sql`truncate etl.rejected_records`;
    const beats: unknown[] = [];
    const env = new MockActivityEnvironment({}, { logger: quiet });
    env.on('heartbeat', (b: unknown) => beats.push(b));
    const { reparseConsultationProofs } = bindActivities({ db: db.db, proofs }, pmmpReparseActivities);
    const counts = await env.run(() => reparseConsultationProofs({ limit: expected.length + 1, runId: null, batch }));
    assert.deepEqual(counts, { consultations: expected.length, updated: expected.length - 1, unchanged: 0, rejected: 1, next: null });
    assert.ok(beats.length >= batches, `${beats.length} heartbeats, one per batch at least`);
    const rejected = await db.sql`select kind, natural_key, proof_id, reason from etl.rejected_records where pipeline = 'pmmp'`;
    assert.equal(rejected.length, 1);
    assert.deepEqual({ ...rejected[0] }, {
      kind: 'pmmp.consultation',
      natural_key: `${victim.org}/${victim.ref}`,
      proof_id: victim.detail,
      reason: `reparse: pmmp list page has an unexpected shape: missing row ${victim.org}/${victim.ref} in list proof ${victim.other}`,
    });
    const after = await stored();
    const isVictim = (r: Record<string, unknown>) => r['org_acronyme'] === victim.org && r['ref_consultation'] === victim.ref;
    assert.deepEqual(after.filter((r) => !isVictim(r)), before.filter((r) => !isVictim(r)), 'every other row read back as crawled');
    assert.equal(after.find(isVictim)?.['content_hash'], 'stale', 'the rejected row is not written');
    assert.deepEqual(await lotsOf(), lotsBefore);
    // Back to what the crawl stored, for the tests that follow.
    await db.sql`update pmmp.consultations set list_proof_id = ${String(before.find(isVictim)!['list_proof_id'])}, content_hash = ${String(before.find(isVictim)!['content_hash'])}
      where (org_acronyme, ref_consultation) = (${victim.org}, ${victim.ref})`;
    await db.sql`truncate etl.rejected_records`;
  });

  it('a reparse reports a detail page the parser refuses (parsed in the parse threads) with its proof, and writes the others', async () => {
    const [victim] = await db.sql<{ org: string; ref: string; detail: string; hash: string; lots: string }[]>`
      select c.org_acronyme as org, c.ref_consultation as ref, c.detail_proof_id as detail, c.content_hash as hash,
             (select l.proof_id from pmmp.lots l where l.proof_id is not null order by 1 limit 1) as lots
      from pmmp.consultations c order by 1, 2 offset 7 limit 1`;
    assert.ok(victim?.lots, 'a stored lots page');
    // The victim's detail proof is a lots page: the detail parser refuses it.
    await db.sql`update pmmp.consultations set content_hash = 'stale', detail_proof_id = case
      when (org_acronyme, ref_consultation) = (${victim.org}, ${victim.ref}) then ${victim.lots} else detail_proof_id end`;
    await db.sql`truncate etl.rejected_records`;
    const env = new MockActivityEnvironment({}, { logger: quiet });
    const { reparseConsultationProofs } = bindActivities({ db: db.db, proofs }, pmmpReparseActivities);
    const counts = await env.run(() => reparseConsultationProofs({ limit: expected.length + 1, runId: null, batch: 10 }));
    assert.deepEqual(counts, { consultations: expected.length, updated: expected.length - 1, unchanged: 0, rejected: 1, next: null });
    const rejected = await db.sql`select kind, natural_key, proof_id, reason from etl.rejected_records where pipeline = 'pmmp'`;
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!['natural_key'], `${victim.org}/${victim.ref}`);
    assert.equal(rejected[0]!['proof_id'], victim.lots);
    assert.match(String(rejected[0]!['reason']), /^reparse: pmmp detail page has an unexpected shape: missing /);
    const [row] = await db.sql`select content_hash from pmmp.consultations where (org_acronyme, ref_consultation) = (${victim.org}, ${victim.ref})`;
    assert.equal(row!['content_hash'], 'stale', 'the rejected row is not written');
    await db.sql`update pmmp.consultations set detail_proof_id = ${victim.detail}, content_hash = ${victim.hash} where (org_acronyme, ref_consultation) = (${victim.org}, ${victim.ref})`;
    await db.sql`truncate etl.rejected_records`;
    await assertDatabaseEqualsOracle();
  });

  it('with 5xx, 429 and truncated answers on, reaches the same end state', async () => {
    await clearTables();
    replica.resetStats();
    replica.setKnobs({ rate5xx: 0.08, rate429: 0.03, retryAfterSeconds: 1, truncate: { rate: 0.08, mode: 'short-body' } });
    const { counts, error } = await attempt(WINDOW, deps({ pageAttempts: 8 }));
    assert.equal(error, undefined, String(error));
    assert.equal(counts?.inserted, expected.length);
    assert.equal(counts?.rejected, 0);
    const faults = Object.values(replica.stats().byKind).reduce((n, k) => n + k.faults.serverError + k.faults.rateLimited + k.faults.truncated, 0);
    assert.ok(faults >= 5, `${faults} faults injected`);
    await assertDatabaseEqualsOracle();
  });

  it('a detail page whose shape changed: that consultation is rejected with its proof, the others stored', async () => {
    await clearTables();
    const victim = expected[Math.floor(expected.length / 2)];
    assert.ok(victim);
    // The knob changes every detail page; switch it on for the victim's fetch only.
    const around = (session: FetchSession): FetchSession => ({
      jar: session.jar,
      post: (url, form, opts) => session.post(url, form, opts),
      async get(url, opts) {
        const hit = url.includes(`refConsultation=${victim.refConsultation}&`) && url.includes('EntrepriseDetailConsultation');
        if (hit) replica.setKnobs({ shapeChanged: 'detail' });
        try {
          return await session.get(url, opts);
        } finally {
          if (hit) replica.setKnobs({ shapeChanged: null });
        }
      },
    });
    const wrapped: Fetcher = { ...fetcher, session: () => around(fetcher.session()) };
    // The knob is the replica's, not the request's: no other detail page may be in flight while it is on.
    const rejected = await assertOnlyRejected(await attempt(WINDOW, deps({ fetcher: wrapped, detailConcurrency: 1 })), victim, /shape/);
    const proof = await proofs.get(String(rejected['proof_id']));
    assert.equal(proof.kind, 'pmmp.detail');
    assert.doesNotMatch(proof.body.toString('utf8'), /id="recap-consultation"/);
    await assertDatabaseEqualsOracle([key(victim)]);
  });

  it('a row the database refuses: its page falls back to row by row, the row is rejected with its key, the others are stored as in a batch', async () => {
    // Everything a reading stores, proofs and times apart (a new crawl has new proofs and times).
    const snapshot = () =>
      db.sql`select to_jsonb(c) - 'first_seen_at' - 'updated_at' - 'list_proof_id' - 'detail_proof_id' as c,
               coalesce((select jsonb_agg(to_jsonb(l) - 'first_seen_at' - 'updated_at' - 'proof_id' order by l.lot_number) from pmmp.lots l
                 where l.org_acronyme = c.org_acronyme and l.ref_consultation = c.ref_consultation), '[]'::jsonb) as lots,
               coalesce((select jsonb_agg(to_jsonb(n) - 'first_seen_at' - 'updated_at' order by n.id_avis) from pmmp.notices n
                 where n.org_acronyme = c.org_acronyme and n.ref_consultation = c.ref_consultation), '[]'::jsonb) as notices
             from pmmp.consultations c order by c.org_acronyme, c.ref_consultation`;
    await db.sql`truncate pmmp.lots, pmmp.notices, pmmp.consultation_search, pmmp.consultations, etl.rejected_records`;
    const batch = await attempt(WINDOW, deps());
    assert.equal(batch.error, undefined, String(batch.error));
    const batched = await snapshot();

    // An allotted consultation, so that the fallback writes lots too; the refusal is PostgreSQL's own.
    const victim = expected.find((c) => c.lots.length > 1 && c !== expected[0]);
    assert.ok(victim);
    await db.sql`truncate pmmp.lots, pmmp.notices, pmmp.consultation_search, pmmp.consultations, etl.rejected_records`;
    await db.sql.unsafe(`alter table pmmp.consultations add constraint test_refused check (ref_consultation <> '${victim.refConsultation}' or org_acronyme <> '${victim.orgAcronyme}')`);
    try {
      const rejected = await assertOnlyRejected(await attempt(WINDOW, deps()), victim, /database refused the row: .*test_refused.*\(23514\)/);
      assert.equal((await proofs.get(String(rejected['proof_id']))).kind, 'pmmp.detail');
      await assertDatabaseEqualsOracle([key(victim)]);
      const victimRow = (r: Record<string, unknown>) => {
        const c = r['c'] as { org_acronyme: string; ref_consultation: string };
        return c.org_acronyme === victim.orgAcronyme && c.ref_consultation === victim.refConsultation;
      };
      const fallback = [...(await snapshot())];
      assert.equal(fallback.length, expected.length - 1);
      assert.deepEqual(fallback, batched.filter((r) => !victimRow(r)), 'row by row stores what the batch stores');
      assert.equal((await db.sql`select 1 from pmmp.lots where ref_consultation = ${victim.refConsultation} and org_acronyme = ${victim.orgAcronyme}`).length, 0);
    } finally {
      await db.sql`alter table pmmp.consultations drop constraint test_refused`;
    }
  });

  it('a crawl killed at page K resumes there from its heartbeat: earlier pages are not fetched again', async () => {
    await clearTables();
    const input: CrawlConsultationWindowInput = { from: FROM, to: TO, pageSize: 10 };
    const pageCount = Math.ceil(expected.length / 10);
    const K = 3;
    assert.ok(pageCount > K, `${pageCount} pages`);
    let failed = false;
    const first = await attempt(
      input,
      deps({
        onListPage: (page) => {
          if (page === K && !failed) {
            failed = true;
            throw new TransientError('network', 'worker lost in the middle of the window');
          }
        },
      }),
    );
    assert.ok(first.error, 'the first attempt fails');
    const last = first.beats.at(-1);
    assert.ok(last);
    assert.equal(last.page, K - 1);
    assert.equal(last.counts.pages, K - 1);
    assert.equal(last.counts.listed, (K - 1) * 10);

    replica.resetStats();
    const second = await attempt(input, deps(), last);
    assert.equal(second.error, undefined, String(second.error));
    // The new search answers page 1 at the default size, one postback jumps to K (size with it),
    // then one postback per remaining page: pages 2..K-1 are never asked for again.
    const listRequests = replica.stats().byKind.list.requests;
    assert.equal(listRequests, 1 + 1 + (pageCount - K));
    assert.deepEqual(second.counts, { pages: pageCount, listed: expected.length, inserted: expected.length, updated: 0, unchanged: 0, rejected: 0 });
    await assertDatabaseEqualsOracle();
  });

  it('a cancelled crawl resumes from the page it was cancelled in', async () => {
    await clearTables();
    const input: CrawlConsultationWindowInput = { from: FROM, to: TO, pageSize: 10 };
    const env = new MockActivityEnvironment({}, { logger: quiet });
    const beats: CrawlCursor[] = [];
    env.on('heartbeat', (b: CrawlCursor | undefined) => {
      if (b) beats.push(b);
    });
    const { crawlConsultationWindow } = bindActivities(
      deps({
        onListPage: (page) => {
          if (page === 3) env.cancel();
        },
      }),
      pmmpCrawlActivities,
    );
    await assert.rejects(env.run(crawlConsultationWindow, input));
    const last = beats.at(-1);
    assert.ok(last && last.page >= 2, JSON.stringify(last));
    const resumed = await attempt(input, deps(), last);
    assert.equal(resumed.error, undefined, String(resumed.error));
    assert.equal(resumed.counts?.listed, expected.length);
    await assertDatabaseEqualsOracle();
  });

  it('a page state the session forgot (400) is repaired by a new search and a jump', async () => {
    await clearTables();
    replica.resetStats();
    let posts = 0;
    // Starting another search in the same PHP session invalidates the states of the first one.
    const around = (session: FetchSession): FetchSession => ({
      jar: session.jar,
      get: (url, opts) => session.get(url, opts),
      async post(url, form, opts) {
        posts++;
        if (posts === 3) await session.get(`${replica.url}/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons`);
        return session.post(url, form, opts);
      },
    });
    const wrapped: Fetcher = { ...fetcher, session: () => around(fetcher.session()) };
    const { counts, error } = await attempt(WINDOW, deps({ fetcher: wrapped }));
    assert.equal(error, undefined, String(error));
    assert.equal(replica.stats().pageStateErrors['stale'], 1);
    assert.equal(counts?.inserted, expected.length);
    await assertDatabaseEqualsOracle();
  });

  it('the WAF page fails the attempt as "retry later", with a delay for Temporal', async () => {
    replica.setKnobs({ wafPattern: 'EntrepriseDetailConsultation' });
    const { error } = await attempt(WINDOW, deps());
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'PortalRequestRejectedError');
    assert.equal(error.nonRetryable, false);
    assert.ok((error.nextRetryDelay as number) >= 60_000, String(error.nextRetryDelay));
  });
});
