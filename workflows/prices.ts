/**
 * Daily prices: FX first (other classes convert through its USD→MRU), then crypto and metals in
 * parallel, each through its chain of sources, then the archive as a child workflow. The result says
 * success / partial / failure / config_error with what every source did.
 */
import {
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PricesActivities } from '../activities/prices';
import { describeFailure } from './failures';
import type { PriceSourceId } from '../schema/config';
import type { FetchPriceQuotesResult, PricesOutcome, PricesStep, PricesStreamLog } from '../activities/prices/types';
import { inheritedSearchAttributes } from './contracts';
import { acceptRun } from './run-start';
import {
  PRICES_ACTIVITIES,
  pricesArchiveContract,
  pricesDailyContract,
  pricesProgressQuery,
  type AssetOutcome,
  type PricesArchiveInput,
  type PricesArchiveResult,
  type PricesDailyInput,
  type PricesDailyResult,
  type PricesProgress,
  type SourceAttempt,
} from './prices/contract';

export * from './prices/contract';

const bookkeeping = proxyActivities<PricesActivities>(PRICES_ACTIVITIES.bookkeeping);
const fetching = proxyActivities<PricesActivities>(PRICES_ACTIVITIES.fetching);
const archiving = proxyActivities<PricesActivities>(PRICES_ACTIVITIES.archiving);

export async function pricesDaily(raw: PricesDailyInput = {}): Promise<PricesDailyResult> {
  const input = acceptRun(pricesDailyContract, raw);
  // Workflow time: the start's instant, the same on every replay.
  const date = input.date ?? pricesDailyContract.withDefaults(input, new Date()).date!;
  const info = workflowInfo();
  const progress: PricesProgress = { phase: 'planning', saved: 0, requested: 0 };
  setHandler(pricesProgressQuery, () => progress);

  const plan = await bookkeeping.planPricesRun({ date, assets: input.assets, workflowId: info.workflowId, workflowRunId: info.runId });
  const counts = { requested: 0, saved: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
  if (plan.kind === 'config_error') {
    await bookkeeping.finishPricesRun({ runId: plan.runId, outcome: 'config_error', summary: { issues: plan.issues }, streams: [] });
    progress.phase = 'done';
    return { outcome: 'config_error', date, runId: plan.runId, assets: {}, sources: [], counts, configIssues: plan.issues };
  }

  const assets: Record<string, AssetOutcome> = {};
  const sources: SourceAttempt[] = [];
  const streams: PricesStreamLog[] = [];
  let configFailure: string | undefined;
  for (const step of plan.steps) for (const a of step.assets) assets[a] = { status: 'missing', reason: 'no source was tried' };
  counts.requested = progress.requested = Object.keys(assets).length;
  progress.phase = 'fetching';

  // A rejection (the source gave a price, and it was wrong) says more than a later source's silence.
  function noteMissing(asset: string, source: PriceSourceId, reason: string): void {
    if (assets[asset]?.status !== 'rejected') assets[asset] = { status: 'missing', source, reason };
  }

  async function runChain(step: PricesStep): Promise<void> {
    let remaining = [...step.assets];
    for (const source of step.chain) {
      if (remaining.length === 0) break;
      const stream = `${step.assetClass}:${source}`;
      const started = Date.now();
      let result: FetchPriceQuotesResult;
      try {
        result = await fetching.fetchPriceQuotes({ runId: plan.runId, date, source, assetClass: step.assetClass, assets: remaining });
      } catch (err) {
        const failure = describeFailure(err);
        if (failure.type === 'ConfigurationError') configFailure = failure.message;
        const error = `${failure.type}: ${failure.message}`;
        for (const a of remaining) noteMissing(a, source, error);
        sources.push({ assetClass: step.assetClass, source, status: 'failed', saved: [], error });
        streams.push({ stream, status: 'failure', extracted: 0, loaded: 0, rejected: 0, durationMs: Date.now() - started, error });
        continue;
      }
      for (const a of result.saved) assets[a] = { status: 'saved', source };
      for (const r of result.rejected) assets[r.asset] = { status: 'rejected', source, reason: r.reason };
      for (const m of result.missing) noteMissing(m.asset, source, m.reason);
      counts.inserted += result.inserted;
      counts.updated += result.updated;
      counts.unchanged += result.unchanged;
      counts.rejected += result.rejected.length;
      progress.saved += result.saved.length;
      const complete = result.saved.length === remaining.length;
      sources.push({ assetClass: step.assetClass, source, status: complete ? 'ok' : 'partial', saved: result.saved });
      streams.push({
        stream,
        status: complete ? 'success' : result.saved.length > 0 ? 'partial' : 'failure',
        extracted: result.saved.length + result.rejected.length,
        loaded: result.saved.length,
        rejected: result.rejected.length,
        durationMs: result.durationMs,
        details: { inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, missing: result.missing, rejected: result.rejected },
      });
      remaining = remaining.filter((a) => !result.saved.includes(a));
    }
  }

  const fx = plan.steps.find((s) => s.assetClass === 'fx');
  if (fx) await runChain(fx);
  await Promise.all(plan.steps.filter((s) => s !== fx).map(runChain));

  counts.saved = Object.values(assets).filter((a) => a.status === 'saved').length;
  const outcome: PricesOutcome =
    configFailure !== undefined ? 'config_error' : counts.saved === counts.requested ? 'success' : counts.saved === 0 ? 'failure' : 'partial';

  let archive: PricesDailyResult['archive'];
  if (input.archive !== false && outcome !== 'config_error') {
    progress.phase = 'archiving';
    try {
      archive = await executeChild(pricesArchive, {
        workflowId: `${info.workflowId}-archive`,
        typedSearchAttributes: inheritedSearchAttributes(info.typedSearchAttributes),
        args: [{ endDate: date, days: input.archiveDays, verify: true }],
      });
    } catch (err) {
      const failure = describeFailure(err);
      archive = { status: 'failure', error: `${failure.type}: ${failure.message}` };
    }
  }

  const finished = await bookkeeping.finishPricesRun({
    runId: plan.runId,
    outcome,
    summary: { date, counts, sources, archive: archive?.status ?? 'skipped' },
    streams,
    saved: counts.saved,
  });
  // What the table recorded for the run (histories recorded before this returned nothing).
  if (finished?.counts) Object.assign(counts, finished.counts);
  progress.phase = 'done';
  return { outcome, date, runId: plan.runId, assets, sources, counts, archive };
}

export async function pricesArchive(raw: PricesArchiveInput = {}): Promise<PricesArchiveResult> {
  const input = acceptRun(pricesArchiveContract, raw);
  const endDate = input.endDate ?? pricesArchiveContract.withDefaults(input, new Date()).endDate!;
  let window: PricesArchiveResult['window'] | undefined;
  let counts: PricesArchiveResult['counts'];
  if (!input.verifyOnly) {
    const { workflowId, runId } = workflowInfo();
    const archived = await archiving.archivePriceWindow({ endDate, days: input.days, runKey: `${workflowId}/${runId}` });
    window = archived.window;
    counts = archived.counts;
  }
  if (input.verify === false && !input.verifyOnly) return { status: 'success', window: window!, counts };
  const { window: verifiedWindow, ...verify } = await archiving.verifyPriceArchive({ endDate, days: input.days });
  return { status: verify.ok ? 'success' : 'failure', window: verifiedWindow, counts, verify };
}
