/**
 * The job's state in PostgreSQL: the frontier (pages discovered and visited), contacts, articles,
 * errors and the counts the workflow shows. Every write is idempotent on its natural key, so a page
 * visited twice (after a crash) adds nothing twice.
 */
import type { Sql } from 'postgres';
import type { FrontierKind, FrontierState, LeadsJobStatus, LeadsSourceType } from '../../schema/leads/tables';
import { canonicalUrl, urlFingerprint } from './extract';

export interface JobRow {
  id: string;
  name: string;
  source_type: LeadsSourceType;
  config: Record<string, unknown>;
  status: LeadsJobStatus;
}

export interface FrontierRow {
  fingerprint: string;
  url: string;
  kind: FrontierKind;
  depth: number;
  context: Record<string, unknown> | null;
  attempts: number;
}

export interface JobCounts {
  pagesDone: number;
  pagesQueued: number;
  contactsFound: number;
  errors: number;
}

export interface NewPage {
  url: string;
  kind: FrontierKind;
  depth: number;
  context?: Record<string, unknown>;
}

export async function loadJob(sql: Sql, jobId: string): Promise<JobRow | undefined> {
  const [row] = await sql<JobRow[]>`select id, name, source_type, config, status from leads.jobs where id = ${jobId}`;
  return row;
}

/** Adds pages not seen yet by this job, within its page budget; returns how many were new. */
export async function enqueuePages(sql: Sql, jobId: string, pages: NewPage[], maxPages: number): Promise<number> {
  if (pages.length === 0) return 0;
  const rows = pages.map((p) => ({ job_id: jobId, fingerprint: urlFingerprint(p.url), url: canonicalUrl(p.url), kind: p.kind, depth: p.depth, context: p.context ?? null }));
  // The budget holds exactly: the pages of a batch enqueue one after the other (a lock per job), and
  // only pages the job does not know yet count, so known links never use up the room of new ones.
  const inserted = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${`leads.frontier:${jobId}`}))`;
    return tx`
      insert into leads.frontier (job_id, fingerprint, url, kind, depth, context)
      select r.job_id, r.fingerprint, r.url, r.kind, r.depth, r.context
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(job_id text, fingerprint text, url text, kind text, depth int, context jsonb)
       where not exists (select 1 from leads.frontier f where f.job_id = r.job_id and f.fingerprint = r.fingerprint)
       limit greatest(0, ${maxPages} - (select count(*) from leads.frontier f where f.job_id = ${jobId}))
      on conflict (job_id, fingerprint) do nothing`;
  });
  return inserted.count;
}

export async function nextPages(sql: Sql, jobId: string, limit: number, kinds: FrontierKind[] | 'not-maps'): Promise<FrontierRow[]> {
  if (kinds === 'not-maps') {
    return sql<FrontierRow[]>`
      select fingerprint, url, kind, depth, context, attempts from leads.frontier
       where job_id = ${jobId} and state = 'queued' and kind <> 'maps' order by seq limit ${limit}`;
  }
  return sql<FrontierRow[]>`
    select fingerprint, url, kind, depth, context, attempts from leads.frontier
     where job_id = ${jobId} and state = 'queued' and kind = any(${kinds}) order by seq limit ${limit}`;
}

export async function markPage(sql: Sql, jobId: string, fingerprint: string, state: FrontierState, error: string | null = null): Promise<void> {
  await sql`
    update leads.frontier set state = ${state}, error = ${error}, done_at = case when ${state} = 'queued' then null else now() end,
           attempts = attempts + 1
     where job_id = ${jobId} and fingerprint = ${fingerprint}`;
}

/** The job that scraped this page first, when it is another job. */
export async function scrapedByOtherJob(sql: Sql, jobId: string, fingerprint: string): Promise<string | undefined> {
  const [row] = await sql<{ first_job_id: string }[]>`select first_job_id from leads.url_fingerprints where fingerprint = ${fingerprint} and first_job_id <> ${jobId}`;
  return row?.first_job_id;
}

export async function rememberFingerprint(sql: Sql, jobId: string, fingerprint: string, url: string): Promise<void> {
  await sql`
    insert into leads.url_fingerprints (fingerprint, url, first_job_id) values (${fingerprint}, ${url}, ${jobId})
    on conflict (fingerprint) do update set last_seen_at = now()`;
}

export interface NewContact {
  dedupKey: string;
  email: string | null;
  name?: string | null;
  company?: string | null;
  phones: string[];
  socials: Record<string, string>;
  website?: string | null;
  address?: string | null;
  domain: string | null;
  sourceUrl: string;
  hints: string;
}

/** Inserts contacts not already in the job (by email, or by phone/listing when there is no email). */
export async function insertContacts(sql: Sql, jobId: string, contacts: NewContact[]): Promise<number> {
  if (contacts.length === 0) return 0;
  const rows = contacts.map((c) => ({
    job_id: jobId,
    dedup_key: c.dedupKey,
    email: c.email,
    name: c.name ?? null,
    company: c.company ?? null,
    phones: c.phones,
    socials: c.socials,
    website: c.website ?? null,
    address: c.address ?? null,
    domain: c.domain,
    source_url: c.sourceUrl,
    hints: c.hints.slice(0, 2000),
    status: c.email ? 'new' : 'no_email',
  }));
  const res = await sql`
    insert into leads.scraped_contacts (job_id, dedup_key, email, name, company, phones, socials, website, address, domain, source_url, hints, status)
    select job_id, dedup_key, email, name, company, phones, socials, website, address, domain, source_url, hints, status
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(job_id text, dedup_key text, email text, name text, company text, phones jsonb,
           socials jsonb, website text, address text, domain text, source_url text, hints text, status text)
    on conflict (job_id, dedup_key) do nothing`;
  return res.count;
}

export async function logError(sql: Sql, jobId: string | null, url: string | null, kind: string, message: string): Promise<void> {
  await sql`insert into leads.error_log (job_id, url, kind, message) values (${jobId}, ${url}, ${kind}, ${message.slice(0, 2000)})`;
}

export async function jobCounts(sql: Sql, jobId: string): Promise<JobCounts> {
  const [row] = await sql<{ done: number; queued: number; errors: number; contacts: number }[]>`
    select count(*) filter (where state in ('done', 'skipped'))::int as done,
           count(*) filter (where state = 'queued')::int as queued,
           count(*) filter (where state in ('failed', 'refused'))::int as errors,
           (select count(*)::int from leads.scraped_contacts c where c.job_id = ${jobId}) as contacts
      from leads.frontier where job_id = ${jobId}`;
  return { pagesDone: row!.done, pagesQueued: row!.queued, contactsFound: row!.contacts, errors: row!.errors };
}

export async function saveJobCounts(sql: Sql, jobId: string, counts: JobCounts, lastError?: string): Promise<void> {
  await sql`
    update leads.jobs set pages_done = ${counts.pagesDone}, pages_queued = ${counts.pagesQueued}, contacts_found = ${counts.contactsFound},
           errors_count = ${counts.errors}, last_error = coalesce(${lastError ?? null}, last_error), updated_at = now()
     where id = ${jobId}`;
}

export async function setJobStatus(sql: Sql, jobId: string, status: LeadsJobStatus, error?: string): Promise<void> {
  const final = status === 'completed' || status === 'cancelled' || status === 'failed';
  await sql`
    update leads.jobs set status = ${status}, updated_at = now(),
           started_at = case when ${status} = 'running' then coalesce(started_at, now()) else started_at end,
           finished_at = case when ${final} then now() else finished_at end,
           last_error = coalesce(${error ?? null}, last_error)
     where id = ${jobId}`;
}
