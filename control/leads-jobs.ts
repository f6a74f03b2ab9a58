/**
 * Job control for scraping jobs, without HTTP: what `moisson leads job …` uses now and what the REST
 * routes `/api/v1/scraping/jobs…` call. A job is a row of leads.jobs plus its workflow `leadsJob`
 * (id `leads-job-<id>`): creation writes the row then starts the workflow; pause, resume and cancel
 * are signals; the status is the workflow's progress query while it runs, the row once it is over.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from 'postgres';
import { z } from 'zod';
import { LeadsJobSpecSchema } from '../schema/leads/items';
import { LEADS_SOURCE_TYPES, type LeadsJobStatus, type LeadsSourceType } from '../schema/leads/tables';
import { runSearchAttributes } from '../workflows/contracts';
import { LEADS_JOB_SIGNALS, leadsJobContract, leadsJobWorkflowId, leadsProgressQuery } from '../workflows/leads/contract';

export const CreateLeadsJobInputSchema = LeadsJobSpecSchema.and(
  z.object({
    name: z.string().trim().min(1).max(200).optional(),
    /** The caller's id, making a retried create return the same job (default: a new UUID). */
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)').optional(),
  }),
);

export const ListLeadsJobsInputSchema = z.object({
  status: z.enum(['queued', 'running', 'paused', 'cancelled', 'completed', 'failed']).optional(),
  sourceType: z.enum(LEADS_SOURCE_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const JobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a job id');

export type CreateLeadsJobInput = z.input<typeof CreateLeadsJobInputSchema>;
export type ListLeadsJobsInput = z.input<typeof ListLeadsJobsInputSchema>;

export interface LeadsJobControlDeps {
  client: Client;
  sql: Sql;
  /** The main task queue (workflows) and the browser queue (map listings). */
  taskQueue: string;
  browserTaskQueue: string;
}

export interface LeadsJobView {
  id: string;
  name: string;
  sourceType: LeadsSourceType;
  config: Record<string, unknown>;
  status: LeadsJobStatus;
  workflowId: string;
  pagesDone: number;
  pagesQueued: number;
  contactsFound: number;
  errors: number;
  lastError: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The input is wrong: the API answers 400 with these issues. */
export class LeadsJobInputError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid job: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`);
    this.name = 'LeadsJobInputError';
  }
}

/** No such job (404). */
export class LeadsJobNotFoundError extends Error {
  override readonly name = 'LeadsJobNotFoundError';
}

/** The job cannot do that in its state, e.g. resuming a finished job (409). */
export class LeadsJobStateError extends Error {
  override readonly name = 'LeadsJobStateError';
}

export const workflowIdFor = leadsJobWorkflowId;

function parse<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new LeadsJobInputError(r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return r.data;
}

interface JobDbRow {
  id: string;
  name: string;
  source_type: LeadsSourceType;
  config: Record<string, unknown>;
  status: LeadsJobStatus;
  workflow_id: string;
  pages_done: number;
  pages_queued: number;
  contacts_found: number;
  errors_count: number;
  last_error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function view(r: JobDbRow): LeadsJobView {
  return {
    id: r.id,
    name: r.name,
    sourceType: r.source_type,
    config: r.config,
    status: r.status,
    workflowId: r.workflow_id,
    pagesDone: r.pages_done,
    pagesQueued: r.pages_queued,
    contactsFound: r.contacts_found,
    errors: r.errors_count,
    lastError: r.last_error,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

async function row(sql: Sql, id: string): Promise<JobDbRow> {
  const [r] = await sql<JobDbRow[]>`select * from leads.jobs where id = ${id}`;
  if (!r) throw new LeadsJobNotFoundError(`no scraping job ${id}`);
  return r;
}

export async function createJob(deps: LeadsJobControlDeps, raw: unknown): Promise<LeadsJobView> {
  const input = parse(CreateLeadsJobInputSchema, raw);
  const id = input.id ?? randomUUID();
  const workflowId = workflowIdFor(id);
  const name = input.name ?? `${input.sourceType} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
  const inserted = await deps.sql`
    insert into leads.jobs (id, name, source_type, config, status, workflow_id)
    values (${id}, ${name}, ${input.sourceType}, ${JSON.stringify(input.config)}::jsonb, 'queued', ${workflowId})
    on conflict (id) do nothing`;
  if (inserted.count === 0) {
    const [same] = await deps.sql<{ same: boolean }[]>`
      select source_type = ${input.sourceType} and config = ${JSON.stringify(input.config)}::jsonb as same from leads.jobs where id = ${id}`;
    if (!same?.same) {
      throw new LeadsJobStateError(`job ${id} already exists with other settings`);
    }
  }
  // Labelled as every run (MoissonPipeline=leads, MoissonJobId, MoissonSource = the source type);
  // continue-as-new keeps the labels, so every run of a long job is found by them.
  const args = leadsJobContract.input.parse({ jobId: id, browserTaskQueue: deps.browserTaskQueue, sourceType: input.sourceType });
  try {
    await deps.client.workflow.start(leadsJobContract.workflowType, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [args],
      typedSearchAttributes: runSearchAttributes(leadsJobContract, args),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    // The same create again (a retried request): the job and its workflow already exist.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      await deps.sql`update leads.jobs set status = 'failed', last_error = ${`could not start: ${(err as Error).message}`}, finished_at = now() where id = ${id}`;
      throw err;
    }
  }
  return view(await row(deps.sql, id));
}

export async function listJobs(deps: Pick<LeadsJobControlDeps, 'sql'>, raw: unknown = {}): Promise<{ jobs: LeadsJobView[]; total: number }> {
  const q = parse(ListLeadsJobsInputSchema, raw);
  const status = q.status ?? null;
  const sourceType = q.sourceType ?? null;
  const rows = await deps.sql<(JobDbRow & { total: number })[]>`
    select *, count(*) over ()::int as total from leads.jobs
     where (${status}::text is null or status = ${status}) and (${sourceType}::text is null or source_type = ${sourceType})
     order by created_at desc, id limit ${q.limit} offset ${q.offset}`;
  return { jobs: rows.map(view), total: rows[0]?.total ?? 0 };
}

/** The job, with the workflow's live progress while it runs. */
export async function getJob(deps: LeadsJobControlDeps, rawId: unknown): Promise<LeadsJobView & { live: boolean }> {
  const id = parse(JobIdSchema, rawId);
  const r = view(await row(deps.sql, id));
  if (r.status !== 'running' && r.status !== 'paused' && r.status !== 'queued') return { ...r, live: false };
  try {
    const p = await deps.client.workflow.getHandle(r.workflowId).query(leadsProgressQuery);
    return { ...r, status: p.status, pagesDone: p.pagesDone, pagesQueued: p.pagesQueued, contactsFound: p.contactsFound, errors: p.errors, live: true };
  } catch {
    // No worker to answer right now: the row's figures are the last committed ones.
    return { ...r, live: false };
  }
}

async function signal(deps: LeadsJobControlDeps, rawId: unknown, name: 'pause' | 'resume' | 'cancel', allowed: LeadsJobStatus[]): Promise<LeadsJobView> {
  const id = parse(JobIdSchema, rawId);
  const r = await row(deps.sql, id);
  if (!allowed.includes(r.status)) throw new LeadsJobStateError(`job ${id} is ${r.status}: it cannot be ${name === 'pause' ? 'paused' : name === 'resume' ? 'resumed' : 'cancelled'}`);
  try {
    await deps.client.workflow.getHandle(r.workflow_id).signal(LEADS_JOB_SIGNALS[name]);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new LeadsJobStateError(`job ${id} has no running workflow (${r.workflow_id})`);
    throw err;
  }
  return view(await row(deps.sql, id));
}

export interface LeadsJobErrorView {
  url: string | null;
  kind: string;
  message: string;
  at: string;
}

/** What went wrong in a job, newest first: each refused or failed page with its reason. */
export async function jobErrors(deps: Pick<LeadsJobControlDeps, 'sql'>, rawId: unknown, limit = 20): Promise<LeadsJobErrorView[]> {
  const id = parse(JobIdSchema, rawId);
  const rows = await deps.sql<{ url: string | null; kind: string; message: string; created_at: Date }[]>`
    select url, kind, message, created_at from leads.error_log where job_id = ${id} order by created_at desc, id desc limit ${limit}`;
  return rows.map((r) => ({ url: r.url, kind: r.kind, message: r.message, at: iso(r.created_at)! }));
}

export const pauseJob = (deps: LeadsJobControlDeps, id: unknown) => signal(deps, id, 'pause', ['queued', 'running']);
export const resumeJob = (deps: LeadsJobControlDeps, id: unknown) => signal(deps, id, 'resume', ['paused', 'running', 'queued']);
export const cancelJob = (deps: LeadsJobControlDeps, id: unknown) => signal(deps, id, 'cancel', ['queued', 'running', 'paused']);
