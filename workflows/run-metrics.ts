/**
 * Run durations of the pipelines that keep no `etl.runs` row (consolidation, leads): a workflow interceptor
 * measures each workflow chain from its first run's start to its end in workflow time (deterministic) and
 * hands it to the worker through a sink, which records `moisson_run_duration_seconds{pipeline, outcome}`
 * like the other pipelines' finish activities do (workers/run-metrics.ts). A sink adds no command to the
 * history, so replaying an older history is unchanged; it is not called during replay, so a run is
 * counted once. Not exported by workflows/index.ts: the worker registers it as an interceptor module.
 */
import { ContinueAsNew, isCancellation, proxySinks, workflowInfo, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { contractOf } from './catalog';

/** The pipelines whose runs are measured here; the others record theirs from `etl.runs` when they finish. */
export const MEASURED_PIPELINES: readonly string[] = ['consolidation', 'leads'];

/**
 * A run can end well and still have been cancelled: a leads job stopped by its `cancel` signal returns
 * `{ status: 'cancelled' }` rather than throwing, and is counted as cancelled like one Temporal cancelled.
 */
function outcomeOf(result: unknown): RunEnded['outcome'] {
  return typeof result === 'object' && result !== null && (result as { status?: unknown }).status === 'cancelled' ? 'cancelled' : 'success';
}

export interface RunEnded {
  pipeline: string;
  workflowType: string;
  outcome: 'success' | 'failure' | 'cancelled';
  seconds: number;
}

export interface RunMetricsSinks extends Sinks {
  runMetrics: { ended(run: RunEnded): void };
}

const { runMetrics } = proxySinks<RunMetricsSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        const { workflowType, startTime } = workflowInfo();
        const pipeline = contractOf(workflowType)?.pipeline;
        if (!pipeline || !MEASURED_PIPELINES.includes(pipeline)) return next(input);
        // From the chain's first start: a run continued as new is measured once, when the last one ends.
        const ended = (outcome: RunEnded['outcome']) => runMetrics.ended({ pipeline, workflowType, outcome, seconds: (Date.now() - startTime.getTime()) / 1000 });
        try {
          const result = await next(input);
          ended(outcomeOf(result));
          return result;
        } catch (err) {
          if (!(err instanceof ContinueAsNew)) ended(isCancellation(err) ? 'cancelled' : 'failure');
          throw err;
        }
      },
    },
  ],
});
