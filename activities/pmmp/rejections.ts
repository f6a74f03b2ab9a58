/**
 * The one step every pmmp reading shares: parse a stored page; a page the parser refuses is not an
 * error of the run but a rejection, filed with the proof of the page so that it can be read again
 * (by a person, or by a fixed parser through a reparse) — and the run goes on with the next page.
 */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { recordRejections, rejectionReasonOf, type Rejection } from '../engine/runs';
import { PageShapeError, type ParseProblem } from './parse/index';

export const PIPELINE = 'pmmp';

/** What a refused page is filed as. */
export interface RejectAs<E = PageShapeError> {
  kind: string;
  naturalKey: string;
  source: string;
  /** The proof of the page that was parsed (absent when no page was stored). */
  proofId?: string;
  /** What the reason says before the parser's own message. */
  reason: string;
  /** What the row keeps besides the reason (nothing when absent). */
  payload?: (err: E) => unknown;
  /** Which failures refuse the page (default: the parser does not know its shape); any other is thrown. */
  rejects?: (err: unknown) => err is E;
}

export type ParseOutcome<T> = { ok: true; parsed: T } | { ok: false; rejection: Rejection };

const shapeChanged = (err: unknown): err is PageShapeError => err instanceof PageShapeError;

/** Runs `parse`; a refusal (see `RejectAs.rejects`) comes back as the rejection to file, with its proof. */
export async function parseOrReject<T, E = PageShapeError>(parse: () => T | Promise<T>, as: RejectAs<E>): Promise<ParseOutcome<T>> {
  try {
    return { ok: true, parsed: await parse() };
  } catch (err) {
    const rejects = (as.rejects ?? shapeChanged) as (err: unknown) => err is E;
    if (!rejects(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const rejection: Rejection = { kind: as.kind, naturalKey: as.naturalKey, reason: `${as.reason}: ${message}`, code: rejectionReasonOf(err), source: as.source };
    if (as.payload) rejection.payload = as.payload(err);
    if (as.proofId !== undefined) rejection.proofId = as.proofId;
    return { ok: false, rejection };
  }
}

/** `parseOrReject`, the rejection filed at once under the run. */
export async function parseOrRecord<T, E = PageShapeError>(db: PostgresJsDatabase, runId: string | null, parse: () => T | Promise<T>, as: RejectAs<E>): Promise<ParseOutcome<T>> {
  const outcome = await parseOrReject(parse, as);
  if (!outcome.ok) await recordRejections(db, PIPELINE, runId, [outcome.rejection]);
  return outcome;
}

/** The field problems of a page the parser read (rows or fields it dropped), as rejections carrying the page's proof. */
export function problemRejections(
  problems: ParseProblem[],
  as: { kind: string; proofId: string; source: string; naturalKey?: (p: ParseProblem) => string },
): Rejection[] {
  const naturalKey = as.naturalKey ?? ((p: ParseProblem) => p.ref ?? `row ${p.row ?? '?'}`);
  return problems.map((p) => ({ kind: as.kind, naturalKey: naturalKey(p), reason: `${p.field}: ${p.message}`, code: 'invalid_field', source: as.source, payload: p, proofId: as.proofId }));
}
