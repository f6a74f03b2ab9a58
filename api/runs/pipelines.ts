/**
 * The pipelines the API can start: one entry per pipeline, naming its contract (workflows/<pipeline>/
 * contract.ts: workflow type, run id, defaults, progress query) and the part of its input the API
 * offers (documented in the OpenAPI; the contract checks it again). The workflow id is the contract's,
 * the same as the CLI's and the Schedule's for the same run.
 */
import { z } from 'zod';
import { apisyncRunContract } from '../../workflows/apisync/contract';
import { calendarDay, calendarMonth, type WorkflowContract } from '../../workflows/contracts';
import { pmmpBackfillContract, pmmpDailyContract } from '../../workflows/pmmp/contract';
import { pricesDailyContract } from '../../workflows/prices/contract';

const day = calendarDay;
const month = calendarMonth;

export interface PipelineSpec<I extends z.ZodType = z.ZodType> {
  contract: WorkflowContract;
  workflowType: string;
  description: string;
  input: I;
}

function spec<I extends z.ZodType>(s: PipelineSpec<I>): PipelineSpec<I> {
  return s;
}

export const PIPELINES = {
  prices: spec({
    contract: pricesDailyContract,
    workflowType: 'pricesDaily',
    description: 'daily FX, crypto and metal prices in MRU, then the MongoDB archive',
    input: z.strictObject({
      date: day.optional().describe('the day to price (default: today, UTC)'),
      assets: z.array(z.string().regex(/^[A-Z0-9]{2,12}$/, 'must be an asset code such as USD')).min(1).max(50).optional(),
      archive: z.boolean().optional().describe('archive to MongoDB afterwards (default true)'),
    }),
  }),
  'pmmp-daily': spec({
    contract: pmmpDailyContract,
    workflowType: 'pmmpDaily',
    description: 'one day of the procurement portal: consultations, notice lists, /bdc/ results, award documents, analysis',
    input: z.strictObject({
      day: day.optional().describe('the day to extract (default: yesterday in Africa/Casablanca, as the Schedule does)'),
      maxDocuments: z.number().int().min(0).max(100_000).optional().describe('download at most this many notice documents in this run'),
    }),
  }),
  'pmmp-backfill': spec({
    contract: pmmpBackfillContract,
    workflowType: 'pmmpBackfill',
    description: 'months of the procurement portal, month windows as child workflows',
    input: z
      .strictObject({
        from: month.describe('first month'),
        to: month.describe('last month'),
        concurrency: z.number().int().min(1).max(6).optional().describe('months crawled at once (the portal is one host)'),
      })
      .refine((i) => i.from <= i.to, { path: ['to'], message: 'must not be before from' }),
  }),
  apisync: spec({
    contract: apisyncRunContract,
    workflowType: 'apisyncRun',
    description: 'a SaaS API into PostgreSQL (Pennylane): full or incremental; one run per source at a time',
    input: z.strictObject({
      source: z.enum(['pennylane']).default('pennylane').describe('the API'),
      mode: z.enum(['full', 'incremental']).optional().describe('default incremental (falls back to full when it must, and says so)'),
      streams: z.array(z.string().regex(/^[a-z_]+$/, 'must be a stream name such as customer_invoices')).min(1).max(20).optional(),
    }),
  }),
} as const;

export type PipelineName = keyof typeof PIPELINES;
export const PIPELINE_NAMES = Object.keys(PIPELINES) as PipelineName[];

export function pipelineOfType(workflowType: string): PipelineName | undefined {
  return PIPELINE_NAMES.find((p) => PIPELINES[p].workflowType === workflowType);
}
