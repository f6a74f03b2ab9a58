/**
 * Per-row problems: one unreadable field must not cost the whole page. The field is emptied
 * (when the schema allows null) and the problem travels next to the items, so the loader can
 * write it to `etl.rejected_records` with the proof id; a row whose natural key is unreadable
 * is dropped, and that too is a problem, never a silent loss.
 */
import type { z } from 'zod';

export interface ParseProblem {
  /** Position of the row, card or lot on the page (0-based); null for the page itself. */
  row: number | null;
  /** What identifies the row to a human: `org/ref`, the buyer's reference, `lot 3`. */
  ref: string | null;
  /** Field (or `field.index`) at fault; `row` when the whole row was dropped. */
  field: string;
  message: string;
  /** The text as displayed, when there was one. */
  raw: string | null;
}

export class ProblemLog {
  readonly problems: ParseProblem[] = [];

  add(p: ParseProblem): void {
    this.problems.push(p);
  }
}

function display(v: unknown): string | null {
  if (v == null) return null;
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * Validate one candidate item. Fields failing validation are nulled (or emptied, for lists) and
 * reported; when a required field fails, the row is dropped and reported. Returns the item or null.
 */
export function validateRow<S extends z.ZodObject>(
  schema: S,
  candidate: Record<string, unknown>,
  where: { row: number | null; ref: string | null },
  log: ProblemLog,
): z.output<S> | null {
  const shape = schema.shape as Record<string, z.ZodType>;
  const value: Record<string, unknown> = { ...candidate };
  // Each pass can only repair fields, so two passes settle every case; the third is a guard.
  for (let pass = 0; pass < 3; pass++) {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    let repaired = false;
    let fatal = false;
    for (const issue of result.error.issues) {
      const field = issue.path.length ? String(issue.path[0]) : '(row)';
      const fieldSchema = shape[field];
      log.add({ ...where, field: issue.path.map(String).join('.') || field, message: issue.message, raw: display(value[field]) });
      if (!fieldSchema) {
        fatal = true;
      } else if (fieldSchema.safeParse(null).success) {
        value[field] = null;
        repaired = true;
      } else if (fieldSchema.safeParse([]).success) {
        value[field] = [];
        repaired = true;
      } else {
        fatal = true;
      }
    }
    if (fatal || !repaired) break;
  }
  log.add({ ...where, field: 'row', message: 'row dropped: a required field is missing or invalid', raw: null });
  return null;
}

/**
 * Read a displayed value with `parse`; a value that is present but unreadable is reported and
 * becomes null, an absent one is simply null.
 */
export function readField<T>(
  raw: string | null,
  parse: (text: string) => T | null,
  field: string,
  expected: string,
  where: { row: number | null; ref: string | null },
  log: ProblemLog,
): T | null {
  if (raw == null) return null;
  const value = parse(raw);
  if (value == null) log.add({ ...where, field, message: `expected ${expected}`, raw });
  return value;
}
