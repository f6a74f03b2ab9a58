/**
 * The worker's side of workflows/run-metrics.ts: a chain's duration and outcome, from the workflow's sink,
 * into `moisson_run_duration_seconds` (the same histogram and labels as the other pipelines' runs).
 */
import { fileURLToPath } from 'node:url';
import type { InjectedSinks } from '@temporalio/worker';
import { runDuration } from '../activities/engine/metrics';
import type { RunMetricsSinks } from '../workflows/run-metrics';

/** The workflow interceptor module, for Worker.create and for bundles built ahead (tests). */
export const runMetricsInterceptorModule = fileURLToPath(new URL('../workflows/run-metrics.ts', import.meta.url));

export function runMetricsSinks(): InjectedSinks<RunMetricsSinks> {
  return {
    runMetrics: {
      ended: {
        fn(_info, run) {
          runDuration().record(run.seconds, { pipeline: run.pipeline, outcome: run.outcome });
        },
        callDuringReplay: false,
      },
    },
  };
}
