import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Activities that crawl the portal for a while (a window of lists, /bdc/ days): one long activity
 * that heartbeats every few seconds from a timer, so a dead worker is noticed within 30 s whatever the
 * portal's pace, and resumes from its cursor.
 */
export const PORTAL_CRAWL: ActivityOptions = {
  // A month is a few thousand pages at the portal's pace; the heartbeat, not this, detects a dead worker.
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: {
    // Transient faults (network, 5xx, short bodies, a lost page state) back off from 10 s to 10 min;
    // a 429 or a WAF page overrides this with the server's own delay (nextRetryDelay).
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 12,
    // Retrying cannot change a page's shape, a bad input or a refusal: fail at once.
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
};

/** Run bookkeeping: the database only, retried sooner. */
export const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10, nonRetryableErrorTypes: ['InvalidInputError'] },
};
