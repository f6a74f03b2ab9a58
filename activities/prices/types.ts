/** The small, serialisable inputs and results of the prices activities (shared with the workflows). */
import type { ConfigIssue, PriceSourceId } from '../../schema/config';
import type { AssetClass } from '../../schema/prices/assets';

export interface PlanPricesRunInput {
  date: string;
  assets?: string[];
  workflowId: string;
  workflowRunId: string;
}

export interface PricesStep {
  assetClass: AssetClass;
  /** Sources to try in order; the next one gets only the assets the previous ones did not save. */
  chain: PriceSourceId[];
  assets: string[];
}

export type PricesPlan =
  | { kind: 'ready'; runId: string; steps: PricesStep[] }
  | { kind: 'config_error'; runId: string; issues: ConfigIssue[] };

export interface FetchPriceQuotesInput {
  runId: string;
  date: string;
  source: PriceSourceId;
  assetClass: AssetClass;
  assets: string[];
}

export interface FetchPriceQuotesResult {
  source: PriceSourceId;
  saved: string[];
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: { asset: string; reason: string }[];
  missing: { asset: string; reason: string }[];
  durationMs: number;
}

export interface PricesStreamLog {
  stream: string;
  status: 'success' | 'partial' | 'failure' | 'skipped';
  extracted: number;
  loaded: number;
  rejected: number;
  durationMs: number;
  error?: string;
  details?: Record<string, unknown>;
}

export type PricesOutcome = 'success' | 'partial' | 'failure' | 'config_error';

export interface FinishPricesRunInput {
  runId: string;
  outcome: PricesOutcome;
  summary: Record<string, unknown>;
  streams: PricesStreamLog[];
  /** Assets the run saved: when given, its inserted / updated / unchanged are read from the table. */
  saved?: number;
}

/** A daily run's quotes as the table recorded them for the run (not as the attempts that survived saw them). */
export interface RecordedQuoteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface FinishPricesRunResult {
  counts?: RecordedQuoteCounts;
}

export interface PricesArchiveStepInput {
  endDate: string;
  /** Window length in days; the PRICES_ARCHIVE_DAYS setting when absent. */
  days?: number;
  /** The archive run (workflow id and run id): the documents it writes carry it, and its counts are read from them. */
  runKey?: string;
}

export interface PricesArchiveStepResult {
  window: { from: string; to: string };
  days: number;
  counts: { pgRows: number; inserted: number; updated: number; unchanged: number; deleted: number };
}
