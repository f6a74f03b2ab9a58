/**
 * Activities of the prices pipeline: plain functions of the process's connections and environment
 * (`PricesDeps`) and their input, so secrets stay in the worker and tests can give another configuration.
 */
import { Context } from '@temporalio/activity';
import Decimal from 'decimal.js';
import type { Db } from 'mongodb';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { Sql } from 'postgres';
import { ConfigError, loadPricesConfig, type ConfigIssue, type PricesConfig } from '../../schema/config';
import { ASSETS, findAsset, type AssetClass } from '../../schema/prices/assets';
import type { RunStatus } from '../../schema/etl/tables';
import { bindActivities, type BoundActivities } from '../engine/bind';
import { NotAvailableError, RateLimitedError } from '../engine/errors';
import { pipelineConfig } from '../engine/pipeline-config';
import { items, runDuration } from '../engine/metrics';
import { withHeartbeat } from '../engine/heartbeat';
import { finishRun, recordRejections, startRun, writeEtlLog, type Rejection } from '../engine/runs';
import { archiveWindow, ensureArchiveIndexes, verifyWindow, windowEnding, type ArchiveCounts, type ArchiveCursor, type VerifyReport } from './archive';
import { PRICE_SOURCE_IMPLEMENTATIONS } from './sources';
import { storedUsdMru, upsertQuotes, type QuoteRow } from './store';
import type {
  FetchPriceQuotesInput,
  FetchPriceQuotesResult,
  FinishPricesRunInput,
  FinishPricesRunResult,
  RecordedQuoteCounts,
  PlanPricesRunInput,
  PricesArchiveStepInput,
  PricesArchiveStepResult,
  PricesPlan,
} from './types';

export type * from './types';

export interface PricesDeps {
  sql: Sql;
  db: PostgresJsDatabase;
  mongo: Db;
  /** The environment the prices settings are read from (the worker's own by default). */
  env?: Record<string, string | undefined>;
  /** Today's date by this process's clock (tests pin it). */
  today?: () => string;
}

const PIPELINE = 'prices';
const utcToday = () => new Date().toISOString().slice(0, 10);

// A bad prices setting gives this pipeline a config_error outcome (see pipelineConfig).
const pricesConfig = (deps: PricesDeps): PricesConfig => pipelineConfig(loadPricesConfig, deps.env);

export async function planPricesRun(deps: PricesDeps, input: PlanPricesRunInput): Promise<PricesPlan> {
  const issues: ConfigIssue[] = [];
  let config: PricesConfig | undefined;
  try {
    config = loadPricesConfig(deps.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  const requested = input.assets?.length ? input.assets.map((a) => a.toUpperCase()) : ASSETS.map((a) => a.code);
  const unknown = requested.filter((a) => !findAsset(a));
  if (unknown.length > 0) issues.push({ variable: 'assets', message: `unknown asset(s) ${unknown.join(', ')} (known: ${ASSETS.map((a) => a.code).join(', ')})` });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.date) || Number.isNaN(Date.parse(input.date))) issues.push({ variable: 'date', message: `'${input.date}' is not a YYYY-MM-DD date` });

  const runId = await startRun(deps.db, {
    pipeline: PIPELINE,
    kind: 'daily',
    workflowId: input.workflowId,
    workflowRunId: input.workflowRunId,
    params: { date: input.date, assets: requested },
  });
  if (issues.length > 0 || !config) return { kind: 'config_error', runId, issues };
  const steps = (['fx', 'crypto', 'metals'] as AssetClass[])
    .map((assetClass) => ({
      assetClass,
      chain: [...config.chains[assetClass]],
      assets: requested.filter((a) => findAsset(a)!.assetClass === assetClass),
    }))
    .filter((s) => s.assets.length > 0);
  return { kind: 'ready', runId, steps };
}

export async function fetchPriceQuotes(deps: PricesDeps, input: FetchPriceQuotesInput): Promise<FetchPriceQuotesResult> {
  const config = pricesConfig(deps);
  const source = PRICE_SOURCE_IMPLEMENTATIONS[input.source];
  const started = Date.now();
  let fetched;
  try {
    fetched = await source.fetch({
      date: input.date,
      assets: input.assets,
      config,
      today: (deps.today ?? utcToday)(),
      usdMru: async () => {
        const v = await storedUsdMru(deps.sql, input.date);
        return v === undefined ? undefined : new Decimal(v);
      },
    });
  } catch (err) {
    // Waiting out a long lock (open.er-api locks an IP for 20 minutes) would stall the whole run:
    // the next source in the chain answers sooner.
    if (err instanceof RateLimitedError && err.retryAfterMs > config.maxRetryAfterMs) {
      throw new NotAvailableError(`${err.message}; more than PRICES_MAX_RETRY_AFTER_S, so the next source is used`, err.details);
    }
    throw err;
  }

  const rows: QuoteRow[] = [];
  const rejections: Rejection[] = [];
  for (const q of fetched.quotes) {
    const asset = findAsset(q.assetCode)!;
    const price = q.priceMru.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN);
    if (!price.isFinite() || price.lte(config.minPriceMru)) {
      rejections.push({
        kind: 'quote',
        naturalKey: `${q.assetCode}@${input.date}`,
        reason: `price ${price.toString()} MRU is not above the minimum ${config.minPriceMru} MRU`,
          code: 'invalid_field',
        source: input.source,
        payload: { sourceValue: q.sourceValue.toString(), sourceCurrency: q.sourceCurrency, direction: q.direction },
      });
      continue;
    }
    rows.push({
      assetCode: q.assetCode,
      quoteDate: input.date,
      assetClass: asset.assetClass,
      priceMru: price.toFixed(8),
      unit: asset.unit,
      source: input.source,
      sourceTimestamp: q.sourceTimestamp,
      direction: q.direction,
      sourceValue: q.sourceValue.toString(),
      sourceCurrency: q.sourceCurrency,
      runId: input.runId,
    });
  }
  const counts = await upsertQuotes(deps.sql, rows);
  await recordRejections(deps.db, PIPELINE, input.runId, rejections);
  items().add(fetched.quotes.length, { pipeline: PIPELINE, kind: 'quote', result: 'scraped' });
  items().add(rows.length, { pipeline: PIPELINE, kind: 'quote', result: 'saved' });
  return {
    source: input.source,
    saved: rows.map((r) => r.assetCode),
    ...counts,
    rejected: rejections.map((r) => ({ asset: r.naturalKey.split('@')[0]!, reason: r.reason })),
    missing: fetched.missing,
    durationMs: Date.now() - started,
  };
}

export async function finishPricesRun(deps: PricesDeps, input: FinishPricesRunInput): Promise<FinishPricesRunResult> {
  for (const stream of input.streams) {
    await writeEtlLog(deps.db, {
      runId: input.runId,
      pipeline: PIPELINE,
      stream: stream.stream,
      status: stream.status,
      extracted: stream.extracted,
      loaded: stream.loaded,
      rejected: stream.rejected,
      durationMs: stream.durationMs,
      error: stream.error ?? null,
      details: stream.details ?? null,
    });
  }
  // A killed attempt's rows are "unchanged" to the retry that stores them again: count from the rows'
  // own run id and first-stored time against the run's start, which no retry moves.
  let counts: RecordedQuoteCounts | undefined;
  if (input.saved !== undefined) {
    const [c] = await deps.sql<{ inserted: number; updated: number }[]>`
      select count(*) filter (where q.first_stored_at >= r.started_at)::int as inserted,
             count(*) filter (where q.first_stored_at < r.started_at)::int as updated
        from prices.quotes q join etl.runs r on r.id = q.run_id
       where q.run_id = ${input.runId}`;
    counts = { inserted: c!.inserted, updated: c!.updated, unchanged: Math.max(0, input.saved - c!.inserted - c!.updated) };
  }
  const summary = counts ? { ...input.summary, counts: { ...(input.summary.counts as Record<string, number> | undefined), ...counts } } : input.summary;
  const status: RunStatus = input.outcome;
  await finishRun(deps.db, input.runId, status, summary);
  const [row] = await deps.sql<{ seconds: number }[]>`select extract(epoch from (finished_at - started_at))::float8 as seconds from etl.runs where id = ${input.runId}`;
  if (row) runDuration().record(row.seconds, { pipeline: PIPELINE, outcome: input.outcome });
  return counts ? { counts } : {};
}

export async function archivePriceWindow(deps: PricesDeps, input: PricesArchiveStepInput): Promise<PricesArchiveStepResult> {
  const days = input.days ?? pricesConfig(deps).archiveDays;
  const window = windowEnding(input.endDate, days);
  const resume = Context.current().info.heartbeatDetails as { cursor: ArchiveCursor; counts: ArchiveCounts } | undefined;
  const counts = await withHeartbeat<ArchiveCounts, { cursor: ArchiveCursor; counts: ArchiveCounts }>(async (progress) => {
    await ensureArchiveIndexes(deps.mongo);
    return archiveWindow(deps.sql, deps.mongo, window, {
      resumeFrom: resume?.cursor,
      counts: resume?.counts,
      ...(input.runKey ? { runKey: input.runKey } : {}),
      onChunk: (cursor, c) => progress({ cursor, counts: c }),
    });
  });
  return { window, days, counts };
}

export async function verifyPriceArchive(deps: PricesDeps, input: PricesArchiveStepInput): Promise<VerifyReport & { window: { from: string; to: string } }> {
  const days = input.days ?? pricesConfig(deps).archiveDays;
  const window = windowEnding(input.endDate, days);
  const report = await withHeartbeat(() => verifyWindow(deps.sql, deps.mongo, window));
  return { ...report, window };
}

/** The activities of the pipeline, as the worker registers them (see `bindActivities`). */
export const pricesActivities = { planPricesRun, fetchPriceQuotes, finishPricesRun, archivePriceWindow, verifyPriceArchive };

export type PricesActivities = BoundActivities<typeof pricesActivities>;

/** The prices activities with the worker's connections given: the only place their deps are closed over. */
export function bindPricesActivities(deps: PricesDeps): PricesActivities {
  return bindActivities(deps, pricesActivities);
}
