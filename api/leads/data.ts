/**
 * `/api/v1/leads/contacts…` and `/api/v1/leads/articles…`: what the leads jobs collected, read-only. Contacts
 * are the scraped ones joined to their validation (category, MailWizz list, sync state); articles are the blog
 * sources' texts. Lists page by keyset (newest first, any depth), exports stream every matching row.
 */
import type postgres from 'postgres';
import { z } from 'zod';
import type { ApiContext, ZodApp } from '../context';
import { commonErrors, ErrorSchema, notFound } from '../errors';
import { sendExport, streamed } from '../export';
import { keysetPage } from '../pagination';
import { PageInfoSchema, text } from '../pmmp/schemas';
import { JobIdSchema } from '../../control/leads-jobs';

type Sql = postgres.Sql;
type Fragment = postgres.Fragment;
const V1 = '/api/v1';
const EXPORT_BATCH = 500;

const SCRAPED_STATUSES = ['new', 'validating', 'valid', 'invalid', 'duplicate', 'no_email'] as const;
const SYNC_STATUSES = ['pending', 'syncing', 'synced', 'failed'] as const;
const STAGES = ['scraped', 'validated', 'sent'] as const;

const contactFilters = {
  q: text(200).optional().describe('part of the email, name, company or domain (case ignored)'),
  category: text(100).optional().describe("the validated contact's category"),
  domain: text(253).optional().describe("the contact's domain, exactly (case ignored)"),
  validation: z.enum(SCRAPED_STATUSES).optional().describe('the validation result of the scraped contact'),
  list: text(100).optional().describe('the MailWizz list uid it was routed to'),
  sync: z.enum(SYNC_STATUSES).optional().describe('its MailWizz sync state'),
  stage: z.enum(STAGES).optional().describe('scraped (all), validated (has a validated row), sent (synced to MailWizz)'),
  job: JobIdSchema.optional().describe('the scraping job that found it'),
};

const articleFilters = {
  q: text(200).optional().describe('part of the title (case ignored)'),
  domain: text(253).optional().describe("the article's host name, exactly (case ignored)"),
  language: text(16).optional().describe('ISO 639-3 code as detected (fra, eng…)'),
  job: JobIdSchema.optional(),
};

const page = (max: number) => ({
  limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max} (use the cursor for more)`).default(50),
  cursor: z.string().max(1000).optional().describe('`next_cursor` of the previous page (keyset pagination, any depth)'),
});

type ContactFilters = { [K in keyof typeof contactFilters]?: z.output<(typeof contactFilters)[K]> };
type ArticleFilters = { [K in keyof typeof articleFilters]?: z.output<(typeof articleFilters)[K]> };

const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function contactWhere(sql: Sql, f: ContactFilters): Fragment[] {
  const w: Fragment[] = [];
  if (f.q) {
    const p = like(f.q);
    w.push(sql`(s.email ilike ${p} or s.name ilike ${p} or s.company ilike ${p} or s.domain ilike ${p})`);
  }
  if (f.category) w.push(sql`v.category = ${f.category}`);
  if (f.domain) w.push(sql`lower(s.domain) = ${f.domain.toLowerCase()}`);
  if (f.validation) w.push(sql`s.status = ${f.validation}`);
  if (f.list) w.push(sql`v.list_uid = ${f.list}`);
  if (f.sync) w.push(sql`v.sync_status = ${f.sync}`);
  if (f.stage === 'validated') w.push(sql`v.id is not null`);
  if (f.stage === 'sent') w.push(sql`v.sync_status = 'synced'`);
  if (f.job) w.push(sql`s.job_id = ${f.job}`);
  return w;
}

const and = (sql: Sql, parts: Fragment[]) => (parts.length ? parts.reduce((a, p) => sql`${a} and ${p}`) : sql`true`);

const contactColumns = (sql: Sql) => sql`
  s.id::int as "id", s.job_id as "jobId", s.email, s.name, s.company, s.phones, s.website, s.domain, s.source_url as "sourceUrl",
  s.status as "validation", s.reason, s.created_at as "createdAt", v.category, v.list_uid as "listUid", v.sync_status as "syncStatus"`;
const contactFrom = (sql: Sql) => sql`leads.scraped_contacts s left join leads.validated_contacts v on v.scraped_contact_id = s.id`;

const ContactSchema = z
  .object({
    id: z.number().int(),
    jobId: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    company: z.string().nullable(),
    phones: z.array(z.string()),
    website: z.string().nullable(),
    domain: z.string().nullable(),
    sourceUrl: z.string().describe('the page it was found on'),
    validation: z.enum(SCRAPED_STATUSES),
    reason: z.string().nullable().describe('why it was refused, when it was'),
    createdAt: z.string(),
    category: z.string().nullable(),
    listUid: z.string().nullable(),
    syncStatus: z.enum(SYNC_STATUSES).nullable(),
  })
  .meta({ id: 'LeadsContact' });

const ContactDetailSchema = ContactSchema.extend({
  socials: z.record(z.string(), z.string()),
  address: z.string().nullable(),
  job: z.object({ id: z.string(), name: z.string(), sourceType: z.string(), workflowId: z.string() }),
  validated: z
    .object({
      email: z.string(),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      category: z.string(),
      categoryScores: z.record(z.string(), z.number()),
      platform: z.string(),
      listUid: z.string(),
      template: z.string(),
      tags: z.array(z.string()),
      mxHosts: z.array(z.string()),
      validatedAt: z.string(),
      syncStatus: z.enum(SYNC_STATUSES),
      syncAttempts: z.number().int(),
      subscriberUid: z.string().nullable(),
      syncedAt: z.string().nullable(),
      lastSyncError: z.string().nullable(),
    })
    .nullable(),
  proof: z
    .object({ proofId: z.string(), url: z.string(), fetchedAt: z.string(), href: z.string().describe('the archived page, /api/v1/proofs/{id}') })
    .nullable()
    .describe('the archived copy of the page it was found on, when the proof store has one'),
  syncLog: z.array(
    z.object({ attempt: z.number().int(), outcome: z.string(), httpStatus: z.number().int().nullable(), error: z.string().nullable(), at: z.string() }),
  ),
}).meta({ id: 'LeadsContactDetail' });

const CountSchema = z.object({ value: z.string(), count: z.number().int() });
const ContactStatsSchema = z
  .object({
    scraped: z.number().int(),
    validated: z.number().int(),
    sent: z.number().int().describe('validated contacts synced to MailWizz'),
    byValidation: z.record(z.string(), z.number().int()),
    bySync: z.record(z.string(), z.number().int()),
    categories: z.array(CountSchema),
    lists: z.array(CountSchema),
  })
  .meta({ id: 'LeadsContactStats' });

const articleDomain = (sql: Sql) => sql`lower(substring(a.url from '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)'))`;

function articleWhere(sql: Sql, f: ArticleFilters): Fragment[] {
  const w: Fragment[] = [];
  if (f.q) w.push(sql`a.title ilike ${like(f.q)}`);
  if (f.domain) w.push(sql`${articleDomain(sql)} = ${f.domain.toLowerCase()}`);
  if (f.language) w.push(sql`a.language = ${f.language}`);
  if (f.job) w.push(sql`a.job_id = ${f.job}`);
  return w;
}

const articleColumns = (sql: Sql) => sql`
  a.id::int as "id", a.job_id as "jobId", a.url, ${articleDomain(sql)} as "domain", a.title, a.author, a.published_at as "publishedAt",
  a.language, a.excerpt, a.word_count as "wordCount", a.readability, a.created_at as "createdAt"`;

const ArticleSchema = z
  .object({
    id: z.number().int(),
    jobId: z.string(),
    url: z.string(),
    domain: z.string().nullable(),
    title: z.string().nullable(),
    author: z.string().nullable(),
    publishedAt: z.string().nullable(),
    language: z.string().nullable(),
    excerpt: z.string().nullable(),
    wordCount: z.number().int(),
    readability: z.number().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'LeadsArticle' });
const ArticleDetailSchema = ArticleSchema.extend({ text: z.string() }).meta({ id: 'LeadsArticleDetail' });
const ArticleFacetsSchema = z.object({ total: z.number().int(), languages: z.array(CountSchema), domains: z.array(CountSchema) }).meta({ id: 'LeadsArticleFacets' });

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
type Row = Record<string, unknown>;
/** Timestamps as ISO strings whatever the session's time zone prints. */
function withIsoDates<T extends Row>(row: T, keys: string[]): T {
  const out: Row = { ...row };
  for (const k of keys) if (k in out) out[k] = iso(out[k]);
  return out as T;
}

const CONTACT_EXPORT_COLUMNS = ['id', 'jobId', 'email', 'name', 'company', 'phones', 'website', 'domain', 'sourceUrl', 'validation', 'reason', 'category', 'listUid', 'syncStatus', 'createdAt'];
const ARTICLE_EXPORT_COLUMNS = ['id', 'jobId', 'url', 'domain', 'title', 'author', 'publishedAt', 'language', 'wordCount', 'readability', 'excerpt', 'text', 'createdAt'];

const idParams = z.strictObject({ id: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(2 ** 53, 'too large') });

export function leadsDataRoutes(app: ZodApp, ctx: ApiContext): void {
  const tags = ['leads data'];
  const sql = ctx.db.sql;
  const maxPage = Math.min(ctx.config.maxPageSize, 500);

  app.get(`${V1}/leads/contacts/stats`, {
    schema: { tags, summary: 'Contacts per stage (scraped, validated, sent), per validation result and sync state; categories and lists with their counts', response: { 200: ContactStatsSchema, ...commonErrors } },
    handler: async () => {
      const [byValidation, bySync, categories, lists] = await Promise.all([
        sql<{ value: string; count: number }[]>`select status as value, count(*)::int as count from leads.scraped_contacts group by status order by status`,
        sql<{ value: string; count: number }[]>`select sync_status as value, count(*)::int as count from leads.validated_contacts group by sync_status order by sync_status`,
        sql<{ value: string; count: number }[]>`select category as value, count(*)::int as count from leads.validated_contacts group by category order by count desc, category limit 200`,
        sql<{ value: string; count: number }[]>`select list_uid as value, count(*)::int as count from leads.validated_contacts group by list_uid order by count desc, list_uid limit 200`,
      ]);
      const sum = (rows: { count: number }[]) => rows.reduce((n, r) => n + r.count, 0);
      return {
        scraped: sum(byValidation),
        validated: sum(bySync),
        sent: bySync.find((r) => r.value === 'synced')?.count ?? 0,
        byValidation: Object.fromEntries(byValidation.map((r) => [r.value, r.count])),
        bySync: Object.fromEntries(bySync.map((r) => [r.value, r.count])),
        categories: [...categories],
        lists: [...lists],
      };
    },
  });

  app.get(`${V1}/leads/contacts`, {
    schema: {
      tags,
      summary: 'Scraped contacts with their validation, newest first (keyset pages)',
      querystring: z.strictObject({ ...contactFilters, ...page(maxPage) }),
      response: { 200: z.object({ items: z.array(ContactSchema), page: PageInfoSchema }), ...commonErrors },
    },
    handler: async (req) => {
      const { limit, cursor, ...filters } = req.query;
      return newestFirst(sql, { select: contactColumns(sql), from: contactFrom(sql), where: contactWhere(sql, filters), id: sql`s.id`, dates: ['createdAt'] }, limit, cursor);
    },
  });

  app.get(`${V1}/leads/contacts/export/csv`, {
    schema: {
      tags,
      summary: 'Every contact matching the filters, as CSV (streamed, newest first)',
      description: 'The filters of the list. RFC 4180, UTF-8, header row; a cell starting with = + - @ is prefixed with an apostrophe.',
      querystring: z.strictObject(contactFilters),
      response: { 200: { description: 'the rows', content: { 'text/csv': { schema: z.string() } } }, ...commonErrors },
    },
    handler: async (req, reply) => {
      const filters = req.query;
      const batches = streamed(ctx, (s) =>
        s<Row[]>`select ${contactColumns(s)} from ${contactFrom(s)} where ${and(s, contactWhere(s, filters))} order by s.id desc`
          .cursor(EXPORT_BATCH) as AsyncIterable<Row[]>,
      );
      return sendExport(req, reply, { format: 'csv', name: `contacts-${ctx.now().toISOString().slice(0, 10)}`, columns: CONTACT_EXPORT_COLUMNS, batches: isoBatches(batches, ['createdAt']) });
    },
  });

  app.get(`${V1}/leads/contacts/:id`, {
    schema: { tags, summary: 'One contact: where it was found (with the archived page when there is one), its validation and MailWizz tries', params: idParams, response: { 200: ContactDetailSchema, 404: ErrorSchema, ...commonErrors } },
    handler: async (req) => {
      const [row] = await sql<Row[]>`
        select ${contactColumns(sql)}, s.socials, s.address,
               j.id as "job_id", j.name as "job_name", j.source_type as "job_source_type", j.workflow_id as "job_workflow_id",
               v.id::int as "v_id", v.email as "v_email", v.first_name, v.last_name, v.category_scores, v.platform, v.template, v.tags, v.mx_hosts,
               v.validated_at, v.sync_attempts, v.subscriber_uid, v.synced_at, v.last_sync_error
          from ${contactFrom(sql)} join leads.jobs j on j.id = s.job_id
         where s.id = ${req.params.id}`;
      if (!row) throw notFound(`no contact ${req.params.id}`);
      const [proof] = await sql<{ proof_id: string; url: string; fetched_at: Date }[]>`
        select proof_id, url, fetched_at from etl.proof_fetches where url = ${row.sourceUrl as string} order by fetched_at desc limit 1`;
      const log =
        row.v_id === null
          ? []
          : await sql<{ attempt: number; outcome: string; http_status: number | null; error: string | null; created_at: Date }[]>`
              select attempt, outcome, http_status, error, created_at from leads.sync_log where validated_contact_id = ${row.v_id as number} order by id desc limit 20`;
      return {
        ...pick(row, ['id', 'jobId', 'email', 'name', 'company', 'phones', 'website', 'domain', 'sourceUrl', 'validation', 'reason', 'category', 'listUid', 'syncStatus', 'socials', 'address']),
        createdAt: iso(row.createdAt)!,
        job: { id: row.job_id, name: row.job_name, sourceType: row.job_source_type, workflowId: row.job_workflow_id },
        validated:
          row.v_id === null
            ? null
            : {
                email: row.v_email,
                firstName: row.first_name,
                lastName: row.last_name,
                category: row.category,
                categoryScores: row.category_scores,
                platform: row.platform,
                listUid: row.listUid,
                template: row.template,
                tags: row.tags,
                mxHosts: row.mx_hosts,
                validatedAt: iso(row.validated_at)!,
                syncStatus: row.syncStatus,
                syncAttempts: row.sync_attempts,
                subscriberUid: row.subscriber_uid,
                syncedAt: iso(row.synced_at),
                lastSyncError: row.last_sync_error,
              },
        proof: proof ? { proofId: proof.proof_id, url: proof.url, fetchedAt: iso(proof.fetched_at)!, href: `${V1}/proofs/${proof.proof_id}` } : null,
        syncLog: log.map((l) => ({ attempt: l.attempt, outcome: l.outcome, httpStatus: l.http_status, error: l.error, at: iso(l.created_at)! })),
      } as never;
    },
  });

  app.get(`${V1}/leads/articles/facets`, {
    schema: { tags, summary: 'Articles: the total, and the languages and (top 200) domains with their counts, for filters', response: { 200: ArticleFacetsSchema, ...commonErrors } },
    handler: async () => {
      const [languages, domains] = await Promise.all([
        sql<{ value: string; count: number }[]>`select coalesce(language, 'und') as value, count(*)::int as count from leads.articles a group by 1 order by count desc, 1`,
        sql<{ value: string; count: number }[]>`select ${articleDomain(sql)} as value, count(*)::int as count from leads.articles a group by 1 order by count desc, 1 limit 200`,
      ]);
      return { total: languages.reduce((n, r) => n + r.count, 0), languages: [...languages], domains: domains.filter((d) => d.value !== null) };
    },
  });

  app.get(`${V1}/leads/articles`, {
    schema: {
      tags,
      summary: 'Articles from blog sources, newest first (keyset pages; the text is in the detail)',
      querystring: z.strictObject({ ...articleFilters, ...page(maxPage) }),
      response: { 200: z.object({ items: z.array(ArticleSchema), page: PageInfoSchema }), ...commonErrors },
    },
    handler: async (req) => {
      const { limit, cursor, ...filters } = req.query;
      return newestFirst(sql, { select: articleColumns(sql), from: sql`leads.articles a`, where: articleWhere(sql, filters), id: sql`a.id`, dates: ['createdAt', 'publishedAt'] }, limit, cursor);
    },
  });

  for (const format of ['csv', 'jsonl'] as const) {
    app.get(`${V1}/leads/articles/export/${format}`, {
      schema: {
        tags,
        summary: `Every article matching the filters, with its text, as ${format === 'csv' ? 'CSV' : 'JSON Lines'} (streamed)`,
        querystring: z.strictObject(articleFilters),
        response: { 200: { description: 'the rows', content: { [format === 'csv' ? 'text/csv' : 'application/x-ndjson']: { schema: z.string() } } }, ...commonErrors },
      },
      handler: async (req, reply) => {
        const filters = req.query;
        const batches = streamed(ctx, (s) =>
          s<Row[]>`select ${articleColumns(s)}, a.text from leads.articles a where ${and(s, articleWhere(s, filters))} order by a.id desc`.cursor(EXPORT_BATCH) as AsyncIterable<Row[]>,
        );
        return sendExport(req, reply, { format, name: `articles-${ctx.now().toISOString().slice(0, 10)}`, columns: ARTICLE_EXPORT_COLUMNS, batches: isoBatches(batches, ['createdAt', 'publishedAt']) });
      },
    });
  }

  app.get(`${V1}/leads/articles/:id`, {
    schema: { tags, summary: 'One article with its text', params: idParams, response: { 200: ArticleDetailSchema, 404: ErrorSchema, ...commonErrors } },
    handler: async (req) => {
      const [row] = await sql<Row[]>`select ${articleColumns(sql)}, a.text from leads.articles a where a.id = ${req.params.id}`;
      if (!row) throw notFound(`no article ${req.params.id}`);
      return withIsoDates(row, ['createdAt', 'publishedAt']) as never;
    },
  });
}

/** A page of a list by id, newest first (keyset on the id: any depth costs what the first page costs). */
async function newestFirst(sql: Sql, list: { select: Fragment; from: Fragment; where: Fragment[]; id: Fragment; dates: string[] }, limit: number, cursor: string | undefined) {
  const p = await keysetPage<Row>({ sql, select: sql`select ${list.select}`, from: list.from, where: list.where, sortName: '-id', sort: { expr: list.id, type: 'numeric' }, dir: 'desc', keys: [list.id], limit, cursor });
  return { items: p.rows.map((r) => withIsoDates(r, list.dates)) as never, page: { limit, has_more: p.hasMore, next_cursor: p.nextCursor } };
}

async function* isoBatches(batches: AsyncIterable<Row[]>, keys: string[]): AsyncGenerator<Row[]> {
  for await (const b of batches) yield b.map((r) => withIsoDates(r, keys));
}

function pick(row: Row, keys: string[]): Row {
  return Object.fromEntries(keys.map((k) => [k, row[k]]));
}
