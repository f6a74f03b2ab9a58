/**
 * Activities turning the portal's notice documents (extraits de PV, résultats définitifs) into awards
 * in PostgreSQL: download → proof store → text (OCR only where the text layer is unusable) → parseAward
 * → notices / attributions / bids. Workflows pass ids and URLs only; bytes and text never leave here.
 */
import { Context } from '@temporalio/activity';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { NoticeKind } from '../../schema/pmmp/tables';
import type { BoundActivities } from '../engine/bind';
import { ConfigurationError, errorMessage, MoissonError, StopError, TransientError } from '../engine/errors';
import { CircuitOpenError, type Fetcher } from '../engine/fetcher';
import { withHeartbeat } from '../engine/heartbeat';
import { items as pipelineItems } from '../engine/metrics';
import { withInlineRetries } from '../engine/retry';
import type { ProofStore } from '../engine/proofs';
import { recordRejections, rejectionReasonOf, type Rejection } from '../engine/runs';
import {
  assertPdf,
  ExtractionAbortedError,
  parseAchevement,
  extractNoticeText,
  MissingBinaryError,
  MissingOcrLanguageError,
  parseAward,
  type AchevementNotice,
  type AwardNotice,
  type ExtractNoticeTextOptions,
} from './awards';
import { parseOrReject, PIPELINE } from './rejections';
import {
  markNoticeFailed,
  noticesToReparse,
  pendingNotices,
  storeAchevement,
  storeNoticeAward,
  writeNoticeAwards,
  type NoticeAwardRecord,
  type NoticeKey,
  type ReparseCandidate,
  type StoredText,
} from './awards-store';

export type { NoticeKey } from './awards-store';

/**
 * Version of the award reading (extraction settings + parseAward) written to `notices.parser_version`.
 * Bump it when either changes: `pmmpReparse` then rereads every older notice from its stored proof.
 */
export const AWARD_PARSER_VERSION = 'awards-8';

export const NOTICE_PROOF_KIND = 'pmmp.notice';

/**
 * A document still truncated at this activity attempt is rejected instead of failing the batch again:
 * a server that always cuts one file must not block the notices after it forever.
 */
export const MAX_TRANSIENT_ATTEMPTS = 4;

export interface NoticeDocumentRef extends NoticeKey {
  /** Absolute, or relative to the portal's base URL. */
  url: string;
  kind?: NoticeKind;
  annonceType?: number | null;
  label?: string | null;
  publishedOn?: string | null;
}

export interface ProcessNoticeDocumentsInput {
  notices: NoticeDocumentRef[];
  /** `etl.runs.id` the rejections are filed under; null outside a run. */
  runId: string | null;
}

export interface NoticeBatchCounts {
  documents: number;
  textLayer: number;
  ocr: number;
  attributions: number;
  bids: number;
  rejected: number;
}

export interface NoticeBatchProgress {
  /** Index of the first document not finished yet. */
  next: number;
  counts: NoticeBatchCounts;
  /** OCR progress inside the current document. */
  page?: number;
  pages?: number;
}

export interface ListPendingNoticesInput {
  after?: NoticeKey | null;
  limit: number;
  /** A notice whose download failed this many times leaves the queue (its reasons are rejections). */
  maxAttempts?: number;
}

export interface PendingNoticesPage {
  notices: NoticeDocumentRef[];
  /** Pass as `after` for the next page; null when this page was the last. */
  next: NoticeKey | null;
}

export interface ReparseNoticeProofsInput {
  after?: NoticeKey | null;
  limit: number;
  parserVersion: string;
  /**
   * Which stored texts to extract again from the proof instead of reusing: none (default), the cheap
   * text-layer ones, or all (OCR again: minutes per scan, only after an extraction change).
   */
  reextract?: 'none' | 'text-layer' | 'all';
  runId?: string | null;
  /** Notices read together and written in one transaction (default `NOTICE_REPARSE_BATCH`). */
  batch?: number;
}

export interface ReparseCounts {
  notices: number;
  reparsed: number;
  reextracted: number;
  attributions: number;
  bids: number;
  rejected: number;
}

export interface ReparseNoticeProofsResult extends ReparseCounts {
  /** Pass as `after` for the next batch; null when this batch was the last. */
  next: NoticeKey | null;
}

interface ReparseProgress {
  cursor: NoticeKey | null;
  counts: ReparseCounts;
  page?: number;
  pages?: number;
}

export interface PmmpNoticeDeps {
  db: PostgresJsDatabase;
  proofs: ProofStore;
  fetcher: Fetcher;
  /** Base for relative notice URLs (`https://www.marchespublics.gov.ma/index.php`, a replica's). */
  portalBaseUrl?: string;
  /** Retry-After waits up to this long are slept inside the activity, longer ones go to Temporal. */
  maxInlineWaitMs?: number;
  extraction?: Omit<ExtractNoticeTextOptions, 'onProgress' | 'signal'>;
}

/** Failures of one document that say nothing about the others: the document is rejected, the batch goes on. */
function isDocumentProblem(err: unknown): err is unknown {
  if (!(err instanceof StopError)) return !(err instanceof MoissonError) && !isSystemError(err);
  return !(
    err instanceof ConfigurationError ||
    err instanceof MissingBinaryError ||
    err instanceof MissingOcrLanguageError ||
    err instanceof ExtractionAbortedError ||
    err instanceof CircuitOpenError
  );
}

/** Errors of the worker or the database (not of a document): retrying the activity is the answer. */
function isSystemError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|\d{2}[0-9A-Z]{3})$/.test(code);
}

/** `%%EOF` closes every complete PDF (incremental updates add more after it, still ending with one). */
function looksTruncated(bytes: Buffer): boolean {
  return !bytes.subarray(Math.max(0, bytes.length - 2048)).includes('%%EOF');
}

function naturalKey(k: NoticeKey): string {
  return `${k.orgAcronyme}/${k.refConsultation}/${k.idAvis}`;
}

function kindOf(given: NoticeKind | undefined, award: AwardNotice): NoticeKind {
  // The list the notice came from (annonceType) is authoritative; the document's title is a fallback.
  return given && given !== 'inconnu' ? given : award.kind;
}

function storedText(t: { text: string; method: StoredText['method']; ocrPages: number[]; confidence?: number }): StoredText {
  return { text: t.text, method: t.method, ocrPages: t.ocrPages, ocrConfidence: t.confidence ?? null };
}

function resolveUrl(deps: PmmpNoticeDeps, url: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  if (!deps.portalBaseUrl) throw new ConfigurationError(`relative notice URL ${url} and no portal base URL configured`);
  return new URL(url, deps.portalBaseUrl).toString();
}

export async function processNoticeDocuments(deps: PmmpNoticeDeps, input: ProcessNoticeDocumentsInput): Promise<NoticeBatchCounts> {
  const ctx = Context.current();
  const resumed = ctx.info.heartbeatDetails as NoticeBatchProgress | undefined;
  const counts: NoticeBatchCounts = resumed?.counts
    ? { ...resumed.counts }
    : { documents: 0, textLayer: 0, ocr: 0, attributions: 0, bids: 0, rejected: 0 };
  const start = resumed?.next ?? 0;
  const session = deps.fetcher.session();
  const signal = ctx.cancellationSignal;

  return withHeartbeat<NoticeBatchCounts, NoticeBatchProgress>(async (progress) => {
    for (let i = start; i < input.notices.length; i++) {
      const ref = input.notices[i]!;
      progress({ next: i, counts: { ...counts } });
      const reject = async (err: unknown, reason: string, proofId?: string, payload?: unknown): Promise<void> => {
        const rejection: Rejection = { kind: 'notice', naturalKey: naturalKey(ref), reason, code: rejectionReasonOf(err), source: ref.url, payload, proofId };
        await recordRejections(deps.db, PIPELINE, input.runId, [rejection]);
        await markNoticeFailed(deps.db, ref, reason, proofId ?? null);
        counts.rejected++;
      };

      let proofId: string | undefined;
      try {
        const url = resolveUrl(deps, ref.url);
        const res = await withInlineRetries(
          async () => {
            const r = await session.get(url, { signal, headers: { accept: 'application/pdf,application/octet-stream;q=0.9,*/*;q=0.5' } });
            // A cut body with a consistent Content-Length passes HTTP checks; only the PDF's end tells.
            if (r.body.subarray(0, 1024).includes('%PDF-') && looksTruncated(r.body)) {
              throw new TransientError('truncated', `notice ${naturalKey(ref)}: PDF has no %%EOF (${r.body.length} bytes)`, { url });
            }
            return r;
          },
          { signal, maxInlineWaitMs: deps.maxInlineWaitMs ?? 60_000 },
        );
        const put = await deps.proofs.put({
          body: res.body,
          url: res.url,
          fetchedAt: res.fetchedAt,
          contentType: res.contentType ?? null,
          kind: NOTICE_PROOF_KIND,
          meta: { orgAcronyme: ref.orgAcronyme, refConsultation: ref.refConsultation, idAvis: ref.idAvis },
        });
        proofId = put.proofId;
        // Per document as it happens: a resumed attempt starts after the documents already done.
        pipelineItems().add(1, { pipeline: PIPELINE, kind: 'notice', result: 'scraped' });
        assertPdf(res.body);
        const extracted = await extractNoticeText(res.body, {
          ...deps.extraction,
          signal,
          onProgress: (page, pages) => progress({ next: i, counts: { ...counts }, page, pages }),
        });
        const award = parseAward(extracted.text);
        pipelineItems().add(1, { pipeline: PIPELINE, kind: 'notice', result: 'parsed' });
        const kind = kindOf(ref.kind, award);
        if (kind === 'achevement') await storeAchevement(deps.db, ref, parseAchevement(extracted.text), proofId);
        const stored = await storeNoticeAward(deps.db, {
          orgAcronyme: ref.orgAcronyme,
          refConsultation: ref.refConsultation,
          idAvis: ref.idAvis,
          kind,
          url: ref.url,
          annonceType: ref.annonceType ?? null,
          label: ref.label ?? null,
          publishedOn: ref.publishedOn ?? null,
          proofId,
          extracted: storedText(extracted),
          award,
          parserVersion: AWARD_PARSER_VERSION,
        });
        counts.documents++;
        if (extracted.method === 'ocr') counts.ocr++;
        else counts.textLayer++;
        counts.attributions += stored.attributions;
        counts.bids += stored.bids;
      } catch (err) {
        if (err instanceof TransientError && ctx.info.attempt >= MAX_TRANSIENT_ATTEMPTS) {
          await reject(err, `still failing at attempt ${ctx.info.attempt}: ${errorMessage(err)}`, proofId, { error: err.name });
          continue;
        }
        if (!isDocumentProblem(err)) throw err;
        await reject(err, errorMessage(err), proofId, { error: err instanceof Error ? err.name : 'unknown' });
      }
    }
    progress({ next: input.notices.length, counts: { ...counts } });
    // Once per batch (a resumed attempt carries the counts of the one before): documents downloaded and
    // read, the awarded lots stored from them; rejections are counted by reason where they are recorded.
    pipelineItems().add(counts.documents, { pipeline: PIPELINE, kind: 'notice', result: 'saved' });
    pipelineItems().add(counts.attributions, { pipeline: PIPELINE, kind: 'attribution', result: 'saved' });
    return counts;
  });
}

/** Notices per batch: their stored texts read in one query, their rows written in one transaction. */
export const NOTICE_REPARSE_BATCH = 100;

type NoticeRead = { key: NoticeKey; row: ReparseCandidate; reextracted: boolean } & ({ ok: true; record: NoticeAwardRecord; achevement: AchevementNotice | null } | { ok: false; rejection: Rejection });

export async function reparseNoticeProofs(deps: PmmpNoticeDeps, input: ReparseNoticeProofsInput): Promise<ReparseNoticeProofsResult> {
  const ctx = Context.current();
  const resumed = ctx.info.heartbeatDetails as ReparseProgress | undefined;
  const counts: ReparseCounts = resumed?.counts
    ? { ...resumed.counts }
    : { notices: 0, reparsed: 0, reextracted: 0, attributions: 0, bids: 0, rejected: 0 };
  let cursor: NoticeKey | null = resumed ? resumed.cursor : (input.after ?? null);
  const reextract = input.reextract ?? 'none';
  const signal = ctx.cancellationSignal;
  const size = Math.max(1, input.batch ?? NOTICE_REPARSE_BATCH);

  return withHeartbeat<ReparseNoticeProofsResult, ReparseProgress>(async (progress) => {
    const wanted = input.limit - counts.notices;

    /**
     * A batch's stored texts in one query (keyset after the last batch read: rows a write rewrites leave
     * the selection, the cursor never goes back), then each notice parsed again, as the crawl reads it.
     */
    const readBatch = async (after: NoticeKey | null, limit: number): Promise<NoticeRead[]> => {
      const rows = await noticesToReparse(deps.db, { after, limit, parserVersion: input.parserVersion });
      const reads: NoticeRead[] = [];
      for (const row of rows) {
        const key: NoticeKey = { orgAcronyme: row.orgAcronyme, refConsultation: row.refConsultation, idAvis: row.idAvis };
        let reextracted = false;
        const read = await parseOrReject(
          async () => {
            let text: StoredText;
            const redo =
              row.text === null || row.textMethod === null || reextract === 'all' || (reextract === 'text-layer' && row.textMethod === 'text-layer');
            if (redo) {
              const proof = await deps.proofs.get(row.proofId);
              const extracted = await extractNoticeText(proof.body, {
                ...deps.extraction,
                signal,
                onProgress: (page, pages) => progress({ cursor, counts: { ...counts }, page, pages }),
              });
              text = storedText(extracted);
              reextracted = true;
            } else {
              text = { text: row.text!, method: row.textMethod!, ocrPages: row.ocrPages ?? [], ocrConfidence: row.ocrConfidence };
            }
            const award = parseAward(text.text);
            const kind = kindOf(row.kind, award);
            const record: NoticeAwardRecord = { ...key, kind, url: row.url, proofId: row.proofId, extracted: text, award, parserVersion: input.parserVersion };
            return { record, achevement: kind === 'achevement' ? parseAchevement(text.text) : null };
          },
          { kind: 'notice', naturalKey: naturalKey(key), reason: 'reparse', source: row.url, proofId: row.proofId, rejects: isDocumentProblem },
        );
        reads.push(read.ok ? { key, row, reextracted, ok: true, ...read.parsed } : { key, row, reextracted, ok: false, rejection: read.rejection });
        // Parsing is CPU only: the event loop gets a turn per notice so that the batch being written goes on.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return reads;
    };

    /** A batch's notices, attributions, bids, achèvements and rejections in one transaction, set-based; counts move once committed. */
    const writeBatch = async (reads: NoticeRead[]): Promise<void> => {
      const written = reads.filter((r): r is Extract<NoticeRead, { ok: true }> => r.ok);
      const stored = await deps.db.transaction(async (tx) => {
        for (const r of written) if (r.achevement) await storeAchevement(tx, r.key, r.achevement, r.row.proofId);
        const rows = await writeNoticeAwards(tx, written.map((r) => r.record));
        await recordRejections(tx, PIPELINE, input.runId ?? null, reads.flatMap((r) => (r.ok ? [] : [r.rejection])));
        return rows;
      });
      counts.reparsed += written.length;
      counts.reextracted += reads.filter((r) => r.reextracted).length;
      counts.rejected += reads.length - written.length;
      counts.attributions += stored.attributions;
      counts.bids += stored.bids;
      counts.notices += reads.length;
      cursor = reads.at(-1)!.key;
      progress({ cursor, counts: { ...counts } });
    };

    // Two stages overlap: the next batch is read and parsed while this one is written.
    let requested = 0;
    const read = (after: NoticeKey | null): Promise<NoticeRead[]> | null => {
      const limit = Math.min(size, wanted - requested);
      if (limit <= 0) return null;
      requested += limit;
      const p = readBatch(after, limit);
      // Handled here so that a read failing during a write is not an unhandled rejection; awaited below.
      p.catch(() => undefined);
      return p;
    };
    let reading = read(cursor);
    try {
      while (reading) {
        const reads = await reading;
        if (reads.length === 0) break;
        // A short batch is the last one: nothing is left after it.
        reading = reads.length < size ? null : read(reads.at(-1)!.key);
        await writeBatch(reads);
      }
    } finally {
      // Nothing started here outlives the activity: a failed write waits for the read in flight.
      await reading?.catch(() => undefined);
    }
    const done = counts.notices < input.limit;
    return { ...counts, next: done ? null : cursor };
  });
}

/** A page of the download queue: ids and URLs only, so it fits in a workflow history. */
export async function listPendingNotices(deps: Pick<PmmpNoticeDeps, 'db'>, input: ListPendingNoticesInput): Promise<PendingNoticesPage> {
  const limit = Math.max(1, Math.min(input.limit, 500));
  const rows = await pendingNotices(deps.db, { after: input.after ?? null, limit, maxAttempts: input.maxAttempts ?? 3 });
  const last = rows.at(-1);
  return {
    notices: rows.map((r) => ({ ...r })),
    next: rows.length === limit && last ? { orgAcronyme: last.orgAcronyme, refConsultation: last.refConsultation, idAvis: last.idAvis } : null,
  };
}

/** The activities of this file, as the worker registers them (see `bindActivities`). */
export const pmmpNoticeActivities = { listPendingNotices, processNoticeDocuments, reparseNoticeProofs };

export type PmmpNoticeActivities = BoundActivities<typeof pmmpNoticeActivities>;
