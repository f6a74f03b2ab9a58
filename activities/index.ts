/**
 * Every activity of the `moisson` task queue, built from the process's connections. The leads and
 * consolidation pipelines load on their first activity (engine/lazy.ts): an idle worker does not hold
 * their libraries (HTML extraction, phone numbers, S3, clustering: ~35 MB of RSS together).
 */
import type { Fetcher } from './engine/fetcher';
import type { ProofStore } from './engine/proofs';
import { bindApisyncActivities, type ApisyncDeps } from './apisync';
import type { ConsolidationActivities } from './consolidation';
import { lazyActivities, type Covers } from './engine/lazy';
import type { LeadsActivities, LeadsDeps } from './leads';
import { bindPmmpCrawlActivities, bindPmmpRunActivities } from './pmmp/index';
import { bindPricesActivities, type PricesDeps } from './prices';

export interface ActivityDeps extends PricesDeps {
  /** What the crawlers share: one polite fetcher per process (its per-host limits hold across activities) and the proof store. */
  crawl?: { fetcher: Fetcher; proofs: ProofStore; pmmpPortalUrl: string };
  /** Test hooks of the SaaS API sync (its settings come from `env`, like the prices pipeline's). */
  apisync?: Pick<ApisyncDeps, 'onBatch'>;
  /** The leads pipeline: its guarded fetcher and settings (absent: its activities are not registered). */
  leads?: Omit<LeadsDeps, 'sql' | 'db'>;
  /** Test hooks of the consolidation pipeline (its settings come from `env`). */
  consolidation?: { afterClaim?: (suggestionId: number) => Promise<void> };
}

export const CONSOLIDATION_ACTIVITY_NAMES = [
  'consolidationCheckSource',
  'consolidationIngestSource',
  'consolidationApplyBatch',
  'consolidationEnrichCheck',
  'consolidationEnrichPage',
  'consolidationSireneLoad',
  'consolidationClusterRun',
  'consolidationPublishRefresh',
  'consolidationStatsCompute',
  'consolidationExportFile',
  'consolidationCleanupRun',
] as const;
const consolidationNamesComplete: Covers<ConsolidationActivities, typeof CONSOLIDATION_ACTIVITY_NAMES> = true;

export const LEADS_ACTIVITY_NAMES = [
  'startLeadsJob',
  'crawlLeadsBatch',
  'nextMapsTasks',
  'storeMapsListings',
  'failMapsTask',
  'setLeadsJobStatus',
  'lookupDomainWhois',
  'validateLeadsBatch',
  'syncMailwizzBatch',
] as const;
const leadsNamesComplete: Covers<LeadsActivities, typeof LEADS_ACTIVITY_NAMES> = true;
void [consolidationNamesComplete, leadsNamesComplete];

export function createActivities(deps: ActivityDeps) {
  const crawl = deps.crawl;
  return {
    ...bindPricesActivities(deps),
    ...bindApisyncActivities({ sql: deps.sql, db: deps.db, ...(deps.env ? { env: deps.env } : {}), ...deps.apisync }),
    ...(crawl ? bindPmmpCrawlActivities({ db: deps.db, fetcher: crawl.fetcher, proofs: crawl.proofs, portalUrl: crawl.pmmpPortalUrl }) : {}),
    ...bindPmmpRunActivities({ db: deps.db }),
    ...(deps.leads ? lazyLeads({ sql: deps.sql, db: deps.db, ...deps.leads }) : {}),
    ...lazyActivities<ConsolidationActivities>('consolidation', CONSOLIDATION_ACTIVITY_NAMES, async () =>
      (await import('./consolidation')).bindConsolidationActivities({ sql: deps.sql, ...(deps.env ? { env: deps.env } : {}), ...deps.consolidation }),
    ),
  };
}

function lazyLeads(deps: LeadsDeps): LeadsActivities {
  return lazyActivities<LeadsActivities>('leads', LEADS_ACTIVITY_NAMES, async () => (await import('./leads')).bindLeadsActivities(deps));
}
