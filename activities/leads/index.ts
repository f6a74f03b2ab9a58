/**
 * Activities of the leads pipeline, built from the process's connections. The leads fetcher is the
 * engine's polite fetcher with what user-given URLs need on top: the SSRF guard on every hop and at
 * connect time, User-Agent and proxy rotation, per-domain pauses; one per process, like the others.
 */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import type { FetchConfig, LeadsConfig } from '../../schema/config';
import { activity } from '../engine/errors';
import { createFetcher, type Fetcher } from '../engine/fetcher';
import { createLeadsCrawlActivities, type LeadsCrawlDeps } from './crawl';
import { createLeadsSyncActivities, type SyncDeps } from './mailwizz';
import { createSsrfGuard } from './ssrf';
import { createLeadsValidateActivities, type MxChecker } from './validate';

export type { CrawlLeadsBatchResult, MapsTask, StartLeadsJobResult } from './crawl';
export type { SyncBatchResult } from './mailwizz';
export type { ValidateBatchResult } from './validate';
export type { JobCounts } from './store';

export interface LeadsDeps {
  sql: Sql;
  db: PostgresJsDatabase;
  fetcher: Fetcher;
  config: LeadsConfig;
  mx?: MxChecker;
  onPage?: LeadsCrawlDeps['onPage'];
  beforeCreate?: SyncDeps['beforeCreate'];
  clock?: () => number;
}

/** The fetcher leads jobs crawl with (user-given URLs: guarded), from the fetch and leads settings. */
export function createLeadsFetcher(fetchConfig: FetchConfig, leads: LeadsConfig): Fetcher {
  const guard = createSsrfGuard(leads.ssrfAllow);
  const hosts = { ...fetchConfig.hosts };
  for (const [host, delayMs] of Object.entries(leads.domainDelays)) hosts[host] = { ...hosts[host], delayMs };
  return createFetcher({
    userAgent: fetchConfig.userAgent,
    userAgents: leads.userAgents,
    proxies: leads.proxies,
    // Per-host overrides apply even with politeness off: a per-domain delay always holds.
    politeness: fetchConfig.politeness,
    hosts,
    robots: fetchConfig.robots,
    timeouts: fetchConfig.timeouts,
    maxBodyBytes: Math.min(fetchConfig.maxBodyBytes, 10 * 1024 * 1024),
    breaker: fetchConfig.breaker,
    guard: (url) => guard.check(url),
    lookup: guard.lookup,
  });
}

export function createLeadsActivities(deps: LeadsDeps) {
  const crawl = createLeadsCrawlActivities(deps);
  const validate = createLeadsValidateActivities(deps);
  const sync = createLeadsSyncActivities(deps);
  return Object.fromEntries(
    Object.entries({ ...crawl, ...validate, ...sync }).map(([name, fn]) => [name, activity(fn as (...a: unknown[]) => Promise<unknown>)]),
  ) as { [K in keyof (typeof crawl & typeof validate & typeof sync)]: (typeof crawl & typeof validate & typeof sync)[K] };
}

export type LeadsActivities = ReturnType<typeof createLeadsActivities>;
