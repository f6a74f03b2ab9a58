/**
 * Where the sync of a source stands, read from PostgreSQL only (no Temporal call): per stream its
 * `apisync.sync_state` row (watermark, last mode and full, rows, last status and error, the in-flight
 * cursor a retried attempt would resume from) with the latest `etl.etl_logs` line of an apisync run;
 * the source's newest run in `etl.runs`; and who holds its run lease. `moisson apisync status` prints
 * it; a REST route can serve the same object.
 */
import type { Sql } from 'postgres';
import { SOURCES } from '../activities/apisync/sources/index';
import type { StreamCounts } from '../activities/apisync/types';

export interface ApisyncPendingView {
  /** The etl.runs id of the run whose cursor this is. */
  runId: string;
  mode: string;
  /** The list or change-feed cursor after the last committed page (null: the run has not committed a page yet). */
  position: string | null;
  counts: Partial<StreamCounts>;
  fallbackReason: string | null;
  /** Whether that run is still going (its etl.runs row says `running`). */
  runRunning: boolean;
}

export interface ApisyncLastLogView {
  runId: string;
  status: string;
  mode: string | null;
  extracted: number;
  loaded: number;
  rejected: number;
  durationMs: number | null;
  error: string | null;
  at: string;
}

export interface ApisyncStreamStatus {
  stream: string;
  /** False for a stream with state in the database that the source's definition no longer declares. */
  declared: boolean;
  /** Whether a sync_state row exists (false: never synced). */
  synced: boolean;
  /** The change-feed position (microseconds, UTC) every change before which is loaded. */
  watermark: string | null;
  lastMode: string | null;
  lastFullAt: string | null;
  lastSuccessAt: string | null;
  rowCount: number | null;
  lastStatus: string | null;
  lastError: string | null;
  lastRunId: string | null;
  updatedAt: string | null;
  pending: ApisyncPendingView | null;
  lastLog: ApisyncLastLogView | null;
}

export interface ApisyncRunView {
  runId: string;
  workflowId: string;
  mode: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
}

export interface ApisyncLeaseView {
  /** `held`: a live run has it; `expired`: its holder stopped renewing it (the next run takes it over); `free`: released. */
  state: 'held' | 'expired' | 'free';
  workflowId: string;
  workflowRunId: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface ApisyncStatus {
  source: string;
  at: string;
  lease: ApisyncLeaseView | null;
  newestRun: ApisyncRunView | null;
  streams: ApisyncStreamStatus[];
}

/**
 * Times leave PostgreSQL as ISO strings in UTC: the shared client hands timestamptz back as text in the
 * session's format (drizzle's parsers), which is no format to print or compare.
 */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) => `to_char(${column} at time zone 'UTC', ${ISO})`;

interface StateRow {
  stream: string;
  watermark: string | null;
  last_mode: string | null;
  last_full_at: string | null;
  last_success_at: string | null;
  row_count: string | number | null;
  last_status: string | null;
  last_error: string | null;
  last_run_id: string | null;
  updated_at: string;
  pending: Record<string, unknown> | null;
  pending_running: boolean | null;
}

interface LogRow {
  stream: string;
  run_id: string;
  status: string;
  extracted: number;
  loaded: number;
  rejected: number;
  duration_ms: number | null;
  error: string | null;
  details: Record<string, unknown> | null;
  created_at: string;
}

export async function apisyncStatus(sql: Sql, source: string): Promise<ApisyncStatus> {
  const definition = SOURCES[source];
  const [now] = await sql<{ at: string }[]>`select ${sql.unsafe(iso('now()'))} as at`;
  const states = await sql<StateRow[]>`
    select s.stream, to_char(s.watermark at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as watermark, s.last_mode,
           ${sql.unsafe(iso('s.last_full_at'))} as last_full_at, ${sql.unsafe(iso('s.last_success_at'))} as last_success_at,
           s.row_count, s.last_status, s.last_error, s.last_run_id::text as last_run_id, ${sql.unsafe(iso('s.updated_at'))} as updated_at, s.pending,
           (select r.status = 'running' from etl.runs r where r.id::text = s.pending->>'runKey') as pending_running
      from apisync.sync_state s
     where s.source = ${source}
     order by s.stream`;
  // The newest log line of each stream; apisync names its log streams `<source>:<stream>`.
  const logs = await sql<LogRow[]>`
    select distinct on (l.stream) l.stream, l.run_id::text as run_id, l.status, l.extracted, l.loaded, l.rejected, l.duration_ms, l.error, l.details, ${sql.unsafe(iso('l.created_at'))} as created_at
      from etl.etl_logs l
     where l.pipeline = 'apisync' and starts_with(l.stream, ${`${source}:`})
     order by l.stream, l.created_at desc, l.id desc`;
  const [run] = await sql<{ id: string; workflow_id: string; kind: string; status: string; started_at: string; finished_at: string | null }[]>`
    select id::text as id, workflow_id, kind, status, ${sql.unsafe(iso('started_at'))} as started_at, ${sql.unsafe(iso('finished_at'))} as finished_at
      from etl.runs
     where pipeline = 'apisync' and params->>'source' = ${source}
     order by started_at desc
     limit 1`;
  const [lease] = await sql<{ workflow_id: string; workflow_run_id: string; acquired_at: string; expires_at: string; state: ApisyncLeaseView['state'] }[]>`
    select workflow_id, workflow_run_id, ${sql.unsafe(iso('acquired_at'))} as acquired_at, ${sql.unsafe(iso('expires_at'))} as expires_at,
           case when released then 'free' when expires_at < now() then 'expired' else 'held' end as state
      from apisync.run_leases
     where source = ${source}`;

  const stateOf = new Map(states.map((s) => [s.stream, s]));
  const logOf = new Map(logs.map((l) => [l.stream.slice(source.length + 1), l]));
  const declared = definition?.streams.map((s) => s.name) ?? [];
  const names = [...declared, ...[...new Set([...stateOf.keys(), ...logOf.keys()])].filter((n) => !declared.includes(n)).sort()];

  const streams = names.map((stream): ApisyncStreamStatus => {
    const s = stateOf.get(stream);
    const l = logOf.get(stream);
    const p = s?.pending;
    return {
      stream,
      declared: declared.includes(stream),
      synced: s !== undefined,
      watermark: s?.watermark ?? null,
      lastMode: s?.last_mode ?? null,
      lastFullAt: s?.last_full_at ?? null,
      lastSuccessAt: s?.last_success_at ?? null,
      rowCount: s?.row_count === null || s?.row_count === undefined ? null : Number(s.row_count),
      lastStatus: s?.last_status ?? null,
      lastError: s?.last_error ?? null,
      lastRunId: s?.last_run_id ?? null,
      updatedAt: s?.updated_at ?? null,
      pending: p
        ? {
            runId: String(p.runKey ?? ''),
            mode: String(p.mode ?? ''),
            position: typeof p.position === 'string' ? p.position : null,
            counts: (p.counts ?? {}) as Partial<StreamCounts>,
            fallbackReason: typeof p.fallbackReason === 'string' ? p.fallbackReason : null,
            runRunning: s?.pending_running === true,
          }
        : null,
      lastLog: l
        ? {
            runId: l.run_id,
            status: l.status,
            mode: typeof l.details?.mode === 'string' ? l.details.mode : null,
            extracted: l.extracted,
            loaded: l.loaded,
            rejected: l.rejected,
            durationMs: l.duration_ms,
            error: l.error,
            at: l.created_at,
          }
        : null,
    };
  });

  return {
    source,
    at: now!.at,
    lease: lease ? { state: lease.state, workflowId: lease.workflow_id, workflowRunId: lease.workflow_run_id, acquiredAt: lease.acquired_at, expiresAt: lease.expires_at } : null,
    newestRun: run ? { runId: run.id, workflowId: run.workflow_id, mode: run.kind, status: run.status, startedAt: run.started_at, finishedAt: run.finished_at } : null,
    streams,
  };
}

/** One apisync run with the totals of its streams' log lines. */
export interface ApisyncRecentRun extends ApisyncRunView {
  source: string | null;
  extracted: number;
  loaded: number;
  rejected: number;
  /** Streams whose log line says `failure`. */
  failedStreams: number;
}

/** The newest apisync runs of every source (`etl.runs`), each with what its streams logged. */
export async function apisyncRecentRuns(sql: Sql, limit = 20): Promise<ApisyncRecentRun[]> {
  const rows = await sql<
    { id: string; workflow_id: string; kind: string; status: string; source: string | null; started_at: string; finished_at: string | null; extracted: number; loaded: number; rejected: number; failed: number }[]
  >`
    select r.id::text as id, r.workflow_id, r.kind, r.status, r.params->>'source' as source,
           ${sql.unsafe(iso('r.started_at'))} as started_at, ${sql.unsafe(iso('r.finished_at'))} as finished_at,
           coalesce(sum(l.extracted), 0)::int as extracted, coalesce(sum(l.loaded), 0)::int as loaded, coalesce(sum(l.rejected), 0)::int as rejected,
           count(l.id) filter (where l.status = 'failure')::int as failed
      from (select * from etl.runs where pipeline = 'apisync' order by started_at desc limit ${limit}) r
      left join etl.etl_logs l on l.run_id = r.id
     group by r.id, r.workflow_id, r.kind, r.status, r.params, r.started_at, r.finished_at
     order by r.started_at desc`;
  return rows.map((r) => ({
    runId: r.id,
    workflowId: r.workflow_id,
    mode: r.kind,
    status: r.status,
    source: r.source,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    extracted: r.extracted,
    loaded: r.loaded,
    rejected: r.rejected,
    failedStreams: r.failed,
  }));
}

/** A request budget's use (`apisync.rate_limits`): requests sent lately and what the source last said. */
export interface ApisyncRateLimitView {
  /** `<api host>:<token hash>`: the token itself never reaches the database. */
  bucket: string;
  host: string;
  sentLastMinute: number;
  sentLastHour: number;
  /** The earliest time the next request may leave (in the past: it may leave now). */
  nextSlot: string;
  lastRemaining: number | null;
  lastResetAt: string | null;
  /** Set by the source's last 429: nobody sends before it. */
  throttledUntil: string | null;
  throttles: number;
  updatedAt: string;
}

export async function apisyncRateLimits(sql: Sql): Promise<ApisyncRateLimitView[]> {
  const rows = await sql<
    { bucket: string; minute: number; hour: number; next_slot: string; last_remaining: number | null; last_reset_at: string | null; throttled_until: string | null; throttles: string | number; updated_at: string }[]
  >`
    select b.bucket,
           (select count(*)::int from apisync.rate_limit_sends s where s.bucket = b.bucket and s.sent_at > now() - interval '1 minute') as minute,
           (select count(*)::int from apisync.rate_limit_sends s where s.bucket = b.bucket and s.sent_at > now() - interval '1 hour') as hour,
           ${sql.unsafe(iso('b.next_slot'))} as next_slot, b.last_remaining, ${sql.unsafe(iso('b.last_reset_at'))} as last_reset_at,
           ${sql.unsafe(iso('b.throttled_until'))} as throttled_until, b.throttles, ${sql.unsafe(iso('b.updated_at'))} as updated_at
      from apisync.rate_limits b
     order by b.bucket`;
  return rows.map((r) => ({
    bucket: r.bucket,
    host: r.bucket.split(':')[0] ?? r.bucket,
    sentLastMinute: r.minute,
    sentLastHour: r.hour,
    nextSlot: r.next_slot,
    lastRemaining: r.last_remaining,
    lastResetAt: r.last_reset_at,
    throttledUntil: r.throttled_until,
    throttles: Number(r.throttles),
    updatedAt: r.updated_at,
  }));
}

/** The sources to show: those declared, then any with state in the database that no definition declares any more. */
export async function apisyncSourceNames(sql: Sql): Promise<string[]> {
  const rows = await sql<{ source: string }[]>`select distinct source from apisync.sync_state order by source`;
  const declared = Object.keys(SOURCES);
  return [...declared, ...rows.map((r) => r.source).filter((s) => !declared.includes(s))];
}
