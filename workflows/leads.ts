/**
 * Leads: one `leadsJob` workflow per scraping job, and the hourly `leadsValidate` and
 * `leadsSyncMailwizz`. The job's pages live in PostgreSQL (leads.frontier); the workflow keeps only
 * counts and flags, so its state is the checkpoint: a worker crash re-runs the batch in flight (which
 * only re-visits pages still queued) and a pause of days is a `condition` that costs nothing.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { MapsBrowserActivities } from '../activities/leads/sources/maps-render';
import type { JobCounts, LeadsActivities, SyncBatchResult, ValidateBatchResult } from '../activities/leads';
import type { LeadsJobStatus, LeadsSourceType } from '../schema/leads/tables';
import { acceptRun } from './run-start';
import { describeFailure } from './failures';
import {
  cancelSignal,
  LEADS_ACTIVITIES,
  leadsJobContract,
  leadsProgressQuery,
  leadsSyncMailwizzContract,
  leadsValidateContract,
  leadsWhoisContract,
  pauseSignal,
  resumeSignal,
  type LeadsJobInput,
  type LeadsSyncInput,
  type LeadsValidateInput,
  type LeadsWhoisInput,
} from './leads/contract';

export * from './leads/contract';

const jobActs = proxyActivities<LeadsActivities>(LEADS_ACTIVITIES.job);
const bookkeeping = proxyActivities<LeadsActivities>(LEADS_ACTIVITIES.bookkeeping);

export interface LeadsProgress {
  jobId: string;
  status: LeadsJobStatus;
  pagesDone: number;
  pagesQueued: number;
  contactsFound: number;
  errors: number;
  batches: number;
}


/** What survives a continue-as-new: flags and counts, never pages. */
export interface LeadsJobState {
  seeded: boolean;
  sourceType: LeadsSourceType | null;
  maxResults: number;
  paused: boolean;
  cancelled: boolean;
  mapsQueued: number;
  batches: number;
  counts: JobCounts;
}

export interface LeadsJobResult {
  jobId: string;
  status: 'completed' | 'cancelled';
  counts: JobCounts;
}

const ZERO: JobCounts = { pagesDone: 0, pagesQueued: 0, contactsFound: 0, errors: 0 };

export async function leadsJob(raw: LeadsJobInput): Promise<LeadsJobResult> {
  const input = acceptRun(leadsJobContract, raw);
  const { jobId } = input;
  const state: LeadsJobState = input.state ?? { seeded: false, sourceType: null, maxResults: 0, paused: false, cancelled: false, mapsQueued: 0, batches: 0, counts: ZERO };
  let status: LeadsJobStatus = state.paused ? 'paused' : 'running';
  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  setHandler(cancelSignal, () => {
    state.cancelled = true;
  });
  setHandler(leadsProgressQuery, () => ({ jobId, status, batches: state.batches, ...state.counts }));

  const browser = proxyActivities<MapsBrowserActivities>({ ...LEADS_ACTIVITIES.browser, taskQueue: input.browserTaskQueue ?? 'moisson-browser' });

  try {
    if (!state.seeded) {
      const started = await bookkeeping.startLeadsJob({ jobId });
      state.seeded = true;
      state.sourceType = started.sourceType;
      state.maxResults = started.maxResults;
      state.counts = started.counts;
      state.mapsQueued = started.sourceType === 'maps' ? 1 : 0;
    }
    let sinceStart = 0;
    for (;;) {
      if (state.cancelled) break;
      if (state.paused) {
        // The query says paused once the row does: callers reading either see the same.
        state.counts = await bookkeeping.setLeadsJobStatus({ jobId, status: 'paused' });
        status = 'paused';
        await condition(() => !state.paused || state.cancelled);
        if (state.cancelled) break;
        state.counts = await bookkeeping.setLeadsJobStatus({ jobId, status: 'running' });
        status = 'running';
      }
      if (state.mapsQueued > 0) {
        const tasks = await bookkeeping.nextMapsTasks({ jobId, limit: 1 });
        state.mapsQueued = tasks.length;
        for (const task of tasks) {
          try {
            const rendered = await browser.renderMapsListings({ url: task.url, maxResults: state.maxResults });
            state.counts = await bookkeeping.storeMapsListings({ jobId, task, listings: rendered.listings });
          } catch (err) {
            const failure = describeFailure(err);
            await bookkeeping.failMapsTask({ jobId, task, error: `${failure.type}: ${failure.message}` });
          }
        }
        if (tasks.length > 0) continue;
      }
      const batch = await jobActs.crawlLeadsBatch({ jobId, ...(input.batchPages ? { batchPages: input.batchPages } : {}) });
      state.counts = batch.counts;
      state.mapsQueued = batch.mapsQueued;
      state.batches++;
      sinceStart++;
      if (batch.counts.pagesQueued === 0 && batch.mapsQueued === 0) break;
      // Every page of the batch was put off (rate limit, network): wait, but wake for a pause or a cancel.
      if (batch.waitMs > 0) await condition(() => state.cancelled || state.paused, batch.waitMs);
      if (workflowInfo().continueAsNewSuggested || sinceStart >= (input.batchesPerRun ?? 500)) {
        await continueAsNew<typeof leadsJob>({ ...input, state });
      }
    }
    const final = state.cancelled ? 'cancelled' : 'completed';
    status = final;
    state.counts = await bookkeeping.setLeadsJobStatus({ jobId, status: final });
    return { jobId, status: final, counts: state.counts };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      // Cancelled through Temporal itself rather than the `cancel` signal: the job row says so too.
      await CancellationScope.nonCancellable(() => bookkeeping.setLeadsJobStatus({ jobId, status: 'cancelled' }));
      throw err;
    }
    const failure = describeFailure(err);
    status = 'failed';
    await bookkeeping.setLeadsJobStatus({ jobId, status: 'failed', error: `${failure.type}: ${failure.message}` });
    throw ApplicationFailure.nonRetryable(`job ${jobId} failed: ${failure.message}`, failure.type);
  }
}

export interface LeadsValidateResult {
  batches: number;
  claimed: number;
  valid: number;
  invalid: number;
  duplicate: number;
  deferred: number;
  reasons: Record<string, number>;
}

const validating = proxyActivities<LeadsActivities>(LEADS_ACTIVITIES.validating);

function addValidate(t: LeadsValidateResult, r: ValidateBatchResult): void {
  t.batches++;
  t.claimed += r.claimed;
  t.valid += r.valid;
  t.invalid += r.invalid;
  t.duplicate += r.duplicate;
  t.deferred += r.deferred;
  for (const [k, v] of Object.entries(r.reasons)) t.reasons[k] = (t.reasons[k] ?? 0) + v;
}

/** Validates every new contact, batch after batch, until none is left (or only ones the DNS cannot answer for). */
export async function leadsValidate(raw: LeadsValidateInput = {}): Promise<LeadsValidateResult> {
  const input = acceptRun(leadsValidateContract, raw);
  const totals: LeadsValidateResult = input.totals ?? { batches: 0, claimed: 0, valid: 0, invalid: 0, duplicate: 0, deferred: 0, reasons: {} };
  for (;;) {
    const r = await validating.validateLeadsBatch({ ...(input.limit ? { limit: input.limit } : {}) });
    if (r.claimed === 0) break;
    addValidate(totals, r);
    if (r.deferred === r.claimed) break;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof leadsValidate>({ ...input, totals });
  }
  return totals;
}

export interface LeadsSyncResult {
  batches: number;
  created: number;
  existing: number;
  failed: number;
  rejected: number;
  quota: number;
  quotaLeft: number;
}

const syncing = proxyActivities<LeadsActivities>(LEADS_ACTIVITIES.syncing);

/** Pushes validated contacts to MailWizz until none is due, the day's quota is used, or MailWizz fails every try. */
export async function leadsSyncMailwizz(raw: LeadsSyncInput = {}): Promise<LeadsSyncResult> {
  const input = acceptRun(leadsSyncMailwizzContract, raw);
  const totals: LeadsSyncResult = input.totals ?? { batches: 0, created: 0, existing: 0, failed: 0, rejected: 0, quota: 0, quotaLeft: 0 };
  for (;;) {
    const r: SyncBatchResult = await syncing.syncMailwizzBatch({ ...(input.limit ? { limit: input.limit } : {}) });
    totals.quota = r.quota;
    totals.quotaLeft = r.quotaLeft;
    if (r.claimed === 0) break;
    totals.batches++;
    totals.created += r.created;
    totals.existing += r.existing;
    totals.failed += r.failed;
    totals.rejected += r.rejected;
    if (r.quotaLeft === 0 || r.failed === r.claimed) break;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof leadsSyncMailwizz>({ ...input, totals });
  }
  return totals;
}

/** The RDAP record of one domain, on demand (`moisson leads whois`), from the cache when it is fresh. */
export type LeadsWhoisResult = Awaited<ReturnType<LeadsActivities['lookupDomainWhois']>>;

export async function leadsWhois(raw: LeadsWhoisInput): Promise<LeadsWhoisResult> {
  const input = acceptRun(leadsWhoisContract, raw);
  return bookkeeping.lookupDomainWhois({ domain: input.domain });
}
