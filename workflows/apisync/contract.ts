/**
 * The apisync pipeline's contract: `apisyncRun`, one sync of one SaaS API source. Workflow id
 * `apisync-<source>`: a second start while one runs collides (the run lease in PostgreSQL also keeps
 * runs of one source from overlapping, whatever their ids).
 */
import type { ActivityOptions } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import type { ApisyncMode, ApisyncOutcome, StreamOutcome } from '../../activities/apisync/types';
import { contract, type RunSchedule } from '../contracts';

export interface ApisyncRunResult {
  outcome: ApisyncOutcome;
  source: string;
  mode: ApisyncMode;
  runId: string;
  streams: StreamOutcome[];
  error?: string;
  configIssues?: { variable: string; message: string }[];
}

export interface ApisyncProgress {
  phase: 'planning' | 'syncing' | 'finishing' | 'done';
  streams: Record<string, { status: 'running' | 'success' | 'failure'; mode?: ApisyncMode; loaded?: number; error?: string }>;
}

export const apisyncProgressQuery = defineQuery<ApisyncProgress>('apisyncProgress');

export const ApisyncRunInputSchema = z.strictObject({
  source: z.string({ error: 'must name the API, such as pennylane' }).regex(/^[a-z][a-z0-9_]{0,40}$/, 'must be a source name such as pennylane'),
  /** Default `incremental` (which falls back to full when it must, and says so). */
  mode: z.enum(['full', 'incremental'], { error: 'must be full or incremental' }).optional(),
  /** Every stream of the source when absent. */
  streams: z.array(z.string().regex(/^[a-z_]+$/, 'must be a stream name such as customer_invoices')).min(1).max(20).optional(),
});
export type ApisyncRunInput = z.input<typeof ApisyncRunInputSchema>;

export function apisyncWorkflowId(source: string): string {
  return `apisync-${source}`;
}

export const apisyncRunContract = contract<ApisyncRunResult, ApisyncProgress>()({
  workflowType: 'apisyncRun',
  pipeline: 'apisync',
  description: 'a SaaS API into PostgreSQL (Pennylane): full or incremental; one run per source at a time',
  input: ApisyncRunInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => apisyncWorkflowId(i.source),
  labels: (i) => ({ source: i.source }),
  progress: apisyncProgressQuery,
});

export const APISYNC_ACTIVITIES = {
  bookkeeping: {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
  },
  syncing: {
    // A million rows is ~10,000 requests at 5 req/s, about 35 minutes; the heartbeat detects a dead worker.
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '30 seconds',
    // A 429 overrides the backoff with the server's retry-after (nextRetryDelay).
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
  },
} satisfies Record<string, ActivityOptions>;

export const APISYNC_SCHEDULES: RunSchedule[] = [
  {
    scheduleId: 'apisync-pennylane',
    description: 'Pennylane → PostgreSQL, incremental (change feed since the watermark; full when it must)',
    workflowType: apisyncRunContract.workflowType,
    input: { source: 'pennylane', mode: 'incremental' } satisfies ApisyncRunInput,
    interval: { every: '10 minutes' },
    timezone: 'UTC',
    // A missed run is not worth catching up: the next one applies everything since the watermark.
    catchupWindow: '10 minutes',
    // A run still going when the next is due (a full after a long outage) is left to finish.
    overlap: 'skip',
  },
];
