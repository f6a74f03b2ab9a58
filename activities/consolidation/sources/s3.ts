/**
 * CSV and Excel files in S3-compatible storage (the local stack's SeaweedFS, or a user's own bucket on
 * AWS, Scaleway, MinIO…) as a consolidation source: the object is streamed from the server and parsed as it
 * arrives, and rows come out in batches with their column names as the file spells them.
 *
 * CSV: decoded with the declared encoding (UTF-8 by default, UTF-16-LE as the pharmacies' export, latin1 /
 * windows-1252 as old spreadsheets write it), a byte-order mark is dropped, the delimiter is the declared
 * one or, when none is declared, the most frequent of `, ; \t |` on the header line. Excel: the workbook is
 * read by ExcelJS's streaming reader; the first sheet, or the declared one (by name or 1-based position).
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { parse as parseCsv, CsvError } from 'csv-parse';
import ExcelJS from 'exceljs';
import { z } from 'zod';
import type { ConsolidationS3Config } from '../../../schema/config';
import { AuthError, InvalidInputError, NotAvailableError, TransientError } from '../../engine/errors';
import { checkS3Format, S3_ENCODINGS, S3LocationFields } from './declaration';
import type { RawRow } from './types';

export type { RawRow } from './types';
export { S3_ENCODINGS } from './declaration';

/** An S3 object to read: the declaration's location with its bucket resolved. */
export const s3SourceLocationSchema = z
  .object({ ...S3LocationFields, bucket: S3LocationFields.bucket.unwrap() })
  .strict()
  .superRefine(checkS3Format);

export type S3SourceLocation = z.infer<typeof s3SourceLocationSchema>;

export function createS3Client(config: ConsolidationS3Config): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...(config.credentials ? { credentials: config.credentials } : {}),
    // SDK ≥ 3.729 adds CRC checksums that several S3-compatible servers do not implement.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}

export interface ReadS3Options {
  batchRows?: number;
  signal?: AbortSignal;
}

function where(loc: S3SourceLocation): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** The SDK's errors in the engine's vocabulary, each naming the object. */
export function s3Failure(err: unknown, loc: S3SourceLocation): Error {
  const at = where(loc);
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    switch (err.name) {
      case 'NoSuchBucket':
        return new NotAvailableError(`${at}: the bucket '${loc.bucket}' does not exist on this S3 server`, { bucket: loc.bucket, code: err.name });
      case 'NoSuchKey':
      case 'NotFound':
        return new NotAvailableError(`${at}: no object '${loc.key}' in bucket '${loc.bucket}'`, { bucket: loc.bucket, key: loc.key, code: err.name });
      case 'AccessDenied':
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
      case 'InvalidToken':
      case 'ExpiredToken':
        return new AuthError(`${at}: the S3 server refused our credentials (${err.name})`, { code: err.name });
      default:
        if (status !== undefined && status >= 500) return new TransientError('server', `${at}: S3 answered ${status} (${err.name})`, { status });
        return new InvalidInputError(`${at}: S3 refused the request: ${err.name}: ${err.message}`, { status, code: err.name });
    }
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR_)/.test(code)) {
    return new TransientError('network', `${at}: cannot reach the S3 server (${code})`, { code });
  }
  if ((err as Error | undefined)?.name === 'TimeoutError') return new TransientError('timeout', `${at}: the S3 server did not answer in time`);
  return err instanceof Error ? err : new Error(String(err));
}

async function openObject(loc: S3SourceLocation, client: S3Client, signal?: AbortSignal): Promise<Readable> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), signal ? { abortSignal: signal } : {});
    if (!(res.Body instanceof Readable)) throw new TransientError('truncated', `${where(loc)}: the S3 answer has no body stream`);
    return res.Body;
  } catch (err) {
    throw s3Failure(err, loc);
  }
}

/**
 * Streams the object and yields its rows in batches. Errors name the object and, for a bad CSV, the
 * line: nothing of a file that fails half-way is lost silently, the whole read fails.
 */
export async function* readS3Source(location: S3SourceLocation, client: S3Client, options: ReadS3Options = {}): AsyncGenerator<RawRow[]> {
  const loc = s3SourceLocationSchema.parse(location);
  const batchRows = options.batchRows ?? 5_000;
  const body = await openObject(loc, client, options.signal);
  const rows = loc.format === 'csv' ? csvRows(body, loc) : xlsxRows(body, loc);
  let batch: RawRow[] = [];
  try {
    for await (const row of rows) {
      batch.push(row);
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    body.destroy();
    if (err instanceof InvalidInputError || err instanceof NotAvailableError) throw err;
    throw s3Failure(err, loc);
  }
  if (batch.length > 0) yield batch;
}

// ---------------------------------------------------------------- CSV

/** Decodes byte chunks as they come; UTF-8 is checked strictly so a wrong declaration fails loudly. */
async function* decode(body: AsyncIterable<Buffer>, loc: S3SourceLocation): AsyncGenerator<string> {
  const encoding = loc.encoding ?? 'utf-8';
  const decoder = new TextDecoder(encoding === 'latin1' ? 'windows-1252' : encoding, { fatal: encoding === 'utf-8' });
  try {
    for await (const chunk of body) yield decoder.decode(chunk, { stream: true });
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch (err) {
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw new InvalidInputError(`${where(loc)}: not valid UTF-8; declare the file's encoding (${S3_ENCODINGS.join(', ')})`, { encoding });
    }
    throw err;
  }
}

const DELIMITER_CANDIDATES = [',', ';', '\t', '|'];

/** The most frequent candidate outside quotes on the header line (`,` when none occurs). */
export function sniffDelimiter(headerLine: string): string {
  const counts = new Map<string, number>(DELIMITER_CANDIDATES.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

function headerColumns(loc: S3SourceLocation) {
  return (header: string[]): string[] => {
    const names = header.map((h) => h.trim());
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (name === '') throw new InvalidInputError(`${where(loc)}: column ${i + 1} of the header has no name`, { column: i + 1 });
      if (seen.has(name)) throw new InvalidInputError(`${where(loc)}: the header names column '${name}' twice`, { column: name });
      seen.add(name);
    });
    return names;
  };
}

async function* csvRows(body: Readable, loc: S3SourceLocation): AsyncGenerator<RawRow> {
  const text = decode(body, loc);
  // The delimiter may need the header line: read until it is complete, then hand everything on.
  let head = '';
  let first = await text.next();
  while (!first.done) {
    head += first.value;
    if (/\r?\n/.test(head) || head.length > 1_000_000) break;
    first = await text.next();
  }
  const delimiter = loc.delimiter ?? sniffDelimiter(head.split(/\r?\n/, 1)[0] ?? '');
  async function* all(): AsyncGenerator<string> {
    if (head) yield head;
    if (!first.done) yield* text;
  }
  const parser = Readable.from(all()).pipe(
    parseCsv({ delimiter, columns: headerColumns(loc), bom: true, skip_empty_lines: true, relax_quotes: false, relax_column_count: false }),
  );
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) yield record;
  } catch (err) {
    if (err instanceof CsvError) {
      throw new InvalidInputError(`${where(loc)} line ${(err as CsvError & { lines?: number }).lines ?? '?'}: ${err.message}`, { code: err.code, delimiter });
    }
    throw err;
  }
}

// ---------------------------------------------------------------- Excel

type CellValue = ExcelJS.CellValue;

/** An Excel cell as a raw value: formulas give their cached result, rich text its text, dates ISO strings. */
export function cellToRaw(value: CellValue): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((r) => r.text).join('');
    if ('formula' in value || 'sharedFormula' in value) return cellToRaw((value as { result?: CellValue }).result ?? null);
    if ('hyperlink' in value) return cellToRaw((value as { text: CellValue }).text);
    if ('error' in value) return value.error;
  }
  return String(value as unknown);
}

async function* xlsxRows(body: Readable, loc: S3SourceLocation): AsyncGenerator<RawRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(body, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', entries: 'ignore' });
  const wanted = loc.sheet ?? 1;
  const seen: string[] = [];
  let found = false;
  for await (const sheet of reader) {
    const name = (sheet as unknown as { name: string }).name;
    seen.push(name);
    const match = typeof wanted === 'number' ? seen.length === wanted : name === wanted;
    if (!match || found) {
      // The zip is read in order: a sheet we skip must still be drained.
      for await (const _row of sheet) void _row;
      continue;
    }
    found = true;
    let header: string[] | undefined;
    for await (const row of sheet) {
      const values = (row.values as CellValue[]).slice(1).map(cellToRaw);
      if (values.every((v) => v === null || v === '')) continue;
      if (!header) {
        header = headerColumns(loc)(values.map((v) => (v === null ? '' : String(v))));
        continue;
      }
      if (values.length > header.length && values.slice(header.length).some((v) => v !== null && v !== '')) {
        throw new InvalidInputError(`${where(loc)} sheet '${name}' row ${row.number}: ${values.length} cells for ${header.length} named columns`, { row: row.number });
      }
      const out: RawRow = {};
      header.forEach((col, i) => (out[col] = values[i] ?? null));
      yield out;
    }
    if (!header) throw new InvalidInputError(`${where(loc)}: sheet '${name}' is empty (no header row)`);
  }
  if (!found) {
    throw new InvalidInputError(`${where(loc)}: no sheet ${typeof wanted === 'number' ? `number ${wanted}` : `'${wanted}'`} (sheets: ${seen.join(', ') || 'none'})`, {
      sheets: seen,
    });
  }
}
