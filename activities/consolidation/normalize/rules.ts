/**
 * The normalisation of one source's rows, as QFDMOD runs it: null tokens blanked, then the declared
 * rules in a fixed order (rename → column transform → constant → row transform → remove; `keep` only
 * declares an expected column), warnings blank a field, errors drop the row, both logged; then the
 * columns must be exactly the expected ones (a source that changed shape stops here, by name), and
 * rows are merged per `identifiant_unique` and filtered (no sous-catégorie, no location).
 */
import { z } from 'zod';
import { COLUMN_TRANSFORMS, type NormalizeContext } from './columns';
import { ImportSourceIssue } from './errors';
import { FRAME_TRANSFORMS, type OriginRow } from './frames';
import { ACTEUR_TYPE_DIGITAL } from './frames';
import { isBlank } from './text';

const column = z.string().min(1);

export const RenameRuleSchema = z.object({ origin: column, destination: column }).strict();
export const ColumnTransformRuleSchema = z
  .object({ origin: column, destination: column, transformation: z.enum(Object.keys(COLUMN_TRANSFORMS) as [keyof typeof COLUMN_TRANSFORMS]) })
  .strict();
export const DefaultRuleSchema = z.object({ column, value: z.union([z.string(), z.boolean(), z.array(z.string())]) }).strict();
export const FrameTransformRuleSchema = z
  .object({
    origin: z.array(column).min(1),
    destination: z.array(column).min(1),
    transformation: z.enum(Object.keys(FRAME_TRANSFORMS) as [keyof typeof FRAME_TRANSFORMS]),
  })
  .strict();
export const RemoveRuleSchema = z.object({ remove: column }).strict();
export const KeepRuleSchema = z.object({ keep: column }).strict();

export const NormalizationRuleSchema = z.union([RenameRuleSchema, ColumnTransformRuleSchema, DefaultRuleSchema, FrameTransformRuleSchema, RemoveRuleSchema, KeepRuleSchema]);
export type NormalizationRule = z.infer<typeof NormalizationRuleSchema>;

type Rename = z.infer<typeof RenameRuleSchema>;
type ColumnTransform = z.infer<typeof ColumnTransformRuleSchema>;
type Default = z.infer<typeof DefaultRuleSchema>;
type FrameTransform = z.infer<typeof FrameTransformRuleSchema>;
type Remove = z.infer<typeof RemoveRuleSchema>;
type Keep = z.infer<typeof KeepRuleSchema>;

const isRename = (r: NormalizationRule): r is Rename => 'origin' in r && !('transformation' in r);
const isColumnTransform = (r: NormalizationRule): r is ColumnTransform => 'transformation' in r && typeof r.origin === 'string';
const isDefault = (r: NormalizationRule): r is Default => 'column' in r;
const isFrameTransform = (r: NormalizationRule): r is FrameTransform => 'transformation' in r && Array.isArray(r.origin);
const isRemove = (r: NormalizationRule): r is Remove => 'remove' in r;
const isKeep = (r: NormalizationRule): r is Keep => 'keep' in r;

/** The columns a normalised row must have, exactly (QFDMOD's `get_expected_columns`). */
export function expectedColumns(rules: NormalizationRule[]): Set<string> {
  const columns = new Set<string>();
  for (const r of rules) {
    if (isRename(r) || isColumnTransform(r)) columns.add(r.destination);
    else if (isFrameTransform(r)) r.destination.forEach((c) => columns.add(c));
    else if (isDefault(r)) columns.add(r.column);
    else if (isKeep(r)) columns.add(r.keep);
  }
  for (const r of rules) if (isRemove(r)) columns.delete(r.remove);
  return columns;
}

export const NULL_TOKENS = new Set(['null', 'none', 'nan', 'na', 'n/a', 'non applicable', 'aucun', '-']);

/** Before any rule: null-like strings become '', null-like list elements go, null becomes ''. */
export function replaceNullTokens(value: unknown): unknown {
  if (typeof value === 'string') return NULL_TOKENS.has(value.trim().toLowerCase()) ? '' : value;
  if (Array.isArray(value)) return value.filter((v) => !(typeof v === 'string' && NULL_TOKENS.has(v.trim().toLowerCase())));
  if (value === null || value === undefined) return '';
  return value;
}

export interface NormalizationLog {
  /** 0-based position of the row in the source. */
  ligne: number;
  identifiantUnique: string | null;
  niveau: 'WARNING' | 'ERROR';
  fonction: string;
  origineColonnes: string[];
  origineValeurs: string[];
  destinationColonnes: string[];
  message: string;
}

/** The source's rows do not have the columns its rules expect: it changed shape. Nothing is written. */
export class SourceShapeError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
    readonly extra: string[],
  ) {
    super(message);
    this.name = 'SourceShapeError';
  }
}

export type Row = Record<string, unknown>;

export interface NormalizationResult {
  rows: Row[];
  logs: NormalizationLog[];
  metadata: { lignes_source: number; lignes_en_erreur: number; doublons_fusionnes: number; sans_sous_categorie: number; doublons_ignores: number; sans_localisation: number };
}

const pyRepr = (v: unknown): string => (v === null || v === undefined ? 'None' : typeof v === 'boolean' ? (v ? 'True' : 'False') : typeof v === 'object' ? JSON.stringify(v) : String(v));

function requireColumns(rows: Row[], columns: string[], rule: string): void {
  if (rows.length === 0) return;
  const present = new Set(Object.keys(rows[0]!));
  const missing = columns.filter((c) => !present.has(c));
  if (missing.length) throw new SourceShapeError(`rule ${rule} reads column(s) ${missing.map((c) => `\`${c}\``).join(', ')} that the source no longer has`, missing, []);
}

export function normalizeRows(input: Row[], rules: NormalizationRule[], ctx: NormalizeContext): NormalizationResult {
  const expected = expectedColumns(rules);
  const warnings: NormalizationLog[][] = input.map(() => []);
  const errors: NormalizationLog[][] = input.map(() => []);
  let rows: Row[] = input.map((raw) => Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, replaceNullTokens(v)])));

  for (const r of rules.filter(isRename)) {
    rows = rows.map((row) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(row)) {
        if (k === r.destination && k !== r.origin) continue;
        out[k === r.origin ? r.destination : k] = v;
      }
      return out;
    });
  }

  for (const r of rules.filter(isColumnTransform)) {
    requireColumns(rows, [r.origin], `${r.transformation}(${r.origin})`);
    const fn = COLUMN_TRANSFORMS[r.transformation] as (v: unknown, c: NormalizeContext) => unknown;
    rows.forEach((row, i) => {
      const origin = row[r.origin];
      try {
        row[r.destination] = fn(origin, ctx);
      } catch (e) {
        if (!(e instanceof ImportSourceIssue)) throw e;
        const log: NormalizationLog = {
          ligne: i,
          identifiantUnique: null,
          niveau: e.blocking ? 'ERROR' : 'WARNING',
          fonction: r.transformation,
          origineColonnes: [r.origin],
          origineValeurs: [pyRepr(origin)],
          destinationColonnes: [r.destination],
          message: e.message,
        };
        (e.blocking ? errors : warnings)[i]!.push(log);
        row[r.destination] = '';
      }
      if (!expected.has(r.origin) && r.origin !== r.destination) delete row[r.origin];
    });
  }

  for (const r of rules.filter(isDefault)) for (const row of rows) row[r.column] = Array.isArray(r.value) ? [...r.value] : r.value;

  for (const r of rules.filter(isFrameTransform)) {
    requireColumns(rows, r.origin, `${r.transformation}(${r.origin.join(', ')})`);
    const fn = FRAME_TRANSFORMS[r.transformation] as (row: OriginRow, c: NormalizeContext) => unknown[];
    rows.forEach((row, i) => {
      for (const d of r.destination) if (!(d in row)) row[d] = '';
      const origin: OriginRow = r.origin.map((c) => [c, row[c]]);
      try {
        const result = fn(origin, ctx);
        r.destination.forEach((d, j) => {
          if (j < result.length) row[d] = result[j];
        });
      } catch (e) {
        if (!(e instanceof ImportSourceIssue)) throw e;
        (e.blocking ? errors : warnings)[i]!.push({
          ligne: i,
          identifiantUnique: null,
          niveau: e.blocking ? 'ERROR' : 'WARNING',
          fonction: r.transformation,
          origineColonnes: r.origin,
          origineValeurs: origin.map(([, v]) => pyRepr(v)),
          destinationColonnes: r.destination,
          message: e.message,
        });
        for (const d of r.destination) row[d] = d.endsWith('_codes') ? [] : '';
      }
    });
  }

  const removed = new Set(rules.filter(isRemove).map((r) => r.remove));
  for (const row of rows) for (const c of removed) delete row[c];

  const logs: NormalizationLog[] = [];
  const kept: Row[] = [];
  rows.forEach((row, i) => {
    const id = typeof row.identifiant_unique === 'string' && row.identifiant_unique ? row.identifiant_unique : null;
    for (const log of [...errors[i]!, ...warnings[i]!]) logs.push({ ...log, identifiantUnique: id });
    if (errors[i]!.length === 0) kept.push(row);
  });

  if (kept.length) {
    const present = new Set(Object.keys(kept[0]!));
    const extra = [...present].filter((c) => !expected.has(c)).sort();
    const missing = [...expected].filter((c) => !present.has(c)).sort();
    if (extra.length || missing.length) {
      throw new SourceShapeError(
        `the normalised rows do not have the expected columns: unexpected ${extra.length ? extra.map((c) => `\`${c}\``).join(', ') : 'none'}; missing ${missing.length ? missing.map((c) => `\`${c}\``).join(', ') : 'none'}`,
        missing,
        extra,
      );
    }
  }

  const filtered = removeUndesiredLines(kept);
  return {
    rows: filtered.rows,
    logs,
    metadata: { lignes_source: input.length, lignes_en_erreur: input.length - kept.length, ...filtered.counts },
  };
}

type PropositionServices = { action: string; sous_categories: string[] }[];

/** Rows sharing an `identifiant_unique` become one: first value wins, lists are unioned, services merged per action. */
export function mergeDuplicates(rows: Row[]): { rows: Row[]; merged: number } {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = String(row.identifiant_unique);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const singles: Row[] = [];
  const merged: Row[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      singles.push(group[0]!);
      continue;
    }
    const out: Row = { ...group[0]! };
    for (const col of ['label_codes', 'acteur_service_codes']) out[col] = [...new Set(group.flatMap((r) => (Array.isArray(r[col]) ? (r[col] as string[]) : [])))].sort();
    const byAction = new Map<string, Set<string>>();
    for (const r of group) {
      for (const ps of (r.proposition_service_codes as PropositionServices | undefined) ?? []) {
        const set = byAction.get(ps.action) ?? new Set<string>();
        ps.sous_categories.forEach((s) => set.add(s));
        byAction.set(ps.action, set);
      }
    }
    out.proposition_service_codes = [...byAction.keys()].sort().map((action) => ({ action, sous_categories: [...byAction.get(action)!].sort() }));
    merged.push(out);
  }
  return { rows: [...singles, ...merged], merged: merged.length };
}

function removeUndesiredLines(input: Row[]) {
  let rows = input;
  const counts = { doublons_fusionnes: 0, sans_sous_categorie: 0, doublons_ignores: 0, sans_localisation: 0 };
  const cols = rows.length ? new Set(Object.keys(rows[0]!)) : new Set<string>();
  if (['label_codes', 'acteur_service_codes', 'proposition_service_codes'].every((c) => cols.has(c))) {
    const m = mergeDuplicates(rows);
    rows = m.rows;
    counts.doublons_fusionnes = m.merged;
  }
  if (cols.has('sous_categorie_codes')) {
    const before = rows.length;
    rows = rows.filter((r) => Array.isArray(r.sous_categorie_codes) && r.sous_categorie_codes.length > 0);
    counts.sans_sous_categorie = before - rows.length;
  }
  if (cols.has('identifiant_unique')) {
    const seen = new Set<unknown>();
    const before = rows.length;
    rows = rows.filter((r) => (seen.has(r.identifiant_unique) ? false : (seen.add(r.identifiant_unique), true)));
    counts.doublons_ignores = before - rows.length;
  }
  if (cols.has('location') && cols.has('acteur_type_code')) {
    const before = rows.length;
    rows = rows.filter((r) => !(isBlank(r.location) && r.acteur_type_code !== ACTEUR_TYPE_DIGITAL));
    counts.sans_localisation = before - rows.length;
  }
  return { rows, counts };
}
