/**
 * The Schedules moisson runs on, as data, and `applySchedules`, which makes the server match them:
 * creates what is missing, updates what differs, leaves the rest alone. Running it twice changes nothing.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { ApisyncRunInput } from '../workflows/apisync';
import type { PmmpDailyInput } from '../workflows/pmmp/daily';
import type { PricesDailyInput } from '../workflows/prices';
import { executionTimeout } from '../workflows/timeouts';

export interface ScheduleDefinition {
  scheduleId: string;
  description: string;
  workflowType: string;
  /** Temporal appends the scheduled time to it, so every run has a readable, unique id. */
  workflowId: string;
  args: unknown[];
  /** A time of day (`hour` absent: every hour at `minute`), or `interval` for every N minutes. */
  calendar?: { hour?: number; minute: number };
  interval?: { every: string };
  timezone: string;
  /** How far back missed runs are caught up after an outage (the SDK default is a year). */
  catchupWindow: string;
  overlap: ScheduleOverlapPolicy;
}

export const SCHEDULES: ScheduleDefinition[] = [
  {
    scheduleId: 'prices-daily',
    description: 'Daily prices in MRU (FX, crypto, metals), then the 7-day archive to MongoDB',
    workflowType: 'pricesDaily',
    workflowId: 'prices-daily',
    args: [{} satisfies PricesDailyInput],
    // The free FX feeds publish their day shortly after midnight UTC; Mauritania is on UTC.
    calendar: { hour: 6, minute: 0 },
    timezone: 'Africa/Nouakchott',
    catchupWindow: '1 day',
    overlap: ScheduleOverlapPolicy.SKIP,
  },
  {
    scheduleId: 'pmmp-daily',
    description: "Yesterday's consultations, notices (PV, résultats, achèvements) and /bdc/ results from marchespublics.gov.ma, then the award documents",
    workflowType: 'pmmpDaily',
    workflowId: 'pmmp-daily',
    // No day: the run reads yesterday in Casablanca, so a caught-up run still means its own day.
    args: [{} satisfies PmmpDailyInput],
    // The portal is quiet at night and the previous day is complete by then.
    calendar: { hour: 2, minute: 0 },
    timezone: 'Africa/Casablanca',
    catchupWindow: '1 day',
    overlap: ScheduleOverlapPolicy.SKIP,
  },
  {
    scheduleId: 'apisync-pennylane',
    description: 'Pennylane → PostgreSQL, incremental (change feed since the watermark; full when it must)',
    workflowType: 'apisyncRun',
    workflowId: 'apisync-pennylane',
    args: [{ source: 'pennylane', mode: 'incremental' } satisfies ApisyncRunInput],
    interval: { every: '10 minutes' },
    timezone: 'UTC',
    // A missed run is not worth catching up: the next one applies everything since the watermark.
    catchupWindow: '10 minutes',
    // A run still going when the next is due (a full after a long outage) is left to finish.
    overlap: ScheduleOverlapPolicy.SKIP,
  },
  {
    scheduleId: 'leads-validate',
    description: 'Validate new scraped contacts (syntax, roles, disposable, blacklist, MX), categorize and route them',
    workflowType: 'leadsValidate',
    workflowId: 'leads-validate',
    args: [{}],
    calendar: { minute: 0 },
    timezone: 'UTC',
    // An hour missed is caught up by the next run, which takes every contact still new.
    catchupWindow: '1 hour',
    overlap: ScheduleOverlapPolicy.SKIP,
  },
  {
    scheduleId: 'leads-sync-mailwizz',
    description: 'Push validated contacts to MailWizz within the day\'s warm-up quota',
    workflowType: 'leadsSyncMailwizz',
    workflowId: 'leads-sync-mailwizz',
    args: [{}],
    // Half an hour after validation, as the seed's cron did.
    calendar: { minute: 30 },
    timezone: 'UTC',
    catchupWindow: '1 hour',
    overlap: ScheduleOverlapPolicy.SKIP,
  },
  {
    scheduleId: 'consolidation-apply',
    description: 'Apply the accepted consolidation suggestions (ATRAITER), one transaction each',
    workflowType: 'consolidationApply',
    workflowId: 'consolidation-apply',
    args: [{}],
    interval: { every: '5 minutes' },
    timezone: 'UTC',
    // The next run takes every suggestion still ATRAITER: nothing to catch up.
    catchupWindow: '5 minutes',
    // QFDMOD's max_active_runs=1: a long run is left to finish, never doubled.
    overlap: ScheduleOverlapPolicy.SKIP,
  },
];

export type ApplyOutcome = { scheduleId: string; change: 'created' | 'updated' | 'unchanged' };

function toOptions(def: ScheduleDefinition, taskQueue: string): ScheduleOptions {
  return {
    scheduleId: def.scheduleId,
    spec: {
      ...(def.calendar
        ? {
            calendars: [
              def.calendar.hour === undefined ? { hour: { start: 0, end: 23 }, minute: def.calendar.minute } : { hour: def.calendar.hour, minute: def.calendar.minute },
            ],
          }
        : {}),
      ...(def.interval ? { intervals: [{ every: def.interval.every }] } : {}),
      timezone: def.timezone,
    },
    action: { type: 'startWorkflow', workflowType: def.workflowType, workflowId: def.workflowId, taskQueue, args: def.args, ...executionTimeout(def.workflowType) },
    policies: { catchupWindow: def.catchupWindow, overlap: def.overlap },
    memo: { description: def.description },
  };
}

/** What we control of a schedule, in a form two descriptions can be compared by. */
function fingerprint(desc: ScheduleDescription): string {
  const action = desc.action.type === 'startWorkflow' ? desc.action : undefined;
  return JSON.stringify({
    calendars: desc.spec.calendars?.map((c) => ({ hour: c.hour, minute: c.minute, dayOfWeek: c.dayOfWeek })),
    intervals: desc.spec.intervals?.map((i) => ({ every: i.every, offset: i.offset })),
    timezone: desc.spec.timezone,
    workflowType: action?.workflowType,
    workflowId: action?.workflowId,
    taskQueue: action?.taskQueue,
    args: action?.args,
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
