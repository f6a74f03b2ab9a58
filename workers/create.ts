/** Builds the workers of the two task queues; the process entry point and the tests share this. */
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { bindActivities } from '../activities/engine/bind';
import { browserActivities, type BrowserPool } from '../activities/engine/browser';
import { mapsBrowserActivities } from '../activities/leads/sources/maps';
import { errorVocabularyInterceptor } from './errors';
import { retryMetrics } from './retries';
import { runMetricsInterceptorModule, runMetricsSinks } from './run-metrics';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface MoissonWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  plugins?: WorkerOptions['plugins'];
  /** The payload codec's converter (control/payload-codec.ts); the SDK default when absent. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Reuse an already built workflow bundle (tests build it once). */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function createMoissonWorker(opts: MoissonWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
    activities: createActivities(opts.deps),
    // A bundle built ahead carries its interceptor modules (tests/support/services.ts builds it with this one).
    interceptors: { activity: [retryMetrics, errorVocabularyInterceptor], ...(opts.workflowBundle ? {} : { workflowModules: [runMetricsInterceptorModule] }) },
    sinks: runMetricsSinks(),
    plugins: opts.plugins,
    dataConverter: opts.dataConverter,
    maxConcurrentActivityTaskExecutions: 20,
    // Long activities heartbeat: let the SDK batch them, but never hold them past this.
    maxHeartbeatThrottleInterval: '10 seconds',
  });
}

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
    activities: bindActivities({ pool: opts.pool }, { ...browserActivities, ...mapsBrowserActivities }),
    interceptors: { activity: [retryMetrics, errorVocabularyInterceptor] },
    plugins: opts.plugins,
    dataConverter: opts.dataConverter,
    maxConcurrentActivityTaskExecutions: opts.concurrency,
  });
}
