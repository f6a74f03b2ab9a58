// Every workflow the `moisson` task queue runs. Only workflow functions are exported here: the worker
// registers each export as a workflow type.
export { apisyncRun } from './apisync';
export { browserProbe } from './engine';
export { pmmpBackfill, pmmpMonth } from './pmmp/backfill';
export { pmmpConsultationsWindow } from './pmmp/consultations';
export { pmmpBdcWindow, pmmpDaily } from './pmmp/daily';
export { pmmpNoticeBatch, pmmpNoticeDocuments, pmmpReparse } from './pmmp/notices';
export { leadsJob, leadsSyncMailwizz, leadsValidate, leadsWhois } from './leads';
export { pricesArchive, pricesDaily } from './prices';
export { consolidationApply, consolidationCluster, consolidationIngest } from './consolidation';
