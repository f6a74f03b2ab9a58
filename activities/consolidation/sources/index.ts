/**
 * The source readers, one per declared kind: each yields the source's rows in batches. A new source
 * of a known kind is a declaration in declarations/, not code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../../engine/errors';
import { readDataFair } from './datafair';
import { DeclarationError, parseDeclaration, type SourceDeclaration, type SourceLocation } from './declaration';
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
  // The S3 reader (activities/consolidation/sources/s3.ts, `readS3Source(location, client)`) is built on
  // the cons-enrich branch; the merge plugs it in here.
  s3: () => {
    throw new ConfigurationError('the s3 source reader is not part of this build (activities/consolidation/sources/s3.ts)');
  },
};

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
