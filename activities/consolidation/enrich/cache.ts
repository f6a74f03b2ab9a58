/**
 * The answer cache of the enrichment services, in PostgreSQL so every worker shares it: an answer is
 * reused until it is `ttlMs` old (30 days by default), keyed by service and the normalised request.
 */
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';

export type CacheService = 'ban.geocode' | 'ban.search' | 'entreprises.search';

export interface CacheStats {
  hits: number;
  misses: number;
}

/** A stable key for a request: the hash of its normalised JSON (keys sorted). */
export function requestKey(request: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

export class EnrichCache {
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs: number,
  ) {}

  /** The cached answers of these requests still fresh, by key. */
  async getMany<T>(service: CacheService, keys: string[]): Promise<Map<string, T>> {
    if (keys.length === 0) return new Map();
    const rows = await this.sql<{ request_key: string; response: T }[]>`
      select request_key, response from consolidation.enrich_cache
       where service = ${service} and request_key = any(${keys}::text[]) and expires_at > now()`;
    const found = new Map(rows.map((r) => [r.request_key, r.response]));
    this.stats.hits += found.size;
    this.stats.misses += new Set(keys).size - found.size;
    return found;
  }

  async get<T>(service: CacheService, key: string): Promise<T | undefined> {
    return (await this.getMany<T>(service, [key])).get(key);
  }

  async putMany(service: CacheService, entries: { key: string; request: Record<string, unknown>; response: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    const unique = [...new Map(entries.map((e) => [e.key, e])).values()];
    await this.sql`
      insert into consolidation.enrich_cache (service, request_key, request, response, fetched_at, expires_at)
      select ${service}, k, r, a, now(), now() + ${this.ttlMs}::float8 * interval '1 millisecond'
        from unnest(${unique.map((e) => e.key)}::text[], ${unique.map((e) => JSON.stringify(e.request))}::jsonb[], ${unique.map((e) => JSON.stringify(e.response))}::jsonb[]) as t(k, r, a)
      on conflict (service, request_key) do update
        set request = excluded.request, response = excluded.response, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`;
  }

  /** Drops answers past their age (a Schedule's cleanup). */
  async purgeExpired(): Promise<number> {
    const res = await this.sql`delete from consolidation.enrich_cache where expires_at <= now()`;
    return res.count;
  }
}
