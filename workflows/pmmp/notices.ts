/**
 * Notice documents → awards. `pmmpNoticeBatch` reads one batch of notices (ids and URLs; the bytes stay
 * in the activity); `pmmpReparse` rereads stored proofs with a new parser version, a batch per activity,
 * continuing as new before the history grows large.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NoticeBatchCounts, NoticeKey, PmmpNoticeActivities, ReparseCounts } from '../../activities/pmmp/notices';
import type { ConsultationKey, PmmpReparseActivities } from '../../activities/pmmp/reparse';
import { acceptRun } from '../run-start';
import {
  NOTICE_DOCUMENTS,
  NOTICE_QUEUE,
  pmmpNoticeBatchContract,
  pmmpNoticeDocumentsContract,
  pmmpReparseContract,
  REPARSING,
  type PmmpNoticeBatchInput,
  type PmmpNoticeDocumentsInput,
  type PmmpReparseInput,
} from './contract';

export type { PmmpNoticeBatchInput, PmmpNoticeDocumentsInput, PmmpReparseInput } from './contract';

const documents = proxyActivities<PmmpNoticeActivities>(NOTICE_DOCUMENTS);
const queue = proxyActivities<PmmpNoticeActivities>(NOTICE_QUEUE);
const reparsing = proxyActivities<PmmpNoticeActivities & PmmpReparseActivities>(REPARSING);

export async function pmmpNoticeBatch(raw: PmmpNoticeBatchInput): Promise<NoticeBatchCounts> {
  const input = acceptRun(pmmpNoticeBatchContract, raw) as PmmpNoticeBatchInput;
  return documents.processNoticeDocuments({ notices: input.notices, runId: input.runId ?? null });
}

export interface PmmpNoticeDocumentsResult extends NoticeBatchCounts {
  batches: number;
}

/**
 * Drains the download queue (notices discovered on detail pages, not fetched yet) in key order. The
 * keyset cursor only moves forward, so a document that failed waits for the next run instead of
 * being retried in a loop here; after three failed runs it leaves the queue.
 */
export async function pmmpNoticeDocuments(raw: PmmpNoticeDocumentsInput = {}): Promise<PmmpNoticeDocumentsResult> {
  const input = acceptRun(pmmpNoticeDocumentsContract, raw);
  const totals: PmmpNoticeDocumentsResult = { documents: 0, textLayer: 0, ocr: 0, attributions: 0, bids: 0, rejected: 0, batches: 0, ...input.totals };
  const batchSize = Math.max(1, Math.min(input.batchSize ?? 20, 200));
  let after = input.after ?? null;
  for (;;) {
    const room = input.maxDocuments === undefined ? batchSize : Math.min(batchSize, input.maxDocuments - totals.documents - totals.rejected);
    if (room <= 0) return totals;
    const page = await queue.listPendingNotices({ after, limit: room });
    if (page.notices.length === 0) return totals;
    const r = await documents.processNoticeDocuments({ notices: page.notices, runId: input.runId ?? null });
    totals.batches++;
    for (const k of ['documents', 'textLayer', 'ocr', 'attributions', 'bids', 'rejected'] as const) totals[k] += r[k];
    const last = page.notices[page.notices.length - 1]!;
    after = { orgAcronyme: last.orgAcronyme, refConsultation: last.refConsultation, idAvis: last.idAvis };
    if (page.next === null) return totals;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof pmmpNoticeDocuments>({ ...input, after, totals });
    }
  }
}

export type ReparseScope = 'consultations' | 'bdc' | 'notices';

export interface PmmpReparseResult extends ReparseCounts {
  batches: number;
  consultations: { consultations: number; updated: number; unchanged: number; rejected: number };
  bdc: { pages: number; cards: number; updated: number; unchanged: number; rejected: number };
}

const STAGES: ReparseScope[] = ['consultations', 'bdc', 'notices'];

/**
 * The current parsers over stored proofs, never the portal: consultations from their list, detail and
 * lots pages, /bdc/ results from their pages, notices from their documents (reusing the stored text
 * unless asked to extract again). A batch per activity, continuing as new before the history grows.
 */
export async function pmmpReparse(raw: PmmpReparseInput): Promise<PmmpReparseResult> {
  const input = acceptRun(pmmpReparseContract, raw);
  const totals: PmmpReparseResult = input.totals ?? {
    notices: 0,
    reparsed: 0,
    reextracted: 0,
    attributions: 0,
    bids: 0,
    rejected: 0,
    batches: 0,
    consultations: { consultations: 0, updated: 0, unchanged: 0, rejected: 0 },
    bdc: { pages: 0, cards: 0, updated: 0, unchanged: 0, rejected: 0 },
  };
  const scope = STAGES.filter((s) => (input.scope ?? STAGES).includes(s));
  let stageIndex = input.stage ? scope.indexOf(input.stage) : 0;
  let after = input.after ?? null;
  for (; stageIndex >= 0 && stageIndex < scope.length; stageIndex++, after = null) {
    const stage = scope[stageIndex]!;
    for (;;) {
      let next: NoticeKey | ConsultationKey | string | null;
      if (stage === 'consultations') {
        const r = await reparsing.reparseConsultationProofs({ after: after as ConsultationKey | null, limit: input.batchSize, from: input.from, to: input.to, runId: input.runId ?? null });
        for (const k of ['consultations', 'updated', 'unchanged', 'rejected'] as const) totals.consultations[k] += r[k];
        next = r.next;
      } else if (stage === 'bdc') {
        const r = await reparsing.reparseBdcProofs({ after: after as string | null, limit: input.batchSize, runId: input.runId ?? null });
        for (const k of ['pages', 'cards', 'updated', 'unchanged', 'rejected'] as const) totals.bdc[k] += r[k];
        next = r.next;
      } else {
        const r = await reparsing.reparseNoticeProofs({
          after: after as NoticeKey | null,
          limit: input.batchSize,
          parserVersion: input.parserVersion,
          reextract: input.reextract,
          runId: input.runId ?? null,
        });
        for (const k of ['notices', 'reparsed', 'reextracted', 'attributions', 'bids', 'rejected'] as const) totals[k] += r[k];
        next = r.next;
      }
      totals.batches++;
      if (next === null) break;
      after = next;
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof pmmpReparse>({ ...input, stage, after, totals });
      }
    }
  }
  return totals;
}
