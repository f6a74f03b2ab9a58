/**
 * Trace spans below the activity: one CLIENT span per HTTP request the engine fetcher puts on the wire
 * (fetcher.ts) and one per PostgreSQL statement and transaction (`tracedSql`, applied by
 * engine/db.ts). They are children of the activity's span (the SDK's interceptor makes it the active
 * one), so a slow activity shows which request or which statement it waited on. Without a tracer
 * provider (the API, scripts) the API's no-op tracer makes them free.
 *
 * What goes into attributes: the redacted URL, the host, the status; a statement's text (its
 * placeholders, never its parameters, which may be contact data).
 */
import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Sql } from 'postgres';

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

/** The span of one HTTP request (one hop of a redirect chain), named by its method as the conventions ask. */
export function httpSpan<T>(method: string, url: URL, safeUrl: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return inSpan(
    method,
    SpanKind.CLIENT,
    {
      'http.request.method': method,
      'url.full': safeUrl,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    },
    fn,
  );
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
