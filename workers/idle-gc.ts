/**
 * A full garbage collection once the worker falls idle after work. V8 collects when allocation asks for
 * it, so a worker that stops working keeps the garbage of its last burst (start-up's included: module
 * loading leaves ~25 MB) for as long as it stays idle. Only with `--expose-gc` (the stack starts the worker
 * with it, scripts/stack/services.ts); without it this does nothing.
 */
import type { Worker } from '@temporalio/worker';

/** Garbage worth a collection (~0.1–0.3 s of one core on this heap), counted as heap growth since the last one. */
const GROWTH_BYTES = 4 * 2 ** 20;

export interface IdleGc {
  stop(): void;
}

export function collectWhenIdle(
  worker: Pick<Worker, 'getStatus'>,
  opts: { everyMs?: number; gc?: () => void; heapUsed?: () => number; onCollect?: (freedBytes: number) => void } = {},
): IdleGc {
  const gc = opts.gc ?? (globalThis as { gc?: () => void }).gc;
  if (!gc) return { stop() {} };
  const heapUsed = opts.heapUsed ?? (() => process.memoryUsage().heapUsed);
  // The first check collects whatever start-up left.
  let afterLast = 0;
  const timer = setInterval(() => {
    const status = worker.getStatus();
    if (status.numInFlightActivities > 0 || status.numInFlightWorkflowActivations > 0) return;
    const before = heapUsed();
    if (before - afterLast < GROWTH_BYTES) return;
    gc();
    afterLast = heapUsed();
    opts.onCollect?.(before - afterLast);
  }, opts.everyMs ?? 10_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
