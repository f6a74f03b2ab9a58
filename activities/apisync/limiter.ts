/**
 * One request budget per API token, shared by every activity of every worker process through a row of
 * `apisync.rate_limits`: each request reserves the next slot with one atomic UPDATE … RETURNING on the
 * database clock, then sleeps until it. Slots are `(window + margin) / limit` apart, so no window of the
 * source's length can ever hold more than `limit` of our requests, whichever of the workers sent them.
 *
 * The source's own headers push the next slot later when they say the budget is lower than ours
 * (another client on the same token): `ratelimit-remaining` left until `ratelimit-reset` are spread out,
 * and a 429's `retry-after` holds every worker back.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import { rateLimitWait } from '../engine/metrics';

export interface RateLimitSettings {
  requests: number;
  windowMs: number;
  marginMs: number;
}

export interface LimiterStats {
  acquired: number;
  waitedMs: number;
  pushedByHeaders: number;
  throttled: number;
}

/** The bucket key: the source and a hash of its token (the token never reaches the database). */
export function bucketKey(source: string, token: string): string {
  return `${source}:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

export class SharedRateLimiter {
  readonly intervalMs: number;
  readonly stats: LimiterStats = { acquired: 0, waitedMs: 0, pushedByHeaders: 0, throttled: 0 };

  constructor(
    private readonly sql: Sql,
    readonly bucket: string,
    private readonly settings: RateLimitSettings,
    private readonly host = bucket.split(':')[0] ?? bucket,
  ) {
    this.intervalMs = (settings.windowMs + settings.marginMs) / settings.requests;
  }

  /**
   * Waits for this request's slot, and again if a 429 arrived meanwhile: a slot reserved before the
   * source said "wait" must not be used inside its retry-after.
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      await this.reserve(signal);
      const [row] = await this.sql<{ blocked: boolean }[]>`
        select coalesce(throttled_until > clock_timestamp(), false) as blocked from apisync.rate_limits where bucket = ${this.bucket}`;
      if (!row?.blocked) return;
    }
  }

  private async reserve(signal?: AbortSignal): Promise<void> {
    const [row] = await this.sql<{ wait_ms: number }[]>`
      insert into apisync.rate_limits as r (bucket, next_slot) values (${this.bucket}, clock_timestamp() + ${this.intervalMs}::float8 * interval '1 millisecond')
      on conflict (bucket) do update
        set next_slot = greatest(r.next_slot, clock_timestamp()) + ${this.intervalMs}::float8 * interval '1 millisecond', updated_at = now()
      returning greatest(0, extract(epoch from (r.next_slot - clock_timestamp())) * 1000 - ${this.intervalMs}::float8)::float8 as wait_ms`;
    const waitMs = row?.wait_ms ?? 0;
    this.stats.acquired++;
    if (waitMs > 0) {
      this.stats.waitedMs += waitMs;
      await sleep(waitMs, undefined, signal ? { signal } : {});
    }
  }

  /**
   * Reads `ratelimit-remaining` / `ratelimit-reset` (a Unix time in seconds): when fewer requests remain
   * than our spacing would send before the reset, the next slot moves so the rest are spread until then.
   */
  async observe(headers: Headers): Promise<void> {
    const remaining = Number(headers.get('ratelimit-remaining'));
    const reset = Number(headers.get('ratelimit-reset'));
    if (!headers.has('ratelimit-remaining') || !Number.isFinite(remaining) || !Number.isFinite(reset)) return;
    // Capped at a window: a server clock far from ours must not stall the sync.
    const untilReset = Math.min(this.settings.windowMs, Math.max(0, reset * 1000 - Date.now()));
    const gapMs = untilReset / (Math.max(0, remaining) + 1);
    if (gapMs <= this.intervalMs) return;
    this.stats.pushedByHeaders++;
    await this.sql`
      update apisync.rate_limits
         set next_slot = greatest(next_slot, clock_timestamp() + ${gapMs}::float8 * interval '1 millisecond'),
             last_remaining = ${Math.max(0, Math.trunc(remaining))}, last_reset_at = to_timestamp(${reset}), updated_at = now()
       where bucket = ${this.bucket}`;
  }

  /** A 429: nobody on this token sends anything before `retryAfterMs` has passed. */
  async throttle(retryAfterMs: number): Promise<void> {
    this.stats.throttled++;
    rateLimitWait().record(retryAfterMs / 1000, { host: this.host });
    await this.sql`
      update apisync.rate_limits
         set next_slot = greatest(next_slot, clock_timestamp() + ${retryAfterMs}::float8 * interval '1 millisecond'),
             throttled_until = clock_timestamp() + ${retryAfterMs}::float8 * interval '1 millisecond',
             throttles = throttles + 1, updated_at = now()
       where bucket = ${this.bucket}`;
  }
}
