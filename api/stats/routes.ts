/** `/api/v1/stats/volumes`: what each pipeline produced per day, for the console's Stats tab. */
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context';
import { commonErrors } from '../errors';
import { dailyVolumes, MAILWIZZ_OUTCOMES } from './volumes';

const n = z.number().int();

const VolumesSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    days: z.array(
      z.object({
        day: z.string().describe('YYYY-MM-DD, UTC'),
        consultations: n.describe('procurement consultations first seen'),
        contacts_scraped: n,
        contacts_validated: n,
        mailwizz: z.object(Object.fromEntries(MAILWIZZ_OUTCOMES.map((o) => [o, n])) as Record<(typeof MAILWIZZ_OUTCOMES)[number], typeof n>).describe('MailWizz tries by outcome'),
        price_rows: n.describe('price quotes first stored'),
        apisync_rows: n.describe('rows the API sync loaded'),
        suggestions_applied: n.describe('consolidation suggestions applied (SUCCES)'),
      }),
    ),
  })
  .meta({ id: 'DailyVolumes' });

export function statsRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get('/api/v1/stats/volumes', {
    schema: {
      tags: ['system'],
      summary: 'Per day (UTC) and pipeline: consultations, contacts scraped and validated, MailWizz outcomes, price rows, apisync rows, suggestions applied',
      description: 'Every day of the range is listed, ending today (the server clock), zeros included.',
      querystring: z.strictObject({
        days: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(366, 'must be at most 366').default(30),
      }),
      response: { 200: VolumesSchema, ...commonErrors },
    },
    handler: async (req) => dailyVolumes(ctx.db.sql, req.query.days, ctx.now()),
  });
}
