/**
 * A local replica of the four third-party price APIs the prices pipeline reads, on one plain
 * `node:http` server, each under its own path prefix so a client only swaps its base URL:
 *
 *   /erapi          open.er-api.com (ExchangeRate-API open access)     FX, fiat only
 *   /fawaz          cdn.jsdelivr.net fawazahmed0 currency-api            FX, crypto, precious metals
 *   /coingecko      api.coingecko.com                                    crypto
 *   /metalpriceapi  api.metalpriceapi.com                                metals (with an API key)
 *
 * Bodies copy the real wire formats (field names and order, number formats, status codes, error
 * bodies); the numbers come from the deterministic model in ./model. Any source can be made to
 * fail on demand, in-process (setFault) or over HTTP (/__replica/faults) when the replica runs
 * as its own process (./main).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  CRYPTO_CODES,
  FIAT_CODES,
  INDUSTRIAL_METAL_CODES,
  PRECIOUS_METAL_CODES,
  cross,
  epochDay,
  isoDate,
  midnightUnix,
  unit,
} from './model';

export type PriceSourceId = 'erapi' | 'fawaz' | 'coingecko' | 'metalpriceapi';
export const PRICE_SOURCE_IDS: readonly PriceSourceId[] = ['erapi', 'fawaz', 'coingecko', 'metalpriceapi'];

export type PriceReplicaFault =
  | { kind: 'timeout' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'malformed' }
  | { kind: 'negative'; asset: string }
  | { kind: 'missing'; asset: string }
  | { kind: 'shape' };

export interface PricesReplicaOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The replica's current date (`YYYY-MM-DD`): what `latest` serves. Default: today's UTC date. */
  today?: string | (() => string);
  /** The one key MetalpriceAPI accepts. Default `replica-metals-key`. */
  metalpriceApiKey?: string;
}

export interface PricesReplica {
  url: string;
  baseUrls: Record<PriceSourceId, string>;
  /** Replaces the source's fault; `times` requests to that source are affected (default: all, until cleared). */
  setFault(source: PriceSourceId, fault: PriceReplicaFault, times?: number): void;
  clearFaults(): void;
  /** Requests received by one source, or by all four (control requests are not counted). */
  requestCount(source?: PriceSourceId): number;
  /** Stops the server; also ends requests held by a 'timeout' fault. */
  close(): Promise<void>;
}

export const DEFAULT_METALPRICEAPI_KEY = 'replica-metals-key';

const BASE_PATHS: Record<PriceSourceId, string> = {
  erapi: '/erapi/v6',
  fawaz: '/fawaz/npm/@fawazahmed0/currency-api',
  coingecko: '/coingecko/api/v3',
  metalpriceapi: '/metalpriceapi/v1',
};

type Json = Record<string, unknown>;

/** A response decided without the price model: errors, control answers. */
interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A successful data response, kept as an object so faults can edit it before it is serialized. */
interface Quote {
  payload: Json;
  /** jsDelivr serves the fawaz `.json` files pretty-printed with tabs. */
  indent?: string;
}

interface Source {
  serve(path: string, query: URLSearchParams, req: IncomingMessage, today: string): Reply | Quote | undefined;
  /** The body the real service sends with an error status, where it has a known one. */
  errorReply(status: number): Reply;
  retryAfterOn429?: number;
  /** Makes `asset` negative, or removes it; a body that does not carry that asset is left as is. */
  edit(quote: Quote, asset: string, op: 'negative' | 'missing'): void;
  /** The same data as valid JSON of another shape, as if the API had changed under us. */
  reshape(quote: Quote): unknown;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(body), ...(headers ? { headers } : {}) };
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

function notFound(path: string): Reply {
  return json(404, { error: 'Not Found', message: `The prices replica has no route for ${path}` });
}

const negate = (v: unknown) => (typeof v === 'number' ? -Math.abs(v) : v);
const round = (v: number, decimals: number) => Number(v.toFixed(decimals));
const significant = (v: number, digits: number) => Number(v.toPrecision(digits));

// ---------------------------------------------------------------------------------------------
// open.er-api.com. Shape of GET /v6/latest/{BASE}: exchangerate-api.com/docs/free (open access)
// and captured responses (e.g. "Mon, 08 Aug 2022 00:02:31 +0000" updates, time_eol_unix 0, base
// first in `rates`, 6-decimal rates). An unknown base answers HTTP 200 with
// {"result":"error","error-type":"unsupported-code"}; an IP over the rate limit gets a 429 and is
// locked out for 20 minutes (exchangerate-api.com/docs/free, "Rate Limiting").
// ---------------------------------------------------------------------------------------------

/** "Tue, 02 Jun 2026 00:02:32 +0000": RFC 2822 with a numeric zone, not toUTCString's "GMT". */
function rfc2822(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toUTCString().replace('GMT', '+0000');
}

const erapi: Source = {
  serve(path, _query, _req, today) {
    const m = /^\/v6\/latest\/([^/]+)$/.exec(path);
    if (!m?.[1]) return undefined;
    const base = m[1].toUpperCase();
    if (!FIAT_CODES.includes(base)) return json(200, { result: 'error', 'error-type': 'unsupported-code' });
    // The real feed refreshes a couple of minutes after midnight UTC, the next refresh a few minutes
    // into the next day: the seconds vary from day to day, so do they here.
    const midnight = midnightUnix(today);
    const last = midnight + 151 + Math.floor(unit(`erapi-last|${today}`) * 2);
    const next = midnight + 86_400 + 300 + Math.floor(unit(`erapi-next|${today}`) * 1_800);
    const rates: Json = { [base]: 1 };
    for (const code of [...FIAT_CODES].sort()) {
      if (code !== base) rates[code] = round(cross('erapi', today, base, code), 6);
    }
    return {
      payload: {
        result: 'success',
        provider: 'https://www.exchangerate-api.com',
        documentation: 'https://www.exchangerate-api.com/docs/free',
        terms_of_use: 'https://www.exchangerate-api.com/terms',
        time_last_update_unix: last,
        time_last_update_utc: rfc2822(last),
        time_next_update_unix: next,
        time_next_update_utc: rfc2822(next),
        time_eol_unix: 0,
        base_code: base,
        rates,
      },
    };
  },
  // The rate-limit body is the one client code in the wild handles; not in the official docs.
  errorReply: (status) =>
    status === 429
      ? json(429, { result: 'error', 'error-type': 'rate-limited' })
      : json(status, { result: 'error', 'error-type': statusText(status).toLowerCase().replace(/ /g, '-') }),
  retryAfterOn429: 1_200,
  edit(quote, asset, op) {
    const rates = quote.payload.rates as Json;
    const code = asset.toUpperCase();
    if (!(code in rates)) return;
    if (op === 'missing') delete rates[code];
    else rates[code] = negate(rates[code]);
  },
  // The keyed v6 API's shape: same data, `conversion_rates` instead of `rates`, no `provider`.
  reshape(quote) {
    const { rates, provider: _provider, ...rest } = quote.payload;
    return { ...rest, documentation: 'https://www.exchangerate-api.com/docs', conversion_rates: rates };
  },
};

// ---------------------------------------------------------------------------------------------
// fawazahmed0 currency-api on jsDelivr. URL and body shape: github.com/fawazahmed0/exchange-api
// README (`@{date}` is `latest` or YYYY-MM-DD; the npm versions themselves are YYYY.M.D, which
// jsDelivr also resolves) and its generator currscript.js: {"date": …, "<base>": {…}} with
// lower-case codes sorted alphabetically, the base itself at 1, values rounded to 8 significant
// decimals, `.json` tab-indented and `.min.json` compact. Metals are xag/xau/xpd/xpt only (its
// currency list has no copper nor iron). History starts 2024-03-02; a version that does not
// exist is a jsDelivr plain-text 404.
// ---------------------------------------------------------------------------------------------

const FAWAZ_CODES = [...FIAT_CODES, ...CRYPTO_CODES, ...PRECIOUS_METAL_CODES].map((c) => c.toLowerCase()).sort();
const FAWAZ_FIRST_DAY = '2024-03-02';
const FAWAZ_PACKAGE = '@fawazahmed0/currency-api';

/** currscript.js getSignificantNum: 8 decimals, or 8 significant digits below 0.1. */
function fawazNumber(v: number): number {
  const magnitude = Math.abs(v);
  if (magnitude >= 0.1 || magnitude === 0) return round(v, 8);
  const zeros = -Math.floor(Math.log10(magnitude)) - 1;
  return round(v, Math.min(8 + zeros, 100));
}

function jsdelivr404(message: string): Reply {
  return { status: 404, body: message, contentType: 'text/plain; charset=utf-8' };
}

/** `latest`, `2024-03-06` or the npm version form `2024.3.6` → YYYY-MM-DD, if it names a published day. */
function fawazDate(version: string, today: string): string | undefined {
  if (version === 'latest') return today;
  let date = version;
  const semver = /^(\d{4})\.([1-9]\d?)\.([1-9]\d?)$/.exec(version);
  if (semver) date = `${semver[1]}-${semver[2]!.padStart(2, '0')}-${semver[3]!.padStart(2, '0')}`;
  if (epochDay(date) === undefined) return undefined;
  return date >= FAWAZ_FIRST_DAY && date <= today ? date : undefined;
}

const fawaz: Source = {
  serve(path, _query, _req, today) {
    const m = /^\/npm\/@fawazahmed0\/currency-api@([^/]+)(\/.*)$/.exec(path);
    if (!m?.[1] || !m[2]) return undefined;
    const [, version, file] = m;
    const date = fawazDate(version, today);
    if (!date) return jsdelivr404(`Couldn't find the requested release version ${version}.`);
    const f = /^\/v1\/currencies\/([^/]+?)(\.min)?\.json$/.exec(file);
    const base = f?.[1]?.toLowerCase();
    if (!f || !base || !FAWAZ_CODES.includes(base)) {
      return jsdelivr404(`Couldn't find the requested file ${file} in ${FAWAZ_PACKAGE}.`);
    }
    const rates: Json = {};
    for (const code of FAWAZ_CODES) {
      rates[code] = fawazNumber(cross('fawaz', date, base.toUpperCase(), code.toUpperCase()));
    }
    return { payload: { date, [base]: rates }, ...(f[2] ? {} : { indent: '\t' }) };
  },
  errorReply: (status) => ({ status, body: statusText(status), contentType: 'text/plain; charset=utf-8' }),
  edit(quote, asset, op) {
    const [, rates] = Object.entries(quote.payload).find(([k]) => k !== 'date') ?? [];
    const code = asset.toLowerCase();
    if (!rates || typeof rates !== 'object' || !(code in rates)) return;
    const table = rates as Json;
    if (op === 'missing') delete table[code];
    else table[code] = negate(table[code]);
  },
  reshape(quote) {
    const [base, rates] = Object.entries(quote.payload).find(([k]) => k !== 'date') ?? ['usd', {}];
    return { date: quote.payload.date, base, rates };
  },
};

// ---------------------------------------------------------------------------------------------
// CoinGecko. Shape of GET /api/v3/simple/price: docs.coingecko.com/v3.0.1/reference/simple-price
// ({"bitcoin":{"usd":67187.33…,"usd_market_cap":…,"usd_24h_vol":…,"usd_24h_change":…,
// "last_updated_at":1711356300}}); unknown ids are simply absent. The 429 body is the one the
// public API sends ({"status":{"error_code":429,"error_message":"You've exceeded the Rate Limit.
// Please visit …"}}); a missing vs_currencies is a 422 {"error":"Missing parameter vs_currencies"}.
// The optional x-cg-demo-api-key header (or x_cg_demo_api_key parameter) is accepted, any value.
// ---------------------------------------------------------------------------------------------

const COINS: Record<string, { code: string; supply: number }> = {
  bitcoin: { code: 'BTC', supply: 19_700_000 },
  ethereum: { code: 'ETH', supply: 120_100_000 },
  tether: { code: 'USDT', supply: 110_000_000_000 },
};
/** A subset of /simple/supported_vs_currencies: no MRU there, the pipeline converts through USD. */
const CG_VS = ['usd', 'eur', 'cny', 'gbp', 'jpy', 'chf', 'cad', 'aud', 'inr', 'brl', 'zar', 'ngn', 'aed', 'sar', 'btc', 'eth', 'xau', 'xag'];
const CG_RATE_LIMIT =
  "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.";

const flag = (query: URLSearchParams, name: string) => query.get(name)?.toLowerCase() === 'true';
const list = (value: string | null) => (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);

function cgPrice(value: number, precision: string | null): number {
  if (precision === 'full') return value;
  const digits = precision === null ? NaN : Number(precision);
  if (Number.isInteger(digits) && digits >= 0 && digits <= 18) return round(value, digits);
  return significant(value, 12);
}

function coinFor(asset: string): string | undefined {
  const a = asset.toLowerCase();
  return a in COINS ? a : Object.keys(COINS).find((id) => COINS[id]?.code.toLowerCase() === a);
}

const coingecko: Source = {
  serve(path, query, _req, today) {
    if (path === '/api/v3/ping') return { payload: { gecko_says: '(V3) To the Moon!' } };
    if (path !== '/api/v3/simple/price') return undefined;
    const vs = list(query.get('vs_currencies'));
    if (vs.length === 0) return json(422, { error: 'Missing parameter vs_currencies' });
    const ids = list(query.get('ids'));
    if (ids.length === 0) return json(422, { error: 'Missing parameter ids' });
    const precision = query.get('precision');
    const yesterday = isoDate(epochDay(today)! - 1);
    const payload: Json = {};
    for (const id of ids) {
      const coin = COINS[id];
      if (!coin || id in payload) continue;
      const entry: Json = {};
      for (const currency of vs) {
        if (!CG_VS.includes(currency)) continue;
        const price = cross('coingecko', today, coin.code, currency.toUpperCase());
        entry[currency] = cgPrice(price, precision);
        if (flag(query, 'include_market_cap')) entry[`${currency}_market_cap`] = round(price * coin.supply, 2);
        if (flag(query, 'include_24hr_vol')) {
          entry[`${currency}_24h_vol`] = round(price * coin.supply * (0.01 + 0.03 * unit(`cg-vol|${id}|${today}`)), 2);
        }
        if (flag(query, 'include_24hr_change')) {
          const before = cross('coingecko', yesterday, coin.code, currency.toUpperCase());
          entry[`${currency}_24h_change`] = significant((price / before - 1) * 100, 15);
        }
      }
      if (flag(query, 'include_last_updated_at')) {
        entry.last_updated_at = midnightUnix(today) + 300 + Math.floor(unit(`cg-updated|${id}|${today}`) * 3_000);
      }
      payload[id] = entry;
    }
    return { payload };
  },
  errorReply: (status) =>
    json(status, { status: { error_code: status, error_message: status === 429 ? CG_RATE_LIMIT : statusText(status) } }),
  retryAfterOn429: 60,
  edit(quote, asset, op) {
    const id = coinFor(asset);
    const entry = id ? quote.payload[id] : undefined;
    if (!id || !entry || typeof entry !== 'object') return;
    if (op === 'missing') {
      delete quote.payload[id];
      return;
    }
    const fields = entry as Json;
    for (const currency of CG_VS) if (currency in fields) fields[currency] = negate(fields[currency]);
  },
  // The /coins/markets shape: an array of objects instead of a map of coins.
  reshape(quote) {
    return Object.entries(quote.payload).map(([id, fields]) => {
      const f = fields as Json;
      const [currency] = Object.keys(f).filter((k) => CG_VS.includes(k));
      return { id, symbol: COINS[id]?.code.toLowerCase(), current_price: currency ? f[currency] : null, last_updated: f.last_updated_at };
    });
  },
};

// ---------------------------------------------------------------------------------------------
// MetalpriceAPI. Shapes: metalpriceapi.com/documentation and the vendor's own client types
// (github.com/metalpriceapi/metalpriceapi-nodejs): latest is {"success":true,"base":"USD",
// "timestamp":…,"rates":{"XAU":0.00053853,…,"USDXAU":1856.906765,…}}, each quote also given
// inverted as BASE+SYMBOL; historical GET /v1/{YYYY-MM-DD} adds "historical":true and "date".
// Precious metals are per troy ounce, other metals (XCU, IRON) per ounce. The key comes as
// ?api_key= or an X-API-KEY header; errors are {"success":false,"error":{"statusCode":…,
// "message":…}} with the apilayer-style codes (101: missing or invalid key).
// ---------------------------------------------------------------------------------------------

const METAL_CODES = [...FIAT_CODES, ...PRECIOUS_METAL_CODES, ...INDUSTRIAL_METAL_CODES].sort();

function metalpriceError(status: number, statusCode: number, message: string): Reply {
  return json(status, { success: false, error: { statusCode, message } });
}

function metalRates(date: string, base: string, wanted: string[]): Json {
  const rates: Json = {};
  for (const code of wanted) rates[code] = significant(cross('metalpriceapi', date, base, code), 7);
  for (const code of wanted) rates[`${base}${code}`] = significant(cross('metalpriceapi', date, code, base), 10);
  return rates;
}

function metalpriceapi(apiKey: string): Source {
  return {
    serve(path, query, req, today) {
      const m = /^\/v1\/(latest|\d{4}-\d{2}-\d{2})$/.exec(path);
      if (!m?.[1]) return undefined;
      const key = query.get('api_key') ?? req.headers['x-api-key'];
      if (key !== apiKey) {
        return metalpriceError(401, 101, 'User did not supply an access key or supplied an invalid access key.');
      }
      const base = (query.get('base') ?? 'USD').toUpperCase();
      if (!METAL_CODES.includes(base)) return metalpriceError(400, 201, 'An invalid base currency has been entered.');
      const requested = query.has('currencies') ? list(query.get('currencies')).map((c) => c.toUpperCase()) : METAL_CODES;
      const wanted = [...new Set(requested.filter((c) => METAL_CODES.includes(c)))].sort();
      if (m[1] === 'latest') {
        const timestamp = midnightUnix(today) + Math.floor(unit(`metalprice-ts|${today}`) * 3_600);
        return { payload: { success: true, base, timestamp, rates: metalRates(today, base, wanted) } };
      }
      const date = m[1];
      if (epochDay(date) === undefined || date > today) {
        return metalpriceError(400, 204, 'An invalid date has been specified.');
      }
      // A historical quote is the day's close: the last second of that UTC day.
      const timestamp = midnightUnix(date) + 86_399;
      return { payload: { success: true, historical: true, date, timestamp, base, rates: metalRates(date, base, wanted) } };
    },
    errorReply: (status) =>
      status === 429
        ? metalpriceError(429, 104, 'The maximum allowed API amount of monthly API requests has been reached.')
        : metalpriceError(status, status, statusText(status)),
    edit(quote, asset, op) {
      const rates = quote.payload.rates as Json;
      const code = asset.toUpperCase();
      const inverse = `${String(quote.payload.base)}${code}`;
      if (!(code in rates)) return;
      for (const k of [code, inverse]) {
        if (op === 'missing') delete rates[k];
        else rates[k] = negate(rates[k]);
      }
    },
    reshape(quote) {
      const { rates, ...rest } = quote.payload;
      const prices = Object.fromEntries(Object.entries(rates as Json).filter(([k]) => k.startsWith(String(rest.base))));
      return { ...rest, unit: 'troy_oz', prices };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The server: routing, fault injection and the /__replica control surface.
// ---------------------------------------------------------------------------------------------

const FAULT_KINDS = ['timeout', 'status', 'malformed', 'negative', 'missing', 'shape'] as const;

/** Throws on anything that is not a well-formed fault, so a typo in a test fails loudly. */
function checkFault(source: unknown, fault: unknown, times: unknown): asserts fault is PriceReplicaFault {
  if (!PRICE_SOURCE_IDS.includes(source as PriceSourceId)) {
    throw new Error(`unknown price source ${JSON.stringify(source)} (one of ${PRICE_SOURCE_IDS.join(', ')})`);
  }
  const f = fault as Partial<Record<string, unknown>> | null;
  if (!f || typeof f !== 'object' || !FAULT_KINDS.includes(f.kind as (typeof FAULT_KINDS)[number])) {
    throw new Error(`unknown fault ${JSON.stringify(fault)} (kind is one of ${FAULT_KINDS.join(', ')})`);
  }
  if (f.kind === 'status' && !(Number.isInteger(f.status) && (f.status as number) >= 400 && (f.status as number) <= 599)) {
    throw new Error(`a status fault needs an HTTP error status (400–599), got ${JSON.stringify(f.status)}`);
  }
  if (f.kind === 'status' && f.retryAfterSeconds !== undefined) {
    if (!(Number.isInteger(f.retryAfterSeconds) && (f.retryAfterSeconds as number) >= 0)) {
      throw new Error(`retryAfterSeconds must be a whole number of seconds, got ${JSON.stringify(f.retryAfterSeconds)}`);
    }
  }
  if ((f.kind === 'negative' || f.kind === 'missing') && !(typeof f.asset === 'string' && f.asset)) {
    throw new Error(`a ${f.kind} fault needs an asset code, e.g. "BTC", "EUR" or "XAU"`);
  }
  if (times !== undefined && !(Number.isInteger(times) && (times as number) > 0)) {
    throw new Error(`times must be a positive integer, got ${JSON.stringify(times)}`);
  }
}

function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > limit) reject(new Error('request body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    'content-type': reply.contentType ?? JSON_TYPE,
    'content-length': Buffer.byteLength(reply.body),
    ...reply.headers,
  });
  res.end(reply.body);
}

export async function startPricesReplica(opts: PricesReplicaOptions = {}): Promise<PricesReplica> {
  const host = opts.host ?? '127.0.0.1';
  const todayOption = opts.today;
  if (typeof todayOption === 'string' && epochDay(todayOption) === undefined) {
    throw new Error(`today must be a YYYY-MM-DD date, got ${JSON.stringify(todayOption)}`);
  }
  const currentDate = (): string =>
    typeof todayOption === 'function'
      ? todayOption()
      : (todayOption ?? new Date().toISOString().slice(0, 10));

  const sources: Record<PriceSourceId, Source> = {
    erapi,
    fawaz,
    coingecko,
    metalpriceapi: metalpriceapi(opts.metalpriceApiKey ?? DEFAULT_METALPRICEAPI_KEY),
  };
  const faults = new Map<PriceSourceId, { fault: PriceReplicaFault; remaining: number }>();
  const counts: Record<PriceSourceId, number> = { erapi: 0, fawaz: 0, coingecko: 0, metalpriceapi: 0 };
  const hanging = new Set<ServerResponse>();

  const setFault = (source: PriceSourceId, fault: PriceReplicaFault, times?: number): void => {
    checkFault(source, fault, times);
    faults.set(source, { fault: { ...fault }, remaining: times ?? Infinity });
  };
  const clearFaults = (): void => faults.clear();
  const faultList = () =>
    Object.fromEntries(
      [...faults].map(([s, f]) => [s, { fault: f.fault, remaining: Number.isFinite(f.remaining) ? f.remaining : null }]),
    );

  /** The fault this request gets, if any: each affected request uses up one of `times`. */
  const takeFault = (source: PriceSourceId): PriceReplicaFault | undefined => {
    const entry = faults.get(source);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.delete(source);
    return entry.fault;
  };

  async function control(req: IncomingMessage, path: string): Promise<Reply> {
    if (path === '/__replica/health' && req.method === 'GET') {
      let today: string;
      try {
        today = currentDate();
      } catch (e) {
        return json(500, { status: 'error', error: String(e) });
      }
      return json(200, { status: 'ok', today, requests: counts, faults: faultList() });
    }
    if (path !== '/__replica/faults') return notFound(path);
    if (req.method === 'GET') return json(200, { faults: faultList() });
    if (req.method === 'DELETE') {
      clearFaults();
      return json(200, { ok: true, faults: {} });
    }
    if (req.method !== 'POST') return json(405, { error: 'Method Not Allowed' }, { allow: 'GET, POST, DELETE' });
    let parsed: { source?: unknown; fault?: unknown; times?: unknown };
    try {
      parsed = JSON.parse(await readBody(req)) as typeof parsed;
      checkFault(parsed.source, parsed.fault, parsed.times);
    } catch (e) {
      return json(400, { error: 'Bad Request', message: e instanceof Error ? e.message : String(e) });
    }
    setFault(parsed.source as PriceSourceId, parsed.fault, parsed.times as number | undefined);
    return json(200, { ok: true, faults: faultList() });
  }

  function serveSource(id: PriceSourceId, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    counts[id] += 1;
    const source = sources[id];
    const fault = takeFault(id);
    if (fault?.kind === 'timeout') {
      // Accept and never answer: the client's own timeout is what is under test.
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault?.kind === 'status') {
      const reply = source.errorReply(fault.status);
      const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? source.retryAfterOn429 : undefined);
      const headers = { ...reply.headers, ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) };
      send(res, { ...reply, status: fault.status, headers });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, json(405, { error: 'Method Not Allowed' }, { allow: 'GET' }));
      return;
    }
    const today = currentDate();
    if (epochDay(today) === undefined) {
      send(res, json(500, { error: `prices replica misconfigured: today is ${JSON.stringify(today)}, not YYYY-MM-DD` }));
      return;
    }
    // Each source sees the path as its real host would: without the replica's `/<source>` prefix.
    const result = source.serve(path.slice(id.length + 1), query, req, today);
    if (!result) return send(res, notFound(path));
    if ('status' in result) return send(res, result);
    let body: unknown = result.payload;
    if (fault?.kind === 'negative' || fault?.kind === 'missing') source.edit(result, fault.asset, fault.kind);
    if (fault?.kind === 'shape') body = source.reshape(result);
    let text = JSON.stringify(body, null, result.indent);
    // Cut mid-document: what a proxy that dropped the connection halfway would hand over.
    if (fault?.kind === 'malformed') text = text.slice(0, Math.floor(text.length / 2));
    send(res, { status: 200, body: text });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    let path: string;
    try {
      // Clients may send "@" as %40: match on the decoded path.
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    if (path.startsWith('/__replica/')) {
      control(req, path).then((reply) => send(res, reply), (e: unknown) => send(res, json(500, { error: String(e) })));
      return;
    }
    const id = PRICE_SOURCE_IDS.find((s) => path.startsWith(`/${s}/`));
    if (!id) return send(res, notFound(path));
    try {
      serveSource(id, req, res, path, url.searchParams);
    } catch (e) {
      send(res, json(500, { error: 'prices replica failure', message: e instanceof Error ? e.message : String(e) }));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    baseUrls: {
      erapi: `${url}${BASE_PATHS.erapi}`,
      fawaz: `${url}${BASE_PATHS.fawaz}`,
      coingecko: `${url}${BASE_PATHS.coingecko}`,
      metalpriceapi: `${url}${BASE_PATHS.metalpriceapi}`,
    },
    setFault,
    clearFaults,
    requestCount: (source) => (source ? counts[source] : PRICE_SOURCE_IDS.reduce((n, s) => n + counts[s], 0)),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        for (const res of hanging) res.socket?.destroy();
        hanging.clear();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
