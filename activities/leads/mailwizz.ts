/**
 * MailWizz: a small client for the two calls the sync needs, and the sync itself.
 *
 * The push is idempotent: search-by-email first, create only on 404, and a 409 on create (someone,
 * maybe our own earlier try whose answer was lost with its worker) is read back by searching again.
 * Contacts are claimed with SKIP LOCKED under an advisory lock that also counts the day's warm-up
 * quota, so several workers neither push the same contact nor exceed the quota together. Each try
 * is one row of leads.sync_log; after MAILWIZZ_MAX_TRIES a contact stays `failed`.
 *
 * A claim belongs to its batch (workflow, run, activity id): when the worker of a batch is killed, the
 * batch's next attempt takes back the contacts left `syncing` instead of leaving them to the stale
 * window, and the batch's result is counted from its sync_log rows, so what the killed attempt pushed
 * is in the totals.
 */
import { createHmac } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { Sql } from 'postgres';
import type { LeadsConfig } from '../../schema/config';
import {
  AuthError,
  ConfigurationError,
  errorMessage,
  InvalidInputError,
  MoissonError,
  RateLimitedError,
  ResponseShapeError,
  TransientError,
} from '../engine/errors';
import { parseRetryAfter } from '../engine/http';
import { withHeartbeat } from '../engine/heartbeat';
import { httpRequests, items, mailwizzQuotaExhausted } from '../engine/metrics';

const PIPELINE = 'leads';
const STALE_SYNC = '10 minutes';

type MailwizzConfig = LeadsConfig['mailwizz'];

export interface MailwizzAnswer {
  status: number;
  body: { status?: string; error?: string | Record<string, string>; data?: Record<string, unknown> };
}

/** MailWizz says `error` as a string or as an object keyed by field tag. */
export function mailwizzErrorText(body: MailwizzAnswer['body']): string {
  const e = body.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') return Object.entries(e).map(([tag, msg]) => `${tag}: ${String(msg)}`).join('; ');
  return 'no error message';
}

/** PHP's http_build_query (RFC 1738): what the 1.x SDK signs. */
function phpQuery(params: [string, string][]): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

export class MailwizzClient {
  constructor(
    private readonly config: MailwizzConfig,
    private readonly clock: () => number = Date.now,
  ) {
    if (config.apiVersion === 2 && !config.apiKey) throw new ConfigurationError('MAILWIZZ_API_KEY is not set (MailWizz 2.x authenticates with X-API-KEY)');
    if (config.apiVersion === 1 && (!config.publicKey || !config.privateKey)) {
      throw new ConfigurationError('MAILWIZZ_PUBLIC_KEY and MAILWIZZ_PRIVATE_KEY are needed for MailWizz 1.x signed requests');
    }
  }

  private authHeaders(method: string, url: string, form: [string, string][]): Record<string, string> {
    if (this.config.apiVersion === 2) return { 'X-API-KEY': this.config.apiKey! };
    const special = { 'X-MW-PUBLIC-KEY': this.config.publicKey!, 'X-MW-TIMESTAMP': String(Math.floor(this.clock() / 1000)) };
    const params = [...Object.entries(special), ...form].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signed = `${method} ${url}${url.includes('?') ? '&' : '?'}${phpQuery(params)}`;
    return { ...special, 'X-MW-SIGNATURE': createHmac('sha1', this.config.privateKey!).update(signed).digest('hex') };
  }

  async call(method: 'GET' | 'POST', path: string, opts: { query?: Record<string, string>; form?: [string, string][] } = {}): Promise<MailwizzAnswer> {
    const url = new URL(`${this.config.url}/${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const form = opts.form ?? [];
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders(method, url.toString(), form) };
    if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method, headers, body: method === 'POST' ? phpQuery(form) : undefined, signal: AbortSignal.timeout(this.config.timeoutMs) });
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      httpRequests().add(1, { host: url.host, status: timedOut ? 'timeout' : 'network_error' });
      throw new TransientError('network', `MailWizz ${method} ${path} failed: ${errorMessage(err)}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`);
    }
    // Counted with the sources' requests: MailWizz's 429s and 5xx feed the same panels and alerts.
    httpRequests().add(1, { host: url.host, status: String(res.status) });
    let body: MailwizzAnswer['body'];
    try {
      body = text ? (JSON.parse(text) as MailwizzAnswer['body']) : {};
    } catch {
      if (res.status >= 500) throw new TransientError('server', `MailWizz ${method} ${path} answered ${res.status}`);
      throw new ResponseShapeError(`MailWizz ${method} ${path} answered ${res.status} with a body that is not JSON`);
    }
    if (res.status === 429) throw new RateLimitedError(`MailWizz asks to slow down (${mailwizzErrorText(body)})`, parseRetryAfter(res.headers.get('retry-after'), this.clock()) ?? 60_000);
    if (res.status >= 500) throw new TransientError('server', `MailWizz ${method} ${path} answered ${res.status}: ${mailwizzErrorText(body)}`);
    // MailWizz answers authentication failures with 400 (and 401/403 behind some proxies).
    if (res.status === 401 || res.status === 403 || (res.status === 400 && /api key|signature|timestamp|public key/i.test(mailwizzErrorText(body)))) {
      throw new AuthError(`MailWizz refused our credentials: ${mailwizzErrorText(body)}`);
    }
    return { status: res.status, body };
  }

  async searchByEmail(listUid: string, email: string): Promise<string | undefined> {
    const r = await this.call('GET', `lists/${encodeURIComponent(listUid)}/subscribers/search-by-email`, { query: { EMAIL: email } });
    if (r.status === 200 && r.body.status === 'success') {
      const uid = r.body.data?.subscriber_uid;
      if (typeof uid !== 'string') throw new ResponseShapeError('MailWizz search-by-email answered success without data.subscriber_uid');
      return uid;
    }
    if (r.status === 404 && /list does not exist/i.test(mailwizzErrorText(r.body))) throw new ConfigurationError(`MailWizz has no list ${listUid} (check LEADS_ROUTING)`);
    if (r.status === 404) return undefined;
    throw new InvalidInputError(`MailWizz search-by-email answered ${r.status}: ${mailwizzErrorText(r.body)}`);
  }

  /** Creates the subscriber: its uid, or `duplicate` (409), or throws InvalidInputError (422 and the like). */
  async createSubscriber(listUid: string, fields: [string, string][]): Promise<{ uid: string } | 'duplicate'> {
    const r = await this.call('POST', `lists/${encodeURIComponent(listUid)}/subscribers`, { form: fields });
    if ((r.status === 201 || r.status === 200) && r.body.status === 'success') {
      const record = r.body.data?.record as { subscriber_uid?: unknown } | undefined;
      if (typeof record?.subscriber_uid !== 'string') throw new ResponseShapeError('MailWizz create answered success without data.record.subscriber_uid');
      return { uid: record.subscriber_uid };
    }
    if (r.status === 409) return 'duplicate';
    if (r.status === 404 && /list does not exist/i.test(mailwizzErrorText(r.body))) throw new ConfigurationError(`MailWizz has no list ${listUid} (check LEADS_ROUTING)`);
    throw new InvalidInputError(`MailWizz refused the subscriber (${r.status}): ${mailwizzErrorText(r.body)}`);
  }
}

/** The day's quota: `dailyQuota` on the warm-up's first day, `warmupStep` more each day after, at most `maxDailyQuota`. */
export function warmupQuota(config: MailwizzConfig, today: DateTime): number {
  if (!config.warmupStart) return Math.min(config.dailyQuota, config.maxDailyQuota);
  const start = DateTime.fromISO(config.warmupStart, { zone: config.timezone }).startOf('day');
  const days = Math.max(0, Math.floor(today.startOf('day').diff(start, 'days').days));
  return Math.min(config.maxDailyQuota, config.dailyQuota + days * config.warmupStep);
}

export interface SyncBatchResult {
  claimed: number;
  created: number;
  existing: number;
  failed: number;
  rejected: number;
  quota: number;
  /** Pushes left today after this batch. */
  quotaLeft: number;
}

interface ClaimedSync {
  id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  phone: string | null;
  category: string;
  list_uid: string;
  template: string;
  tags: string[];
  sync_attempts: number;
  /** Taken back from a killed attempt that had already sent the create. */
  create_sent: boolean;
}

export interface SyncDeps {
  sql: Sql;
  config: LeadsConfig;
  clock?: () => number;
  /** Called between the search and the create (tests use it to kill a try mid-call). */
  beforeCreate?: (email: string) => void | Promise<void>;
}

/** The batch an activity attempt belongs to: every attempt of one scheduled activity shares it. */
function batchOf(): { claim: string; attempt: number } {
  const info = Context.current().info;
  const run = info.workflowExecution;
  return { claim: `${run?.workflowId ?? 'standalone'}/${run?.runId ?? ''}/${info.activityId}`, attempt: info.attempt };
}

/** Pushes counted today against the quota: subscribers created, and live claims of other batches. */
async function quotaUsed(tx: Sql, dayStart: string, claim: string): Promise<number> {
  const [{ used }] = (await tx`
    select (select count(*) from leads.sync_log where outcome = 'created' and created_at >= ${dayStart}::timestamptz)::int
         + (select count(*) from leads.validated_contacts where sync_status = 'syncing' and sync_claimed_at >= now() - ${STALE_SYNC}::interval
              and sync_claim is distinct from ${claim})::int as used`) as unknown as [{ used: number }];
  return used;
}

function quotaDay(deps: SyncDeps): { quota: number; dayStart: string } {
  const mw = deps.config.mailwizz;
  const clock = deps.clock ?? Date.now;
  const today = DateTime.fromMillis(clock(), { zone: mw.timezone });
  return { quota: warmupQuota(mw, today), dayStart: today.startOf('day').toUTC().toISO()! };
}

async function readyToSync(tx: Sql, mw: MailwizzConfig): Promise<boolean> {
  const [row] = await tx<{ ready: boolean }[]>`
    select exists (select 1 from leads.validated_contacts
                    where sync_attempts < ${mw.maxTries} and sync_status in ('pending', 'failed')
                      and (next_sync_at is null or next_sync_at <= now())) as ready`;
  return row!.ready;
}

async function claim(deps: SyncDeps, limit: number, batch: { claim: string; attempt: number }): Promise<{ rows: ClaimedSync[]; quota: number }> {
  const { sql } = deps;
  const mw = deps.config.mailwizz;
  const { quota, dayStart } = quotaDay(deps);
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('leads.mailwizz.quota'))`;
    // A try whose worker died stays `syncing`: after its last allowed try, it ends failed.
    await tx`update leads.validated_contacts set sync_status = 'failed', last_sync_error = 'the worker stopped during the last try'
              where sync_status = 'syncing' and sync_claimed_at < now() - ${STALE_SYNC}::interval and sync_attempts >= ${mw.maxTries}`;
    if (batch.attempt > 1) {
      const [{ mine }] = (await tx`select count(*)::int as mine from leads.validated_contacts where sync_claim = ${batch.claim}`) as unknown as [{ mine: number }];
      if (mine > 0) {
        // An earlier attempt of this batch claimed contacts and died: the contacts it left mid-push
        // are taken back as they are (the same try goes on), nothing new is claimed.
        const rows = await tx<ClaimedSync[]>`
          update leads.validated_contacts set sync_claimed_at = now()
           where sync_claim = ${batch.claim} and sync_status = 'syncing'
          returning id, email, first_name, last_name, company, phone, category, list_uid, template, tags, sync_attempts,
                    sync_create_sent_at is not null as create_sent`;
        return { rows, quota };
      }
    }
    const used = await quotaUsed(tx as unknown as Sql, dayStart, batch.claim);
    const room = Math.max(0, Math.min(limit, quota - used));
    if (room === 0) {
      // Only a quota that leaves contacts waiting is worth an operator's attention.
      if (limit > 0 && (await readyToSync(tx as unknown as Sql, mw))) mailwizzQuotaExhausted().add(1);
      return { rows: [], quota };
    }
    const rows = await tx<ClaimedSync[]>`
      update leads.validated_contacts v set sync_status = 'syncing', sync_attempts = v.sync_attempts + 1, sync_claimed_at = now(),
             sync_claim = ${batch.claim}, sync_create_sent_at = null
       where v.id in (
         select id from leads.validated_contacts
          where sync_attempts < ${mw.maxTries}
            and ((sync_status in ('pending', 'failed') and (next_sync_at is null or next_sync_at <= now()))
                 or (sync_status = 'syncing' and sync_claimed_at < now() - ${STALE_SYNC}::interval))
          order by id limit ${room} for update skip locked)
      returning v.id, v.email, v.first_name, v.last_name, v.company, v.phone, v.category, v.list_uid, v.template, v.tags, v.sync_attempts,
                false as create_sent`;
    return { rows, quota };
  });
}

async function logAttempt(tx: Sql, c: ClaimedSync, claimKey: string, outcome: string, status: number | null, uid: string | null, error: string | null, started: number): Promise<void> {
  await tx`insert into leads.sync_log (validated_contact_id, email, list_uid, attempt, outcome, http_status, subscriber_uid, error, duration_ms, claim)
            values (${c.id}, ${c.email}, ${c.list_uid}, ${c.sync_attempts}, ${outcome}, ${status}, ${uid}, ${error}, ${Date.now() - started}, ${claimKey})`;
}

function fields(c: ClaimedSync): [string, string][] {
  const f: [string, string][] = [['EMAIL', c.email]];
  if (c.first_name) f.push(['FNAME', c.first_name]);
  if (c.last_name) f.push(['LNAME', c.last_name]);
  if (c.phone) f.push(['PHONE', c.phone]);
  if (c.company) f.push(['COMPANY', c.company]);
  f.push(['CATEGORY', c.category], ['TEMPLATE', c.template], ['TAGS', c.tags.join(',')], ['SOURCE', 'moisson'], ['details[status]', 'confirmed']);
  return f;
}

async function pushOne(deps: SyncDeps, client: MailwizzClient, c: ClaimedSync, claimKey: string): Promise<void> {
  const { sql } = deps;
  const mw = deps.config.mailwizz;
  const started = Date.now();
  try {
    let uid = await client.searchByEmail(c.list_uid, c.email);
    // Found after this very try sent its create (the attempt that sent it died before the answer was
    // written down): the subscriber is the one we created.
    let outcome: 'created' | 'existing' | 'duplicate' = c.create_sent ? 'created' : 'existing';
    if (!uid) {
      await deps.beforeCreate?.(c.email);
      await sql`update leads.validated_contacts set sync_create_sent_at = now() where id = ${c.id}`;
      const created = await client.createSubscriber(c.list_uid, fields(c));
      if (created === 'duplicate') {
        outcome = 'duplicate';
        uid = await client.searchByEmail(c.list_uid, c.email);
        if (!uid) throw new TransientError('server', `MailWizz said ${c.email} already exists in ${c.list_uid} but cannot find it`);
      } else {
        outcome = 'created';
        uid = created.uid;
      }
    }
    // The contact's state and its log row together: a worker killed between them would lose the try's outcome.
    await sql.begin(async (tx) => {
      await tx`update leads.validated_contacts set sync_status = 'synced', subscriber_uid = ${uid}, synced_at = now(), last_sync_error = null where id = ${c.id}`;
      await logAttempt(tx as unknown as Sql, c, claimKey, outcome, outcome === 'created' ? 201 : outcome === 'duplicate' ? 409 : 200, uid, null, started);
    });
  } catch (err) {
    if (err instanceof AuthError || err instanceof ConfigurationError) {
      await logAttempt(sql, c, claimKey, 'failed', null, null, errorMessage(err), started);
      throw err;
    }
    const message = errorMessage(err);
    const delayMs = err instanceof RateLimitedError ? Math.max(err.retryAfterMs, mw.retryDelayMs) : mw.retryDelayMs * 2 ** (c.sync_attempts - 1);
    await sql.begin(async (tx) => {
      await tx`update leads.validated_contacts set sync_status = 'failed', last_sync_error = ${message},
                  sync_attempts = case when ${err instanceof InvalidInputError} then ${mw.maxTries} else sync_attempts end,
                  next_sync_at = now() + make_interval(secs => ${delayMs / 1000}) where id = ${c.id}`;
      await logAttempt(tx as unknown as Sql, c, claimKey, err instanceof InvalidInputError ? 'rejected' : 'failed', null, null, message, started);
    });
    if (!(err instanceof MoissonError)) throw err;
  }
}

/** What the batch did, from the database: the tries of every attempt of this batch, killed ones included. */
async function batchTotals(sql: Sql, claimKey: string): Promise<Omit<SyncBatchResult, 'quota' | 'quotaLeft'>> {
  const [row] = await sql<Omit<SyncBatchResult, 'quota' | 'quotaLeft'>[]>`
    select (select count(*) from leads.validated_contacts where sync_claim = ${claimKey})::int as claimed,
           count(*) filter (where outcome = 'created')::int as created,
           count(*) filter (where outcome in ('existing', 'duplicate'))::int as existing,
           count(*) filter (where outcome = 'failed')::int as failed,
           count(*) filter (where outcome = 'rejected')::int as rejected
      from leads.sync_log where claim = ${claimKey}`;
  return row!;
}

export async function syncMailwizzBatch(deps: SyncDeps, input: { limit?: number } = {}): Promise<SyncBatchResult> {
  const { sql } = deps;
  const mw = deps.config.mailwizz;
  const clock = deps.clock ?? Date.now;
  const client = new MailwizzClient(mw, clock);
  const batch = batchOf();
  const { rows, quota } = await claim(deps, input.limit ?? mw.batch, batch);
  await withHeartbeat(async (progress) => {
    for (let i = 0; i < rows.length; i++) {
      try {
        await pushOne(deps, client, rows[i]!, batch.claim);
      } catch (err) {
        // Credentials or routing are wrong: every contact would fail the same way, none by its own fault. Give the tries back.
        const rest = rows.slice(i).map((r) => r.id);
        if (rest.length) await sql`update leads.validated_contacts set sync_status = 'pending', sync_attempts = sync_attempts - 1, sync_claim = null where id = any(${rest})`;
        throw err;
      }
      progress({ done: i + 1 });
    }
  });
  const totals = await batchTotals(sql, batch.claim);
  // Only new subscribers use the day's quota (an existing one sends nothing more).
  const { dayStart } = quotaDay(deps);
  const quotaLeft = Math.max(0, quota - (await quotaUsed(sql, dayStart, batch.claim)));
  const pushedNow = rows.length ? await sql<{ n: number }[]>`select count(*)::int as n from leads.sync_log where claim = ${batch.claim} and outcome = 'created' and validated_contact_id = any(${rows.map((r) => r.id)})` : [{ n: 0 }];
  items().add(pushedNow[0]!.n, { pipeline: PIPELINE, kind: 'subscriber', result: 'saved' });
  return { ...totals, quota, quotaLeft };
}

/** The MailWizz sync activity, as the worker registers it (see `bindActivities`). */
export const leadsSyncActivities = { syncMailwizzBatch };
