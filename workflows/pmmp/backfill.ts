/**
 * Years of the portal, a month at a time: each month a child workflow (consultations of the month's
 * publications, with the notices their detail pages link to, and the month's /bdc/ results), a few
 * at once, then the notice documents they queued, then the analysis step. The months still to do
 * travel through continue-as-new, so a 3-year backfill keeps a short history and resumes where it was.
 */
import { continueAsNew, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BdcCounts } from '../../activities/pmmp/bdc';
import type { CrawlCounts } from '../../activities/pmmp/consultations';
import type { PmmpRunActivities, StreamOutcome } from '../../activities/pmmp/runs';
import { inheritedSearchAttributes } from '../contracts';
import { acceptRun } from '../run-start';
import { describeFailure } from '../failures';
import { pmmpConsultationsWindow } from './consultations';
import { BOOKKEEPING, pmmpBackfillContract, pmmpMonthContract, pmmpProgressQuery, type PmmpBackfillInput, type PmmpMonthInput } from './contract';
import { pmmpBdcWindow, type PmmpProgress } from './daily';
import { pmmpNoticeDocuments, type PmmpNoticeDocumentsResult } from './notices';

export type { PmmpBackfillInput, PmmpMonthInput } from './contract';

const bookkeeping = proxyActivities<PmmpRunActivities>(BOOKKEEPING);

export interface PmmpMonthResult {
  month: string;
  consultations: CrawlCounts;
  bdc: BdcCounts | null;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

function lastDay(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return `${month}-${String(days).padStart(2, '0')}`;
}

/** Every `YYYY-MM` from `from` to `to`, both included; empty when the input is not two months in order. */
export function monthsBetween(from: string, to: string): string[] {
  if (!MONTH.test(from) || !MONTH.test(to) || from > to) return [];
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number) as [number, number];
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    out.push(month);
    if (month === to) return out;
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
}

/** One month of the backfill. Consultations and /bdc/ results are independent: they run side by side. */
export async function pmmpMonth(raw: PmmpMonthInput): Promise<PmmpMonthResult> {
  const input = acceptRun(pmmpMonthContract, raw);
  const from = `${input.month}-01`;
  const to = lastDay(input.month);
  const id = workflowInfo().workflowId;
  const typedSearchAttributes = inheritedSearchAttributes(workflowInfo().typedSearchAttributes);
  const [consultations, bdc] = await Promise.all([
    executeChild(pmmpConsultationsWindow, {
      workflowId: `${id}/consultations`,
      typedSearchAttributes,
      args: [{ from, to, kind: 'searchAnnCons', runId: input.runId ?? null, ...(input.pageSize ? { pageSize: input.pageSize } : {}) }],
    }),
    input.bdc === false ? Promise.resolve(null) : executeChild(pmmpBdcWindow, { workflowId: `${id}/bdc`, typedSearchAttributes, args: [{ from, to, runId: input.runId ?? null }] }),
  ]);
  return { month: input.month, consultations, bdc };
}

export interface BackfillCounts {
  listed: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  bdc: number;
}

export interface PmmpBackfillState {
  runId: string;
  /** Index in the month list of the first month not started. */
  next: number;
  done: string[];
  failed: { month: string; error: string }[];
  counts: BackfillCounts;
}

export interface PmmpBackfillResult {
  runId: string;
  status: string;
  months: number;
  failedMonths: { month: string; error: string }[];
  counts: BackfillCounts;
  documents: PmmpNoticeDocumentsResult | null;
  noticesPending: number;
}

export interface PmmpBackfillProgress extends PmmpProgress {
  monthsTotal: number;
  monthsDone: number;
  running: string[];
  failedMonths: string[];
  counts: BackfillCounts;
}

/** Months started per workflow run before continuing as new (each costs a handful of history events). */
const MONTHS_PER_RUN = 24;

export async function pmmpBackfill(raw: PmmpBackfillInput): Promise<PmmpBackfillResult> {
  const input = acceptRun(pmmpBackfillContract, raw);
  const info = workflowInfo();
  const months = monthsBetween(input.from, input.to);
  const concurrency = Math.max(1, Math.min(input.concurrency ?? 2, 6));
  const state: PmmpBackfillState = input.state ?? {
    runId: '',
    next: 0,
    done: [],
    failed: [],
    counts: { listed: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, bdc: 0 },
  };
  const running = new Map<string, Promise<void>>();
  const progress: PmmpBackfillProgress = {
    phase: 'planning',
    streams: {},
    monthsTotal: months.length,
    monthsDone: state.done.length,
    running: [],
    failedMonths: state.failed.map((f) => f.month),
    counts: state.counts,
  };
  setHandler(pmmpProgressQuery, () => ({ ...progress, running: [...running.keys()] }));

  if (!state.runId) {
    // A bad range is an input error: the run row says so instead of the workflow failing silently.
    const plan = await bookkeeping.planPmmpRun({
      kind: 'backfill',
      workflowId: info.workflowId,
      workflowRunId: info.runId,
      day: months.length ? lastDay(months[months.length - 1]!) : null,
      params: { from: input.from, to: input.to, concurrency, months: months.length },
    });
    state.runId = plan.runId;
    if (months.length === 0) {
      const streams: StreamOutcome[] = [{ stream: 'months', status: 'failure', error: `InvalidInputError: '${input.from}'..'${input.to}' is not a range of months YYYY-MM, from ≤ to` }];
      const analysis = await bookkeeping.finishPmmpRun({ runId: state.runId, streams, summary: { from: input.from, to: input.to } });
      return { runId: state.runId, status: analysis.status, months: 0, failedMonths: [], counts: state.counts, documents: null, noticesPending: analysis.noticesPending };
    }
  }
  progress.runId = state.runId;
  progress.phase = 'extracting';

  let startedThisRun = 0;
  const launch = (month: string) => {
    const p = executeChild(pmmpMonth, {
      workflowId: `${info.workflowId}/month-${month}`,
      typedSearchAttributes: inheritedSearchAttributes(info.typedSearchAttributes),
      args: [{ month, runId: state.runId, ...(input.pageSize ? { pageSize: input.pageSize } : {}), bdc: input.bdc !== false }],
    }).then(
      (r) => {
        state.done.push(month);
        const c = state.counts;
        c.listed += r.consultations.listed;
        c.inserted += r.consultations.inserted;
        c.updated += r.consultations.updated;
        c.unchanged += r.consultations.unchanged;
        c.rejected += r.consultations.rejected + (r.bdc?.rejected ?? 0);
        c.bdc += r.bdc?.distinct ?? 0;
      },
      (err: unknown) => {
        const { type, message } = describeFailure(err);
        state.failed.push({ month, error: `${type}: ${message}` });
      },
    );
    running.set(
      month,
      p.finally(() => {
        running.delete(month);
        progress.monthsDone = state.done.length;
        progress.failedMonths = state.failed.map((f) => f.month);
      }),
    );
  };

  while (state.next < months.length || running.size > 0) {
    const mayStart = startedThisRun < Math.max(1, input.monthsPerRun ?? MONTHS_PER_RUN) && !workflowInfo().continueAsNewSuggested;
    while (mayStart && running.size < concurrency && state.next < months.length) {
      launch(months[state.next]!);
      state.next++;
      startedThisRun++;
    }
    if (running.size === 0) {
      // Nothing in flight and months left: a fresh history for the rest.
      await continueAsNew<typeof pmmpBackfill>({ ...input, state });
    }
    await Promise.race(running.values());
  }

  const outcomes: StreamOutcome[] = [
    ...state.done.map((m): StreamOutcome => ({ stream: `month-${m}`, status: 'success' })),
    ...state.failed.map((f): StreamOutcome => ({ stream: `month-${f.month}`, status: 'failure', error: f.error })),
  ];
  let documents: PmmpNoticeDocumentsResult | null = null;
  if (input.documents !== false) {
    progress.phase = 'documents';
    try {
      documents = await executeChild(pmmpNoticeDocuments, {
        workflowId: `${info.workflowId}/documents`,
        typedSearchAttributes: inheritedSearchAttributes(info.typedSearchAttributes),
        args: [{ runId: state.runId, batchSize: input.noticeBatchSize }],
      });
      outcomes.push({ stream: 'documents', status: documents.rejected > 0 ? 'partial' : 'success', counts: { ...documents } });
    } catch (err) {
      const { type, message } = describeFailure(err);
      outcomes.push({ stream: 'documents', status: 'failure', error: `${type}: ${message}` });
    }
  }
  progress.phase = 'analysis';
  const analysis = await bookkeeping.finishPmmpRun({
    runId: state.runId,
    streams: outcomes,
    summary: { from: input.from, to: input.to, months: months.length, counts: state.counts, failedMonths: state.failed },
    window: { from: `${months[0]!}-01`, to: lastDay(months[months.length - 1]!) },
  });
  progress.phase = 'done';
  // What the database recorded for the run: the months' own counts miss what a killed attempt stored.
  const counts = analysis.consultations ? { ...state.counts, ...analysis.consultations } : state.counts;
  return {
    runId: state.runId,
    status: analysis.status,
    months: months.length,
    failedMonths: state.failed,
    counts,
    documents,
    noticesPending: analysis.noticesPending,
  };
}
