/**
 * Streamed exports (CSV and JSON Lines) shared by the list endpoints: a server-side cursor on a connection
 * of its own, the first batch read before the answer starts, and a failure after that made impossible to miss.
 */
import { Readable } from 'node:stream';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type postgres from 'postgres';
import type { ApiContext } from './context';

/**
 * An export holds one connection for as long as the client reads: the statement timeout (a guard for
 * page queries) would cut a large export mid-way, so that connection runs without it. The connection
 * goes back to the pool when the export ends or the client goes away (the stream's return()).
 */
export async function* streamed(ctx: ApiContext, query: (sql: postgres.Sql) => AsyncIterable<Record<string, unknown>[]>): AsyncGenerator<Record<string, unknown>[]> {
  const reserved = await ctx.db.sql.reserve();
  try {
    await reserved`select set_config('statement_timeout', '0', false)`;
    yield* query(reserved);
  } finally {
    await reserved`select set_config('statement_timeout', ${String(ctx.config.statementTimeoutMs)}, false)`.catch(() => undefined);
    reserved.release();
  }
}

export interface ExportSpec {
  format: 'csv' | 'jsonl';
  /** The file name offered to the client, without its extension. */
  name: string;
  /** CSV columns, in order (JSON Lines writes each row as it is). */
  columns: string[];
  batches: AsyncIterable<Record<string, unknown>[]>;
}

/** Answers with the export: headers, then the rows as they are read. */
export async function sendExport(req: FastifyRequest, reply: FastifyReply, spec: ExportSpec): Promise<FastifyReply> {
  // The first batch is read before anything is sent: a query PostgreSQL refuses is still a proper
  // error answer (its status and JSON body), not a 200 that stops after the header row.
  const batches = spec.batches[Symbol.asyncIterator]();
  const first = await batches.next();
  void reply
    .header('content-type', spec.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
    .header('content-disposition', `attachment; filename="${spec.name}.${spec.format}"`);
  const rest = afterFailure(req.log, spec.format, first, batches);
  return reply.send(Readable.from(spec.format === 'csv' ? toCsv(spec.columns, rest) : toJsonl(rest)) as never);
}

/**
 * The batches of an export, the first one already read. A failure after the headers are sent cannot
 * change the status any more, so it is made impossible to miss: a last line says the export failed
 * (`#EXPORT-FAILED …` in CSV, an `{"error": …}` object in JSON Lines), then the stream is destroyed, so
 * the chunked encoding never gets its terminating chunk and HTTP clients report a truncated body.
 */
async function* afterFailure(
  log: FastifyBaseLogger,
  format: 'csv' | 'jsonl',
  first: IteratorResult<Record<string, unknown>[]>,
  rest: AsyncIterator<Record<string, unknown>[]>,
): AsyncGenerator<Record<string, unknown>[] | ExportFailure> {
  if (first.done) return;
  yield first.value;
  try {
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } catch (err) {
    log.error({ err }, 'export failed after its first rows were sent');
    const message = 'the export failed part-way; the rows above are incomplete: retry, or narrow the filters';
    yield new ExportFailure(format === 'csv' ? `#EXPORT-FAILED ${message}\r\n` : `${JSON.stringify({ error: 'internal', message })}\n`);
    throw err;
  } finally {
    // A client that goes away stops the export here: the query's connection goes back to the pool.
    await rest.return?.();
  }
}

class ExportFailure {
  constructor(readonly line: string) {}
}

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value as number | boolean);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function* toCsv(columns: string[], batches: AsyncIterable<Record<string, unknown>[] | ExportFailure>): AsyncGenerator<string> {
  yield `${columns.join(',')}\r\n`;
  for await (const batch of batches) {
    if (batch instanceof ExportFailure) {
      yield batch.line;
      continue;
    }
    let chunk = '';
    for (const row of batch) chunk += `${columns.map((c) => csvCell(row[c])).join(',')}\r\n`;
    yield chunk;
  }
}

async function* toJsonl(batches: AsyncIterable<Record<string, unknown>[] | ExportFailure>): AsyncGenerator<string> {
  for await (const batch of batches) {
    if (batch instanceof ExportFailure) {
      yield batch.line;
      continue;
    }
    let chunk = '';
    for (const row of batch) chunk += `${JSON.stringify(row)}\n`;
    yield chunk;
  }
}
