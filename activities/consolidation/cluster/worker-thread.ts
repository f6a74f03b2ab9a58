/**
 * The worker thread that runs a clustering off the activity's event loop, so the activity keeps
 * heartbeating (and the worker keeps polling) while 150k actors are grouped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { clusterActeurs, type ClusterCandidate } from './index';

interface ClusterJob {
  candidates: ClusterCandidate[];
  children: ClusterCandidate[];
  config: unknown;
}

const job = workerData as ClusterJob;
try {
  parentPort!.postMessage({ ok: true, result: clusterActeurs(job.candidates, job.children, job.config) });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: { name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) } });
}
