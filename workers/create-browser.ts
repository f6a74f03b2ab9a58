/**
 * Builds the worker of the `moisson-browser` queue. Apart from ./create.ts so that the browser worker
 * process loads the browser activities only, not the main queue's (every source, parser and store:
 * ~75 MB of RSS it never uses).
 */
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { bindActivities } from '../activities/engine/bind';
import { browserActivities, type BrowserPool } from '../activities/engine/browser';
import { mapsBrowserActivities } from '../activities/leads/sources/maps-render';
import { errorVocabularyInterceptor } from './errors';
import { retryMetrics } from './retries';

/** What the browser queue serves: the smoke check and the maps listings (the bench binds these too). */
export const browserQueueActivities = { ...browserActivities, ...mapsBrowserActivities };

export interface BrowserWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: BrowserPool;
  concurrency: number;
  plugins?: WorkerOptions['plugins'];
  dataConverter?: WorkerOptions['dataConverter'];
}

/** The `moisson-browser` queue: activities only, few at a time (a browser is heavy on 2 cores). */
export function createBrowserWorker(opts: BrowserWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: bindActivities({ pool: opts.pool }, browserQueueActivities),
    interceptors: { activity: [retryMetrics, errorVocabularyInterceptor] },
    plugins: opts.plugins,
    dataConverter: opts.dataConverter,
    maxConcurrentActivityTaskExecutions: opts.concurrency,
  });
}
