/**
 * One request to an enrichment service through the budget every worker shares (the engine's PostgreSQL
 * limiter, one bucket per service): a 429 holds every worker back for the server's Retry-After and the
 * request is tried again in place, as are 5xx answers and network failures, up to `attempts`; what is
 * still failing then goes to Temporal in the engine's error vocabulary.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import { InvalidInputError, NotAvailableError, RateLimitedError, TransientError } from '../../engine/errors';
import { countHttpRequest } from '../../engine/http';
import { SharedRateLimiter } from '../../engine/rate-limiter';

export interface ServiceSettings {
  /** The bucket of the shared budget (`ban`, `entreprises`). */
  bucket: string;
  ratePerSecond: number;
  marginMs: number;
  timeoutMs: number;
  attempts: number;
}

export interface ServiceStats {
  requests: number;
  throttled: number;
  retried: number;
}

/** Retry-After in seconds or an HTTP date; one second when absent or unreadable. */
export function retryAfterMs(header: string | null): number {
  if (!header) return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 1000;
}

export class ServiceClient {
  readonly limiter: SharedRateLimiter;
  readonly stats: ServiceStats = { requests: 0, throttled: 0, retried: 0 };

  constructor(
    sql: Sql,
    private readonly settings: ServiceSettings,
  ) {
    this.limiter = new SharedRateLimiter(sql, 'consolidation', settings.bucket, { requests: settings.ratePerSecond, windowMs: 1000, marginMs: settings.marginMs });
  }

  /** Sends the request (built afresh for each try: a multipart body cannot be sent twice) and returns a 2xx answer. */
  async send(what: string, build: () => { url: string; init?: RequestInit }, signal?: AbortSignal): Promise<Response> {
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= this.settings.attempts; attempt++) {
      const permit = await this.limiter.acquire(signal);
      const { url, init } = build();
      let res: Response;
      try {
        this.stats.requests++;
        res = await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.settings.timeoutMs)]) : AbortSignal.timeout(this.settings.timeoutMs) });
      } catch (err) {
        await permit.done();
        if (signal?.aborted) throw err;
        countHttpRequest(url, { error: err });
        const timeout = (err as Error).name === 'TimeoutError';
        lastError = new TransientError(timeout ? 'timeout' : 'network', `${what}: ${timeout ? 'no answer in time' : `cannot reach ${new URL(url).host}`} (${(err as Error).message})`);
        this.stats.retried++;
        await sleep(Math.min(30_000, 250 * 2 ** attempt), undefined, signal ? { signal } : {});
        continue;
      }
      await permit.done();
      const waitMs = res.status === 429 ? retryAfterMs(res.headers.get('retry-after')) : undefined;
      countHttpRequest(url, { status: res.status, ...(waitMs !== undefined ? { retryAfterMs: waitMs } : {}) });
      if (res.ok) return res;
      const body = (await res.text().catch(() => '')).slice(0, 300);
      if (waitMs !== undefined) {
        this.stats.throttled++;
        await this.limiter.throttle(waitMs);
        lastError = new RateLimitedError(`${what}: rate limited (429)`, waitMs);
        continue;
      }
      if (res.status >= 500) {
        this.stats.retried++;
        lastError = new TransientError('server', `${what}: ${res.status} ${body}`, { status: res.status });
        await sleep(Math.min(30_000, 250 * 2 ** attempt), undefined, signal ? { signal } : {});
        continue;
      }
      if (res.status === 404) throw new NotAvailableError(`${what}: 404 ${body}`, { status: 404 });
      throw new InvalidInputError(`${what}: the service refused the request (${res.status}): ${body}`, { status: res.status });
    }
    throw lastError ?? new TransientError('server', `${what}: no attempt made`);
  }
}
