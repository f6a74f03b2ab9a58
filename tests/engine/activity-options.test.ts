/**
 * How long a worker that dies mid-activity holds its run: the server notices by the activity's silence
 * (its heartbeat timeout) or, for an activity that does not heartbeat, only at its start-to-close timeout.
 * Every pipeline's activity options keep that under a few minutes, so a killed worker costs a run minutes,
 * not the length of its longest step.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivityOptions } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { APISYNC_ACTIVITIES } from '../../workflows/apisync/contract';
import { CONSOLIDATION_ACTIVITIES } from '../../workflows/consolidation/contract';
import { LEADS_ACTIVITIES } from '../../workflows/leads/contract';
import { BOOKKEEPING, NOTICE_DOCUMENTS, NOTICE_QUEUE, PORTAL_CRAWL, REPARSING } from '../../workflows/pmmp/contract';
import { PRICES_ACTIVITIES } from '../../workflows/prices/contract';

/** Longest a dead worker may hold a run (consolidation's publishing heartbeats every few minutes). */
const MAX_SILENCE_MS = 5 * 60_000;

const optionSets: Record<string, ActivityOptions> = {
  ...Object.fromEntries(Object.entries({ PORTAL_CRAWL, BOOKKEEPING, NOTICE_DOCUMENTS, NOTICE_QUEUE, REPARSING }).map(([k, v]) => [`pmmp.${k}`, v])),
  ...Object.fromEntries(Object.entries(LEADS_ACTIVITIES).map(([k, v]) => [`leads.${k}`, v])),
  ...Object.fromEntries(Object.entries(APISYNC_ACTIVITIES).map(([k, v]) => [`apisync.${k}`, v])),
  ...Object.fromEntries(Object.entries(PRICES_ACTIVITIES).map(([k, v]) => [`prices.${k}`, v])),
  ...Object.fromEntries(Object.entries(CONSOLIDATION_ACTIVITIES).map(([k, v]) => [`consolidation.${k}`, v])),
};

/** When a dead worker's activity is given to another: its heartbeat timeout, else its start-to-close. */
function deadWorkerNoticedAfterMs(options: ActivityOptions): number {
  if (options.heartbeatTimeout !== undefined) return msToNumber(options.heartbeatTimeout);
  assert.ok(options.startToCloseTimeout !== undefined, 'a start-to-close timeout');
  return msToNumber(options.startToCloseTimeout);
}

test('a worker killed mid-activity holds its run at most five minutes, in every pipeline', () => {
  assert.ok(Object.keys(optionSets).length >= 20, Object.keys(optionSets).join(', '));
  const slow = Object.entries(optionSets)
    .map(([name, options]) => ({ name, ms: deadWorkerNoticedAfterMs(options) }))
    .filter((o) => o.ms > MAX_SILENCE_MS);
  assert.deepEqual(slow, [], 'activities a dead worker would hold longer (add a heartbeat timeout and heartbeat from a timer)');
});

test('the rule reads a heartbeat timeout before the start-to-close', () => {
  assert.equal(deadWorkerNoticedAfterMs({ startToCloseTimeout: '10 minutes' }), 600_000);
  assert.equal(deadWorkerNoticedAfterMs({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds' }), 30_000);
});
