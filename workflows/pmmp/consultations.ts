/**
 * One publication window of consultations: a single long activity that pages the portal inside
 * and heartbeats its cursor, so a retry resumes at the page it was killed in.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CrawlCounts, PmmpActivities } from '../../activities/pmmp/consultations';
import type { ConsultationSearchKind, PortalPageSize } from '../../activities/pmmp/portal';

export interface PmmpConsultationsWindowInput {
  /** Publication window, `YYYY-MM-DD`, both days included. */
  from: string;
  to: string;
  kind?: ConsultationSearchKind;
  pageSize?: PortalPageSize;
  runId?: string | null;
}

const { crawlConsultationWindow } = proxyActivities<PmmpActivities>({
  // A month is a few thousand pages at the portal's pace; the heartbeat, not this, detects a dead worker
  // (the activity heartbeats every few seconds from a timer, whatever the portal's pace).
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    // Transient faults (network, 5xx, short bodies, a lost page state) back off from 10 s to 10 min;
    // a 429 or a WAF page overrides this with the server's own delay (nextRetryDelay).
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 12,
    // Retrying cannot change a page's shape, a bad input or a refusal: fail the window at once.
    nonRetryableErrorTypes: [
      'ResponseShapeError',
      'InvalidInputError',
      'ConfigurationError',
      'AuthError',
      'NotAvailableError',
      'RobotsDisallowedError',
      'BlockedError',
      'ResponseTooLargeError',
    ],
  },
});

export async function pmmpConsultationsWindow(input: PmmpConsultationsWindowInput): Promise<CrawlCounts> {
  return crawlConsultationWindow({
    from: input.from,
    to: input.to,
    kind: input.kind ?? 'searchAnnCons',
    ...(input.pageSize ? { pageSize: input.pageSize } : {}),
    runId: input.runId ?? null,
  });
}
