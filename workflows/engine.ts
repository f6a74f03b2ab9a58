/** Platform checks that go through the real queues: `moisson doctor` runs them. */
import { proxyActivities } from '@temporalio/workflow';
import type { BrowserActivities, ProbePageResult } from '../activities/engine/browser';

export interface BrowserProbeInput {
  url: string;
  /** The browser task queue (the worker's MOISSON_BROWSER_TASK_QUEUE). */
  taskQueue?: string;
}

export async function browserProbe(input: BrowserProbeInput): Promise<ProbePageResult> {
  const { probePage } = proxyActivities<BrowserActivities>({
    taskQueue: input.taskQueue ?? 'moisson-browser',
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { maximumAttempts: 3, initialInterval: '2s' },
  });
  return probePage({ url: input.url });
}
