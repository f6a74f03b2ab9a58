/**
 * The pipelines the API can start: one entry per pipeline, naming its workflow type, its input (checked
 * here, so a bad request never reaches Temporal), its deterministic workflow id (a repeat collides with
 * the running one instead of duplicating it) and its progress query. Adding a pipeline is one entry.
 * No business logic: the workflows do the work; this only says how to ask for it.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';

/** The portal's "yesterday": the day a scheduled pmmpDaily run extracts. */
const casablancaYesterday = (): string => DateTime.now().setZone('Africa/Casablanca').minus({ days: 1 }).toISODate()!;

const day = z.iso.date({ error: 'must be a date YYYY-MM-DD' });
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM');

export interface PipelineSpec<I extends z.ZodType = z.ZodType> {
  workflowType: string;
  description: string;
  input: I;
  /** The workflow id for this input; `today` is the API's UTC day. */
  workflowId(input: z.infer<I>, today: string): string;
  /** The input actually sent: defaults made explicit, so the id and the run agree on the day. */
  normalize(input: z.infer<I>, today: string): unknown;
  progressQuery: string;
}

function spec<I extends z.ZodType>(s: PipelineSpec<I>): PipelineSpec<I> {
  return s;
}

export const PIPELINES = {
  prices: spec({
    workflowType: 'pricesDaily',
    description: 'daily FX, crypto and metal prices in MRU, then the MongoDB archive',
    input: z.strictObject({
      date: day.optional().describe('the day to price (default: today, UTC)'),
      assets: z.array(z.string().regex(/^[A-Z0-9]{2,12}$/, 'must be an asset code such as USD')).min(1).max(50).optional(),
      archive: z.boolean().optional().describe('archive to MongoDB afterwards (default true)'),
    }),
    workflowId: (i, today) => `prices-daily-${i.date ?? today}`,
    normalize: (i, today) => ({ ...i, date: i.date ?? today }),
    progressQuery: 'pricesProgress',
  }),
  'pmmp-daily': spec({
    workflowType: 'pmmpDaily',
    description: 'one day of the procurement portal: consultations, notice lists, /bdc/ results, award documents, analysis',
    input: z.strictObject({
      day: day.optional().describe('the day to extract (default: yesterday in Africa/Casablanca, as the Schedule does)'),
      maxDocuments: z.number().int().min(0).max(100_000).optional().describe('download at most this many notice documents in this run'),
    }),
    workflowId: (i) => `pmmp-daily-${i.day ?? casablancaYesterday()}`,
    normalize: (i) => ({ ...i, day: i.day ?? casablancaYesterday() }),
    progressQuery: 'pmmpProgress',
  }),
  'pmmp-backfill': spec({
    workflowType: 'pmmpBackfill',
    description: 'months of the procurement portal, month windows as child workflows',
    input: z
      .strictObject({
        from: month.describe('first month'),
        to: month.describe('last month'),
        concurrency: z.number().int().min(1).max(6).optional().describe('months crawled at once (the portal is one host)'),
      })
      .refine((i) => i.from <= i.to, { path: ['to'], message: 'must not be before from' }),
    workflowId: (i) => `pmmp-backfill-${i.from}-${i.to}`,
    normalize: (i) => i,
    progressQuery: 'pmmpProgress',
  }),
  apisync: spec({
    workflowType: 'apisyncRun',
    description: 'a SaaS API into PostgreSQL (Pennylane): full or incremental; one run per source at a time',
    input: z.strictObject({
      source: z.enum(['pennylane']).default('pennylane').describe('the API'),
      mode: z.enum(['full', 'incremental']).optional().describe('default incremental (falls back to full when it must, and says so)'),
      streams: z.array(z.string().regex(/^[a-z_]+$/, 'must be a stream name such as customer_invoices')).min(1).max(20).optional(),
    }),
    workflowId: (i) => `apisync-${i.source}`,
    normalize: (i) => i,
    progressQuery: 'apisyncProgress',
  }),
} as const;

export type PipelineName = keyof typeof PIPELINES;
export const PIPELINE_NAMES = Object.keys(PIPELINES) as PipelineName[];

export function pipelineOfType(workflowType: string): PipelineName | undefined {
  return PIPELINE_NAMES.find((p) => PIPELINES[p].workflowType === workflowType);
}
