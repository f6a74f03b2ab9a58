/**
 * The leads pipeline's contract: `leadsJob` (one scraping job, id `leads-job-<jobId>`), the hourly
 * `leadsValidate` and `leadsSyncMailwizz` (one at a time each: a fixed id), and `leadsWhois` on demand.
 * A job is paused, resumed and cancelled by signals and read by its progress query, defined here once.
 */
import type { ActivityOptions } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import type { LeadsJobResult, LeadsJobState, LeadsProgress, LeadsSyncResult, LeadsValidateResult, LeadsWhoisResult } from '../leads';
import { contract, type RunSchedule } from '../contracts';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal<[{ reason?: string }?]>('cancel');
export const leadsProgressQuery = defineQuery<LeadsProgress>('leadsProgress');

export const LEADS_JOB_SIGNALS = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal } as const;

export const JobIdSchema = z.string({ error: 'must be a job id' }).regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a job id: letters, digits, _ and - (at most 64)');

const count = z.number().int().nonnegative();
/** Carried over continue-as-new: checked for its shape only (the previous run of the same code wrote it). */
const carried = <T>() => z.custom<T>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be the state a previous run carried over');

export const LeadsJobInputSchema = z.strictObject({
  jobId: JobIdSchema,
  /** The browser queue (the worker's MOISSON_BROWSER_TASK_QUEUE) for map listings. */
  browserTaskQueue: z.string().min(1).optional(),
  /** Pages per batch (default: LEADS_BATCH_PAGES of the worker). */
  batchPages: z.number().int().min(1).max(500).optional(),
  /** Batches before a continue-as-new, at the latest (Temporal also suggests it by history size). */
  batchesPerRun: z.number().int().min(1).optional(),
  /**
   * The job's source type (its row's `source_type`), given by whoever starts it so the run is labelled
   * with it (MoissonSource): a label only, the workflow reads the job from its row.
   */
  sourceType: z.string().regex(/^[a-z_]{1,40}$/, 'must be a source type such as custom_urls').optional(),
  state: carried<LeadsJobState>().optional(),
});
export type LeadsJobInput = z.input<typeof LeadsJobInputSchema>;

export function leadsJobWorkflowId(jobId: string): string {
  return `leads-job-${jobId}`;
}

export const leadsJobContract = contract<LeadsJobResult, LeadsProgress>()({
  workflowType: 'leadsJob',
  pipeline: 'leads',
  description: 'one scraping job: its pages, then its contacts (pause, resume and cancel by signal)',
  input: LeadsJobInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => leadsJobWorkflowId(i.jobId),
  labels: (i) => ({ jobId: i.jobId, ...(i.sourceType ? { source: i.sourceType } : {}) }),
  progress: leadsProgressQuery,
  // Pages are discovered as the job goes: the total grows, so the ETA is a lower bound.
  meter: (p) => ({
    phase: p.status,
    done: p.pagesDone,
    total: p.pagesDone + p.pagesQueued,
    unit: 'pages',
    counts: { contacts: p.contactsFound, errors: p.errors, batches: p.batches },
  }),
});

export const LeadsValidateInputSchema = z.strictObject({
  limit: count.min(1).optional(),
  totals: carried<LeadsValidateResult>().optional(),
});
export type LeadsValidateInput = z.input<typeof LeadsValidateInputSchema>;

export const leadsValidateContract = contract<LeadsValidateResult>()({
  workflowType: 'leadsValidate',
  pipeline: 'leads',
  description: 'validate the new scraped contacts (syntax, roles, disposable, blacklist, MX), categorize and route them',
  input: LeadsValidateInputSchema,
  withDefaults: (i) => i,
  // One validation at a time: it takes every contact still new, so a second one would find nothing.
  workflowId: () => 'leads-validate',
  labels: () => ({}),
});

export const LeadsSyncInputSchema = z.strictObject({
  limit: count.min(1).optional(),
  totals: carried<LeadsSyncResult>().optional(),
});
export type LeadsSyncInput = z.input<typeof LeadsSyncInputSchema>;

export const leadsSyncMailwizzContract = contract<LeadsSyncResult>()({
  workflowType: 'leadsSyncMailwizz',
  pipeline: 'leads',
  description: "push validated contacts to MailWizz within the day's warm-up quota",
  input: LeadsSyncInputSchema,
  withDefaults: (i) => i,
  workflowId: () => 'leads-sync-mailwizz',
  labels: () => ({ source: 'mailwizz' }),
});

export const LeadsWhoisInputSchema = z.strictObject({
  domain: z.string({ error: 'must be a domain name' }).regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain name such as example.com'),
});
export type LeadsWhoisInput = z.input<typeof LeadsWhoisInputSchema>;

export const leadsWhoisContract = contract<LeadsWhoisResult>()({
  workflowType: 'leadsWhois',
  pipeline: 'leads',
  description: "a domain's registration data over RDAP, from the cache when it is fresh",
  input: LeadsWhoisInputSchema,
  withDefaults: (i) => i,
  workflowId: (i) => `leads-whois-${i.domain.toLowerCase()}`,
  // The source it reads, not the domain: labels are stored in clear (search attributes are never encrypted).
  labels: () => ({ source: 'rdap' }),
});

/** Retries of the leads activities; which errors stop them is the errors' own business (activities/engine/errors.ts). */
export const LEADS_ACTIVITIES = {
  // A dead worker is noticed by its silence: the batch heartbeats every page and every 5 s.
  job: {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  },
  bookkeeping: {
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
  },
  browser: {
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 3 },
  },
  validating: {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
  },
  syncing: {
    startToCloseTimeout: '30 minutes',
    // A killed worker's batch is retried once its silence is noticed; the retry takes back its contacts.
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 3 },
  },
} satisfies Record<string, ActivityOptions>;

export const LEADS_SCHEDULES: RunSchedule[] = [
  {
    scheduleId: 'leads-validate',
    description: 'Validate new scraped contacts (syntax, roles, disposable, blacklist, MX), categorize and route them',
    workflowType: leadsValidateContract.workflowType,
    input: {},
    calendar: { minute: 0 },
    timezone: 'UTC',
    // An hour missed is caught up by the next run, which takes every contact still new.
    catchupWindow: '1 hour',
    overlap: 'skip',
  },
  {
    scheduleId: 'leads-sync-mailwizz',
    description: "Push validated contacts to MailWizz within the day's warm-up quota",
    workflowType: leadsSyncMailwizzContract.workflowType,
    input: {},
    // Half an hour after validation, as the seed's cron did.
    calendar: { minute: 30 },
    timezone: 'UTC',
    catchupWindow: '1 hour',
    overlap: 'skip',
  },
];
