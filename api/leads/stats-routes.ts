/**
 * `/api/v1/leads/blacklist` and `/api/v1/leads/whois`: what the leads pipeline learnt about domains —
 * bounce figures per domain (a domain over the bounce threshold, or blocked by hand, is refused at
 * validation), and the WHOIS (RDAP) lookups it cached. Read-only, for the console's Stats tab.
 */
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context';
import { commonErrors } from '../errors';

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const limit = (def: number) => z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').default(def);

const BlacklistSchema = z
  .object({
    domains: z.number().int().describe('domains with figures'),
    manual: z.number().int().describe('domains blocked by hand'),
    sent: z.number().int(),
    bounced: z.number().int(),
    items: z.array(
      z.object({
        domain: z.string(),
        sent: z.number().int(),
        bounced: z.number().int(),
        bounce_rate: z.number().nullable().describe('bounced / sent, null when nothing was sent'),
        manual_reason: z.string().nullable(),
        updated_at: z.string(),
      }),
    ),
  })
  .meta({ id: 'LeadsBlacklist' });

const WhoisSchema = z
  .object({
    total: z.number().int(),
    found: z.number().int(),
    not_found: z.number().int(),
    expired: z.number().int().describe('cached answers past their expiry (looked up again on next use)'),
    last_24h: z.number().int().describe('lookups fetched in the last 24 hours'),
    registrars: z.array(z.object({ registrar: z.string(), domains: z.number().int() })).describe('the 10 most frequent'),
    latest: z.array(
      z.object({
        domain: z.string(),
        found: z.boolean(),
        registrar: z.string().nullable(),
        registered_at: z.string().nullable(),
        expires_on: z.string().nullable(),
        fetched_at: z.string(),
      }),
    ),
  })
  .meta({ id: 'LeadsWhois' });

export function leadsStatsRoutes(app: ZodApp, ctx: ApiContext): void {
  const sql = ctx.db.sql;
  const tags = ['scraping jobs'];
  const iso = (column: string) => sql.unsafe(`to_char(${column} at time zone 'UTC', ${ISO})`);

  app.get('/api/v1/leads/blacklist', {
    schema: {
      tags,
      summary: 'Bounce figures per domain (leads.domain_blacklist): blocked by hand first, then by bounce rate',
      querystring: z.strictObject({ limit: limit(100), domain: z.string().min(1).max(253).optional().describe('domains containing this') }),
      response: { 200: BlacklistSchema, ...commonErrors },
    },
    handler: async (req) => {
      const match = req.query.domain ? sql`where domain like ${`%${req.query.domain.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}` : sql``;
      const [[totals], items] = await Promise.all([
        sql<{ domains: number; manual: number; sent: number; bounced: number }[]>`
          select count(*)::int as domains, count(manual_reason)::int as manual, coalesce(sum(sent), 0)::int as sent, coalesce(sum(bounced), 0)::int as bounced from leads.domain_blacklist`,
        sql<{ domain: string; sent: number; bounced: number; bounce_rate: number | null; manual_reason: string | null; updated_at: string }[]>`
          select domain, sent, bounced, case when sent > 0 then bounced::float8 / sent end as bounce_rate, manual_reason, ${iso('updated_at')} as updated_at
            from leads.domain_blacklist ${match}
           order by manual_reason is null, case when sent > 0 then bounced::float8 / sent else 0 end desc, sent desc, domain
           limit ${req.query.limit}`,
      ]);
      return { ...totals!, items };
    },
  });

  app.get('/api/v1/leads/whois', {
    schema: {
      tags,
      summary: 'WHOIS (RDAP) lookups cached by the leads pipeline: counts, top registrars, latest lookups',
      querystring: z.strictObject({ limit: limit(50) }),
      response: { 200: WhoisSchema, ...commonErrors },
    },
    handler: async (req) => {
      const [[totals], registrars, latest] = await Promise.all([
        sql<{ total: number; found: number; expired: number; last_24h: number }[]>`
          select count(*)::int as total, count(*) filter (where found)::int as found, count(*) filter (where expires_at < now())::int as expired,
                 count(*) filter (where fetched_at > now() - interval '24 hours')::int as last_24h
            from leads.whois_cache`,
        sql<{ registrar: string; domains: number }[]>`
          select registrar, count(*)::int as domains from leads.whois_cache where registrar is not null group by registrar order by domains desc, registrar limit 10`,
        sql<{ domain: string; found: boolean; registrar: string | null; registered_at: string | null; expires_on: string | null; fetched_at: string }[]>`
          select domain, found, registrar, ${iso('registered_at')} as registered_at, ${iso('expires_on')} as expires_on, ${iso('fetched_at')} as fetched_at
            from leads.whois_cache order by fetched_at desc, domain limit ${req.query.limit}`,
      ]);
      return { total: totals!.total, found: totals!.found, not_found: totals!.total - totals!.found, expired: totals!.expired, last_24h: totals!.last_24h, registrars, latest };
    },
  });
}
