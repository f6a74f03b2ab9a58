/**
 * The `etl` bookkeeping every pipeline shares: a row per run, a log row per stream, and the rejected
 * records. All writes are idempotent on natural keys, so a retried activity never writes twice.
 */
import { Context } from '@temporalio/activity';
import { sql as dsql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { etlLogs, rejectedRecords, runs, type NewEtlLog, type RunStatus } from '../../schema/etl/tables';
import { items } from './metrics';

export interface RunRef {
  pipeline: string;
  kind: string;
  workflowId: string;
  workflowRunId: string;
  params?: Record<string, unknown>;
}

export async function startRun(db: PostgresJsDatabase, ref: RunRef): Promise<string> {
  const [row] = await db
    .insert(runs)
    .values({ pipeline: ref.pipeline, kind: ref.kind, workflowId: ref.workflowId, workflowRunId: ref.workflowRunId, params: ref.params ?? {} })
    .onConflictDoUpdate({ target: runs.workflowRunId, set: { params: dsql`excluded.params` } })
    .returning({ id: runs.id });
  return row!.id;
}

export async function finishRun(db: PostgresJsDatabase, runId: string, status: RunStatus, summary: Record<string, unknown>): Promise<void> {
  await db
    .update(runs)
    .set({ status, summary, finishedAt: dsql`now()` })
    .where(dsql`${runs.id} = ${runId}`);
}

export async function writeEtlLog(db: PostgresJsDatabase, log: NewEtlLog): Promise<void> {
  await db
    .insert(etlLogs)
    .values(log)
    .onConflictDoUpdate({
      target: [etlLogs.runId, etlLogs.stream],
      set: {
        status: log.status,
        extracted: log.extracted ?? 0,
        loaded: log.loaded ?? 0,
        rejected: log.rejected ?? 0,
        durationMs: log.durationMs ?? null,
        error: log.error ?? null,
        details: log.details ?? null,
      },
    });
}

export interface Rejection {
  kind: string;
  naturalKey: string;
  reason: string;
  source?: string;
  payload?: unknown;
  proofId?: string;
}

export async function recordRejections(db: Pick<PostgresJsDatabase, 'insert'>, pipeline: string, runId: string | null, rejections: Rejection[]): Promise<void> {
  if (rejections.length === 0) return;
  await db
    .insert(rejectedRecords)
    .values(rejections.map((r) => ({ runId, pipeline, kind: r.kind, naturalKey: r.naturalKey, reason: r.reason, source: r.source ?? null, payload: r.payload ?? null, proofId: r.proofId ?? null })))
    .onConflictDoNothing();
  for (const r of rejections) items().add(1, { pipeline, kind: r.kind, result: 'rejected' });
  // In an activity, the line carries the run's ids (the SDK adds them); elsewhere the table is the record.
  try {
    Context.current().log.warn(`${rejections.length} record(s) rejected`, {
      pipeline,
      runId,
      first: { kind: rejections[0]!.kind, naturalKey: rejections[0]!.naturalKey, reason: rejections[0]!.reason },
    });
  } catch {
    // Not inside an activity (a CLI reparse, a test): nothing more to say than the rows written above.
  }
}
