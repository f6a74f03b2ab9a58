/**
 * The `consolidationCluster` activity: reads the candidates in one query, clusters them in a worker
 * thread while heartbeating, writes one CLUSTERING cohort with one suggestion per cluster (nothing on a
 * dry run). The database is reached through `ClusterStore` (`store.ts` binds it to PostgreSQL):
 * `loadCandidates` (the displayed actors without a parent,
 * parents included, plus the existing children of parents) and `writeClusterCohort` (idempotent on
 * `runId`: a retried attempt finds its cohort instead of writing a second one).
 */
import { Worker } from 'node:worker_threads';
import { Context } from '@temporalio/activity';
import { entryScript } from '../../engine/entry-script';
import { parseClusterConfig, type ClusterConfig } from './config';
import type { ClusterFailure, ClusterRunResult, ClusterRunStats, ClusterSuggestion } from './index';
import type { ClusterCandidate } from './types';

export interface ClusterStore {
  loadCandidates(config: ClusterConfig): Promise<{ candidates: ClusterCandidate[]; children: ClusterCandidate[] }>;
  writeClusterCohort(cohort: {
    runId: string;
    /** The run's label (the workflow id's suffix), kept in the cohort's metadata. */
    label?: string | undefined;
    config: ClusterConfig;
    suggestions: ClusterSuggestion[];
    failures: ClusterFailure[];
    stats: ClusterRunStats;
  }): Promise<{ cohortId: string; suggestions?: number; failures?: number }>;
}

export interface ClusterActivityInput {
  /** The workflow's run id or another stable key: the cohort's idempotency key. */
  runId: string;
  config: unknown;
  label?: string;
  /** Cluster and count, write nothing. */
  dryRun?: boolean;
}

/** Small on purpose: it goes into the workflow history. */
export interface ClusterActivityResult {
  /** Null on a dry run. */
  cohortId: string | null;
  suggestions: number;
  failures: number;
  candidates: number;
  seconds: number;
}

/** A clustering that failed inside its worker thread (a bug, not bad input: retried by Temporal). */
export class ClusterWorkerError extends Error {
  override readonly name = 'ClusterWorkerError';
}

/** Runs `clusterActeurs` in a worker thread; `onTick` is called every `tickMs` while it runs. */
export async function clusterInWorker(
  candidates: ClusterCandidate[],
  children: ClusterCandidate[],
  config: unknown,
  onTick: () => void = () => {},
  tickMs = 5_000,
): Promise<ClusterRunResult> {
  const script = entryScript('worker-thread', import.meta.url);
  const workerData = { candidates, children, config };
  // From source (tsx), the thread registers tsx's loader before importing the TypeScript file: Node 20
  // does not hand `--import` hooks to worker threads.
  const worker = script.pathname.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`, { eval: true, workerData })
    : new Worker(script, { workerData });
  const timer = setInterval(onTick, tickMs);
  try {
    return await new Promise<ClusterRunResult>((resolve, reject) => {
      worker.once('message', (message: { ok: true; result: ClusterRunResult } | { ok: false; error: { name: string; message: string } }) => {
        if (message.ok) resolve(message.result);
        else reject(new ClusterWorkerError(`clustering failed in its worker thread: ${message.error.name}: ${message.error.message}`));
      });
      worker.once('error', (err) => reject(new ClusterWorkerError(`clustering worker thread crashed: ${err.message}`)));
      worker.once('exit', (code) => {
        if (code !== 0) reject(new ClusterWorkerError(`clustering worker thread exited with code ${code}`));
      });
    });
  } finally {
    clearInterval(timer);
    await worker.terminate();
  }
}

export interface ClusterDeps {
  store: ClusterStore;
}

export async function consolidationClusterRun(deps: ClusterDeps, input: ClusterActivityInput): Promise<ClusterActivityResult> {
  const { store } = deps;
  // A bad config fails at once, before any read (ClusterConfigError is non-retryable).
  const config = parseClusterConfig(input.config);
  const started = performance.now();
  const context = Context.current();
  context.heartbeat({ phase: 'load' });
  const { candidates, children } = await store.loadCandidates(config);
  context.heartbeat({ phase: 'cluster', candidates: candidates.length });
  const result = await clusterInWorker(candidates, children, config, () => context.heartbeat({ phase: 'cluster', candidates: candidates.length }));
  for (const failure of result.failures) {
    context.log.warn('cluster skipped', { clusterId: failure.clusterId, acteurIds: failure.acteurIds, error: failure.error });
  }
  if (input.dryRun) {
    return {
      cohortId: null,
      suggestions: result.suggestions.length,
      failures: result.failures.length,
      candidates: candidates.length,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  }
  context.heartbeat({ phase: 'write', suggestions: result.suggestions.length });
  const written = await store.writeClusterCohort({ runId: input.runId, label: input.label, config, ...result });
  return {
    cohortId: written.cohortId,
    suggestions: written.suggestions ?? result.suggestions.length,
    failures: written.failures ?? result.failures.length,
    candidates: candidates.length,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

/** The clustering activity, as the worker registers it (see `bindActivities`). */
export const consolidationClusterActivities = { consolidationClusterRun };
