/** Prices endpoints: the latest quote of every asset, and one asset's history over a date range. */
import { z } from 'zod';
import { ASSET_CLASSES } from '../../schema/prices/assets';
import type { ApiContext, ZodApp } from '../context';
import { badRequest, commonErrors, ErrorSchema, notFound } from '../errors';

const V1 = '/api/v1';
/** A history request covers at most this many days (one row per day): its size is bounded by construction. */
export const MAX_HISTORY_DAYS = 3_660;

const QuoteSchema = z
  .object({
    asset_code: z.string(),
    asset_class: z.enum(ASSET_CLASSES),
    quote_date: z.string().describe('YYYY-MM-DD'),
    price_mru: z.string().describe('exact decimal, MRU per unit'),
    unit: z.string(),
    source: z.string(),
    source_timestamp: z.string(),
    direction: z.enum(['direct', 'inverse', 'cross']),
    source_value: z.string(),
    source_currency: z.string(),
  })
  .meta({ id: 'Quote' });

const day = z.iso.date({ error: 'must be a date YYYY-MM-DD' });

const COLUMNS = `asset_code, asset_class, quote_date, price_mru::text as price_mru, unit, source, to_json(source_timestamp) #>> '{}' as source_timestamp,
  direction, source_value::text as source_value, source_currency`;

export function pricesRoutes(app: ZodApp, ctx: ApiContext): void {
  const sql = ctx.db.sql;
  const tags = ['prices'];

  app.get(`${V1}/prices/latest`, {
    schema: {
      tags,
      summary: 'The latest quote of every asset (or of one class)',
      querystring: z.strictObject({ classe: z.enum(ASSET_CLASSES).optional().describe('fx, crypto or metals') }),
      response: { 200: z.object({ items: z.array(QuoteSchema) }), ...commonErrors },
    },
    handler: async (req) => {
      const cls = req.query.classe;
      const items = await sql`select distinct on (asset_code) ${sql.unsafe(COLUMNS)} from prices.quotes
        where ${cls ? sql`asset_class = ${cls}` : sql`true`}
        order by asset_code, quote_date desc`;
      return { items: items as never };
    },
  });

  app.get(`${V1}/prices/:asset/history`, {
    schema: {
      tags,
      summary: "One asset's daily quotes over a date range (default: the last 30 days)",
      params: z.strictObject({ asset: z.string().regex(/^[A-Za-z0-9]{2,12}$/, 'must be an asset code such as USD or XAU') }),
      querystring: z
        .strictObject({
          date_debut: day.optional().describe('first day (default: 30 days before date_fin)'),
          date_fin: day.optional().describe('last day (default: today)'),
        })
        .superRefine((q, c) => {
          if (q.date_debut && q.date_fin && q.date_debut > q.date_fin) c.addIssue({ code: 'custom', path: ['date_fin'], message: `must not be before date_debut (${q.date_debut})` });
        }),
      response: { 200: z.object({ asset_code: z.string(), date_debut: z.string(), date_fin: z.string(), items: z.array(QuoteSchema) }), 404: ErrorSchema, ...commonErrors },
    },
    handler: async (req) => {
      const asset = req.params.asset.toUpperCase();
      const to = req.query.date_fin ?? ctx.now().toISOString().slice(0, 10);
      const from = req.query.date_debut ?? new Date(Date.parse(`${to}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10);
      const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
      if (days > MAX_HISTORY_DAYS) throw badRequest([{ in: 'query', field: 'date_debut', problem: `the range covers ${days} days; at most ${MAX_HISTORY_DAYS} per request` }]);
      const [known] = await sql`select 1 from prices.quotes where asset_code = ${asset} limit 1`;
      if (!known) throw notFound(`no quote of asset ${asset}`);
      const items = await sql`select ${sql.unsafe(COLUMNS)} from prices.quotes
        where asset_code = ${asset} and quote_date between ${from}::date and ${to}::date
        order by quote_date limit ${MAX_HISTORY_DAYS}`;
      return { asset_code: asset, date_debut: from, date_fin: to, items: items as never };
    },
  });
}
