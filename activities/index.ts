/** Every activity of the `moisson` task queue, built from the process's connections. */
import type { Fetcher } from './engine/fetcher';
import type { ProofStore } from './engine/proofs';
import { createLeadsActivities, type LeadsDeps } from './leads';
import { createPmmpActivities } from './pmmp/consultations';
import { createPmmpNoticeActivities } from './pmmp/notices';
import { createPricesActivities, type PricesDeps } from './prices';

export interface ActivityDeps extends PricesDeps {
  /** What the crawlers share: one polite fetcher per process (its per-host limits hold across activities) and the proof store. */
  crawl?: { fetcher: Fetcher; proofs: ProofStore; pmmpPortalUrl: string };
  /** The leads pipeline: its guarded fetcher and settings (absent: its activities are not registered). */
  leads?: Omit<LeadsDeps, 'sql' | 'db'>;
}

export function createActivities(deps: ActivityDeps) {
  const crawl = deps.crawl;
  return {
    ...createPricesActivities(deps),
    ...(crawl ? createPmmpActivities({ db: deps.db, fetcher: crawl.fetcher, proofs: crawl.proofs, portalUrl: crawl.pmmpPortalUrl }) : {}),
    ...(crawl ? createPmmpNoticeActivities({ db: deps.db, fetcher: crawl.fetcher, proofs: crawl.proofs, portalBaseUrl: crawl.pmmpPortalUrl }) : {}),
    ...(deps.leads ? createLeadsActivities({ sql: deps.sql, db: deps.db, ...deps.leads }) : {}),
  };
}
