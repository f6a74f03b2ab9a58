/**
 * What every pipeline's contract (`workflows/<pipeline>/contract.ts`) is made of: the workflow type, the
 * zod schema of its input, the workflow id of one logical run, its search attributes and its progress
 * query. A contract is data plus pure functions: workflow code imports it (no Node API here) and so do
 * the clients (the control layer, the CLI, the API, the Schedules).
 *
 * Defaults that depend on the clock (today's prices, yesterday's procurement day) are made explicit by
 * `withDefaults(input, now)` before the id is computed, so a run is named by what it does and the same
 * day gets the same id whether the CLI, the API or a Schedule starts it.
 */
import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair, type TypedSearchAttributes } from '@temporalio/common';
import type { QueryDefinition } from '@temporalio/common';
import { z } from 'zod';

export const PIPELINES = ['pmmp', 'leads', 'apisync', 'prices', 'consolidation'] as const;
export type Pipeline = (typeof PIPELINES)[number];

/**
 * Custom search attributes every moisson run is started with (control/runs.ts, scheduledRun, children from
 * their parent): `stack:up` and the test servers register them (control/search-attributes.ts).
 */
export const SEARCH_ATTRIBUTES = {
  pipeline: defineSearchAttributeKey('MoissonPipeline', SearchAttributeType.KEYWORD),
  /** The day a run is about (`YYYY-MM-DD`), or its window (`2026-01..2026-03`, `2026-11-01..2026-11-07`). */
  period: defineSearchAttributeKey('MoissonPeriod', SearchAttributeType.KEYWORD),
  /** The source a run reads (a SaaS API, a price source chain, the portal). */
  source: defineSearchAttributeKey('MoissonSource', SearchAttributeType.KEYWORD),
  /** The leads job a run belongs to. */
  jobId: defineSearchAttributeKey('MoissonJobId', SearchAttributeType.KEYWORD),
} as const;

export type RunLabels = { period?: string; source?: string; jobId?: string };

/** The search attribute pairs of a run of `pipeline` with these labels (absent labels are left out). */
export function searchAttributePairs(pipeline: Pipeline, labels: RunLabels): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [{ key: SEARCH_ATTRIBUTES.pipeline, value: pipeline }];
  if (labels.period) pairs.push({ key: SEARCH_ATTRIBUTES.period, value: labels.period });
  if (labels.source) pairs.push({ key: SEARCH_ATTRIBUTES.source, value: labels.source });
  if (labels.jobId) pairs.push({ key: SEARCH_ATTRIBUTES.jobId, value: labels.jobId });
  return pairs;
}

/** The search attributes a run of contract `c` with this (defaulted) input is started with. */
export function runSearchAttributes<S extends z.ZodType>(c: Pick<WorkflowContract<S>, 'pipeline' | 'labels'>, input: z.output<S>): SearchAttributePair[] {
  return searchAttributePairs(c.pipeline, c.labels(input));
}

/**
 * What a child workflow is started with: its parent's moisson attributes, so filtering by a run's day
 * or source finds the children that did its work too (the Web UI lists them under the same filter).
 * Read from the parent's start, so replay sees the same value.
 */
export function inheritedSearchAttributes(parent: TypedSearchAttributes): SearchAttributePair[] {
  return Object.values(SEARCH_ATTRIBUTES).flatMap((key) => {
    const value = parent.get(key);
    return value === undefined ? [] : [{ key, value }];
  });
}

function isCalendarDay(value: string): boolean {
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** A real day of the calendar, `YYYY-MM-DD` (2026-02-30 is refused). */
export const calendarDay = z
  .string({ error: 'must be a date YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isCalendarDay, { message: 'is not a day of the calendar', abort: true });

export const calendarMonth = z.string({ error: 'must be a month YYYY-MM' }).regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM');

/** `YYYY-MM-DD` of `now` in `timeZone` (Intl is deterministic for a given instant). */
export function dayIn(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const part = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export interface InputIssue {
  field: string;
  problem: string;
}

export function inputIssues(error: z.ZodError): InputIssue[] {
  return error.issues.map((i) => ({ field: i.path.length ? i.path.map(String).join('.') : '(input)', problem: i.message }));
}

/**
 * What a run's progress amounts to, the same way for every workflow: the CLI's bars, `moisson runs
 * status` and the API read it. `done` of `total` (total absent: not known in advance, so no ETA), and
 * the counts so far.
 */
export interface RunMeter {
  phase?: string;
  done?: number;
  total?: number;
  /** What `done` and `total` count (pages, assets, months, streams). */
  unit?: string;
  counts: Record<string, number>;
}

/** Adds up the numbers of several count records (`{inserted: 2}` + `{inserted: 3, rejected: 1}`). */
export function sumCounts(records: Iterable<Record<string, unknown> | undefined>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r ?? {})) if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
  return total;
}

/** The meter of a progress answer: the contract's own, or its phase and top-level numbers as they are. */
export function meterOf(c: Pick<WorkflowContract, 'meter'>, progress: unknown): RunMeter {
  if (c.meter) return c.meter(progress);
  const p = (progress ?? {}) as Record<string, unknown>;
  const phase = typeof p.phase === 'string' ? p.phase : typeof p.status === 'string' ? p.status : undefined;
  return { ...(phase ? { phase } : {}), counts: sumCounts([p]) };
}

/**
 * A workflow contract. `I` is the parsed input, `R` the result; `Q` the progress the query answers.
 * The phantom `result` field carries `R` for typed handles (it is never read).
 */
export interface WorkflowContract<S extends z.ZodType = z.ZodType, R = unknown, Q = unknown> {
  workflowType: string;
  pipeline: Pipeline;
  description: string;
  input: S;
  /** Clock-dependent defaults made explicit (the day of a daily run); identity when there are none. */
  withDefaults(input: z.output<S>, now: Date): z.output<S>;
  /** The id of the logical run this input asks for: a second start of it collides instead of duplicating. */
  workflowId(input: z.output<S>): string;
  /** Search attributes of the run (besides the pipeline). */
  labels(input: z.output<S>): RunLabels;
  progress?: QueryDefinition<Q>;
  /** The progress answer as a meter (absent: the phase and the answer's numbers are shown as they are). */
  meter?(progress: Q): RunMeter;
  /** Never read: carries the result type to the clients' typed handles. */
  readonly result?: R;
}

/** Declares a contract with its result and progress types: `contract<Result, Progress>()({...})`. */
export function contract<R, Q = never>() {
  return <S extends z.ZodType>(c: Omit<WorkflowContract<S, R, Q>, 'result'>): WorkflowContract<S, R, Q> => c;
}

export type InputOf<C> = C extends WorkflowContract<infer S, unknown, unknown> ? z.output<S> : never;
export type RawInputOf<C> = C extends WorkflowContract<infer S, unknown, unknown> ? z.input<S> : never;
export type ResultOf<C> = C extends WorkflowContract<z.ZodType, infer R, unknown> ? R : never;
export type ProgressOf<C> = C extends WorkflowContract<z.ZodType, unknown, infer Q> ? Q : never;

/** Thrown by `parseWorkflowInput`: the failure type operators and clients see. */
export const INVALID_INPUT = 'InvalidInputError';

/**
 * The first thing every workflow does: its input through its schema. A bad input (started from the
 * `temporal` CLI or the Web UI, where nothing checked it) fails the run at once and for good, naming
 * each field and its problem; the details carry them too, with the `config_error` outcome.
 */
export function parseWorkflowInput<S extends z.ZodType>(c: Pick<WorkflowContract<S>, 'workflowType' | 'input'>, raw: unknown): z.output<S> {
  // A run started with no argument at all gets `{}` (its defaults), as the Schedules and the API send.
  const parsed = c.input.safeParse(raw === undefined ? {} : raw);
  if (parsed.success) return parsed.data;
  const issues = inputIssues(parsed.error);
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    message: `${c.workflowType} input refused: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`,
    nonRetryable: true,
    details: [{ outcome: 'config_error', issues }],
  });
}

/**
 * A Schedule of a pipeline, as data. The Schedule starts the `scheduledRun` workflow (workflows/scheduled.ts)
 * with the contract's workflow type and input: it makes the clock's defaults explicit from the scheduled
 * time and starts the run under the contract's own workflow id, so a scheduled day is the same run (the
 * same id) as that day started from the CLI or the API. Temporal appends the scheduled time to the
 * trigger's id (`schedule-<scheduleId>-<time>`), which names the trigger, not the run.
 */
export interface RunSchedule {
  scheduleId: string;
  description: string;
  workflowType: string;
  input: Record<string, unknown>;
  /** A time of day (`hour` absent: every hour at `minute`; `dayOfMonth` / `dayOfWeek`: that day only), or `interval` for every N minutes. */
  calendar?: { dayOfMonth?: number; dayOfWeek?: 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY' | 'SUNDAY'; hour?: number; minute: number };
  interval?: { every: string };
  timezone: string;
  /** How far back missed runs are caught up after an outage (the SDK default is a year). */
  catchupWindow: string;
  /** A run still going when the next is due is left to finish. */
  overlap: 'skip';
}
