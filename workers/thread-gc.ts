/**
 * A full garbage collection in every worker thread of the process, from the main thread. `gc()` collects
 * only the calling isolate; the worker's threads have their own, and nothing in them ever asks for one
 * when the worker falls idle: Temporal's workflow thread keeps the garbage of the last workflows it ran
 * (~17 MB of its heap, ~20 MB of RSS after every pipeline ran once: bench `worker.memory.afterAll`), the
 * ESM loader thread its own. The threads are reached through the in-process inspector (no port is opened,
 * nothing is enabled but the worker sessions for the time of the call): `HeapProfiler.collectGarbage` in
 * each, with its heap before and after.
 */
import { Session } from 'node:inspector';

export interface ThreadCollection {
  /** The thread's title and script (`[worker 2] file:///…/workflow-worker-thread.js`). */
  thread: string;
  usedBefore: number;
  usedAfter: number;
}

interface WorkerAttached {
  params: { sessionId: string; workerInfo: { title: string; url: string } };
}

interface WorkerMessage {
  params: { sessionId: string; message: string };
}

/**
 * A full collection of the calling thread that also gives its free memory back: V8's low-memory
 * collection (what `HeapProfiler.collectGarbage` runs), which compacts the old generation and releases
 * the pages left empty. `gc()` only marks and sweeps: after a burst of work the heap keeps every page it
 * grew to (~30 MB beyond the live objects after every pipeline ran once, bench `worker.memory.afterAll`)
 * until V8's memory reducer, if ever, gets to it.
 */
export async function collectThisThread(): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    await new Promise<void>((ok, fail) => session.post('HeapProfiler.collectGarbage', (err) => (err ? fail(err) : ok())));
  } finally {
    // Not from within post's callback: the session never answers then.
    session.disconnect();
  }
}

/** `timeoutMs` bounds the whole call: a thread too busy to answer is left as it is. */
export async function collectWorkerThreads(opts: { timeoutMs?: number } = {}): Promise<ThreadCollection[]> {
  const session = new Session();
  session.connect();
  const workers = new Map<string, string>();
  const waiting = new Map<number, (reply: { result?: Record<string, unknown>; error?: { message: string } }) => void>();
  let nextId = 1;
  session.on('NodeWorker.attachedToWorker', (m: WorkerAttached) => workers.set(m.params.sessionId, `${m.params.workerInfo.title} ${m.params.workerInfo.url}`));
  session.on('NodeWorker.detachedFromWorker', (m: { params: { sessionId: string } }) => workers.delete(m.params.sessionId));
  session.on('NodeWorker.receivedMessageFromWorker', (m: WorkerMessage) => {
    const reply = JSON.parse(m.params.message) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
    if (reply.id !== undefined) waiting.get(reply.id)?.(reply);
  });
  const post = (method: string, params: object) =>
    new Promise<void>((ok, fail) => session.post(method, params, (err) => (err ? fail(err) : ok())));
  const inThread = (sessionId: string, method: string) =>
    new Promise<Record<string, unknown>>((ok, fail) => {
      const id = nextId++;
      waiting.set(id, (reply) => {
        waiting.delete(id);
        if (reply.error) fail(new Error(`${method} in a worker thread: ${reply.error.message}`));
        else ok(reply.result ?? {});
      });
      post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method }) }).catch(fail);
    });
  const used = async (sessionId: string) => Number((await inThread(sessionId, 'Runtime.getHeapUsage')).usedSize);
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = async () => {
      // The threads already running are attached before enable answers.
      await post('NodeWorker.enable', { waitForDebuggerOnStart: false });
      const out: ThreadCollection[] = [];
      for (const [sessionId, thread] of [...workers]) {
        const usedBefore = await used(sessionId);
        await inThread(sessionId, 'HeapProfiler.collectGarbage');
        out.push({ thread, usedBefore, usedAfter: await used(sessionId) });
      }
      return out;
    };
    const deadline = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`worker threads did not answer within ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
    });
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
    session.disconnect();
  }
}
