/**
 * The BAN geocoder (api-adresse.data.gouv.fr / Géoplateforme): one address with `GET /search/?q=` (a
 * GeoJSON FeatureCollection, best first, each feature with its `score`), many with the batch
 * `POST /search/csv/` (a CSV upload; the answer is the same CSV with result columns appended, one best
 * result per row). Both paths give the same `GeocodeResult` and share one 30-day cache, keyed by the
 * query, so a row geocoded by either path is never asked again within the month. Every request goes
 * through the service's budget shared by all workers (50 requests per second).
 *
 * A result is accepted as QFDMOD accepts it: `fuzz.ratio(query, label) >= 80`, compared lower-cased (BAN
 * labels are title-cased, sources often upper-cased; case says nothing about the address).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { ratio } from 'fuzzball';
import type { Sql } from 'postgres';
import { z } from 'zod';
import type { ConsolidationEnrichConfig } from '../../../schema/config';
import { ResponseShapeError } from '../../engine/errors';
import { EnrichCache, requestKey } from './cache';
import { ServiceClient } from './http';

const featureSchema = z.object({
  type: z.literal('Feature'),
  geometry: z.object({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]) }),
  properties: z
    .object({
      label: z.string(),
      score: z.number(),
      id: z.string(),
      type: z.string(),
      name: z.string().optional(),
      housenumber: z.string().optional(),
      street: z.string().optional(),
      postcode: z.string().optional(),
      citycode: z.string().optional(),
      city: z.string().optional(),
      context: z.string().optional(),
    })
    .loose(),
});

export const banCollectionSchema = z
  .object({
    type: z.literal('FeatureCollection'),
    features: z.array(featureSchema),
    query: z.string().optional(),
  })
  .loose();

export type BanCollection = z.infer<typeof banCollectionSchema>;
export type BanFeature = z.infer<typeof featureSchema>;

export interface BanSearchOptions {
  limit?: number;
  postcode?: string;
  citycode?: string;
  type?: 'housenumber' | 'street' | 'locality' | 'municipality';
}

/** The best answer for one address, whichever path found it. */
export interface GeocodeResult {
  label: string;
  score: number;
  type: string;
  banId: string;
  latitude: number;
  longitude: number;
  housenumber: string | null;
  street: string | null;
  postcode: string | null;
  city: string | null;
  citycode: string | null;
}

export interface AddressToGeocode {
  /** The caller's key (an actor's identifiant_unique). */
  id: string;
  adresse: string;
  codePostal?: string | null;
  ville?: string | null;
}

export interface Geocoded {
  id: string;
  query: string;
  /** null: the service found nothing. */
  result: GeocodeResult | null;
  /** fuzz.ratio(query, label), 0 when nothing was found. */
  ratio: number;
  accepted: boolean;
  fromCache: boolean;
}

/** The CSV result columns we ask for (and read back). */
const RESULT_COLUMNS = [
  'latitude',
  'longitude',
  'result_label',
  'result_score',
  'result_type',
  'result_id',
  'result_housenumber',
  'result_street',
  'result_postcode',
  'result_city',
  'result_citycode',
  'result_status',
] as const;

/** "adresse code_postal ville", spaces collapsed: the query both paths send for an address. */
export function addressQuery(a: Pick<AddressToGeocode, 'adresse' | 'codePostal' | 'ville'>): string {
  return [a.adresse, a.codePostal ?? '', a.ville ?? ''].join(' ').replace(/\s+/g, ' ').trim();
}

/** QFDMOD's acceptance: the label must read like what was asked. */
export function labelRatio(query: string, label: string): number {
  return ratio(query.toLowerCase(), label.toLowerCase(), { full_process: false });
}

function fromFeature(f: BanFeature): GeocodeResult {
  const p = f.properties;
  return {
    label: p.label,
    score: p.score,
    type: p.type,
    banId: p.id,
    longitude: f.geometry.coordinates[0],
    latitude: f.geometry.coordinates[1],
    housenumber: p.housenumber ?? null,
    street: p.street ?? null,
    postcode: p.postcode ?? null,
    city: p.city ?? null,
    citycode: p.citycode ?? null,
  };
}

const blankToNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);

export class BanClient {
  readonly service: ServiceClient;
  readonly cache: EnrichCache;
  private readonly baseUrl: string;
  private readonly minRatio: number;
  private readonly csvBatchRows: number;

  constructor(sql: Sql, config: ConsolidationEnrichConfig) {
    this.baseUrl = config.ban.baseUrl;
    this.minRatio = config.ban.minRatio;
    this.csvBatchRows = config.ban.csvBatchRows;
    this.cache = new EnrichCache(sql, config.cacheTtlMs);
    this.service = new ServiceClient(sql, {
      bucket: `ban:${new URL(config.ban.baseUrl).host}`,
      ratePerSecond: config.ban.ratePerSecond,
      marginMs: config.rateMarginMs,
      timeoutMs: config.httpTimeoutMs,
      attempts: config.requestAttempts,
    });
  }

  /** `GET /search/?q=`: the whole FeatureCollection, cached 30 days per query and filters. */
  async search(q: string, options: BanSearchOptions = {}, signal?: AbortSignal): Promise<BanCollection> {
    const request = { q: q.trim(), limit: options.limit ?? 5, postcode: options.postcode, citycode: options.citycode, type: options.type };
    const key = requestKey(request);
    const cached = await this.cache.get<BanCollection>('ban.search', key);
    if (cached) return cached;
    const url = new URL(`${this.baseUrl}/search/`);
    for (const [k, v] of Object.entries(request)) if (v !== undefined) url.searchParams.set(k, String(v));
    const res = await this.service.send(`BAN search '${request.q}'`, () => ({ url: url.toString(), init: { headers: { accept: 'application/json' } } }), signal);
    const parsed = banCollectionSchema.safeParse(await res.json());
    if (!parsed.success) throw new ResponseShapeError(`BAN search '${request.q}': unexpected answer: ${parsed.error.issues[0]?.message ?? ''}`);
    await this.cache.putMany('ban.search', [{ key, request, response: parsed.data }]);
    return parsed.data;
  }

  private judge(id: string, query: string, result: GeocodeResult | null, fromCache: boolean): Geocoded {
    const r = result ? labelRatio(query, result.label) : 0;
    return { id, query, result, ratio: r, accepted: result !== null && r >= this.minRatio, fromCache };
  }

  /** One address through `/search` (limit 1), sharing the geocode cache with the batch path. */
  async geocode(address: AddressToGeocode, signal?: AbortSignal): Promise<Geocoded> {
    const query = addressQuery(address);
    const key = requestKey({ q: query.toLowerCase() });
    const cached = await this.cache.getMany<GeocodeResult | null>('ban.geocode', [key]);
    if (cached.has(key)) return this.judge(address.id, query, cached.get(key)!, true);
    const url = new URL(`${this.baseUrl}/search/`);
    url.searchParams.set('q', query);
    url.searchParams.set('limit', '1');
    const res = await this.service.send(`BAN search '${query}'`, () => ({ url: url.toString(), init: { headers: { accept: 'application/json' } } }), signal);
    const parsed = banCollectionSchema.safeParse(await res.json());
    if (!parsed.success) throw new ResponseShapeError(`BAN search '${query}': unexpected answer: ${parsed.error.issues[0]?.message ?? ''}`);
    const best = parsed.data.features[0];
    const result = best ? fromFeature(best) : null;
    await this.cache.putMany('ban.geocode', [{ key, request: { q: query }, response: result }]);
    return this.judge(address.id, query, result, false);
  }

  /**
   * Many addresses through `/search/csv/`: the ones not cached are uploaded `csvBatchRows` at a time, each
   * upload one request of the shared budget. Results come back in the order given.
   */
  async geocodeBatch(addresses: AddressToGeocode[], signal?: AbortSignal): Promise<Geocoded[]> {
    const queries = addresses.map((a) => addressQuery(a));
    const keys = queries.map((q) => requestKey({ q: q.toLowerCase() }));
    const cached = await this.cache.getMany<GeocodeResult | null>('ban.geocode', keys);
    const results = new Map<string, GeocodeResult | null>(cached);
    const missing = [...new Set(keys.map((k, i) => (cached.has(k) || queries[i]!.length < 3 ? -1 : i)).filter((i) => i >= 0))];
    const todo = [...new Map(missing.map((i) => [keys[i]!, i])).values()];
    for (let start = 0; start < todo.length; start += this.csvBatchRows) {
      const chunk = todo.slice(start, start + this.csvBatchRows);
      const found = await this.uploadCsv(chunk.map((i) => ({ key: keys[i]!, query: queries[i]! })), signal);
      await this.cache.putMany(
        'ban.geocode',
        chunk.map((i) => ({ key: keys[i]!, request: { q: queries[i]! }, response: found.get(keys[i]!) ?? null })),
      );
      for (const [k, v] of found) results.set(k, v);
    }
    return addresses.map((a, i) => this.judge(a.id, queries[i]!, results.get(keys[i]!) ?? null, cached.has(keys[i]!)));
  }

  private async uploadCsv(rows: { key: string; query: string }[], signal?: AbortSignal): Promise<Map<string, GeocodeResult | null>> {
    // One column holding the whole query, so both paths ask the very same thing; the key comes back as is.
    const csv = 'cle;adresse\r\n' + rows.map((r) => `${r.key};"${r.query.replaceAll('"', '""')}"`).join('\r\n') + '\r\n';
    const build = () => {
      const form = new FormData();
      form.append('data', new Blob([csv], { type: 'text/csv' }), 'adresses.csv');
      form.append('columns', 'adresse');
      form.append('delimiter', ';');
      for (const c of RESULT_COLUMNS) form.append('result_columns', c);
      return { url: `${this.baseUrl}/search/csv/`, init: { method: 'POST', body: form } };
    };
    const res = await this.service.send(`BAN /search/csv/ (${rows.length} rows)`, build, signal);
    const text = await res.text();
    let records: Record<string, string>[];
    try {
      records = parseCsv(text, { columns: true, delimiter: ';', bom: true, skip_empty_lines: true }) as Record<string, string>[];
    } catch (err) {
      throw new ResponseShapeError(`BAN /search/csv/: the answer is not the CSV we sent back with results: ${(err as Error).message}`);
    }
    if (records.length !== rows.length || (records[0] && !('result_status' in records[0]))) {
      throw new ResponseShapeError(`BAN /search/csv/: ${records.length} rows answered for ${rows.length} sent, or no result columns`);
    }
    const out = new Map<string, GeocodeResult | null>();
    for (const r of records) {
      const key = r.cle ?? '';
      if (r.result_status !== 'ok' || !r.result_label) {
        out.set(key, null);
        continue;
      }
      out.set(key, {
        label: r.result_label,
        score: Number(r.result_score),
        type: r.result_type ?? '',
        banId: r.result_id ?? '',
        latitude: Number(r.latitude),
        longitude: Number(r.longitude),
        housenumber: blankToNull(r.result_housenumber),
        street: blankToNull(r.result_street),
        postcode: blankToNull(r.result_postcode),
        city: blankToNull(r.result_city),
        citycode: blankToNull(r.result_citycode),
      });
    }
    return out;
  }
}
