/**
 * Retries where operators look: every activity attempt after the first is counted in
 * `moisson_activity_retried` (activity, workflow, outcome), so an activity that only succeeded on its
 * third try shows on the metrics endpoint and not just in the worker log. Activities in flight are
 * `moisson_activities_running`, which the stuck-spider alert reads next to the request rate. Every failed
 * attempt is `moisson_errors` (pipeline, type): the pipeline is the run's (its workflow's contract), the
 * type the error vocabulary's class name (the failure's type once workers/errors.ts converted it).
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { activitiesRunning, activityRetries, pipelineErrors } from '../activities/engine/metrics';
import { contractOf } from '../workflows/catalog';

/** An ApplicationFailure's type (our error's class name), else the error's own name. */
function errorType(err: unknown): string {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && type) return type;
  return err instanceof Error ? err.name : typeof err;
}

class RetryMetrics implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { taskQueue, activityType } = this.ctx.info;
    const running = { task_queue: taskQueue, activity_type: activityType };
    activitiesRunning().add(1, running);
    try {
      return await this.countRetries(input, next);
    } catch (err) {
      const { workflowType } = this.ctx.info;
      // A cancelled attempt (its run cancelled, the worker shutting down) is no error of the pipeline's.
      if (!(err instanceof Error && err.name === 'CancelledFailure')) pipelineErrors().add(1, { pipeline: (workflowType && contractOf(workflowType)?.pipeline) || 'none', type: errorType(err) });
      throw err;
    } finally {
      activitiesRunning().add(-1, running);
    }
  }

  private async countRetries(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { attempt, activityType, workflowType } = this.ctx.info;
    if (attempt <= 1) return next(input);
    const labels = { activity: activityType, workflow: workflowType ?? 'none', attempt: attempt > 5 ? '>5' : String(attempt) };
    try {
      const result = await next(input);
      activityRetries().add(1, { ...labels, outcome: 'succeeded' });
      this.ctx.log.info(`succeeded on attempt ${attempt}`, { attempt });
      return result;
    } catch (err) {
      activityRetries().add(1, { ...labels, outcome: 'failed' });
      throw err;
    }
  }
}

export const retryMetrics: ActivityInterceptorsFactory = (ctx) => ({ inbound: new RetryMetrics(ctx) });
