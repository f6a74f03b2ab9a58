/**
 * `/api/v1/health/dependencies`: the console's Health tab. Each dependency (PostgreSQL, MongoDB —
 * FerretDB in the stack —, Temporal) with its state, latency and, when down, why; who polls the task
 * queues; every Schedule with its next runs. A dependency that is down is a state in a 200 answer, never
 * a 500: the page shows what is wrong instead of failing to load.
 */
import { z } from 'zod';
import { scheduleViews, taskQueuePollers } from '../../control/temporal-health';
import type { ApiContext, ZodApp } from '../context';
import { commonErrors } from '../errors';
import { checkDependencies, timed } from './checks';

const StateSchema = z.object({ status: z.enum(['up', 'down']), latency_ms: z.number(), error: z.string().optional() });

const PollerSchema = z.object({ identity: z.string(), last_access_at: z.string().nullable(), rate_per_second: z.number() });

const DependenciesSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checked_at: z.string(),
    dependencies: z.array(StateSchema.extend({ name: z.string() })),
    task_queues: z.array(
      StateSchema.extend({
        name: z.string(),
        role: z.enum(['main', 'browser']),
        workflow_pollers: z.array(PollerSchema),
        activity_pollers: z.array(PollerSchema),
      }).describe('down: Temporal did not answer; up with no pollers: no worker serves the queue'),
    ),
    schedules: StateSchema.extend({
      items: z.array(
        z.object({
          schedule_id: z.string(),
          workflow_type: z.string().nullable(),
          description: z.string().nullable(),
          declared: z.boolean().describe("declared by a pipeline's contract"),
          on_server: z.boolean().describe('false: declared but never applied (`moisson schedules apply`)'),
          paused: z.boolean(),
          next_runs: z.array(z.string()),
          last_run_at: z.string().nullable(),
        }),
      ),
    }),
  })
  .meta({ id: 'HealthDependencies' });

const pollers = (list: { identity: string; lastAccessAt: string | null; ratePerSecond: number }[]) =>
  list.map((p) => ({ identity: p.identity, last_access_at: p.lastAccessAt, rate_per_second: p.ratePerSecond }));

export function healthRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get('/api/v1/health/dependencies', {
    schema: {
      tags: ['system'],
      summary: "Each dependency's state and latency, the task queues' pollers, the Schedules and their next runs",
      description: 'Always 200 when the API itself answers: a dependency that is down is `status: down` with its `error`, and `status: degraded` overall.',
      response: { 200: DependenciesSchema, ...commonErrors },
    },
    config: { rateLimit: false },
    handler: async () => {
      const queues: { name: string; role: 'main' | 'browser' }[] = [{ name: ctx.temporalTaskQueue, role: 'main' }];
      if (ctx.temporalBrowserTaskQueue && ctx.temporalBrowserTaskQueue !== ctx.temporalTaskQueue) queues.push({ name: ctx.temporalBrowserTaskQueue, role: 'browser' });
      const [deps, queueStates, schedules] = await Promise.all([
        checkDependencies(ctx.health),
        Promise.all(queues.map(async (q) => ({ q, state: await timed(`task queue ${q.name}`, async () => taskQueuePollers(await ctx.temporal(), ctx.temporalNamespace, q.name)) }))),
        timed('Temporal schedules', async () => scheduleViews(await ctx.temporal())),
      ]);
      const task_queues = queueStates.map(({ q, state: { value, ...state } }) => ({
        ...state,
        name: q.name,
        role: q.role,
        workflow_pollers: pollers(value?.workflowPollers ?? []),
        activity_pollers: pollers(value?.activityPollers ?? []),
      }));
      const { value: scheduleList, ...scheduleState } = schedules;
      const degraded = deps.some(([, d]) => d.status === 'down') || task_queues.some((t) => t.status === 'down') || scheduleState.status === 'down';
      return {
        status: degraded ? ('degraded' as const) : ('ok' as const),
        checked_at: ctx.now().toISOString(),
        dependencies: deps.map(([name, d]) => ({ name, ...d })),
        task_queues,
        schedules: {
          ...scheduleState,
          items: (scheduleList ?? []).map((s) => ({
            schedule_id: s.scheduleId,
            workflow_type: s.workflowType,
            description: s.description,
            declared: s.declared,
            on_server: s.onServer,
            paused: s.paused,
            next_runs: s.nextRuns,
            last_run_at: s.lastRunAt,
          })),
        },
      };
    },
  });
}
