/**
 * The Schedules moisson runs on (declared in each pipeline's contract), and `applySchedules`, which makes the server match them:
 * creates what is missing, updates what differs, leaves the rest alone. Running it twice changes nothing.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { SearchAttributePair, TypedSearchAttributes } from '@temporalio/common';
import { contractOf, SCHEDULES } from '../workflows/catalog';
import { searchAttributePairs, type RunSchedule } from '../workflows/contracts';
import type { ScheduledRunInput } from '../workflows/scheduled';
import { executionTimeout } from '../workflows/timeouts';

export { SCHEDULES } from '../workflows/catalog';
export type ScheduleDefinition = RunSchedule;

/** Every Schedule starts `scheduledRun`, which starts the run under its contract's id (see workflows/scheduled.ts). */
export const SCHEDULED_RUN_WORKFLOW = 'scheduledRun';

const OVERLAP = { skip: ScheduleOverlapPolicy.SKIP } as const;

export type ApplyOutcome = { scheduleId: string; change: 'created' | 'updated' | 'unchanged' };

function toOptions(def: RunSchedule, taskQueue: string): ScheduleOptions {
  const args: [ScheduledRunInput] = [{ workflowType: def.workflowType as ScheduledRunInput['workflowType'], input: def.input }];
  return {
    scheduleId: def.scheduleId,
    spec: {
      ...(def.calendar
        ? {
            calendars: [
              {
                ...(def.calendar.hour === undefined ? { hour: { start: 0, end: 23 } } : { hour: def.calendar.hour }),
                minute: def.calendar.minute,
                ...(def.calendar.dayOfMonth ? { dayOfMonth: def.calendar.dayOfMonth } : {}),
                ...(def.calendar.dayOfWeek ? { dayOfWeek: def.calendar.dayOfWeek } : {}),
              },
            ],
          }
        : {}),
      ...(def.interval ? { intervals: [{ every: def.interval.every }] } : {}),
      timezone: def.timezone,
    },
    // The trigger's id; Temporal appends the scheduled time. The run's own id comes from its contract.
    // The trigger waits for its run, so it is bounded as the run is (workflows/timeouts.ts).
    // The trigger carries its pipeline (the Web UI filters a Schedule's triggers with their runs); the
    // run's day is known only at the scheduled time: scheduledRun sets the run's own attributes.
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_RUN_WORKFLOW,
      workflowId: `schedule-${def.scheduleId}`,
      taskQueue,
      args,
      typedSearchAttributes: searchAttributePairs(contractOf(def.workflowType)!.pipeline, {}),
      ...executionTimeout(def.workflowType),
    },
    policies: { catchupWindow: def.catchupWindow, overlap: OVERLAP[def.overlap] },
    memo: { description: def.description },
  };
}

function attributePairs(attributes: SearchAttributePair[] | TypedSearchAttributes | undefined): SearchAttributePair[] {
  if (!attributes) return [];
  return Array.isArray(attributes) ? attributes : attributes.getAll();
}

/** What we control of a schedule, in a form two descriptions can be compared by. */
function fingerprint(desc: ScheduleDescription): string {
  const action = desc.action.type === 'startWorkflow' ? desc.action : undefined;
  return JSON.stringify({
    calendars: desc.spec.calendars?.map((c) => ({ hour: c.hour, minute: c.minute, dayOfWeek: c.dayOfWeek, dayOfMonth: c.dayOfMonth })),
    intervals: desc.spec.intervals?.map((i) => ({ every: i.every, offset: i.offset })),
    timezone: desc.spec.timezone,
    workflowType: action?.workflowType,
    workflowId: action?.workflowId,
    taskQueue: action?.taskQueue,
    args: action?.args,
    searchAttributes: attributePairs(action?.typedSearchAttributes).map((p) => [p.key.name, p.value]),
    workflowExecutionTimeout: action?.workflowExecutionTimeout,
    catchupWindow: desc.policies.catchupWindow,
    overlap: desc.policies.overlap,
  });
}

export async function applySchedules(client: Client, taskQueue: string, definitions = SCHEDULES, opts: { dryRun?: boolean } = {}): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  for (const def of definitions) {
    const wanted = toOptions(def, taskQueue);
    const handle = client.schedule.getHandle(def.scheduleId);
    let current: ScheduleDescription | undefined;
    try {
      current = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
    if (!current) {
      if (!opts.dryRun) await client.schedule.create(wanted);
      outcomes.push({ scheduleId: def.scheduleId, change: 'created' });
      continue;
    }
    const before = fingerprint(current);
    if (!opts.dryRun) {
      await handle.update((prev) => ({ ...prev, spec: wanted.spec, action: wanted.action, policies: { ...prev.policies, ...wanted.policies } }));
    }
    const after = opts.dryRun ? undefined : fingerprint(await handle.describe());
    outcomes.push({ scheduleId: def.scheduleId, change: after !== undefined && after === before ? 'unchanged' : 'updated' });
  }
  return outcomes;
}
