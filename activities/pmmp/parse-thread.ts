/**
 * The worker thread of the parse pool (parse-pool.ts): portal pages parsed off the crawl's event loop.
 * Parsing and the garbage of its trees are most of a crawl's CPU; here they run beside the requests,
 * proofs and writes instead of between them, and their garbage stays out of the activity's heap.
 */
import { parentPort } from 'node:worker_threads';
import { decodeBody } from '../engine/fetcher-charset';
import { PageShapeError, parseConsultationDetail, parseLots, parseResultList } from './parse/index';
import type { ParseJob, ParseReply, StoredPageJob } from './parse-pool';

function run(message: ParseJob | StoredPageJob): unknown {
  // A stored page comes as its bytes (structured clone: a Uint8Array), decoded here as the crawl decoded it.
  const job: ParseJob =
    'body' in message ? ({ ...message, html: decodeBody(Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength), message.contentType) } as ParseJob) : message;
  switch (job.parser) {
    case 'detail':
      return parseConsultationDetail(job.html, job.ctx);
    case 'lots':
      return parseLots(job.html, job.ctx);
    case 'list':
      return parseResultList(job.html, job.ctx);
  }
}

parentPort!.on('message', (job: ParseJob | StoredPageJob) => {
  let reply: ParseReply;
  try {
    reply = { id: job.id, ok: true, value: run(job) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = {
      id: job.id,
      ok: false,
      error: { name: e.name, message: e.message, stack: e.stack, ...(err instanceof PageShapeError ? { shape: { kind: err.kind, missing: err.missing } } : {}) },
    };
  }
  parentPort!.postMessage(reply);
});
