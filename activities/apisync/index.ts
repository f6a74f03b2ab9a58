/**
 * Activities of the SaaS API sync: plain functions of `(deps, input)`, bound once by the worker. Settings are read per call (like prices): a bad apisync setting ends
 * that run with `config_error`, it does not stop a worker that serves every other pipeline.
 */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import { ConfigError, loadApisyncConfig, type ApisyncConfig } from '../../schema/config';
import type { RunStatus } from '../../schema/etl/tables';
import { bindActivities, type BoundActivities } from '../engine/bind';
import { AuthError } from '../engine/errors';
import { pipelineConfig } from '../engine/pipeline-config';
import { items, runDuration } from '../engine/metrics';
import { finishRun, recordRejections, startRun, writeEtlLog } from '../engine/runs';
import { SOURCES } from './sources/index';
import { clientFor, syncStream, type StreamSyncDeps } from './sync';
import type { ApisyncPlan, FinishApisyncRunInput, PlanApisyncRunInput, StreamCounts, SyncStreamInput, SyncStreamResult } from './types';

export type * from './types';

export interface ApisyncDeps {
  sql: Sql;
  db: PostgresJsDatabase;
  /** The environment the apisync settings are read from (the worker's own by default). */
  env?: Record<string, string | undefined>;
  /** Tests: called after each committed batch of a stream. */
  onBatch?: (stream: string, counts: StreamCounts) => void | Promise<void>;
}

const PIPELINE = 'apisync';
const LEASE_MS = 10 * 60_000;

const apisyncConfig = (deps: ApisyncDeps): ApisyncConfig => pipelineConfig(loadApisyncConfig, deps.env);

export async function planApisyncRun(deps: ApisyncDeps, input: PlanApisyncRunInput): Promise<ApisyncPlan> {
  const runId = await startRun(deps.db, {
    pipeline: PIPELINE,
    kind: input.mode,
    workflowId: input.workflowId,
    workflowRunId: input.workflowRunId,
    params: { source: input.source, mode: input.mode, streams: input.streams ?? 'all' },
  });
  const issues: { variable: string; message: string }[] = [];
  let cfg: ApisyncConfig | undefined;
  try {
    cfg = loadApisyncConfig(deps.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  const source = SOURCES[input.source];
  if (!source) issues.push({ variable: 'source', message: `unknown source '${input.source}' (known: ${Object.keys(SOURCES).join(', ')})` });
  const streams = input.streams?.length ? input.streams : (source?.streams.map((s) => s.name) ?? []);
  const unknown = streams.filter((s) => !source?.streams.some((x) => x.name === s));
  if (source && unknown.length) issues.push({ variable: 'streams', message: `unknown stream(s) ${unknown.join(', ')} (known: ${source.streams.map((s) => s.name).join(', ')})` });
  if (cfg && source) {
    const token = (cfg.sources as Record<string, { token?: string }>)[source.name]?.token;
    if (!token) issues.push({ variable: `${source.name.toUpperCase()}_API_TOKEN`, message: `not set: the ${source.name} API needs a token` });
  }
  if (issues.length > 0 || !cfg || !source) return { kind: 'config_error', runId, issues };

  // One run per source, whoever started it: the lease is taken unless a live run holds it.
  const [lease] = await deps.sql<{ workflow_id: string; workflow_run_id: string }[]>`
    insert into apisync.run_leases as l (source, workflow_id, workflow_run_id, expires_at)
    values (${source.name}, ${input.workflowId}, ${input.workflowRunId}, now() + ${LEASE_MS}::float8 * interval '1 millisecond')
    on conflict (source) do update
      set workflow_id = excluded.workflow_id, workflow_run_id = excluded.workflow_run_id, acquired_at = now(), expires_at = excluded.expires_at, released = false
      where l.released or l.expires_at < now() or l.workflow_run_id = excluded.workflow_run_id
    returning workflow_id, workflow_run_id`;
  if (!lease) {
    const [holder] = await deps.sql<{ workflow_id: string }[]>`select workflow_id from apisync.run_leases where source = ${source.name}`;
    return { kind: 'busy', runId, heldBy: holder?.workflow_id ?? 'another run' };
  }

  // The credentials are proved once, before any stream starts: a refused token stops the run at once.
  try {
    await clientFor(deps.sql, cfg, source).get(source.whoAmIPath);
  } catch (err) {
    if (err instanceof AuthError) {
      await deps.sql`update apisync.run_leases set released = true where source = ${source.name} and workflow_run_id = ${input.workflowRunId}`;
      return { kind: 'refused', runId, error: `${source.name} refused the credentials in ${source.name.toUpperCase()}_API_TOKEN: ${err.message}` };
    }
    throw err;
  }
  return { kind: 'ready', runId, streams };
}

export async function syncApisyncStream(deps: ApisyncDeps, input: SyncStreamInput): Promise<SyncStreamResult> {
  const streamDeps: StreamSyncDeps = {
    sql: deps.sql,
    config: apisyncConfig(deps),
    reject: (runId, stream, rejections) =>
      recordRejections(
        deps.db,
        PIPELINE,
        runId,
        rejections.map((r) => ({ kind: `${input.source}.${stream}`, naturalKey: r.key, reason: r.reason, code: 'invalid_field' as const, source: input.source, payload: r.payload })),
      ),
    ...(deps.onBatch ? { onBatch: deps.onBatch } : {}),
  };
  return syncStream(streamDeps, input);
}

export async function finishApisyncRun(deps: ApisyncDeps, input: FinishApisyncRunInput): Promise<void> {
  for (const s of input.streams) {
    const c = s.result?.counts;
    await writeEtlLog(deps.db, {
      runId: input.runId,
      pipeline: PIPELINE,
      stream: `${input.source}:${s.stream}`,
      status: s.status,
      extracted: c?.extracted ?? 0,
      loaded: c?.loaded ?? 0,
      rejected: c?.rejected ?? 0,
      durationMs: s.durationMs,
      error: s.error ?? null,
      details: s.result
        ? { mode: s.result.mode, requestedMode: s.result.requestedMode, fallbackReason: s.result.fallbackReason ?? null, resumed: s.result.resumed, attempt: s.result.attempt, counts: c, rateLimited: s.result.rateLimited, columnsAdded: s.result.columnsAdded, watermark: s.result.watermark, rowCount: s.result.rowCount }
        : { errorType: s.errorType ?? null },
    });
    await deps.sql`
      insert into apisync.sync_state (source, stream, last_status, last_run_id, last_error, last_success_at, updated_at)
      values (${input.source}, ${s.stream}, ${s.status}, ${input.runId}, ${s.error ?? null}, ${s.status === 'success' ? deps.sql`now()` : null}, now())
      on conflict (source, stream) do update
        set last_status = excluded.last_status, last_run_id = excluded.last_run_id, last_error = excluded.last_error,
            last_success_at = coalesce(excluded.last_success_at, apisync.sync_state.last_success_at), updated_at = now()`;
  }
  const status: RunStatus = input.outcome === 'skipped' ? 'cancelled' : input.outcome;
  await finishRun(deps.db, input.runId, status, input.summary);
  await deps.sql`update apisync.run_leases set released = true where source = ${input.source} and workflow_run_id = ${input.workflowRunId}`;
  const [row] = await deps.sql<{ seconds: number }[]>`select extract(epoch from (finished_at - started_at))::float8 as seconds from etl.runs where id = ${input.runId}`;
  if (row) runDuration().record(row.seconds, { pipeline: PIPELINE, outcome: input.outcome });
  // Rows read and loaded per stream, from the streams' own counts (a killed attempt's rows are counted by
  // the retry that committed them), under the kind its rejections carry (activities/engine/runs.ts).
  for (const s of input.streams) {
    const c = s.result?.counts;
    if (!c) continue;
    items().add(c.extracted, { pipeline: PIPELINE, kind: `${input.source}.${s.stream}`, result: 'scraped' });
    items().add(c.loaded, { pipeline: PIPELINE, kind: `${input.source}.${s.stream}`, result: 'saved' });
  }
}

/** The activities of the pipeline, as the worker registers them (see `bindActivities`). */
export const apisyncActivities = { planApisyncRun, syncApisyncStream, finishApisyncRun };

export type ApisyncActivities = BoundActivities<typeof apisyncActivities>;

/** The apisync activities with the worker's connections given: the only place their deps are closed over. */
export function bindApisyncActivities(deps: ApisyncDeps): ApisyncActivities {
  return bindActivities(deps, apisyncActivities);
}
