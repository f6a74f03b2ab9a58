/**
 * Retries where operators look: every activity attempt after the first is counted in
 * `moisson_activity_retried` (activity, workflow, outcome), so an activity that only succeeded on its
 * third try shows on the metrics endpoint and not just in the worker log. Activities in flight are
 * `moisson_activities_running`, which the stuck-spider alert reads next to the request rate.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { activitiesRunning, activityRetries } from '../activities/engine/metrics';

class RetryMetrics implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { taskQueue, activityType } = this.ctx.info;
    const running = { task_queue: taskQueue, activity_type: activityType };
    activitiesRunning().add(1, running);
    try {
      return await this.countRetries(input, next);
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
