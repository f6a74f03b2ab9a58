/**
 * The real worker process (`workers/main.ts`) for the crash tests, configured from the environment as
 * production runs it: its database, archive, Temporal and task queue, a free metrics port pair, and the
 * pipeline's own settings on top. Its output goes to a log file the tests show when it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot } from '../../scripts/stack/paths';
import { freePortPair, type TestArchive, type TestDatabase } from './services';

export interface WorkerProcessOptions {
  db: TestDatabase;
  archive: TestArchive;
  temporal: TestWorkflowEnvironment;
  taskQueue: string;
  /** The process's log is `<logDir>/worker-<label>.log`. */
  logDir: string;
  label: string;
  /** The pipeline's settings (replica URLs, politeness…), over the ones above. */
  env?: Record<string, string>;
}

/** The log file `startWorkerProcess` writes for `label`. */
export function workerLogFile(logDir: string, label: string): string {
  return join(logDir, `worker-${label}.log`);
}

export async function startWorkerProcess(o: WorkerProcessOptions): Promise<ChildProcess> {
  const env = {
    ...process.env,
    DATABASE_URL: o.db.url,
    MONGO_URL: o.archive.url,
    TEMPORAL_ADDRESS: o.temporal.address,
    TEMPORAL_NAMESPACE: o.temporal.namespace ?? 'default',
    MOISSON_TASK_QUEUE: o.taskQueue,
    METRICS_PORT: String(await freePortPair()),
    LOG_LEVEL: 'warn',
    ...o.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(workerLogFile(o.logDir, o.label));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}
