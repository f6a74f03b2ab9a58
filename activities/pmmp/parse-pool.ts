/**
 * Portal pages parsed in worker threads. A crawl's main thread used to spend most of its time parsing
 * (parse5 and cheerio trees, then collecting them), and every request, proof and write of the other
 * detail pages waited behind it. With the parsers in a thread the event loop only moves bytes, and on a
 * machine of two cores or more both are busy at once. The threads are shared by every crawl of the
 * process, started on first use and stopped after a while without work (an idle worker keeps no isolate).
 *
 * The answers are the parsers' own plain data (structured clone); a refused page comes back as the same
 * `PageShapeError`, so callers cannot tell a thread from an inline call. `threads: 0` parses inline.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { entryScript } from '../engine/entry-script';
import { MoissonError } from '../engine/errors';
import { decodeBody } from '../engine/fetcher-charset';
import {
  PageShapeError,
  parseConsultationDetail,
  parseLots,
  parseResultList,
  type ConsultationDetailPage,
  type DetailContext,
  type LotsContext,
  type LotsPage,
  type ParseContext,
  type PmmpPageKind,
  type ResultListPage,
} from './parse/index';

export type ParseJob =
  | { id: number; parser: 'detail'; html: string; ctx: DetailContext }
  | { id: number; parser: 'lots'; html: string; ctx: LotsContext }
  | { id: number; parser: 'list'; html: string; ctx: ParseContext };

/**
 * A stored page as its bytes (a reparse): decoded in the thread too (charset detection and decoding are
 * a tenth of a reparse's main thread), so that the activity's event loop only reads proofs and writes rows.
 */
export type StoredPageJob =
  | { id: number; parser: 'detail'; body: Uint8Array; contentType: string | null; ctx: DetailContext }
  | { id: number; parser: 'lots'; body: Uint8Array; contentType: string | null; ctx: LotsContext }
  | { id: number; parser: 'list'; body: Uint8Array; contentType: string | null; ctx: ParseContext };

export type ParseReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; stack?: string; shape?: { kind: PmmpPageKind; missing: string[] } } };

/** The parse thread died (out of memory, a crash): the pages it held were not parsed; a new attempt may be. */
export class ParseThreadError extends MoissonError {
  readonly retry = 'retry' as const;
}

export interface PageParsers {
  detail(html: string, ctx: DetailContext): Promise<ConsultationDetailPage>;
  lots(html: string, ctx: LotsContext): Promise<LotsPage>;
  list(html: string, ctx: ParseContext): Promise<ResultListPage>;
}

/** The parsers on the calling thread (tests, and machines of one core). */
export const inlineParsers: PageParsers = {
  detail: async (html, ctx) => parseConsultationDetail(html, ctx),
  lots: async (html, ctx) => parseLots(html, ctx),
  list: async (html, ctx) => parseResultList(html, ctx),
};

/** Threads by default: one core is left to the event loop (requests, proofs, writes), at most two. */
export function defaultParseThreads(): number {
  return Math.min(2, Math.max(0, availableParallelism() - 1));
}

/** A thread stops after this long without a page (an idle worker process keeps no parser isolate). */
const IDLE_MS = 30_000;
/**
 * The old generation of a parse thread. Left to itself V8 grows a thread's heap to a few hundred MB of
 * garbage (a 100-row list page leaves ~60 MB of parse5 tree behind) before it collects: 96 MB parses the
 * default pages at the same CPU with the worker's RSS ~250 MB lower (64 MB collects all the time). Bigger
 * pages are parsed on the calling thread (`INLINE_OVER`).
 */
const OLD_GENERATION_MB = 96;
/** Pages larger than this (a 500-row list is ~8 MB) would not parse within a thread's heap. */
const INLINE_OVER = 3_000_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Lane {
  worker: Worker;
  pending: Map<number, Pending>;
  idle: NodeJS.Timeout | undefined;
}

function rebuild(error: Extract<ParseReply, { ok: false }>['error']): Error {
  if (error.shape) {
    const shape = new PageShapeError(error.shape.kind, error.shape.missing);
    shape.message = error.message;
    return shape;
  }
  const e = new Error(error.message);
  e.name = error.name;
  if (error.stack) e.stack = error.stack;
  return e;
}

export class ParsePool implements PageParsers {
  private readonly lanes: (Lane | undefined)[];
  private nextId = 1;

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`a parse pool needs at least one thread, not ${threads}`);
    this.lanes = new Array<Lane | undefined>(threads).fill(undefined);
  }

  detail(html: string, ctx: DetailContext): Promise<ConsultationDetailPage> {
    return this.run({ id: 0, parser: 'detail', html, ctx }) as Promise<ConsultationDetailPage>;
  }

  lots(html: string, ctx: LotsContext): Promise<LotsPage> {
    return this.run({ id: 0, parser: 'lots', html, ctx }) as Promise<LotsPage>;
  }

  list(html: string, ctx: ParseContext): Promise<ResultListPage> {
    return this.run({ id: 0, parser: 'list', html, ctx }) as Promise<ResultListPage>;
  }

  /** Stops the threads (the pages they hold are refused with a ParseThreadError). */
  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane, i) => (lane ? this.stop(i, lane, new ParseThreadError('the parse pool was closed')) : undefined)));
  }

  /** A stored page's bytes decoded (`decodeBody`) and parsed in a thread: see `parseStoredPage`. */
  stored<P extends StoredPageJob['parser']>(parser: P, body: Uint8Array, contentType: string | null, ctx: StoredContext<P>): Promise<StoredResult<P>> {
    return this.run({ id: 0, parser, body, contentType, ctx } as StoredPageJob) as Promise<StoredResult<P>>;
  }

  private run(job: ParseJob | StoredPageJob): Promise<unknown> {
    if ('body' in job) {
      if (job.body.byteLength > INLINE_OVER) return parseStoredPage(inlineParsers, job.parser, job.body, job.contentType, job.ctx as never);
    } else if (job.html.length > INLINE_OVER) return inlineParsers[job.parser](job.html, job.ctx as never);
    // The lane with the fewest pages waiting, started if it is not running.
    let index = 0;
    for (let i = 0; i < this.lanes.length; i++) {
      const size = this.lanes[i]?.pending.size ?? 0;
      if (size < (this.lanes[index]?.pending.size ?? 0)) index = i;
      if (size === 0) {
        index = i;
        break;
      }
    }
    const lane = (this.lanes[index] ??= this.start(index));
    if (lane.idle) clearTimeout(lane.idle);
    lane.idle = undefined;
    job.id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      lane.pending.set(job.id, { resolve, reject });
      lane.worker.postMessage(job);
      // Between pages the thread may keep the process alive only while a page is on its way.
      lane.worker.ref();
    });
  }

  private start(index: number): Lane {
    const script = entryScript('parse-thread', import.meta.url);
    const resourceLimits = { maxOldGenerationSizeMb: OLD_GENERATION_MB };
    // From source (tsx), the thread registers tsx's loader before loading the TypeScript file: Node 20 does
    // not hand `--import` hooks to worker threads. tsx's require hook, not its ESM one: Node 20 runs ESM
    // loader hooks in a thread of their own, another isolate (~35 MB of RSS) for as long as the thread lives.
    const worker = script.pathname.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(fileURLToPath(script))});`, { eval: true, resourceLimits })
      : new Worker(script, { resourceLimits });
    const lane: Lane = { worker, pending: new Map(), idle: undefined };
    worker.on('message', (reply: ParseReply) => {
      const pending = lane.pending.get(reply.id);
      if (!pending) return;
      lane.pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(rebuild(reply.error));
      if (lane.pending.size === 0) {
        worker.unref();
        lane.idle = setTimeout(() => void this.stop(index, lane, new ParseThreadError('the parse thread was stopped')), IDLE_MS);
        lane.idle.unref();
      }
    });
    const died = (why: string) => {
      if (this.lanes[index] === lane) this.lanes[index] = undefined;
      if (lane.idle) clearTimeout(lane.idle);
      const err = new ParseThreadError(`the parse thread died (${why}) with ${lane.pending.size} page(s) unparsed`);
      for (const p of lane.pending.values()) p.reject(err);
      lane.pending.clear();
    };
    worker.on('error', (err) => died(err.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    return lane;
  }

  private async stop(index: number, lane: Lane, why: ParseThreadError): Promise<void> {
    if (this.lanes[index] === lane) this.lanes[index] = undefined;
    if (lane.idle) clearTimeout(lane.idle);
    for (const p of lane.pending.values()) p.reject(why);
    lane.pending.clear();
    await lane.worker.terminate();
  }
}

type StoredContext<P extends StoredPageJob['parser']> = Extract<StoredPageJob, { parser: P }>['ctx'];
type StoredResult<P extends StoredPageJob['parser']> = Awaited<ReturnType<PageParsers[P]>>;

/**
 * A stored page (a proof's bytes and content type) read by `parsers`: in a pool, decoded and parsed in a
 * thread (only the bytes cross over, not a decoded string); otherwise decoded and parsed here.
 */
export function parseStoredPage<P extends StoredPageJob['parser']>(
  parsers: PageParsers,
  parser: P,
  body: Uint8Array,
  contentType: string | null,
  ctx: StoredContext<P>,
): Promise<StoredResult<P>> {
  if (parsers instanceof ParsePool) return parsers.stored(parser, body, contentType, ctx);
  try {
    const html = decodeBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType);
    return parsers[parser](html, ctx as never) as Promise<StoredResult<P>>;
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

let shared: { threads: number; pool: PageParsers } | undefined;

/** The process's parsers for `threads` threads (default `defaultParseThreads()`); 0 parses inline. */
export function pageParsers(threads = defaultParseThreads()): PageParsers {
  if (threads === 0) return inlineParsers;
  if (shared?.threads !== threads) shared = { threads, pool: new ParsePool(threads) };
  return shared.pool;
}
