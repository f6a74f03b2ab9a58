/**
 * One sync of one SaaS API source (`apisyncRun`): plan (settings, the source's run lease, the
 * credentials), then every stream at once, each one activity that pages and loads inside under the
 * source's shared rate limit, then the run's logs. Workflow id `apisync-<source>`: a second start while
 * one runs collides; the lease also keeps the Schedule's runs (ids with a time suffix) and manual ones
 * from overlapping. The result says success / partial / failure / config_error / skipped per stream.
 */
import { proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ApisyncActivities } from '../activities/apisync';
import type { ApisyncOutcome, StreamOutcome, SyncStreamResult } from '../activities/apisync/types';
import { acceptRun } from './run-start';
import { describeFailure } from './failures';
import { APISYNC_ACTIVITIES, apisyncProgressQuery, apisyncRunContract, type ApisyncProgress, type ApisyncRunInput, type ApisyncRunResult } from './apisync/contract';

export * from './apisync/contract';

const bookkeeping = proxyActivities<ApisyncActivities>(APISYNC_ACTIVITIES.bookkeeping);
const syncing = proxyActivities<ApisyncActivities>(APISYNC_ACTIVITIES.syncing);

export async function apisyncRun(raw: ApisyncRunInput): Promise<ApisyncRunResult> {
  const input = acceptRun(apisyncRunContract, raw);
  const mode = input.mode ?? 'incremental';
  const info = workflowInfo();
  const progress: ApisyncProgress = { phase: 'planning', streams: {} };
  setHandler(apisyncProgressQuery, () => progress);

  const plan = await bookkeeping.planApisyncRun({ source: input.source, mode, streams: input.streams, workflowId: info.workflowId, workflowRunId: info.runId });
  const base = { source: input.source, mode, runId: plan.runId };
  const finish = async (outcome: ApisyncOutcome, streams: StreamOutcome[], extra: Partial<ApisyncRunResult> = {}): Promise<ApisyncRunResult> => {
    progress.phase = 'finishing';
    await bookkeeping.finishApisyncRun({ runId: plan.runId, source: input.source, workflowRunId: info.runId, outcome, streams, summary: { mode, outcome, streams: streams.map((s) => ({ stream: s.stream, status: s.status, mode: s.result?.mode, loaded: s.result?.counts.loaded, error: s.error })), ...extra } });
    progress.phase = 'done';
    return { ...base, outcome, streams, ...extra };
  };

  if (plan.kind === 'config_error') return finish('config_error', [], { configIssues: plan.issues });
  if (plan.kind === 'refused') return finish('failure', [], { error: plan.error });
  if (plan.kind === 'busy') {
    progress.phase = 'done';
    await bookkeeping.finishApisyncRun({ runId: plan.runId, source: input.source, workflowRunId: info.runId, outcome: 'skipped', streams: [], summary: { skipped: `another run of ${input.source} is in progress: ${plan.heldBy}` } });
    return { ...base, outcome: 'skipped', streams: [], error: `another run of ${input.source} is in progress: ${plan.heldBy}` };
  }

  progress.phase = 'syncing';
  for (const s of plan.streams) progress.streams[s] = { status: 'running' };
  const outcomes = await Promise.all(
    plan.streams.map(async (stream): Promise<StreamOutcome> => {
      const started = Date.now();
      try {
        const result: SyncStreamResult = await syncing.syncApisyncStream({ source: input.source, stream, mode, runId: plan.runId });
        progress.streams[stream] = { status: 'success', mode: result.mode, loaded: result.counts.loaded };
        return { stream, status: 'success', result, durationMs: Date.now() - started };
      } catch (err) {
        const failure = describeFailure(err);
        progress.streams[stream] = { status: 'failure', error: `${failure.type}: ${failure.message}` };
        return { stream, status: 'failure', error: `${failure.type}: ${failure.message}`, errorType: failure.type, durationMs: Date.now() - started };
      }
    }),
  );
  const ok = outcomes.filter((o) => o.status === 'success').length;
  const outcome: ApisyncOutcome = outcomes.some((o) => o.errorType === 'ConfigurationError') ? 'config_error' : ok === outcomes.length ? 'success' : ok === 0 ? 'failure' : 'partial';
  return finish(outcome, outcomes);
}
