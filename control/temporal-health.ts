/**
 * What the Temporal side of the platform looks like from a client: who polls each task queue (a queue
 * nobody polls means runs wait for a worker that is not there) and every Schedule with its next runs,
 * matched with the Schedules moisson declares (one declared but absent from the server was never
 * applied: `moisson schedules apply`). Read-only; the API's health routes serve it.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SCHEDULES } from './schedules';

export interface PollerView {
  identity: string;
  /** When it last asked for a task (ISO). */
  lastAccessAt: string | null;
  ratePerSecond: number;
}

export interface TaskQueuePollers {
  taskQueue: string;
  workflowPollers: PollerView[];
  activityPollers: PollerView[];
}

// A CommonJS module: its namespace is its default export under ESM.
const { TaskQueueType, TaskQueueKind } = proto.temporal.api.enums.v1;

function timestampIso(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  const ms = Number(String(ts.seconds)) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

export async function taskQueuePollers(client: Client, namespace: string, taskQueue: string): Promise<TaskQueuePollers> {
  const describe = async (type: number): Promise<PollerView[]> => {
    const res = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL }, taskQueueType: type });
    return (res.pollers ?? []).map((p) => ({ identity: p.identity ?? '', lastAccessAt: timestampIso(p.lastAccessTime), ratePerSecond: p.ratePerSecond ?? 0 }));
  };
  const [workflowPollers, activityPollers] = await Promise.all([describe(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), describe(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)]);
  return { taskQueue, workflowPollers, activityPollers };
}

export interface ScheduleView {
  scheduleId: string;
  /** The run the Schedule starts (from its declaration; null for a Schedule moisson does not declare). */
  workflowType: string | null;
  description: string | null;
  /** Declared by a pipeline's contract. */
  declared: boolean;
  /** Present on the server (false: declared, never applied). */
  onServer: boolean;
  paused: boolean;
  /** The next few action times (ISO), soonest first. */
  nextRuns: string[];
  /** The last action's scheduled time (ISO). */
  lastRunAt: string | null;
}

export async function scheduleViews(client: Client): Promise<ScheduleView[]> {
  const declared = new Map(SCHEDULES.map((s) => [s.scheduleId, s]));
  const out: ScheduleView[] = [];
  for await (const s of client.schedule.list()) {
    const def = declared.get(s.scheduleId);
    const last = s.info.recentActions.at(-1);
    out.push({
      scheduleId: s.scheduleId,
      workflowType: def?.workflowType ?? null,
      description: def?.description ?? (typeof s.memo?.description === 'string' ? s.memo.description : null),
      declared: def !== undefined,
      onServer: true,
      paused: s.state.paused,
      nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
      lastRunAt: last ? last.scheduledAt.toISOString() : null,
    });
  }
  const listed = new Set(out.map((s) => s.scheduleId));
  for (const def of SCHEDULES) {
    if (!listed.has(def.scheduleId)) {
      out.push({ scheduleId: def.scheduleId, workflowType: def.workflowType, description: def.description, declared: true, onServer: false, paused: false, nextRuns: [], lastRunAt: null });
    }
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
