/**
 * Publishing, each run by its own Schedule (declared in ./contract.ts):
 * - `consolidationPublish`: rebuilds the displayed acteurs (map and open-data perimeters);
 * - `consolidationStats`: the ISO week's statistics, from a freshly published set;
 * - `consolidationExport` (id `consolidation-export-<isoWeek>`): publishes, then writes the week's
 *   open-data CSV and GeoJSON, each row-count checked against the database;
 * - `consolidationCleanup`: deletes old logs and suggestions done with.
 * Inputs and results are counts, paths and the week; the rows never enter the history.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CleanupResult, ConsolidationActivities, PublishResult } from '../../activities/consolidation';
import { acceptRun } from '../run-start';
import {
  CONSOLIDATION_ACTIVITIES,
  consolidationCleanupContract,
  consolidationExportContract,
  consolidationPublishContract,
  consolidationStatsContract,
  isoWeek,
  type ConsolidationExportResult,
  type ConsolidationStatsResult,
  type ConsolidationWeekInput,
} from './contract';

const publishing = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.publishing);
const exporting = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.exporting);

/** The run's week: the input's, else the week the run started in (deterministic on replay). */
const semaineOf = (input: { semaine?: string | undefined }) => input.semaine ?? isoWeek(workflowInfo().startTime);

export async function consolidationPublish(raw: Record<string, never> = {}): Promise<PublishResult> {
  acceptRun(consolidationPublishContract, raw);
  return publishing.consolidationPublishRefresh();
}

export async function consolidationStats(raw: ConsolidationWeekInput = {}): Promise<ConsolidationStatsResult> {
  const semaine = semaineOf(acceptRun(consolidationStatsContract, raw));
  const published = await publishing.consolidationPublishRefresh();
  return { ...(await publishing.consolidationStatsCompute({ semaine })), published };
}

export async function consolidationExport(raw: ConsolidationWeekInput = {}): Promise<ConsolidationExportResult> {
  const semaine = semaineOf(acceptRun(consolidationExportContract, raw));
  const published = await publishing.consolidationPublishRefresh();
  const files: ConsolidationExportResult['files'] = [];
  for (const format of ['csv', 'geojson'] as const) files.push(await exporting.consolidationExportFile({ semaine, format }));
  return { semaine, published, files };
}

export async function consolidationCleanup(raw: Record<string, never> = {}): Promise<CleanupResult> {
  acceptRun(consolidationCleanupContract, raw);
  return publishing.consolidationCleanupRun();
}
