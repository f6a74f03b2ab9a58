/**
 * A full garbage collection once the worker falls idle after work. V8 collects when allocation asks for
 * it, so a worker that stops working keeps the garbage of its last burst (start-up's included: module
 * loading leaves ~25 MB) for as long as it stays idle. Only with `--expose-gc` (the stack starts the worker
 * with it, scripts/stack/services.ts); without it this does nothing. The collection is V8's memory-reducing
 * one (workers/thread-gc.ts `collectThisThread`), not `gc()`: it also returns the heap pages the burst left
 * empty. The worker threads (Temporal's workflow thread above all) are collected at the same moment
 * (workers/thread-gc.ts): their garbage is ~20 MB of RSS after every pipeline ran once.
 */
import type { Worker } from '@temporalio/worker';
import { takeReleased } from '../activities/engine/idle-release';
import { collectThisThread, collectWorkerThreads, type ThreadCollection } from './thread-gc';

/** Garbage worth a collection (~0.1–0.3 s of one core on this heap), counted as heap growth since the last one. */
const GROWTH_BYTES = 4 * 2 ** 20;

export interface IdleGc {
  stop(): void;
}

export function collectWhenIdle(
  worker: Pick<Worker, 'getStatus'>,
  opts: {
    everyMs?: number;
    /** The main thread's collection (`collectThisThread` by default, when the process has `--expose-gc`). */
    gc?: () => void | Promise<void>;
    heapUsed?: () => number;
    /** Libraries let go since the last check (activities/engine/idle-release.ts): garbage without heap growth. */
    released?: () => number;
    collectThreads?: () => Promise<ThreadCollection[]>;
    onCollect?: (freedBytes: number, threads: ThreadCollection[]) => void;
    onThreadsError?: (err: unknown) => void;
    /** The main thread's collection failed (the threads are still collected). */
    onError?: (err: unknown) => void;
  } = {},
): IdleGc {
  const gc = 'gc' in opts ? opts.gc : (globalThis as { gc?: () => void }).gc ? collectThisThread : undefined;
  if (!gc) return { stop() {} };
  const heapUsed = opts.heapUsed ?? (() => process.memoryUsage().heapUsed);
  const released = opts.released ?? takeReleased;
  const collectThreads = opts.collectThreads ?? (() => collectWorkerThreads());
  // The first check collects whatever start-up left.
  let afterLast = 0;
  let collecting = false;
  const timer = setInterval(() => {
    if (collecting) return;
    const status = worker.getStatus();
    if (status.numInFlightActivities > 0 || status.numInFlightWorkflowActivations > 0) return;
    const before = heapUsed();
    const letGo = released();
    if (before - afterLast < GROWTH_BYTES && letGo === 0) return;
    collecting = true;
    const collected = (async () => {
      try {
        await gc();
      } catch (err) {
        opts.onError?.(err);
      }
      afterLast = heapUsed();
      const freed = before - afterLast;
      // Main-heap growth is the sign of work: the threads worked too (every activation and parsed page passes here).
      try {
        opts.onCollect?.(freed, await collectThreads());
      } catch (err) {
        opts.onCollect?.(freed, []);
        opts.onThreadsError?.(err);
      }
    })();
    void collected.finally(() => (collecting = false));
  }, opts.everyMs ?? 10_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
