/**
 * One publication window of consultations: a single long activity that pages the portal inside
 * and heartbeats its cursor, so a retry resumes at the page it was killed in.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CrawlCounts, PmmpActivities } from '../../activities/pmmp/consultations';
import { acceptRun } from '../run-start';
import { pmmpConsultationsWindowContract, PORTAL_CRAWL, type PmmpConsultationsWindowInput } from './contract';

export type { PmmpConsultationsWindowInput } from './contract';

const { crawlConsultationWindow } = proxyActivities<PmmpActivities>(PORTAL_CRAWL);

export async function pmmpConsultationsWindow(raw: PmmpConsultationsWindowInput): Promise<CrawlCounts> {
  const input = acceptRun(pmmpConsultationsWindowContract, raw);
  return crawlConsultationWindow({
    from: input.from,
    to: input.to,
    kind: input.kind ?? 'searchAnnCons',
    ...(input.pageSize ? { pageSize: input.pageSize } : {}),
    runId: input.runId ?? null,
  });
}
