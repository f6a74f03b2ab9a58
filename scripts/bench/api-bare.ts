/**
 * The API bench's peer: a bare `node:http` server with the same postgres.js pool settings, issuing the
 * API's exact SQL (the query functions of api/pmmp/queries.ts) and answering JSON.stringify of the rows,
 * with no framework, no validation, no serialization schema and no cache. What the API costs on top of
 * its SQL is the gap between the two in the same run. The console bench adds the review grid's routes,
 * answered by the review functions the API calls (activities/consolidation/review) without the API's
 * framework, auth and schemas. Started by scripts/bench/api.ts and scripts/bench/console.ts as a child
 * process (`BARE_PORT`, `DATABASE_URL`).
 */
import { createServer, type IncomingMessage } from 'node:http';
import { decide, getCohort, listSuggestions, type DecisionInput, type SuggestionListInput } from '../../activities/consolidation/review';
import { consultationDetail, listAttributions, listConsultations, listPv, searchConsultations, searchShape } from '../../api/pmmp/queries';
import type { AttributionQuery, ConsultationListQuery, ConsultationSearchQuery, PvQuery } from '../../api/pmmp/schemas';
import { connectApiDatabases } from '../../api/runtime';
import { loadApiConfig } from '../../schema/config';

const config = loadApiConfig();
const { db, lookups } = connectApiDatabases(process.env.DATABASE_URL!, config, 'moisson-api-bare');
const sql = db.sql;
const NOW = process.env.BARE_NOW ?? new Date().toISOString();

function params(url: URL, defaults: Record<string, string>): Record<string, unknown> {
  const q: Record<string, unknown> = { ...defaults, ...Object.fromEntries(url.searchParams) };
  if (typeof q.limit === 'string') q.limit = Number(q.limit);
  if (typeof q.offset === 'string') q.offset = Number(q.offset);
  return q;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

async function answer(url: URL, req: IncomingMessage): Promise<unknown> {
  const path = url.pathname;
  const suggestions = /^\/api\/v1\/consolidation\/cohorts\/(\d+)\/suggestions$/.exec(path);
  if (suggestions) return listSuggestions(db, { ...params(url, {}), cohorte_id: Number(suggestions[1]) } as SuggestionListInput);
  const cohort = /^\/api\/v1\/consolidation\/cohorts\/(\d+)$/.exec(path);
  if (cohort) return getCohort(db, Number(cohort[1]));
  const decision = /^\/api\/v1\/consolidation\/suggestions\/(accept|reject)$/.exec(path);
  if (decision && req.method === 'POST') return decide(db, { ...(await body(req)), decision: decision[1] } as DecisionInput);
  if (path === '/api/v1/consultations') return listConsultations(sql, params(url, { sort: '-date_publication', limit: '50' }) as ConsultationListQuery, NOW);
  if (path === '/api/v1/consultations/search') {
    const q = params(url, { limit: '20' }) as ConsultationSearchQuery;
    const shape = await searchShape(sql, q.q);
    if (shape === 'none') return { error: 'bad_request' };
    return searchConsultations(sql, q, NOW, shape);
  }
  if (path === '/api/v1/attributions') return listAttributions(sql, params(url, { sort: '-date', limit: '50' }) as AttributionQuery);
  if (path === '/api/v1/pv') return listPv(sql, params(url, { limit: '50' }) as PvQuery);
  if (path === '/api/v1/stats') {
    const months = await sql`select to_char(month, 'YYYY-MM') as month, market_kind, consultations, estimation_ttc_total, lots_awarded, lots_unsuccessful, awarded_amount_total
      from pmmp.stats_monthly where true and true and true order by month desc, market_kind limit 1200`;
    const [totals] = await sql`select coalesce(sum(consultations), 0)::int as consultations, sum(estimation_ttc_total) as estimation_ttc_total,
             coalesce(sum(lots_awarded), 0)::int as lots_awarded, coalesce(sum(lots_unsuccessful), 0)::int as lots_unsuccessful,
             sum(awarded_amount_total) as awarded_amount_total
      from pmmp.stats_monthly where true and true and true`;
    return { totals, months };
  }
  const detail = /^\/api\/v1\/consultations\/([^/]+)\/([^/]+)$/.exec(path);
  if (detail) return consultationDetail(lookups.sql, decodeURIComponent(detail[1]!), decodeURIComponent(detail[2]!), NOW);
  return undefined;
}

const server = createServer((req, res) => {
  answer(new URL(req.url ?? '/', 'http://bare'), req)
    .then((body) => {
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: 'not_found' }));
    })
    .catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(err) }));
    });
});
server.listen(Number(process.env.BARE_PORT ?? 18_091), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  void Promise.allSettled([db.close(), lookups.close()]).finally(() => process.exit(0));
});
