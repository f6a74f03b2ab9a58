/**
 * The proof store's metadata (the bytes live on the filesystem, see activities/engine/proofs.ts).
 * `proofs` holds one row per distinct content, keyed by its sha256, with where and when it was first
 * seen; `proof_fetches` holds one row per fetch, because the same bytes come back many times (a detail
 * page unchanged between daily crawls, one PDF behind several URLs) and provenance is per fetch:
 * "what did this URL serve on that day" and "when did it change" are questions about fetches.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, jsonb, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { etl } from './tables';

export const proofs = etl.table(
  'proofs',
  {
    /** sha256 of the raw bytes, lowercase hex: the id is the content, so equal bytes are stored once. */
    proofId: text('proof_id').primaryKey(),
    /** The first URL these bytes were fetched from (secrets in the query masked). */
    url: text('url').notNull(),
    fetchedAt: timestamp('fetched_at', { withTimezone: true }).notNull(),
    contentType: text('content_type'),
    /** What the bytes are for a reparse (`pmmp.detail`, `pmmp.notice-pdf`…). */
    kind: text('kind'),
    size: bigint('size', { mode: 'number' }).notNull(),
    storedSize: bigint('stored_size', { mode: 'number' }).notNull(),
    /** How the file is encoded on disk, so the encoding can change without rewriting old proofs. */
    compression: text('compression').$type<'br'>().notNull().default('br'),
    meta: jsonb('meta').$type<Record<string, unknown>>().notNull().default({}),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('proofs_proof_id_sha256', sql`${t.proofId} ~ '^[0-9a-f]{64}$'`),
    // Keyset pagination for reprocessing: (fetched_at, proof_id) is unique and totally ordered.
    index('proofs_fetched_idx').on(t.fetchedAt, t.proofId),
    index('proofs_kind_fetched_idx').on(t.kind, t.fetchedAt, t.proofId),
  ],
);

export const proofFetches = etl.table(
  'proof_fetches',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    proofId: text('proof_id')
      .notNull()
      .references(() => proofs.proofId, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    fetchedAt: timestamp('fetched_at', { withTimezone: true }).notNull(),
    kind: text('kind'),
    meta: jsonb('meta').$type<Record<string, unknown>>().notNull().default({}),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A retried activity that stores the same response again records the fetch once.
    unique('proof_fetches_once_key').on(t.proofId, t.url, t.fetchedAt),
    // "What did this URL serve at time T": the latest fetch of the URL at or before T.
    index('proof_fetches_url_fetched_idx').on(t.url, t.fetchedAt.desc()),
  ],
);

export type ProofRow = typeof proofs.$inferSelect;
export type NewProofRow = typeof proofs.$inferInsert;
export type ProofFetch = typeof proofFetches.$inferSelect;
export type NewProofFetch = typeof proofFetches.$inferInsert;
