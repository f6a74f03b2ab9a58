/**
 * One request budget per bucket (an API token, a public service), shared by every activity of every
 * worker process through PostgreSQL: before a request leaves, a short transaction locks the bucket's
 * `<schema>.rate_limits` row and admits it only when the `limit`-th most recent request of
 * `<schema>.rate_limit_sends` was answered a whole window (plus a margin) ago, on the database clock; the request's row is stamped again when its
 * answer comes back. An answer comes after the source saw the request, so every window at the source
 * holds at most `limit` of our requests, whichever process sent them and however late its event loop was.
 *
 * The source's own signals push `next_slot` (the earliest next send) later: a 429's `retry-after` holds
 * every worker back, and `ratelimit-remaining` requests left until `ratelimit-reset` are spread out when
 * that is fewer than ours (another client on the same token).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from 'postgres';
import { rateLimitWait } from './metrics';

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

/** A request admitted by the limiter: `done()` stamps when its answer came back. */
export interface Permit {
  done(): Promise<void>;
}

export class SharedRateLimiter {
  /** The average spacing at full speed, for deciding when the source's headers ask for more. */
  readonly intervalMs: number;
  readonly stats: LimiterStats = { acquired: 0, waitedMs: 0, pushedByHeaders: 0, throttled: 0 };

  private readonly limits: string;
  private readonly sends: string;

  /**
   * `schema` holds the pipeline's `rate_limits` and `rate_limit_sends` tables (the columns of
   * `apisync.rate_limits` / `apisync.rate_limit_sends`): each pipeline keeps its own, the logic is shared.
   */
  constructor(
    private readonly sql: Sql,
    schema: string,
    readonly bucket: string,
    private readonly settings: RateLimitSettings,
    private readonly host = bucket.split(':')[0] ?? bucket,
  ) {
    this.intervalMs = (settings.windowMs + settings.marginMs) / settings.requests;
    this.limits = `${schema}.rate_limits`;
    this.sends = `${schema}.rate_limit_sends`;
  }

  /** Waits until a request may leave, and admits it. */
  async acquire(signal?: AbortSignal): Promise<Permit> {
    const spanMs = this.settings.windowMs + this.settings.marginMs;
    for (;;) {
      const decision: { waitMs: number } | { id: string } = await this.sql.begin(async (tx): Promise<{ waitMs: number } | { id: string }> => {
        await tx`insert into ${tx(this.limits)} (bucket) values (${this.bucket}) on conflict (bucket) do nothing`;
        const [limit] = await tx<{ wait_ms: number }[]>`
          select greatest(0, extract(epoch from (next_slot - clock_timestamp())) * 1000)::float8 as wait_ms
            from ${tx(this.limits)} where bucket = ${this.bucket} for update`;
        const [oldest] = await tx<{ wait_ms: number }[]>`
          select greatest(0, extract(epoch from (sent_at - clock_timestamp())) * 1000 + ${spanMs}::float8)::float8 as wait_ms
            from ${tx(this.sends)} where bucket = ${this.bucket}
           order by sent_at desc offset ${this.settings.requests - 1} limit 1`;
        const waitMs = Math.max(limit?.wait_ms ?? 0, oldest?.wait_ms ?? 0);
        if (waitMs > 0) return { waitMs };
        const [sent] = await tx<{ id: string }[]>`insert into ${tx(this.sends)} (bucket, sent_at) values (${this.bucket}, clock_timestamp()) returning id`;
        await tx`delete from ${tx(this.sends)} where bucket = ${this.bucket} and sent_at < clock_timestamp() - ${4 * spanMs}::float8 * interval '1 millisecond'`;
        return { id: sent!.id };
      });
      if ('id' in decision) {
        this.stats.acquired++;
        return { done: () => this.stamp(decision.id) };
      }
      this.stats.waitedMs += decision.waitMs;
      await sleep(Math.ceil(decision.waitMs), undefined, signal ? { signal } : {});
    }
  }

  private async stamp(id: string): Promise<void> {
    await this.sql`update ${this.sql(this.sends)} set sent_at = clock_timestamp() where id = ${id}`;
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
      update ${this.sql(this.limits)}
         set next_slot = greatest(next_slot, clock_timestamp() + ${gapMs}::float8 * interval '1 millisecond'),
             last_remaining = ${Math.max(0, Math.trunc(remaining))}, last_reset_at = to_timestamp(${reset}), updated_at = now()
       where bucket = ${this.bucket}`;
  }

  /** A 429: nobody on this bucket sends anything before `retryAfterMs` has passed. */
  async throttle(retryAfterMs: number): Promise<void> {
    this.stats.throttled++;
    rateLimitWait().record(retryAfterMs / 1000, { host: this.host });
    await this.sql`
      update ${this.sql(this.limits)}
         set next_slot = greatest(next_slot, clock_timestamp() + ${retryAfterMs}::float8 * interval '1 millisecond'),
             throttled_until = clock_timestamp() + ${retryAfterMs}::float8 * interval '1 millisecond',
             throttles = throttles + 1, updated_at = now()
       where bucket = ${this.bucket}`;
  }
}
