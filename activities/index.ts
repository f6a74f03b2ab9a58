/** Every activity of the `moisson` task queue, built from the process's connections. */
import type { Fetcher } from './engine/fetcher';
import type { ProofStore } from './engine/proofs';
import { bindApisyncActivities, type ApisyncDeps } from './apisync';
import { bindConsolidationActivities } from './consolidation';
import { bindLeadsActivities, type LeadsDeps } from './leads';
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

export function createActivities(deps: ActivityDeps) {
  const crawl = deps.crawl;
  return {
    ...bindPricesActivities(deps),
    ...bindApisyncActivities({ sql: deps.sql, db: deps.db, ...(deps.env ? { env: deps.env } : {}), ...deps.apisync }),
    ...(crawl ? bindPmmpCrawlActivities({ db: deps.db, fetcher: crawl.fetcher, proofs: crawl.proofs, portalUrl: crawl.pmmpPortalUrl }) : {}),
    ...bindPmmpRunActivities({ db: deps.db }),
    ...(deps.leads ? bindLeadsActivities({ sql: deps.sql, db: deps.db, ...deps.leads }) : {}),
    ...bindConsolidationActivities({ sql: deps.sql, ...(deps.env ? { env: deps.env } : {}), ...deps.consolidation }),
  };
}
