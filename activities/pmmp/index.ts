/**
 * The pmmp activities as the worker registers them: the only place their deps are closed over. Each
 * activity is a plain `(deps, input)` function of its file, bound here under the name the workflows
 * proxy (and their histories record).
 */
import { bindActivities } from '../engine/bind';
import type { ExtractNoticeTextOptions } from './awards';
import { pmmpBdcActivities } from './bdc';
import { pmmpCrawlActivities, type PmmpDeps } from './consultations';
import { pmmpNoticeActivities } from './notices';
import { pmmpReparseActivities } from './reparse';
import { pmmpRunActivities, type PmmpRunDeps } from './runs';

export interface PmmpActivityDeps extends PmmpDeps {
  /** Notice text extraction settings (OCR binaries, languages); defaults when absent. */
  extraction?: Omit<ExtractNoticeTextOptions, 'onProgress' | 'signal'>;
}

/** The bookkeeping activities (run rows, closing analysis): they need the database only. */
export function bindPmmpRunActivities(deps: PmmpRunDeps) {
  return bindActivities(deps, pmmpRunActivities);
}

/** The activities that read the portal or its proofs: crawls, /bdc/, notice documents, reparses. */
export function bindPmmpCrawlActivities(deps: PmmpActivityDeps) {
  const notices = { db: deps.db, fetcher: deps.fetcher, proofs: deps.proofs, portalBaseUrl: deps.portalUrl, maxInlineWaitMs: deps.maxInlineWaitMs, extraction: deps.extraction };
  return {
    ...bindActivities(deps, pmmpCrawlActivities),
    ...bindActivities(deps, pmmpBdcActivities),
    ...bindActivities({ db: deps.db, proofs: deps.proofs, parseThreads: deps.parseThreads }, pmmpReparseActivities),
    ...bindActivities(notices, pmmpNoticeActivities),
  };
}

/** Every pmmp activity. */
export function bindPmmpActivities(deps: PmmpActivityDeps) {
  return { ...bindPmmpCrawlActivities(deps), ...bindPmmpRunActivities({ db: deps.db }) };
}
