/**
 * Serialized responses of reads whose data changes at known moments: a response is built, checked
 * against its schema and serialized once per query; later requests for the same query are a lookup until
 * the data changes. PostgreSQL says when it changes, on a LISTEN channel:
 * - the statistics (STATS_REFRESHED_CHANNEL): materialized views that change only when a run refreshes
 *   them (activities/pmmp/runs.ts refreshStatsViews notifies in the refresh's transaction);
 * - the procurement reads (PMMP_DATA_CHANGED_CHANNEL): every statement writing a table they read notifies
 *   (statement triggers, drizzle/0031_pmmp_api_data_changed.sql). Those answers also depend on the clock
 *   (a consultation's statut turns `cloturee` when its deadline passes), so they are kept `ttlMs` at most.
 * The cache empties on each notification, and whenever the listening connection (re)connects, since
 * notifications sent while it was down are lost. A write is seen once its notification arrives (the
 * commit, plus delivery over the listening connection: milliseconds); an answer built from data read
 * before a notification is served to its own request but never kept.
 */
import { LRUCache } from 'lru-cache';
import type postgres from 'postgres';
import type { ResponseContract } from './contract-serializer';

export const STATS_REFRESHED_CHANNEL = 'pmmp_stats_refreshed';
export const PMMP_DATA_CHANGED_CHANNEL = 'pmmp_data_changed';

export interface ResponseCacheOptions {
  /** Bytes of serialized bodies kept (the least recently used go first); 0: nothing is kept. */
  maxBytes: number;
  /** How long an answer is kept at most; undefined: until the next notification. */
  ttlMs?: number;
}

export interface ResponseCacheCounts {
  hits: number;
  misses: number;
  invalidations: number;
}

export class ResponseCache {
  private readonly entries: LRUCache<string, string> | undefined;
  /** Bumped on each invalidation: a body built from data read before it is not kept. */
  private generation = 0;
  private listening: Promise<unknown> | undefined;
  readonly counts: ResponseCacheCounts = { hits: 0, misses: 0, invalidations: 0 };

  constructor(
    private readonly sql: postgres.Sql,
    private readonly channel: string,
    opts: ResponseCacheOptions,
  ) {
    this.entries = opts.maxBytes <= 0 ? undefined : new LRUCache<string, string>({
      maxSize: opts.maxBytes,
      // UTF-16 code units: close enough to bytes for the budget, and free to compute.
      sizeCalculation: (body) => Math.max(1, body.length),
      ...(opts.ttlMs ? { ttl: opts.ttlMs, ttlAutopurge: false } : {}),
    });
  }

  /**
   * The JSON body for `key`: cached, or built by `build` and serialized by `serialize` (the route's
   * contract, compiled when it registered: api/contract-serializer.ts), then cached.
   */
  async get<T>(key: string, serialize: ResponseContract<T>, build: () => Promise<T>): Promise<string> {
    if (!this.entries) return serialize(await build());
    await this.listen();
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.counts.hits += 1;
      return hit;
    }
    this.counts.misses += 1;
    const generation = this.generation;
    const body = serialize(await build());
    if (generation === this.generation) this.entries.set(key, body);
    return body;
  }

  invalidate(): void {
    this.generation += 1;
    this.counts.invalidations += 1;
    this.entries?.clear();
  }

  /** Until the first LISTEN succeeds nothing is cached: a change could be missed otherwise. */
  private async listen(): Promise<void> {
    this.listening ??= this.sql
      .listen(
        this.channel,
        () => this.invalidate(),
        () => this.invalidate(),
      )
      .catch((err: unknown) => {
        this.listening = undefined;
        throw err;
      });
    await this.listening;
  }
}

/**
 * The key of a read: its route and its parsed parameters in a fixed order, so `?a=1&b=2` and
 * `?b=2&a=1` (or `limit` given or defaulted) are the same answer.
 */
export function readKey(route: string, ...parts: Record<string, unknown>[]): string {
  const merged: Record<string, unknown> = Object.assign({}, ...parts);
  const keys = Object.keys(merged).filter((k) => merged[k] !== undefined).sort();
  return `${route} ${JSON.stringify(keys.map((k) => [k, merged[k]]))}`;
}
