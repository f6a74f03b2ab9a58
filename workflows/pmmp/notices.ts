/**
 * Notice documents → awards. `pmmpNoticeBatch` reads one batch of notices (ids and URLs; the bytes stay
 * in the activity); `pmmpReparse` rereads stored proofs with a new parser version, a batch per activity,
 * continuing as new before the history grows large.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NoticeBatchCounts, NoticeDocumentRef, NoticeKey, PmmpNoticeActivities, ReparseCounts } from '../../activities/pmmp/notices';

// One scanned page takes 5-25 s of tesseract on 2 cores and a batch may hold dozens of scans: a long
// start-to-close, and a heartbeat timeout well above the activity's 5 s heartbeat timer. The portal is
// slow and rate-limits: retries back off to minutes; the activity resumes after its last document.
const documents = proxyActivities<PmmpNoticeActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '15 minutes', maximumAttempts: 8 },
});

// No portal request: failures are the database or the disk, retried sooner.
const reparsing = proxyActivities<PmmpNoticeActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

export interface PmmpNoticeBatchInput {
  notices: NoticeDocumentRef[];
  runId?: string | null;
}

export async function pmmpNoticeBatch(input: PmmpNoticeBatchInput): Promise<NoticeBatchCounts> {
  return documents.processNoticeDocuments({ notices: input.notices, runId: input.runId ?? null });
}

export interface PmmpReparseInput {
  parserVersion: string;
  batchSize: number;
  reextract?: 'none' | 'text-layer' | 'all';
  runId?: string | null;
  /** Carried over continue-as-new. */
  after?: NoticeKey | null;
  totals?: ReparseCounts;
}

export interface PmmpReparseResult extends ReparseCounts {
  batches: number;
}

export async function pmmpReparse(input: PmmpReparseInput): Promise<PmmpReparseResult> {
  const totals: PmmpReparseResult = { notices: 0, reparsed: 0, reextracted: 0, attributions: 0, bids: 0, rejected: 0, batches: 0, ...input.totals };
  let after = input.after ?? null;
  for (;;) {
    const r = await reparsing.reparseNoticeProofs({
      after,
      limit: input.batchSize,
      parserVersion: input.parserVersion,
      reextract: input.reextract,
      runId: input.runId ?? null,
    });
    totals.batches++;
    totals.notices += r.notices;
    totals.reparsed += r.reparsed;
    totals.reextracted += r.reextracted;
    totals.attributions += r.attributions;
    totals.bids += r.bids;
    totals.rejected += r.rejected;
    if (r.next === null) return totals;
    after = r.next;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof pmmpReparse>({ ...input, after, totals });
    }
  }
}
