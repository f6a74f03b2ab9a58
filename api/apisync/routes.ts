/**
 * `/api/v1/apisync/streams`: where the SaaS API sync stands, for the console's API sync tab — the same
 * object `moisson apisync status --json` prints per source (control/apisync-status.ts), every source at
 * once, with the newest runs and the request budgets' use. PostgreSQL only: it answers while Temporal is down.
 */
import { z } from 'zod';
import { apisyncRateLimits, apisyncRecentRuns, apisyncSourceNames, apisyncStatus } from '../../control/apisync-status';
import type { ApiContext, ZodApp } from '../context';
import { commonErrors } from '../errors';

const when = z.string().nullable();
const counts = z.record(z.string(), z.number());

const RunSchema = z.object({ runId: z.string(), workflowId: z.string(), mode: z.string(), status: z.string(), startedAt: z.string(), finishedAt: when });

const StreamSchema = z
  .object({
    stream: z.string(),
    declared: z.boolean().describe("false: state in the database for a stream the source's definition no longer declares"),
    synced: z.boolean(),
    watermark: when.describe('the change-feed position (UTC, microseconds) every change before which is loaded'),
    lastMode: z.string().nullable(),
    lastFullAt: when,
    lastSuccessAt: when,
    rowCount: z.number().nullable(),
    lastStatus: z.string().nullable(),
    lastError: z.string().nullable(),
    lastRunId: z.string().nullable(),
    updatedAt: when,
    pending: z
      .object({ runId: z.string(), mode: z.string(), position: z.string().nullable(), counts, fallbackReason: z.string().nullable(), runRunning: z.boolean() })
      .nullable()
      .describe('the in-flight cursor a retried attempt resumes from'),
    lastLog: z
      .object({
        runId: z.string(),
        status: z.string(),
        mode: z.string().nullable(),
        extracted: z.number(),
        loaded: z.number(),
        rejected: z.number(),
        durationMs: z.number().nullable(),
        error: z.string().nullable(),
        at: z.string(),
      })
      .nullable(),
  })
  .meta({ id: 'ApisyncStream' });

const StreamsSchema = z
  .object({
    at: z.string(),
    sources: z.array(
      z.object({
        source: z.string(),
        lease: z.object({ state: z.enum(['held', 'expired', 'free']), workflowId: z.string(), workflowRunId: z.string(), acquiredAt: z.string(), expiresAt: z.string() }).nullable(),
        newestRun: RunSchema.nullable(),
        streams: z.array(StreamSchema),
      }),
    ),
    runs: z.array(
      RunSchema.extend({ source: z.string().nullable(), extracted: z.number(), loaded: z.number(), rejected: z.number(), failedStreams: z.number() }),
    ).describe('the newest apisync runs, every source, with the totals their streams logged'),
    rateLimits: z
      .array(
        z.object({
          bucket: z.string().describe('<api host>:<hash of the token>'),
          host: z.string(),
          sentLastMinute: z.number(),
          sentLastHour: z.number(),
          nextSlot: z.string(),
          lastRemaining: z.number().nullable(),
          lastResetAt: when,
          throttledUntil: when,
          throttles: z.number(),
          updatedAt: z.string(),
        }),
      )
      .describe('each request budget (apisync.rate_limits) and its use'),
  })
  .meta({ id: 'ApisyncStreams' });

export function apisyncRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get('/api/v1/apisync/streams', {
    schema: {
      tags: ['apisync'],
      summary: 'Per source and stream: state, watermark, in-flight cursor, last log; the newest runs; the rate-limit budgets',
      querystring: z.strictObject({
        runs: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(20).describe('how many recent runs'),
      }),
      response: { 200: StreamsSchema, ...commonErrors },
    },
    handler: async (req) => {
      const sql = ctx.db.sql;
      const names = await apisyncSourceNames(sql);
      const [statuses, runs, rateLimits] = await Promise.all([Promise.all(names.map((n) => apisyncStatus(sql, n))), apisyncRecentRuns(sql, req.query.runs), apisyncRateLimits(sql)]);
      return {
        at: statuses[0]?.at ?? new Date().toISOString(),
        sources: statuses.map((s) => ({ source: s.source, lease: s.lease, newestRun: s.newestRun, streams: s.streams })),
        runs,
        rateLimits,
      };
    },
  });
}
