/**
 * data-fair datasets (the eco-organisme points on data.pointsapport.ademe.fr): `/schema` gives the
 * columns, minus the ones the server computes (`x-calculated`: `_id`, `_i`, `_rand`…), and
 * `/lines?size=N` pages through the rows by following `next`.
 */
import { z } from 'zod';
import { ResponseShapeError } from '../../engine/errors';
import { requestJson } from '../../engine/http';
import type { DataFairLocation } from './declaration';
import type { RawRow, ReaderDeps } from './types';

const SchemaFieldSchema = z.object({ key: z.string().min(1), 'x-calculated': z.boolean().optional() }).loose();
const LinesSchema = z.object({ total: z.number().int().nonnegative().optional(), next: z.string().optional(), results: z.array(z.record(z.string(), z.unknown())) }).loose();

function datasetUrl(location: DataFairLocation, suffix: string): string {
  return `${location.baseUrl.replace(/\/+$/, '')}/data-fair/api/v1/datasets/${encodeURIComponent(location.dataset)}/${suffix}`;
}

function shapeError(url: string, what: string, issues: z.core.$ZodIssue[]): ResponseShapeError {
  return new ResponseShapeError(`${url}: ${what} is not what data-fair answers: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, { url });
}

/** The dataset's own columns, in schema order. */
export async function readDataFairColumns(location: DataFairLocation, deps: ReaderDeps): Promise<string[]> {
  const url = deps.resolveUrl(datasetUrl(location, 'schema'));
  const { body } = await requestJson(url, { timeoutMs: deps.timeoutMs });
  const parsed = z.array(SchemaFieldSchema).safeParse(body);
  if (!parsed.success) throw shapeError(url, 'the schema', parsed.error.issues);
  return parsed.data.filter((f) => !f['x-calculated']).map((f) => f.key);
}

const cell = (v: unknown): RawRow[string] => (v === undefined || v === null ? null : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v));

export async function* readDataFair(location: DataFairLocation, deps: ReaderDeps): AsyncGenerator<RawRow[]> {
  const columns = await readDataFairColumns(location, deps);
  let next: string | undefined = deps.resolveUrl(`${datasetUrl(location, 'lines')}?size=${location.pageSize}`);
  while (next) {
    const { body } = await requestJson(next, { timeoutMs: deps.timeoutMs });
    const parsed = LinesSchema.safeParse(body);
    if (!parsed.success) throw shapeError(next, 'a lines page', parsed.error.issues);
    yield parsed.data.results.map((r) => Object.fromEntries(columns.map((c) => [c, cell(r[c])])));
    next = parsed.data.next ? deps.resolveUrl(parsed.data.next) : undefined;
  }
}
