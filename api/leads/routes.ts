/**
 * `/api/v1/scraping/jobs…`: the leads pipeline's scraping jobs, created, listed, paused, resumed and
 * cancelled as the seed's API did (writes HMAC-signed). The rules live in `./jobs.ts`, which the CLI
 * uses too; this file only maps HTTP onto it and its error types onto statuses.
 */
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context';
import { badRequest, commonErrors, conflict, ErrorSchema, notFound, unavailable } from '../errors';
import { queryNumber } from '../pagination';
import {
  cancelJob,
  createJob,
  getJob,
  JobIdSchema,
  LeadsJobInputError,
  LeadsJobNotFoundError,
  LeadsJobStateError,
  listJobs,
  pauseJob,
  resumeJob,
  type LeadsJobControlDeps,
} from '../../control/leads-jobs';
import { RunControl, RunFailedError } from '../../control/runs';
import { leadsWhoisContract, LeadsWhoisInputSchema } from '../../workflows/leads/contract';

const V1 = '/api/v1';

const JobSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    sourceType: z.string(),
    config: z.record(z.string(), z.unknown()),
    status: z.string(),
    workflowId: z.string(),
    pagesDone: z.number().int(),
    pagesQueued: z.number().int(),
    contactsFound: z.number().int(),
    errors: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    live: z.boolean().optional().describe("true when the figures come from the running workflow's progress query"),
  })
  .meta({ id: 'ScrapingJob' });

const signedHeaders = z.object({
  'x-timestamp': z.string().optional().describe('unix time in seconds'),
  'x-signature': z.string().optional().describe('hex HMAC-SHA256 of "<X-Timestamp>.<raw body>" with the shared secret'),
});

const idParams = z.strictObject({ id: JobIdSchema });

/** The job module's errors as HTTP answers; anything else is the server's own problem. */
async function answer<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof LeadsJobInputError) throw badRequest(err.issues.map((i) => ({ in: 'body', field: i.path || '(body)', problem: i.message })));
    if (err instanceof LeadsJobNotFoundError) throw notFound(err.message);
    if (err instanceof LeadsJobStateError) throw conflict(err.message);
    throw err;
  }
}

export function leadsRoutes(app: ZodApp, ctx: ApiContext, signed: { preValidation: NonNullable<Parameters<ZodApp['post']>[1]['preValidation']> }): void {
  const tags = ['scraping jobs'];
  async function deps(): Promise<LeadsJobControlDeps> {
    let client;
    try {
      client = await ctx.temporal();
    } catch (err) {
      throw unavailable(`Temporal is unreachable: ${(err as Error).message}`);
    }
    return { client, sql: ctx.db.sql, taskQueue: ctx.temporalTaskQueue, browserTaskQueue: ctx.temporalBrowserTaskQueue ?? ctx.temporalTaskQueue };
  }

  app.post(`${V1}/scraping/jobs`, {
    preValidation: signed.preValidation,
    schema: {
      tags,
      summary: 'Create a scraping job and start its workflow leadsJob (signed request)',
      description: 'Body: `sourceType` (search, maps, custom_urls, blog) with its settings, as `moisson leads job create` takes them. An `id` makes the call idempotent: the same id returns the same job.',
      headers: signedHeaders,
      body: z.record(z.string(), z.unknown()).describe('the job: sourceType, name, and the source settings'),
      response: { 201: JobSchema, 403: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req, reply) => {
      const job = await answer(async () => createJob(await deps(), req.body));
      req.log.info({ jobId: job.id, workflowId: job.workflowId }, 'scraping job created');
      return reply.code(201).send(job);
    },
  });

  app.get(`${V1}/scraping/jobs`, {
    schema: {
      tags,
      summary: 'Scraping jobs, newest first',
      querystring: z.strictObject({
        status: z.enum(['queued', 'running', 'paused', 'completed', 'cancelled', 'failed']).optional(),
        sourceType: z.enum(['search', 'maps', 'custom_urls', 'blog']).optional(),
        limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
        offset: queryNumber(z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(0, 'must be at least 0').max(10_000, 'must be at most 10000').default(0)),
      }),
      response: { 200: z.object({ jobs: z.array(JobSchema), total: z.number().int() }), ...commonErrors },
    },
    handler: async (req) => answer(() => listJobs({ sql: ctx.db.sql }, req.query)),
  });

  app.get(`${V1}/scraping/jobs/:id`, {
    schema: { tags, summary: 'One scraping job, with live progress while it runs', params: idParams, response: { 200: JobSchema, 404: ErrorSchema, 503: ErrorSchema, ...commonErrors } },
    handler: async (req) => answer(async () => getJob(await deps(), req.params.id)),
  });

  for (const [action, run] of [
    ['pause', pauseJob],
    ['resume', resumeJob],
    ['cancel', cancelJob],
  ] as const) {
    app.post(`${V1}/scraping/jobs/:id/${action}`, {
      preValidation: signed.preValidation,
      schema: {
        tags,
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} a scraping job (signed request; the body may be empty)`,
        headers: signedHeaders,
        params: idParams,
        response: { 202: JobSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema, ...commonErrors },
      },
      handler: async (req, reply) => {
        const job = await answer(async () => run(await deps(), req.params.id));
        req.log.info({ jobId: job.id, action }, 'scraping job signalled');
        return reply.code(202).send(job);
      },
    });
  }

  // The console's WHOIS tab: a lookup waits for its run (the cache answers at once when fresh; RDAP
  // itself within seconds), so the page shows the record, not a run id to poll.
  const WhoisRecordSchema = z
    .object({
      domain: z.string(),
      found: z.boolean().describe('false: RDAP answered that the domain is not registered'),
      registrar: z.string().nullable(),
      registeredAt: z.string().nullable(),
      expiresOn: z.string().nullable(),
      nameservers: z.array(z.string()),
      status: z.array(z.string()),
      cached: z.boolean().describe('answered from leads.whois_cache (LEADS_WHOIS_CACHE_DAYS)'),
      workflow_id: z.string(),
    })
    .meta({ id: 'LeadsWhoisRecord' });
  const WHOIS_WAIT_MS = 30_000;
  app.post(`${V1}/leads/whois/lookup`, {
    preValidation: signed.preValidation,
    schema: {
      tags,
      summary: "Look a domain up over RDAP now (workflow leadsWhois, as `moisson leads whois`), and wait for the record (signed request)",
      description: `Cached answers younger than LEADS_WHOIS_CACHE_DAYS come back at once. A run that does not finish within ${WHOIS_WAIT_MS / 1000} s (no worker on the task queue) answers 503 naming it.`,
      headers: signedHeaders,
      body: LeadsWhoisInputSchema,
      response: { 200: WhoisRecordSchema, 403: ErrorSchema, 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req) => {
      const { client, taskQueue } = await deps();
      const control = new RunControl(client, taskQueue, () => ctx.now());
      const run = await control.start(leadsWhoisContract, { domain: req.body.domain.toLowerCase() });
      let timer: NodeJS.Timeout | undefined;
      try {
        const record = await Promise.race([
          control.result(run.handle),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(unavailable(`the lookup ${run.workflowId} did not finish within ${WHOIS_WAIT_MS / 1000} s: is a worker polling the task queue ${taskQueue}?`)), WHOIS_WAIT_MS);
          }),
        ]);
        req.log.info({ domain: record.domain, found: record.found, cached: record.cached, workflowId: run.workflowId }, 'whois lookup');
        return { ...record, workflow_id: run.workflowId };
      } catch (err) {
        if (err instanceof RunFailedError) throw unavailable(`the lookup ${run.workflowId} failed: ${err.message}`);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
