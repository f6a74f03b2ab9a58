/**
 * A local replica of Pennylane's v2 API (`/api/external/v2`) on a plain `node:http` server: the list
 * endpoints of six resources with cursor pagination and `filter`, single records, the changelog
 * endpoints, the trial balance (paged by number), `/me`, Bearer tokens and the per-token rate limit
 * with its headers. What is documented by Pennylane and what is inferred is listed in README.md,
 * behaviour by behaviour.
 *
 * Tests drive it in-process (mutate, growField, setFault, requests); run as its own process (./main) the
 * same knobs are under `/__replica/*`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESOURCES, ResourceStore, trialBalance, type ApiRecord, type ChangelogEvent, type Resource, type TrialBalanceLine } from './model';

export { RESOURCES, grownValue, trialBalance, type ApiRecord, type Resource, type TrialBalanceLine } from './model';

export const API_PREFIX = '/api/external/v2';
export const DEFAULT_TOKEN = 'replica-pennylane-token';
const RETENTION_MS = 28 * 86_400_000;
const OPERATORS = new Set(['eq', 'not_eq', 'lt', 'lteq', 'gt', 'gteq', 'in', 'not_in', 'start_with']);

export type PennylaneFault =
  | { kind: '429'; retryAfterSeconds: number }
  | { kind: 'status'; status: number }
  /** The request is held open, never answered (a client's timeout must fire). */
  | { kind: 'hang' };

export interface RequestRecord {
  /** Arrival time, ms since the epoch (performance-based, sub-millisecond). */
  at: number;
  token: string | undefined;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface PennylaneReplicaOptions {
  port?: number;
  host?: string;
  /** Records per resource at start (default 200 each); ids count from a per-resource base. */
  sizes?: Partial<Record<Resource, number>>;
  tokens?: string[];
  /** Requests per window and per token (25 / 5 s at Pennylane). */
  rateLimit?: { limit: number; windowMs: number };
  /** The replica's clock (tests move it to age the changelog). */
  now?: () => number;
  /** Added to every response, to model a distant server (default 0). */
  latencyMs?: number;
  /** Ledger accounts in the trial balance (default 120). */
  ledgerAccounts?: number;
}

export interface PennylaneReplica {
  url: string;
  /** What a client sets as its base URL: `${url}/api/external/v2`. */
  baseUrl: string;
  stores: Record<Resource, ResourceStore>;
  /** The record as the API serves it now. */
  record(resource: Resource, id: number): ApiRecord | undefined;
  /** Every live record of a resource, ascending id (for comparing with what was loaded). */
  snapshot(resource: Resource): ApiRecord[];
  /** The whole trial balance of a period, as `GET /trial_balance` serves it page by page. */
  trialBalance(periodStart: string, periodEnd: string): TrialBalanceLine[];
  /** How many ledger accounts the trial balance has from now on. */
  setLedgerAccounts(count: number): void;
  mutate(resource: Resource, change: { insert?: number; update?: number | number[]; delete?: number | number[] }): { inserted: number[]; updated: number[]; deleted: number[] };
  /** From the `afterRequests`-th list request of that resource on, records carry a new field. */
  growField(resource: Resource, name: string, afterRequests?: number): void;
  /**
   * The next `times` API requests (matching `pathPrefix` when given) get this fault, once `skip` of them
   * have been answered normally (a fault mid-stream, at a known page).
   */
  setFault(fault: PennylaneFault, times?: number, pathPrefix?: string, skip?: number): void;
  clearFaults(): void;
  requests(): RequestRecord[];
  clearRequests(): void;
  /** Most requests seen from one token in any window of `windowMs` (arrivals, whatever their status). */
  maxInWindow(token?: string, windowMs?: number, statuses?: (s: number) => boolean): number;
  close(): Promise<void>;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function unb64url(cursor: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

interface Filter {
  field: string;
  operator: string;
  value: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseFilter(raw: string | undefined): Filter[] {
  if (raw === undefined || raw === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'Invalid filter: it must be a JSON array');
  }
  if (!Array.isArray(parsed)) throw new HttpError(400, 'Invalid filter: it must be a JSON array');
  return parsed.map((f: unknown) => {
    const x = f as Partial<Filter>;
    if (!x || typeof x.field !== 'string' || typeof x.operator !== 'string' || !('value' in x)) throw new HttpError(400, 'Invalid filter: each entry needs field, operator and value');
    if (!OPERATORS.has(x.operator)) throw new HttpError(400, `Invalid filter operator: ${x.operator}`);
    return x as Filter;
  });
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = Number(a);
  const nb = Number(b);
  if (a !== null && b !== null && a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}

function matches(rec: ApiRecord, filters: Filter[]): boolean {
  return filters.every((f) => {
    const v = rec[f.field];
    const list = Array.isArray(f.value) ? f.value : [f.value];
    switch (f.operator) {
      case 'eq':
        return compare(v, f.value) === 0;
      case 'not_eq':
        return compare(v, f.value) !== 0;
      case 'lt':
        return compare(v, f.value) < 0;
      case 'lteq':
        return compare(v, f.value) <= 0;
      case 'gt':
        return compare(v, f.value) > 0;
      case 'gteq':
        return compare(v, f.value) >= 0;
      case 'in':
        return list.some((x) => compare(v, x) === 0);
      case 'not_in':
        return !list.some((x) => compare(v, x) === 0);
      case 'start_with':
        return typeof v === 'string' && v.startsWith(String(f.value));
      default:
        return false;
    }
  });
}

function limitOf(raw: string | undefined, max: number): number {
  if (raw === undefined || raw === '') return 20;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpError(400, `limit must be between 1 and ${max}`);
  return n;
}

/**
 * Microseconds since the epoch of an RFC 3339 time (a bare date is midnight UTC): the feed's times carry
 * microseconds, and `start_date` is compared at that precision.
 */
function micros(raw: string): number {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw;
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
  const ms = Date.parse(text.replace(/\.\d+/, ''));
  if (Number.isNaN(ms)) return Number.NaN;
  return ms * 1000 + Number((fraction + '000000').slice(0, 6));
}

function parseStartDate(raw: string): number {
  const us = micros(raw);
  if (Number.isNaN(us)) throw new HttpError(400, 'start_date must follow RFC3339 (e.g. 2026-07-15T09:00:00Z)');
  return us;
}

export async function startPennylaneReplica(opts: PennylaneReplicaOptions = {}): Promise<PennylaneReplica> {
  const now = opts.now ?? (() => Date.now());
  const tokens = new Set(opts.tokens ?? [DEFAULT_TOKEN]);
  const limit = opts.rateLimit?.limit ?? 25;
  const windowMs = opts.rateLimit?.windowMs ?? 5_000;
  const stores = Object.fromEntries(RESOURCES.map((r) => [r, new ResourceStore(r, opts.sizes?.[r] ?? 200)])) as Record<Resource, ResourceStore>;
  const sizes = () => Object.fromEntries(RESOURCES.map((r) => [r, stores[r].seeded])) as Record<Resource, number>;
  const seedEpochMs = now();
  let baseUrl = '';
  const ctx = () => ({ baseUrl, seedEpochMs });
  const log: RequestRecord[] = [];
  const faults: { fault: PennylaneFault; remaining: number; pathPrefix?: string; skip: number }[] = [];
  const windows = new Map<string, { start: number; count: number }>();
  const hanging = new Set<ServerResponse>();
  let microTick = 0;
  let ledgerAccounts = opts.ledgerAccounts ?? 120;
  const t0 = Date.now() - performance.now();

  const recordOf = (resource: Resource, id: number) => stores[resource].record(ctx(), id, sizes());

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
    const write = () => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers }).end(text);
    };
    if (opts.latencyMs) setTimeout(write, opts.latencyMs);
    else write();
  }

  const apiError = (res: ServerResponse, status: number, message: string, headers?: Record<string, string>) => send(res, status, { error: message, status }, headers);

  /** Fixed windows of `windowMs` aligned on the epoch, per token (see README: inferred from the documented reset). */
  function admit(token: string): { ok: boolean; headers: Record<string, string>; retryAfter: number } {
    const t = now();
    const start = Math.floor(t / windowMs) * windowMs;
    let w = windows.get(token);
    if (!w || w.start !== start) windows.set(token, (w = { start, count: 0 }));
    const reset = String(Math.ceil((start + windowMs) / 1000));
    if (w.count >= limit) {
      const retryAfter = Math.max(1, Math.ceil((start + windowMs - t) / 1000));
      return { ok: false, retryAfter, headers: { 'ratelimit-limit': String(limit), 'ratelimit-remaining': '0', 'ratelimit-reset': reset } };
    }
    w.count++;
    return { ok: true, retryAfter: 0, headers: { 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(limit - w.count), 'ratelimit-reset': reset } };
  }

  function list(resource: Resource, q: URLSearchParams, extraHeaders: Record<string, string>, res: ServerResponse): void {
    const store = stores[resource];
    const lim = limitOf(q.get('limit') ?? undefined, 100);
    const filters = parseFilter(q.get('filter') ?? undefined);
    const sort = q.get('sort') ?? '-id';
    if (sort !== 'id' && sort !== '-id') throw new HttpError(400, `Invalid sort: ${sort}`);
    const order = sort === 'id' ? 'asc' : 'desc';
    const cursor = q.get('cursor');
    let after: number | undefined;
    if (cursor) {
      const c = unb64url(cursor);
      if (!c || typeof c.id !== 'number') throw new HttpError(400, 'Invalid cursor');
      after = c.id;
    }
    store.listRequests++;
    const items: ApiRecord[] = [];
    let more = false;
    const idFilter = filters.find((f) => f.field === 'id' && (f.operator === 'in' || f.operator === 'eq'));
    if (idFilter) {
      // The way changed ids are re-fetched in batches: a direct look-up, as an index would do.
      const wanted = (Array.isArray(idFilter.value) ? idFilter.value : [idFilter.value]).map(Number).filter(Number.isFinite);
      const ids = [...new Set(wanted)].sort((a, b) => (order === 'asc' ? a - b : b - a)).filter((id) => after === undefined || (order === 'asc' ? id > after : id < after));
      for (const id of ids) {
        const rec = recordOf(resource, id);
        if (!rec || !matches(rec, filters)) continue;
        if (items.length === lim) {
          more = true;
          break;
        }
        items.push(rec);
      }
    } else if (filters.length === 0) {
      const page = store.ids(order, after, lim);
      for (const id of page.ids) items.push(recordOf(resource, id)!);
      more = page.more;
    } else {
      let position = after;
      for (;;) {
        const page = store.ids(order, position, 1000);
        for (const id of page.ids) {
          const rec = recordOf(resource, id)!;
          if (!matches(rec, filters)) continue;
          if (items.length === lim) {
            more = true;
            break;
          }
          items.push(rec);
        }
        if (more || !page.more) break;
        position = page.ids[page.ids.length - 1];
      }
    }
    const last = items[items.length - 1];
    send(res, 200, { items, has_more: more, next_cursor: more && last ? b64url({ id: last.id }) : null }, extraHeaders);
  }

  function changelog(resource: Resource, q: URLSearchParams, extraHeaders: Record<string, string>, res: ServerResponse): void {
    const store = stores[resource];
    const lim = limitOf(q.get('limit') ?? undefined, 1000);
    const startDate = q.get('start_date');
    const cursor = q.get('cursor');
    if (startDate && cursor) throw new HttpError(400, 'start_date and cursor cannot be used together');
    const oldest = (now() - RETENTION_MS) * 1000;
    let from: number;
    let afterSeq = 0;
    if (cursor) {
      const c = unb64url(cursor);
      if (!c || typeof c.seq !== 'number') throw new HttpError(400, 'Invalid cursor');
      afterSeq = c.seq;
      from = oldest;
    } else if (startDate) {
      from = parseStartDate(startDate);
      if (from < oldest) throw new HttpError(422, 'start_date cannot be older than 4 weeks');
    } else {
      from = oldest;
    }
    const items: Omit<ChangelogEvent, 'seq'>[] = [];
    let more = false;
    let lastSeq = afterSeq;
    // Events are appended in time order, so seq order is processed_at order (oldest first).
    for (let i = afterSeq; i < store.events.length; i++) {
      const e = store.events[i]!;
      if (micros(e.processed_at) < Math.max(from, oldest)) continue;
      if (items.length === lim) {
        more = true;
        break;
      }
      const { seq, ...rest } = e;
      items.push(rest);
      lastSeq = seq;
    }
    send(res, 200, { items, has_more: more, next_cursor: more ? b64url({ seq: lastSeq }) : null }, extraHeaders);
  }

  /**
   * `GET /trial_balance`: Pennylane's page-numbered list (`page` from 1 and `per_page` 1..1000, both
   * required, as are `period_start` and `period_end`), answering `{items, total_pages, current_page,
   * total_items, per_page}`. A page past the last is empty (inferred).
   */
  function trialBalanceList(q: URLSearchParams, extraHeaders: Record<string, string>, res: ServerResponse): void {
    const date = (name: string) => {
      const v = q.get(name);
      if (!v) throw new HttpError(400, `${name} is missing`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new HttpError(400, `${name} is not a valid date`);
      return v;
    };
    const periodStart = date('period_start');
    const periodEnd = date('period_end');
    if (periodEnd < periodStart) throw new HttpError(400, 'period_end must be after period_start');
    const auxiliary = q.get('is_auxiliary');
    if (auxiliary !== null && auxiliary !== 'true' && auxiliary !== 'false') throw new HttpError(400, 'is_auxiliary must be true or false');
    const rawPage = q.get('page');
    if (rawPage === null || rawPage === '') throw new HttpError(400, 'page is missing');
    const page = Number(rawPage);
    if (!Number.isInteger(page) || page < 1) throw new HttpError(400, 'page must be an integer greater than or equal to 1');
    const rawPer = q.get('per_page');
    if (rawPer === null || rawPer === '') throw new HttpError(400, 'per_page is missing');
    const perPage = Number(rawPer);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000) throw new HttpError(400, 'per_page must be between 1 and 1000');
    const all = trialBalance(ledgerAccounts, periodStart, periodEnd);
    const items = all.slice((page - 1) * perPage, page * perPage);
    send(res, 200, { items, total_pages: Math.ceil(all.length / perPage), current_page: page, total_items: all.length, per_page: perPage }, extraHeaders);
  }

  function me(res: ServerResponse, headers: Record<string, string>): void {
    send(
      res,
      200,
      {
        user: { id: 1, first_name: 'Replica', last_name: 'User', email: 'replica@example.fr', locale: 'fr' },
        company: { id: 4242, name: 'Réplique SAS', reg_no: '123456789' },
        scopes: ['customer_invoices:readonly', 'supplier_invoices:readonly', 'customers:readonly', 'suppliers:readonly', 'products:readonly', 'transactions:readonly'],
      },
      headers,
    );
  }

  function control(path: string, body: Record<string, unknown>, res: ServerResponse): void {
    if (path === '/__replica/mutate') {
      const resource = body.resource as Resource;
      if (!RESOURCES.includes(resource)) return apiError(res, 400, `unknown resource ${String(resource)}`);
      return send(res, 200, replica.mutate(resource, body as never));
    }
    if (path === '/__replica/grow') {
      replica.growField(body.resource as Resource, String(body.name), Number(body.afterRequests ?? 0));
      return send(res, 200, { ok: true });
    }
    if (path === '/__replica/faults') {
      if (body.clear) replica.clearFaults();
      else replica.setFault(body.fault as PennylaneFault, body.times === undefined ? undefined : Number(body.times), body.pathPrefix as string | undefined, body.skip === undefined ? undefined : Number(body.skip));
      return send(res, 200, { ok: true });
    }
    if (path === '/__replica/requests') return send(res, 200, { requests: log.length, maxInWindow: replica.maxInWindow() });
    return apiError(res, 404, 'Not Found');
  }

  function handle(req: IncomingMessage, res: ServerResponse, bodyText: string): void {
    const u = new URL(req.url ?? '/', 'http://replica');
    const path = u.pathname;
    if (path.startsWith('/__replica/')) {
      let body: Record<string, unknown> = {};
      try {
        body = bodyText ? (JSON.parse(bodyText) as Record<string, unknown>) : {};
      } catch {
        return apiError(res, 400, 'control body must be JSON');
      }
      return control(path, body, res);
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const entry: RequestRecord = { at: t0 + performance.now(), token, method: req.method ?? 'GET', path, query: Object.fromEntries(u.searchParams), status: 0 };
    log.push(entry);
    const reply = (status: number, fn: () => void) => {
      entry.status = status;
      fn();
    };
    if (!path.startsWith(API_PREFIX)) return reply(404, () => apiError(res, 404, 'Not Found'));
    if (!token || !tokens.has(token)) return reply(401, () => apiError(res, 401, 'The access token is invalid'));

    let fault = faults.find((f) => f.remaining > 0 && (!f.pathPrefix || path.startsWith(f.pathPrefix)));
    if (fault && fault.skip > 0) {
      fault.skip--;
      fault = undefined;
    }
    if (fault) {
      fault.remaining--;
      const f = fault.fault;
      if (f.kind === 'hang') {
        entry.status = -1;
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (f.kind === '429') {
        const headers = { 'retry-after': String(f.retryAfterSeconds), 'ratelimit-limit': String(limit), 'ratelimit-remaining': '0', 'ratelimit-reset': String(Math.ceil(now() / 1000) + f.retryAfterSeconds) };
        return reply(429, () => send(res, 429, `Rate limit exceeded. Please retry in ${f.retryAfterSeconds} seconds.`, headers));
      }
      return reply(f.status, () => apiError(res, f.status, f.status >= 500 ? 'Internal Server Error' : 'Error'));
    }

    const admitted = admit(token);
    if (!admitted.ok) {
      return reply(429, () =>
        send(res, 429, `Rate limit exceeded. Please retry in ${admitted.retryAfter} seconds.`, { ...admitted.headers, 'retry-after': String(admitted.retryAfter) }),
      );
    }
    if (req.method !== 'GET') return reply(404, () => apiError(res, 404, 'Not Found', admitted.headers));
    const rest = path.slice(API_PREFIX.length).replace(/\/+$/, '');
    try {
      if (rest === '/me') return reply(200, () => me(res, admitted.headers));
      if (rest === '/trial_balance') return reply(200, () => trialBalanceList(u.searchParams, admitted.headers, res));
      let m = /^\/changelogs\/([a-z_]+)$/.exec(rest);
      if (m && RESOURCES.includes(m[1] as Resource)) return reply(200, () => changelog(m![1] as Resource, u.searchParams, admitted.headers, res));
      m = /^\/([a-z_]+)$/.exec(rest);
      if (m && RESOURCES.includes(m[1] as Resource)) return reply(200, () => list(m![1] as Resource, u.searchParams, admitted.headers, res));
      m = /^\/([a-z_]+)\/(\d+)$/.exec(rest);
      if (m && RESOURCES.includes(m[1] as Resource)) {
        const rec = recordOf(m[1] as Resource, Number(m[2]));
        return rec ? reply(200, () => send(res, 200, rec, admitted.headers)) : reply(404, () => apiError(res, 404, 'Not Found', admitted.headers));
      }
      return reply(404, () => apiError(res, 404, 'Not Found', admitted.headers));
    } catch (err) {
      if (err instanceof HttpError) return reply(err.status, () => apiError(res, err.status, err.message, admitted.headers));
      throw err;
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err), status: 500 }));
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  baseUrl = `${url}${API_PREFIX}`;

  const idsOf = (resource: Resource, spec: number | number[] | undefined): number[] => {
    if (spec === undefined) return [];
    if (Array.isArray(spec)) return spec;
    // A number asks for that many existing records, spread over the table (deterministic).
    const live = stores[resource].liveIds();
    const step = Math.max(1, Math.floor(live.length / Math.max(1, spec)));
    return live.filter((_, i) => i % step === 0).slice(0, spec);
  };

  const replica: PennylaneReplica = {
    url,
    baseUrl,
    stores,
    record: recordOf,
    snapshot(resource) {
      return stores[resource].liveIds().map((id) => recordOf(resource, id)!);
    },
    trialBalance: (periodStart, periodEnd) => trialBalance(ledgerAccounts, periodStart, periodEnd),
    setLedgerAccounts(count) {
      ledgerAccounts = count;
    },
    mutate(resource, change) {
      const store = stores[resource];
      const out = { inserted: [] as number[], updated: [] as number[], deleted: [] as number[] };
      const stamp = () => ({ t: now(), m: ++microTick });
      for (const id of idsOf(resource, change.update)) {
        const s = stamp();
        if (store.update(id, s.t, s.m)) out.updated.push(id);
      }
      for (const id of idsOf(resource, change.delete)) {
        const s = stamp();
        if (store.delete(id, s.t, s.m)) out.deleted.push(id);
      }
      for (let i = 0; i < (change.insert ?? 0); i++) {
        const s = stamp();
        out.inserted.push(store.insert(s.t, s.m));
      }
      return out;
    },
    growField(resource, name, afterRequests = 0) {
      stores[resource].grown.push({ name, afterRequests: stores[resource].listRequests + afterRequests });
    },
    setFault(fault, times = Number.MAX_SAFE_INTEGER, pathPrefix, skip = 0) {
      faults.length = 0;
      faults.push({ fault, remaining: times, skip, ...(pathPrefix ? { pathPrefix } : {}) });
    },
    clearFaults() {
      faults.length = 0;
      for (const res of hanging) res.destroy();
    },
    requests: () => [...log],
    clearRequests() {
      log.length = 0;
    },
    maxInWindow(token = DEFAULT_TOKEN, win = windowMs, statuses = () => true) {
      const times = log.filter((r) => r.token === token && statuses(r.status)).map((r) => r.at).sort((a, b) => a - b);
      let best = 0;
      let lo = 0;
      for (let hi = 0; hi < times.length; hi++) {
        while (times[hi]! - times[lo]! >= win) lo++;
        best = Math.max(best, hi - lo + 1);
      }
      return best;
    },
    close() {
      for (const res of hanging) res.destroy();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return replica;
}
