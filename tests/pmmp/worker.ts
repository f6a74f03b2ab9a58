/** Every pmmp activity, as the production worker composes them, over a test's database and replica. */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Fetcher } from '../../activities/engine/fetcher';
import type { ProofStore } from '../../activities/engine/proofs';
import { createPmmpBdcActivities } from '../../activities/pmmp/bdc';
import { createPmmpActivities, type PmmpDeps } from '../../activities/pmmp/consultations';
import { createPmmpNoticeActivities } from '../../activities/pmmp/notices';
import { createPmmpReparseActivities } from '../../activities/pmmp/reparse';
import { createPmmpRunActivities } from '../../activities/pmmp/runs';

export function pmmpActivities(deps: { db: PostgresJsDatabase; fetcher: Fetcher; proofs: ProofStore; portalUrl: string } & Partial<PmmpDeps>) {
  return {
    ...createPmmpActivities(deps),
    ...createPmmpBdcActivities(deps),
    ...createPmmpNoticeActivities({ db: deps.db, fetcher: deps.fetcher, proofs: deps.proofs, portalBaseUrl: deps.portalUrl, maxInlineWaitMs: deps.maxInlineWaitMs }),
    ...createPmmpRunActivities({ db: deps.db }),
    ...createPmmpReparseActivities({ db: deps.db, proofs: deps.proofs }),
  };
}
