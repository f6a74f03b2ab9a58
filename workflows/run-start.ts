/**
 * The first step of every moisson workflow, in workflow code: its input through its contract's schema
 * (`parseWorkflowInput`), then its search attributes when nobody gave them. Runs started through
 * `control/` or a Schedule carry them from their start; a run started by hand (`temporal workflow start`,
 * the Web UI's "Start workflow") does not, and would be invisible to the `MoissonPipeline = …` filters the
 * README teaches. Such a run labels itself from its own input, the same labels `control/` would have given.
 */
import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { parseWorkflowInput, runSearchAttributes, SEARCH_ATTRIBUTES, type WorkflowContract } from './contracts';

/** Histories recorded before runs labelled themselves replay without the upsert. */
export const SELF_LABELS_PATCH = 'moisson-self-labels';

export function acceptRun<S extends z.ZodType>(c: WorkflowContract<S, unknown, unknown>, raw: unknown): z.output<S> {
  const input = parseWorkflowInput(c, raw);
  if (workflowInfo().typedSearchAttributes.get(SEARCH_ATTRIBUTES.pipeline) === undefined && patched(SELF_LABELS_PATCH)) {
    // `Date` is the workflow's deterministic clock: the day a daily run defaults to is the same on replay.
    upsertSearchAttributes(runSearchAttributes(c, c.withDefaults(input, new Date())));
  }
  return input;
}
