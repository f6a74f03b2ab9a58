// Every workflow the `moisson` task queue runs. Only workflow functions are exported here: the worker
// registers each export as a workflow type.
export { browserProbe } from './engine';
export { pmmpConsultationsWindow } from './pmmp/consultations';
export { pmmpNoticeBatch, pmmpReparse } from './pmmp/notices';
export { leadsJob, leadsSyncMailwizz, leadsValidate, leadsWhois } from './leads';
export { pricesArchive, pricesDaily } from './prices';
