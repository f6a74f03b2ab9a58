/** Procurement endpoints under /api/v1: consultations, search, PV, attributions, statistics, exports, proofs. */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ProofCorruptedError, ProofNotFoundError } from '../../activities/engine/proofs';
import { badRequest, commonErrors, ErrorSchema, notFound } from '../errors';
import type { ApiContext, ZodApp } from '../context';
import type { ApiMetrics } from '../metrics';
import { sendExport, streamed } from '../export';
import { responseContract } from '../contract-serializer';
import { PMMP_DATA_CHANGED_CHANNEL, readKey, ResponseCache, STATS_REFRESHED_CHANNEL } from '../response-cache';
import {
  consultationDetail,
  exportAttributions,
  exportConsultations,
  listAttributions,
  listConsultations,
  listPv,
  searchShape,
  searchConsultations,
  type AttributionRow,
  type ConsultationDetailRow,
  type ConsultationRow,
  type DetailAttribution,
  type DetailNotice,
  type SearchRow,
} from './queries';
import {
  attributionQuery,
  AttributionListSchema,
  CONSULTATION_KEY_PARAMS,
  ConsultationDetailSchema,
  consultationListQuery,
  ConsultationListSchema,
  consultationSearchQuery,
  exportQuery,
  pvQuery,
  PvListSchema,
  SearchResultSchema,
  statsQuery,
  StatsSchema,
  topQuery,
  TopBuyersSchema,
  TopWinnersSchema,
  type ExportQuery,
} from './schemas';

const V1 = '/api/v1';

/** Rules across parameters (a schema per parameter cannot state them): each breach is a 400 naming the field. */
const PAGE_RULES = 'Give `cursor` or `offset`, not both (400 on `offset`).';
const RANGE_RULES =
  'Ranges must not be inverted: `date_fin` not before `date_debut`, `date_limite_fin` not before `date_limite_debut`, ' +
  '`montant_max` not below `montant_min` (400 naming the upper bound). Dates are from year 1 on; text parameters hold no NUL character.';
const rules = (...parts: string[]) => `Rules across parameters: ${parts.join(' ')}`;
const consultationLink = (org: string, ref: string) => `${V1}/consultations/${encodeURIComponent(org)}/${encodeURIComponent(ref)}`;
const proofLink = (id: string | null) => (id ? `${V1}/proofs/${id}` : undefined);
const links = (entries: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== undefined));

function summary(r: ConsultationRow) {
  return {
    org_acronyme: r.org_acronyme,
    ref_consultation: r.ref_consultation,
    reference: r.reference,
    object: r.object,
    buyer: r.buyer,
    procedure: r.procedure,
    category: r.category,
    market_kind: r.market_kind,
    execution_place: r.execution_place,
    published_on: r.published_on,
    deadline: r.deadline,
    estimation_ttc: r.estimation_ttc,
    lot_count: r.lot_count,
    statut: r.statut,
    links: { self: consultationLink(r.org_acronyme, r.ref_consultation) },
  };
}

// `searchHit` and `detail` add their fields to the summary object (Object.assign), in the schema's order:
// a literal spreading `summary(r)` and then naming its own fields is built key by key (the consultation
// detail's took ~40 µs, a tenth of the API's CPU for a cold detail request; added to it, ~3 µs).
function searchHit(r: SearchRow) {
  return Object.assign(summary(r), {
    rank: r.rank,
    highlights: { object: r.hl_object, buyer: r.hl_buyer, reference: r.hl_reference },
  });
}

function detail(r: ConsultationDetailRow) {
  return Object.assign(summary(r), {
    procedure_code: r.procedure_code,
    passation_mode: r.passation_mode,
    caution_provisoire: r.caution_provisoire,
    opening_place: r.opening_place,
    withdrawal_address: r.withdrawal_address,
    submission_address: r.submission_address,
    variant_allowed: r.variant_allowed,
    reserved_small_business: r.reserved_small_business,
    // A jsonb column: named one by one, a key the schema does not name is dropped (zod's copy dropped it).
    site_visits: r.site_visits.map((v) => ({ at: v.at, place: v.place })),
    qualifications: r.qualifications,
    agrements: r.agrements,
    activity_domains: r.activity_domains,
    allotted: r.allotted,
    detail_url: r.detail_url,
    first_seen_at: r.first_seen_at,
    updated_at: r.updated_at,
    lots: r.lots,
    notices: r.notices.map(detailNotice),
    attributions: r.attributions.map(detailAttribution),
    bids: r.bids,
  });
}

// Fields named one by one: an object rest (`const { proof_id, ...rest } = r`) copies through V8's slow
// generic path, a few microseconds a row, 50 rows a page.
function attribution(r: AttributionRow) {
  return {
    org_acronyme: r.org_acronyme,
    ref_consultation: r.ref_consultation,
    id_avis: r.id_avis,
    lot_key: r.lot_key,
    status: r.status,
    winner: r.winner,
    winner_is_groupement: r.winner_is_groupement,
    winner_members: r.winner_members,
    amount: r.amount,
    amount_min: r.amount_min,
    bidder_count: r.bidder_count,
    opening_date: r.opening_date,
    low_confidence: r.low_confidence,
    notice_kind: r.notice_kind,
    notice_published_on: r.notice_published_on,
    links: links({ consultation: consultationLink(r.org_acronyme, r.ref_consultation), proof: proofLink(r.proof_id) }),
  };
}

function detailNotice(n: DetailNotice) {
  return {
    id_avis: n.id_avis,
    kind: n.kind,
    label: n.label,
    url: n.url,
    published_on: n.published_on,
    proof_id: n.proof_id,
    text_method: n.text_method,
    parsed_at: n.parsed_at,
    links: links({ proof: proofLink(n.proof_id) }),
  };
}

function detailAttribution(a: DetailAttribution) {
  return {
    id_avis: a.id_avis,
    lot_key: a.lot_key,
    status: a.status,
    winner: a.winner,
    winner_is_groupement: a.winner_is_groupement,
    winner_members: a.winner_members,
    amount: a.amount,
    amount_min: a.amount_min,
    bidder_count: a.bidder_count,
    opening_date: a.opening_date,
    low_confidence: a.low_confidence,
    notice_kind: a.notice_kind,
    notice_published_on: a.notice_published_on,
    // The schema extends the attribution's (links last) with `latest`: its keys come in that order.
    links: links({ proof: proofLink(a.proof_id) }),
    latest: a.latest,
  };
}

function pageInfo(limit: number, page: { hasMore: boolean; nextCursor: string | null }, offset: number | undefined, maxOffset: number) {
  return {
    limit,
    has_more: page.hasMore,
    next_cursor: page.nextCursor,
    ...(offset === undefined ? {} : { offset, next_offset: page.hasMore && offset + limit <= maxOffset ? offset + limit : null }),
  };
}

export function pmmpRoutes(app: ZodApp, ctx: ApiContext, metrics: Pick<ApiMetrics, 'watchCache'>): void {
  const limits = { maxPageSize: ctx.config.maxPageSize, maxOffset: ctx.config.maxOffset };
  const sql = ctx.db.sql;
  const lookupSql = (ctx.lookups ?? ctx.db).sql;
  const now = () => ctx.now().toISOString();
  const tags = ['procurement'];
  // Each distinct read is built and serialized once until the data changes (api/response-cache.ts).
  const dataCache = new ResponseCache(sql, PMMP_DATA_CHANGED_CHANNEL, { maxBytes: ctx.config.responseCacheBytes, ttlMs: ctx.config.responseCacheTtlMs });
  // The views change only when a run refreshes them: kept until then.
  const statsCache = new ResponseCache(sql, STATS_REFRESHED_CHANNEL, { maxBytes: Math.min(ctx.config.responseCacheBytes, 16 * 1024 * 1024) });
  metrics.watchCache('pmmp', dataCache.counts);
  metrics.watchCache('pmmp_stats', statsCache.counts);
  const json = (reply: FastifyReply, body: string) => reply.type('application/json; charset=utf-8').send(body);
  // Each read's answers are checked and serialized by its schema's contract, compiled here, once
  // (api/contract-serializer.ts: ajv and JSON.stringify of the answer as built, not a copy through zod).
  const contracts = {
    list: responseContract(ConsultationListSchema),
    search: responseContract(SearchResultSchema),
    detail: responseContract(ConsultationDetailSchema),
    pv: responseContract(PvListSchema),
    attributions: responseContract(AttributionListSchema),
    stats: responseContract(StatsSchema),
    topBuyers: responseContract(TopBuyersSchema),
    topWinners: responseContract(TopWinnersSchema),
  };

  app.get(`${V1}/consultations`, {
    schema: {
      tags,
      summary: 'Consultations, filtered and sorted, a page at a time',
      description: rules(RANGE_RULES, PAGE_RULES),
      querystring: consultationListQuery(limits),
      response: { 200: ConsultationListSchema, ...commonErrors },
    },
    handler: async (req, reply) =>
      json(
        reply,
        await dataCache.get(readKey('consultations', req.query), contracts.list, async () => {
          const page = await listConsultations(sql, req.query, now());
          return { items: page.rows.map(summary), page: pageInfo(req.query.limit, page, req.query.offset, limits.maxOffset) };
        }),
      ),
  });

  app.get(`${V1}/consultations/search`, {
    schema: {
      tags,
      summary: 'French full-text search over reference, object and buyer, ranked, with highlighted snippets',
      description: rules(RANGE_RULES, '`q` must hold a searchable word (stop words alone are a 400 on `q`). Paging is by `offset` only.'),
      querystring: consultationSearchQuery(limits),
      response: { 200: SearchResultSchema, ...commonErrors },
    },
    handler: async (req, reply) =>
      json(
        reply,
        await dataCache.get(readKey('search', req.query), contracts.search, async () => {
          const shape = await searchShape(sql, req.query.q);
          if (shape === 'none') {
            throw badRequest([{ in: 'query', field: 'q', problem: 'has no searchable word (only stop words or punctuation)' }]);
          }
          const { rows, hasMore } = await searchConsultations(sql, req.query, now(), shape);
          return {
            query: req.query.q,
            items: rows.map(searchHit),
            page: pageInfo(req.query.limit, { hasMore, nextCursor: null }, req.query.offset ?? 0, limits.maxOffset),
          };
        }),
      ),
  });

  app.get(`${V1}/consultations/:org/:ref`, {
    schema: {
      tags,
      summary: 'One consultation with its lots, notices (with proof links), attributions and bids',
      params: CONSULTATION_KEY_PARAMS,
      response: { 200: ConsultationDetailSchema, 404: ErrorSchema, ...commonErrors },
    },
    handler: async (req, reply) =>
      json(
        reply,
        await dataCache.get(readKey('consultation', req.params), contracts.detail, async () => {
          const { org, ref } = req.params;
          const found = await consultationDetail(lookupSql, org, ref, now());
          if (!found) throw notFound(`no consultation ${org}/${ref}`);
          return detail(found);
        }),
      ),
  });

  app.get(`${V1}/pv`, {
    schema: {
      tags,
      summary: "Extraits de procès-verbal (notices of kind extrait_pv), newest first",
      description: rules('`date_fin` not before `date_debut`.', PAGE_RULES),
      querystring: pvQuery(limits),
      response: { 200: PvListSchema, ...commonErrors },
    },
    handler: async (req, reply) =>
      json(
        reply,
        await dataCache.get(readKey('pv', req.query), contracts.pv, async () => {
          const page = await listPv(sql, req.query);
          return {
            items: page.rows.map((r) => ({ ...r, links: links({ consultation: consultationLink(r.org_acronyme, r.ref_consultation), proof: proofLink(r.proof_id) }) })),
            page: pageInfo(req.query.limit, page, req.query.offset, limits.maxOffset),
          };
        }),
      ),
  });

  app.get(`${V1}/attributions`, {
    schema: {
      tags,
      summary: 'Lot results: the latest word on each lot (résultat définitif over extrait de PV)',
      description: rules('`date_fin` not before `date_debut`, `montant_max` not below `montant_min`.', PAGE_RULES),
      querystring: attributionQuery(limits),
      response: { 200: AttributionListSchema, ...commonErrors },
    },
    handler: async (req, reply) =>
      json(
        reply,
        await dataCache.get(readKey('attributions', req.query), contracts.attributions, async () => {
          const page = await listAttributions(sql, req.query);
          return { items: page.rows.map(attribution), page: pageInfo(req.query.limit, page, req.query.offset, limits.maxOffset) };
        }),
      ),
  });

  const statsNote = 'From the materialized views pmmp.stats_monthly, top_buyers and top_winners, refreshed after each pmmp run.';


  app.get(`${V1}/stats`, {
    schema: {
      tags,
      summary: 'Monthly statistics by kind of market',
      description: `${statsNote} ${rules('`mois_fin` not before `mois_debut`; months from year 1 on.')}`,
      querystring: statsQuery, response: { 200: StatsSchema, ...commonErrors } },
    handler: async (req, reply) => {
      const q = req.query;
      const key = `stats ${q.mois_debut ?? ''} ${q.mois_fin ?? ''} ${q.type_marche ?? ''}`;
      return json(reply, await statsCache.get(key, contracts.stats, () => monthlyStats(q)));
    },
  });

  async function monthlyStats(q: z.infer<typeof statsQuery>): Promise<z.input<typeof StatsSchema>> {
    const where = [
      q.mois_debut ? sql`month >= ${`${q.mois_debut}-01`}::date` : sql`true`,
      q.mois_fin ? sql`month <= ${`${q.mois_fin}-01`}::date` : sql`true`,
      q.type_marche ? sql`market_kind = ${q.type_marche}` : sql`true`,
    ].reduce((acc, p) => sql`${acc} and ${p}`);
    const months = await sql<
      { month: string; market_kind: string; consultations: number; estimation_ttc_total: string | null; lots_awarded: number; lots_unsuccessful: number; awarded_amount_total: string | null }[]
    >`select to_char(month, 'YYYY-MM') as month, market_kind, consultations, estimation_ttc_total, lots_awarded, lots_unsuccessful, awarded_amount_total
      from pmmp.stats_monthly where ${where} order by month desc, market_kind limit 1200`;
    const [totals] = await sql<
      { consultations: number; estimation_ttc_total: string | null; lots_awarded: number; lots_unsuccessful: number; awarded_amount_total: string | null }[]
    >`select coalesce(sum(consultations), 0)::int as consultations, sum(estimation_ttc_total) as estimation_ttc_total,
             coalesce(sum(lots_awarded), 0)::int as lots_awarded, coalesce(sum(lots_unsuccessful), 0)::int as lots_unsuccessful,
             sum(awarded_amount_total) as awarded_amount_total
      from pmmp.stats_monthly where ${where}`;
    return { totals: totals!, months: [...months], note: statsNote };
  }

  app.get(`${V1}/stats/organismes`, {
    schema: { tags, summary: 'Top buyers', description: statsNote, querystring: topQuery, response: { 200: TopBuyersSchema, ...commonErrors } },
    handler: async (req, reply) => {
      const { tri, limit } = req.query;
      const body = await statsCache.get(`buyers ${tri} ${limit}`, contracts.topBuyers, async () => {
        const order = tri === 'montant' ? sql`awarded_amount_total desc nulls last, consultations desc` : sql`consultations desc, awarded_amount_total desc nulls last`;
        const items = await sql`select buyer, consultations, estimation_ttc_total, lots_awarded, awarded_amount_total, last_published_on
          from pmmp.top_buyers order by ${order}, buyer limit ${limit}`;
        return { items: items as never };
      });
      return json(reply, body);
    },
  });

  app.get(`${V1}/stats/attributaires`, {
    schema: { tags, summary: 'Top winners', description: statsNote, querystring: topQuery, response: { 200: TopWinnersSchema, ...commonErrors } },
    handler: async (req, reply) => {
      const { tri, limit } = req.query;
      const body = await statsCache.get(`winners ${tri} ${limit}`, contracts.topWinners, async () => {
        const order = tri === 'montant' ? sql`awarded_amount_total desc nulls last, lots_won desc` : sql`lots_won desc, awarded_amount_total desc nulls last`;
        const items = await sql`select winner, lots_won, consultations_won, awarded_amount_total, buyers, ever_in_groupement
          from pmmp.top_winners order by ${order}, winner limit ${limit}`;
        return { items: items as never };
      });
      return json(reply, body);
    },
  });

  const exportDescription =
    'Every matching row, streamed (a server-side cursor: memory stays flat whatever the size), in key order. ' +
    'The first rows are read before the answer starts, so a refused query is a 4xx/5xx with a JSON body; a failure after that ends the ' +
    'body with a last line `#EXPORT-FAILED …` (CSV) or `{"error": …}` (JSON Lines) and an unterminated chunked encoding. ' +
    rules(
      RANGE_RULES,
      '`entreprise` applies to `dataset=attributions` only, `statut`, `type_marche`, `date_limite_debut` and `date_limite_fin` to `dataset=consultations` only (400 naming the field).',
    ) +
    ' ' +
    'CSV: RFC 4180, UTF-8, header row; a cell starting with = + - @ is prefixed with an apostrophe so spreadsheets never run it as a formula.';
  for (const format of ['csv', 'jsonl'] as const) {
    app.get(`${V1}/export/${format}`, {
      schema: {
        tags,
        summary: `Export as ${format === 'csv' ? 'CSV' : 'JSON Lines'}`,
        description: exportDescription,
        querystring: exportQuery,
        response: {
          200: { description: 'the rows', content: { [format === 'csv' ? 'text/csv' : 'application/x-ndjson']: { schema: z.string() } } },
          ...commonErrors,
        },
      },
      handler: async (req, reply) => {
        const rows = exportRows(ctx, req.query, now());
        return sendExport(req, reply, { format, name: `${req.query.dataset}-${ctx.now().toISOString().slice(0, 10)}`, ...rows });
      },
    });
  }

  app.get(`${V1}/proofs/:id`, {
    schema: {
      tags,
      summary: 'An archived page or document, byte for byte as it was fetched',
      description: 'Headers: Content-Type as the server sent it, X-Proof-Url, X-Proof-Fetched-At. HTML is served sandboxed (no script runs).',
      params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a proof id: 64 lowercase hex digits (sha256)') }),
      response: {
        // The archive keeps whatever the portal served: its pages, its PDFs, and anything else as it came.
        200: {
          description: 'the bytes, with the Content-Type the server sent',
          content: {
            'text/html': { schema: z.string() },
            'application/pdf': { schema: z.string() },
            'application/octet-stream': { schema: z.string() },
            '*/*': { schema: z.string() },
          },
        },
        404: ErrorSchema,
        ...commonErrors,
      },
    },
    handler: async (req, reply) => {
      try {
        const proof = await ctx.proofs.get(req.params.id);
        void reply
          .header('content-type', proof.contentType ?? 'application/octet-stream')
          .header('content-length', String(proof.body.length))
          .header('etag', `"${proof.proofId}"`)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .header('content-security-policy', 'sandbox')
          .header('x-content-type-options', 'nosniff')
          .header('x-proof-url', encodeURI(proof.url))
          .header('x-proof-fetched-at', proof.fetchedAt.toISOString());
        return reply.send(proof.body as never);
      } catch (err) {
        if (err instanceof ProofNotFoundError) throw notFound(`no archived proof ${req.params.id}`);
        if (err instanceof ProofCorruptedError) req.log.error({ err }, 'archived proof is damaged');
        throw err;
      }
    },
  });
}

interface ExportRows {
  columns: string[];
  batches: AsyncIterable<Record<string, unknown>[]>;
}

const CONSULTATION_ONLY = ['statut', 'type_marche', 'date_limite_debut', 'date_limite_fin'] as const;

function exportRows(ctx: ApiContext, q: ExportQuery, now: string): ExportRows {
  if (q.dataset === 'attributions') {
    const wrong = CONSULTATION_ONLY.filter((k) => q[k] !== undefined);
    if (wrong.length) throw badRequest(wrong.map((field) => ({ in: 'query' as const, field, problem: 'applies to dataset=consultations only' })));
    const filters = { entreprise: q.entreprise, montant_min: q.montant_min, montant_max: q.montant_max, organisme: q.organisme, date_debut: q.date_debut, date_fin: q.date_fin };
    return {
      columns: ['org_acronyme', 'ref_consultation', 'id_avis', 'lot_key', 'status', 'winner', 'winner_is_groupement', 'amount', 'amount_min', 'bidder_count', 'opening_date', 'low_confidence', 'notice_kind', 'notice_published_on', 'proof_id'],
      batches: streamed(ctx, (sql) => exportAttributions(sql, filters) as AsyncIterable<Record<string, unknown>[]>),
    };
  }
  if (q.entreprise !== undefined) throw badRequest([{ in: 'query', field: 'entreprise', problem: 'applies to dataset=attributions only' }]);
  return {
    columns: ['org_acronyme', 'ref_consultation', 'reference', 'object', 'buyer', 'procedure', 'procedure_code', 'passation_mode', 'category', 'market_kind', 'execution_place', 'published_on', 'deadline', 'estimation_ttc', 'caution_provisoire', 'lot_count', 'statut', 'detail_url'],
    batches: streamed(ctx, (sql) => exportConsultations(sql, q, now) as AsyncIterable<Record<string, unknown>[]>),
  };
}
