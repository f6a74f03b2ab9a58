/**
 * The daily procurement run: consultations, the three notice lists and the /bdc/ results as parallel
 * child workflows, then the notice documents they discovered, then the analysis step (statistics
 * views, the run's extraction log). A stream that fails fails alone: the run says "partial" and why.
 */
import { executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BdcCounts, PmmpBdcActivities } from '../../activities/pmmp/bdc';
import type { CrawlCounts } from '../../activities/pmmp/consultations';
import type { PmmpRunActivities, RecordedConsultations, StreamOutcome } from '../../activities/pmmp/runs';
import { inheritedSearchAttributes } from '../contracts';
import { acceptRun } from '../run-start';
import { describeFailure } from '../failures';
import { pmmpConsultationsWindow } from './consultations';
import { pmmpNoticeDocuments, type PmmpNoticeDocumentsResult } from './notices';
import {
  BOOKKEEPING,
  pmmpBdcWindowContract,
  pmmpDailyContract,
  pmmpProgressQuery,
  PORTAL_CRAWL,
  type PmmpBdcWindowInput,
  type PmmpDailyInput,
} from './contract';

export { pmmpProgressQuery, type PmmpBdcWindowInput, type PmmpDailyInput } from './contract';

const bookkeeping = proxyActivities<PmmpRunActivities>(BOOKKEEPING);
const bdc = proxyActivities<PmmpBdcActivities>({ ...PORTAL_CRAWL, startToCloseTimeout: '4 hours' });

/** /bdc/ purchase-order results of a window, a day at a time inside one heartbeating activity. */
export async function pmmpBdcWindow(raw: PmmpBdcWindowInput): Promise<BdcCounts> {
  const input = acceptRun(pmmpBdcWindowContract, raw);
  return bdc.crawlBdcWindow({ from: input.from, to: input.to, runId: input.runId ?? null });
}

export type PmmpStream = 'consultations' | 'notices-pv' | 'notices-resultats' | 'notices-achevements' | 'bdc' | 'documents';
export type StreamState = 'pending' | 'running' | StreamOutcome['status'];

export interface PmmpProgress {
  phase: 'planning' | 'extracting' | 'documents' | 'analysis' | 'done';
  runId?: string;
  day?: string;
  streams: Partial<Record<PmmpStream, StreamState>>;
  /** The counts of each stream once it has ended. */
  streamCounts?: Partial<Record<PmmpStream, Record<string, number>>>;
}


export interface PmmpDailyResult {
  runId: string;
  day: string;
  status: string;
  streams: StreamOutcome[];
  documents: PmmpNoticeDocumentsResult | null;
  noticesPending: number;
  rejected: Record<string, number>;
  /** The consultations of the run's publication window as the database recorded them for the run. */
  consultations?: RecordedConsultations;
}

const NOTICE_LISTS = [
  ['notices-pv', 'AvisExtraitPV'],
  ['notices-resultats', 'AvisAttribution'],
  ['notices-achevements', 'AvisRapportAchevement'],
] as const;

function crawlStatus(c: { rejected: number; missing?: number }): StreamOutcome['status'] {
  return c.rejected > 0 || (c.missing ?? 0) > 0 ? 'partial' : 'success';
}

export async function pmmpDaily(raw: PmmpDailyInput = {}): Promise<PmmpDailyResult> {
  const input = acceptRun(pmmpDailyContract, raw);
  const info = workflowInfo();
  const progress: PmmpProgress = { phase: 'planning', streams: {}, streamCounts: {} };
  setHandler(pmmpProgressQuery, () => progress);
  const skip = new Set(input.skip ?? []);

  const plan = await bookkeeping.planPmmpRun({
    kind: 'daily',
    workflowId: info.workflowId,
    workflowRunId: info.runId,
    day: input.day ?? null,
    overlapDays: input.overlapDays,
    bdcDays: input.bdcDays,
    params: { skip: [...skip] },
  });
  progress.runId = plan.runId;
  progress.day = plan.day;
  progress.phase = 'extracting';
  const outcomes: StreamOutcome[] = [];

  async function stream<T extends object>(name: PmmpStream, run: () => Promise<T>, status: (r: T) => StreamOutcome['status']): Promise<T | null> {
    if (skip.has(name)) {
      progress.streams[name] = 'skipped';
      return null;
    }
    progress.streams[name] = 'running';
    try {
      const counts = await run();
      const outcome: StreamOutcome = { stream: name, status: status(counts), counts: counts as unknown as Record<string, number> };
      outcomes.push(outcome);
      progress.streams[name] = outcome.status;
      progress.streamCounts![name] = outcome.counts ?? {};
      return counts;
    } catch (err) {
      const { type, message } = describeFailure(err);
      outcomes.push({ stream: name, status: 'failure', error: `${type}: ${message}` });
      progress.streams[name] = 'failure';
      return null;
    }
  }

  const child = (suffix: string) => `${info.workflowId}/${suffix}`;
  const typedSearchAttributes = inheritedSearchAttributes(info.typedSearchAttributes);
  const pageSize = input.pageSize ? { pageSize: input.pageSize } : {};
  await Promise.all([
    stream<CrawlCounts>(
      'consultations',
      () => executeChild(pmmpConsultationsWindow, { workflowId: child('consultations'), typedSearchAttributes, args: [{ from: plan.from, to: plan.to, kind: 'searchAnnCons', runId: plan.runId, ...pageSize }] }),
      crawlStatus,
    ),
    ...NOTICE_LISTS.map(([name, kind]) =>
      stream<CrawlCounts>(
        name,
        () => executeChild(pmmpConsultationsWindow, { workflowId: child(name), typedSearchAttributes, args: [{ from: plan.from, to: plan.to, kind, runId: plan.runId, ...pageSize }] }),
        crawlStatus,
      ),
    ),
    stream<BdcCounts>('bdc', () => executeChild(pmmpBdcWindow, { workflowId: child('bdc'), typedSearchAttributes, args: [{ from: plan.bdcFrom, to: plan.to, runId: plan.runId }] }), crawlStatus),
  ]);

  progress.phase = 'documents';
  let documents: PmmpNoticeDocumentsResult | null = null;
  await stream<PmmpNoticeDocumentsResult>(
    'documents',
    async () => {
      documents = await executeChild(pmmpNoticeDocuments, {
        workflowId: child('documents'),
        typedSearchAttributes,
        args: [{ runId: plan.runId, batchSize: input.noticeBatchSize, maxDocuments: input.maxDocuments }],
      });
      return documents;
    },
    (d) => (d.rejected > 0 ? 'partial' : 'success'),
  );

  progress.phase = 'analysis';
  const analysis = await bookkeeping.finishPmmpRun({
    runId: plan.runId,
    streams: outcomes,
    summary: { day: plan.day, streams: outcomes },
    window: skip.has('consultations') ? undefined : { from: plan.from, to: plan.to },
  });
  progress.phase = 'done';
  // The consultations stream says what the database recorded, not what the attempts that survived saw.
  const recorded = analysis.consultations;
  const streams = recorded
    ? outcomes.map((o) => (o.stream === 'consultations' && o.counts ? { ...o, counts: { ...o.counts, ...recorded } } : o))
    : outcomes;
  return {
    runId: plan.runId,
    day: plan.day,
    status: analysis.status,
    streams,
    ...(recorded ? { consultations: recorded } : {}),
    documents,
    noticesPending: analysis.noticesPending,
    rejected: analysis.rejected,
  };
}
