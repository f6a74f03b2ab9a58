// Every workflow the `moisson` task queue runs. Only workflow functions are exported here: the worker
// registers each export as a workflow type. Their inputs, ids and queries are in each pipeline's
// contract (workflows/<pipeline>/contract.ts; all of them in workflows/catalog.ts).
export { apisyncRun } from './apisync';
export { browserProbe } from './engine';
export { pmmpBackfill, pmmpMonth } from './pmmp/backfill';
export { pmmpConsultationsWindow } from './pmmp/consultations';
export { pmmpBdcWindow, pmmpDaily } from './pmmp/daily';
export { pmmpNoticeBatch, pmmpNoticeDocuments, pmmpReparse } from './pmmp/notices';
export { leadsJob, leadsSyncMailwizz, leadsValidate, leadsWhois } from './leads';
export { pricesArchive, pricesDaily } from './prices';
export {
  consolidationApply,
  consolidationCleanup,
  consolidationCluster,
  consolidationEnrich,
  consolidationExport,
  consolidationIngest,
  consolidationPublish,
  consolidationSireneLoad,
  consolidationStats,
} from './consolidation';
export { scheduledRun } from './scheduled';
