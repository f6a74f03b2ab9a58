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
import type { CleanupResult, ClusterActivityResult, EnrichKind, ExportFileResult, IngestResult, PublishResult, SireneLoadResult, StatsResult } from '../../activities/consolidation';
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

/** The enrichment kinds a run can be started for (the activities' list, checked against it by type). */
export const ENRICH_KINDS = ['ban', 'sirene-closed'] as const satisfies readonly EnrichKind[];

export interface ConsolidationEnrichResult {
  kind: EnrichKind;
  pages: number;
  actors: number;
  proposals: number;
  suggestions: Record<string, number>;
}

const enrichTotals = z.strictObject({
  kind: z.enum(ENRICH_KINDS),
  pages: count,
  actors: count,
  proposals: count,
  suggestions: z.record(z.string(), count),
});

export const ConsolidationEnrichInputSchema = z.strictObject({
  kind: z.enum(ENRICH_KINDS, { error: `must be one of ${ENRICH_KINDS.join(', ')}` }),
  /** Actors per page (the configured CONSOLIDATION_ENRICH_PAGE_SIZE when absent). */
  pageSize: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000').optional(),
  /** Carried over continue-as-new. */
  state: z.strictObject({ execution: z.string(), after: z.string(), totals: enrichTotals }).optional(),
});
export type ConsolidationEnrichInput = z.input<typeof ConsolidationEnrichInputSchema>;

export const consolidationEnrichWorkflowId = (kind: EnrichKind) => `consolidation-enrich-${kind}`;

export const consolidationEnrichContract = contract<ConsolidationEnrichResult>()({
  workflowType: 'consolidationEnrich',
  pipeline: 'consolidation',
  description: 'one enrichment kind over the active acteurs (BAN corrections, closed establishments): proposals as cohorts of suggestions',
  input: ConsolidationEnrichInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => consolidationEnrichWorkflowId(i.kind),
  labels: (i) => ({ source: i.kind }),
});

export const CONSOLIDATION_SIRENE_LOAD_WORKFLOW_ID = 'consolidation-sirene-load';
export type ConsolidationSireneLoadResult = SireneLoadResult & { url: string };

export const consolidationSireneLoadContract = contract<ConsolidationSireneLoadResult>()({
  workflowType: 'consolidationSireneLoad',
  pipeline: 'consolidation',
  description: "INSEE's SIRENE establishment stock into PostgreSQL (for the closed-establishment enrichment)",
  input: z.strictObject({}),
  withDefaults: (i) => i,
  workflowId: () => CONSOLIDATION_SIRENE_LOAD_WORKFLOW_ID,
  labels: () => ({ source: 'sirene' }),
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

export const ConsolidationWeekInputSchema = z.strictObject({
  /** An ISO week (`2026-W49`); the week the run starts in by default. */
  semaine: z
    .string({ error: 'must be an ISO week like 2026-W49' })
    .regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'must be an ISO week like 2026-W49')
    .optional(),
});
export type ConsolidationWeekInput = z.input<typeof ConsolidationWeekInputSchema>;
const withWeek = (i: z.output<typeof ConsolidationWeekInputSchema>, now: Date) => ({ semaine: i.semaine ?? isoWeek(now) });

export type ConsolidationStatsResult = StatsResult & { published: PublishResult };
export interface ConsolidationExportResult {
  semaine: string;
  published: PublishResult;
  files: ExportFileResult[];
}

export const consolidationExportWorkflowId = (semaine: string) => `consolidation-export-${semaine}`;

export const consolidationPublishContract = contract<PublishResult>()({
  workflowType: 'consolidationPublish',
  pipeline: 'consolidation',
  description: 'rebuild the displayed acteurs (map and open-data perimeters) from the reviewed state',
  input: z.strictObject({}),
  withDefaults: (i) => i,
  workflowId: () => 'consolidation-publish',
  labels: () => ({}),
});

export const consolidationStatsContract = contract<ConsolidationStatsResult>()({
  workflowType: 'consolidationStats',
  pipeline: 'consolidation',
  description: "the ISO week's statistics (acteurs vs revisions, SIRET/SIREN coverage, displayed counts), per source",
  input: ConsolidationWeekInputSchema,
  withDefaults: withWeek,
  workflowId: (i) => `consolidation-stats-${i.semaine ?? 'current'}`,
  labels: (i) => (i.semaine ? { period: i.semaine } : {}),
});

export const consolidationExportContract = contract<ConsolidationExportResult>()({
  workflowType: 'consolidationExport',
  pipeline: 'consolidation',
  description: "the week's open-data export (CSV and GeoJSON, openly licensed sources only), row counts checked",
  input: ConsolidationWeekInputSchema,
  withDefaults: withWeek,
  workflowId: (i) => consolidationExportWorkflowId(i.semaine ?? 'current'),
  labels: (i) => (i.semaine ? { period: i.semaine } : {}),
});

export const consolidationCleanupContract = contract<CleanupResult>()({
  workflowType: 'consolidationCleanup',
  pipeline: 'consolidation',
  description: 'delete consolidation logs and finished suggestions past their retention',
  input: z.strictObject({}),
  withDefaults: (i) => i,
  workflowId: () => 'consolidation-cleanup',
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
  enrichChecking: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', maximumAttempts: 3 },
  },
  enriching: {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
  },
  publishing: {
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '5 minutes',
    retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
  },
  exporting: {
    startToCloseTimeout: '2 hours',
    // A heartbeat per batch of rows written.
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 3 },
  },
  sireneLoading: {
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '1 minute', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 4 },
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
  {
    scheduleId: 'consolidation-publish',
    description: 'Rebuild the displayed consolidation acteurs (map and open-data perimeters) from the reviewed state',
    workflowType: consolidationPublishContract.workflowType,
    input: {},
    // Applied suggestions reach the map within the hour; a rebuild is a few seconds of SQL.
    calendar: { minute: 20 },
    timezone: 'UTC',
    // The next rebuild reads everything again: nothing to catch up.
    catchupWindow: '1 hour',
    overlap: 'skip',
  },
  {
    scheduleId: 'consolidation-stats',
    description: "The ISO week's consolidation statistics (acteurs vs revisions, SIRET/SIREN coverage, displayed counts), per source",
    workflowType: consolidationStatsContract.workflowType,
    // No week: the run counts the week it is due in, so a caught-up run still means its own week.
    input: {},
    calendar: { dayOfWeek: 'MONDAY', hour: 4, minute: 0 },
    timezone: 'Europe/Paris',
    catchupWindow: '1 day',
    overlap: 'skip',
  },
  {
    scheduleId: 'consolidation-export',
    description: 'The weekly open-data export of the consolidation acteurs (CSV and GeoJSON, openly licensed sources only), row counts checked',
    workflowType: consolidationExportContract.workflowType,
    input: {},
    // After the statistics: Monday morning, as QFDMOD's weekly open-data publication.
    calendar: { dayOfWeek: 'MONDAY', hour: 5, minute: 0 },
    timezone: 'Europe/Paris',
    catchupWindow: '1 day',
    overlap: 'skip',
  },
  {
    scheduleId: 'consolidation-cleanup',
    description: 'Delete consolidation logs and finished suggestions past their retention',
    workflowType: consolidationCleanupContract.workflowType,
    input: {},
    calendar: { dayOfWeek: 'SUNDAY', hour: 3, minute: 30 },
    timezone: 'Europe/Paris',
    // A missed week is done by the next run: whatever is past its retention then.
    catchupWindow: '1 day',
    overlap: 'skip',
  },
  {
    scheduleId: 'consolidation-sirene-load',
    description: "INSEE's SIRENE establishment stock into PostgreSQL (for the closed-establishment enrichment)",
    workflowType: consolidationSireneLoadContract.workflowType,
    input: {},
    // INSEE publishes the stock on the first day of each month.
    calendar: { dayOfMonth: 2, hour: 1, minute: 0 },
    timezone: 'Europe/Paris',
    catchupWindow: '7 days',
    overlap: 'skip',
  },
  {
    scheduleId: 'consolidation-enrich-sirene-closed',
    description: 'Closed establishments and replaced SIRETs from the SIRENE stock, as suggestions (ENRICH_ACTEURS_FERMES)',
    workflowType: consolidationEnrichContract.workflowType,
    input: { kind: 'sirene-closed' } satisfies ConsolidationEnrichInput,
    calendar: { hour: 4, minute: 0 },
    timezone: 'Europe/Paris',
    // Proposals already made are not made again: a missed day is caught up by the next one.
    catchupWindow: '1 day',
    overlap: 'skip',
  },
  {
    scheduleId: 'consolidation-enrich-ban',
    description: 'Postcode, city and coordinate corrections from the BAN (batch geocoding), as suggestions',
    workflowType: consolidationEnrichContract.workflowType,
    input: { kind: 'ban' } satisfies ConsolidationEnrichInput,
    calendar: { hour: 5, minute: 0 },
    timezone: 'Europe/Paris',
    catchupWindow: '1 day',
    overlap: 'skip',
  },
];
