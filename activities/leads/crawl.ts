/**
 * The activities of a scraping job. The frontier lives in PostgreSQL, so a batch is "visit the next
 * queued pages of this job": a retried or repeated batch only sees what is still queued, and what a
 * killed worker had half-done is visited again without adding anything twice (natural keys).
 */
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { CountryCode } from 'libphonenumber-js';
import type { Sql } from 'postgres';
import type { LeadsConfig } from '../../schema/config';
import {
  BlogJobConfigSchema,
  CustomUrlsJobConfigSchema,
  MapsJobConfigSchema,
  SearchJobConfigSchema,
  type MapsListing,
} from '../../schema/leads/items';
import type { LeadsJobStatus, LeadsSourceType } from '../../schema/leads/tables';
import { errorMessage, InvalidInputError, MoissonError, NotAvailableError, RateLimitedError, ResponseShapeError, RobotsDisallowedError, StopError } from '../engine/errors';
import type { Fetcher } from '../engine/fetcher';
import { withHeartbeat } from '../engine/heartbeat';
import { items } from '../engine/metrics';
import { recordRejections } from '../engine/runs';
import { siteOf } from './extract';
import { blogSeeds, visitBlogPage } from './sources/blog';
import type { PageOutcome } from './sources/common';
import { customUrlSeeds, visitCustomPage } from './sources/customUrls';
import { listingContact, mapsSeeds } from './sources/maps';
import { searchSeeds, visitSearchPage } from './sources/search';
import { SsrfRefusedError } from './ssrf';
import {
  enqueuePages,
  insertContacts,
  jobCounts,
  loadJob,
  logError,
  markPage,
  nextPages,
  rememberFingerprint,
  saveJobCounts,
  scrapedByOtherJob,
  setJobStatus,
  type FrontierRow,
  type JobCounts,
  type JobRow,
  type NewPage,
} from './store';
import { lookupWhois } from './whois';

const PIPELINE = 'leads';
/** Visits of one page before it is given up (transient failures only; refusals are final at once). */
const MAX_PAGE_ATTEMPTS = 3;

export interface LeadsCrawlDeps {
  sql: Sql;
  db: PostgresJsDatabase;
  /** The leads fetcher: SSRF guard, UA/proxy rotation, per-domain delays (one per process). */
  fetcher: Fetcher;
  config: LeadsConfig;
  /** Called before each page is visited; tests use it to slow a job down. */
  onPage?: (url: string) => void | Promise<void>;
}

export interface StartLeadsJobResult {
  sourceType: LeadsSourceType;
  counts: JobCounts;
  /** For maps jobs: listings to read per query. */
  maxResults: number;
}

export interface CrawlLeadsBatchResult {
  counts: JobCounts;
  visited: number;
  /** Queued map listing pages (they go to the browser queue). */
  mapsQueued: number;
  /** When every page of the batch was put off by a rate limit: how long to wait before the next batch. */
  waitMs: number;
}

export interface MapsTask {
  fingerprint: string;
  url: string;
  query: string;
}

function parseJobConfig(job: JobRow) {
  const schema = { search: SearchJobConfigSchema, maps: MapsJobConfigSchema, custom_urls: CustomUrlsJobConfigSchema, blog: BlogJobConfigSchema }[job.source_type];
  if (!schema) throw new InvalidInputError(`job ${job.id} has an unknown source type '${job.source_type}'`);
  const parsed = schema.safeParse(job.config);
  if (!parsed.success) {
    throw new InvalidInputError(`job ${job.id}: bad ${job.source_type} settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

async function requireJob(sql: Sql, jobId: string): Promise<JobRow> {
  const job = await loadJob(sql, jobId);
  if (!job) throw new NotAvailableError(`no scraping job ${jobId}`);
  return job;
}

/** Seeds the frontier with the job's starting pages (idempotent) and marks the job running. */
export async function startLeadsJob(deps: LeadsCrawlDeps, input: { jobId: string }): Promise<StartLeadsJobResult> {
  const { sql, config } = deps;
  const job = await requireJob(sql, input.jobId);
  const settings = parseJobConfig(job);
  let seeds: NewPage[];
  switch (job.source_type) {
    case 'search':
      seeds = searchSeeds(config.searchUrl, SearchJobConfigSchema.parse(settings));
      break;
    case 'maps':
      seeds = mapsSeeds(config.mapsUrl, MapsJobConfigSchema.parse(settings));
      break;
    case 'custom_urls':
      seeds = customUrlSeeds(CustomUrlsJobConfigSchema.parse(settings));
      break;
    case 'blog':
      seeds = blogSeeds(BlogJobConfigSchema.parse(settings));
      break;
  }
  await enqueuePages(sql, job.id, seeds, settings.maxPages);
  if (job.status === 'queued') await setJobStatus(sql, job.id, 'running');
  const counts = await jobCounts(sql, job.id);
  await saveJobCounts(sql, job.id, counts);
  return { sourceType: job.source_type, counts, maxResults: 'maxResults' in settings ? settings.maxResults : 0 };
}

function visit(country: CountryCode, job: JobRow, settings: ReturnType<typeof parseJobConfig>, row: FrontierRow, url: string, html: string): PageOutcome {
  const input = { row, url, html, country };
  switch (job.source_type) {
    case 'search':
      return visitSearchPage(input, SearchJobConfigSchema.parse(settings));
    case 'maps': {
      const maps = MapsJobConfigSchema.parse(settings);
      const outcome = visitSearchPage(input, { queries: maps.queries, pagesPerQuery: 1, followDepth: maps.followDepth, refetch: maps.refetch, whois: maps.whois, maxPages: maps.maxPages });
      const company = typeof row.context?.name === 'string' ? row.context.name : null;
      return { ...outcome, contacts: outcome.contacts.map((c) => ({ ...c, company })) };
    }
    case 'custom_urls':
      return visitCustomPage(input, CustomUrlsJobConfigSchema.parse(settings));
    case 'blog':
      return visitBlogPage(input, BlogJobConfigSchema.parse(settings));
  }
}

async function saveArticle(sql: Sql, jobId: string, row: FrontierRow, url: string, article: NonNullable<PageOutcome['article']>): Promise<void> {
  await sql`
    insert into leads.articles (job_id, fingerprint, url, title, author, published_at, language, text, excerpt, word_count)
    values (${jobId}, ${row.fingerprint}, ${url}, ${article.title}, ${article.author}, ${article.publishedAt}, ${article.language},
            ${article.text}, ${article.excerpt}, ${article.wordCount})
    on conflict (fingerprint) do nothing`;
}

async function whoisFor(deps: LeadsCrawlDeps, domains: Iterable<string>): Promise<void> {
  const { sql, config } = deps;
  for (const domain of new Set(domains)) {
    try {
      await lookupWhois({ sql, fetcher: deps.fetcher, rdapUrl: config.rdapUrl, cacheDays: config.whoisCacheDays }, domain);
    } catch (err) {
      await logError(sql, null, null, 'whois', `${domain}: ${errorMessage(err)}`);
    }
  }
}

/** One page: fetched, read, its contacts and links stored, then marked; failures classified. Returns a wait hint. */
async function visitRow(deps: LeadsCrawlDeps, job: JobRow, settings: ReturnType<typeof parseJobConfig>, row: FrontierRow): Promise<number> {
  const sql = deps.sql;
  const dedupable = row.kind === 'site' || row.kind === 'article';
  if (dedupable && !settings.refetch) {
    const other = await scrapedByOtherJob(sql, job.id, row.fingerprint);
    if (other) {
      await markPage(sql, job.id, row.fingerprint, 'skipped', `already scraped by job ${other}`);
      return 0;
    }
  }
  await deps.onPage?.(row.url);
  try {
    const res = await deps.fetcher.get(row.url);
    if (!/html|xml|text\/plain/i.test(res.contentType ?? 'text/html')) {
      await markPage(sql, job.id, row.fingerprint, 'skipped', `not a page (${res.contentType})`);
      return 0;
    }
    const outcome = visit(deps.config.defaultCountry as CountryCode, job, settings, row, res.url, res.text());
    let pages = outcome.pages;
    if (job.source_type === 'blog') {
      const max = BlogJobConfigSchema.parse(settings).maxArticles;
      const [{ n }] = (await sql`select count(*)::int as n from leads.frontier where job_id = ${job.id} and kind = 'article'`) as unknown as [{ n: number }];
      let room = Math.max(0, max - n);
      pages = pages.filter((p) => p.kind !== 'article' || room-- > 0);
    }
    await enqueuePages(sql, job.id, pages, settings.maxPages);
    const inserted = await insertContacts(sql, job.id, outcome.contacts);
    if (inserted > 0) items().add(inserted, { pipeline: PIPELINE, kind: 'contact', result: 'scraped' });
    if (outcome.article) await saveArticle(sql, job.id, row, res.url, outcome.article);
    if (settings.whois) await whoisFor(deps, outcome.contacts.map((c) => c.domain).filter((d): d is string => Boolean(d)));
    if (dedupable) await rememberFingerprint(sql, job.id, row.fingerprint, row.url);
    await markPage(sql, job.id, row.fingerprint, 'done');
    return 0;
  } catch (err) {
    return failed(deps, job, row, err);
  }
}

async function failed(deps: LeadsCrawlDeps, job: JobRow, row: FrontierRow, err: unknown): Promise<number> {
  const sql = deps.sql;
  const message = errorMessage(err);
  if (err instanceof SsrfRefusedError) {
    await markPage(sql, job.id, row.fingerprint, 'refused', message);
    await logError(sql, job.id, row.url, 'ssrf', message);
    await recordRejections(deps.db, PIPELINE, null, [{ kind: 'url', naturalKey: `${job.id}:${row.url}`, reason: message, code: 'url_refused', source: job.source_type }]);
    return 0;
  }
  if (err instanceof RobotsDisallowedError) {
    await markPage(sql, job.id, row.fingerprint, 'skipped', message);
    return 0;
  }
  if (err instanceof StopError && !(err instanceof RateLimitedError)) {
    await markPage(sql, job.id, row.fingerprint, 'failed', message);
    await logError(sql, job.id, row.url, err.name, message);
    if (err instanceof ResponseShapeError) {
      await recordRejections(deps.db, PIPELINE, null, [{ kind: 'page', naturalKey: `${job.id}:${row.url}`, reason: message, code: 'shape_changed', source: job.source_type }]);
    }
    return 0;
  }
  // Transient (network, 5xx, timeout) or a rate limit: the page stays queued for a later batch, a few times.
  const giveUp = row.attempts + 1 >= MAX_PAGE_ATTEMPTS;
  await markPage(sql, job.id, row.fingerprint, giveUp ? 'failed' : 'queued', message);
  await logError(sql, job.id, row.url, err instanceof MoissonError ? err.name : 'Error', message);
  const retryAfter = err instanceof RateLimitedError ? err.retryAfterMs : 0;
  return giveUp ? 0 : Math.max(retryAfter, 1000);
}

/** The next queued pages of the job (map listings excepted), a few at a time, heartbeating the count. */
export async function crawlLeadsBatch(deps: LeadsCrawlDeps, input: { jobId: string; batchPages?: number }): Promise<CrawlLeadsBatchResult> {
  const { sql, config } = deps;
  const job = await requireJob(sql, input.jobId);
  const settings = parseJobConfig(job);
  const rows = await nextPages(sql, job.id, input.batchPages ?? config.batchPages, 'not-maps');
  const waits: number[] = [];
  let visited = 0;
  await withHeartbeat(async (progress) => {
    let next = 0;
    const lanes = Array.from({ length: Math.min(config.crawlConcurrency, rows.length) }, async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        waits.push(await visitRow(deps, job, settings, row));
        visited++;
        progress({ visited });
      }
    });
    await Promise.all(lanes);
  });
  const counts = await jobCounts(sql, job.id);
  await saveJobCounts(sql, job.id, counts);
  const [{ maps }] = (await sql`select count(*)::int as maps from leads.frontier where job_id = ${job.id} and state = 'queued' and kind = 'maps'`) as unknown as [{ maps: number }];
  const allPutOff = rows.length > 0 && waits.every((w) => w > 0);
  return { counts, visited, mapsQueued: maps, waitMs: allPutOff ? Math.min(...waits) : 0 };
}

export async function nextMapsTasks(deps: LeadsCrawlDeps, input: { jobId: string; limit: number }): Promise<MapsTask[]> {
  const rows = await nextPages(deps.sql, input.jobId, input.limit, ['maps']);
  return rows.map((r) => ({ fingerprint: r.fingerprint, url: r.url, query: String(r.context?.query ?? '') }));
}

/** The listings of one maps page: contacts (phone, address), websites queued; the page marked done. */
export async function storeMapsListings(deps: LeadsCrawlDeps, input: { jobId: string; task: MapsTask; listings: MapsListing[] }): Promise<JobCounts> {
  const sql = deps.sql;
  const country = deps.config.defaultCountry as CountryCode;
  const job = await requireJob(sql, input.jobId);
  const settings = MapsJobConfigSchema.parse(parseJobConfig(job));
  const contacts = input.listings.map((l) => listingContact(l, input.task.url, input.task.query, country));
  await insertContacts(sql, job.id, contacts);
  if (settings.visitWebsites) {
    const sites: NewPage[] = [];
    for (const l of input.listings) {
      if (!l.website) continue;
      try {
        siteOf(l.website);
      } catch {
        continue;
      }
      sites.push({ url: l.website, kind: 'site', depth: 0, context: { query: input.task.query, name: l.name, title: l.category ?? '' } });
    }
    await enqueuePages(sql, job.id, sites, settings.maxPages);
  }
  await markPage(sql, job.id, input.task.fingerprint, 'done');
  const counts = await jobCounts(sql, job.id);
  await saveJobCounts(sql, job.id, counts);
  return counts;
}

export async function failMapsTask(deps: LeadsCrawlDeps, input: { jobId: string; task: MapsTask; error: string }): Promise<void> {
  const sql = deps.sql;
  await markPage(sql, input.jobId, input.task.fingerprint, 'failed', input.error);
  await logError(sql, input.jobId, input.task.url, 'maps', input.error);
}

export async function setLeadsJobStatus(deps: LeadsCrawlDeps, input: { jobId: string; status: LeadsJobStatus; error?: string }): Promise<JobCounts> {
  const sql = deps.sql;
  await requireJob(sql, input.jobId);
  await setJobStatus(sql, input.jobId, input.status, input.error);
  const counts = await jobCounts(sql, input.jobId);
  await saveJobCounts(sql, input.jobId, counts);
  return counts;
}

export async function lookupDomainWhois(deps: LeadsCrawlDeps, input: { domain: string }) {
  return lookupWhois({ sql: deps.sql, fetcher: deps.fetcher, rdapUrl: deps.config.rdapUrl, cacheDays: deps.config.whoisCacheDays }, input.domain);
}

/** The activities of a scraping job, as the worker registers them (see `bindActivities`). */
export const leadsCrawlActivities = { startLeadsJob, crawlLeadsBatch, nextMapsTasks, storeMapsListings, failMapsTask, setLeadsJobStatus, lookupDomainWhois };

