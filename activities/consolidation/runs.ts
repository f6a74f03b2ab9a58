/**
 * Starting and reading the consolidation pipeline's runs through the Temporal client, shared by the
 * CLI and the API (neither imports the other). Each kind of run names its workflow type, checks its
 * input here (a bad request never reaches Temporal) and has a deterministic workflow id, so a second
 * start of the same run collides with the one going instead of doubling it:
 * `consolidation-ingest-<source>`, `consolidation-cluster-<label>`, `consolidation-apply` (the same id
 * as the Schedule's run: one apply at a time), `consolidation-enrich-<kind>`, `consolidation-sirene-load`,
 * `consolidation-publish`, `consolidation-stats-<ISO week>`, `consolidation-export-<ISO week>`,
 * `consolidation-cleanup`. The kinds, ids and
 * defaults are the workflows' contracts (workflows/consolidation/contract.ts), started through control/.
 */
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { Sql } from 'postgres';
import { z } from 'zod';
import { RunControl, RunInputError as ControlInputError, rootCause, describeCause, type RootCause } from '../../control/runs';
import { CONTRACTS } from '../../workflows/catalog';
import {
  ConsolidationEnrichInputSchema,
  consolidationApplyContract,
  consolidationCleanupContract,
  consolidationClusterContract,
  consolidationEnrichContract,
  consolidationExportContract,
  consolidationIngestContract,
  consolidationPublishContract,
  consolidationSireneLoadContract,
  consolidationStatsContract,
} from '../../workflows/consolidation/contract';
import type { WorkflowContract } from '../../workflows/contracts';
import { clusterConfigSchema } from './cluster/config';

const label = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a label of lower-case letters, digits, - and _');

interface RunKind {
  /** The workflow's contract: its type, input schema, clock defaults and workflow id. */
  contract: WorkflowContract;
  /** What the CLI and the API accept: the contract's input, or a stricter one checked before starting. */
  input: z.ZodType;
}

/** Run kinds as the CLI and the API name them; inputs a run carries over continue-as-new are not the caller's to give. */
export const CONSOLIDATION_RUNS = {
  ingest: { contract: consolidationIngestContract, input: consolidationIngestContract.input },
  cluster: {
    contract: consolidationClusterContract,
    input: z.strictObject({
      label: label.default('manual').describe('names the run: consolidation-cluster-<label>'),
      // Checked here with the clustering's own schema (every wrong field named before anything starts), sent as given.
      config: z
        .record(z.string(), z.unknown())
        .superRefine((config, ctx) => {
          const parsed = clusterConfigSchema.safeParse(config);
          if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
        })
        .describe('the clustering settings (selection.acteurTypes required; exact/fuzzy fields, threshold, distance, parent data) as activities/consolidation/cluster/config.ts takes them'),
      dryRun: z.boolean().optional().describe('cluster and count, write no cohort'),
    }),
  },
  apply: { contract: consolidationApplyContract, input: z.strictObject({ batchSize: z.number().int().min(1).max(1000).optional() }) },
  enrich: { contract: consolidationEnrichContract, input: ConsolidationEnrichInputSchema.omit({ state: true }) },
  'sirene-load': { contract: consolidationSireneLoadContract, input: consolidationSireneLoadContract.input },
  publish: { contract: consolidationPublishContract, input: consolidationPublishContract.input },
  stats: { contract: consolidationStatsContract, input: consolidationStatsContract.input },
  export: { contract: consolidationExportContract, input: consolidationExportContract.input },
  cleanup: { contract: consolidationCleanupContract, input: consolidationCleanupContract.input },
} satisfies Record<string, RunKind>;

export type ConsolidationRunKind = keyof typeof CONSOLIDATION_RUNS;
export const CONSOLIDATION_RUN_KINDS = Object.keys(CONSOLIDATION_RUNS) as ConsolidationRunKind[];
/** Every workflow type of the pipeline (its contracts in workflows/catalog.ts), for listing its runs, the Schedules' ones included. */
export const CONSOLIDATION_WORKFLOW_TYPES: readonly string[] = Object.values(CONTRACTS)
  .filter((c) => c.pipeline === 'consolidation')
  .map((c) => c.workflowType);

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

const issuesOf = (error: z.ZodError) => error.issues.map((i) => ({ field: i.path.length ? i.path.map(String).join('.') : '(input)', problem: i.message }));

/** The checked input and the id of the run it asks for (the contract's), without starting anything. */
export function planRun(kindName: ConsolidationRunKind, raw: unknown, now: Date): { workflowType: string; workflowId: string; input: Record<string, unknown> } {
  const k: RunKind = CONSOLIDATION_RUNS[kindName];
  const parsed = k.input.safeParse(raw ?? {});
  if (!parsed.success) throw new RunInputError(issuesOf(parsed.error));
  try {
    const plan = new RunControl(null as never, '', () => now).plan(k.contract, parsed.data as never);
    return { workflowType: k.contract.workflowType, workflowId: plan.workflowId, input: plan.input as Record<string, unknown> };
  } catch (err) {
    if (err instanceof ControlInputError) throw new RunInputError(err.issues);
    throw err;
  }
}

/** Starts the run through the control layer, under its contract's id; a run already going under it is RunAlreadyRunningError. */
export async function startRun(client: Client, taskQueue: string, kindName: ConsolidationRunKind, raw: unknown, now = new Date()): Promise<StartedRun> {
  const plan = planRun(kindName, raw, now);
  const started = await new RunControl(client, taskQueue, () => now).start(CONSOLIDATION_RUNS[kindName].contract, plan.input as never);
  if (!started.started) throw new RunAlreadyRunningError(started.workflowId);
  return { kind: kindName, workflowType: plan.workflowType, workflowId: started.workflowId, runId: started.runId ?? '', input: started.input as Record<string, unknown> };
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

export interface RunDetail extends RunView {
  result?: unknown;
  /** A failed run's root cause as one line (the innermost error, and the activity that raised it). */
  failure?: string;
  root_cause?: RootCause;
}

/** One run (its latest execution), with its result or, once failed, its root cause. */
export async function describeRun(client: Client, workflowId: string): Promise<RunDetail> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    const info = await handle.describe();
    if (!CONSOLIDATION_WORKFLOW_TYPES.includes(info.type)) throw new RunNotFoundError(`${workflowId} is not a consolidation run`);
    const view = toRunView(info);
    if (view.status === 'completed') return { ...view, result: await handle.result() };
    if (view.status === 'failed') {
      const cause = await handle.result().then(
        () => undefined,
        (e: unknown) => (e instanceof WorkflowFailedError ? rootCause(e) : { type: (e as Error).name, message: (e as Error).message }),
      );
      return { ...view, ...(cause ? { failure: describeCause(cause), root_cause: cause } : {}) };
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
