/**
 * A zip archive holding one CSV (the pharmacies file: UTF-16-LE with a BOM, `;`-separated): the zip is
 * read with fflate, the text decoded with the declared encoding, and parsed with csv-parse.
 */
import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import { InvalidInputError, ResponseShapeError } from '../../engine/errors';
import { requestBytes } from './http';
import type { ZipCsvLocation } from './declaration';
import type { RawRow, ReaderDeps } from './types';

const BATCH = 2_000;

export function rowsFromZipCsv(zip: Uint8Array, location: ZipCsvLocation, where: string): RawRow[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (f) => (location.entry ? f.name === location.entry : /\.csv$/i.test(f.name)) });
  } catch (e) {
    throw new ResponseShapeError(`${where} is not a readable zip archive: ${e instanceof Error ? e.message : String(e)}`, { url: where });
  }
  const name = Object.keys(entries).sort()[0];
  if (!name) throw new ResponseShapeError(`${where}: the archive holds no ${location.entry ? `entry \`${location.entry}\`` : '.csv entry'}`, { url: where });
  const text = new TextDecoder(location.encoding, { fatal: true, ignoreBOM: false }).decode(entries[name]);
  try {
    return parse(text, { columns: true, delimiter: location.delimiter, bom: true, skip_empty_lines: true, relax_column_count: false, trim: false }) as RawRow[];
  } catch (e) {
    throw new InvalidInputError(`${where}#${name} is not a valid \`${location.delimiter}\`-separated CSV: ${e instanceof Error ? e.message : String(e)}`, { url: where });
  }
}

export async function* readZipCsv(location: ZipCsvLocation, deps: ReaderDeps): AsyncGenerator<RawRow[]> {
  const url = deps.resolveUrl(location.url);
  const zip = await requestBytes(url, deps.timeoutMs);
  const rows = rowsFromZipCsv(zip, location, url);
  for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH);
}
