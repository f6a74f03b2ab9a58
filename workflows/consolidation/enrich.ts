/**
 * Enrichment as runs. `consolidationEnrich` (id `consolidation-enrich-<kind>`): pages of actors through one
 * enrichment kind, each page one activity writing its new proposals as suggestion cohorts of this run;
 * continues as new when the history grows, carrying the cursor and the totals. `consolidationSireneLoad`
 * (id `consolidation-sirene-load`): INSEE's establishment stock into PostgreSQL, one heartbeating activity.
 * Inputs, ids, retry settings and Schedules: ./contract.ts.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ConsolidationActivities } from '../../activities/consolidation';
import { acceptRun } from '../run-start';
import {
  CONSOLIDATION_ACTIVITIES,
  consolidationEnrichContract,
  consolidationSireneLoadContract,
  type ConsolidationEnrichInput,
  type ConsolidationEnrichResult,
  type ConsolidationSireneLoadResult,
} from './contract';

const checking = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.enrichChecking);
const enriching = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.enriching);
const loading = proxyActivities<ConsolidationActivities>(CONSOLIDATION_ACTIVITIES.sireneLoading);

export async function consolidationEnrich(raw: ConsolidationEnrichInput): Promise<ConsolidationEnrichResult> {
  const input = acceptRun(consolidationEnrichContract, raw);
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

export async function consolidationSireneLoad(raw: Record<string, never> = {}): Promise<ConsolidationSireneLoadResult> {
  acceptRun(consolidationSireneLoadContract, raw);
  return loading.consolidationSireneLoad();
}
