/**
 * Every contract and Schedule of the pipelines, by workflow type: what the control layer, the API's run
 * routes and `scheduledRun` look runs up in. Adding a workflow to a pipeline's contract and here is all
 * it takes for every entry point to start, list and watch it.
 */
import { APISYNC_SCHEDULES, apisyncRunContract } from './apisync/contract';
import {
  CONSOLIDATION_SCHEDULES,
  consolidationApplyContract,
  consolidationClusterContract,
  consolidationEnrichContract,
  consolidationIngestContract,
  consolidationSireneLoadContract,
  consolidationPublishContract,
  consolidationStatsContract,
  consolidationExportContract,
  consolidationCleanupContract,
} from './consolidation/contract';
import type { RunSchedule, WorkflowContract } from './contracts';
import { LEADS_SCHEDULES, leadsJobContract, leadsSyncMailwizzContract, leadsValidateContract, leadsWhoisContract } from './leads/contract';
import {
  PMMP_SCHEDULES,
  pmmpBackfillContract,
  pmmpBdcWindowContract,
  pmmpConsultationsWindowContract,
  pmmpDailyContract,
  pmmpMonthContract,
  pmmpNoticeBatchContract,
  pmmpNoticeDocumentsContract,
  pmmpReparseContract,
} from './pmmp/contract';
import { PRICES_SCHEDULES, pricesArchiveContract, pricesDailyContract } from './prices/contract';

export const CONTRACTS = {
  pricesDaily: pricesDailyContract,
  pricesArchive: pricesArchiveContract,
  pmmpDaily: pmmpDailyContract,
  pmmpBackfill: pmmpBackfillContract,
  pmmpMonth: pmmpMonthContract,
  pmmpConsultationsWindow: pmmpConsultationsWindowContract,
  pmmpBdcWindow: pmmpBdcWindowContract,
  pmmpNoticeBatch: pmmpNoticeBatchContract,
  pmmpNoticeDocuments: pmmpNoticeDocumentsContract,
  pmmpReparse: pmmpReparseContract,
  apisyncRun: apisyncRunContract,
  leadsJob: leadsJobContract,
  leadsValidate: leadsValidateContract,
  leadsSyncMailwizz: leadsSyncMailwizzContract,
  leadsWhois: leadsWhoisContract,
  consolidationIngest: consolidationIngestContract,
  consolidationApply: consolidationApplyContract,
  consolidationCluster: consolidationClusterContract,
  consolidationEnrich: consolidationEnrichContract,
  consolidationSireneLoad: consolidationSireneLoadContract,
  consolidationPublish: consolidationPublishContract,
  consolidationStats: consolidationStatsContract,
  consolidationExport: consolidationExportContract,
  consolidationCleanup: consolidationCleanupContract,
} as const;

export type WorkflowType = keyof typeof CONTRACTS;
export const WORKFLOW_TYPES = Object.keys(CONTRACTS) as WorkflowType[];

export function contractOf(workflowType: string): WorkflowContract | undefined {
  return (CONTRACTS as Record<string, WorkflowContract>)[workflowType];
}

export const SCHEDULES: RunSchedule[] = [...PRICES_SCHEDULES, ...PMMP_SCHEDULES, ...APISYNC_SCHEDULES, ...LEADS_SCHEDULES, ...CONSOLIDATION_SCHEDULES];
