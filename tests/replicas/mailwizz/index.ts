/**
 * A local replica of the MailWizz API (`…/api/index.php/…`) as the leads sync uses it (README.md
 * beside this file says which behaviours are documented/observed and which are inferred):
 *
 *   GET  lists/{list_uid}/subscribers/search-by-email?EMAIL=   200 flat `data` | 404
 *   POST lists/{list_uid}/subscribers   form-encoded EMAIL, FNAME, LNAME, custom tags, details[status]
 *                                       201 {status:"success", data:{record:{subscriber_uid,…}}} | 409 duplicate
 *                                       | 422 {status:"error", error:{TAG: message}}
 *   GET  lists/{list_uid}               the list (404 when unknown)
 *
 * Auth: 2.x `X-API-KEY`; 1.x `X-MW-PUBLIC-KEY`, `X-MW-TIMESTAMP`, `X-MW-SIGNATURE` (HMAC-SHA1 of
 * "METHOD URL?sorted-params" with the private key). Auth failures answer 400, as MailWizz does.
 * Fault knobs: failures (status, count), a created subscriber whose response is lost (connection
 * dropped after the insert), latency, the whole API down.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type MailwizzVersion = 1 | 2;

export interface MailwizzSubscriber {
  subscriber_uid: string;
  email: string;
  fields: Record<string, string>;
  status: string;
  source: string;
  date_added: string;
  ip_address: string;
}

export interface MailwizzFault {
  kind: 'status' | 'drop-after-create' | 'reset';
  /** For `status`: 500, 503, 429… */
  status?: number;
  /** Only this kind of call (default: every call). */
  on?: 'create' | 'search' | 'any';
  /** How many calls are affected (default: all until cleared). */
  times?: number;
}

export interface MailwizzReplicaOptions {
  port?: number;
  host?: string;
  version?: MailwizzVersion;
  /** 2.x key. */
  apiKey?: string;
  /** 1.x keys. */
  publicKey?: string;
  privateKey?: string;
  /** List uids to create (name = uid). */
  lists?: string[];
}

export interface MailwizzReplica {
  url: string;
  /** The API base the client is configured with (`…/api/index.php`). */
  apiUrl: string;
  version: MailwizzVersion;
  setVersion(version: MailwizzVersion): void;
  setFault(fault: MailwizzFault): void;
  clearFaults(): void;
  setLatency(ms: number): void;
  subscribers(listUid: string): MailwizzSubscriber[];
  /** Calls received, by kind. */
  calls(kind?: 'create' | 'search' | 'other'): number;
  close(): Promise<void>;
}

export const DEFAULT_MAILWIZZ_KEYS = { apiKey: 'replica-mailwizz-key', publicKey: 'replica-public-key', privateKey: 'replica-private-key' } as const;
export const DEFAULT_MAILWIZZ_LISTS = ['general-list', 'restaurants-list', 'hotels-list', 'health-list', 'legal-list', 'building-list', 'tech-list'];
const LIST_FIELDS = ['EMAIL', 'FNAME', 'LNAME', 'PHONE', 'COMPANY', 'CATEGORY', 'TAGS', 'TEMPLATE', 'SOURCE'];

/**
 * PHP's http_build_query for a flat array, as the 1.x SDK signs: RFC 1738 (space as `+`), keys sorted
 * by the caller. Nested `details[status]` keys are written as they come.
 */
export function phpBuildQuery(params: [string, string][]): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

/** The 1.x signature: HMAC-SHA1 over `METHOD URL?params` where params are the X-MW headers and the body, sorted by key. */
export function mailwizzSignature(method: string, url: string, headerParams: Record<string, string>, body: [string, string][], privateKey: string): string {
  const params = [...Object.entries(headerParams), ...body].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const separator = url.includes('?') ? '&' : '?';
  return createHmac('sha1', privateKey).update(`${method.toUpperCase()} ${url}${separator}${phpBuildQuery(params)}`).digest('hex');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

export async function startMailwizzReplica(opts: MailwizzReplicaOptions = {}): Promise<MailwizzReplica> {
  let version: MailwizzVersion = opts.version ?? 2;
  const keys = { apiKey: opts.apiKey ?? DEFAULT_MAILWIZZ_KEYS.apiKey, publicKey: opts.publicKey ?? DEFAULT_MAILWIZZ_KEYS.publicKey, privateKey: opts.privateKey ?? DEFAULT_MAILWIZZ_KEYS.privateKey };
  const lists = new Map<string, Map<string, MailwizzSubscriber>>((opts.lists ?? DEFAULT_MAILWIZZ_LISTS).map((uid) => [uid, new Map()]));
  let faults: (MailwizzFault & { left: number })[] = [];
  let latencyMs = 0;
  const counts = { create: 0, search: 0, other: 0 };
  let base = '';

  function takeFault(kind: 'create' | 'search' | 'other'): MailwizzFault | undefined {
    const f = faults.find((x) => x.left !== 0 && (x.on === undefined || x.on === 'any' || x.on === kind));
    if (f) f.left--;
    return f;
  }

  /** Undefined when the request is authentic; else the 400 error text MailWizz gives. */
  function authError(req: IncomingMessage, fullUrl: string, body: [string, string][]): string | undefined {
    if (version === 2) {
      const key = req.headers['x-api-key'];
      if (!key) return 'Please provide your API key.';
      return key === keys.apiKey ? undefined : 'Invalid API key. Please check your API key and try again.';
    }
    const publicKey = req.headers['x-mw-public-key'];
    const timestamp = req.headers['x-mw-timestamp'];
    const signature = req.headers['x-mw-signature'];
    if (typeof publicKey !== 'string' || !publicKey) return 'Please provide your public API key.';
    if (publicKey !== keys.publicKey) return 'Invalid API key. Please check your API key and try again.';
    if (typeof timestamp !== 'string' || !/^\d+$/.test(timestamp)) return 'Invalid API request timestamp.';
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 3600) return 'Your API request timestamp expired.';
    const headerParams: Record<string, string> = { 'X-MW-PUBLIC-KEY': publicKey, 'X-MW-TIMESTAMP': timestamp };
    const remote = req.headers['x-mw-remote-addr'];
    if (typeof remote === 'string' && remote) headerParams['X-MW-REMOTE-ADDR'] = remote;
    const expected = mailwizzSignature(req.method ?? 'GET', fullUrl, headerParams, body, keys.privateKey);
    return signature === expected ? undefined : 'Invalid API request signature. Please check your API keys and try again.';
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    if (url.pathname.startsWith('/__replica/')) return control(req, res, url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const m = /^\/api\/index\.php\/lists\/([^/]+)(\/subscribers(\/search-by-email)?)?\/?$/.exec(url.pathname);
    const kind: 'create' | 'search' | 'other' = m?.[3] ? 'search' : m?.[2] && req.method === 'POST' ? 'create' : 'other';
    counts[kind]++;
    if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
    const fault = takeFault(kind);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') return json(res, fault.status ?? 500, { status: 'error', error: 'Service temporarily unavailable, please try again later.' });

    const contentType = req.headers['content-type'] ?? '';
    if (req.method === 'POST' && raw && !contentType.includes('application/x-www-form-urlencoded')) {
      // MailWizz reads $_POST: a JSON body arrives empty, so EMAIL is "missing".
      return json(res, 422, { status: 'error', error: { EMAIL: 'The email field is required.' } });
    }
    const body = [...new URLSearchParams(req.method === 'POST' ? raw : '').entries()];
    const fullUrl = `${base}${url.pathname}${url.search}`;
    const denied = authError(req, fullUrl, body);
    if (denied) return json(res, 400, { status: 'error', error: denied });
    if (!m) return json(res, 404, { status: 'error', error: 'The page you are looking for does not exist.' });
    const list = lists.get(decodeURIComponent(m[1]!));
    if (!list) return json(res, 404, { status: 'error', error: 'The subscribers list does not exist.' });

    if (kind === 'search') {
      if (req.method !== 'GET') return json(res, 400, { status: 'error', error: 'Only GET requests allowed for this endpoint.' });
      const email = (url.searchParams.get('EMAIL') ?? '').trim().toLowerCase();
      if (!email) return json(res, 400, { status: 'error', error: 'Please provide the subscriber email address.' });
      const sub = list.get(email);
      if (!sub) return json(res, 404, { status: 'error', error: 'The subscriber does not exist in this list.' });
      return json(res, 200, { status: 'success', data: { subscriber_uid: sub.subscriber_uid, status: sub.status, date_added: sub.date_added } });
    }
    if (kind === 'create') {
      const form = new Map(body);
      const email = (form.get('EMAIL') ?? '').trim().toLowerCase();
      const errors: Record<string, string> = {};
      if (!email) errors.EMAIL = 'The email field is required.';
      else if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(email) || email.includes('..')) errors.EMAIL = 'The email address is not valid.';
      if (Object.keys(errors).length) return json(res, 422, { status: 'error', error: errors });
      if (list.has(email)) return json(res, 409, { status: 'error', error: 'The subscriber already exists in this list.' });
      const fields: Record<string, string> = {};
      for (const [k, v] of form) if (LIST_FIELDS.includes(k)) fields[k] = v;
      const sub: MailwizzSubscriber = {
        subscriber_uid: randomBytes(7).toString('hex').slice(0, 13),
        email,
        fields,
        status: form.get('details[status]') ?? 'unconfirmed',
        source: 'api',
        date_added: new Date().toISOString().replace('T', ' ').slice(0, 19),
        ip_address: '127.0.0.1',
      };
      list.set(email, sub);
      if (fault?.kind === 'drop-after-create') {
        req.socket.destroy();
        return;
      }
      return json(res, 201, { status: 'success', data: { record: { subscriber_uid: sub.subscriber_uid, email: sub.email, ip_address: sub.ip_address, source: sub.source, date_added: sub.date_added } } });
    }
    if (req.method === 'GET' && !m[2]) return json(res, 200, { status: 'success', data: { record: { general: { list_uid: m[1], name: m[1] } } } });
    return json(res, 404, { status: 'error', error: 'The page you are looking for does not exist.' });
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    if (url.pathname === '/__replica/faults' && req.method === 'DELETE') faults = [];
    else if (url.pathname === '/__replica/faults') api.setFault(body as unknown as MailwizzFault);
    else if (url.pathname === '/__replica/latency') latencyMs = Number(body.ms ?? 0);
    else if (url.pathname === '/__replica/version') version = Number(body.version) === 1 ? 1 : 2;
    json(res, 200, { version, latencyMs, faults, calls: counts, lists: Object.fromEntries([...lists].map(([k, v]) => [k, v.size])) });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { status: 'error', error: String(err) });
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  base = `http://${host}:${(server.address() as AddressInfo).port}`;
  const api: MailwizzReplica = {
    url: base,
    apiUrl: `${base}/api/index.php`,
    get version() {
      return version;
    },
    setVersion: (v) => {
      version = v;
    },
    setFault: (f) => {
      faults.push({ ...f, left: f.times ?? -1 });
    },
    clearFaults: () => {
      faults = [];
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    subscribers: (uid) => [...(lists.get(uid)?.values() ?? [])],
    calls: (kind) => (kind ? counts[kind] : counts.create + counts.search + counts.other),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return api;
}
