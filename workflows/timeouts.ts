/**
 * How long a run of each workflow may take in all, set by whoever starts it (the CLI, the API's run
 * routes, the schedules): a run stuck past its bound — a workflow type no worker knows, a worker that
 * never comes back — ends `TimedOut` instead of staying Running for ever. The bound covers the whole
 * chain of continue-as-new. Workflows without a natural bound are absent: a backfill of years, a
 * reparse of every proof, a leads job that may sit paused for days.
 */
export const EXECUTION_TIMEOUTS: Readonly<Record<string, string>> = {
  pricesDaily: '6 hours',
  pricesArchive: '2 hours',
  pmmpDaily: '20 hours',
  pmmpConsultationsWindow: '2 days',
  apisyncRun: '2 days',
  leadsValidate: '6 hours',
  leadsSyncMailwizz: '6 hours',
  leadsWhois: '10 minutes',
  browserProbe: '3 minutes',
  consolidationIngest: '6 hours',
  consolidationApply: '6 hours',
  consolidationEnrich: '20 hours',
  consolidationSireneLoad: '20 hours',
  consolidationCluster: '2 hours',
  consolidationPublish: '2 hours',
  consolidationStats: '3 hours',
  consolidationExport: '8 hours',
  consolidationCleanup: '3 hours',
};

/** Start options for a workflow type: its execution timeout, when it has one. */
export function executionTimeout(workflowType: string): { workflowExecutionTimeout?: string } {
  const bound = EXECUTION_TIMEOUTS[workflowType];
  return bound ? { workflowExecutionTimeout: bound } : {};
}
