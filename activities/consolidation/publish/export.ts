/**
 * The weekly open-data export: the `opendata` perimeter of the displayed acteurs (openly licensed
 * sources only) as CSV and as GeoJSON. Rows are streamed from a cursor inside one repeatable-read
 * snapshot, written in batches that wait for the file to drain, into `<file>.part`; the file is then
 * read back from disk and its records counted (and hashed): only when the count equals the snapshot's
 * `count(*)` and the rows written is it renamed into place and recorded in
 * `consolidation.exports_opendata`. A mismatch leaves the previous week's files untouched.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import type { Sql } from 'postgres';

export const EXPORT_FORMATS = ['csv', 'geojson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The export's row count disagrees with the database: the file is not published. */
export class ExportCountMismatchError extends Error {
  override readonly name = 'ExportCountMismatchError';
  constructor(
    readonly format: ExportFormat,
    readonly counts: { database: number; written: number; inFile: number },
  ) {
    super(`open-data ${format} export: ${counts.database} rows in the database, ${counts.written} written, ${counts.inFile} read back from the file`);
  }
}

/** The open-data columns (QFDMOD's names), in file order. Emails are never published. */
export const EXPORT_COLUMNS = [
  'identifiant',
  'paternite',
  'nom',
  'nom_commercial',
  'siren',
  'siret',
  'description',
  'type_dacteur',
  'site_web',
  'telephone',
  'adresse',
  'complement_dadresse',
  'code_postal',
  'ville',
  'latitude',
  'longitude',
  'qualites_et_labels',
  'public_accueilli',
  'reprise',
  'exclusivite_de_reprisereparation',
  'uniquement_sur_rdv',
  'type_de_services',
  'propositions_de_services',
  'lieu_prestation',
  'date_derniere_modification',
] as const;
export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | boolean | null>;

export const EXPORT_SELECT = `select uuid as identifiant, array_to_string(source_codes, '|') as paternite, nom, nom_commercial, siren, siret, description,
  acteur_type_code as type_dacteur, url as site_web, telephone, adresse, adresse_complement as complement_dadresse, code_postal, ville,
  latitude, longitude, array_to_string(label_codes, '|') as qualites_et_labels, public_accueilli, reprise, exclusivite_de_reprisereparation,
  uniquement_sur_rdv, array_to_string(acteur_service_codes, '|') as type_de_services, proposition_service_codes::text as propositions_de_services,
  lieu_prestation, to_char(modifie_le at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as date_derniere_modification
  from consolidation.acteurs_affiches where perimetre = 'opendata' order by identifiant_unique`;

/** Writes `text`, waiting for the file to drain when its buffer is full (never buffers the whole export). */
async function write(out: WriteStream, text: string): Promise<void> {
  if (out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

async function close(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * Stops writing a file that will be removed. A write still in flight then reports the destroy as an
 * 'error' event: it has nothing left to tell, and unheard it would crash the worker (seen when the export
 * failed half-way under load).
 */
async function abandon(out: WriteStream): Promise<void> {
  out.on('error', () => undefined);
  if (out.closed) return;
  await new Promise<void>((resolve) => {
    out.once('close', () => resolve());
    out.destroy();
  });
}

export function feature(row: ExportRow): string {
  const { latitude, longitude, ...properties } = row;
  const geometry = typeof latitude === 'number' && typeof longitude === 'number' ? { type: 'Point', coordinates: [longitude, latitude] } : null;
  return JSON.stringify({ type: 'Feature', geometry, properties });
}

const FEATURE_PREFIX = '{"type":"Feature"';

/** Reads a written file back: its records (CSV: parsed, header excluded; GeoJSON: one feature a line), bytes and sha256. */
export async function readBack(path: string, format: ExportFormat): Promise<{ rows: number; bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk));
  let rows = 0;
  if (format === 'csv') {
    for await (const _record of input.pipe(parse({ bom: true, relax_column_count: false }))) rows++;
    rows = Math.max(rows - 1, 0);
  } else {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.startsWith(FEATURE_PREFIX)) rows++;
  }
  return { rows, bytes: (await stat(path)).size, sha256: hash.digest('hex') };
}

export interface ExportFileResult {
  format: ExportFormat;
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export async function exportOpenData(
  sql: Sql,
  options: { dir: string; semaine: string; format: ExportFormat; batchRows?: number; onProgress?: (rows: number) => void },
): Promise<ExportFileResult> {
  const folder = join(options.dir, options.semaine);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `acteurs.${options.format}`);
  const part = `${path}.part`;
  const out = createWriteStream(part);
  let database = 0;
  let written = 0;
  try {
    await sql.begin('isolation level repeatable read read only', async (tx) => {
      const [count] = await tx.unsafe<{ n: number }[]>(`select count(*)::int as n from consolidation.acteurs_affiches where perimetre = 'opendata'`);
      database = count!.n;
      if (options.format === 'csv') await write(out, stringify([], { header: true, columns: [...EXPORT_COLUMNS] }));
      else await write(out, '{"type":"FeatureCollection","features":[\n');
      for await (const batch of tx.unsafe<ExportRow[]>(EXPORT_SELECT).cursor(options.batchRows ?? 2_000)) {
        if (options.format === 'csv') {
          await write(out, stringify(batch, { columns: [...EXPORT_COLUMNS], cast: { boolean: (b) => (b ? 'true' : 'false') } }));
        } else {
          await write(out, `${written > 0 ? ',\n' : ''}${batch.map(feature).join(',\n')}`);
        }
        written += batch.length;
        options.onProgress?.(written);
      }
      if (options.format === 'geojson') await write(out, '\n]}\n');
    });
    await close(out);
    const back = await readBack(part, options.format);
    if (back.rows !== database || written !== database) throw new ExportCountMismatchError(options.format, { database, written, inFile: back.rows });
    await rename(part, path);
    await sql`insert into consolidation.exports_opendata (semaine, format, chemin, lignes, octets, sha256, exporte_le)
      values (${options.semaine}, ${options.format}, ${path}, ${back.rows}, ${back.bytes}, ${back.sha256}, now())
      on conflict (semaine, format) do update set chemin = excluded.chemin, lignes = excluded.lignes, octets = excluded.octets, sha256 = excluded.sha256, exporte_le = now()`;
    return { format: options.format, path, ...back };
  } catch (err) {
    await abandon(out);
    await rm(part, { force: true });
    throw err;
  }
}
