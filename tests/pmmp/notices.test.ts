/**
 * Notice documents → awards, against the portal replica, a throwaway database, a proof store in a temp
 * dir and (for the workflows) the real Temporal dev server.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { bindActivities } from '../../activities/engine/bind';
import { createFetcher, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore, type ProofStore } from '../../activities/engine/proofs';
import { extractNoticeText, parseAward } from '../../activities/pmmp/awards';
import { awardRows, bidderKey } from '../../activities/pmmp/awards-store';
import {
  AWARD_PARSER_VERSION,
  MAX_TRANSIENT_ATTEMPTS,
  type NoticeBatchProgress,
  type NoticeDocumentRef,
  pmmpNoticeActivities,
  type PmmpNoticeActivities,
} from '../../activities/pmmp/notices';
import type { OracleConsultation, OracleNotice } from '../replicas/pmmp/index';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { PortalModel } from '../replicas/pmmp/model';
import { noticePdf } from '../replicas/pmmp/notices';
import { seriesValue, testTelemetry } from '../support/metrics';
import { recordHistories } from '../support/histories';
import { createTestDatabase, startTemporal, type TestDatabase } from '../support/services';

const histories = new URL('./histories/', import.meta.url);
const NOTICE_KIND = { pv: 'extrait_pv', resultat: 'resultat_definitif', achevement: 'achevement' } as const;

/** Warnings by which parseAward says it is unsure of the lots it read. */
function unsureOfLots(warnings: readonly { field: string; code: string }[]): boolean {
  return warnings.some((w) => w.field === 'lots' && (w.code === 'ambiguous' || w.code === 'inconsistent'));
}

/** The consultation's reference as the notice prints its number ("AOO N°03/2026/X" is titled "N° AOO N°03/2026/X"). */
function printedReference(c: OracleConsultation): string {
  return c.reference.replace(/^AOO N°/, '');
}

interface ReadLot {
  lotKey: string;
  status: string;
  winner: string | null;
  amount: string | null;
  /** Extraits only: résultats définitifs list no bidders. */
  bidderCount?: number | null;
  bids?: { key: string; amount: string | null; retained: boolean; eliminated: boolean }[];
}

/** What the oracle says a notice of this type must yield, lot by lot. */
function expectedLots(c: OracleConsultation, type: 'pv' | 'resultat'): ReadLot[] {
  return c.attributions!.map((lot) => ({
    lotKey: c.lotCount ? String(lot.lotNumber) : '',
    status: lot.status,
    winner: lot.winner,
    amount: lot.amount,
    ...(type === 'pv'
      ? {
          bidderCount: lot.bidderCount,
          bids: lot.bids
            .map((b) => ({ key: bidderKey(b.name), amount: b.amount, retained: b.status === 'retenu', eliminated: b.status === 'ecarte' }))
            .sort((x, y) => x.key.localeCompare(y.key)),
        }
      : {}),
  }));
}

/** A lot as stored; the oracle knows no "offre excessive" status (its excessive bids make a lot infructueux). */
function readLot(
  type: 'pv' | 'resultat',
  a: { lotKey: string; status: string; winner: string | null; amount: string | null; bidderCount: number | null },
  bids: { bidderKey: string; amount: string | null; retained: boolean; eliminated: boolean }[],
): ReadLot {
  return {
    lotKey: a.lotKey,
    status: a.status === 'offre_excessive' ? 'infructueux' : a.status,
    winner: a.winner,
    amount: a.amount,
    ...(type === 'pv'
      ? {
          bidderCount: a.bidderCount,
          bids: bids.map((b) => ({ key: b.bidderKey, amount: b.amount, retained: b.retained, eliminated: b.eliminated })).sort((x, y) => x.key.localeCompare(y.key)),
        }
      : {}),
  };
}

/** A one-page scan the replica serves byte for byte (~4 s of OCR). */
const SCAN = { org: 'f9f', ref: '928320', idAvis: '401953', file: 'resultat-caab530d.pdf' };

let db: TestDatabase;
let dir: string;
let proofs: ProofStore;
let replica: PortalReplica;
let fetcher: Fetcher;
let acts: PmmpNoticeActivities;

function ref(c: OracleConsultation, n: OracleNotice): NoticeDocumentRef {
  return {
    orgAcronyme: c.orgAcronyme,
    refConsultation: c.refConsultation,
    idAvis: n.idAvis,
    url: n.url,
    kind: NOTICE_KIND[n.type],
    annonceType: n.annonceType,
    publishedOn: n.publishedOn,
  };
}

/** Consultations whose award notices are generated text PDFs, so the oracle knows the truth. */
function generated(): OracleConsultation[] {
  return replica.oracle.consultations().filter((c) => c.attributions && c.attributions.length > 0 && c.notices.some((n) => n.type === 'pv'));
}

/** Expected activity failures would otherwise be logged in full. */
const quiet = { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } };

async function run<R>(fn: () => Promise<R>, info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {}, beats: unknown[] = []): Promise<R> {
  const env = new MockActivityEnvironment(info, quiet);
  env.on('heartbeat', (d: unknown) => beats.push(d));
  return env.run(fn);
}

async function snapshot(): Promise<unknown> {
  const [n, a, b] = await Promise.all([
    db.sql`select org_acronyme, ref_consultation, id_avis, kind, proof_id, text, text_method, ocr_pages, parser_version, award_reference,
                  opening_date, commission_end_date, document_date, parse_confidence, parse_warnings
           from pmmp.notices order by 1, 2, 3`,
    db.sql`select org_acronyme, ref_consultation, id_avis, lot_key, status, winner, winner_is_groupement, winner_members, amount, amount_min,
                  bidder_count, opening_date, proof_id from pmmp.attributions order by 1, 2, 3, 4`,
    db.sql`select org_acronyme, ref_consultation, id_avis, lot_key, bidder_key, bidder, amount, amount_verified, eliminated, retained, proof_id
           from pmmp.bids order by 1, 2, 3, 4, 5`,
  ]);
  return JSON.parse(JSON.stringify({ n, a, b })) as unknown;
}

before(async () => {
  [db, dir, replica] = await Promise.all([
    createTestDatabase(),
    mkdtemp(join(tmpdir(), 'moisson-notices-')),
    startPortalReplica({ seed: 7, today: '2026-11-20', consultations: 300 }),
  ]);
  proofs = createProofStore({ db: db.db, dir });
  fetcher = createFetcher({ politeness: false, robots: false });
  acts = bindActivities({ db: db.db, proofs, fetcher, portalBaseUrl: `${replica.url}/index.php` }, pmmpNoticeActivities);
});

after(async () => {
  await Promise.allSettled([replica?.close(), fetcher?.close(), db?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

describe('processNoticeDocuments', () => {
  it('stores the attributions and bids of generated text-layer notices as the oracle states them, idempotently', async (t) => {
    const cons = generated().slice(0, 40);
    const notices = cons.flatMap((c) => c.notices.filter((n) => n.type !== 'achevement').map((n) => ref(c, n)));
    const beats: unknown[] = [];
    const saved = async (kind: string) => seriesValue(await testTelemetry().scrape(), 'moisson_items_total', { pipeline: 'pmmp', kind, result: 'saved' });
    const notice = async (result: string) => seriesValue(await testTelemetry().scrape(), 'moisson_items_total', { pipeline: 'pmmp', kind: 'notice', result });
    const [noticesBefore, attributionsBefore] = [await saved('notice'), await saved('attribution')];
    const [downloadedBefore, parsedBefore] = [await notice('scraped'), await notice('parsed')];
    const counts = await run(() => acts.processNoticeDocuments({ notices, runId: null }), {}, beats);
    assert.equal(counts.documents, notices.length);
    assert.equal((await saved('notice')) - noticesBefore, counts.documents, 'documents read, on the metrics endpoint');
    assert.equal((await notice('scraped')) - downloadedBefore, notices.length, 'documents downloaded');
    assert.equal((await notice('parsed')) - parsedBefore, notices.length, 'documents whose award was read');
    assert.ok(counts.attributions > 0);
    assert.equal((await saved('attribution')) - attributionsBefore, counts.attributions, 'awarded lots stored, on the metrics endpoint');
    assert.equal(counts.textLayer, notices.length);
    assert.equal(counts.ocr, 0);
    assert.equal(counts.rejected, 0);
    assert.ok(beats.length >= notices.length, 'a heartbeat per document at least');

    // Every generated extrait and résultat must read exactly as the oracle states it, and without the
    // parser saying it is unsure of the lots: the notices follow the real ones' wording, so a warning
    // here is a rule that misfires on real notices too.
    const diffs: unknown[] = [];
    const flagged: string[] = [];
    let checked = 0;
    for (const c of cons) {
      for (const n of c.notices) {
        if (n.type === 'achevement') continue;
        const where = `${c.orgAcronyme}/${c.refConsultation} ${n.type}`;
        const key = { org: c.orgAcronyme, ref: c.refConsultation, avis: n.idAvis };
        const [notice] = await db.sql`select award_reference, parse_warnings from pmmp.notices
                                      where org_acronyme = ${key.org} and ref_consultation = ${key.ref} and id_avis = ${key.avis}`;
        if (unsureOfLots((notice!.parse_warnings ?? []) as { field: string; code: string }[])) flagged.push(where);
        if (notice!.award_reference !== printedReference(c)) diffs.push({ where, reference: notice!.award_reference, want: printedReference(c) });
        checked++;
        const attrs = await db.sql`select lot_key, status, winner, amount, bidder_count from pmmp.attributions
                                   where org_acronyme = ${key.org} and ref_consultation = ${key.ref} and id_avis = ${key.avis} order by lot_key`;
        const bids = await db.sql`select lot_key, bidder_key as "bidderKey", amount, retained, eliminated from pmmp.bids
                                  where org_acronyme = ${key.org} and ref_consultation = ${key.ref} and id_avis = ${key.avis}`;
        const got = attrs.map((a) =>
          readLot(
            n.type as 'pv' | 'resultat',
            { lotKey: a.lot_key as string, status: a.status as string, winner: a.winner as string | null, amount: a.amount as string | null, bidderCount: a.bidder_count as number | null },
            bids.filter((b) => b.lot_key === a.lot_key) as unknown as { bidderKey: string; amount: string | null; retained: boolean; eliminated: boolean }[],
          ),
        );
        const want = expectedLots(c, n.type as 'pv' | 'resultat');
        if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push({ where, got, want });
      }
    }
    t.diagnostic(`${checked} notices compared with the oracle, ${flagged.length} flagged by parseAward: ${flagged.join(' ')}`);
    assert.deepEqual(diffs, []);
    assert.deepEqual(flagged, [], 'no generated notice flagged ambiguous or inconsistent');
    assert.equal(checked, notices.length);
    const [n] = await db.sql`select count(*)::int as n, count(*) filter (where parser_version = ${AWARD_PARSER_VERSION})::int as v from pmmp.notices`;
    assert.deepEqual({ ...n }, { n: notices.length, v: notices.length });

    const first = await snapshot();
    const again = await run(() => acts.processNoticeDocuments({ notices, runId: null }));
    assert.deepEqual(again, counts);
    assert.deepEqual(await snapshot(), first, 'a rerun leaves the same rows');
  });

  it('OCRs a real scanned notice, heartbeating per page', async () => {
    const c = replica.oracle.consultation(SCAN.org, SCAN.ref)!;
    const n = c.notices.find((x) => x.idAvis === SCAN.idAvis)!;
    assert.equal(n.document.kind === 'sample' && n.document.file, SCAN.file);
    const beats: NoticeBatchProgress[] = [];
    const counts = await run(() => acts.processNoticeDocuments({ notices: [ref(c, n)], runId: null }), {}, beats);
    assert.deepEqual({ documents: counts.documents, ocr: counts.ocr, rejected: counts.rejected }, { documents: 1, ocr: 1, rejected: 0 });
    assert.ok(beats.some((b) => b.page === 1 && b.pages === 1), 'OCR page progress heartbeated');
    const [row] = await db.sql`select text_method, ocr_pages, ocr_confidence, text, proof_id from pmmp.notices where id_avis = ${SCAN.idAvis}`;
    assert.equal(row!.text_method, 'ocr');
    assert.deepEqual(row!.ocr_pages, [1]);
    assert.ok((row!.ocr_confidence as number) > 30);
    assert.match(row!.text as string, /sultat|offres/i);
    assert.equal(row!.proof_id, (n.document as { sha256: string }).sha256, 'the proof is the byte-identical sample');
  });

  it('fails a truncated PDF as retryable, resumes after the last finished document, rejects it after enough attempts', async () => {
    const cons = generated().slice(40, 43);
    const notices = cons.map((c) => ref(c, c.notices.find((n) => n.type === 'pv')!));
    const truncate = { truncate: { rate: 1, kinds: ['notice-pdf' as const], mode: 'short-body' as const } };
    const beats: NoticeBatchProgress[] = [];
    const env = new MockActivityEnvironment({}, quiet);
    env.on('heartbeat', (d: NoticeBatchProgress) => {
      beats.push(d);
      // The first document arrives whole; the portal starts cutting bodies from the second on.
      if (d.next === 1) replica.setKnobs(truncate);
    });
    await assert.rejects(env.run(() => acts.processNoticeDocuments({ notices, runId: null })), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'TransientError');
      assert.equal(err.nonRetryable, false);
      return true;
    });
    const last = beats.at(-1)!;
    assert.equal(last.next, 1);
    assert.equal(last.counts.documents, 1);

    replica.setKnobs({ truncate: null });
    replica.resetStats();
    const counts = await run(() => acts.processNoticeDocuments({ notices, runId: null }), { attempt: 2, heartbeatDetails: last });
    assert.equal(counts.documents, 3);
    assert.equal(replica.stats().byKind['notice-pdf'].requests, 2, 'the first document is not fetched again');

    const more = generated().slice(43, 44).map((c) => ref(c, c.notices.find((n) => n.type === 'pv')!));
    replica.setKnobs(truncate);
    const gaveUp = await run(() => acts.processNoticeDocuments({ notices: more, runId: null }), { attempt: MAX_TRANSIENT_ATTEMPTS });
    replica.setKnobs({ truncate: null });
    assert.deepEqual({ documents: gaveUp.documents, rejected: gaveUp.rejected }, { documents: 0, rejected: 1 });
  });

  it('rejects an HTML page served instead of the PDF, with its proof, and goes on', async () => {
    const cons = generated().slice(44, 46);
    const notices = cons.map((c) => ref(c, c.notices.find((n) => n.type === 'pv')!));
    replica.setKnobs({ shapeChanged: 'notice-pdf' });
    try {
      const counts = await run(() => acts.processNoticeDocuments({ notices, runId: null }));
      assert.deepEqual({ documents: counts.documents, rejected: counts.rejected }, { documents: 0, rejected: 2 });
    } finally {
      replica.setKnobs({ shapeChanged: null });
    }
    const rows = await db.sql`select natural_key, reason, proof_id from etl.rejected_records where pipeline = 'pmmp' and reason like 'not a PDF%' order by natural_key`;
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.match(r.reason as string, /looks like html/);
      const proof = await proofs.get(r.proof_id as string);
      assert.match(proof.body.toString('utf8'), /<html/i);
    }
    const [n] = await db.sql`select count(*)::int as n from pmmp.notices where id_avis in ${db.sql(notices.map((x) => x.idAvis))}`;
    assert.equal(n!.n, 0);
  });
});

describe('reparseNoticeProofs', () => {
  it('reads and writes in batches: every notice once, the limit and cursor kept, rows as before, a refused notice filed and left as it was', async () => {
    // One notice whose text must be extracted again from a proof that is an HTML page (the test above's):
    // the reparse refuses it, files it with that proof, and leaves its rows alone.
    const { proof_id: htmlProof } = (await db.sql<{ proof_id: string }[]>`select proof_id from etl.rejected_records where reason like 'not a PDF%' limit 1`)[0]!;
    const refused = (await db.sql<{ org_acronyme: string; ref_consultation: string; id_avis: string; text: string; proof_id: string }[]>`
      select org_acronyme, ref_consultation, id_avis, text, proof_id from pmmp.notices where proof_id is not null order by 1, 2, 3 offset 3 limit 1`)[0]!;
    const keyOf = db.sql`org_acronyme = ${refused.org_acronyme} and ref_consultation = ${refused.ref_consultation} and id_avis = ${refused.id_avis}`;
    await db.sql`update pmmp.notices set text = null, proof_id = ${htmlProof} where ${keyOf}`;
    try {
      const before = (await snapshot()) as { n: Record<string, unknown>[]; a: unknown[]; b: unknown[] };
      const { total } = (await db.sql<{ total: number }[]>`select count(*)::int as total from pmmp.notices where proof_id is not null`)[0]!;
      assert.ok(total >= 6, `${total} stored notices: too few for batches of 2`);
      const { kept } = (await db.sql<{ kept: number }[]>`select count(*)::int as kept from pmmp.attributions where ${keyOf}`)[0]!;
      const version = `${AWARD_PARSER_VERSION}+batches`;
      // Batches of 2 under a limit of 5: the last batch is short, and the next call resumes from the cursor.
      const first = await run(() => acts.reparseNoticeProofs({ limit: 5, parserVersion: version, batch: 2 }));
      assert.equal(first.notices, 5);
      assert.ok(first.next);
      const rest = await run(() => acts.reparseNoticeProofs({ after: first.next, limit: total, parserVersion: version, batch: 2 }));
      assert.equal(rest.next, null);
      assert.equal(first.notices + rest.notices, total);
      assert.equal(first.rejected + rest.rejected, 1, 'the notice whose proof is an HTML page');
      assert.equal(first.reparsed + rest.reparsed, total - 1);
      assert.equal(first.attributions + rest.attributions, before.a.length - kept, 'every other attribution rewritten');
      const after = (await snapshot()) as typeof before;
      assert.equal(after.n.filter((n) => n.parser_version === version).length, total - 1);
      const strip = (rows: Record<string, unknown>[]) => rows.map(({ parser_version: _, ...r }) => r);
      assert.deepEqual(strip(after.n), strip(before.n), 'the notices as before but for their parser version');
      assert.deepEqual(after.a, before.a, 'same parser, same attributions; the refused notice keeps its own');
      assert.deepEqual(after.b, before.b, 'same parser, same bids');
      const filed = await db.sql`select natural_key, proof_id from etl.rejected_records where reason like 'reparse:%'`;
      assert.deepEqual(
        filed.map((r) => ({ ...r })),
        [{ natural_key: `${refused.org_acronyme}/${refused.ref_consultation}/${refused.id_avis}`, proof_id: htmlProof }],
      );
    } finally {
      await db.sql`update pmmp.notices set text = ${refused.text}, proof_id = ${refused.proof_id} where ${keyOf}`;
    }
  });
});

describe('parseAward on generated notices of a larger portal', () => {
  it('reads allotted consultations lot by lot, ruled results tables and groupements as the oracle states them', async (t) => {
    // Past the ~500 real records the replica generates consultations of its own, some allotted:
    // extraits written lot by lot and results tables with one row per lot.
    const model = new PortalModel({ seed: 11, today: '2026-11-20', consultations: 1500 });
    const withNotices = model.oracle
      .consultations()
      .filter((c) => c.attributions && c.attributions.length > 0 && c.notices.some((n) => n.type === 'pv'));
    const allotted = withNotices.filter((c) => c.lotCount);
    const cons = [...allotted.slice(0, 25), ...withNotices.filter((c) => !c.lotCount).slice(0, 15)];
    assert.ok(allotted.length >= 10, `allotted consultations with notices: ${allotted.length}`);
    const diffs: unknown[] = [];
    const flagged: string[] = [];
    let checked = 0;
    for (const c of cons) {
      for (const on of c.notices) {
        if (on.type === 'achevement') continue;
        const where = `${c.orgAcronyme}/${c.refConsultation} ${on.type}`;
        const extracted = await extractNoticeText(noticePdf(model, model.noticeById.get(on.idAvis)!));
        assert.equal(extracted.method, 'text-layer', where);
        const award = parseAward(extracted.text);
        if (unsureOfLots(award.warnings)) flagged.push(where);
        if (award.reference !== printedReference(c)) diffs.push({ where, reference: award.reference, want: printedReference(c) });
        const rows = awardRows({ orgAcronyme: c.orgAcronyme, refConsultation: c.refConsultation, idAvis: on.idAvis }, award, 'proof');
        const got = rows.attributions.map((a) =>
          readLot(
            on.type as 'pv' | 'resultat',
            { lotKey: a.lotKey, status: a.status, winner: a.winner ?? null, amount: a.amount ?? null, bidderCount: a.bidderCount ?? null },
            rows.bids
              .filter((b) => b.lotKey === a.lotKey)
              .map((b) => ({ bidderKey: b.bidderKey, amount: b.amount ?? null, retained: b.retained ?? false, eliminated: b.eliminated ?? false })),
          ),
        );
        const want = expectedLots(c, on.type as 'pv' | 'resultat');
        if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push({ where, got, want });
        checked++;
      }
    }
    t.diagnostic(`${checked} generated notices of ${cons.length} consultations (${Math.min(25, allotted.length)} allotted) read`);
    assert.deepEqual(diffs, []);
    assert.deepEqual(flagged, []);
  });
});

describe('workflows on the Temporal dev server', () => {
  let temporal: TestWorkflowEnvironment;
  before(async () => {
    temporal = await startTemporal();
  });
  after(async () => {
    await temporal?.teardown();
  });

  it('pmmpNoticeBatch, then pmmpReparse rewrites every notice from proofs only, and a second reparse changes nothing', async () => {
    const taskQueue = `pmmp-notices-${randomBytes(3).toString('hex')}`;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../../workflows/pmmp/notices.ts', import.meta.url)),
      logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never,
    });
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace ?? 'default',
      taskQueue,
      workflowBundle,
      activities: acts,
    });
    const client = temporal.client;
    await worker.runUntil(async () => {
      const cons = generated().slice(46, 48);
      const notices = cons.map((c) => ref(c, c.notices.find((n) => n.type === 'pv')!));
      const batch = await client.workflow.execute('pmmpNoticeBatch', { taskQueue, workflowId: `pmmp-notices-${taskQueue}`, args: [{ notices }] });
      assert.equal((batch as { documents: number }).documents, 2);
      await recordHistories(client, histories, 'two', `pmmp-notices-${taskQueue}`);

      const before = (await snapshot()) as { n: { parser_version: string }[]; a: unknown[]; b: unknown[] };
      replica.resetStats();
      const bumped = `${AWARD_PARSER_VERSION}+test`;
      const first = (await client.workflow.execute('pmmpReparse', {
        taskQueue,
        workflowId: `pmmp-reparse-1-${taskQueue}`,
        args: [{ scope: ['notices'], parserVersion: bumped, batchSize: 7 }],
      })) as { notices: number; reparsed: number; reextracted: number; batches: number };
      assert.equal(first.notices, before.n.length);
      await recordHistories(client, histories, 'notices', `pmmp-reparse-1-${taskQueue}`);
      assert.equal(first.reparsed, before.n.length);
      assert.equal(first.reextracted, 0, 'stored text reused: no OCR again');
      assert.ok(first.batches >= Math.ceil(before.n.length / 7));
      assert.equal(replica.stats().requests, 0, 'no request to the portal');
      const afterFirst = (await snapshot()) as typeof before;
      assert.ok(afterFirst.n.every((n) => n.parser_version === bumped));
      assert.deepEqual(afterFirst.a, before.a, 'same parser, same attributions');
      assert.deepEqual(afterFirst.b, before.b);

      const second = (await client.workflow.execute('pmmpReparse', {
        taskQueue,
        workflowId: `pmmp-reparse-2-${taskQueue}`,
        args: [{ scope: ['notices'], parserVersion: bumped, batchSize: 7 }],
      })) as { notices: number; batches: number };
      assert.deepEqual({ notices: second.notices, batches: second.batches }, { notices: 0, batches: 1 });
      assert.deepEqual(await snapshot(), afterFirst);
    });
  });
});
