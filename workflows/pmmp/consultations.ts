/**
 * One publication window of consultations: a single long activity that pages the portal inside
 * and heartbeats its cursor, so a retry resumes at the page it was killed in.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CrawlCounts, PmmpActivities } from '../../activities/pmmp/consultations';
import type { ConsultationSearchKind, PortalPageSize } from '../../activities/pmmp/portal';
import { PORTAL_CRAWL } from './options';

export interface PmmpConsultationsWindowInput {
  /** Publication window, `YYYY-MM-DD`, both days included. */
  from: string;
  to: string;
  kind?: ConsultationSearchKind;
  pageSize?: PortalPageSize;
  runId?: string | null;
}

const { crawlConsultationWindow } = proxyActivities<PmmpActivities>(PORTAL_CRAWL);

export async function pmmpConsultationsWindow(input: PmmpConsultationsWindowInput): Promise<CrawlCounts> {
  return crawlConsultationWindow({
    from: input.from,
    to: input.to,
    kind: input.kind ?? 'searchAnnCons',
    ...(input.pageSize ? { pageSize: input.pageSize } : {}),
    runId: input.runId ?? null,
  });
}
