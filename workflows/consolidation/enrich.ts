/**
 * Enrichment as runs. `consolidationEnrich` (id `consolidation-enrich-<kind>`): pages of actors through one
 * enrichment kind, each page one activity writing its new proposals as suggestion cohorts of this run;
 * continues as new when the history grows, carrying the cursor and the totals. `consolidationSireneLoad`
 * (id `consolidation-sirene-load`): INSEE's establishment stock into PostgreSQL, one heartbeating activity.
 */
import { ApplicationFailure, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ConsolidationActivities, EnrichKind, SireneLoadResult } from '../../activities/consolidation';

/** The enrichment kinds a run can be started for (the activities' list, checked against it by type). */
export const ENRICH_KINDS = ['ban', 'sirene-closed'] as const satisfies readonly EnrichKind[];

export const consolidationEnrichWorkflowId = (kind: EnrichKind) => `consolidation-enrich-${kind}`;
export const CONSOLIDATION_SIRENE_LOAD_WORKFLOW_ID = 'consolidation-sirene-load';

const checking = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigurationError', 'InvalidInputError', 'NotAvailableError'] },
});

const enriching = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
});

const loading = proxyActivities<ConsolidationActivities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 minute', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 4 },
});

export interface ConsolidationEnrichInput {
  kind: EnrichKind;
  /** Actors per page (the configured CONSOLIDATION_ENRICH_PAGE_SIZE when absent). */
  pageSize?: number;
  /** Carried over continue-as-new. */
  state?: { execution: string; after: string; totals: ConsolidationEnrichResult };
}

export interface ConsolidationEnrichResult {
  kind: EnrichKind;
  pages: number;
  actors: number;
  proposals: number;
  suggestions: Record<string, number>;
}

export async function consolidationEnrich(input: ConsolidationEnrichInput): Promise<ConsolidationEnrichResult> {
  if (!input || !(ENRICH_KINDS as readonly string[]).includes(input.kind)) {
    throw ApplicationFailure.nonRetryable(`input.kind must be one of ${ENRICH_KINDS.join(', ')}, got ${JSON.stringify(input?.kind)}`, 'InvalidInputError');
  }
  const { kind } = input;
  let state = input.state;
  if (!state) {
    await checking.consolidationEnrichCheck({ kind });
    state = { execution: workflowInfo().runId, after: '', totals: { kind, pages: 0, actors: 0, proposals: 0, suggestions: {} } };
  }
  const totals = state.totals;
  let after = state.after;
  for (;;) {
    const page = await enriching.consolidationEnrichPage({ kind, execution: state.execution, after, ...(input.pageSize ? { limit: input.pageSize } : {}) });
    totals.pages++;
    totals.actors += page.actors;
    totals.proposals += page.proposals;
    for (const [type, n] of Object.entries(page.suggestions)) totals.suggestions[type] = (totals.suggestions[type] ?? 0) + (n ?? 0);
    if (page.next === null) return totals;
    after = page.next;
    if (workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof consolidationEnrich>({ ...input, state: { execution: state.execution, after, totals } });
    }
  }
}

export async function consolidationSireneLoad(): Promise<SireneLoadResult & { url: string }> {
  return loading.consolidationSireneLoad();
}
