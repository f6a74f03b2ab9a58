/**
 * The polite fetcher every crawler uses for HTML pages and documents: a cookie jar per session,
 * per-host politeness shared by all sessions (politeness.ts), robots.txt, long timeouts for slow
 * postbacks, a size limit on streamed bodies, and every failure classified into the error vocabulary
 * (errors.ts, fetcher-errors.ts). Redirects are followed here, hop by hop, so that each hop gets the
 * same treatment (cookies set on a 302, robots and politeness of the host redirected to).
 */
import type { LookupFunction } from 'node:net';
import type { Span } from '@opentelemetry/api';
import type { Sql } from 'postgres';
import { CookieJar } from 'tough-cookie';
import { AuthError, InvalidInputError, NotAvailableError, RateLimitedError, ResponseShapeError, RobotsDisallowedError, TransientError } from './errors';
import { decodeBody } from './fetcher-charset';
import { BlockedError, CircuitOpenError, ResponseTooLargeError, RobotsUnavailableError } from './fetcher-errors';
import { DEFAULT_ROBOTS, productToken, ROBOTS_MAX_BYTES, RobotsCache, type RobotsSettings } from './fetcher-robots';
import { createProxyRotation, createTransport } from './fetcher-transport';
import { parseRetryAfter, redactUrl } from './http';
import { httpRequests, rateLimitWait } from './metrics';
import { FleetHostLimiter } from './host-budget';
import { httpSpan } from './tracing';
import {
  type BreakerSettings,
  type Clock,
  DEFAULT_BREAKER,
  HostGuard,
  HostLimiter,
  type HostPoliteness,
  type HostTurns,
  politenessResolver,
  systemClock,
} from './politeness';

export { BlockedError, CircuitOpenError, ResponseTooLargeError, RobotsUnavailableError } from './fetcher-errors';
export type { Clock, HostPoliteness } from './politeness';

export const DEFAULT_USER_AGENT = 'moisson/0.1 (+https://github.com/moisson/moisson)';

export interface FetchResponse {
  status: number;
  /** The final URL, after redirects. */
  url: string;
  /** The URL asked for. */
  requestUrl: string;
  redirects: number;
  headers: Headers;
  contentType: string | undefined;
  body: Buffer;
  fetchedAt: Date;
  /** The body as text, in the charset the response declares (header, BOM or `<meta>`). */
  text(): string;
}

/**
 * A site-specific look at a response that HTTP calls fine (e.g. the WAF's "Request Rejected" page,
 * served with 200). Return an error to throw it instead of returning the response; a `BlockedError`
 * also counts towards the host's breaker.
 */
export type Classifier = (response: FetchResponse) => Error | undefined;

export interface FetcherOptions {
  /** Identifiable, with a contact: `moisson/0.1 (+https://… or mailto:…)`. */
  userAgent?: string;
  /** `false` switches concurrency, rate and pauses off (tests, benchmarks against replicas). */
  politeness?: false | Partial<HostPoliteness>;
  /** Per-host overrides of the politeness, keyed by host (`www.marchespublics.gov.ma`). */
  hosts?: Record<string, Partial<HostPoliteness>>;
  /**
   * The database through which every worker process shares one politeness budget per host (rate,
   * concurrency, pauses, Crawl-delay, cool-downs after a 429 or a block): `etl.host_budgets`. Without
   * it the budget is this process's own.
   */
  fleetBudget?: Sql;
  /** `false` ignores robots.txt (only for our own replicas). */
  robots?: false | Partial<RobotsSettings>;
  timeouts?: { connectMs?: number; totalMs?: number };
  maxBodyBytes?: number;
  breaker?: false | Partial<BreakerSettings>;
  /** The wait assumed when a 429 carries no Retry-After. */
  defaultRetryAfterMs?: number;
  maxRedirects?: number;
  /** Sent with every request (Accept-Language, …); per-request headers win. */
  headers?: Record<string, string>;
  classify?: Classifier;
  clock?: Clock;
  /**
   * Checked before every hop, redirects included: throw to refuse a URL without contacting it
   * (e.g. an SSRF guard on user-given URLs).
   */
  guard?: (url: URL) => Promise<void>;
  /** Name resolution for every connection (see TransportOptions.lookup). */
  lookup?: LookupFunction;
  /** User-Agents rotated per request instead of `userAgent` (robots.txt is still read as `userAgent`). */
  userAgents?: readonly string[];
  /** Forward proxies rotated per request (`http://user:pass@host:port`). */
  proxies?: readonly string[];
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Total time for this request (headers and body), once its turn has come. */
  timeoutMs?: number;
  /** Cancels the request and any wait for its turn (e.g. the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Statuses outside 2xx to return as responses instead of throwing (e.g. [404]). */
  accept?: readonly number[];
  /** Overrides the fetcher's classifier for this request; `false` switches it off. */
  classify?: Classifier | false;
  maxBodyBytes?: number;
}

export type FormBody = ReadonlyArray<readonly [string, string]> | URLSearchParams;

export interface FetchSession {
  readonly jar: CookieJar;
  get(url: string, opts?: RequestOptions): Promise<FetchResponse>;
  /** A form post (application/x-www-form-urlencoded, UTF-8), the way a browser submits a form. */
  post(url: string, form: FormBody, opts?: RequestOptions): Promise<FetchResponse>;
}

export interface Fetcher extends FetchSession {
  /** A new, isolated cookie jar (or the one given) sharing this fetcher's politeness, robots and breaker. */
  session(jar?: CookieJar): FetchSession;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUTS = { connectMs: 15_000, totalMs: 120_000 } as const;
export const DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024;
const DEFAULT_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Hop {
  status: number;
  headers: Headers;
  body: Buffer;
}

interface HopRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  maxBytes: number;
  /** robots.txt is cut at its limit rather than refused. */
  overflow: 'throw' | 'truncate';
  signal: AbortSignal | undefined;
}

export function createFetcher(options: FetcherOptions = {}): Fetcher {
  const clock = options.clock ?? systemClock;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxRedirects = options.maxRedirects ?? 10;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 60_000;
  const settingsFor = politenessResolver(options.politeness, options.hosts);
  const limiter: HostTurns = options.fleetBudget ? new FleetHostLimiter(options.fleetBudget, settingsFor, clock) : new HostLimiter(settingsFor, clock);
  const breaker = options.breaker === false ? { threshold: 0, coolDownMs: 0 } : { ...DEFAULT_BREAKER, ...options.breaker };
  const guard = new HostGuard(breaker, clock);
  const transport = createTransport({ connectMs: timeouts.connectMs, lookup: options.lookup });
  const proxies = createProxyRotation(options.proxies ?? [], { connectMs: timeouts.connectMs, lookup: options.lookup });
  const userAgents = options.userAgents?.length ? options.userAgents : undefined;
  let userAgentTurn = 0;

  /** One request on the wire, its turn taken from the host's limiter; counted, never thrown on status. */
  async function hop(req: HopRequest): Promise<Hop> {
    const host = req.url.host;
    const safeUrl = redactUrl(req.url.toString());
    const release = await limiter.acquire(host, req.signal, req.timeoutMs);
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let holdOffMs: number | undefined;
    const startedAt = clock.now();
    try {
      // The span covers the wire only: the politeness wait above is the limiter's, not the site's.
      const res = await httpSpan(req.method, req.url, safeUrl, (span) => send(req, { host, safeUrl, timeout, signal }, span));
      holdOffMs = retryAfterOf(res.status, res.headers);
      return res;
    } finally {
      // A Retry-After goes with the release: a shared budget must not hand the next turn out before it.
      await release(holdOffMs === undefined ? { startedAt } : { holdOffMs, startedAt });
    }
  }

  /** The wait a 429 (or a 503 with Retry-After) asks for; undefined for any other answer. */
  function retryAfterOf(status: number, headers: Headers): number | undefined {
    if (status !== 429 && !(status === 503 && headers.has('retry-after'))) return undefined;
    return parseRetryAfter(headers.get('retry-after'), clock.now()) ?? defaultRetryAfterMs;
  }

  async function send(req: HopRequest, ctx: { host: string; safeUrl: string; timeout: AbortSignal; signal: AbortSignal }, span: Span): Promise<Hop> {
    const { host, safeUrl, timeout, signal } = ctx;
    let res: Response;
    const route = proxies?.next();
    const dispatcher = route?.dispatcher ?? transport.dispatcher;
    try {
      res = await (route?.fetch ?? fetch)(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal,
        ...(dispatcher ? { dispatcher } : {}),
      } as RequestInit);
    } catch (err) {
      throw failure(err, 'request', { host, safeUrl, req, timeout });
    }
    let body: Buffer;
    try {
      body = await readBody(res, req.maxBytes, req.overflow, safeUrl);
    } catch (err) {
      if (err instanceof ResponseTooLargeError) {
        httpRequests().add(1, { host, status: 'too_large' });
        throw err;
      }
      throw failure(err, 'body', { host, safeUrl, req, timeout });
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    // fetch decodes gzip/br itself, and then Content-Length counts the encoded bytes, not ours.
    if (!res.headers.has('content-encoding') && Number.isFinite(declared) && req.overflow === 'throw' && body.length !== declared) {
      httpRequests().add(1, { host, status: 'truncated' });
      throw new TransientError('truncated', `${safeUrl} sent ${body.length} bytes of the ${declared} announced`, { url: safeUrl, host });
    }
    httpRequests().add(1, { host, status: String(res.status) });
    span.setAttribute('http.response.status_code', res.status);
    return { status: res.status, headers: res.headers, body };
  }

  function failure(err: unknown, phase: 'request' | 'body', ctx: { host: string; safeUrl: string; req: HopRequest; timeout: AbortSignal }): unknown {
    // The caller cancelled: not a fault of the site, let the cancellation through as it is.
    if (ctx.req.signal?.aborted) return ctx.req.signal.reason ?? err;
    const details = { url: ctx.safeUrl, host: ctx.host };
    const code = errorCode(err);
    if (ctx.timeout.aborted) {
      httpRequests().add(1, { host: ctx.host, status: 'timeout' });
      const what = phase === 'request' ? 'no answer from' : 'the body of';
      return new TransientError('timeout', `${what} ${ctx.safeUrl} ${phase === 'request' ? 'within' : 'not complete after'} ${ctx.req.timeoutMs} ms`, details);
    }
    if (code === 'UND_ERR_CONNECT_TIMEOUT') {
      httpRequests().add(1, { host: ctx.host, status: 'timeout' });
      return new TransientError('timeout', `could not connect to ${ctx.host} within ${timeouts.connectMs} ms`, details);
    }
    const cause = causeMessage(err);
    if (phase === 'body') {
      httpRequests().add(1, { host: ctx.host, status: 'truncated' });
      return new TransientError('truncated', `the connection to ${ctx.host} broke while reading ${ctx.safeUrl}: ${cause}`, details);
    }
    httpRequests().add(1, { host: ctx.host, status: 'network_error' });
    return new TransientError('network', `request to ${ctx.safeUrl} failed: ${cause}`, { ...details, code });
  }

  const robots =
    options.robots === false
      ? undefined
      : new RobotsCache(
          async (url) => {
            const res = await hop({
              method: 'GET',
              url: new URL(url),
              headers: { 'user-agent': userAgent, accept: 'text/plain,*/*;q=0.5' },
              body: undefined,
              timeoutMs: Math.min(timeouts.totalMs, 30_000),
              maxBytes: ROBOTS_MAX_BYTES,
              overflow: 'truncate',
              signal: undefined,
            });
            return { status: res.status, location: res.headers.get('location'), contentType: res.headers.get('content-type'), body: decodeBody(res.body, res.headers.get('content-type')) };
          },
          productToken(userAgent),
          { ...DEFAULT_ROBOTS, ...options.robots },
          clock,
        );

  /** Refuses at once, without a request, what the breaker, a Retry-After or robots.txt forbids. */
  async function admit(url: URL, safeUrl: string): Promise<void> {
    const host = url.host;
    const admission = guard.admit(host);
    if (admission?.state === 'open') {
      const waitMs = Math.max(0, admission.untilMs - clock.now());
      throw new CircuitOpenError(
        `${host} blocked us ${admission.blocks} times in a row (403/429): not contacting it again for ${Math.ceil(waitMs / 1000)} s`,
        waitMs,
        { url: safeUrl, host },
      );
    }
    if (admission?.state === 'retry-after') {
      const waitMs = Math.max(0, admission.untilMs - clock.now());
      throw new RateLimitedError(`${host} asked us to wait; ${Math.ceil(waitMs / 1000)} s left`, waitMs, { url: safeUrl, host });
    }
    if (!robots) return;
    const verdict = await robots.check(url);
    if (verdict.allowed) {
      if (verdict.crawlDelayMs !== undefined) limiter.setFloorInterval(host, verdict.crawlDelayMs);
      return;
    }
    if (verdict.reason === 'disallowed') throw new RobotsDisallowedError(`robots.txt of ${host} disallows ${safeUrl}`, { url: safeUrl, host });
    throw new RobotsUnavailableError(`${verdict.why}: treating ${host} as disallowed for now (RFC 9309)`, verdict.retryAfterMs, { url: safeUrl, host });
  }

  /**
   * A 403 or a block page: counts towards this process's breaker, and with a shared budget slows every
   * worker too (doubling per consecutive block, up to the breaker's cool-down once it opens). A 429's
   * own Retry-After was already shared with its release (`shared: false`).
   */
  async function blocked(host: string, shared = true): Promise<{ breakerOpened: boolean }> {
    const breakerOpened = guard.blocked(host);
    if (limiter.holdOff && (breakerOpened || shared)) {
      const ms = breakerOpened ? breaker.coolDownMs : Math.min(breaker.coolDownMs, 1000 * 2 ** Math.min(20, guard.blocks(host) - 1));
      await limiter.holdOff(host, ms);
    }
    return { breakerOpened };
  }

  async function request(jar: CookieJar, method: 'GET' | 'POST', url: string, form: string | undefined, opts: RequestOptions): Promise<FetchResponse> {
    const requestUrl = url;
    let current = parseUrl(url);
    let currentMethod = method;
    let body = form;
    let redirects = 0;
    for (;;) {
      const safeUrl = redactUrl(current.toString());
      const host = current.host;
      // Before robots.txt too: a refused target gets no request at all.
      if (options.guard) await options.guard(current);
      await admit(current, safeUrl);
      const agent = userAgents ? userAgents[userAgentTurn++ % userAgents.length]! : userAgent;
      const headers: Record<string, string> = { 'user-agent': agent, accept: DEFAULT_ACCEPT, ...options.headers, ...opts.headers };
      const cookie = await jar.getCookieString(current.toString());
      if (cookie) headers.cookie = cookie;
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded; charset=UTF-8';
      const res = await hop({
        method: currentMethod,
        url: current,
        headers,
        body,
        timeoutMs: opts.timeoutMs ?? timeouts.totalMs,
        maxBytes: opts.maxBodyBytes ?? maxBodyBytes,
        overflow: 'throw',
        signal: opts.signal,
      });
      for (const setCookie of res.headers.getSetCookie()) {
        await jar.setCookie(setCookie, current.toString(), { ignoreError: true });
      }
      const location = res.headers.get('location');
      if (REDIRECTS.has(res.status) && location) {
        guard.answered(host);
        if (redirects >= maxRedirects) {
          throw new ResponseShapeError(`${redactUrl(requestUrl)} redirects more than ${maxRedirects} times (last: ${safeUrl})`, { url: safeUrl });
        }
        redirects++;
        current = parseUrl(new URL(location, current).toString());
        // As browsers do: 303, and 301/302 after a POST, continue as a GET without the form.
        if (res.status === 303 || (currentMethod === 'POST' && (res.status === 301 || res.status === 302))) {
          currentMethod = 'GET';
          body = undefined;
        }
        continue;
      }
      const contentType = res.headers.get('content-type') ?? undefined;
      let text: string | undefined;
      const response: FetchResponse = {
        status: res.status,
        url: current.toString(),
        requestUrl,
        redirects,
        headers: res.headers,
        contentType,
        body: res.body,
        fetchedAt: new Date(clock.now()),
        text: () => (text ??= decodeBody(res.body, contentType)),
      };
      const classify = opts.classify === false ? undefined : (opts.classify ?? options.classify);
      await checkStatus(response, host, safeUrl, opts.accept ?? []);
      const verdict = classify?.(response);
      if (verdict) {
        if (verdict instanceof BlockedError) Object.assign(verdict.details, { host, ...(await blocked(host)) });
        else guard.answered(host);
        throw verdict;
      }
      guard.answered(host);
      return response;
    }
  }

  /** Throws for the statuses that have a meaning in the vocabulary; returns for 2xx and accepted ones. */
  async function checkStatus(res: FetchResponse, host: string, safeUrl: string, accept: readonly number[]): Promise<void> {
    const { status } = res;
    const details = { url: safeUrl, host, status };
    const retryAfterMs = retryAfterOf(status, res.headers);
    if (retryAfterMs !== undefined) {
      rateLimitWait().record(retryAfterMs / 1000, { host });
      guard.holdOff(host, retryAfterMs);
      const breaker = status === 429 ? await blocked(host, false) : (guard.answered(host), { breakerOpened: false });
      throw new RateLimitedError(`${host} answered ${status} to ${safeUrl}; it asks to wait ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs, {
        ...details,
        ...breaker,
      });
    }
    if (status === 403) {
      const breaker = await blocked(host);
      if (accept.includes(403)) return;
      throw new BlockedError(`${host} refused ${safeUrl} (403${titleOf(res)})${breaker.breakerOpened ? '; too many refusals: pausing this host' : ''}`, {
        ...details,
        ...breaker,
      });
    }
    if ((status >= 200 && status < 300) || accept.includes(status)) return;
    guard.answered(host);
    if (status >= 500) throw new TransientError('server', `${safeUrl} answered ${status}${titleOf(res)}`, details);
    if (status === 404 || status === 410) throw new NotAvailableError(`${safeUrl} does not exist (${status})`, details);
    if (status === 401) throw new AuthError(`${safeUrl} asks for credentials (401)`, details);
    if (status >= 400) throw new InvalidInputError(`${safeUrl} rejected the request (${status}${titleOf(res)})`, details);
    throw new ResponseShapeError(`${safeUrl} answered ${status}, which a page fetch does not expect`, details);
  }

  const makeSession = (jar: CookieJar): FetchSession => ({
    jar,
    get: (url, opts = {}) => request(jar, 'GET', url, undefined, opts),
    post: (url, form, opts = {}) => request(jar, 'POST', url, encodeForm(form), opts),
  });

  const main = makeSession(new CookieJar());
  return {
    ...main,
    session: (jar) => makeSession(jar ?? new CookieJar()),
    close: async () => {
      await Promise.all([transport.close(), proxies?.close()]);
    },
  };
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`not a URL: ${redactUrl(url)}`, { url: redactUrl(url) });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidInputError(`only http(s) URLs can be fetched, not ${parsed.protocol}`, { url: redactUrl(url) });
  }
  parsed.hash = '';
  return parsed;
}

function encodeForm(form: FormBody): string {
  return (form instanceof URLSearchParams ? form : new URLSearchParams(form.map(([k, v]): [string, string] => [k, v]))).toString();
}

/** Streams the body, never holding more than `limit` bytes. */
async function readBody(res: Response, limit: number, overflow: 'throw' | 'truncate', safeUrl: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (overflow === 'throw' && Number.isFinite(declared) && declared > limit && !res.headers.has('content-encoding')) {
    await res.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(`${safeUrl} announces ${declared} bytes, over the ${limit}-byte limit`, { url: safeUrl, limit, declared });
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      await reader.cancel().catch(() => undefined);
      if (overflow === 'truncate') {
        chunks.push(value.subarray(0, limit - size));
        size = limit;
        break;
      }
      throw new ResponseTooLargeError(`${safeUrl} is larger than the ${limit}-byte limit`, { url: safeUrl, limit });
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return Buffer.concat(chunks, size);
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function causeMessage(err: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error && messages.length < 3; e = e.cause) messages.push(e.message);
  return messages.join(': ') || String(err);
}

/** The page title helps tell a WAF page from a server error in a message, without dumping the page. */
function titleOf(res: FetchResponse): string {
  if (!res.contentType?.includes('html')) return '';
  const title = /<title[^>]*>([^<]{1,120})/i.exec(res.text().slice(0, 8192))?.[1]?.trim();
  return title ? `, "${title}"` : '';
}
