/**
 * Starting and reading the consolidation pipeline's runs through the Temporal client, shared by the
 * CLI and the API (neither imports the other). Each kind of run names its workflow type, checks its
 * input here (a bad request never reaches Temporal) and has a deterministic workflow id, so a second
 * start of the same run collides with the one going instead of doubling it:
 * `consolidation-ingest-<source>`, `consolidation-cluster-<label>`, `consolidation-apply-now` (the
 * Schedule's runs are `consolidation-apply-<time>`), `consolidation-export-<ISO week>`.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { Sql } from 'postgres';
import { z } from 'zod';
import { executionTimeout } from '../../workflows/timeouts';
import { clusterConfigSchema } from './cluster/config';

const sourceCode = z.string().regex(/^[a-z0-9][a-z0-9_]*$/, 'must be a declared source code such as refashion');
const label = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,60}$/, 'must be a label of lower-case letters, digits, - and _');
const isoWeek = z.string().regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'must be an ISO week such as 2026-W49');

/** The ISO-8601 week of a day, `YYYY-Www`. */
export function isoWeekOf(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

interface RunKind<S extends z.ZodType> {
  workflowType: string;
  description: string;
  input: S;
  /** Clock defaults made explicit (the export's week) before the id is computed. */
  withDefaults(input: z.output<S>, now: Date): z.output<S>;
  workflowId(input: z.output<S>): string;
}

const kind = <S extends z.ZodType>(k: RunKind<S>) => k;

export const CONSOLIDATION_RUNS = {
  ingest: kind({
    workflowType: 'consolidationIngest',
    description: 'one source: download → normalise → diff → suggestion cohorts',
    input: z.strictObject({ source: sourceCode }),
    withDefaults: (i) => i,
    workflowId: (i) => `consolidation-ingest-${i.source}`,
  }),
  cluster: kind({
    workflowType: 'consolidationCluster',
    description: 'duplicates across sources → one CLUSTERING cohort',
    input: z.strictObject({
      label: label.default('manual').describe('names the run: consolidation-cluster-<label>'),
      // Checked here with the workflow's own schema (every wrong field named before anything starts), sent as given.
      config: z
        .record(z.string(), z.unknown())
        .superRefine((config, ctx) => {
          const parsed = clusterConfigSchema.safeParse(config);
          if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
        })
        .describe('the clustering settings (selection.acteurTypes required; exact/fuzzy fields, threshold, distance, parent data) as activities/consolidation/cluster/config.ts takes them'),
      dryRun: z.boolean().optional().describe('cluster and count, write no cohort'),
    }),
    withDefaults: (i) => i,
    workflowId: (i) => `consolidation-cluster-${i.label}`,
  }),
  apply: kind({
    workflowType: 'consolidationApply',
    description: 'apply the accepted (ATRAITER) suggestions now, as the 5-minute Schedule does',
    input: z.strictObject({ batchSize: z.number().int().min(1).max(1000).optional() }),
    withDefaults: (i) => i,
    workflowId: () => 'consolidation-apply-now',
  }),
  export: kind({
    workflowType: 'consolidationExport',
    description: 'the weekly open-data export (CSV and GeoJSON, openly licensed sources only)',
    input: z.strictObject({ week: isoWeek.optional().describe('default: the current ISO week (UTC)') }),
    withDefaults: (i, now) => ({ ...i, week: i.week ?? isoWeekOf(now) }),
    workflowId: (i) => `consolidation-export-${i.week}`,
  }),
} as const;

export type ConsolidationRunKind = keyof typeof CONSOLIDATION_RUNS;
export const CONSOLIDATION_RUN_KINDS = Object.keys(CONSOLIDATION_RUNS) as ConsolidationRunKind[];
/** Every workflow type of the pipeline, for listing its runs (the Schedules' ones included). */
export const CONSOLIDATION_WORKFLOW_TYPES = [
  'consolidationIngest',
  'consolidationCluster',
  'consolidationApply',
  'consolidationExport',
  'consolidationEnrich',
  'consolidationPublish',
  'consolidationStats',
  'consolidationCleanup',
] as const;

export class RunInputError extends Error {
  override readonly name = 'RunInputError';
  constructor(readonly issues: { field: string; problem: string }[]) {
    super(issues.map((i) => `${i.field}: ${i.problem}`).join('; '));
  }
}

export class RunAlreadyRunningError extends Error {
  override readonly name = 'RunAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(`${workflowId} is already running`);
  }
}

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
}

export interface StartedRun {
  kind: ConsolidationRunKind;
  workflowType: string;
  workflowId: string;
  runId: string;
  /** The input sent, defaults explicit. */
  input: Record<string, unknown>;
}

/** The checked input and the id of the run it asks for, without starting anything. */
export function planRun(kindName: ConsolidationRunKind, raw: unknown, now: Date): { workflowType: string; workflowId: string; input: Record<string, unknown> } {
  const k = CONSOLIDATION_RUNS[kindName] as RunKind<z.ZodType>;
  const parsed = k.input.safeParse(raw ?? {});
  if (!parsed.success) throw new RunInputError(parsed.error.issues.map((i) => ({ field: i.path.length ? i.path.map(String).join('.') : '(input)', problem: i.message })));
  const input = k.withDefaults(parsed.data, now) as Record<string, unknown>;
  return { workflowType: k.workflowType, workflowId: k.workflowId(input), input };
}

export async function startRun(client: Client, taskQueue: string, kindName: ConsolidationRunKind, raw: unknown, now = new Date()): Promise<StartedRun> {
  const plan = planRun(kindName, raw, now);
  try {
    const handle = await client.workflow.start(plan.workflowType, { taskQueue, workflowId: plan.workflowId, args: [plan.input], ...executionTimeout(plan.workflowType) });
    return { kind: kindName, ...plan, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new RunAlreadyRunningError(plan.workflowId);
    throw err;
  }
}

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out', 'unknown'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunView {
  workflow_type: string;
  workflow_id: string;
  run_id: string;
  status: RunStatus;
  started_at: string | null;
  closed_at: string | null;
}

function toRunView(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'type' | 'status' | 'startTime' | 'closeTime'>): RunView {
  const name = info.status.name.toLowerCase();
  return {
    workflow_type: info.type,
    workflow_id: info.workflowId,
    run_id: info.runId,
    status: (RUN_STATUSES as readonly string[]).includes(name) ? (name as RunStatus) : 'unknown',
    started_at: info.startTime?.toISOString() ?? null,
    closed_at: info.closeTime?.toISOString() ?? null,
  };
}

/** The pipeline's recent runs, newest first (visibility: a run shows up a moment after it starts). */
export async function listRuns(client: Client, limit = 20): Promise<RunView[]> {
  const query = `WorkflowType IN (${CONSOLIDATION_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ')})`;
  const found: RunView[] = [];
  for await (const info of client.workflow.list({ query, pageSize: limit })) {
    found.push(toRunView(info));
    if (found.length >= limit) break;
  }
  return found.sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''));
}

/** One run (its latest execution), with its result or failure once closed. */
export async function describeRun(client: Client, workflowId: string): Promise<RunView & { result?: unknown; failure?: string }> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    const info = await handle.describe();
    if (!(CONSOLIDATION_WORKFLOW_TYPES as readonly string[]).includes(info.type)) throw new RunNotFoundError(`${workflowId} is not a consolidation run`);
    const view = toRunView(info);
    if (view.status === 'completed') return { ...view, result: await handle.result() };
    if (view.status === 'failed') {
      const failure = await handle.result().then(
        () => undefined,
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
      return { ...view, ...(failure ? { failure } : {}) };
    }
    return view;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(`no run ${workflowId}`);
    throw err;
  }
}

/** Waits for a run's result (the CLI's `--sync`). */
export async function runResult(client: Client, workflowId: string): Promise<unknown> {
  return client.workflow.getHandle(workflowId).result();
}

/**
 * The clustering settings used when none are given: QFDMOD's defaults (exact code_postal + ville, fuzzy
 * nom + adresse at 50) over every acteur type the imported acteurs have.
 */
export async function defaultClusterConfig(sql: Sql): Promise<Record<string, unknown>> {
  const types = await sql<{ t: string }[]>`select distinct acteur_type_code as t from consolidation.acteurs where acteur_type_code is not null and statut = 'ACTIF' order by 1`;
  if (types.length === 0) throw new RunInputError([{ field: 'config', problem: 'required: no imported acteur has a type to default selection.acteurTypes from' }]);
  return { selection: { acteurTypes: { value: types.map((r) => r.t) } } };
}

export interface ConsolidationStatus {
  acteurs: Record<string, number>;
  revisions: number;
  cohortes: Record<string, number>;
  suggestions: Record<string, number>;
  /** Per source: acteurs and the last ingestion's declaration time. */
  sources: { code: string; acteurs: number; updated_at: string | null }[];
}

/** What the database holds: acteurs by status, cohorts and suggestions by status, sources. */
export async function databaseStatus(sql: Sql): Promise<ConsolidationStatus> {
  const counts = async (q: Promise<{ k: string; n: number }[]>) => Object.fromEntries((await q).map((r) => [r.k, r.n]));
  const [acteurs, cohortes, suggestions, [revisions], sources] = await Promise.all([
    counts(sql<{ k: string; n: number }[]>`select statut as k, count(*)::int as n from consolidation.acteurs group by statut order by statut`),
    counts(sql<{ k: string; n: number }[]>`select statut as k, count(*)::int as n from consolidation.suggestion_cohortes group by statut order by statut`),
    counts(sql<{ k: string; n: number }[]>`select statut as k, count(*)::int as n from consolidation.suggestions group by statut order by statut`),
    sql<{ n: number }[]>`select count(*)::int as n from consolidation.revision_acteurs`,
    sql<{ code: string; acteurs: number; updated_at: Date | null }[]>`
      select s.code, count(a.identifiant_unique)::int as acteurs, s.updated_at
        from consolidation.sources s left join consolidation.acteurs a on a.source_code = s.code
       group by s.code, s.updated_at order by s.code`,
  ]);
  return {
    acteurs,
    revisions: revisions!.n,
    cohortes,
    suggestions,
    sources: sources.map((s) => ({ code: s.code, acteurs: s.acteurs, updated_at: s.updated_at ? new Date(s.updated_at).toISOString() : null })),
  };
}
