/**
 * Reading what publishing wrote, for the API and the CLI (plain functions over the database, no
 * Temporal): a week's statistics per source (`consolidation.statistiques_hebdo`), the open-data exports
 * recorded (`consolidation.exports_opendata`, one row per week and format once its row count matched),
 * and one export's file, found by week or as the latest. The file's row count and sha256 are the ones
 * recorded when it was checked; a file no longer as it was written is reported, never served.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Sql } from 'postgres';
import { z } from 'zod';
import { EXPORT_FORMATS, type ExportFormat } from './export';
import type { StatsRow } from './index';

/** Asked for something that was not published (no statistics for that week, no such export, its file gone). */
export class PublishedNotFoundError extends Error {
  override readonly name = 'PublishedNotFoundError';
}

/** The input does not say a valid thing to read (each field and its problem named). */
export class PublishedInputError extends Error {
  override readonly name = 'PublishedInputError';
  constructor(readonly issues: { field: string; problem: string }[]) {
    super(issues.map((i) => `${i.field}: ${i.problem}`).join('; '));
  }
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new PublishedInputError(parsed.error.issues.map((i) => ({ field: i.path.length ? i.path.map(String).join('.') : '(input)', problem: i.message })));
}

const semaine = z.string().regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'must be an ISO week like 2026-W49');

export const StatsQuerySchema = z.strictObject({ semaine: semaine.optional().describe('an ISO week (the latest computed when absent)') });
export type StatsQuery = z.input<typeof StatsQuerySchema>;

export type SourceStats = StatsRow;

export interface WeeklyStats {
  semaine: string;
  calcule_le: string;
  /** Every source, then all sources together (`source_code` '*'). */
  sources: SourceStats[];
  /** The weeks that have statistics, newest first (at most 52). */
  semaines: string[];
}

/** A week's statistics (the latest week computed by default). */
export async function weeklyStats(sql: Sql, input: StatsQuery = {}): Promise<WeeklyStats> {
  const q = parse(StatsQuerySchema, input);
  const weeks = (await sql<{ semaine: string }[]>`select distinct semaine from consolidation.statistiques_hebdo order by semaine desc limit 52`).map((w) => w.semaine);
  const week = q.semaine ?? weeks[0];
  if (!week) throw new PublishedNotFoundError('no statistics computed yet: run `moisson consolidation stats --compute` (workflow consolidationStats)');
  const rows = await sql<(SourceStats & { calcule_le: Date })[]>`
    select source_code, acteurs, acteurs_actifs, revisions, parents, enfants, affiches_carte, affiches_opendata, avec_siret, avec_siren, suggestions_en_attente, calcule_le
      from consolidation.statistiques_hebdo where semaine = ${week} order by source_code = '*', source_code`;
  if (rows.length === 0) throw new PublishedNotFoundError(`no statistics for ${week} (weeks computed: ${weeks.slice(0, 5).join(', ') || 'none'})`);
  const calcule = rows.reduce((a, r) => (r.calcule_le > a ? r.calcule_le : a), rows[0]!.calcule_le);
  return { semaine: week, calcule_le: new Date(calcule).toISOString(), sources: rows.map(({ calcule_le: _c, ...r }) => r), semaines: weeks };
}

export interface ExportView {
  semaine: string;
  format: ExportFormat;
  lignes: number;
  octets: number;
  sha256: string;
  exporte_le: string;
}

interface ExportRow {
  semaine: string;
  format: ExportFormat;
  chemin: string;
  lignes: number;
  octets: string | number;
  sha256: string;
  exporte_le: Date;
}

const toView = (r: ExportRow): ExportView => ({ semaine: r.semaine, format: r.format, lignes: r.lignes, octets: Number(r.octets), sha256: r.sha256, exporte_le: new Date(r.exporte_le).toISOString() });

export const ExportListSchema = z.strictObject({
  limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(520, 'must be at most 520').default(52),
});

/** The recorded exports, newest week first (each week's CSV then GeoJSON). */
export async function listExports(sql: Sql, input: z.input<typeof ExportListSchema> = {}): Promise<ExportView[]> {
  const q = parse(ExportListSchema, input);
  const rows = await sql<ExportRow[]>`select semaine, format, chemin, lignes, octets, sha256, exporte_le from consolidation.exports_opendata order by semaine desc, format limit ${q.limit}`;
  return rows.map(toView);
}

export const ExportFileSchema = z.strictObject({
  semaine: z.union([z.literal('latest'), semaine], { error: "must be an ISO week like 2026-W49, or 'latest'" }),
  format: z.enum(EXPORT_FORMATS, { error: `must be one of ${EXPORT_FORMATS.join(', ')}` }),
});

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = { csv: 'text/csv', geojson: 'application/geo+json' };

export interface ExportFile extends ExportView {
  /** The file as written, opened for reading. */
  open: () => ReadStream;
  filename: string;
}

/** One export's file, by week or the latest: its recorded counts, and the file checked to be the size it was written. */
export async function exportFile(sql: Sql, input: z.input<typeof ExportFileSchema>): Promise<ExportFile> {
  const q = parse(ExportFileSchema, input);
  const [row] =
    q.semaine === 'latest'
      ? await sql<ExportRow[]>`select semaine, format, chemin, lignes, octets, sha256, exporte_le from consolidation.exports_opendata where format = ${q.format} order by semaine desc limit 1`
      : await sql<ExportRow[]>`select semaine, format, chemin, lignes, octets, sha256, exporte_le from consolidation.exports_opendata where format = ${q.format} and semaine = ${q.semaine}`;
  if (!row) throw new PublishedNotFoundError(q.semaine === 'latest' ? `no ${q.format} export yet` : `no ${q.format} export for ${q.semaine}`);
  // A relative path is the worker's export directory under the project, as the API's own working directory is.
  const path = resolve(row.chemin);
  const size = await stat(path).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) throw new PublishedNotFoundError(`the ${row.format} export of ${row.semaine} is recorded but its file ${row.chemin} is gone`);
  if (size !== Number(row.octets)) throw new PublishedNotFoundError(`the ${row.format} export of ${row.semaine} was changed on disk since it was checked (${size} bytes, ${row.octets} recorded)`);
  return { ...toView(row), open: () => createReadStream(path), filename: `acteurs-${row.semaine}.${row.format}` };
}
