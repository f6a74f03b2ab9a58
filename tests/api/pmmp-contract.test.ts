/**
 * The procurement reads' answers are checked by ajv and stringified as built (api/contract-serializer.ts
 * `responseContract`), no longer copied through zod's encode: on the realistic data set (dataset.ts), with
 * the response cache off so every request builds its answer, each body is byte for byte what zod's
 * serializer answered for it — list, search, detail, PV, attributions and statistics pages, with their
 * filters, sorts and pages. A zod copy puts keys in the schema's order and drops a key the schema does not
 * name, so `JSON.stringify(z.encode(schema, body))` differs from a body whose keys are out of order or
 * extra. A wrong answer is still a 500, and a key the data holds beyond the schema is still dropped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import { responseContract } from '../../api/contract-serializer';
import {
  AttributionListSchema,
  ConsultationDetailSchema,
  ConsultationListSchema,
  PvListSchema,
  SearchResultSchema,
  StatsSchema,
  TopBuyersSchema,
  TopWinnersSchema,
} from '../../api/pmmp/schemas';
import { createApiRuntime, type ApiRuntime } from '../../api/runtime';
import { LOCAL_STACK } from '../../schema/config';
import { uniqueName } from '../support/services';
import { cachedDatasetDatabase, DATASET_NOW, type DatasetDatabase } from './dataset';

let data: DatasetDatabase;
let runtime: ApiRuntime;
let app: ZodApp;

before(async () => {
  const base = process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl;
  data = await cachedDatasetDatabase(base, uniqueName('moisson_test_apicontract'), { consultations: 100_000, log: (l) => console.log(l) });
  runtime = createApiRuntime(
    { ...process.env, DATABASE_URL: data.url, PROOF_STORE_DIR: data.proofDir, API_RATE_LIMIT_PER_MINUTE: '1000000', API_RESPONSE_CACHE_MB: '0' },
    { now: () => DATASET_NOW },
  );
  app = await buildApp(runtime.ctx, { logger: false });
});

after(async () => {
  await app?.close();
  await runtime?.close();
  await data?.drop();
});

/** The body of `url` (200), checked to be zod's serialization of itself byte for byte; its parsed value. */
async function sameAsZod<T = Record<string, unknown>>(url: string, schema: z.ZodType): Promise<T> {
  const res = await app.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 400)}`);
  assert.equal(res.body, JSON.stringify(z.encode(schema, JSON.parse(res.body))), url);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', url);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)), url);
  return JSON.parse(res.body) as T;
}

type Page = { items: Record<string, unknown>[]; page: { next_cursor: string | null; next_offset?: number | null } };

describe('procurement reads serialized by their contract', () => {
  test('consultation lists: filters, sorts, an organisation, cursor and offset pages', async () => {
    const [org] = await data.sql<{ org: string }[]>`
      select org_acronyme as org from pmmp.consultations group by 1 having count(*) between 300 and 3000 order by count(*) desc limit 1`;
    const [buyer] = await data.sql<{ word: string }[]>`
      select split_part(buyer, ' ', 1) as word from pmmp.consultations where buyer is not null and length(split_part(buyer, ' ', 1)) > 4 limit 1`;
    const queries = [
      '',
      'type_marche=travaux',
      'statut=en_cours',
      'statut=cloturee&sort=date_limite',
      'statut=attribuee&sort=-montant',
      'date_debut=2025-01-01&date_fin=2025-12-31',
      'montant_min=1000000&sort=date_limite',
      'montant_max=500000&sort=montant',
      'date_limite_debut=2026-01-01&sort=-date_limite',
      `organisme=${org!.org}`,
      `organisme=${encodeURIComponent(buyer!.word)}&sort=date_publication`,
      'limit=200',
      'offset=150&limit=30',
    ];
    for (const q of queries) {
      const first = await sameAsZod<Page>(`/api/v1/consultations?${q}`, ConsultationListSchema);
      assert.ok(first.items.length > 0, `${q}: some rows`);
      if (first.page.next_cursor && !q.includes('offset')) await sameAsZod(`/api/v1/consultations?${q}&cursor=${first.page.next_cursor}`, ConsultationListSchema);
    }
  });

  test('compressed when asked: the same bytes, gzipped', async () => {
    for (const url of ['/api/v1/consultations?limit=100', '/api/v1/attributions?limit=100']) {
      const plain = await app.inject({ method: 'GET', url });
      const gzipped = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
      assert.equal(gzipped.headers['content-encoding'], 'gzip', url);
      assert.equal(gzipped.headers['content-type'], 'application/json; charset=utf-8', url);
      assert.equal(gunzipSync(gzipped.rawPayload).toString('utf8'), plain.body, url);
    }
  });

  test('search: ranked hits with highlights, filters and offsets', async () => {
    for (const q of ['route', 'construction école', 'travaux&offset=40', 'fournitures de bureau&type_marche=fournitures', '"matériel informatique"', 'nettoyage -locaux']) {
      const [words, rest] = q.split(/&(.*)/s);
      const body = await sameAsZod<Page>(`/api/v1/consultations/search?q=${encodeURIComponent(words!)}${rest ? `&${rest}` : ''}`, SearchResultSchema);
      if (!q.includes('-locaux')) assert.ok(body.items.length > 0, `${q}: some hits`);
    }
  });

  test('detail: the consultations with the most lots, notices, attributions, bids and site visits, and a sample', async () => {
    const keys = await data.sql<{ org: string; ref: string }[]>`
      (select org_acronyme as org, ref_consultation as ref from pmmp.lots group by 1, 2 order by count(*) desc limit 40)
      union (select org_acronyme, ref_consultation from pmmp.notices group by 1, 2 order by count(*) desc limit 40)
      union (select org_acronyme, ref_consultation from pmmp.attributions group by 1, 2 order by count(*) desc limit 40)
      union (select org_acronyme, ref_consultation from pmmp.bids group by 1, 2 order by count(*) desc limit 40)
      union (select org_acronyme, ref_consultation from pmmp.consultations where jsonb_array_length(site_visits) > 0 limit 40)
      union (select org_acronyme, ref_consultation from pmmp.consultations tablesample bernoulli (1) repeatable (13) limit 200)`;
    const seen = { lots: 0, notices: 0, attributions: 0, bids: 0, site_visits: 0 };
    for (const k of keys) {
      const d = await sameAsZod<Record<keyof typeof seen, unknown[]>>(`/api/v1/consultations/${encodeURIComponent(k.org)}/${encodeURIComponent(k.ref)}`, ConsultationDetailSchema);
      for (const part of Object.keys(seen) as (keyof typeof seen)[]) seen[part] += d[part].length;
    }
    for (const [part, n] of Object.entries(seen)) assert.ok(n > 0, `the details hold ${part}`);
  });

  test('PV and attributions: filters, sorts, an organisation, cursor and offset pages', async () => {
    const [org] = await data.sql<{ org: string }[]>`select org_acronyme as org from pmmp.attributions group by 1 order by count(*) desc limit 1`;
    const [w] = await data.sql<{ winner: string }[]>`select winner from pmmp.attributions where winner is not null and status = 'attribue' limit 1`;
    const part = encodeURIComponent(w!.winner.split(' ')[0]!.toLowerCase());
    const reads: [string, z.ZodType][] = [
      ['/api/v1/pv', PvListSchema],
      ['/api/v1/pv?lu=true&limit=100', PvListSchema],
      ['/api/v1/pv?lu=false&date_debut=2024-01-01', PvListSchema],
      [`/api/v1/pv?organisme=${org!.org}`, PvListSchema],
      ['/api/v1/pv?offset=60&limit=20', PvListSchema],
      ['/api/v1/attributions', AttributionListSchema],
      ['/api/v1/attributions?sort=montant&limit=200', AttributionListSchema],
      ['/api/v1/attributions?statut=infructueux', AttributionListSchema],
      [`/api/v1/attributions?entreprise=${part}&montant_min=100000&date_debut=2024-01-01`, AttributionListSchema],
      [`/api/v1/attributions?organisme=${org!.org}&sort=-montant`, AttributionListSchema],
      ['/api/v1/attributions?offset=100&limit=25&sort=date', AttributionListSchema],
    ];
    for (const [url, schema] of reads) {
      const first = await sameAsZod<Page>(url, schema);
      assert.ok(first.items.length > 0, `${url}: some rows`);
      if (first.page.next_cursor && !url.includes('offset')) await sameAsZod(`${url}${url.includes('?') ? '&' : '?'}cursor=${first.page.next_cursor}`, schema);
    }
  });

  test('statistics: monthly, top buyers and top winners', async () => {
    const stats = await sameAsZod<{ months: unknown[] }>('/api/v1/stats', StatsSchema);
    assert.ok(stats.months.length > 0);
    await sameAsZod('/api/v1/stats?mois_debut=2025-01&type_marche=travaux', StatsSchema);
    for (const tri of ['nombre', 'montant']) {
      assert.ok((await sameAsZod<Page>(`/api/v1/stats/organismes?tri=${tri}&limit=100`, TopBuyersSchema)).items.length > 0);
      assert.ok((await sameAsZod<Page>(`/api/v1/stats/attributaires?tri=${tri}&limit=100`, TopWinnersSchema)).items.length > 0);
    }
  });

  test('a wrong answer is a 500 as before; a key the data holds beyond the schema is dropped as before', async () => {
    const [k] = await data.sql<{ org: string; ref: string }[]>`select org_acronyme as org, ref_consultation as ref from pmmp.consultations limit 1`;
    const url = `/api/v1/consultations/${encodeURIComponent(k!.org)}/${encodeURIComponent(k!.ref)}`;
    const visits = async (v: unknown) => data.sql`update pmmp.consultations set site_visits = ${JSON.stringify(v)}::jsonb where org_acronyme = ${k!.org} and ref_consultation = ${k!.ref}`;
    for (const [what, v] of [
      ['a number where the schema says a string', [{ at: 5, place: null }]],
      ['a missing field', [{ place: 'sur site' }]],
    ] as const) {
      await visits(v);
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 500, `${what}: ${res.body}`);
      assert.deepEqual(res.json(), { error: 'internal', message: 'internal error; the server log has the details' });
    }
    await visits([{ at: null, place: 'sur site', guide: 'M. Alami' }]);
    const d = await sameAsZod<{ site_visits: unknown[] }>(url, ConsultationDetailSchema);
    assert.deepEqual(d.site_visits, [{ at: null, place: 'sur site' }]);
  });

  test("the contract refuses what zod's encode refuses, on real pages", async () => {
    const list = await sameAsZod<Page>('/api/v1/consultations?limit=20', ConsultationListSchema);
    const detailKey = list.items[0]!;
    const detail = await sameAsZod<Record<string, unknown>>(`/api/v1/consultations/${encodeURIComponent(String(detailKey.org_acronyme))}/${encodeURIComponent(String(detailKey.ref_consultation))}`, ConsultationDetailSchema);
    const contracts = { list: responseContract(ConsultationListSchema), detail: responseContract(ConsultationDetailSchema) };
    // The pages as they are: the contract's JSON is zod's.
    assert.equal(contracts.list(list as never), JSON.stringify(z.encode(ConsultationListSchema, list as never)));
    assert.equal(contracts.detail(detail as never), JSON.stringify(z.encode(ConsultationDetailSchema, detail as never)));
    const nulls = { ...list, items: [{ ...list.items[0], market_kind: null, estimation_ttc: null, lot_count: null }] };
    assert.equal(contracts.list(nulls as never), JSON.stringify(z.encode(ConsultationListSchema, nulls as never)));
    const { statut: _statut, ...withoutStatut } = list.items[0]!;
    const wrong: [string, () => unknown, z.ZodType, (v: never) => string][] = [
      ['a missing statut', () => ({ ...list, items: [withoutStatut, ...list.items.slice(1)] }), ConsultationListSchema, contracts.list],
      ['lot_count as text', () => ({ ...list, items: [{ ...list.items[0], lot_count: '3' }] }), ConsultationListSchema, contracts.list],
      ['an unknown statut', () => ({ ...list, items: [{ ...list.items[0], statut: 'suspendue' }] }), ConsultationListSchema, contracts.list],
      // Nullable and more than a type (an enum, a bound): checked as one schema of two types (contract-serializer.ts).
      ['an unknown market_kind', () => ({ ...list, items: [{ ...list.items[0], market_kind: 'concession' }] }), ConsultationListSchema, contracts.list],
      ['an estimate as a number', () => ({ ...list, items: [{ ...list.items[0], estimation_ttc: 150000 }] }), ConsultationListSchema, contracts.list],
      ['a lot count that is not whole', () => ({ ...list, items: [{ ...list.items[0], lot_count: 2.5 }] }), ConsultationListSchema, contracts.list],
      ['a page without has_more', () => ({ ...list, page: { limit: 20, next_cursor: null } }), ConsultationListSchema, contracts.list],
      ['bids not an array', () => ({ ...detail, bids: {} }), ConsultationDetailSchema, contracts.detail],
      ['a lot number that is not whole', () => ({ ...detail, lots: [{ lot_number: 1.5, object: null, category: null, description: null, estimation_ttc: null, caution_provisoire: null, qualifications: [], agrements: [] }] }), ConsultationDetailSchema, contracts.detail],
    ];
    for (const [what, value, schema, contract] of wrong) {
      assert.throws(() => z.encode(schema, value() as never), z.ZodError, `zod: ${what}`);
      assert.throws(() => contract(value() as never), z.ZodError, `contract: ${what}`);
    }
  });
});
