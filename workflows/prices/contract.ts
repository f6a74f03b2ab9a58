/**
 * The prices pipeline's contract: `pricesDaily` (one day of FX, crypto and metal prices in MRU, then the
 * archive) and `pricesArchive` (a window of days from PostgreSQL to MongoDB). Inputs, run ids, progress,
 * retry settings and the Schedule, written once for the workflows and every client.
 */
import type { ActivityOptions } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import type { ConfigIssue, PriceSourceId } from '../../schema/config';
import type { PricesOutcome } from '../../activities/prices/types';
import { calendarDay, contract, dayIn, type RunSchedule } from '../contracts';

/** Mauritania is on UTC: "today" for prices is the UTC day. */
export const PRICES_TIME_ZONE = 'Africa/Nouakchott';

export interface AssetOutcome {
  status: 'saved' | 'rejected' | 'missing';
  source?: PriceSourceId;
  reason?: string;
}

export interface SourceAttempt {
  assetClass: string;
  source: PriceSourceId;
  status: 'ok' | 'partial' | 'failed';
  saved: string[];
  error?: string;
}

export interface PricesArchiveResult {
  status: 'success' | 'failure';
  window: { from: string; to: string };
  counts?: { pgRows: number; inserted: number; updated: number; unchanged: number; deleted: number };
  verify?: { ok: boolean; pgCount: number; mongoCount: number; missing: number; extra: number; mismatched: number; samples: { asset: string; date: string; problem: string }[] };
}

export interface PricesDailyResult {
  outcome: PricesOutcome;
  date: string;
  runId: string;
  assets: Record<string, AssetOutcome>;
  sources: SourceAttempt[];
  counts: { requested: number; saved: number; inserted: number; updated: number; unchanged: number; rejected: number };
  configIssues?: ConfigIssue[];
  archive?: PricesArchiveResult | { status: 'failure'; error: string };
}

export interface PricesProgress {
  phase: 'planning' | 'fetching' | 'archiving' | 'done';
  saved: number;
  requested: number;
}

export const pricesProgressQuery = defineQuery<PricesProgress>('pricesProgress');

const assetCode = z.string().regex(/^[A-Z0-9]{2,12}$/, 'must be an asset code such as USD');
const archiveDays = z.number().int('must be a whole number of days').min(1, 'must be at least 1 day').max(366, 'must be at most 366 days');

export const PricesDailyInputSchema = z.strictObject({
  /** YYYY-MM-DD; today (UTC, Mauritania's time) when absent. */
  date: calendarDay.optional(),
  /** Asset codes; every known asset when absent. */
  assets: z.array(assetCode).min(1, 'must list at least one asset').max(50).optional(),
  /** Archive to MongoDB after loading (default true). */
  archive: z.boolean().optional(),
  archiveDays: archiveDays.optional(),
});
export type PricesDailyInput = z.input<typeof PricesDailyInputSchema>;

export const pricesDailyContract = contract<PricesDailyResult, PricesProgress>()({
  workflowType: 'pricesDaily',
  pipeline: 'prices',
  description: 'daily FX, crypto and metal prices in MRU, then the MongoDB archive',
  input: PricesDailyInputSchema,
  withDefaults: (i, now) => ({ ...i, date: i.date ?? dayIn(now, PRICES_TIME_ZONE) }),
  workflowId: (i) => `prices-daily-${i.date ?? 'today'}`,
  labels: (i) => ({ period: i.date }),
  progress: pricesProgressQuery,
});

export const PricesArchiveInputSchema = z.strictObject({
  /** Last day of the window (YYYY-MM-DD); today when absent. */
  endDate: calendarDay.optional(),
  /** Window length in days; PRICES_ARCHIVE_DAYS (7) when absent. */
  days: archiveDays.optional(),
  /** Compare both sides after writing (default true). */
  verify: z.boolean().optional(),
  /** Only compare, write nothing. */
  verifyOnly: z.boolean().optional(),
});
export type PricesArchiveInput = z.input<typeof PricesArchiveInputSchema>;

export const pricesArchiveContract = contract<PricesArchiveResult>()({
  workflowType: 'pricesArchive',
  pipeline: 'prices',
  description: 'a window of daily prices from PostgreSQL to the MongoDB archive, compared after writing',
  input: PricesArchiveInputSchema,
  withDefaults: (i, now) => ({ ...i, endDate: i.endDate ?? dayIn(now, PRICES_TIME_ZONE) }),
  workflowId: (i) => `prices-archive-${i.endDate ?? 'today'}${i.days ? `-${i.days}d` : ''}${i.verifyOnly ? '-verify' : ''}`,
  labels: (i) => ({ period: i.endDate }),
});

export const PRICES_ACTIVITIES = {
  bookkeeping: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
  },
  // Few attempts per source: after them the next source in the chain is a better bet than waiting.
  fetching: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 3 },
  },
  archiving: {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  },
} satisfies Record<string, ActivityOptions>;

export const PRICES_SCHEDULES: RunSchedule[] = [
  {
    scheduleId: 'prices-daily',
    description: 'Daily prices in MRU (FX, crypto, metals), then the 7-day archive to MongoDB',
    workflowType: pricesDailyContract.workflowType,
    input: {} satisfies PricesDailyInput,
    // The free FX feeds publish their day shortly after midnight UTC; Mauritania is on UTC.
    calendar: { hour: 6, minute: 0 },
    timezone: PRICES_TIME_ZONE,
    catchupWindow: '1 day',
    overlap: 'skip',
  },
];
