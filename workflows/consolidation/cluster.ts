/**
 * `consolidationCluster` (id `consolidation-cluster-<label>`): one clustering run, QFDMOD's manual
 * cluster DAG. The config (selection, exact and fuzzy fields, threshold, distance split, parent data)
 * is checked by zod in the activity before anything is read, and refused non-retryably with the field
 * named (a ClusterConfigError is a ConfigurationError of the error vocabulary); the candidates never
 * enter the history, only the counts and the cohort id come back. Input and ids: ./contract.ts.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ConsolidationActivities } from '../../activities/consolidation';
import { acceptRun } from '../run-start';
import { CONSOLIDATION_ACTIVITIES, consolidationClusterContract, type ConsolidationClusterInput, type ConsolidationClusterResult } from './contract';

const clustering = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.clustering);

export async function consolidationCluster(raw: ConsolidationClusterInput): Promise<ConsolidationClusterResult> {
  const input = acceptRun(consolidationClusterContract, raw);
  const dryRun = input.dryRun === true;
  const result = await clustering.consolidationClusterRun({ runId: workflowInfo().runId, label: input.label, config: input.config, dryRun });
  return { ...result, label: input.label, dryRun };
}
