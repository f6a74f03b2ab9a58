/**
 * A local replica of the BAN geocoder (api-adresse.data.gouv.fr / Géoplateforme, addok + addok-csv) on a
 * plain `node:http` server: `GET /search/?q=` answering GeoJSON FeatureCollections with `score`, the batch
 * `POST /search/csv/` (multipart: `data`, `columns`, `result_columns`, `postcode`/`citycode` column
 * filters) answering the uploaded CSV with the result columns appended, and the public limit of 50
 * requests per second per client answered with 429. The saved real answers (samples/) are served as they
 * are for their queries; other queries are looked up in model.ts's address book. README.md says which
 * behaviour is documented and which inferred.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  MAX_HOUSENUMBER,
  fold,
  savedAnswers,
  streetEntries,
  streetFeature,
  tokens,
  type BanCollection,
  type BanFeature,
  type SavedAnswer,
  type StreetEntry,
} from './model';

export type { BanCollection, BanFeature } from './model';

/** The result columns addok-csv appends, in its order (`result_columns` picks among them). */
export const CSV_RESULT_COLUMNS = [
  'latitude',
  'longitude',
  'result_label',
  'result_score',
  'result_score_next',
  'result_type',
  'result_id',
  'result_housenumber',
  'result_name',
  'result_street',
  'result_postcode',
  'result_city',
  'result_context',
  'result_citycode',
  'result_oldcitycode',
  'result_oldcity',
  'result_district',
  'result_status',
] as const;

const Q_ERROR = 'q must contain between 3 and 200 chars and start with a number or a letter';

export interface BanRequestRecord {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  /** Rows of a `/search/csv/` upload. */
  rows?: number;
}

export interface BanReplicaOptions {
  port?: number;
  host?: string;
  /** Requests per second and per client address (50 at the public service); 0 turns the limit off. */
  ratePerSecond?: number;
  /** Added to every answer, to model a distant server (default 0). */
  latencyMs?: number;
}

export interface BanReplica {
  url: string;
  requests(): BanRequestRecord[];
  clearRequests(): void;
  /** The next `times` requests answer this status (a 5xx, a 429…). */
  setFault(status: number, times?: number): void;
  /** Most requests seen in any window of `windowMs` (arrivals, whatever their status). */
  maxInWindow(windowMs?: number, statuses?: (s: number) => boolean): number;
  close(): Promise<void>;
}

interface Geocoder {
  search(q: string, opts: { limit: number; postcode?: string; citycode?: string; type?: string }): BanFeature[];
}

function geocoder(): Geocoder {
  const entries = streetEntries();
  // Rare words weigh more than "rue", "de", "la" (addok ranks by token frequency too).
  const df = new Map<string, number>();
  for (const e of entries) for (const t of e.tokens) df.set(t, (df.get(t) ?? 0) + 1);
  const weight = (t: string) => Math.log(1 + entries.length / (df.get(t) ?? 0.5));
  const entryWeight = new Map(entries.map((e) => [e, [...e.tokens].reduce((s, t) => s + weight(t), 0)]));
  return {
    search(q, opts) {
      const qt = tokens(q);
      let housenumber: number | undefined;
      if (qt.length > 0 && /^\d{1,4}$/.test(qt[0]!)) housenumber = Number(qt.shift());
      if (qt.length === 0) return [];
      const queryWeight = qt.reduce((s, t) => s + weight(t), 0);
      const scored: { entry: StreetEntry; dice: number }[] = [];
      for (const entry of entries) {
        let common = 0;
        for (const t of qt) if (entry.tokens.has(t)) common += weight(t);
        const dice = (2 * common) / (queryWeight + entryWeight.get(entry)!);
        if (dice >= 0.5) scored.push({ entry, dice });
      }
      scored.sort((a, b) => b.dice - a.dice || a.entry.street.localeCompare(b.entry.street));
      const out: BanFeature[] = [];
      for (const { entry, dice } of scored) {
        const hasNumber = housenumber !== undefined && housenumber >= 1 && housenumber <= MAX_HOUSENUMBER;
        const score = Math.min(0.99, (hasNumber ? 0.52 : 0.45) + 0.45 * dice);
        const feature = streetFeature(entry, hasNumber ? housenumber : undefined, score);
        const p = feature.properties;
        if (opts.postcode && p.postcode !== opts.postcode) continue;
        if (opts.citycode && p.citycode !== opts.citycode) continue;
        if (opts.type && p.type !== opts.type) continue;
        out.push(feature);
        if (out.length >= opts.limit) break;
      }
      return out;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Python's csv writer, QUOTE_MINIMAL, `\r\n` line ends (what addok-csv writes). */
function csvLine(values: string[], delimiter: string): string {
  return (
    values
      .map((v) => (v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r') ? `"${v.replaceAll('"', '""')}"` : v))
      .join(delimiter) + '\r\n'
  );
}

function sniff(content: string): string {
  const head = content.split(/\r?\n/, 1)[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '|', '\t']) {
    const n = head.split(d).length - 1;
    if (n > bestCount) [best, bestCount] = [d, n];
  }
  return best;
}

export async function startBanReplica(options: BanReplicaOptions = {}): Promise<BanReplica> {
  const rate = options.ratePerSecond ?? 50;
  const latencyMs = options.latencyMs ?? 0;
  const geo = geocoder();
  const saved: SavedAnswer[] = savedAnswers();
  const log: BanRequestRecord[] = [];
  const arrivals = new Map<string, number[]>();
  let fault: { status: number; times: number } | undefined;

  function limited(client: string, now: number): boolean {
    if (rate <= 0) return false;
    const list = (arrivals.get(client) ?? []).filter((t) => t > now - 1000);
    list.push(now);
    arrivals.set(client, list);
    return list.length > rate;
  }

  function search(params: URLSearchParams): { status: number; body: unknown } {
    const q = (params.get('q') ?? '').trim();
    if (q.length < 3 || q.length > 200 || !/^[\p{L}\p{N}]/u.test(q)) return { status: 400, body: { code: 400, message: Q_ERROR } };
    const limitText = params.get('limit') ?? '5';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return { status: 400, body: { code: 400, message: 'limit must be an integer between 1 and 100' } };
    const filters: Record<string, string> = {};
    for (const f of ['postcode', 'citycode', 'type']) {
      const v = params.get(f);
      if (v) filters[f] = v;
    }
    const same = saved.find((a) => fold(a.query) === fold(q) && a.type === filters.type && !filters.postcode && !filters.citycode);
    if (same) return { status: 200, body: same.body };
    const features = geo.search(q, { limit, ...filters });
    const body: BanCollection = {
      type: 'FeatureCollection',
      version: 'draft',
      features,
      attribution: 'BAN',
      licence: 'ETALAB-2.0',
      query: q,
      ...(Object.keys(filters).length > 0 ? { filters } : {}),
      limit,
    };
    return { status: 200, body };
  }

  async function searchCsv(req: IncomingMessage): Promise<{ status: number; body: string | object; rows?: number; headers?: Record<string, string> }> {
    const raw = await readBody(req);
    let form: FormData;
    try {
      form = await new Request('http://replica/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
    } catch {
      return { status: 400, body: { code: 400, message: 'Missing file' } };
    }
    const file = form.get('data');
    if (!(file instanceof Blob)) return { status: 400, body: { code: 400, message: 'Missing file' } };
    const encoding = String(form.get('encoding') ?? 'utf-8');
    let content: string;
    try {
      content = new TextDecoder(encoding, { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      return { status: 400, body: { code: 400, message: `Unable to decode with encoding "${encoding}"` } };
    }
    if (content.trim() === '') return { status: 400, body: { code: 400, message: 'Empty file' } };
    const delimiter = String(form.get('delimiter') ?? '') || sniff(content);
    let records: string[][];
    try {
      records = parseCsv(content, { delimiter, bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (err) {
      return { status: 400, body: { code: 400, message: `Invalid CSV: ${(err as Error).message}` } };
    }
    const fieldnames = records.shift() ?? [];
    const columns = form.getAll('columns').map(String);
    const useColumns = columns.length > 0 ? columns : fieldnames;
    for (const c of useColumns) {
      if (!fieldnames.includes(c)) return { status: 400, body: { code: 400, message: `Cannot found column '${c}' in columns ${JSON.stringify(fieldnames)}` } };
    }
    const wanted = form.getAll('result_columns').map(String);
    for (const c of wanted) {
      if (!(CSV_RESULT_COLUMNS as readonly string[]).includes(c)) return { status: 400, body: { code: 400, message: `Unknown result column '${c}'` } };
    }
    const resultColumns = wanted.length > 0 ? wanted : [...CSV_RESULT_COLUMNS];
    const postcodeColumn = form.get('postcode');
    const citycodeColumn = form.get('citycode');
    const index = (name: string) => fieldnames.indexOf(name);
    let out = csvLine([...fieldnames, ...resultColumns.filter((c) => !fieldnames.includes(c))], delimiter);
    for (const record of records) {
      const q = useColumns.map((c) => record[index(c)] ?? '').join(' ').trim();
      const result: Record<string, string> = Object.fromEntries(CSV_RESULT_COLUMNS.map((c) => [c, '']));
      if (q.length < 3) {
        result.result_status = 'skipped';
      } else {
        const filters: { postcode?: string; citycode?: string } = {};
        if (typeof postcodeColumn === 'string' && record[index(postcodeColumn)]) filters.postcode = record[index(postcodeColumn)];
        if (typeof citycodeColumn === 'string' && record[index(citycodeColumn)]) filters.citycode = record[index(citycodeColumn)];
        const found = geo.search(q, { limit: 2, ...filters });
        const best = found[0];
        if (!best) {
          result.result_status = 'not-found';
        } else {
          const p = best.properties;
          Object.assign(result, {
            latitude: String(best.geometry.coordinates[1]),
            longitude: String(best.geometry.coordinates[0]),
            result_label: String(p.label),
            result_score: String(Math.round(Number(p.score) * 100) / 100),
            result_score_next: found[1] ? String(Math.round(Number(found[1].properties.score) * 100) / 100) : '',
            result_type: String(p.type),
            result_id: String(p.id),
            result_housenumber: String(p.housenumber ?? ''),
            result_name: String(p.name),
            result_street: String(p.street ?? ''),
            result_postcode: String(p.postcode),
            result_city: String(p.city),
            result_context: String(p.context),
            result_citycode: String(p.citycode),
            result_district: String(p.district ?? ''),
            result_status: 'ok',
          });
        }
      }
      const row = fieldnames.map((_, i) => record[i] ?? '');
      const values = [...row, ...resultColumns.filter((c) => !fieldnames.includes(c)).map((c) => result[c] ?? '')];
      // A result column that was already in the upload is overwritten in place, as DictWriter does.
      for (const c of resultColumns) if (fieldnames.includes(c)) values[index(c)] = result[c] ?? '';
      out += csvLine(values, delimiter);
    }
    const name = (file as File).name?.replace(/\.[^.]*$/, '') || 'data';
    return {
      status: 200,
      body: out,
      rows: records.length,
      headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.geocoded.csv"` },
    };
  }

  const server = createServer((req, res) => {
    const at = performance.timeOrigin + performance.now();
    const url = new URL(req.url ?? '/', 'http://replica');
    const path = url.pathname.replace(/\/+$/, '');
    const record: BanRequestRecord = { at, method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), status: 0 };
    log.push(record);
    const respond = async (): Promise<void> => {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      if (limited(req.socket.remoteAddress ?? '?', at)) {
        record.status = 429;
        req.resume();
        return json(res, 429, { code: 429, message: 'Too Many Requests' }, { 'retry-after': '1' });
      }
      if (fault && fault.times > 0) {
        fault.times--;
        record.status = fault.status;
        req.resume();
        return json(res, fault.status, { code: fault.status, message: 'Replica fault' }, fault.status === 429 ? { 'retry-after': '1' } : {});
      }
      if (req.method === 'GET' && path === '/search') {
        const { status, body } = search(url.searchParams);
        record.status = status;
        return json(res, status, body);
      }
      if (req.method === 'POST' && path === '/search/csv') {
        const r = await searchCsv(req);
        record.status = r.status;
        record.rows = r.rows;
        if (typeof r.body !== 'string') return json(res, r.status, r.body);
        res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) });
        return void res.end(r.body);
      }
      record.status = 404;
      req.resume();
      return json(res, 404, { code: 404, message: 'Not Found' });
    };
    respond().catch((err: unknown) => {
      record.status = 500;
      if (!res.headersSent) json(res, 500, { code: 500, message: String(err) });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...log],
    clearRequests: () => void (log.length = 0),
    setFault(status, times = 1) {
      fault = { status, times };
    },
    maxInWindow(windowMs = 1000, statuses = () => true) {
      const times = log.filter((r) => statuses(r.status)).map((r) => r.at).sort((a, b) => a - b);
      let best = 0;
      let start = 0;
      for (let end = 0; end < times.length; end++) {
        while (times[end]! - times[start]! >= windowMs) start++;
        best = Math.max(best, end - start + 1);
      }
      return best;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
