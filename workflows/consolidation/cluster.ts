/**
 * `consolidationCluster` (id `consolidation-cluster-<label>`): one clustering run, QFDMOD's manual
 * cluster DAG. The config (selection, exact and fuzzy fields, threshold, distance split, parent data)
 * is checked by zod in the activity before anything is read, and refused non-retryably with the field
 * named; the candidates never enter the history, only the counts and the cohort id come back.
 */
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ClusterActivityResult, ConsolidationActivities } from '../../activities/consolidation';

const clustering = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '30 minutes',
  // The activity heartbeats every 5 s while its worker thread clusters.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3, nonRetryableErrorTypes: ['ClusterConfigError', 'ConfigurationError', 'InvalidInputError'] },
});

export interface ConsolidationClusterInput {
  /** Names the run: the workflow id's suffix and the cohort's label (`[a-z0-9][a-z0-9_-]*`). */
  label: string;
  /** A cluster config as `activities/consolidation/cluster/config.ts` takes it (QFDMOD's DAG params). */
  config: Record<string, unknown>;
  /** Cluster and count, write no cohort. */
  dryRun?: boolean;
}

export type ConsolidationClusterResult = ClusterActivityResult & { label: string; dryRun: boolean };

export const consolidationClusterWorkflowId = (label: string) => `consolidation-cluster-${label}`;

const LABEL = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function consolidationCluster(input: ConsolidationClusterInput): Promise<ConsolidationClusterResult> {
  if (!input || typeof input.label !== 'string' || !LABEL.test(input.label)) {
    throw ApplicationFailure.nonRetryable(`input.label must match ${LABEL.source}, got ${JSON.stringify(input?.label)}`, 'InvalidInputError');
  }
  if (typeof input.config !== 'object' || input.config === null || Array.isArray(input.config)) {
    throw ApplicationFailure.nonRetryable('input.config must be a cluster config object', 'InvalidInputError');
  }
  const dryRun = input.dryRun === true;
  const result = await clustering.consolidationClusterRun({ runId: workflowInfo().runId, label: input.label, config: input.config, dryRun });
  return { ...result, label: input.label, dryRun };
}
