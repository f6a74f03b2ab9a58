/**
 * The REST API's read side on the real PostgreSQL with a realistic volume: 100,000 consultations (the
 * portal replica's model loaded through the pipeline's own loaders, see dataset.ts), driven in-process.
 * Every response is checked against the OpenAPI document the app publishes (contract.ts), and the last
 * test requires every read operation to have been exercised.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import postgres from 'postgres';
import { consultationDetail, listConsultations, organisationScope, searchShape } from '../../api/pmmp/queries';
import { API_LOOKUP_SESSION, API_SESSION, createApiRuntime, type ApiRuntime } from '../../api/runtime';
import { upsertQuotes } from '../../activities/prices/store';
import { LOCAL_STACK } from '../../schema/config';
import { uniqueName } from '../support/services';
import { consultations as consultationsTable } from '../../schema/pmmp/tables';
import { Contract } from './contract';
import { cachedDatasetDatabase, DATASET_NOW, type DatasetDatabase } from './dataset';
import { assertProcessMetrics } from '../support/metrics';

const CONSULTATIONS = Number(process.env.API_TEST_CONSULTATIONS ?? 100_000);

let data: DatasetDatabase;
let runtime: ApiRuntime;
let app: ZodApp;
let contract: Contract;

const get = async (url: string) => contract.inject(app, { method: 'GET', url });
const json = async <T = Record<string, unknown>>(url: string, status = 200): Promise<T> => {
  const res = await get(url);
  assert.equal(res.statusCode, status, `${url}: ${res.body.slice(0, 400)}`);
  return res.json<T>();
};

interface Item {
  org_acronyme: string;
  ref_consultation: string;
  statut: string;
  published_on: string | null;
  deadline: string | null;
  estimation_ttc: string | null;
  market_kind: string | null;
  buyer: string | null;
}
interface ListBody {
  items: Item[];
  page: { limit: number; has_more: boolean; next_cursor: string | null; offset?: number; next_offset?: number | null };
}

before(async () => {
  const base = process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl;
  data = await cachedDatasetDatabase(base, uniqueName('moisson_test_api'), { consultations: CONSULTATIONS, log: (l) => console.log(l) });
  runtime = createApiRuntime(
    { ...process.env, DATABASE_URL: data.url, PROOF_STORE_DIR: data.proofDir, API_RATE_LIMIT_PER_MINUTE: '1000000' },
    { now: () => DATASET_NOW },
  );
  app = await buildApp(runtime.ctx, { logger: false });
  contract = await Contract.of(app);
  // A few days of prices, through the prices pipeline's own loader.
  const rows = ['2026-11-18', '2026-11-19', '2026-11-20'].flatMap((day, i) => [
    { assetCode: 'USD', quoteDate: day, assetClass: 'fx' as const, priceMru: `39.${70 + i}000000`, unit: '1 USD', source: 'erapi', sourceTimestamp: `${day}T00:00:01Z`, direction: 'inverse' as const, sourceValue: '0.025', sourceCurrency: 'USD', runId: null },
    { assetCode: 'XAU', quoteDate: day, assetClass: 'metals' as const, priceMru: `10520${i}.50000000`, unit: '1 troy ounce', source: 'fawaz', sourceTimestamp: `${day}T00:00:01Z`, direction: 'cross' as const, sourceValue: '2650.1', sourceCurrency: 'USD', runId: null },
  ]);
  await upsertQuotes(data.sql, rows as never);
});

after(async () => {
  await app?.close();
  await runtime?.close();
  await data?.drop();
});

describe('consultations', () => {
  test('the data set is the realistic volume, loaded by the pipeline loaders', async () => {
    const [row] = await data.sql<{ n: number; attributions: number; discovered: number }[]>`
      select (select count(*)::int from pmmp.consultations) as n, (select count(*)::int from pmmp.attributions) as attributions,
             (select count(*)::int from pmmp.notices where proof_id is null) as discovered`;
    assert.equal(row!.n, CONSULTATIONS);
    assert.ok(row!.attributions > CONSULTATIONS / 4, `attributions: ${row!.attributions}`);
    assert.ok(row!.discovered > 0, 'some notices are discovered without a document');
  });

  test('the default list: newest publication first, a page of 50, statut derived', async () => {
    const body = await json<ListBody>('/api/v1/consultations');
    assert.equal(body.items.length, 50);
    assert.equal(body.page.has_more, true);
    const days = body.items.map((i) => i.published_on!);
    assert.deepEqual(days, [...days].sort().reverse());
    const [newest] = await data.sql<{ d: string }[]>`select max(published_on)::text as d from pmmp.consultations`;
    assert.equal(days[0], newest!.d);
    for (const i of body.items) assert.ok(['en_cours', 'cloturee', 'attribuee', 'infructueux'].includes(i.statut));
  });

  test('walking a filtered list with the cursor returns every matching row once, nulls last', async () => {
    const [org] = await data.sql<{ org: string; n: number }[]>`
      select org_acronyme as org, count(*)::int as n from pmmp.consultations group by 1 having count(*) between 300 and 3000 order by 2 desc limit 1`;
    for (const sort of ['montant', '-date_limite']) {
      const seen: Item[] = [];
      let cursor: string | null = null;
      do {
        const body: ListBody = await json<ListBody>(`/api/v1/consultations?organisme=${org!.org}&sort=${sort}&limit=137${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...body.items);
        cursor = body.page.next_cursor;
        assert.equal(body.page.has_more, cursor !== null);
      } while (cursor);
      assert.equal(seen.length, org!.n, `${sort}: every row`);
      assert.equal(new Set(seen.map((i) => `${i.org_acronyme}/${i.ref_consultation}`)).size, org!.n, `${sort}: each once`);
      if (sort === 'montant') {
        const values = seen.map((i) => i.estimation_ttc);
        const firstNull = values.indexOf(null);
        assert.ok(firstNull > 0, 'some estimates are missing (allotted consultations)');
        assert.ok(values.slice(firstNull).every((v) => v === null), 'nulls come last');
        const numbers = values.slice(0, firstNull).map(Number);
        assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
      }
    }
  });

  test('open consultations and an organisation: the rows the plain filters give, each page read through its index', async () => {
    const now = DATASET_NOW.toISOString();
    const [large] = await data.sql<{ org: string }[]>`
      select org_acronyme as org from pmmp.consultations group by 1 order by count(*) desc, 1 limit 1`;
    const org = large!.org.toUpperCase();
    assert.equal(await organisationScope(data.sql, org), 'acronym', `${org} names no other buyer`);
    // A word of many buyers' names: the key set of its consultations, as before.
    const word = 'commune';
    assert.equal(await organisationScope(data.sql, word), 'buyers');
    // What the filters mean, written plainly: an organisation is its acronym or part of a buyer's name,
    // open is no outcome and a deadline ahead. The API's plans (acronym ranges, the open walk) must give these rows.
    const orders: Record<string, string> = {
      '-date_publication': 'c.published_on desc nulls last, c.org_acronyme desc, c.ref_consultation desc',
      date_publication: 'c.published_on asc nulls last, c.org_acronyme asc, c.ref_consultation asc',
      date_limite: 'c.deadline asc nulls last, c.org_acronyme asc, c.ref_consultation asc',
      '-montant': 'c.estimation_ttc desc nulls last, c.org_acronyme desc, c.ref_consultation desc',
    };
    const expected = (statut: string | null, organisme: string | null, sort: string) => data.sql<{ key: string }[]>`
      select c.org_acronyme || '/' || c.ref_consultation as key from pmmp.consultations c
      where (${organisme}::text is null or lower(c.org_acronyme) = lower(${organisme}) or c.buyer_fold like pmmp.fold(${`%${organisme}%`}))
        and (${statut}::text is null or coalesce(c.award_outcome, case when c.deadline > ${now}::timestamptz then 'en_cours' else 'cloturee' end) = ${statut})
      order by ${data.sql.unsafe(orders[sort]!)} limit 250`;
    const cases: [statut: string | null, organisme: string | null, sort: string][] = [
      ['en_cours', null, '-date_publication'],
      ['cloturee', null, '-date_publication'],
      ['en_cours', null, 'date_publication'],
      ['en_cours', null, 'date_limite'],
      ['en_cours', null, '-montant'],
      ['en_cours', org, '-date_publication'],
      [null, org, '-date_publication'],
      [null, org, 'date_limite'],
      [null, org, '-montant'],
      ['cloturee', org, 'date_limite'],
      [null, word, '-date_publication'],
    ];
    for (const [statut, organisme, sort] of cases) {
      const filters = `${statut ? `statut=${statut}&` : ''}${organisme ? `organisme=${encodeURIComponent(organisme)}&` : ''}sort=${sort}`;
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const body: ListBody = await json<ListBody>(`/api/v1/consultations?${filters}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...body.items.map((i) => `${i.org_acronyme}/${i.ref_consultation}`));
        cursor = body.page.next_cursor;
      } while (cursor && seen.length < 250);
      const want = (await expected(statut, organisme, sort)).map((r) => r.key);
      assert.ok(want.length > 50, `${filters}: the data set has rows`);
      assert.deepEqual(seen.slice(0, 250), want, filters);
    }

    // The page's own statement, as the API issues it (its session settings, custom plans), through the
    // index meant for it and reading about its page: the deadline index read every open consultation
    // (2,605 here) and an organisation's bitmap all its rows, to sort them.
    const statements: { query: string; params: unknown[] }[] = [];
    const traced = postgres(data.url, {
      max: 1,
      connection: { ...API_SESSION },
      debug: (_connection, query, params) => statements.push({ query, params: params as unknown[] }),
    });
    try {
      type PlanNode = { 'Index Name'?: string; Plans?: PlanNode[] };
      const indexes = (n: PlanNode): string[] => [...(n['Index Name'] ? [n['Index Name']] : []), ...(n.Plans ?? []).flatMap(indexes)];
      // Also 17 days on (the bench's API runs on the real clock): fewer consultations still open, where
      // the planner, given `deadline > now`, took the deadline index even with the open walk at hand.
      const later = new Date(DATASET_NOW.getTime() + 17 * 86_400_000).toISOString();
      for (const [query, index, at] of [
        [{ statut: 'en_cours' }, 'consultations_open_published_idx', now],
        [{ statut: 'en_cours' }, 'consultations_open_published_idx', later],
        [{ organisme: org }, 'consultations_org_published_idx', now],
        [{ organisme: org, sort: 'date_limite' }, 'consultations_org_deadline_idx', now],
        // Oldest first, the open walk would read the long-closed rows without an outcome first (16k
        // buffers): every open key and day from the open-deadline index alone, sorted, whatever the
        // table's physical order (a 1M data set stored in another order made the planner walk).
        [{ statut: 'en_cours', sort: 'date_publication' }, 'consultations_open_deadline_idx', now],
        [{ statut: 'en_cours', sort: 'date_publication' }, 'consultations_open_deadline_idx', later],
      ] as const) {
        statements.length = 0;
        await listConsultations(traced, { sort: '-date_publication', limit: 50, ...query } as Parameters<typeof listConsultations>[1], at);
        const page = statements.find((s) => /from pmmp\.consultations c\s+where/.test(s.query) && /order by/.test(s.query));
        assert.ok(page, `${JSON.stringify(query)}: the page's statement`);
        const [explained] = await traced.unsafe(`explain (analyze, buffers, format json) ${page.query}`, page.params as never[]);
        const plan = (explained!['QUERY PLAN'] as { Plan: PlanNode & { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }[])[0]!.Plan;
        const buffers = plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
        assert.ok(indexes(plan).includes(index), `${JSON.stringify(query)} at ${at}: through ${index}, not ${indexes(plan).join(', ')}`);
        // The oldest-first keys are every open consultation's index entry (about 1% of the consultations,
        // ~150 a page): their pages grow with the data set, and no heap page is read for them.
        const budget = index === 'consultations_open_deadline_idx' ? 400 + CONSULTATIONS / 1_000 : 400;
        assert.ok(buffers < budget, `${JSON.stringify(query)} at ${at}: ${buffers} buffers for a page of 50`);
        if (index === 'consultations_open_deadline_idx') {
          type Scan = PlanNode & { 'Heap Fetches'?: number };
          const fetches = (n: Scan): number => (n['Heap Fetches'] ?? 0) + ((n.Plans ?? []) as Scan[]).reduce((a, c) => a + fetches(c), 0);
          assert.ok(fetches(plan) < 50, `${JSON.stringify(query)} at ${at}: ${fetches(plan)} heap fetches for the keys`);
        }
      }
    } finally {
      await traced.end();
    }
  });

  test('offset pages agree with cursor pages, and the offset is capped', async () => {
    const first = await json<ListBody>('/api/v1/consultations?type_marche=services&limit=20');
    const second = await json<ListBody>(`/api/v1/consultations?type_marche=services&limit=20&cursor=${first.page.next_cursor}`);
    const byOffset = await json<ListBody>('/api/v1/consultations?type_marche=services&limit=20&offset=20');
    assert.deepEqual(byOffset.items, second.items);
    assert.equal(byOffset.page.next_offset, 40);
    const deep = await get('/api/v1/consultations?offset=10001');
    assert.equal(deep.statusCode, 400);
    assert.equal(deep.json<{ issues: { field: string }[] }>().issues[0]!.field, 'offset');
  });

  test('filters: kind, publication and deadline windows, amounts, buyer text, statut', async () => {
    const body = await json<ListBody>(
      '/api/v1/consultations?type_marche=travaux&date_debut=2025-01-01&date_fin=2025-06-30&montant_min=1000000&montant_max=5000000&limit=200',
    );
    assert.ok(body.items.length > 0);
    for (const i of body.items) {
      assert.equal(i.market_kind, 'travaux');
      assert.ok(i.published_on! >= '2025-01-01' && i.published_on! <= '2025-06-30');
      assert.ok(Number(i.estimation_ttc) >= 1_000_000 && Number(i.estimation_ttc) <= 5_000_000);
    }
    const deadlines = await json<ListBody>('/api/v1/consultations?date_limite_debut=2026-12-01&date_limite_fin=2026-12-01&limit=200');
    for (const i of deadlines.items) assert.equal(i.deadline!.slice(0, 10), '2026-12-01', 'the deadline day in Casablanca time');
    // Accents and case of the buyer's name do not matter.
    const [buyer] = await data.sql<{ buyer: string }[]>`select buyer from pmmp.consultations where buyer ~ '[éèà]' limit 1`;
    const word = buyer!.buyer.split(/\s+/).find((w) => /[éèà]/.test(w))!;
    const folded = word.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase();
    const byBuyer = await json<ListBody>(`/api/v1/consultations?organisme=${encodeURIComponent(folded)}&limit=50`);
    assert.ok(byBuyer.items.length > 0);
    for (const i of byBuyer.items) assert.ok(i.buyer!.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase().includes(folded));

    for (const statut of ['en_cours', 'cloturee', 'attribuee', 'infructueux']) {
      const page = await json<ListBody>(`/api/v1/consultations?statut=${statut}&limit=100`);
      assert.ok(page.items.length > 0, `some ${statut}`);
      for (const i of page.items) assert.equal(i.statut, statut);
      if (statut === 'en_cours') for (const i of page.items) assert.ok(Date.parse(i.deadline!) > DATASET_NOW.getTime());
    }
    // The statut follows the latest word on the lots: an award makes it attribuee.
    const [awarded] = await data.sql<{ org: string; ref: string }[]>`
      select org_acronyme as org, ref_consultation as ref from pmmp.lot_results where status = 'attribue' limit 1`;
    const detail = await json<Item>(`/api/v1/consultations/${awarded!.org}/${awarded!.ref}`);
    assert.equal(detail.statut, 'attribuee');
  });

  test('detail: lots, notices with proof links (or none while not downloaded), attributions, bids; the proof is the fetched bytes', async () => {
    const [withProof] = await data.sql<{ org: string; ref: string; proof: string }[]>`
      select n.org_acronyme as org, n.ref_consultation as ref, n.proof_id as proof from pmmp.notices n
      join etl.proofs p on p.proof_id = n.proof_id limit 1`;
    const d = await json<{
      notices: { proof_id: string | null; links: Record<string, string> }[];
      attributions: { latest: boolean }[];
      bids: unknown[];
      lots: unknown[];
    }>(`/api/v1/consultations/${withProof!.org}/${withProof!.ref}`);
    const notice = d.notices.find((n) => n.proof_id === withProof!.proof)!;
    assert.equal(notice.links.proof, `/api/v1/proofs/${withProof!.proof}`);
    assert.ok(d.attributions.some((a) => a.latest));
    const proof = await get(notice.links.proof!);
    assert.equal(proof.statusCode, 200);
    assert.equal(proof.headers['content-type'], 'application/pdf');
    assert.equal(createHash('sha256').update(proof.rawPayload).digest('hex'), withProof!.proof);
    assert.equal(proof.rawPayload.subarray(0, 4).toString(), '%PDF');
    assert.equal(proof.headers['content-security-policy'], 'sandbox');

    const [allotted] = await data.sql<{ org: string; ref: string; n: number }[]>`
      select org_acronyme as org, ref_consultation as ref, count(*)::int as n from pmmp.lots group by 1, 2 limit 1`;
    const withLots = await json<{ lots: { lot_number: number }[] }>(`/api/v1/consultations/${allotted!.org}/${allotted!.ref}`);
    assert.equal(withLots.lots.length, allotted!.n);

    const [discovered] = await data.sql<{ org: string; ref: string; id: string }[]>`
      select org_acronyme as org, ref_consultation as ref, id_avis as id from pmmp.notices where proof_id is null limit 1`;
    const fresh = await json<{ notices: { id_avis: string; proof_id: string | null; links: Record<string, string> }[] }>(
      `/api/v1/consultations/${discovered!.org}/${discovered!.ref}`,
    );
    const pending = fresh.notices.find((n) => n.id_avis === discovered!.id)!;
    assert.equal(pending.proof_id, null);
    assert.deepEqual(pending.links, {});

    const missing = await get(`/api/v1/proofs/${'0'.repeat(64)}`);
    assert.equal(missing.statusCode, 404);
    assert.equal((await get('/api/v1/consultations/nope/123')).statusCode, 404);
  });

  test("detail is read in the lookup sessions, on the statement's reused generic plan, with the same answers as planned for each key", async () => {
    const keys = await data.sql<{ org: string; ref: string }[]>`
      select org_acronyme as org, ref_consultation as ref from pmmp.consultations order by md5(ref_consultation) limit 12`;
    // Through the API: its lookup pool serves them (postgres.js connects on first use, so a backend under that
    // name exists only if a detail went through it).
    for (const k of keys) assert.equal((await get(`/api/v1/consultations/${k.org}/${k.ref}`)).statusCode, 200);
    const lookups = await data.sql<{ query: string }[]>`
      select query from pg_stat_activity where datname = current_database() and application_name = 'moisson-api-lookups'`;
    assert.ok(lookups.length > 0, 'no lookup session: the detail did not go through the lookup pool');
    assert.ok(lookups.some((b) => /json_agg/.test(b.query)), 'a lookup session ran the detail statement');

    // In one such session: after five runs PostgreSQL reuses the generic plan, and every answer equals the one
    // a session planning each run for its key gives.
    const NOW = DATASET_NOW.toISOString();
    const generic = postgres(data.url, { max: 1, connection: { ...API_LOOKUP_SESSION } });
    const custom = postgres(data.url, { max: 1, connection: { ...API_SESSION } });
    try {
      for (const k of keys) assert.deepEqual(await consultationDetail(generic, k.org, k.ref, NOW), await consultationDetail(custom, k.org, k.ref, NOW), `${k.org}/${k.ref}`);
      const [plans] = await generic<{ generic: number }[]>`
        select coalesce(max(generic_plans), 0)::int as generic from pg_prepared_statements where statement ~ 'json_agg'`;
      assert.ok(plans!.generic >= keys.length - 5, `the detail statement's generic plan was used ${plans!.generic} times of ${keys.length}`);
    } finally {
      await Promise.all([generic.end(), custom.end()]);
    }
  });
});

describe('search', () => {
  test('French full-text: accents, case and plurals folded, ranked, highlighted', async () => {
    type Hits = { items: (Item & { rank: number; highlights: { object: string | null } })[]; page: { has_more: boolean } };
    const a = await json<Hits>('/api/v1/consultations/search?q=%C3%A9quipements%20m%C3%A9dicaux&limit=30');
    const b = await json<Hits>('/api/v1/consultations/search?q=EQUIPEMENT%20MEDICAL&limit=30');
    assert.ok(a.items.length === 30 && a.page.has_more);
    assert.deepEqual(
      a.items.map((i) => i.ref_consultation),
      b.items.map((i) => i.ref_consultation),
    );
    const ranks = a.items.map((i) => i.rank);
    assert.deepEqual(ranks, [...ranks].sort((x, y) => y - x));
    for (const i of a.items) assert.match(i.highlights.object ?? '', /<mark>[^<]*(quipement|QUIPEMENT)[^<]*<\/mark>/i);
    // Filters apply to search too.
    const filtered = await json<Hits>('/api/v1/consultations/search?q=route&type_marche=travaux&limit=20');
    for (const i of filtered.items) assert.equal(i.market_kind, 'travaux');
    const stop = await get('/api/v1/consultations/search?q=le%20la%20des');
    assert.equal(stop.statusCode, 400);
    assert.equal(stop.json<{ issues: { field: string }[] }>().issues[0]!.field, 'q');
  });
});

describe('search ranking', () => {
  // The search before issue 13, verbatim: every matching row with its status computed from view
  // pmmp.lot_results, ranked and paged in one pass. The key-first search over stored award state must
  // answer exactly what it answered: the same rows in the same order, ranks, statuses and headlines.
  const options = 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "';
  const previous = (q: string, limit: number, offset: number, kind: string | null) => data.sql`
    with query as (select websearch_to_tsquery('pmmp.moisson_fr'::regconfig, ${q}) as query),
    hits as (
      select c.org_acronyme, c.ref_consultation, c.published_on,
             case when o.awarded then 'attribuee' when o.unsuccessful then 'infructueux'
                  when c.deadline > ${DATASET_NOW.toISOString()}::timestamptz then 'en_cours' else 'cloturee' end as statut,
             c.object, c.buyer, c.reference, ts_rank_cd(c.search, query, 1) as rank, query
      from pmmp.consultations c cross join query
      left join lateral (
        select bool_or(r.status = 'attribue') as awarded, bool_and(r.status in ('infructueux', 'offre_excessive')) as unsuccessful
        from pmmp.lot_results r where r.org_acronyme = c.org_acronyme and r.ref_consultation = c.ref_consultation
      ) o on true
      where c.search @@ query and (${kind}::text is null or c.market_kind = ${kind})
      order by rank desc, c.published_on desc nulls last, c.org_acronyme, c.ref_consultation
      offset ${offset} limit ${limit}
    )
    select h.org_acronyme, h.ref_consultation, h.statut, h.rank::float8 as rank,
           ts_headline('pmmp.moisson_fr'::regconfig, h.object, h.query, ${options}) as hl_object,
           ts_headline('pmmp.moisson_fr'::regconfig, h.buyer, h.query, ${options}) as hl_buyer,
           ts_headline('pmmp.moisson_fr'::regconfig, h.reference, h.query, ${options}) as hl_reference
    from hits h order by h.rank desc, h.published_on desc nulls last, h.org_acronyme, h.ref_consultation`;

  test("answers exactly what the previous query answered: rows, order, rank, statut, headlines", async () => {
    type Hit = { org_acronyme: string; ref_consultation: string; statut: string; rank: number; highlights: { object: string | null; buyer: string | null; reference: string | null } };
    const cases: [q: string, limit: number, offset: number, kind: string | null][] = [
      ['travaux', 50, 0, null],
      ['travaux', 50, 450, null],
      ['fourniture', 100, 0, null],
      ['entretien', 40, 80, 'services'],
      ['équipements médicaux', 50, 0, null],
      ['"construction école" OR route', 60, 20, 'travaux'],
      // One word without filters, common or rare: read in rank order from the stored ranks, deep pages too.
      ['entretien', 20, 0, null],
      ['commune', 30, 0, null],
      ['travaux', 20, 1500, null],
      ['gardiennage', 20, 0, null],
      ['route', 50, 1000, null],
      ['Assainissement', 20, 40, null],
    ];
    // One lexeme reads the stored ranks; several, or an operator, rank every match.
    for (const q of ['travaux', 'fourniture', 'gardiennage', 'Route', 'écoles']) assert.equal(await searchShape(data.sql, q), 'one_word', q);
    for (const q of ['équipements médicaux', '"construction école" OR route', '-route']) assert.equal(await searchShape(data.sql, q), 'words', q);
    assert.equal(await searchShape(data.sql, 'le la des'), 'none');
    for (const [q, limit, offset, kind] of cases) {
      const url = `/api/v1/consultations/search?q=${encodeURIComponent(q)}&limit=${limit}&offset=${offset}${kind ? `&type_marche=${kind}` : ''}`;
      const got = (await json<{ items: Hit[] }>(url)).items;
      const want = await previous(q, limit, offset, kind);
      assert.ok(want.length > 0, `${q}: the data set has hits`);
      assert.deepEqual(
        got.map((h) => [h.org_acronyme, h.ref_consultation, h.statut, h.rank, h.highlights.object, h.highlights.buyer, h.highlights.reference]),
        want.map((h) => [h.org_acronyme, h.ref_consultation, h.statut, h.rank, h.hl_object, h.hl_buyer, h.hl_reference]),
        url,
      );
    }
  });

  test("the stored one-word ranks are PostgreSQL's own ts_rank_cd, for every consultation of the 150 most frequent words", async () => {
    // What the one-word search reads (drizzle/0023_pmmp_search_lexeme_rank.sql), against ts_rank_cd of a
    // tsquery written apart (to_tsquery of the quoted word), over every consultation holding the word.
    const [row] = await data.sql<{ words: number; pairs: number; missing: number; extra: number }[]>`
      with words as materialized (
        select word, q from (select word, to_tsquery('simple', quote_literal(word)) as q
                             from ts_stat('select search from pmmp.consultation_search') order by ndoc desc limit 200) w
        where numnode(q) = 1 and (tsvector_to_array(querytree(q)::tsvector))[1] = word limit 150),
      want as materialized (
        select w.word, ts_rank_cd(s.search, w.q, 1) as rank, coalesce(s.published_on, '-infinity'::date) as published_key,
               s.org_acronyme, s.ref_consultation
        from words w join pmmp.consultation_search s on s.search @@ w.q),
      got as materialized (
        select l.lexeme, l.rank, l.published_key, l.org_acronyme, l.ref_consultation
        from pmmp.consultation_search_lexemes l where l.lexeme in (select word from words))
      select (select count(*)::int from words) as words, (select count(*)::int from want) as pairs,
             (select count(*)::int from (select * from want except all select * from got) a) as missing,
             (select count(*)::int from (select * from got except all select * from want) b) as extra`;
    assert.equal(row!.words, 150);
    assert.ok(row!.pairs > 100_000, JSON.stringify(row));
    assert.equal(row!.missing, 0, JSON.stringify(row));
    assert.equal(row!.extra, 0, JSON.stringify(row));
    // And nothing more: one stored row per lexeme of each consultation.
    const [count] = await data.sql<{ stored: number; lexemes: number }[]>`
      select (select count(*)::int from pmmp.consultation_search_lexemes) as stored,
             (select coalesce(sum(length(search)), 0)::int from pmmp.consultation_search) as lexemes`;
    assert.equal(count!.stored, count!.lexemes);
  });

  test('the search side table follows every write to the consultations: insert, update, key change, delete', async () => {
    const out = await data.sql<{ n: number }[]>`
      select count(*)::int as n from pmmp.consultations c full join pmmp.consultation_search s using (org_acronyme, ref_consultation)
      where s.search is distinct from c.search or s.published_on is distinct from c.published_on`;
    assert.equal(out[0]!.n, 0, 'the loaded data set is in step');
    type Hits = { items: { org_acronyme: string; ref_consultation: string }[] };
    const search = async (q: string) => (await json<Hits>(`/api/v1/consultations/search?q=${encodeURIComponent(q)}&limit=10`)).items.map((i) => i.ref_consultation);
    // The API answers from its response cache until the write's notification reaches it (milliseconds
    // after the commit), so a write shows within a second; beyond that the answer is wrong.
    const refs = async (q: string, expected: string[]) => {
      const until = Date.now() + 1_000;
      let got = await search(q);
      while (JSON.stringify(got) !== JSON.stringify(expected) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
        got = await search(q);
      }
      assert.deepEqual(got, expected, q);
    };
    const [model] = await data.db.select().from(consultationsTable).limit(1);
    await data.db.insert(consultationsTable).values({ ...model!, refConsultation: 'apiperf-1', object: 'Travaux de quetzalcoatl' });
    await refs('quetzalcoatl', ['apiperf-1']);
    await data.sql`update pmmp.consultations set object = 'Fourniture de tlaloc', published_on = '2026-11-19' where ref_consultation = 'apiperf-1'`;
    await refs('quetzalcoatl', []);
    await refs('tlaloc', ['apiperf-1']);
    const [side] = await data.sql<{ published_on: string; xmin: string }[]>`
      select published_on, xmin::text from pmmp.consultation_search where ref_consultation = 'apiperf-1'`;
    assert.equal(side!.published_on, '2026-11-19');
    // A write that changes neither the text nor the day (a recrawl) leaves the side row as it was.
    await data.sql`update pmmp.consultations set updated_at = now() where ref_consultation = 'apiperf-1'`;
    const [same] = await data.sql<{ xmin: string }[]>`select xmin::text from pmmp.consultation_search where ref_consultation = 'apiperf-1'`;
    assert.equal(same!.xmin, side!.xmin);
    await data.sql`update pmmp.consultations set ref_consultation = 'apiperf-2' where ref_consultation = 'apiperf-1'`;
    await refs('tlaloc', ['apiperf-2']);
    await data.sql`delete from pmmp.consultations where ref_consultation = 'apiperf-2'`;
    await refs('tlaloc', []);
    const [left] = await data.sql<{ n: number }[]>`select count(*)::int as n from pmmp.consultation_search where ref_consultation like 'apiperf-%'`;
    assert.equal(left!.n, 0);
  });

  test("the stored one-word ranks follow every write to the side table: insert, update, key change, delete, truncate", async () => {
    // Each consultation's stored rows, against the ones its side row gives now (same function as the triggers').
    const drift = async (refs: string[]) => {
      const [row] = await data.sql<{ n: number; stored: number }[]>`
        with want as (
          select r.* from pmmp.consultation_search s,
                 pmmp.search_lexeme_rows(s.org_acronyme, s.ref_consultation, s.published_on, s.search) r
          where s.ref_consultation = any(${refs})),
        got as (select l.* from pmmp.consultation_search_lexemes l where l.ref_consultation = any(${refs}))
        select (select count(*)::int from (select * from want except all select * from got) a) +
               (select count(*)::int from (select * from got except all select * from want) b) as n,
               (select count(*)::int from got) as stored`;
      return row!;
    };
    const [model] = await data.db.select().from(consultationsTable).limit(1);
    await data.db.insert(consultationsTable).values([
      { ...model!, refConsultation: 'lexrank-1', object: 'Travaux de voirie à Ouarzazate, voirie urbaine', publishedOn: null },
      { ...model!, refConsultation: 'lexrank-2', object: "Fourniture d'huile d'olive" },
    ]);
    const refs = ['lexrank-1', 'lexrank-2', 'lexrank-3'];
    let d = await drift(refs);
    assert.equal(d.n, 0, 'insert');
    assert.ok(d.stored > 6, JSON.stringify(d));
    // A day set (null was -infinity), a text changed, a key changed: each rewrites exactly that row's entries.
    await data.sql`update pmmp.consultations set published_on = '2026-11-19' where ref_consultation = 'lexrank-1'`;
    await data.sql`update pmmp.consultations set object = 'Entretien des espaces verts' where ref_consultation = 'lexrank-2'`;
    assert.equal((await drift(refs)).n, 0, 'update');
    const ranked = await json<{ items: { ref_consultation: string }[] }>('/api/v1/consultations/search?q=olive&limit=50');
    assert.ok(!ranked.items.some((i) => i.ref_consultation === 'lexrank-2'), 'the old word no longer finds it');
    await data.sql`update pmmp.consultations set ref_consultation = 'lexrank-3' where ref_consultation = 'lexrank-2'`;
    d = await drift(refs);
    assert.equal(d.n, 0, 'key change');
    await data.sql`delete from pmmp.consultations where ref_consultation like 'lexrank-%'`;
    d = await drift(refs);
    assert.deepEqual(d, { n: 0, stored: 0 }, 'delete');
    // A TRUNCATE of the consultations empties both derived tables (in a transaction rolled back: the data set stays).
    await data.sql
      .begin(async (tx) => {
        await tx`truncate pmmp.consultations cascade`;
        const [n] = await tx<{ n: number }[]>`select count(*)::int as n from pmmp.consultation_search_lexemes`;
        assert.equal(n!.n, 0, 'truncate');
        throw new Error('rollback');
      })
      .catch((e: Error) => assert.equal(e.message, 'rollback'));
  });

  test('the stored award state equals what the view says, consultation by consultation and lot by lot', async () => {
    const [row] = await data.sql<{ lots: number; outcomes: number }[]>`
      select (select count(*)::int from pmmp.attributions a
                left join pmmp.lot_results r using (org_acronyme, ref_consultation, lot_key, id_avis)
               where a.latest <> (r.id_avis is not null)) as lots,
             (select count(*)::int from pmmp.consultations c
                left join lateral (select bool_or(r.status = 'attribue') as awarded, bool_and(r.status in ('infructueux', 'offre_excessive')) as unsuccessful
                                   from pmmp.lot_results r where r.org_acronyme = c.org_acronyme and r.ref_consultation = c.ref_consultation) o on true
               where c.award_outcome is distinct from (case when o.awarded then 'attribuee' when o.unsuccessful then 'infructueux' end)) as outcomes`;
    assert.deepEqual(row, { lots: 0, outcomes: 0 });
  });
});

describe('notices and awards', () => {
  test('PV: extraits de PV only, newest first; lu=false lists those waiting for their document', async () => {
    const body = await json<{ items: { published_on: string; proof_id: string | null; parsed_at: string | null; links: Record<string, string> }[]; page: { next_cursor: string } }>(
      '/api/v1/pv?limit=100',
    );
    const days = body.items.map((i) => i.published_on);
    assert.deepEqual(days, [...days].sort().reverse());
    const kinds = await data.sql`select distinct kind from pmmp.notices where id_avis in ${data.sql(body.items.map((i) => (i as unknown as { id_avis: string }).id_avis))}`;
    assert.deepEqual(kinds.map((k) => k.kind), ['extrait_pv']);
    const waiting = await json<{ items: { proof_id: string | null; parsed_at: string | null; links: Record<string, string> }[] }>('/api/v1/pv?lu=false&limit=50');
    assert.ok(waiting.items.length > 0);
    for (const i of waiting.items) {
      assert.equal(i.parsed_at, null);
      assert.equal(i.links.proof, undefined);
    }
    const next = await json<{ items: unknown[] }>(`/api/v1/pv?limit=100&cursor=${body.page.next_cursor}`);
    assert.equal(next.items.length, 100);
  });

  test('attributions: the latest word per lot, by winner (accents and case ignored), amounts and dates', async () => {
    const [w] = await data.sql<{ winner: string }[]>`select winner from pmmp.attributions where winner is not null and status = 'attribue' limit 1`;
    const part = w!.winner.split(' ')[0]!.toLowerCase();
    type Rows = { items: { winner: string; amount: string | null; notice_published_on: string; notice_kind: string; id_avis: string; org_acronyme: string; ref_consultation: string; lot_key: string }[] };
    const body = await json<Rows>(`/api/v1/attributions?entreprise=${encodeURIComponent(part)}&montant_min=100000&date_debut=2024-01-01&limit=200`);
    assert.ok(body.items.length > 0);
    for (const a of body.items) {
      assert.ok(a.winner.toLowerCase().includes(part));
      assert.ok(Number(a.amount) >= 100_000);
      assert.ok(a.notice_published_on >= '2024-01-01');
    }
    const keys = body.items.map((a) => `${a.org_acronyme}/${a.ref_consultation}/${a.lot_key}`);
    assert.equal(new Set(keys).size, keys.length, 'one row per lot');
    // A lot stated by a PV and then a résultat définitif: the résultat is the one listed.
    const [both] = await data.sql<{ org: string; ref: string; lot: string; id: string }[]>`
      select r.org_acronyme as org, r.ref_consultation as ref, r.lot_key as lot, r.id_avis as id from pmmp.lot_results r
      where r.notice_kind = 'resultat_definitif' and r.status = 'attribue'
        and exists (select 1 from pmmp.attributions a join pmmp.notices n using (org_acronyme, ref_consultation, id_avis)
                    where a.org_acronyme = r.org_acronyme and a.ref_consultation = r.ref_consultation and a.lot_key = r.lot_key and n.kind = 'extrait_pv')
      limit 1`;
    const [detail] = await data.sql<{ buyer: string }[]>`select org_acronyme as buyer from pmmp.consultations where org_acronyme = ${both!.org} and ref_consultation = ${both!.ref}`;
    const listed = await json<Rows>(`/api/v1/attributions?organisme=${detail!.buyer}&limit=500&sort=-date`);
    const mine = listed.items.filter((a) => a.ref_consultation === both!.ref && a.lot_key === both!.lot);
    if (mine.length) assert.deepEqual(mine.map((a) => [a.id_avis, a.notice_kind]), [[both!.id, 'resultat_definitif']]);
    const byAmount = await json<Rows>('/api/v1/attributions?sort=-montant&limit=50');
    const amounts = byAmount.items.map((a) => Number(a.amount));
    assert.deepEqual(amounts, [...amounts].sort((x, y) => y - x));
  });

  test('attributions and PV of an organisation: by acronym through its index, by buyer name through its consultations, the same rows', async () => {
    // The organisation's rows as the lists defined them before the acronym walk: its consultations (by
    // acronym or buyer name) and the listed table's own rows with that acronym.
    const expected = async (organisme: string, list: 'attributions' | 'pv', amount: boolean) => {
      const keys = data.sql`
        select c.org_acronyme, c.ref_consultation from pmmp.consultations c
        where lower(c.org_acronyme) = lower(${organisme}) or c.buyer_fold like pmmp.fold(${`%${organisme}%`})
        union select org_acronyme, ref_consultation from pmmp.notices where lower(org_acronyme) = lower(${organisme})`;
      const rows = list === 'attributions'
        ? await data.sql<{ key: string }[]>`
            select concat_ws('/', org_acronyme, ref_consultation, lot_key) as key from pmmp.attributions
            where latest and (org_acronyme, ref_consultation) in (${keys})
            order by ${amount ? data.sql`amount` : data.sql`notice_published_on`} desc nulls last, org_acronyme desc, ref_consultation desc, lot_key desc limit 500`
        : await data.sql<{ key: string }[]>`
            select concat_ws('/', org_acronyme, ref_consultation, id_avis) as key from pmmp.notices
            where kind = 'extrait_pv' and (org_acronyme, ref_consultation) in (${keys})
            order by published_on desc nulls last, org_acronyme desc, ref_consultation desc, id_avis desc limit 500`;
      return rows.map((r) => r.key);
    };
    type Row = { org_acronyme: string; ref_consultation: string; lot_key?: string; id_avis: string };
    const [large] = await data.sql<{ org: string }[]>`select org_acronyme as org from pmmp.attributions where latest group by 1 order by count(*) desc limit 1`;
    const [word] = await data.sql<{ word: string }[]>`
      select w as word from pmmp.consultations, regexp_split_to_table(buyer_fold, '[^a-z]+') w where length(w) >= 6 group by w order by count(*) desc limit 1`;
    assert.equal(await organisationScope(data.sql, large!.org.toUpperCase()), 'acronym');
    assert.equal(await organisationScope(data.sql, word!.word), 'buyers');
    for (const organisme of [large!.org.toUpperCase(), word!.word]) {
      for (const sort of ['-date', '-montant']) {
        const got = await json<{ items: Row[] }>(`/api/v1/attributions?organisme=${encodeURIComponent(organisme)}&sort=${sort}&limit=500`);
        const want = await expected(organisme, 'attributions', sort === '-montant');
        assert.ok(want.length === 500, `${organisme}: a full page`);
        assert.deepEqual(got.items.map((a) => `${a.org_acronyme}/${a.ref_consultation}/${a.lot_key}`), want, `attributions of ${organisme}, ${sort}`);
      }
      const pv = await json<{ items: Row[] }>(`/api/v1/pv?organisme=${encodeURIComponent(organisme)}&limit=500`);
      assert.deepEqual(pv.items.map((n) => `${n.org_acronyme}/${n.ref_consultation}/${n.id_avis}`), await expected(organisme, 'pv', false), `PV of ${organisme}`);
    }
  });

  test('statistics from the materialized views', async () => {
    const stats = await json<{ totals: { consultations: number }; months: { month: string }[] }>('/api/v1/stats');
    // The API reports the view as it is (its `consultations` counts a consultation once per lot result).
    const [n] = await data.sql<{ n: number }[]>`select sum(consultations)::int as n from pmmp.stats_monthly`;
    assert.equal(stats.totals.consultations, n!.n);
    const window = await json<{ months: { month: string }[] }>('/api/v1/stats?mois_debut=2025-01&mois_fin=2025-03&type_marche=services');
    assert.deepEqual([...new Set(window.months.map((m) => m.month))].sort(), ['2025-01', '2025-02', '2025-03']);
    const buyers = await json<{ items: { consultations: number }[] }>('/api/v1/stats/organismes?limit=10');
    assert.equal(buyers.items.length, 10);
    const counts = buyers.items.map((b) => b.consultations);
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    const winners = await json<{ items: { awarded_amount_total: string }[] }>('/api/v1/stats/attributaires?tri=montant&limit=5');
    const totals = winners.items.map((w) => Number(w.awarded_amount_total));
    assert.deepEqual(totals, [...totals].sort((a, b) => b - a));
  });
});

describe('exports', () => {
  test('CSV of every consultation, streamed over HTTP in flat memory', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/export/csv`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    // What the heap retains (measured after a full collection every 2 MB), not the garbage it has not collected yet.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let bytes = 0;
    let lines = 0;
    let nextCheck = 0;
    for await (const chunk of res.body!) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) lines += 1;
      if (bytes >= nextCheck) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
        nextCheck = bytes + 2 * 2 ** 20;
      }
    }
    // Quoted cells hold no CRLF in this data (objects are one line), so lines = header + rows.
    assert.equal(lines, CONSULTATIONS + 1);
    // Server and client share this process: had the export been built in memory, the heap would have held it whole.
    assert.ok(bytes > 10 * 2 ** 20, `${bytes} bytes`);
    assert.ok(peak < bytes / 4, `heap retained ${Math.round(peak / 2 ** 20)} MB for a ${Math.round(bytes / 2 ** 20)} MB export`);
  });

  test('JSON Lines with the filters of the list; attributions too; gzip when asked', async () => {
    const res = await get('/api/v1/export/jsonl?type_marche=fournitures&date_debut=2025-01-01&date_fin=2025-01-31');
    assert.equal(res.statusCode, 200);
    const rows = res.body.trim().split('\n').map((l) => JSON.parse(l) as Item);
    const [n] = await data.sql<{ n: number }[]>`select count(*)::int as n from pmmp.consultations where market_kind = 'fournitures' and published_on between '2025-01-01' and '2025-01-31'`;
    assert.equal(rows.length, n!.n);
    const gz = await app.inject({ url: '/api/v1/export/csv?dataset=attributions&entreprise=sarl&date_debut=2026-01-01', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.statusCode, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    contract.check('GET', '/api/v1/export/csv', { statusCode: gz.statusCode, headers: gz.headers, body: '' });
    // A winner read with low confidence leaves the export flagged as it is in the API, not as plain fact.
    const [header] = gunzipSync(gz.rawPayload).toString('utf8').split('\n');
    assert.ok(header?.split(',').includes('low_confidence'), header);
  });
});

describe('export and the statement timeout', () => {
  test('an export outlives the statement timeout that guards page queries', async () => {
    const tight = createApiRuntime(
      { ...process.env, DATABASE_URL: data.url, PROOF_STORE_DIR: data.proofDir, API_STATEMENT_TIMEOUT_MS: '50' },
      { now: () => DATASET_NOW },
    );
    const tightApp = await buildApp(tight.ctx, { logger: false });
    try {
      const res = await tightApp.inject({ url: '/api/v1/export/jsonl?type_marche=travaux' });
      assert.equal(res.statusCode, 200);
      const [n] = await data.sql<{ n: number }[]>`select count(*)::int as n from pmmp.consultations where market_kind = 'travaux'`;
      assert.equal(res.body.trim().split('\n').length, n!.n);
      // The connection went back to the pool with its guard restored.
      const [row] = await tight.ctx.db.sql<{ t: string }[]>`select current_setting('statement_timeout') as t`;
      assert.equal(row!.t, '50ms');
    } finally {
      await tightApp.close();
      await tight.close();
    }
  });
});

describe('prices', () => {
  test('latest quote per asset, and history over a range', async () => {
    const latest = await json<{ items: { asset_code: string; quote_date: string; price_mru: string }[] }>('/api/v1/prices/latest');
    assert.deepEqual(latest.items.map((q) => [q.asset_code, q.quote_date]), [['USD', '2026-11-20'], ['XAU', '2026-11-20']]);
    assert.equal(latest.items[0]!.price_mru, '39.72000000');
    const metals = await json<{ items: unknown[] }>('/api/v1/prices/latest?classe=metals');
    assert.equal(metals.items.length, 1);
    const history = await json<{ items: { quote_date: string }[] }>('/api/v1/prices/usd/history?date_debut=2026-11-19&date_fin=2026-11-20');
    assert.deepEqual(history.items.map((q) => q.quote_date), ['2026-11-19', '2026-11-20']);
    assert.equal((await get('/api/v1/prices/ZZZ/history')).statusCode, 404);
    assert.equal((await get('/api/v1/prices/USD/history?date_debut=2000-01-01&date_fin=2026-01-01')).statusCode, 400);
  });
});

describe('bad input', () => {
  test('every bad request gets a 4xx naming the field and the problem, never a 5xx', async () => {
    const cases: [url: string, field: string][] = [
      ['/api/v1/consultations?limit=100000', 'limit'],
      ['/api/v1/consultations?limit=0', 'limit'],
      ['/api/v1/consultations?limit=abc', 'limit'],
      ['/api/v1/consultations?limit=1&limit=2', 'limit'],
      ['/api/v1/consultations?colour=blue', 'colour'],
      ['/api/v1/consultations?statut=ouvert', 'statut'],
      ['/api/v1/consultations?type_marche=TRAVAUX%27%20OR%201=1', 'type_marche'],
      ['/api/v1/consultations?date_debut=2025-13-01', 'date_debut'],
      ['/api/v1/consultations?date_debut=0000-01-01', 'date_debut'],
      ['/api/v1/consultations?organisme=a%00b', 'organisme'],
      ['/api/v1/export/csv?date_debut=0000-01-01', 'date_debut'],
      ['/api/v1/export/jsonl?organisme=%00', 'organisme'],
      ['/api/v1/export/csv?dataset=attributions&entreprise=x%00', 'entreprise'],
      ['/api/v1/stats?mois_debut=0000-01', 'mois_debut'],
      ['/api/v1/consultations?date_debut=2025-06-01&date_fin=2025-01-01', 'date_fin'],
      ['/api/v1/consultations?date_limite_debut=2025-06-01&date_limite_fin=2025-01-01', 'date_limite_fin'],
      ['/api/v1/consultations?montant_min=5000&montant_max=10', 'montant_max'],
      ['/api/v1/consultations?montant_min=1e9', 'montant_min'],
      ['/api/v1/consultations?montant_min=-5', 'montant_min'],
      ['/api/v1/consultations?sort=object', 'sort'],
      ['/api/v1/consultations?sort=montant;drop%20table%20pmmp.consultations', 'sort'],
      ['/api/v1/consultations?cursor=bm90IGEgY3Vyc29y', 'cursor'],
      ['/api/v1/consultations?cursor=abc&offset=10', 'offset'],
      ['/api/v1/consultations?offset=-1', 'offset'],
      [`/api/v1/consultations?organisme=${'x'.repeat(500)}`, 'organisme'],
      ['/api/v1/consultations/search', 'q'],
      ['/api/v1/consultations/search?q=', 'q'],
      ['/api/v1/consultations/search?q=route&offset=999999', 'offset'],
      ["/api/v1/consultations/x'%20or%201=1/12", 'org'],
      ['/api/v1/consultations/ABC/12a', 'ref'],
      ['/api/v1/pv?lu=maybe', 'lu'],
      ['/api/v1/attributions?montant_min=9&montant_max=1', 'montant_max'],
      ['/api/v1/attributions?sort=winner', 'sort'],
      ['/api/v1/stats?mois_debut=2025-13', 'mois_debut'],
      ['/api/v1/stats?mois_debut=2025-05&mois_fin=2025-01', 'mois_fin'],
      ['/api/v1/stats/organismes?limit=100000', 'limit'],
      ['/api/v1/export/csv?dataset=attributions&statut=en_cours', 'statut'],
      ['/api/v1/export/jsonl?entreprise=x', 'entreprise'],
      ['/api/v1/export/csv?unknown=1', 'unknown'],
      ['/api/v1/proofs/..%2F..%2Fetc%2Fpasswd', 'id'],
      ['/api/v1/prices/latest?classe=gold', 'classe'],
      ['/api/v1/prices/US$/history', 'asset'],
    ];
    for (const [url, field] of cases) {
      const res = await get(url);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      const body = res.json<{ error: string; message: string; issues?: { field: string; problem: string }[] }>();
      assert.ok(body.issues?.some((i) => i.field === field && i.problem.length > 0), `${url}: issues name ${field}: ${res.body}`);
    }
    // Text that looks like SQL is only text: no error, and the table is still there.
    const sneaky = await json<ListBody>(`/api/v1/consultations?organisme=${encodeURIComponent("' OR '1'='1")}`);
    assert.equal(sneaky.items.length, 0);
    const search = await json<ListBody>(`/api/v1/consultations/search?q=${encodeURIComponent("route'); drop table pmmp.consultations; --")}`);
    assert.ok(Array.isArray(search.items));
    const [n] = await data.sql<{ n: number }[]>`select count(*)::int as n from pmmp.consultations`;
    assert.equal(n!.n, CONSULTATIONS);
    const cursorOfOtherSort = (await json<ListBody>('/api/v1/consultations?limit=1')).page.next_cursor!;
    const mixed = await get(`/api/v1/consultations?sort=montant&cursor=${cursorOfOtherSort}`);
    assert.equal(mixed.statusCode, 400);
    assert.match(mixed.body, /keep the sort/);
  });
});

function cacheHits(metrics: string): number {
  const m = /^moisson_api_response_cache_lookups_total\{[^}]*cache="pmmp"[^}]*result="hit"[^}]*\} (\d+)/m.exec(metrics) ?? /^moisson_api_response_cache_lookups_total\{[^}]*result="hit"[^}]*cache="pmmp"[^}]*\} (\d+)/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe('system', () => {
  test('health names each dependency; metrics are Prometheus text; the docs are served', async () => {
    const health = await get('/health');
    const body = health.json<{ status: string; checks: Record<string, { status: string }> }>();
    assert.deepEqual(Object.keys(body.checks).sort(), ['mongodb', 'postgresql', 'temporal']);
    assert.equal(body.checks.postgresql!.status, 'up');
    // The same page twice: the second is served from the response cache, and the metrics say so.
    const page = '/api/v1/consultations?limit=3&type_marche=travaux';
    const first = await get(page);
    const hitsBefore = cacheHits((await get('/metrics')).body);
    assert.equal((await get(page)).body, first.body);
    const metrics = await get('/metrics');
    assert.equal(metrics.statusCode, 200);
    assert.equal(cacheHits(metrics.body), hitsBefore + 1);
    assert.match(metrics.body, /moisson_api_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/consultations"/);
    assert.match(metrics.body, /moisson_api_rejected_requests_total/);
    // The process's CPU, memory and event loop, as prom-client's defaults gave them before.
    assertProcessMetrics(metrics.body);
    const ui = await app.inject({ url: '/docs/' });
    assert.equal(ui.statusCode, 200);
    assert.match(ui.body, /swagger/i);
  });

  test('contract: every read operation of the document was exercised, every response matched it', () => {
    // Run control and scraping jobs are exercised with Temporal in runs.test.ts, consolidation in consolidation.test.ts,
    // the payload codec endpoint (it needs keys) in tests/ops/payload-codec.test.ts, the leads data and the
    // console's sign-in (they need leads jobs run) in leads-data.test.ts.
    // Exercised and checked against the document by their own files (console-data.test.ts names its routes).
    const elsewhere = ['/runs', '/scraping/', '/consolidation/', '/codec/', '/leads/', '/console/', '/health/', '/apisync/', '/stats/volumes'];
    const reads = contract.operations().filter((op) => !elsewhere.some((part) => op.includes(part)));
    const missing = reads.filter((op) => !contract.seen.has(op));
    assert.deepEqual(missing, []);
  });
});
