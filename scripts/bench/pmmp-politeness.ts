/**
 * pmmp.politeness: the rate the crawl reaches with politeness on, against the rate configured. The crawl
 * is the worker's (crawlConsultationWindow, proofs and upserts included) through the fetcher the worker
 * builds: the configuration's defaults (the real portal's settings, DESIGN §3.1: one request at a time,
 * 0.5 req/s, a random 2–5 s pause after each response, robots.txt obeyed) and the fleet's shared budget
 * in PostgreSQL (etl.host_budgets), on a replica that records when each request arrived.
 *
 * - `pmmp.politeness`: those settings as they are. The 2–5 s pause is counted from the end of each
 *   response, so those settings cannot reach 0.5 req/s: their own ceiling is one request per (response
 *   time + 3.5 s mean pause); the ratio is the rate reached over that ceiling.
 * - `pmmp.politeness.rate`: the same crawl at the configured 0.5 req/s with the pause set to 0 (the rate
 *   alone binds): the ratio is the rate reached over the rate configured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createFetcher } from '../../activities/engine/fetcher';
import { createProofStore } from '../../activities/engine/proofs';
import { crawlConsultationWindow } from '../../activities/pmmp/consultations';
import { loadFetchConfig } from '../../schema/config';
import { startPortalReplica, type RequestLogEntry } from '../../tests/replicas/pmmp/index';
import { round, throwawayPostgres, type BenchContext, type BenchResult, type Scenario } from './support';

const REPLICA = { seed: 'politeness', today: '2026-11-20', consultations: 5_000, latencyMs: { min: 20, max: 120 } };
const WINDOW = { from: '2026-03-01', to: '2026-04-30' };

interface Measure {
  requests: number;
  seconds: number;
  reached: number;
  meanResponseMs: number;
  settings: { maxConcurrent: number; ratePerSecond: number; delayMs: [number, number] };
}

/** Crawls for `durationMs` (then cancels, as a worker shutting down would) and reads the arrivals off the replica. */
async function crawlFor(ctx: BenchContext, label: string, env: Record<string, string>, durationMs: number): Promise<Measure> {
  const config = loadFetchConfig({ FETCH_CONTACT: 'mailto:bench@example.org', ...env });
  if (config.politeness === false) throw new Error('pmmp.politeness: politeness is off in the configuration');
  const replica = await startPortalReplica({ seed: REPLICA.seed, today: REPLICA.today, consultations: REPLICA.consultations, knobs: { latencyMs: REPLICA.latencyMs } });
  const pg = await throwawayPostgres(ctx, `politeness_${label}`);
  const proofDir = await mkdtemp(join(tmpdir(), 'moisson-bench-politeness-'));
  const fetcher = createFetcher({ ...config, fleetBudget: pg.sql });
  try {
    const crawlDeps = { db: pg.db, fetcher, proofs: createProofStore({ db: pg.db, dir: proofDir }), portalUrl: `${replica.url}/index.php`, requestTimeoutMs: 120_000 };
    const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
    const activity = new MockActivityEnvironment({}, { logger: silent });
    const timer = setTimeout(() => activity.cancel(), durationMs);
    try {
      await activity.run(() => crawlConsultationWindow(crawlDeps, { from: WINDOW.from, to: WINDOW.to }));
      throw new Error(`pmmp.politeness: the window was crawled completely within ${durationMs / 1000} s; the measure needs a longer window`);
    } catch (err) {
      if (!activity.context.cancellationSignal.aborted) throw err;
    } finally {
      clearTimeout(timer);
    }
    const log: RequestLogEntry[] = replica.stats().log.filter((e) => !e.path.startsWith('/robots.txt')).sort((a, b) => a.receivedAt - b.receivedAt);
    if (log.length < 10) throw new Error(`pmmp.politeness: only ${log.length} requests in ${durationMs / 1000} s`);
    const seconds = (log.at(-1)!.receivedAt - log[0]!.receivedAt) / 1000;
    // Every gap but the last request's: its response time is not followed by a request.
    const meanResponseMs = log.slice(0, -1).reduce((s, e) => s + e.ms, 0) / (log.length - 1);
    return { requests: log.length, seconds, reached: (log.length - 1) / seconds, meanResponseMs, settings: config.politeness };
  } finally {
    await fetcher.close();
    await replica.close();
    await pg.drop();
    await rm(proofDir, { recursive: true, force: true });
  }
}

const politenessScenario: Scenario = {
  produces: ['pmmp.politeness', 'pmmp.politeness.rate'],
  description: 'the rate a window crawl reaches with politeness on (the real portal\'s settings, shared fleet budget) against the configured rate',
  async run(ctx) {
    const results: Record<string, BenchResult> = {};
    const common = {
      replica: `tests/replicas/pmmp in process: seed ${REPLICA.seed}, ${REPLICA.consultations} consultations, latency ${REPLICA.latencyMs.min}-${REPLICA.latencyMs.max} ms, no faults`,
      window: `${WINDOW.from}..${WINDOW.to}, crawled for a fixed time then cancelled`,
      budget: 'fleet (etl.host_budgets, one process): a round trip for each turn and one for its release',
      measuredOn: "the replica's arrival time of each request (first to last)",
    };
    if (ctx.wants('pmmp.politeness')) {
      ctx.log('  pmmp.politeness: the default settings (1 at a time, 0.5 req/s, 2-5 s pause) for 180 s');
      const m = await crawlFor(ctx, 'real', {}, 180_000);
      const [min, max] = m.settings.delayMs;
      const ceiling = Math.min(m.settings.ratePerSecond || Infinity, 1000 / (m.meanResponseMs + (min + max) / 2));
      results['pmmp.politeness'] = {
        value: round(m.reached, 3),
        unit: 'requests/s',
        baseline: round(ceiling, 3),
        baselineName: 'the ceiling of the settings: 1 / (mean response time + mean pause), the configured rate being 0.5 req/s',
        ratio: round(m.reached / ceiling, 3),
        params: {
          ...common,
          settings: m.settings,
          configuredRatePerSecond: m.settings.ratePerSecond,
          requests: m.requests,
          seconds: round(m.seconds, 1),
          meanResponseMs: round(m.meanResponseMs, 1),
          note: `the pause (${min}-${max} ms, mean ${(min + max) / 2}) follows each response, so these settings allow ${round(ceiling, 3)} req/s, not ${m.settings.ratePerSecond}; with ${m.requests} random pauses the ratio carries about ±${round((100 * (max - min)) / Math.sqrt(12) / Math.sqrt(m.requests) / ((min + max) / 2 + m.meanResponseMs), 1)}% of sampling noise`,
        },
      };
    }
    if (ctx.wants('pmmp.politeness.rate')) {
      ctx.log('  pmmp.politeness.rate: 1 at a time, 0.5 req/s, no pause, for 90 s');
      const m = await crawlFor(ctx, 'rate', { FETCH_DELAY_MIN_MS: '0', FETCH_DELAY_MAX_MS: '0' }, 90_000);
      results['pmmp.politeness.rate'] = {
        value: round(m.reached, 3),
        unit: 'requests/s',
        baseline: m.settings.ratePerSecond,
        baselineName: 'the configured rate (FETCH_RATE_PER_SECOND)',
        ratio: round(m.reached / m.settings.ratePerSecond, 3),
        params: { ...common, settings: m.settings, requests: m.requests, seconds: round(m.seconds, 1), meanResponseMs: round(m.meanResponseMs, 1) },
      };
    }
    return results;
  },
};

export const pmmpPolitenessScenarios: Scenario[] = [politenessScenario];
