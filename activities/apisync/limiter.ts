/**
 * The apisync request budget: one bucket per API token, in `apisync.rate_limits` /
 * `apisync.rate_limit_sends`, through the engine's shared PostgreSQL limiter (activities/engine/rate-limiter).
 */
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { SharedRateLimiter as EngineRateLimiter, type RateLimitSettings } from '../engine/rate-limiter';

export type { LimiterStats, Permit, RateLimitSettings } from '../engine/rate-limiter';

/**
 * The bucket key: the source and a hash of its token (the token never reaches the database).
 * The API's limit is per token: two source definitions reading the same API with the same token (a second
 * stream set, a test source) share one bucket. The token itself never leaves this process.
 */
export function bucketKey(baseUrl: string, token: string): string {
  return `${new URL(baseUrl).host}:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

export class SharedRateLimiter extends EngineRateLimiter {
  constructor(sql: Sql, bucket: string, settings: RateLimitSettings, host?: string) {
    super(sql, 'apisync', bucket, settings, host);
  }
}
