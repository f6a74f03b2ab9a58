/**
 * The `etl` bookkeeping every pipeline shares: a row per run, a log row per stream, and the rejected
 * records. All writes are idempotent on natural keys, so a retried activity never writes twice.
 */
import { Context } from '@temporalio/activity';
import { sql as dsql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { etlLogs, rejectedRecords, runs, type NewEtlLog, type RunStatus } from '../../schema/etl/tables';
import { AuthError, InvalidInputError, NotAvailableError, RateLimitedError, ResponseShapeError, RobotsDisallowedError, TransientError } from './errors';
import { BlockedError, CircuitOpenError, ResponseTooLargeError } from './fetcher-errors';
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

/**
 * Why a record was rejected, as a closed set: the `reason` label of `moisson_items_total{result="rejected"}`
 * (the free-text reason, which names the field and the value, stays in `etl.rejected_records`).
 * - `invalid_field`: a field is missing or its value is out of bounds (a parse problem, a bad API value);
 * - `shape_changed`: the page or record has a shape the parser does not know;
 * - `database_refused`: the database refused the row (a constraint, a value out of range);
 * - `fetch_failed`: the document could not be fetched (HTTP errors, still failing after retries);
 * - `unreadable_document`: fetched, but not a document we can read (not a PDF, a tool failed on it);
 * - `url_refused`: a URL we refuse to fetch (private address).
 */
export const REJECTION_REASONS = ['invalid_field', 'shape_changed', 'database_refused', 'fetch_failed', 'unreadable_document', 'url_refused'] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** The reason code of an error that made a document a rejection, by its type in the error vocabulary. */
export function rejectionReasonOf(err: unknown): RejectionReason {
  // By name for the pmmp parser's and tools' errors: the engine does not import a pipeline's modules.
  if (err instanceof ResponseShapeError || (err instanceof Error && err.name === 'PageShapeError')) return 'shape_changed';
  if (err instanceof Error && err.name === 'ToolTimeoutError') return 'unreadable_document';
  if (
    err instanceof TransientError ||
    err instanceof RateLimitedError ||
    err instanceof BlockedError ||
    err instanceof CircuitOpenError ||
    err instanceof NotAvailableError ||
    err instanceof AuthError ||
    err instanceof ResponseTooLargeError ||
    err instanceof RobotsDisallowedError
  ) {
    return 'fetch_failed';
  }
  if (err instanceof InvalidInputError) return 'invalid_field';
  return 'unreadable_document';
}

export interface Rejection {
  kind: string;
  naturalKey: string;
  /** Free text for the operator: what failed and where. */
  reason: string;
  /** The closed reason code the metrics count by. */
  code: RejectionReason;
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
  for (const r of rejections) items().add(1, { pipeline, kind: r.kind, result: 'rejected', reason: r.code });
  // In an activity, the line carries the run's ids (the SDK adds them); elsewhere the table is the record.
  try {
    Context.current().log.warn(`${rejections.length} record(s) rejected`, {
      pipeline,
      runId,
      first: { kind: rejections[0]!.kind, naturalKey: rejections[0]!.naturalKey, code: rejections[0]!.code, reason: rejections[0]!.reason },
    });
  } catch {
    // Not inside an activity (a CLI reparse, a test): nothing more to say than the rows written above.
  }
}
