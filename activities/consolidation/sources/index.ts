/**
 * The source readers, one per declared kind: each yields the source's rows in batches. A new source
 * of a known kind is a declaration in declarations/, not code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../../engine/errors';
import { readDataFair } from './datafair';
import type { ConsolidationS3Config } from '../../../schema/config';
import { DeclarationError, parseDeclaration, type S3Location, type SourceDeclaration, type SourceLocation } from './declaration';
import { readPagedJson } from './paged-json';
import type { RawRow, ReaderDeps } from './types';
import { readZipCsv } from './zip-csv';

export * from './declaration';
export type { RawRow, ReaderDeps } from './types';

export const BUILT_IN_DECLARATIONS_DIR = fileURLToPath(new URL('./declarations/', import.meta.url));

type Reader = (location: SourceLocation, deps: ReaderDeps) => AsyncGenerator<RawRow[]>;

const READERS: Record<SourceLocation['kind'], Reader> = {
  'data-fair': (l, d) => readDataFair(l as Extract<SourceLocation, { kind: 'data-fair' }>, d),
  'paged-json': (l, d) => readPagedJson(l as Extract<SourceLocation, { kind: 'paged-json' }>, d),
  'zip-csv': (l, d) => readZipCsv(l as Extract<SourceLocation, { kind: 'zip-csv' }>, d),
  s3: (l, d) => readDeclaredS3(l as S3Location, d),
};

/** The declared object read through a client of the configured server, closed when the read ends. */
async function* readDeclaredS3(location: S3Location, deps: ReaderDeps): AsyncGenerator<RawRow[]> {
  if (!deps.s3Config) throw new ConfigurationError(`an s3 source needs the S3 settings (CONSOLIDATION_S3_*), which this caller did not pass`);
  const config = deps.s3Config();
  const bucket = resolveS3Bucket(location, config);
  // Imported here, not with the other readers: the S3 client and ExcelJS are ~13 MB of heap (more of RSS)
  // that a worker whose sources are all HTTP would otherwise hold for the rest of its life.
  const { createS3Client, readS3Source } = await import('./s3');
  const client = createS3Client(config);
  try {
    yield* readS3Source({ ...location, bucket }, client, { batchRows: config.batchRows });
  } finally {
    client.destroy();
  }
}

/** The declaration's bucket, else the configured one; neither is a configuration error naming both. */
export function resolveS3Bucket(location: S3Location, config: ConsolidationS3Config): string {
  const bucket = location.bucket ?? config.defaultBucket;
  if (!bucket) {
    throw new ConfigurationError(`s3://?/${location.key}: the declaration names no bucket (location.bucket) and CONSOLIDATION_S3_BUCKET is not set`, {
      variable: 'CONSOLIDATION_S3_BUCKET',
    });
  }
  return bucket;
}

export function readSource(location: SourceLocation, deps: ReaderDeps): AsyncGenerator<RawRow[]> {
  return READERS[location.kind](location, deps);
}

/** `origin=origin` rewrites applied to every URL a reader fetches. */
export function urlResolver(rewrites: [string, string][]): (url: string) => string {
  return (url) => {
    for (const [from, to] of rewrites) if (url === from || url.startsWith(`${from}/`)) return to + url.slice(from.length);
    return url;
  };
}

/** Every declaration of a folder (`<code>.json`), each checked; a bad one is refused with its fields named. */
export function loadDeclarations(dir: string = BUILT_IN_DECLARATIONS_DIR): Map<string, SourceDeclaration> {
  const out = new Map<string, SourceDeclaration>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'product-mappings.json').sort()) {
    const where = join(dir, file);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(where, 'utf8'));
    } catch (e) {
      throw new DeclarationError(where, [{ field: '(file)', message: `not JSON: ${e instanceof Error ? e.message : String(e)}` }]);
    }
    const declaration = parseDeclaration(json, where);
    if (`${declaration.code}.json` !== file) throw new DeclarationError(where, [{ field: 'code', message: `must match the file name (${file})` }]);
    out.set(declaration.code, declaration);
  }
  return out;
}
