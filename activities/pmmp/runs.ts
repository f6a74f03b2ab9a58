/**
 * A pmmp run's bookkeeping: the run row and its plan (which days, computed here because "yesterday"
 * is a Casablanca day and workflows have no time zones), and the closing analysis: statistics views
 * refreshed, the extraction log written from what every stream logged and rejected.
 */
import { sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { DateTime } from 'luxon';
import type { RunStatus } from '../../schema/etl/tables';
import type { BoundActivities } from '../engine/bind';
import { InvalidInputError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { runDuration } from '../engine/metrics';
import { finishRun, startRun, writeEtlLog } from '../engine/runs';
import { isDay } from './portal';

const PIPELINE = 'pmmp';
export const PORTAL_ZONE = 'Africa/Casablanca';
export const STATS_VIEWS = ['stats_monthly', 'top_buyers', 'top_winners'] as const;

export type PmmpRunKind = 'daily' | 'backfill' | 'reparse';

export interface PlanPmmpRunInput {
  kind: PmmpRunKind;
  workflowId: string;
  workflowRunId: string;
  /** The day the run is about (`YYYY-MM-DD`); yesterday in Casablanca when absent. */
  day?: string | null;
  /** Days before `day` the consultation and notice lists are read again (late publications, retries). */
  overlapDays?: number;
  /** Days the /bdc/ window reaches back: its lists drift, overlapping windows catch what a pass missed. */
  bdcDays?: number;
  params?: Record<string, unknown>;
}

export interface PmmpRunPlan {
  runId: string;
  day: string;
  /** Consultation and notice lists: publication window. */
  from: string;
  to: string;
  /** /bdc/ results window. */
  bdcFrom: string;
}

export interface StreamOutcome {
  stream: string;
  status: 'success' | 'partial' | 'failure' | 'skipped';
  error?: string | null;
  counts?: Record<string, number>;
}

export interface FinishPmmpRunInput {
  runId: string;
  streams: StreamOutcome[];
  /** Totals the workflow gathered, kept as the run's summary. */
  summary: Record<string, unknown>;
  cancelled?: boolean;
  /** A publication window whose consultation counts the run reports as the database recorded them. */
  window?: { from: string; to: string };
}

/** The consultations of a window as the database recorded them for a run (not as the attempts that survived saw them). */
export interface RecordedConsultations {
  /** Consultations of the window stored now. */
  listed: number;
  /** First stored since the run started. */
  inserted: number;
  /** Stored before, changed by the portal since the run started. */
  updated: number;
  unchanged: number;
}

export interface PmmpRunAnalysis {
  status: RunStatus;
  /** Rejections filed under this run, by kind. */
  rejected: Record<string, number>;
  /** Notice documents still waiting for a download, and those given up after repeated failures. */
  noticesPending: number;
  noticesGivenUp: number;
  viewsRefreshed: string[];
  consultations?: RecordedConsultations;
}

function minusDays(day: string, n: number): string {
  return DateTime.fromISO(day, { zone: 'utc' }).minus({ days: n }).toISODate()!;
}

/** Refreshes the statistics read by the API without blocking its readers (each view has a unique index). */
export async function refreshStatsViews(db: PostgresJsDatabase): Promise<string[]> {
  for (const view of STATS_VIEWS) {
    await db.transaction(async (tx) => {
      // The planner estimates the three-column join of attributions and notices at one row and
      // nests loops over it: minutes at 100k consultations where hash joins take seconds.
      await tx.execute(sql`set local enable_nestloop = off`);
      await tx.execute(sql.raw(`refresh materialized view concurrently pmmp.${view}`));
      // The API caches statistics until told (api/response-cache.ts); delivered when this commits.
      await tx.execute(sql`select pg_notify('pmmp_stats_refreshed', ${view})`);
    });
  }
  return [...STATS_VIEWS];
}

export interface PmmpRunDeps {
  db: PostgresJsDatabase;
}

export async function planPmmpRun(deps: PmmpRunDeps, input: PlanPmmpRunInput): Promise<PmmpRunPlan> {
  return withHeartbeat(() => plan(deps, input));
}

async function plan(deps: PmmpRunDeps, input: PlanPmmpRunInput): Promise<PmmpRunPlan> {
  const day = input.day ?? DateTime.now().setZone(PORTAL_ZONE).minus({ days: 1 }).toISODate()!;
  if (!isDay(day)) throw new InvalidInputError(`day '${day}' is not a YYYY-MM-DD date`);
  const overlap = input.overlapDays ?? 1;
  const bdcDays = input.bdcDays ?? 3;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > 31) throw new InvalidInputError(`overlapDays must be an integer 0..31, not ${overlap}`);
  if (!Number.isInteger(bdcDays) || bdcDays < 1 || bdcDays > 31) throw new InvalidInputError(`bdcDays must be an integer 1..31, not ${bdcDays}`);
  const plan = { day, from: minusDays(day, overlap), to: day, bdcFrom: minusDays(day, bdcDays - 1) };
  const runId = await startRun(deps.db, {
    pipeline: PIPELINE,
    kind: input.kind,
    workflowId: input.workflowId,
    workflowRunId: input.workflowRunId,
    params: { ...input.params, ...plan },
  });
  return { runId, ...plan };
}

/** The analysis step: views refreshed, then the run's extraction log and status from what its streams said. */
export async function finishPmmpRun(deps: PmmpRunDeps, input: FinishPmmpRunInput): Promise<PmmpRunAnalysis> {
  // Heartbeats from a timer (BOOKKEEPING's heartbeat timeout): the views' refresh is one long statement.
  return withHeartbeat(() => finish(deps, input));
}

async function finish(deps: PmmpRunDeps, input: FinishPmmpRunInput): Promise<PmmpRunAnalysis> {
  for (const s of input.streams) {
    // Streams that logged themselves (the crawl activities do) keep their fuller row; a failed one
    // never reached its log, so its failure is written here.
    if (s.status !== 'failure' && s.status !== 'skipped') continue;
    await writeEtlLog(deps.db, { runId: input.runId, pipeline: PIPELINE, stream: s.stream, status: s.status, error: s.error ?? null, details: s.counts ?? null });
  }
  const viewsRefreshed = await refreshStatsViews(deps.db);
  const rejectedRows = await deps.db.execute<{ kind: string; n: number }>(
    sql`select kind, count(*)::int as n from etl.rejected_records where run_id = ${input.runId} group by kind order by kind`,
  );
  const rejected = Object.fromEntries([...rejectedRows].map((r) => [r.kind, r.n]));
  const [queue] = await deps.db.execute<{ pending: number; given_up: number }>(sql`
    select count(*) filter (where fetch_attempts < 3)::int as pending, count(*) filter (where fetch_attempts >= 3)::int as given_up
    from pmmp.notices where proof_id is null and kind in ('extrait_pv', 'resultat_definitif', 'achevement')`);
  // A killed attempt's rows are "unchanged" to the attempt that re-reads them: count from the rows' own
  // timestamps against the run's start, which no retry moves.
  let consultations: RecordedConsultations | undefined;
  if (input.window) {
    const [c] = await deps.db.execute<{ listed: number; inserted: number; updated: number }>(sql`
      select count(*)::int as listed,
             count(*) filter (where c.first_seen_at >= r.started_at)::int as inserted,
             count(*) filter (where c.first_seen_at < r.started_at and c.updated_at >= r.started_at)::int as updated
        from pmmp.consultations c, etl.runs r
       where r.id = ${input.runId} and c.published_on between ${input.window.from}::date and ${input.window.to}::date`);
    consultations = { listed: c!.listed, inserted: c!.inserted, updated: c!.updated, unchanged: c!.listed - c!.inserted - c!.updated };
  }
  const failed = input.streams.filter((s) => s.status === 'failure').length;
  const rejectedTotal = Object.values(rejected).reduce((a, b) => a + b, 0);
  const status: RunStatus = input.cancelled
    ? 'cancelled'
    : failed === input.streams.length && failed > 0
      ? 'failure'
      : failed > 0 || rejectedTotal > 0 || input.streams.some((s) => s.status === 'partial')
        ? 'partial'
        : 'success';
  const analysis: PmmpRunAnalysis = {
    status,
    rejected,
    noticesPending: queue?.pending ?? 0,
    noticesGivenUp: queue?.given_up ?? 0,
    viewsRefreshed,
    ...(consultations ? { consultations } : {}),
  };
  await writeEtlLog(deps.db, {
    runId: input.runId,
    pipeline: PIPELINE,
    stream: 'analysis',
    status: status === 'success' ? 'success' : status === 'failure' ? 'failure' : 'partial',
    rejected: rejectedTotal,
    details: { ...analysis, streams: input.streams.map((s) => ({ stream: s.stream, status: s.status })) },
  });
  await finishRun(deps.db, input.runId, status, { ...input.summary, analysis });
  const [row] = await deps.db.execute<{ seconds: number }>(
    sql`select extract(epoch from (finished_at - started_at))::float8 as seconds from etl.runs where id = ${input.runId}`,
  );
  if (row) runDuration().record(row.seconds, { pipeline: PIPELINE, outcome: status });
  return analysis;
}

/** The activities of this file, as the worker registers them (see `bindActivities`). */
export const pmmpRunActivities = { planPmmpRun, finishPmmpRun };

export type PmmpRunActivities = BoundActivities<typeof pmmpRunActivities>;
