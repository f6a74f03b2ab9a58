/**
 * The consolidation pipeline's contract: `consolidationIngest` (one source's acteurs: download,
 * normalise, diff against the stored acteurs, write the run's cohorts of suggestions; id
 * `consolidation-ingest-<source>`, so one ingestion of a source at a time) and `consolidationApply`
 * (applies the accepted suggestions until none is left; id `consolidation-apply`, its Schedule every
 * 5 minutes). Inputs, run ids, progress, retry settings and the Schedule, written once.
 */
import type { ActivityOptions } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import type { ClusterActivityResult, IngestResult } from '../../activities/consolidation';
import { contract, type RunSchedule } from '../contracts';

export type ConsolidationIngestResult = IngestResult;

export interface ConsolidationIngestProgress {
  phase: 'checking' | 'ingesting' | 'done';
  source: string;
}

export interface ConsolidationApplyTotals {
  succes: number;
  erreur: number;
  skipped: number;
}

export interface ConsolidationApplyProgress extends ConsolidationApplyTotals {
  batches: number;
}

export const consolidationIngestProgressQuery = defineQuery<ConsolidationIngestProgress>('consolidationIngestProgress');
export const consolidationApplyProgressQuery = defineQuery<ConsolidationApplyProgress>('consolidationApplyProgress');

export const ConsolidationIngestInputSchema = z.strictObject({
  /** A source declared in activities/consolidation/sources/declarations (its code). */
  source: z.string({ error: 'must name a declared source, such as refashion' }).regex(/^[a-z0-9][a-z0-9_]*$/, 'must be a declared source code, such as refashion'),
});
export type ConsolidationIngestInput = z.input<typeof ConsolidationIngestInputSchema>;

export const consolidationIngestWorkflowId = (source: string) => `consolidation-ingest-${source}`;

export const consolidationIngestContract = contract<ConsolidationIngestResult, ConsolidationIngestProgress>()({
  workflowType: 'consolidationIngest',
  pipeline: 'consolidation',
  description: "one source's acteurs: download, normalise, validate, diff against the stored acteurs, cohorts of suggestions",
  input: ConsolidationIngestInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => consolidationIngestWorkflowId(i.source),
  labels: (i) => ({ source: i.source }),
  progress: consolidationIngestProgressQuery,
  meter: (p) => ({ phase: p.phase, counts: {} }),
});

const count = z.number().int('must be a whole number').min(0, 'must not be negative');

export const ConsolidationApplyInputSchema = z.strictObject({
  /** Suggestions applied per activity (each in its own transaction); 200 when absent. */
  batchSize: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
  /** Carried over continue-as-new. */
  totals: z.strictObject({ succes: count, erreur: count, skipped: count }).optional(),
});
export type ConsolidationApplyInput = z.input<typeof ConsolidationApplyInputSchema>;

export const consolidationApplyContract = contract<ConsolidationApplyTotals, ConsolidationApplyProgress>()({
  workflowType: 'consolidationApply',
  pipeline: 'consolidation',
  description: 'apply the accepted consolidation suggestions (ATRAITER), one transaction each, until none is left',
  input: ConsolidationApplyInputSchema,
  withDefaults: (i) => i,
  // One apply at a time: every run takes every suggestion still waiting.
  workflowId: () => 'consolidation-apply',
  labels: () => ({}),
  progress: consolidationApplyProgressQuery,
  // How many are waiting is not asked: the run takes every suggestion still ATRAITER, so no total.
  meter: (p) => ({ done: p.succes + p.erreur + p.skipped, unit: 'suggestions', counts: { succes: p.succes, erreur: p.erreur, skipped: p.skipped, batches: p.batches } }),
});

export const ConsolidationClusterInputSchema = z.strictObject({
  /** Names the run: the workflow id's suffix and the cohort's label. */
  label: z.string({ error: 'must name the run, such as weekly' }).regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, _ or - (at most 63)'),
  /** A cluster config as activities/consolidation/cluster/config.ts takes it (checked there, field by field). */
  config: z.record(z.string(), z.unknown(), { error: 'must be a cluster config object' }),
  /** Cluster and count, write no cohort. */
  dryRun: z.boolean().optional(),
});
export type ConsolidationClusterInput = z.input<typeof ConsolidationClusterInputSchema>;
export type ConsolidationClusterResult = ClusterActivityResult & { label: string; dryRun: boolean };

export const consolidationClusterWorkflowId = (label: string) => `consolidation-cluster-${label}`;

export const consolidationClusterContract = contract<ConsolidationClusterResult>()({
  workflowType: 'consolidationCluster',
  pipeline: 'consolidation',
  description: "one clustering run (QFDMOD's cluster DAG): duplicates among the acteurs as a cohort of suggestions",
  input: ConsolidationClusterInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => consolidationClusterWorkflowId(i.label),
  labels: () => ({}),
});

export const CONSOLIDATION_ACTIVITIES = {
  checking: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', maximumAttempts: 3 },
  },
  ingesting: {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
  },
  applying: {
    startToCloseTimeout: '15 minutes',
    // A heartbeat per suggestion: a dead worker's batch is taken over quickly.
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  },
  clustering: {
    startToCloseTimeout: '30 minutes',
    // The activity heartbeats every 5 s while its worker thread clusters.
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
  },
} satisfies Record<string, ActivityOptions>;

export const CONSOLIDATION_SCHEDULES: RunSchedule[] = [
  {
    scheduleId: 'consolidation-apply',
    description: 'Apply the accepted consolidation suggestions (ATRAITER), one transaction each',
    workflowType: consolidationApplyContract.workflowType,
    input: {} satisfies ConsolidationApplyInput,
    interval: { every: '5 minutes' },
    timezone: 'UTC',
    // The next run takes every suggestion still ATRAITER: nothing to catch up.
    catchupWindow: '5 minutes',
    // QFDMOD's max_active_runs=1: a long run is left to finish, never doubled.
    overlap: 'skip',
  },
];
