/**
 * The consolidation pipeline's data path. `consolidationIngest` (one per source, id
 * `consolidation-ingest-<source>`): check the declaration, then download → normalise → validate →
 * diff → write the run's cohorts, in one heartbeating activity (rows never enter the history).
 * `consolidationApply` (a Schedule every 5 minutes, overlap SKIP): applies accepted suggestions in
 * batches until none is left, continuing as new when the history grows. Inputs, ids and retry
 * settings are the contract's (./contract.ts).
 */
import { continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConsolidationActivities } from '../../activities/consolidation';
import { acceptRun } from '../run-start';
import {
  CONSOLIDATION_ACTIVITIES,
  consolidationApplyContract,
  consolidationApplyProgressQuery,
  consolidationIngestContract,
  consolidationIngestProgressQuery,
  type ConsolidationApplyInput,
  type ConsolidationApplyProgress,
  type ConsolidationApplyTotals,
  type ConsolidationIngestInput,
  type ConsolidationIngestProgress,
  type ConsolidationIngestResult,
} from './contract';

export * from './contract';

const checking = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.checking);
const ingesting = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.ingesting);
const applying = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.applying);

export async function consolidationIngest(raw: ConsolidationIngestInput): Promise<ConsolidationIngestResult> {
  const input = acceptRun(consolidationIngestContract, raw);
  const progress: ConsolidationIngestProgress = { phase: 'checking', source: input.source };
  setHandler(consolidationIngestProgressQuery, () => progress);
  await checking.consolidationCheckSource({ source: input.source });
  progress.phase = 'ingesting';
  const result = await ingesting.consolidationIngestSource({ source: input.source });
  progress.phase = 'done';
  return result;
}

export async function consolidationApply(raw: ConsolidationApplyInput = {}): Promise<ConsolidationApplyTotals> {
  const input = acceptRun(consolidationApplyContract, raw);
  const totals = { succes: 0, erreur: 0, skipped: 0, ...input.totals };
  const progress: ConsolidationApplyProgress = { ...totals, batches: 0 };
  setHandler(consolidationApplyProgressQuery, () => progress);
  for (;;) {
    const batch = await applying.consolidationApplyBatch({ limit: input.batchSize ?? 200 });
    totals.succes += batch.succes;
    totals.erreur += batch.erreur;
    totals.skipped += batch.skipped;
    Object.assign(progress, totals, { batches: progress.batches + 1 });
    if (!batch.more) return totals;
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof consolidationApply>({ ...input, totals });
  }
}

export { consolidationCluster } from './cluster';
export { consolidationEnrich, consolidationSireneLoad } from './enrich';
export { consolidationCleanup, consolidationExport, consolidationPublish, consolidationStats } from './publish';
