/**
 * The consolidation pipeline's data path. `consolidationIngest` (one per source, id
 * `consolidation-ingest-<source>`): check the declaration, then download → normalise → validate →
 * diff → write the run's cohorts, in one heartbeating activity (rows never enter the history).
 * `consolidationApply` (a Schedule every 5 minutes, overlap SKIP): applies accepted suggestions in
 * batches until none is left, continuing as new when the history grows.
 */
import { ApplicationFailure, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ConsolidationActivities, IngestResult } from '../../activities/consolidation';

const checking = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigurationError', 'InvalidInputError'] },
});

const ingesting = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

const applying = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '15 minutes',
  // A heartbeat per suggestion: a dead worker's batch is taken over quickly.
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface ConsolidationIngestInput {
  source: string;
}

export const consolidationIngestWorkflowId = (source: string) => `consolidation-ingest-${source}`;

export async function consolidationIngest(input: ConsolidationIngestInput): Promise<IngestResult> {
  if (!input || typeof input.source !== 'string' || !/^[a-z0-9][a-z0-9_]*$/.test(input.source)) {
    throw ApplicationFailure.nonRetryable(`input.source must be a declared source code, got ${JSON.stringify(input?.source)}`, 'InvalidInputError');
  }
  await checking.consolidationCheckSource({ source: input.source });
  return ingesting.consolidationIngestSource({ source: input.source });
}

export interface ConsolidationApplyInput {
  batchSize?: number;
  /** Carried over continue-as-new. */
  totals?: { succes: number; erreur: number; skipped: number };
}

export async function consolidationApply(input: ConsolidationApplyInput = {}): Promise<{ succes: number; erreur: number; skipped: number }> {
  const totals = { succes: 0, erreur: 0, skipped: 0, ...input.totals };
  for (;;) {
    const batch = await applying.consolidationApplyBatch({ limit: input.batchSize ?? 200 });
    totals.succes += batch.succes;
    totals.erreur += batch.erreur;
    totals.skipped += batch.skipped;
    if (!batch.more) return totals;
    if (workflowInfo().continueAsNewSuggested) return continueAsNew<typeof consolidationApply>({ ...input, totals });
  }
}

export { consolidationCluster, consolidationClusterWorkflowId, type ConsolidationClusterInput, type ConsolidationClusterResult } from './cluster';
