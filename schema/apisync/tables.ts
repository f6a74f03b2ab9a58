/**
 * The `apisync` schema: what the SaaS API sync keeps about itself. The synced data lives beside these
 * tables, one table per stream (`apisync.<source>_<stream>`), created and widened by the loader from the
 * stream definitions and from the fields the API actually sends (see `columns`): their columns cannot
 * be known at migration time, the API grows new ones.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const apisync = pgSchema('apisync');

export const SYNC_MODES = ['full', 'incremental'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

/**
 * One row per source and stream: the durable incremental watermark, and the in-flight cursor of the run
 * that is loading it. Both are written in the same transaction as the rows they cover, so a crash never
 * leaves a cursor ahead of its rows (nor rows without their cursor).
 */
export const syncState = apisync.table(
  'sync_state',
  {
    source: text('source').notNull(),
    stream: text('stream').notNull(),
    /** The changelog position every change before which is loaded (`processed_at` of the source). */
    watermark: timestamp('watermark', { withTimezone: true, mode: 'string' }),
    lastMode: text('last_mode').$type<SyncMode>(),
    lastStatus: text('last_status'),
    lastRunId: uuid('last_run_id'),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true, mode: 'string' }),
    lastFullAt: timestamp('last_full_at', { withTimezone: true, mode: 'string' }),
    rowCount: bigint('row_count', { mode: 'number' }),
    /**
     * The run loading this stream right now and how far it got (`{runKey, mode, phase, cursor, counts}`):
     * a retried activity, in this process or another, resumes here instead of starting over.
     */
    pending: jsonb('pending').$type<Record<string, unknown>>(),
    lastError: text('last_error'),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'sync_state_pkey', columns: [t.source, t.stream] })],
);

/**
 * The shared request budget of an API token, so that every worker process draws from one limiter (its
 * row is the lock they take turns on): `next_slot` is the earliest time the next request may leave, set
 * by the source's own signals (a 429's retry-after, the ratelimit-* headers). The key is a hash of the
 * token, never the token itself.
 */
export const rateLimits = apisync.table('rate_limits', {
  bucket: text('bucket').primaryKey(),
  nextSlot: timestamp('next_slot', { withTimezone: true, mode: 'string' }).notNull().default(sql`clock_timestamp()`),
  /** What the source said last (`ratelimit-remaining`, `ratelimit-reset`, a 429's retry-after). */
  lastRemaining: integer('last_remaining'),
  lastResetAt: timestamp('last_reset_at', { withTimezone: true, mode: 'string' }),
  throttledUntil: timestamp('throttled_until', { withTimezone: true, mode: 'string' }),
  throttles: bigint('throttles', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

/**
 * The requests of the last window, per bucket: when each one was answered (an upper bound of when the
 * source saw it). A request may leave once the `limit`-th most recent one is a whole window (plus a
 * margin) old, so the source never sees more than `limit` in any window, whatever the event-loop lag
 * of the process that sent them.
 */
export const rateLimitSends = apisync.table(
  'rate_limit_sends',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    bucket: text('bucket').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'string' }).notNull(),
  },
  (t) => [index('rate_limit_sends_bucket_sent_idx').on(t.bucket, t.sentAt.desc())],
);

/** Every column of a synced table and where it came from: declared by the stream, or added when the API grew it. */
export const columns = apisync.table(
  'columns',
  {
    source: text('source').notNull(),
    stream: text('stream').notNull(),
    column: text('column').notNull(),
    pgType: text('pg_type').notNull(),
    origin: text('origin').$type<'declared' | 'observed'>().notNull(),
    /** The API field it is read from (before snake_case), for people tracing a value back. */
    field: text('field').notNull(),
    firstRunId: uuid('first_run_id'),
    addedAt: timestamp('added_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'columns_pkey', columns: [t.source, t.stream, t.column] })],
);

/**
 * One run per source at a time, whoever starts it (the Schedule, the CLI, the Web UI): the run holds this
 * lease while it works and renews it; a lease whose holder stopped renewing it expires.
 */
export const runLeases = apisync.table(
  'run_leases',
  {
    source: text('source').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    workflowRunId: text('workflow_run_id').notNull(),
    acquiredAt: timestamp('acquired_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
    released: boolean('released').notNull().default(false),
  },
  (t) => [index('run_leases_expires_idx').on(t.expiresAt)],
);

export type SyncState = typeof syncState.$inferSelect;
export type ColumnRecord = typeof columns.$inferSelect;
