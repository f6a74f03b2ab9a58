/**
 * Run control through the Temporal client: start a pipeline run, list recent runs with their status and
 * progress, describe one, cancel one. The API only asks Temporal; the workflows hold every rule.
 * Writes are signed (see auth.ts); only workflows of the known pipelines can be seen or cancelled here.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { RUN_LABEL_PATTERN, RunControl, RunFilterError, RunInputError, type RunView } from '../../control/runs';
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context';
import { badRequest, commonErrors, conflict, ErrorSchema, notFound, unavailable, type Issue } from '../errors';
import { PIPELINE_NAMES, PIPELINES, pipelineOfType, type PipelineName } from './pipelines';

const V1 = '/api/v1';
const PROGRESS_QUERY_TIMEOUT_MS = 2_000;

const STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out', 'unknown'] as const;

const RunSchema = z
  .object({
    pipeline: z.enum(PIPELINE_NAMES as [PipelineName, ...PipelineName[]]),
    workflow_type: z.string(),
    workflow_id: z.string(),
    run_id: z.string(),
    status: z.enum(STATUSES),
    started_at: z.string().nullable(),
    closed_at: z.string().nullable(),
    progress: z.unknown().describe("the workflow's progress query answer while it runs (null when closed or not answering)"),
    links: z.record(z.string(), z.string()),
  })
  .meta({ id: 'Run' });

function startBodySchema() {
  const options = PIPELINE_NAMES.map((name) => {
    const input = PIPELINES[name].input;
    const acceptsEmpty = input.safeParse({}).success;
    return z.strictObject({ pipeline: z.literal(name).describe(PIPELINES[name].description), input: acceptsEmpty ? input.optional() : input });
  });
  return z.discriminatedUnion('pipeline', options as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

const StartedSchema = z.object({ pipeline: z.string(), workflow_id: z.string(), run_id: z.string(), links: z.record(z.string(), z.string()) });

const signedHeaders = z.object({
  'x-timestamp': z.string().optional().describe('unix time in seconds'),
  'x-signature': z.string().optional().describe('hex HMAC-SHA256 of "<X-Timestamp>.<raw body>" with the shared secret'),
});

/** A label value as runs carry it (checked again by the control layer before it reaches a visibility query). */
const label = z.string().regex(RUN_LABEL_PATTERN, 'must be letters, digits and . _ - : @ only (at most 200)');

type RunInfo = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'type' | 'status' | 'startTime' | 'closeTime'>;

function statusOf(info: RunInfo): (typeof STATUSES)[number] {
  const name = info.status.name.toLowerCase();
  return (STATUSES as readonly string[]).includes(name) ? (name as (typeof STATUSES)[number]) : 'unknown';
}

export function runsRoutes(app: ZodApp, ctx: ApiContext, signed: { preValidation: NonNullable<Parameters<ZodApp['post']>[1]['preValidation']> }): void {
  const tags = ['runs'];
  const links = (workflowId: string) => ({
    self: `${V1}/runs/${encodeURIComponent(workflowId)}`,
    temporal_ui: `${ctx.temporalUiUrl}/namespaces/${encodeURIComponent(ctx.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`,
  });

  async function client(): Promise<Client> {
    try {
      return await ctx.temporal();
    } catch (err) {
      throw unavailable(`Temporal is unreachable: ${(err as Error).message}`);
    }
  }

  async function progressOf(c: Client, info: RunInfo, pipeline: PipelineName): Promise<unknown> {
    if (info.status.name !== 'RUNNING') return null;
    try {
      // No worker, no answer: a list must not hang on one silent workflow.
      const query = PIPELINES[pipeline].contract.progress;
      if (!query) return null;
      return await c.withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () => c.workflow.getHandle(info.workflowId, info.runId).query(query));
    } catch {
      return null;
    }
  }

  async function toRun(c: Client, info: RunInfo) {
    const pipeline = pipelineOfType(info.type)!;
    return {
      pipeline,
      workflow_type: info.type,
      workflow_id: info.workflowId,
      run_id: info.runId,
      status: statusOf(info),
      started_at: info.startTime?.toISOString() ?? null,
      closed_at: info.closeTime?.toISOString() ?? null,
      progress: await progressOf(c, info, pipeline),
      links: links(info.workflowId),
    };
  }

  /** A run as the list shows it (the control layer read it and its progress). */
  function fromView(run: RunView) {
    return {
      pipeline: pipelineOfType(run.workflowType)!,
      workflow_type: run.workflowType,
      workflow_id: run.workflowId,
      run_id: run.runId,
      status: run.status,
      started_at: run.startedAt,
      closed_at: run.closedAt,
      progress: run.progress,
      links: links(run.workflowId),
    };
  }

  app.post(`${V1}/runs`, {
    preValidation: signed.preValidation,
    schema: {
      tags,
      summary: 'Start a pipeline run (signed request)',
      description: `Pipelines: ${PIPELINE_NAMES.map((p) => `\`${p}\` → workflow ${PIPELINES[p].workflowType}`).join(', ')}. The workflow id is deterministic: starting the same run while it runs answers 409.`,
      headers: signedHeaders,
      body: startBodySchema(),
      response: { 202: StartedSchema, 403: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req, reply) => {
      const body = req.body as { pipeline: PipelineName; input?: unknown };
      const spec = PIPELINES[body.pipeline];
      const parsed = (spec.input as z.ZodType).safeParse(body.input ?? {});
      if (!parsed.success) {
        throw badRequest(parsed.error.issues.map((i): Issue => ({ in: 'body', field: ['input', ...i.path.map(String)].join('.'), problem: i.message })));
      }
      const control = new RunControl(await client(), ctx.temporalTaskQueue, () => ctx.now());
      let run;
      try {
        run = await control.start(spec.contract, parsed.data as never);
      } catch (err) {
        if (err instanceof RunInputError) throw badRequest(err.issues.map((i): Issue => ({ in: 'body', field: `input.${i.field}`, problem: i.problem })));
        throw err;
      }
      const workflowId = run.workflowId;
      if (!run.started) throw conflict(`${workflowId} is already running; see ${links(workflowId).self}`);
      const runId = run.runId ?? '';
      req.log.info({ pipeline: body.pipeline, workflowId, runId }, 'run started');
      return reply.code(202).send({ pipeline: body.pipeline, workflow_id: workflowId, run_id: runId, links: links(workflowId) });
    },
  });

  app.get(`${V1}/runs`, {
    schema: {
      tags,
      summary: 'Recent runs of the pipelines, newest first, with status and progress',
      querystring: z.strictObject({
        pipeline: z.enum(PIPELINE_NAMES as [PipelineName, ...PipelineName[]]).optional(),
        statut: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out']).optional(),
        period: label.optional().describe('runs about this day or window (2026-11-20, 2026-01..2026-03): the MoissonPeriod search attribute'),
        source: label.optional().describe('runs reading this source (pennylane, marchespublics): MoissonSource'),
        job: label.optional().describe('runs of this leads job: MoissonJobId'),
        limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
      }),
      response: { 200: z.object({ items: z.array(RunSchema) }), 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req) => {
      const q = req.query;
      const control = new RunControl(await client(), ctx.temporalTaskQueue, () => ctx.now(), PROGRESS_QUERY_TIMEOUT_MS);
      try {
        const found = await control.list({
          workflowTypes: (q.pipeline ? [q.pipeline] : PIPELINE_NAMES).map((p) => PIPELINES[p].workflowType),
          status: q.statut,
          period: q.period,
          source: q.source,
          jobId: q.job,
          limit: q.limit,
        });
        return { items: found.map(fromView) };
      } catch (err) {
        if (err instanceof RunFilterError) throw badRequest([{ in: 'query', field: err.filter === 'jobId' ? 'job' : err.filter, problem: err.message }]);
        throw err;
      }
    },
  });

  const idParams = z.strictObject({ workflowId: z.string().min(1).max(200).regex(/^[\w.:-]+$/, 'must be a workflow id such as prices-daily-2026-11-23') });

  async function describeKnown(c: Client, workflowId: string) {
    try {
      const info = await c.workflow.getHandle(workflowId).describe();
      if (!pipelineOfType(info.type)) throw notFound(`${workflowId} is not a run of a pipeline this API controls`);
      return info;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(`no run ${workflowId}`);
      throw err;
    }
  }

  app.get(`${V1}/runs/:workflowId`, {
    schema: { tags, summary: 'One run: status and progress', params: idParams, response: { 200: RunSchema, 404: ErrorSchema, 503: ErrorSchema, ...commonErrors } },
    handler: async (req) => {
      const c = await client();
      return toRun(c, await describeKnown(c, req.params.workflowId));
    },
  });

  app.post(`${V1}/runs/:workflowId/cancel`, {
    preValidation: signed.preValidation,
    schema: {
      tags,
      summary: 'Cancel a running run (signed request; the body may be empty)',
      headers: signedHeaders,
      params: idParams,
      response: { 202: z.object({ workflow_id: z.string(), run_id: z.string(), status: z.literal('cancel_requested') }), 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema, ...commonErrors },
    },
    handler: async (req, reply) => {
      const c = await client();
      const info = await describeKnown(c, req.params.workflowId);
      if (info.status.name !== 'RUNNING') throw conflict(`${info.workflowId} is not running (${info.status.name.toLowerCase()})`);
      await c.workflow.getHandle(info.workflowId, info.runId).cancel();
      req.log.info({ workflowId: info.workflowId, runId: info.runId }, 'run cancel requested');
      return reply.code(202).send({ workflow_id: info.workflowId, run_id: info.runId, status: 'cancel_requested' as const });
    },
  });
}
