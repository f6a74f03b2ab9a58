/** Builds the workers of the two task queues; the process entry points and the tests share this. */
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { errorVocabularyInterceptor } from './errors';
import { retryMetrics } from './retries';
import { runMetricsInterceptorModule, runMetricsSinks } from './run-metrics';

// The browser queue's worker has a module of its own (the browser worker process imports only that one).
export { createBrowserWorker, type BrowserWorkerOptions } from './create-browser';

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
