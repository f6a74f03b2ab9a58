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
import { createFetcher, type Fetcher } from '../../activities/engine/fetcher';
import { createProofStore, type ProofStore } from '../../activities/engine/proofs';
import { bidderKey } from '../../activities/pmmp/awards-store';
import {
  AWARD_PARSER_VERSION,
  createPmmpNoticeActivities,
  MAX_TRANSIENT_ATTEMPTS,
  type NoticeBatchProgress,
  type NoticeDocumentRef,
  type PmmpNoticeActivities,
} from '../../activities/pmmp/notices';
import type { OracleConsultation, OracleNotice } from '../replicas/pmmp/index';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { createTestDatabase, startTemporal, type TestDatabase } from '../support/services';

const NOTICE_KIND = { pv: 'extrait_pv', resultat: 'resultat_definitif', achevement: 'achevement' } as const;
/**
 * Generated notices parseAward reads differently from the oracle without flagging them. Not a storage
 * matter: what is stored is what the parser read.
 */
const KNOWN_PARSER_DIFFERENCES: Record<string, string> = {
  'o8p/943223': 'two bidders, "ANFA SIGMA SARL" and "STE ANFA-SIGMA SARL", taken for one company by parseAward',
};

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
  acts = createPmmpNoticeActivities({ db: db.db, proofs, fetcher, portalBaseUrl: `${replica.url}/index.php` });
});

after(async () => {
  await Promise.allSettled([replica?.close(), fetcher?.close(), db?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

describe('processNoticeDocuments', () => {
  it('stores the attributions and bids of generated text-layer notices as the oracle states them, idempotently', async (t) => {
    const cons = generated().slice(0, 40);
    const notices = cons.flatMap((c) => c.notices.filter((n) => n.type !== 'achevement').map((n) => ref(c, n)));
    const beats: unknown[] = [];
    const counts = await run(() => acts.processNoticeDocuments({ notices, runId: null }), {}, beats);
    assert.equal(counts.documents, notices.length);
    assert.equal(counts.textLayer, notices.length);
    assert.equal(counts.ocr, 0);
    assert.equal(counts.rejected, 0);
    assert.ok(beats.length >= notices.length, 'a heartbeat per document at least');

    const diffs: unknown[] = [];
    const flagged: string[] = [];
    let checked = 0;
    for (const c of cons) {
      const truth = c.attributions!;
      const pv = c.notices.find((n) => n.type === 'pv')!;
      const [notice] = await db.sql`select parse_warnings from pmmp.notices where org_acronyme = ${c.orgAcronyme} and ref_consultation = ${c.refConsultation} and id_avis = ${pv.idAvis}`;
      const warnings = (notice!.parse_warnings ?? []) as { field: string; code: string }[];
      // The parser says when it is unsure of the lots (a table read as several winners, a lot number
      // taken from the object): those notices are counted, not compared; every confident one must match.
      if (KNOWN_PARSER_DIFFERENCES[`${c.orgAcronyme}/${c.refConsultation}`] || warnings.some((w) => w.field === 'lots' && (w.code === 'ambiguous' || w.code === 'inconsistent'))) {
        flagged.push(`${c.orgAcronyme}/${c.refConsultation}`);
        continue;
      }
      checked++;
      const attrs = await db.sql`select * from pmmp.attributions where org_acronyme = ${c.orgAcronyme} and ref_consultation = ${c.refConsultation} and id_avis = ${pv.idAvis} order by lot_key`;
      if (attrs.length !== truth.length) {
        diffs.push({ where: `${c.orgAcronyme}/${c.refConsultation}`, lots: attrs.length, want: truth.length });
        continue;
      }
      for (const [i, lot] of truth.entries()) {
        const a = attrs[i]!;
        const where = `${c.orgAcronyme}/${c.refConsultation} lot ${lot.lotNumber}`;
        const bids = await db.sql`select * from pmmp.bids where org_acronyme = ${c.orgAcronyme} and ref_consultation = ${c.refConsultation} and id_avis = ${pv.idAvis} and lot_key = ${a.lot_key as string}`;
        const got = {
          lotKey: a.lot_key,
          status: a.status === 'offre_excessive' ? 'infructueux' : a.status,
          winner: a.winner,
          amount: a.amount,
          bidderCount: a.bidder_count,
          bids: bids
            .map((b) => ({ key: b.bidder_key as string, amount: b.amount as string | null, retained: b.retained as boolean, eliminated: b.eliminated as boolean }))
            .sort((x, y) => x.key.localeCompare(y.key)),
        };
        const want = {
          lotKey: c.lotCount ? String(lot.lotNumber) : '',
          status: lot.status,
          winner: lot.winner,
          amount: lot.amount,
          bidderCount: lot.bidderCount,
          bids: lot.bids
            .map((b) => ({ key: bidderKey(b.name), amount: b.amount, retained: b.status === 'retenu', eliminated: b.status === 'ecarte' }))
            .sort((x, y) => x.key.localeCompare(y.key)),
        };
        if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push({ where, got, want });
      }
    }
    t.diagnostic(`${checked} notices compared with the oracle, ${flagged.length} flagged ambiguous by parseAward: ${flagged.join(' ')}`);
    assert.deepEqual(diffs, []);
    assert.ok(checked >= 10, `at least 10 confident notices compared (got ${checked})`);
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

      const before = (await snapshot()) as { n: { parser_version: string }[]; a: unknown[]; b: unknown[] };
      replica.resetStats();
      const bumped = `${AWARD_PARSER_VERSION}+test`;
      const first = (await client.workflow.execute('pmmpReparse', {
        taskQueue,
        workflowId: `pmmp-reparse-1-${taskQueue}`,
        args: [{ scope: ['notices'], parserVersion: bumped, batchSize: 7 }],
      })) as { notices: number; reparsed: number; reextracted: number; batches: number };
      assert.equal(first.notices, before.n.length);
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
