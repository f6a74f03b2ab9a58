/**
 * The shared `etl` schema: what every pipeline writes about its own runs. A rejected record is not an
 * error: it lands here with its reason and proof, so nothing is ever dropped silently.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgSchema, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

export const etl = pgSchema('etl');

export const RUN_STATUSES = ['running', 'success', 'partial', 'failure', 'config_error', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const runs = etl.table(
  'runs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    pipeline: text('pipeline').notNull(),
    kind: text('kind').notNull(),
    workflowId: text('workflow_id').notNull(),
    /** Temporal's run id: the natural key, so a retried "start run" activity finds its row again. */
    workflowRunId: text('workflow_run_id').notNull(),
    status: text('status').$type<RunStatus>().notNull().default('running'),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    unique('runs_workflow_run_id_key').on(t.workflowRunId),
    index('runs_pipeline_started_idx').on(t.pipeline, t.startedAt.desc()),
  ],
);

/** One row per stream (source, kind of page, API resource…) and run. */
export const etlLogs = etl.table(
  'etl_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    pipeline: text('pipeline').notNull(),
    stream: text('stream').notNull(),
    status: text('status').$type<'success' | 'partial' | 'failure' | 'skipped'>().notNull(),
    extracted: integer('extracted').notNull().default(0),
    loaded: integer('loaded').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    durationMs: integer('duration_ms'),
    error: text('error'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A retried logging activity rewrites its row instead of adding a second one.
    unique('etl_logs_run_stream_key').on(t.runId, t.stream),
    index('etl_logs_pipeline_created_idx').on(t.pipeline, t.createdAt.desc()),
  ],
);

export const rejectedRecords = etl.table(
  'rejected_records',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id').references(() => runs.id, { onDelete: 'set null' }),
    pipeline: text('pipeline').notNull(),
    kind: text('kind').notNull(),
    /** The record's natural key as text (e.g. `BTC@2026-11-23`), for people searching for it. */
    naturalKey: text('natural_key').notNull(),
    reason: text('reason').notNull(),
    source: text('source'),
    payload: jsonb('payload').$type<unknown>(),
    proofId: text('proof_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('rejected_records_once_key').on(t.runId, t.pipeline, t.kind, t.naturalKey, t.source, t.reason).nullsNotDistinct(),
    index('rejected_records_pipeline_created_idx').on(t.pipeline, t.createdAt.desc()),
  ],
);

export type Run = typeof runs.$inferSelect;
export type NewRun = typeof runs.$inferInsert;
export type EtlLog = typeof etlLogs.$inferSelect;
export type NewEtlLog = typeof etlLogs.$inferInsert;
export type RejectedRecord = typeof rejectedRecords.$inferSelect;
export type NewRejectedRecord = typeof rejectedRecords.$inferInsert;

/**
 * One politeness budget per host shared by every worker process (migration 0025, etl.host_turn):
 * the next allowed start, a fleet-wide cool-down after a 429 or a block, and the requests in flight.
 */
export const hostBudgets = etl.table('host_budgets', {
  host: text('host').primaryKey(),
  nextStart: timestamp('next_start', { withTimezone: true }).notNull().default(sql`'-infinity'`),
  cooldownUntil: timestamp('cooldown_until', { withTimezone: true }).notNull().default(sql`'-infinity'`),
  /** Lease id -> expiry (epoch ms) of each request in flight; a killed process's leases lapse. */
  leases: jsonb('leases').$type<Record<string, number>>().notNull().default({}),
  grants: bigint('grants', { mode: 'number' }).notNull().default(0),
  cooldowns: bigint('cooldowns', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
