/**
 * `pmmp.parse` / `pmmp.parse.warm` in a thread of their own (scripts/bench/pmmp.ts starts it): a fresh
 * isolate that has never parsed a page, as a worker's parse thread is when a crawl starts, rather than the
 * bench's main thread with a crawl's heap behind it. When it ends its heap goes with it: the pages and the
 * passes' garbage do not stay in the bench process, whose RSS is the worker-equivalent's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeBody } from '../../activities/engine/fetcher-charset';
import { parseConsultationDetail } from '../../activities/pmmp/parse/index';
import { cpuSeconds } from './proc-cpu';
import { profiled } from './profile';

export interface ParseThreadInput {
  pages: { body: Uint8Array; contentType: string | null }[];
  baseUrl: string;
}

export interface ParsePass {
  key: 'pmmp.parse' | 'pmmp.parse.warm';
  wallMs: number;
  /** This thread's CPU (the parser itself). */
  threadCpuS: number;
  /** The process's (this thread, V8's garbage collection and compiler helpers; the main thread waits). */
  processCpuS: number;
}

const input = workerData as ParseThreadInput;
const pages = input.pages.map((p) => decodeBody(Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength), p.contentType));
input.pages.length = 0;

async function main(): Promise<void> {
  const passes: ParsePass[] = [];
  for (const key of ['pmmp.parse', 'pmmp.parse.warm'] as const) {
    const thread0 = cpuSeconds('thread-self');
    const process0 = process.cpuUsage();
    const started = performance.now();
    await profiled(key, async () => {
      for (const html of pages) parseConsultationDetail(html, { baseUrl: input.baseUrl });
    });
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(process0);
    passes.push({ key, wallMs, threadCpuS: cpuSeconds('thread-self') - thread0, processCpuS: (cpu.user + cpu.system) / 1e6 });
  }
  parentPort!.postMessage(passes);
}

void main();
