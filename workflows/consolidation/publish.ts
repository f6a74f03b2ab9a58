/**
 * Publishing, each run by its own Schedule (scripts/schedules.ts):
 * - `consolidationPublish`: rebuilds the displayed acteurs (map and open-data perimeters);
 * - `consolidationStats`: the ISO week's statistics, from a freshly published set;
 * - `consolidationExport` (id `consolidation-export-<isoWeek>` when started by hand): publishes, then
 *   writes the week's open-data CSV and GeoJSON, each row-count checked against the database;
 * - `consolidationCleanup`: deletes old logs and suggestions done with.
 * Inputs and results are counts, paths and the week; the rows never enter the history.
 */
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CleanupResult, ConsolidationActivities, ExportFileResult, PublishResult, StatsResult } from '../../activities/consolidation';

const publishing = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5, nonRetryableErrorTypes: ['ConfigurationError', 'InvalidInputError'] },
});

const exporting = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '2 hours',
  // A heartbeat per batch of rows written.
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigurationError', 'InvalidInputError'] },
});

/** The ISO 8601 week of a date (UTC), as `2026-W49`: weeks start on Monday, week 1 holds the first Thursday. */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export const consolidationExportWorkflowId = (semaine: string) => `consolidation-export-${semaine}`;

const SEMAINE = /^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/;

/** The run's week: the input's, else the week the run started in (deterministic on replay). */
function semaineOf(input: { semaine?: string } | undefined): string {
  if (input?.semaine === undefined) return isoWeek(workflowInfo().startTime);
  if (typeof input.semaine !== 'string' || !SEMAINE.test(input.semaine)) {
    throw ApplicationFailure.nonRetryable(`input.semaine must be an ISO week like 2026-W49, got ${JSON.stringify(input.semaine)}`, 'InvalidInputError');
  }
  return input.semaine;
}

export async function consolidationPublish(): Promise<PublishResult> {
  return publishing.consolidationPublishRefresh();
}

export interface ConsolidationWeekInput {
  /** An ISO week (`2026-W49`); the week the run started in by default. */
  semaine?: string;
}

export async function consolidationStats(input: ConsolidationWeekInput = {}): Promise<StatsResult & { published: PublishResult }> {
  const semaine = semaineOf(input);
  const published = await publishing.consolidationPublishRefresh();
  return { ...(await publishing.consolidationStatsCompute({ semaine })), published };
}

export interface ConsolidationExportResult {
  semaine: string;
  published: PublishResult;
  files: ExportFileResult[];
}

export async function consolidationExport(input: ConsolidationWeekInput = {}): Promise<ConsolidationExportResult> {
  const semaine = semaineOf(input);
  const published = await publishing.consolidationPublishRefresh();
  const files: ExportFileResult[] = [];
  for (const format of ['csv', 'geojson'] as const) files.push(await exporting.consolidationExportFile({ semaine, format }));
  return { semaine, published, files };
}

export async function consolidationCleanup(): Promise<CleanupResult> {
  return publishing.consolidationCleanupRun();
}
