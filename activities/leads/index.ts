/**
 * Activities of the leads pipeline: plain `(deps, input)` functions of crawl.ts, validate.ts and
 * mailwizz.ts, bound here to the process's connections. The leads fetcher is the
 * engine's polite fetcher with what user-given URLs need on top: the SSRF guard on every hop and at
 * connect time, User-Agent and proxy rotation, per-domain pauses; one per process, like the others.
 */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import type { FetchConfig, LeadsConfig } from '../../schema/config';
import { bindActivities } from '../engine/bind';
import { createFetcher, type Fetcher } from '../engine/fetcher';
import { leadsCrawlActivities, type LeadsCrawlDeps } from './crawl';
import { leadsSyncActivities, type SyncDeps } from './mailwizz';
import { createSsrfGuard } from './ssrf';
import { createMxChecker, leadsValidateActivities, type MxChecker } from './validate';

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

/** The leads activities as the worker registers them: the only place their deps are closed over. */
export function bindLeadsActivities(deps: LeadsDeps) {
  // One MX resolver per process (a test may give its own).
  const withMx = { ...deps, mx: deps.mx ?? createMxChecker(deps.sql, deps.config) };
  return {
    ...bindActivities(deps, leadsCrawlActivities),
    ...bindActivities(withMx, leadsValidateActivities),
    ...bindActivities(deps, leadsSyncActivities),
  };
}

export type LeadsActivities = ReturnType<typeof bindLeadsActivities>;
