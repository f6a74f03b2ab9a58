/**
 * Run control through the contracts (workflows/<pipeline>/contract.ts): start a run under its contract's
 * workflow id with its input checked and its clock defaults made explicit, attach to it, read its
 * progress, list, describe and cancel runs. The CLI, the API's run routes, the Schedules and the demo
 * all go through here, so a run has one id whichever way it is started. Neither the CLI nor the API is
 * imported here.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, type TemporalFailure } from '@temporalio/common';
import { contractOf, CONTRACTS } from '../workflows/catalog';
import { executionTimeout } from '../workflows/timeouts';
import { inputIssues, runSearchAttributes, SEARCH_ATTRIBUTES, type InputIssue, type InputOf, type Pipeline, type RawInputOf, type ResultOf, type WorkflowContract } from '../workflows/contracts';

/** The input does not satisfy the contract: nothing was started. */
export class RunInputError extends Error {
  override readonly name = 'RunInputError';
  constructor(
    readonly workflowType: string,
    readonly issues: InputIssue[],
  ) {
    super(`${workflowType}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
  }
}

/** A list filter's value that cannot be a period, source or job id: refused before any query is built. */
export class RunFilterError extends Error {
  override readonly name = 'RunFilterError';
  constructor(
    readonly filter: RunFilterName,
    readonly value: string,
  ) {
    super(`${filter}: '${value}' is not a value runs are labelled with (letters, digits and . _ - : @ only, at most 200)`);
  }
}

/** The labels runs can be listed by, and the search attribute each one is. */
export const RUN_FILTERS = { period: SEARCH_ATTRIBUTES.period, source: SEARCH_ATTRIBUTES.source, jobId: SEARCH_ATTRIBUTES.jobId } as const;
export type RunFilterName = keyof typeof RUN_FILTERS;
export type RunFilters = Partial<Record<RunFilterName, string>>;

/** Every label value moisson sets fits this (days, windows, ISO weeks, source codes, domains, uuids). */
export const RUN_LABEL_PATTERN = /^[\w.:@-]{1,200}$/;

/** The value, if runs can be labelled with it; a RunFilterError otherwise (for clients that check early). */
export function checkRunFilter(filter: RunFilterName, value: string): string {
  if (!RUN_LABEL_PATTERN.test(value)) throw new RunFilterError(filter, value);
  return value;
}

/**
 * `Attribute = 'value'` for a visibility query. The value is checked against what labels can be, so no
 * quote, backslash or space can reach the query; it is escaped as well, should that check ever be widened.
 */
export function visibilityClause(filter: RunFilterName, value: string): string {
  checkRunFilter(filter, value);
  return `${RUN_FILTERS[filter].name} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A run ended in failure: `cause` is its root cause (the activity's own error), not "Activity task failed". */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
  constructor(
    readonly workflowId: string,
    readonly causeType: string,
    message: string,
  ) {
    super(message);
  }
}

export type RunHandle<C extends WorkflowContract> = WorkflowHandle<(input: InputOf<C>) => Promise<ResultOf<C>>>;

export interface StartedRun<C extends WorkflowContract> {
  workflowId: string;
  input: InputOf<C>;
  /** False: a run of that id was already going, and this is a handle on it. */
  started: boolean;
  /** The first run id of the started run (absent when attached to one already going). */
  runId?: string;
  handle: RunHandle<C>;
}

/** What a failed run died of: the innermost error, and the activity that raised it (absent: the workflow's own). */
export interface RootCause {
  type: string;
  message: string;
  activity?: string;
}

/** The deepest failure of a chain (workflow → child → activity → the activity's error). */
export function rootCause(err: unknown): RootCause {
  let cause: unknown = err instanceof WorkflowFailedError ? (err.cause ?? err) : err;
  let activity: string | undefined;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause) {
    if (cause instanceof ActivityFailure) activity = cause.activityType;
    cause = (cause as TemporalFailure).cause;
  }
  const where = activity ? { activity } : {};
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message, ...where };
  if (cause instanceof Error) return { type: cause.name, message: cause.message, ...where };
  return { type: 'Error', message: String(cause), ...where };
}

/** A root cause as one line: `NotAvailableError: no stock (in activity consolidationEnrichCheck)`. */
export function describeCause(cause: RootCause): string {
  return `${cause.type}: ${cause.message}${cause.activity ? ` (in activity ${cause.activity})` : ''}`;
}

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number] | 'unknown';
const VISIBILITY_STATUS: Record<(typeof RUN_STATUSES)[number], string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  continued_as_new: 'ContinuedAsNew',
  timed_out: 'TimedOut',
};

export interface RunView {
  pipeline: Pipeline;
  workflowType: string;
  workflowId: string;
  runId: string;
  status: RunStatus;
  startedAt: string | null;
  closedAt: string | null;
  /** The workflow's progress query answer while it runs (null when closed or not answering). */
  progress: unknown;
}

type RunInfo = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'type' | 'status' | 'startTime' | 'closeTime'>;

export function statusOf(info: Pick<RunInfo, 'status'>): RunStatus {
  const name = info.status.name.toLowerCase();
  return (RUN_STATUSES as readonly string[]).includes(name) ? (name as RunStatus) : 'unknown';
}

export class RunControl {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
    private readonly now: () => Date = () => new Date(),
    private readonly progressTimeoutMs = 2_000,
  ) {}

  /** The input as the run will get it (checked, defaults explicit) and its workflow id; starts nothing. */
  plan<C extends WorkflowContract>(c: C, raw: RawInputOf<C>): { input: InputOf<C>; workflowId: string } {
    const parsed = c.input.safeParse(raw ?? {});
    if (!parsed.success) throw new RunInputError(c.workflowType, inputIssues(parsed.error));
    const input = c.withDefaults(parsed.data, this.now()) as InputOf<C>;
    return { input, workflowId: c.workflowId(input) };
  }

  /** Starts the run, or attaches to the one going under the same id (a repeat never duplicates it). */
  async start<C extends WorkflowContract>(c: C, raw: RawInputOf<C>): Promise<StartedRun<C>> {
    const { input, workflowId } = this.plan(c, raw);
    try {
      const handle = await this.client.workflow.start<(input: InputOf<C>) => Promise<ResultOf<C>>>(c.workflowType, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [input],
        // What the Web UI and `temporal workflow list --query` filter runs by (registered by the stack).
        typedSearchAttributes: runSearchAttributes(c, input),
        ...executionTimeout(c.workflowType),
      });
      return { workflowId, input, started: true, runId: handle.firstExecutionRunId, handle };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return { workflowId, input, started: false, handle: this.handle(c, workflowId) };
    }
  }

  handle<C extends WorkflowContract>(_c: C, workflowId: string): RunHandle<C> {
    return this.client.workflow.getHandle<(input: InputOf<C>) => Promise<ResultOf<C>>>(workflowId);
  }

  /** The run's result, or a RunFailedError naming its root cause. */
  async result<C extends WorkflowContract>(handle: RunHandle<C>): Promise<ResultOf<C>> {
    try {
      return await handle.result();
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = rootCause(err);
      throw new RunFailedError(handle.workflowId, cause.type, describeCause(cause));
    }
  }

  /** The progress query of a running run, through its contract; null when it does not answer in time. */
  async progress(workflowId: string, workflowType?: string): Promise<unknown> {
    const handle = this.client.workflow.getHandle(workflowId);
    const type = workflowType ?? (await handle.describe()).type;
    const query = contractOf(type)?.progress;
    if (!query) return null;
    try {
      return await this.client.withDeadline(Date.now() + this.progressTimeoutMs, () => handle.query(query));
    } catch {
      return null;
    }
  }

  private async view(info: RunInfo): Promise<RunView | undefined> {
    const c = contractOf(info.type);
    if (!c) return undefined;
    return {
      pipeline: c.pipeline,
      workflowType: info.type,
      workflowId: info.workflowId,
      runId: info.runId,
      status: statusOf(info),
      startedAt: info.startTime?.toISOString() ?? null,
      closedAt: info.closeTime?.toISOString() ?? null,
      progress: info.status.name === 'RUNNING' ? await this.progress(info.workflowId, info.type) : null,
    };
  }

  /** Recent runs of the pipelines, newest first. */
  async list(opts: { pipeline?: Pipeline; workflowTypes?: string[]; status?: (typeof RUN_STATUSES)[number]; limit?: number } & RunFilters = {}): Promise<RunView[]> {
    const limit = opts.limit ?? 20;
    const types = (opts.workflowTypes ?? Object.values(CONTRACTS).filter((c) => !opts.pipeline || c.pipeline === opts.pipeline).map((c) => c.workflowType)).map((t) => `'${t}'`);
    // A constant vocabulary: nothing of the caller is spliced into the query but known names and checked labels.
    const clauses = [`WorkflowType IN (${types.join(', ')})`];
    if (opts.status) clauses.push(`ExecutionStatus = '${VISIBILITY_STATUS[opts.status]}'`);
    for (const filter of Object.keys(RUN_FILTERS) as RunFilterName[]) {
      const value = opts[filter];
      if (value !== undefined) clauses.push(visibilityClause(filter, value));
    }
    const found: WorkflowExecutionInfo[] = [];
    for await (const info of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      found.push(info);
      if (found.length >= limit) break;
    }
    found.sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0));
    return (await Promise.all(found.map((i) => this.view(i)))).filter((v): v is RunView => v !== undefined);
  }

  /** One run of a pipeline (undefined: no such run, or not a pipeline's). */
  async describe(workflowId: string): Promise<RunView | undefined> {
    return this.view(await this.client.workflow.getHandle(workflowId).describe());
  }

  /** Requests cancellation of a running run; returns the run it was sent to. */
  async cancel(workflowId: string): Promise<RunView> {
    const run = await this.describe(workflowId);
    if (!run) throw new RunNotControlledError(workflowId);
    if (run.status !== 'running') throw new RunNotRunningError(workflowId, run.status);
    await this.client.workflow.getHandle(run.workflowId, run.runId).cancel();
    return run;
  }
}

export class RunNotControlledError extends Error {
  override readonly name = 'RunNotControlledError';
  constructor(readonly workflowId: string) {
    super(`${workflowId} is not a run of a moisson pipeline`);
  }
}

export class RunNotRunningError extends Error {
  override readonly name = 'RunNotRunningError';
  constructor(
    readonly workflowId: string,
    readonly status: RunStatus,
  ) {
    super(`${workflowId} is not running (${status})`);
  }
}
