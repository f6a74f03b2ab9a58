/**
 * The generic REST side of apisync: authenticated JSON requests under the shared rate limiter, with a
 * 429 waited out for its `retry-after` and 5xx / timeouts / network faults backed off, in place, a few
 * times (a page costs one retry, not the whole stream); then the failure goes to Temporal. Pagination
 * styles and the change feed read their shape from the stream definition.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidInputError, RateLimitedError, ResponseShapeError, StopError, TransientError } from '../engine/errors';
import { requestJson, type JsonResponse } from '../engine/http';
import type { CursorPagination, IncrementalStrategy, PagePagination, StreamDefinition } from './definition';
import type { SharedRateLimiter } from './limiter';

/** The change feed cannot start that far back: only a full sync can catch up. */
export class RetentionExceededError extends StopError {}

export interface RestClientOptions {
  baseUrl: string;
  token: string;
  limiter: SharedRateLimiter;
  timeoutMs: number;
  attempts: number;
  signal?: AbortSignal;
  /** Called after every request the source answered (tests and progress use it). */
  onRequest?: (url: string, status: number) => void;
}

export interface ClientStats {
  requests: number;
  retries: number;
  rateLimited: number;
}

export class RestClient {
  readonly stats: ClientStats = { requests: 0, retries: 0, rateLimited: 0 };

  constructor(private readonly opts: RestClientOptions) {}

  url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const u = new URL(`${this.opts.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async get(path: string, query: Record<string, string | number | undefined> = {}): Promise<JsonResponse> {
    const url = this.url(path, query);
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      this.opts.signal?.throwIfAborted();
      const permit = await this.opts.limiter.acquire(this.opts.signal);
      this.stats.requests++;
      try {
        let res: JsonResponse;
        try {
          res = await requestJson(url, { timeoutMs: this.opts.timeoutMs, headers: { authorization: `Bearer ${this.opts.token}` }, defaultRetryAfterMs: 5_000 });
        } finally {
          await permit.done();
        }
        this.opts.onRequest?.(url, res.status);
        await this.opts.limiter.observe(res.headers);
        return res;
      } catch (err) {
        lastError = err;
        if (err instanceof RateLimitedError) {
          this.stats.rateLimited++;
          this.opts.onRequest?.(url, 429);
          // Every worker on this token waits; our own next slot comes after the server's delay.
          await this.opts.limiter.throttle(err.retryAfterMs);
        } else if (err instanceof TransientError) {
          this.opts.onRequest?.(url, 0);
          await sleep(Math.min(15_000, 500 * 2 ** (attempt - 1)), undefined, this.opts.signal ? { signal: this.opts.signal } : {});
        } else {
          throw err;
        }
        this.stats.retries++;
      }
    }
    throw lastError;
  }
}

function field(body: unknown, name: string, where: string): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ResponseShapeError(`${where}: the response is not a JSON object`);
  return (body as Record<string, unknown>)[name];
}

function itemsOf(body: unknown, name: string, where: string): Record<string, unknown>[] {
  const items = field(body, name, where);
  if (!Array.isArray(items)) throw new ResponseShapeError(`${where}: no '${name}' array in the response`);
  return items as Record<string, unknown>[];
}

export interface Page {
  items: Record<string, unknown>[];
  /** Where the next page starts (a cursor, or a page number), or null at the end. */
  next: string | null;
}

/** One page of a list; `position` is what the previous page returned as `next` (null for the first). */
export async function fetchListPage(client: RestClient, stream: StreamDefinition, pageSize: number, position: string | null, extra: Record<string, string> = {}): Promise<Page> {
  const p = stream.pagination;
  const size = Math.min(pageSize, p.maxPageSize);
  const where = `${stream.name} list`;
  if (p.style === 'cursor') return cursorPage(client, stream, p, size, position, extra, where);
  return numberedPage(client, stream, p, size, position, extra, where);
}

async function cursorPage(client: RestClient, stream: StreamDefinition, p: CursorPagination, size: number, position: string | null, extra: Record<string, string>, where: string): Promise<Page> {
  const res = await client.get(stream.path, { ...stream.query, ...extra, [p.limitParam]: size, [p.cursorParam]: position ?? undefined });
  const items = itemsOf(res.body, p.itemsField, where);
  const more = field(res.body, p.hasMoreField, where);
  const next = field(res.body, p.nextCursorField, where);
  if (typeof more !== 'boolean') throw new ResponseShapeError(`${where}: '${p.hasMoreField}' is not a boolean`);
  if (more && (typeof next !== 'string' || next === '')) throw new ResponseShapeError(`${where}: '${p.hasMoreField}' is true but '${p.nextCursorField}' is empty`);
  return { items, next: more ? (next as string) : null };
}

async function numberedPage(client: RestClient, stream: StreamDefinition, p: PagePagination, size: number, position: string | null, extra: Record<string, string>, where: string): Promise<Page> {
  const page = position === null ? p.firstPage : Number(position);
  if (!Number.isInteger(page) || page < p.firstPage || (position !== null && !/^\d+$/.test(position))) {
    throw new InvalidInputError(`${where}: resume position '${position}' is not a page number`);
  }
  const res = await client.get(stream.path, { ...stream.query, ...extra, [p.sizeParam]: size, [p.pageParam]: page });
  const items = itemsOf(res.body, p.itemsField, where);
  if (p.currentPageField) {
    const current = field(res.body, p.currentPageField, where);
    if (current !== page) throw new ResponseShapeError(`${where}: asked for page ${page} ('${p.pageParam}'), the source served '${p.currentPageField}' ${JSON.stringify(current)}`);
  }
  let more: boolean;
  if (p.totalPagesField) {
    // A null or text count would read as 0 and end the list after one page: only a whole number will do.
    const total = field(res.body, p.totalPagesField, where);
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) throw new ResponseShapeError(`${where}: '${p.totalPagesField}' is not a page count: ${JSON.stringify(total)}`);
    more = page - p.firstPage + 1 < total;
  } else {
    // A source that sends more than asked ignores the size: only a shorter page can end the list.
    more = items.length >= size;
  }
  return { items, next: more ? String(page + 1) : null };
}

export interface Change {
  id: string;
  operation: 'insert' | 'update' | 'delete';
  at: string;
}

export interface ChangePage {
  changes: Change[];
  next: string | null;
}

type Changelog = Extract<IncrementalStrategy, { strategy: 'changelog' }>;

/** One page of a change feed: from `start` for the first page, from `cursor` after (never both). */
export async function fetchChangePage(client: RestClient, stream: StreamDefinition, feed: Changelog, pageSize: number, from: { start: string } | { cursor: string }): Promise<ChangePage> {
  const where = `${stream.name} changelog`;
  let res: JsonResponse;
  try {
    res = await client.get(feed.path, { limit: Math.min(pageSize, feed.maxPageSize), ...('start' in from ? { [feed.startParam]: from.start } : { cursor: from.cursor }) });
  } catch (err) {
    if (err instanceof InvalidInputError && err.details.status === feed.retentionStatus) {
      throw new RetentionExceededError(`${where}: the source refuses to start at ${'start' in from ? from.start : 'the saved cursor'} (${feed.retentionStatus}: beyond its ${feed.retentionDays}-day retention)`, err.details);
    }
    throw err;
  }
  const items = itemsOf(res.body, 'items', where);
  const more = field(res.body, 'has_more', where);
  const next = field(res.body, 'next_cursor', where);
  const changes = items.map((e, i): Change => {
    const id = e[feed.idField];
    const op = e[feed.operationField];
    const at = e[feed.timeField];
    if ((typeof id !== 'number' && typeof id !== 'string') || (op !== 'insert' && op !== 'update' && op !== 'delete') || typeof at !== 'string') {
      throw new ResponseShapeError(`${where}: item ${i} is not {${feed.idField}, ${feed.operationField}: insert|update|delete, ${feed.timeField}}: ${JSON.stringify(e).slice(0, 200)}`);
    }
    return { id: String(id), operation: op, at };
  });
  return { changes, next: more === true && typeof next === 'string' && next ? next : null };
}

/** The current state of these records, in batches of the feed's re-fetch size, `concurrency` requests at a time. */
export async function refetchRecords(client: RestClient, stream: StreamDefinition, feed: Changelog, ids: readonly string[], concurrency = 4): Promise<Record<string, unknown>[]> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += feed.refetch.batchSize) batches.push(ids.slice(i, i + feed.refetch.batchSize) as string[]);
  const out: Record<string, unknown>[][] = new Array(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      const batch = batches[i]!;
      const numeric = batch.every((x) => /^\d+$/.test(x));
      const filter = feed.refetch.encode(numeric ? batch.map(Number) : batch);
      const items: Record<string, unknown>[] = [];
      let position: string | null = null;
      // The cursor does not carry the filter: it is sent again with every page.
      do {
        const page = await fetchListPage(client, stream, feed.refetch.batchSize, position, { [feed.refetch.filterParam]: filter });
        items.push(...page.items);
        position = page.next;
      } while (position !== null);
      out[i] = items;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  return out.flat();
}
