/**
 * The end of a run whose worker process was killed and started again, waited for with a bound: a crash
 * test must fail saying where the run stopped (the restarted worker exited, or which activities are still
 * pending, with the worker's log), not hang until the file's timeout takes its log directory with it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { logTail } from '../../scripts/stack/process';

export async function resultAfterRestart<R>(handle: WorkflowHandle, worker: ChildProcess, logFile: string, withinMs = 300_000): Promise<R> {
  const giveUp = new AbortController();
  const failed = new Promise<never>((_, fail) => {
    const exited = (code: number | null, signal: string | null) =>
      fail(new assert.AssertionError({ message: `the restarted worker exited (${signal ?? `code ${code}`}) before the run ended:\n${logTail(logFile, 30)}` }));
    if (worker.exitCode !== null || worker.signalCode !== null) exited(worker.exitCode, worker.signalCode);
    worker.once('exit', exited);
    giveUp.signal.addEventListener('abort', () => worker.off('exit', exited));
    const timer = setTimeout(() => {
      void handle
        .describe()
        .then((d) => d.raw.pendingActivities?.map((a) => `${a.activityType?.name} attempt ${a.attempt}: ${a.lastFailure?.message ?? 'no failure'}`))
        .catch((err: unknown) => [`describe failed: ${String(err)}`])
        .then((pending) => fail(new assert.AssertionError({ message: `the run has not ended ${withinMs / 1000} s after the restart; pending: ${JSON.stringify(pending)}\n${logTail(logFile, 30)}` })));
    }, withinMs);
    giveUp.signal.addEventListener('abort', () => clearTimeout(timer));
  });
  try {
    return (await Promise.race([handle.result(), failed])) as R;
  } finally {
    giveUp.abort();
  }
}
