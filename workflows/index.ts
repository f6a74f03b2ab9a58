// Every workflow the `moisson` task queue runs. Only workflow functions are exported here: the worker
// registers each export as a workflow type.
export { browserProbe } from './engine';
export { pricesArchive, pricesDaily } from './prices';
