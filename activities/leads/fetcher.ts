/**
 * The fetcher leads jobs crawl with, apart from the activities (activities/leads/index.ts) so that the
 * worker builds it at start without importing the pipeline, which loads on its first activity.
 */
import type { FetchConfig, LeadsConfig } from '../../schema/config';
import { createFetcher, type Fetcher } from '../engine/fetcher';
import { createSsrfGuard } from './ssrf';

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
