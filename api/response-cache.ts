/**
 * Serialized responses of data that changes at known moments only: the statistics, read from
 * materialized views that change when a run refreshes them (activities/pmmp/runs.ts refreshStatsViews,
 * which notifies STATS_REFRESHED_CHANNEL in the refresh's transaction). A response is built, validated
 * against its schema and serialized once per query; every later request for it is a lookup. The cache
 * empties on each notification, and whenever the listening connection (re)connects, since
 * notifications sent while it was down are lost.
 */
import type postgres from 'postgres';
import type { z } from 'zod';

export const STATS_REFRESHED_CHANNEL = 'pmmp_stats_refreshed';

export class ResponseCache {
  private readonly entries = new Map<string, string>();
  /** Bumped on each invalidation: a body built from data read before it is not kept. */
  private generation = 0;
  private listening: Promise<unknown> | undefined;

  constructor(
    private readonly sql: postgres.Sql,
    private readonly channel: string,
    /** Distinct queries kept; the oldest goes first (filters are bounded, so this is rarely reached). */
    private readonly maxEntries = 2_000,
  ) {}

  /** The JSON body for `key`: cached, or built by `build`, checked against `schema`, then cached. */
  async get<S extends z.ZodType>(key: string, schema: S, build: () => Promise<z.input<S>>): Promise<string> {
    await this.listen();
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const body = JSON.stringify(schema.parse(await build()));
    if (generation !== this.generation) return body;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, body);
    return body;
  }

  invalidate(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /** Until the first LISTEN succeeds nothing is cached: a refresh could be missed otherwise. */
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
