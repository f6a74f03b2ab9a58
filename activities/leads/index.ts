/**
 * Activities of the leads pipeline: plain `(deps, input)` functions of crawl.ts, validate.ts and
 * mailwizz.ts, bound here to the process's connections. The leads fetcher is the
 * engine's polite fetcher with what user-given URLs need on top: the SSRF guard on every hop and at
 * connect time, User-Agent and proxy rotation, per-domain pauses; one per process, like the others.
 */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import type { LeadsConfig } from '../../schema/config';
import { bindActivities } from '../engine/bind';
import type { Fetcher } from '../engine/fetcher';
import { leadsCrawlActivities, type LeadsCrawlDeps } from './crawl';
import { leadsSyncActivities, type SyncDeps } from './mailwizz';
import { createMxChecker, leadsValidateActivities, type MxChecker } from './validate';

export type { CrawlLeadsBatchResult, MapsTask, StartLeadsJobResult } from './crawl';
export type { SyncBatchResult } from './mailwizz';
export type { ValidateBatchResult } from './validate';
export type { JobCounts } from './store';
// The worker imports the fetcher from its own file: it builds it at start, the activities load on first use.
export { createLeadsFetcher } from './fetcher';

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
