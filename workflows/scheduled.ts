/**
 * What a Schedule starts. A Schedule's action has a fixed workflow id (Temporal appends the scheduled
 * time), and it cannot compute "yesterday in Casablanca" or the run's own id. So it starts this thin
 * workflow, which makes the contract's clock defaults explicit from the scheduled time, and starts the
 * run itself as a child under the contract's workflow id: the scheduled `pmmp-daily-2026-11-20` is the
 * same run as `moisson pmmp daily --day 2026-11-20` or the API's, and a run already going for that id
 * is not duplicated. The run is abandoned by its trigger (it lives on its own if the trigger is
 * terminated), and the trigger waits for it, so the Schedule's overlap policy sees the run.
 */
import { defineSearchAttributeKey, SearchAttributeType, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import { contractOf, WORKFLOW_TYPES, type WorkflowType } from './catalog';
import { parseWorkflowInput, runSearchAttributes } from './contracts';
import { executionTimeout } from './timeouts';

/** Set by Temporal on every workflow a Schedule starts. */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const ScheduledRunInputSchema = z.strictObject({
  workflowType: z.enum(WORKFLOW_TYPES as [WorkflowType, ...WorkflowType[]]),
  input: z.record(z.string(), z.unknown()).default({}),
});
export type ScheduledRunInput = z.input<typeof ScheduledRunInputSchema>;

export interface ScheduledRunResult {
  workflowId: string;
  /** False when that run was already going (started by hand, or a catch-up): it was left alone. */
  started: boolean;
}

const scheduledRunContract = { workflowType: 'scheduledRun', input: ScheduledRunInputSchema };

export async function scheduledRun(raw: ScheduledRunInput): Promise<ScheduledRunResult> {
  const { workflowType, input: rawInput } = parseWorkflowInput(scheduledRunContract, raw);
  const c = contractOf(workflowType)!;
  const info = workflowInfo();
  const at = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime;
  const input = c.withDefaults(parseWorkflowInput(c, rawInput), at);
  const workflowId = c.workflowId(input);
  try {
    const run = await startChild(c.workflowType, {
      workflowId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // The run's own attributes (its day, its source), as the CLI and the API set them.
      typedSearchAttributes: runSearchAttributes(c, input),
      ...executionTimeout(c.workflowType),
    });
    await run.result();
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}
