/**
 * Trace spans below the activity: one CLIENT span per HTTP request the engine fetcher puts on the wire
 * (fetcher.ts), one per request any other client sends through undici or the global fetch (MailWizz,
 * the price and enrichment APIs, open-data downloads: `traceUndiciRequests`), one per PostgreSQL
 * statement and transaction (`tracedSql`, applied by engine/db.ts) and one per MongoDB command
 * (`traceMongoCommands`, the archive). They are children of the activity's span (the SDK's interceptor
 * makes it the active one), so a slow activity shows which request or which statement it waited on.
 * Without a tracer provider (the API, scripts) the API's no-op tracer makes them free.
 *
 * What goes into attributes: the redacted URL, the host, the status; a statement's text (its
 * placeholders, never its parameters, which may be contact data); a command's name and collection
 * (never its documents).
 */
import { subscribe } from 'node:diagnostics_channel';
import { type Attributes, context, createContextKey, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import type { Sql } from 'postgres';
import { redactUrl } from './http';

/** Looked up at each use: the worker installs its provider after this module is imported. */
const tracer = () => trace.getTracer('moisson');

const MAX_STATEMENT_CHARS = 2_000;

function fail(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.setAttribute('error.type', err instanceof Error ? err.name : typeof err);
}

/** Runs `fn` in a span (the active one while it runs), ended when it settles; a throw marks it failed. */
export function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

function httpAttributes(method: string, url: URL, safeUrl: string): Attributes {
  return {
    'http.request.method': method,
    'url.full': safeUrl,
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
  };
}

/** Set in the context of a request that already has its span (the engine fetcher's): undici's events then add none. */
const HTTP_SPANNED = createContextKey('moisson.http.spanned');

/** The span of one HTTP request (one hop of a redirect chain), named by its method as the conventions ask. */
export function httpSpan<T>(method: string, url: URL, safeUrl: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return inSpan(method, SpanKind.CLIENT, httpAttributes(method, url, safeUrl), (span) => context.with(context.active().setValue(HTTP_SPANNED, true), () => fn(span)));
}

/** What undici publishes on its diagnostics channels (the fields read here; Node's bundled undici and the package alike). */
interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
}

let undiciTraced = false;

/**
 * A CLIENT span per HTTP request sent through undici, the package or Node's global fetch (both publish
 * on the process-wide `undici:request:*` diagnostics channels), for the clients that do not go through
 * the engine fetcher. The request is created in its caller's async context, so the span is the child
 * of the caller's (the activity's); a request outside any trace gets none. Idempotent: called by each telemetry set-up of the process.
 */
export function traceUndiciRequests(): void {
  if (undiciTraced) return;
  undiciTraced = true;
  const spans = new WeakMap<object, Span>();
  const end = (request: object, err?: unknown) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (err !== undefined) fail(span, err);
    span.end();
  };
  subscribe('undici:request:create', (message) => {
    const { request } = message as { request: UndiciRequest };
    // Outside any trace (a /metrics scrape's fetch) a request would be a root span of its own: noise.
    if (!trace.getSpan(context.active()) || context.active().getValue(HTTP_SPANNED)) return;
    let url: URL;
    try {
      url = new URL(request.path ?? '/', request.origin);
    } catch {
      return;
    }
    const method = request.method ?? 'GET';
    const span = tracer().startSpan(method, { kind: SpanKind.CLIENT, attributes: httpAttributes(method, url, redactUrl(url.toString())) });
    if (span.isRecording()) spans.set(request, span);
  });
  subscribe('undici:request:headers', (message) => {
    const { request, response } = message as { request: object; response: { statusCode: number } };
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', response.statusCode);
    // A client span fails on 4xx and 5xx (the HTTP conventions); a 429 shows here too.
    if (response.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: String(response.statusCode) }).setAttribute('error.type', String(response.statusCode));
  });
  subscribe('undici:request:trailers', (message) => end((message as { request: object }).request));
  subscribe('undici:request:error', (message) => {
    const { request, error } = message as { request: object; error: unknown };
    end(request, error);
  });
}

/**
 * A CLIENT span per MongoDB command of this client (the driver's command monitoring, which the client
 * must be created with: `monitorCommands: true`). A command starts in its caller's async context, so
 * its span is the caller's child (none outside a trace); it ends when the driver reports the reply. Attributes: the command's
 * name, the collection and database, the server; never the command's documents.
 */
export function traceMongoCommands(client: MongoClient): void {
  const spans = new Map<number, Span>();
  client.on('commandStarted', (event: CommandStartedEvent) => {
    if (!trace.getSpan(context.active())) return;
    const command = event.command as Record<string, unknown>;
    const collection = typeof command[event.commandName] === 'string' ? (command[event.commandName] as string) : undefined;
    const [host, port] = String(event.address).split(':');
    const span = tracer().startSpan(collection ? `${event.commandName} ${collection}` : event.commandName, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'mongodb',
        'db.operation.name': event.commandName,
        'db.namespace': event.databaseName,
        ...(collection ? { 'db.collection.name': collection } : {}),
        'server.address': host,
        ...(port ? { 'server.port': Number(port) } : {}),
      },
    });
    if (span.isRecording()) spans.set(event.requestId, span);
  });
  const end = (event: CommandSucceededEvent | CommandFailedEvent, err?: Error) => {
    const span = spans.get(event.requestId);
    if (!span) return;
    spans.delete(event.requestId);
    if (err) fail(span, err);
    span.end();
  };
  client.on('commandSucceeded', (event: CommandSucceededEvent) => end(event));
  client.on('commandFailed', (event: CommandFailedEvent) => end(event, event.failure));
}

function statementOf(strings: readonly string[]): string {
  const text = strings.reduce((acc, s, i) => (i === 0 ? s : `${acc}$${i}${s}`), '').trim();
  return text.length > MAX_STATEMENT_CHARS ? `${text.slice(0, MAX_STATEMENT_CHARS)}…` : text;
}

/**
 * Spans a postgres.js query when it runs. A query runs when first awaited (its `then`), so that is
 * where the span starts; `catch`/`finally` go through `then` too. A query never awaited (a fragment
 * spliced into another) gets no span.
 */
function traceQuery<Q extends PromiseLike<unknown>>(query: Q, strings: readonly string[]): Q {
  const run = query.then.bind(query) as PromiseLike<unknown>['then'];
  let settled: Promise<unknown> | undefined;
  Object.defineProperty(query, 'then', {
    configurable: true,
    writable: true,
    value(onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) {
      if (!settled) {
        const operation = /^\s*([a-z]+)/i.exec(strings[0] ?? '')?.[1]?.toUpperCase() ?? 'QUERY';
        const span = tracer().startSpan(operation, {
          kind: SpanKind.CLIENT,
          attributes: { 'db.system.name': 'postgresql', 'db.operation.name': operation },
        });
        // Every statement passes here: its text is only built when a tracer records it.
        if (span.isRecording()) span.setAttribute('db.query.text', statementOf(strings));
        settled = Promise.resolve(
          run(
            (rows) => {
              if (Array.isArray(rows)) span.setAttribute('db.response.returned_rows', rows.length);
              span.end();
              return rows;
            },
            (err: unknown) => {
              fail(span, err);
              span.end();
              throw err;
            },
          ),
        );
      }
      return settled.then(onFulfilled, onRejected);
    },
  });
  return query;
}

/**
 * `sql` with a span per statement (tagged templates and `unsafe`, which drizzle uses) and per
 * transaction (`begin`, whose statements are its children). Everything else passes through.
 */
export function tracedSql(sql: Sql): Sql {
  const wrap = (inner: Sql): Sql =>
    new Proxy(inner, {
      apply(target, thisArg, args: unknown[]) {
        const result = Reflect.apply(target, thisArg, args) as unknown;
        const strings = args[0] as { raw?: unknown } | undefined;
        // A tagged template is a query; `sql(value)` is a helper (identifier, list) and is left alone.
        return Array.isArray(strings) && Array.isArray(strings.raw) ? traceQuery(result as PromiseLike<unknown>, strings as string[]) : result;
      },
      get(target, prop, receiver) {
        if (prop === 'unsafe') {
          return (text: string, ...rest: unknown[]) => traceQuery((target.unsafe as (...a: unknown[]) => PromiseLike<unknown>)(text, ...rest), [text]);
        }
        if (prop === 'begin') {
          return (...args: unknown[]) => {
            const fn = args.pop() as (tx: Sql) => unknown;
            return inSpan('postgresql transaction', SpanKind.CLIENT, { 'db.system.name': 'postgresql' }, () =>
              (target.begin as (...a: unknown[]) => Promise<unknown>)(...args, (tx: Sql) => fn(wrap(tx))),
            );
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
  return wrap(sql);
}
