/**
 * The `leads` schema: the seed Scraper-Pro's tables (jobs, scraped and validated contacts, sync log,
 * URL fingerprints, domain blacklist, WHOIS cache, articles, error log) plus what makes jobs durable
 * here: the frontier of pages a job still has to visit (the workflow keeps only counts and a cursor)
 * and the MX cache. Natural keys make every write an upsert: a page is (job, URL fingerprint), a
 * scraped contact is (job, dedup key = the email when it has one), a validated contact is its email.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgSchema, primaryKey, real, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const leads = pgSchema('leads');

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const LEADS_SOURCE_TYPES = ['search', 'maps', 'custom_urls', 'blog'] as const;
export type LeadsSourceType = (typeof LEADS_SOURCE_TYPES)[number];
export type LeadsJobStatus = 'queued' | 'running' | 'paused' | 'cancelled' | 'completed' | 'failed';

export const jobs = leads.table(
  'jobs',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    sourceType: text('source_type').$type<LeadsSourceType>().notNull(),
    /** The source's settings as given (queries, URLs, depth…), checked by the job schemas of api/leads. */
    config: jsonb('config').$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<LeadsJobStatus>().notNull().default('queued'),
    workflowId: text('workflow_id').notNull(),
    pagesDone: integer('pages_done').notNull().default(0),
    pagesQueued: integer('pages_queued').notNull().default(0),
    contactsFound: integer('contacts_found').notNull().default(0),
    errorsCount: integer('errors_count').notNull().default(0),
    lastError: text('last_error'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
    startedAt: tstz('started_at'),
    finishedAt: tstz('finished_at'),
  },
  (t) => [index('jobs_status_created_idx').on(t.status, t.createdAt), index('jobs_created_idx').on(t.createdAt)],
);

export type FrontierKind = 'serp' | 'maps' | 'site' | 'blog_index' | 'article';
export type FrontierState = 'queued' | 'done' | 'failed' | 'skipped' | 'refused';

/** Pages of a job: discovered (queued) then visited once; a crash re-visits only what is still queued. */
export const frontier = leads.table(
  'frontier',
  {
    jobId: text('job_id').notNull().references(() => jobs.id, { onDelete: 'cascade' }),
    fingerprint: text('fingerprint').notNull(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    url: text('url').notNull(),
    kind: text('kind').$type<FrontierKind>().notNull(),
    depth: integer('depth').notNull().default(0),
    /** What led here (search query, listing name…), for categorization. */
    context: jsonb('context').$type<Record<string, unknown>>(),
    state: text('state').$type<FrontierState>().notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    discoveredAt: tstz('discovered_at').notNull().defaultNow(),
    doneAt: tstz('done_at'),
  },
  (t) => [primaryKey({ name: 'frontier_pkey', columns: [t.jobId, t.fingerprint] }), index('frontier_job_state_seq_idx').on(t.jobId, t.state, t.seq)],
);

/** Every page visited by any job: a page already scraped is not scraped again by another job. */
export const urlFingerprints = leads.table('url_fingerprints', {
  fingerprint: text('fingerprint').primaryKey(),
  url: text('url').notNull(),
  firstJobId: text('first_job_id').notNull(),
  firstSeenAt: tstz('first_seen_at').notNull().defaultNow(),
  lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
});

export type ScrapedStatus = 'new' | 'validating' | 'valid' | 'invalid' | 'duplicate' | 'no_email';

export const scrapedContacts = leads.table(
  'scraped_contacts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: text('job_id').notNull().references(() => jobs.id, { onDelete: 'cascade' }),
    /** The email (lower case) when there is one, else `phone:` / `listing:` + what identifies it. */
    dedupKey: text('dedup_key').notNull(),
    email: text('email'),
    name: text('name'),
    company: text('company'),
    phones: jsonb('phones').$type<string[]>().notNull().default([]),
    socials: jsonb('socials').$type<Record<string, string>>().notNull().default({}),
    website: text('website'),
    address: text('address'),
    domain: text('domain'),
    sourceUrl: text('source_url').notNull(),
    /** Words around the contact (page title, listing category, query) that categorization scores. */
    hints: text('hints'),
    status: text('status').$type<ScrapedStatus>().notNull().default('new'),
    reason: text('reason'),
    claimToken: text('claim_token'),
    claimedAt: tstz('claimed_at'),
    validatedAt: tstz('validated_at'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('scraped_contacts_job_key_uq').on(t.jobId, t.dedupKey),
    // The validation claim: oldest new contacts first.
    index('scraped_contacts_status_id_idx').on(t.status, t.id),
    index('scraped_contacts_email_idx').on(t.email),
  ],
);

export type SyncStatus = 'pending' | 'syncing' | 'synced' | 'failed';

export const validatedContacts = leads.table(
  'validated_contacts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    email: text('email').notNull(),
    scrapedContactId: bigint('scraped_contact_id', { mode: 'number' }).notNull().references(() => scrapedContacts.id, { onDelete: 'cascade' }),
    jobId: text('job_id').notNull(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    company: text('company'),
    phone: text('phone'),
    domain: text('domain').notNull(),
    category: text('category').notNull(),
    categoryScores: jsonb('category_scores').$type<Record<string, number>>().notNull().default({}),
    platform: text('platform').notNull(),
    listUid: text('list_uid').notNull(),
    template: text('template').notNull(),
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    mxHosts: jsonb('mx_hosts').$type<string[]>().notNull().default([]),
    validatedAt: tstz('validated_at').notNull().defaultNow(),
    syncStatus: text('sync_status').$type<SyncStatus>().notNull().default('pending'),
    syncAttempts: integer('sync_attempts').notNull().default(0),
    nextSyncAt: tstz('next_sync_at'),
    syncClaimedAt: tstz('sync_claimed_at'),
    /** The batch that claimed the contact last (`workflowId/runId/activityId`): its retried attempts take the claim back. */
    syncClaim: text('sync_claim'),
    /** Set just before the create call of the current try: a retry that then finds the subscriber knows the create was ours. */
    syncCreateSentAt: tstz('sync_create_sent_at'),
    subscriberUid: text('subscriber_uid'),
    syncedAt: tstz('synced_at'),
    lastSyncError: text('last_sync_error'),
  },
  (t) => [
    uniqueIndex('validated_contacts_email_uq').on(t.email),
    index('validated_contacts_sync_idx').on(t.syncStatus, t.id),
    index('validated_contacts_category_idx').on(t.category),
    // The console's contact list and detail join on it (migration 0029).
    index('validated_contacts_scraped_contact_idx').on(t.scrapedContactId),
    index('validated_contacts_sync_claim_idx').on(t.syncClaim).where(sql`${t.syncClaim} is not null`),
  ],
);

export type SyncOutcome = 'created' | 'existing' | 'duplicate' | 'failed' | 'rejected';

/** One row per MailWizz attempt, whatever came of it. */
export const syncLog = leads.table(
  'sync_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    validatedContactId: bigint('validated_contact_id', { mode: 'number' }).notNull().references(() => validatedContacts.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    listUid: text('list_uid').notNull(),
    attempt: integer('attempt').notNull(),
    outcome: text('outcome').$type<SyncOutcome>().notNull(),
    httpStatus: integer('http_status'),
    subscriberUid: text('subscriber_uid'),
    error: text('error'),
    durationMs: integer('duration_ms'),
    /** The batch of the try (see validated_contacts.sync_claim): a batch's totals are counted from its rows. */
    claim: text('claim'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('sync_log_created_idx').on(t.createdAt, t.outcome),
    index('sync_log_contact_idx').on(t.validatedContactId),
    index('sync_log_claim_idx').on(t.claim).where(sql`${t.claim} is not null`),
  ],
);

/** Bounce statistics per domain; a domain over the threshold (or blocked by hand) is refused. */
export const domainBlacklist = leads.table('domain_blacklist', {
  domain: text('domain').primaryKey(),
  sent: integer('sent').notNull().default(0),
  bounced: integer('bounced').notNull().default(0),
  /** Set when a person blocks the domain whatever its figures. */
  manualReason: text('manual_reason'),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const mxCache = leads.table(
  'mx_cache',
  {
    domain: text('domain').primaryKey(),
    /** `ok`: MX hosts found; `none`: the domain has no MX (or does not exist). */
    verdict: text('verdict').$type<'ok' | 'none'>().notNull(),
    hosts: jsonb('hosts').$type<string[]>().notNull().default([]),
    checkedAt: tstz('checked_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [index('mx_cache_expires_idx').on(t.expiresAt)],
);

export const whoisCache = leads.table('whois_cache', {
  domain: text('domain').primaryKey(),
  found: boolean('found').notNull(),
  registrar: text('registrar'),
  registeredAt: tstz('registered_at'),
  expiresOn: tstz('expires_on'),
  nameservers: jsonb('nameservers').$type<string[]>().notNull().default([]),
  status: jsonb('status').$type<string[]>().notNull().default([]),
  raw: jsonb('raw'),
  fetchedAt: tstz('fetched_at').notNull().defaultNow(),
  expiresAt: tstz('expires_at').notNull(),
});

export const articles = leads.table(
  'articles',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: text('job_id').notNull().references(() => jobs.id, { onDelete: 'cascade' }),
    fingerprint: text('fingerprint').notNull(),
    url: text('url').notNull(),
    title: text('title'),
    author: text('author'),
    publishedAt: tstz('published_at'),
    language: text('language'),
    text: text('text').notNull(),
    excerpt: text('excerpt'),
    wordCount: integer('word_count').notNull(),
    readability: real('readability'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('articles_fingerprint_uq').on(t.fingerprint), index('articles_job_idx').on(t.jobId), index('articles_published_idx').on(t.publishedAt)],
);

export const errorLog = leads.table(
  'error_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: text('job_id'),
    url: text('url'),
    kind: text('kind').notNull(),
    message: text('message').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [index('error_log_job_idx').on(t.jobId, t.createdAt)],
);

export type Job = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;
export type ScrapedContact = typeof scrapedContacts.$inferSelect;
export type ValidatedContact = typeof validatedContacts.$inferSelect;
export type Article = typeof articles.$inferSelect;
