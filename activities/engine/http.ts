/**
 * JSON over HTTP for API sources: one timeout, every failure classified into the error vocabulary,
 * every request counted. Secrets in query strings never reach messages or metrics.
 */
import { AuthError, InvalidInputError, NotAvailableError, RateLimitedError, TransientError } from './errors';
import { httpRequests, rateLimitWait } from './metrics';

const SECRET_PARAM = /key|token|secret|signature|password/i;

/** The URL as it may be logged: secret query parameters masked. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, '***');
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/([?&][^=&]*(?:key|token|secret)[^=&]*=)[^&]*/gi, '$1***');
  }
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Counts one request to a source in `moisson_http_requests_total` (by host and status, or `timeout` /
 * `network_error` when no answer came), and a 429's wait in `moisson_rate_limit_wait_seconds`: for the
 * HTTP clients outside the engine fetcher and `requestJson` (downloads, enrichment services).
 */
export function countHttpRequest(url: string, outcome: { status: number; retryAfterMs?: number } | { error: unknown }): void {
  const host = new URL(url).host;
  if ('error' in outcome) {
    const err = outcome.error;
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    httpRequests().add(1, { host, status: timedOut ? 'timeout' : 'network_error' });
    return;
  }
  httpRequests().add(1, { host, status: String(outcome.status) });
  if (outcome.status === 429 && outcome.retryAfterMs !== undefined) rateLimitWait().record(outcome.retryAfterMs / 1000, { host });
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
  url: string;
}

export interface RequestJsonOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Used when a 429 carries no Retry-After. */
  defaultRetryAfterMs?: number;
  userAgent?: string;
}

const DEFAULT_USER_AGENT = 'moisson/0.1 (+https://github.com/moisson/moisson)';

export async function requestJson(url: string, opts: RequestJsonOptions): Promise<JsonResponse> {
  const safeUrl = redactUrl(url);
  const host = new URL(url).host;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', 'user-agent': opts.userAgent ?? DEFAULT_USER_AGENT, ...opts.headers },
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: 'follow',
    });
    text = await res.text();
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    httpRequests().add(1, { host, status: timedOut ? 'timeout' : 'network_error' });
    if (timedOut) throw new TransientError('timeout', `no answer from ${safeUrl} within ${opts.timeoutMs} ms`, { url: safeUrl });
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new TransientError('network', `request to ${safeUrl} failed${cause || `: ${String(err)}`}`, { url: safeUrl });
  }
  httpRequests().add(1, { host, status: String(res.status) });
  const snippet = text.slice(0, 300);
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after')) ?? opts.defaultRetryAfterMs ?? 60_000;
    rateLimitWait().record(retryAfterMs / 1000, { host });
    throw new RateLimitedError(`${host} rate-limited us (429); it asks to wait ${Math.round(retryAfterMs / 1000)} s`, retryAfterMs, { url: safeUrl });
  }
  if (res.status >= 500) throw new TransientError('server', `${safeUrl} answered ${res.status}: ${snippet}`, { url: safeUrl, status: res.status });
  if (res.status === 401 || res.status === 403) throw new AuthError(`${safeUrl} refused our credentials (${res.status}): ${snippet}`, { url: safeUrl, status: res.status });
  if (res.status === 404) throw new NotAvailableError(`${safeUrl} does not exist (404)`, { url: safeUrl, status: 404 });
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // A body cut short is the usual cause; a retry usually gets the whole of it.
    throw new TransientError('truncated', `${safeUrl} answered ${res.status} with a body that is not valid JSON (${text.length} bytes): ${snippet.slice(0, 120)}`, {
      url: safeUrl,
      status: res.status,
    });
  }
  if (res.status >= 400) throw new InvalidInputError(`${safeUrl} rejected the request (${res.status}): ${snippet}`, { url: safeUrl, status: res.status, body });
  return { status: res.status, headers: res.headers, body, url: safeUrl };
}
