/**
 * The pmmp pipeline's contract (marchespublics.gov.ma): the daily run, the backfill of whole months, the
 * crawl of one window, the reparse of stored proofs, and the child workflows they start. A day's run is
 * `pmmp-daily-<day>` whoever starts it (the CLI, the API, the Schedule through `scheduledRun`).
 */
import type { ActivityOptions } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import type { CrawlCounts } from '../../activities/pmmp/consultations';
import type { BdcCounts } from '../../activities/pmmp/bdc';
import type { NoticeBatchCounts, NoticeDocumentRef, NoticeKey } from '../../activities/pmmp/notices';
import type { ConsultationKey } from '../../activities/pmmp/reparse';
import { addDays, calendarDay, calendarMonth, contract, dayIn, sumCounts, type RunMeter, type RunSchedule } from '../contracts';
import type { PmmpBackfillProgress, PmmpBackfillResult, PmmpBackfillState, PmmpMonthResult } from './backfill';
import type { PmmpDailyResult, PmmpProgress } from './daily';
import type { PmmpNoticeDocumentsResult, PmmpReparseResult } from './notices';

/** The portal's time zone: its "yesterday" is the day a scheduled daily run extracts. */
export const PMMP_TIME_ZONE = 'Africa/Casablanca';

/** Every pmmp workflow that runs streams answers this query (the CLI, the API and the Web UI read it). */
export const pmmpProgressQuery = defineQuery<PmmpProgress>('pmmpProgress');

export const PMMP_STREAMS = ['consultations', 'notices-pv', 'notices-resultats', 'notices-achevements', 'bdc', 'documents'] as const;

/** A daily run: streams ended of all six, with the counts of those ended; a backfill: months done. */
function pmmpMeter(p: PmmpProgress | PmmpBackfillProgress): RunMeter {
  if ('monthsTotal' in p) {
    return { phase: p.phase, done: p.monthsDone, total: p.monthsTotal, unit: 'months', counts: { ...p.counts, failedMonths: p.failedMonths.length } };
  }
  const ended = Object.values(p.streams).filter((s) => s !== 'pending' && s !== 'running').length;
  return { phase: p.phase, done: ended, total: PMMP_STREAMS.length, unit: 'streams', counts: sumCounts(Object.values(p.streamCounts ?? {})) };
}
export const PAGE_SIZES = [10, 20, 50, 100, 500] as const;
const pageSize = z.union(PAGE_SIZES.map((n) => z.literal(n)), { error: 'must be 10, 20, 50, 100 or 500 (the portal offers these)' });
const runId = z.string().min(1).nullable();
const carried = <T>() => z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be the state a previous run carried over');
const positive = z.number().int('must be a whole number').min(1, 'must be at least 1');
const window = <S extends z.ZodObject<{ from: typeof calendarDay; to: typeof calendarDay }>>(s: S) =>
  s.refine((i) => i.from <= i.to, { path: ['to'], message: 'must not be before from' });

export const PmmpDailyInputSchema = z.strictObject({
  /** The day to extract (`YYYY-MM-DD`); yesterday in Casablanca when absent. */
  day: calendarDay.optional(),
  overlapDays: z.number().int().min(0).max(31).optional(),
  bdcDays: z.number().int().min(1).max(31).optional(),
  pageSize: pageSize.optional(),
  /** Notice documents per download activity. */
  noticeBatchSize: z.number().int().min(1).max(200).optional(),
  /** Stop downloading documents after this many in one run (the rest wait for the next run). */
  maxDocuments: z.number().int().min(0).max(100_000).optional(),
  /** Streams to leave out of this run. */
  skip: z.array(z.enum(PMMP_STREAMS)).optional(),
});
export type PmmpDailyInput = z.input<typeof PmmpDailyInputSchema>;

export const pmmpDailyContract = contract<PmmpDailyResult, PmmpProgress>()({
  workflowType: 'pmmpDaily',
  pipeline: 'pmmp',
  description: 'one day of the procurement portal: consultations, notice lists, /bdc/ results, award documents, analysis',
  input: PmmpDailyInputSchema,
  withDefaults: (i, now) => ({ ...i, day: i.day ?? addDays(dayIn(now, PMMP_TIME_ZONE), -1) }),
  workflowId: (i) => `pmmp-daily-${i.day ?? 'yesterday'}`,
  labels: (i) => ({ period: i.day, source: 'marchespublics' }),
  progress: pmmpProgressQuery,
  meter: pmmpMeter,
});

export const PmmpBackfillInputSchema = z
  .strictObject({
    /** First and last month, `YYYY-MM`, both included. */
    from: calendarMonth,
    to: calendarMonth,
    /** Months crawled at once (1–6); the portal's politeness is per host, so more months share one pace. */
    concurrency: z.number().int().min(1, 'must be at least 1').max(6, 'must be at most 6: the portal is one host').optional(),
    pageSize: pageSize.optional(),
    bdc: z.boolean().optional(),
    /** Download and read the notice documents after the months (default true). */
    documents: z.boolean().optional(),
    noticeBatchSize: z.number().int().min(1).max(200).optional(),
    /** Months started before the workflow continues as new (default 24). */
    monthsPerRun: positive.optional(),
    /** Carried over continue-as-new. */
    state: carried<PmmpBackfillState>().optional(),
  })
  .refine((i) => i.from <= i.to, { path: ['to'], message: 'must not be before from' });
export type PmmpBackfillInput = z.input<typeof PmmpBackfillInputSchema>;

export const pmmpBackfillContract = contract<PmmpBackfillResult, PmmpProgress>()({
  workflowType: 'pmmpBackfill',
  pipeline: 'pmmp',
  description: 'months of the procurement portal, month windows as child workflows',
  input: PmmpBackfillInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `pmmp-backfill-${i.from}-${i.to}`,
  labels: (i) => ({ period: `${i.from}..${i.to}`, source: 'marchespublics' }),
  progress: pmmpProgressQuery,
  meter: pmmpMeter,
});

export const PmmpMonthInputSchema = z.strictObject({
  month: calendarMonth,
  runId: runId.optional(),
  pageSize: pageSize.optional(),
  bdc: z.boolean().optional(),
});
export type PmmpMonthInput = z.input<typeof PmmpMonthInputSchema>;

export const pmmpMonthContract = contract<PmmpMonthResult>()({
  workflowType: 'pmmpMonth',
  pipeline: 'pmmp',
  description: "one month of the backfill: the month's consultations and /bdc/ results",
  input: PmmpMonthInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `pmmp-month-${i.month}`,
  labels: (i) => ({ period: i.month, source: 'marchespublics' }),
});

export const CONSULTATION_KINDS = ['searchAnnCons', 'AllCons', 'AvisExtraitPV', 'AvisAttribution', 'AvisRapportAchevement'] as const;

export const PmmpConsultationsWindowInputSchema = window(
  z.strictObject({
    /** Publication window, `YYYY-MM-DD`, both days included. */
    from: calendarDay,
    to: calendarDay,
    kind: z.enum(CONSULTATION_KINDS).optional(),
    pageSize: pageSize.optional(),
    runId: runId.optional(),
  }),
);
export type PmmpConsultationsWindowInput = z.input<typeof PmmpConsultationsWindowInputSchema>;

export const pmmpConsultationsWindowContract = contract<CrawlCounts>()({
  workflowType: 'pmmpConsultationsWindow',
  pipeline: 'pmmp',
  description: 'the consultations published in a window, with their details and lots',
  input: PmmpConsultationsWindowInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `pmmp-consultations-${i.from}-${i.to}${i.kind && i.kind !== 'searchAnnCons' ? `-${i.kind}` : ''}`,
  labels: (i) => ({ period: `${i.from}..${i.to}`, source: 'marchespublics' }),
});

export const PmmpBdcWindowInputSchema = window(z.strictObject({ from: calendarDay, to: calendarDay, runId: runId.optional() }));
export type PmmpBdcWindowInput = z.input<typeof PmmpBdcWindowInputSchema>;

export const pmmpBdcWindowContract = contract<BdcCounts>()({
  workflowType: 'pmmpBdcWindow',
  pipeline: 'pmmp',
  description: '/bdc/ purchase-order results of a window, a day at a time',
  input: PmmpBdcWindowInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `pmmp-bdc-${i.from}-${i.to}`,
  labels: (i) => ({ period: `${i.from}..${i.to}`, source: 'marchespublics' }),
});

const noticeKey = z.object({ orgAcronyme: z.string().min(1), refConsultation: z.string().min(1), idAvis: z.string().min(1) });

export const PmmpNoticeBatchInputSchema = z.strictObject({
  notices: z.array(noticeKey.extend({ url: z.string().min(1) }).loose()).min(1, 'must list at least one notice'),
  runId: runId.optional(),
});
export type PmmpNoticeBatchInput = { notices: NoticeDocumentRef[]; runId?: string | null };

export const pmmpNoticeBatchContract = contract<NoticeBatchCounts>()({
  workflowType: 'pmmpNoticeBatch',
  pipeline: 'pmmp',
  description: 'one batch of notice documents read into awards',
  input: PmmpNoticeBatchInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `pmmp-notice-batch-${i.notices[0]!.orgAcronyme}-${i.notices[0]!.refConsultation}-${i.notices[0]!.idAvis}`,
  labels: () => ({ source: 'marchespublics' }),
});

export const PmmpNoticeDocumentsInputSchema = z.strictObject({
  runId: runId.optional(),
  /** Documents per download activity (a scan can take a minute of OCR). */
  batchSize: z.number().int().min(1).max(200).optional(),
  /** Stop after this many documents; the rest of the queue waits for the next run. */
  maxDocuments: z.number().int().min(0).optional(),
  /** Carried over continue-as-new. */
  after: carried<NoticeKey>().nullable().optional(),
  totals: carried<PmmpNoticeDocumentsResult>().optional(),
});
export type PmmpNoticeDocumentsInput = z.input<typeof PmmpNoticeDocumentsInputSchema>;

export const pmmpNoticeDocumentsContract = contract<PmmpNoticeDocumentsResult>()({
  workflowType: 'pmmpNoticeDocuments',
  pipeline: 'pmmp',
  description: 'the queue of notice documents discovered on detail pages, downloaded and read',
  input: PmmpNoticeDocumentsInputSchema,
  withDefaults: (i) => i,
  workflowId: () => 'pmmp-notice-documents',
  labels: () => ({ source: 'marchespublics' }),
});

export const REPARSE_SCOPES = ['consultations', 'bdc', 'notices'] as const;

export const PmmpReparseInputSchema = z.strictObject({
  /** What to reparse, in this order; all three when absent. */
  scope: z.array(z.enum(REPARSE_SCOPES)).min(1).optional(),
  /** Notices: rewrite those read by any other parser version (the current one by default). */
  parserVersion: z.string().min(1),
  batchSize: positive.max(10_000),
  reextract: z.enum(['none', 'text-layer', 'all']).optional(),
  /** Consultations: publication days, both included (every consultation when absent). */
  from: calendarDay.nullable().optional(),
  to: calendarDay.nullable().optional(),
  runId: runId.optional(),
  /** Carried over continue-as-new: the stage in progress and its cursor. */
  stage: z.enum(REPARSE_SCOPES).optional(),
  after: z.union([z.string(), carried<NoticeKey | ConsultationKey>()]).nullable().optional(),
  totals: carried<PmmpReparseResult>().optional(),
}).refine((i) => !i.from || !i.to || i.from <= i.to, { path: ['to'], message: 'must not be before from' });
export type PmmpReparseInput = z.input<typeof PmmpReparseInputSchema>;

export const pmmpReparseContract = contract<PmmpReparseResult>()({
  workflowType: 'pmmpReparse',
  pipeline: 'pmmp',
  description: 'the current parsers over stored pages and documents (no portal request)',
  input: PmmpReparseInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `pmmp-reparse-${(i.scope ?? REPARSE_SCOPES).join('+')}-${i.from ?? 'all'}-${i.to ?? 'all'}-${i.parserVersion}`,
  labels: (i) => ({ period: i.from || i.to ? `${i.from ?? ''}..${i.to ?? ''}` : undefined }),
});

/**
 * Activities that crawl the portal for a while (a window of lists, /bdc/ days): one long activity
 * that heartbeats every few seconds from a timer, so a dead worker is noticed within 30 s whatever the
 * portal's pace, and resumes from its cursor. Which errors stop at once is said by the errors
 * themselves (activities/engine/errors.ts), not listed here.
 */
export const PORTAL_CRAWL: ActivityOptions = {
  // A month is a few thousand pages at the portal's pace; the heartbeat, not this, detects a dead worker.
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  // Transient faults (network, 5xx, short bodies, a lost page state) back off from 10 s to 10 min;
  // a 429 or a WAF page overrides this with the server's own delay (nextRetryDelay).
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 12 },
};

/**
 * Run bookkeeping: the database only, retried sooner. The run's end refreshes the statistics views (minutes
 * on a big database), hence the long start-to-close; the activities heartbeat from a timer, so a worker
 * that died meanwhile is noticed within 30 s instead of holding the run until that timeout.
 */
export const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
};

// One scanned page takes 5-25 s of tesseract on 2 cores and a batch may hold dozens of scans: a long
// start-to-close, and a heartbeat timeout well above the activity's 5 s heartbeat timer. The portal is
// slow and rate-limits: retries back off to minutes; the activity resumes after its last document.
export const NOTICE_DOCUMENTS: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  // The activity heartbeats every few seconds from a timer (OCR runs in child processes): a worker
  // that died is noticed within 30 s and the batch resumes after its last finished document.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '15 minutes', maximumAttempts: 8 },
};

export const NOTICE_QUEUE: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
};

// No portal request: failures are the database or the disk, retried sooner.
export const REPARSING: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
};

export const PMMP_SCHEDULES: RunSchedule[] = [
  {
    scheduleId: 'pmmp-daily',
    description: "Yesterday's consultations, notices (PV, résultats, achèvements) and /bdc/ results from marchespublics.gov.ma, then the award documents",
    workflowType: pmmpDailyContract.workflowType,
    // No day: `scheduledRun` makes it yesterday in Casablanca of the scheduled time, so a caught-up run still means its own day.
    input: {} satisfies PmmpDailyInput,
    // The portal is quiet at night and the previous day is complete by then.
    calendar: { hour: 2, minute: 0 },
    timezone: PMMP_TIME_ZONE,
    catchupWindow: '1 day',
    overlap: 'skip',
  },
];
