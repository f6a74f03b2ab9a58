/**
 * Validation of scraped contacts, in claimed batches (`FOR UPDATE SKIP LOCKED`: two workers never
 * take the same contact; a claim older than 15 minutes, left by a dead worker, is taken again).
 * Checks, cheapest first: syntax, role/no-reply prefixes, disposable domains (mailchecker's list),
 * the bounce blacklist, then MX records (node:dns, cached LEADS_MX_CACHE_DAYS in leads.mx_cache).
 * A valid contact is categorized by keyword scores and routed to a MailWizz list by configuration.
 */
import { randomUUID } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type MailChecker from 'mailchecker';
import type { Sql } from 'postgres';
import type { LeadsConfig, LeadsRoute } from '../../schema/config';
import { withHeartbeat } from '../engine/heartbeat';
import { items } from '../engine/metrics';
import { idleReleased } from '../engine/idle-release';

const PIPELINE = 'leads';
const STALE_CLAIM = '15 minutes';

export type Verdict =
  | { ok: true; mxHosts: string[] }
  | { ok: false; reason: 'syntax' | 'role' | 'disposable' | 'blacklisted' | 'no_mx'; detail: string }
  | { ok: 'later'; detail: string };

const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** RFC 5321/5322 as mail systems actually accept: dot-atom local part, LDH labels, an alphabetic TLD. */
export function syntaxProblem(email: string): string | undefined {
  if (email.length > 254) return 'longer than 254 characters';
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return 'no local part or domain';
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local.length > 64) return 'local part longer than 64 characters';
  if (!LOCAL.test(local)) return `local part '${local}' is not a valid dot-atom (dots at an end or two in a row, or a forbidden character)`;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return `domain '${domain}' is not a valid host name`;
  if (!/^[a-z]{2,24}$|^xn--[a-z0-9-]+$/.test(labels.at(-1)!)) return `'${labels.at(-1)}' is not a top-level domain`;
  return undefined;
}

// mailchecker's list (~55k domains, ~5 MB of heap once a Set) is loaded on the first check, not in every
// worker process that imports this module, and let go 30 s after the last one.
export const disposableDomains = idleReleased('mailchecker', (exports) => new Set([...(exports as typeof MailChecker).blacklist()].map((d) => d.toLowerCase())));
const disposable = (): Set<string> => disposableDomains.get();

export function isDisposable(domain: string): boolean {
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) if (disposable().has(labels.slice(i).join('.'))) return true;
  return false;
}

export function isRole(local: string, prefixes: readonly string[]): boolean {
  const base = local.split('+')[0]!.toLowerCase();
  return prefixes.some((p) => base === p || base.startsWith(`${p}.`) || base.startsWith(`${p}-`) || base.startsWith(`${p}_`)) || /^no-?reply|^do-?not-?reply/.test(base);
}

export function categorize(text: string, categories: Record<string, string[]>): { category: string; scores: Record<string, number> } {
  const haystack = ` ${text.toLowerCase()} `;
  const scores: Record<string, number> = {};
  let best = 'general';
  let bestScore = 0;
  for (const [category, words] of Object.entries(categories)) {
    let score = 0;
    for (const word of words) {
      const w = word.toLowerCase();
      let from = 0;
      for (;;) {
        const i = haystack.indexOf(w, from);
        if (i < 0) break;
        score++;
        from = i + w.length;
      }
    }
    if (score > 0) scores[category] = score;
    if (score > bestScore) {
      best = category;
      bestScore = score;
    }
  }
  return { category: best, scores };
}

export function routeFor(category: string, routing: LeadsConfig['routing']): LeadsRoute {
  return routing.categories[category] ?? routing.default;
}

/** `claire.martin@` → Claire / Martin; anything else gives no name rather than a wrong one. */
export function namesFromEmail(local: string): { first: string | null; last: string | null } {
  const m = /^([a-z]{2,})[._-]([a-z]{2,})$/.exec(local.toLowerCase());
  if (!m) return { first: null, last: null };
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  return { first: cap(m[1]!), last: cap(m[2]!) };
}

export interface MxChecker {
  /** `ok` with hosts, `none`, or `later` (the DNS could not say: timeout, SERVFAIL, refused). */
  check(domain: string): Promise<{ verdict: 'ok'; hosts: string[] } | { verdict: 'none'; detail: string } | { verdict: 'later'; detail: string }>;
}

export function createMxChecker(sql: Sql, config: Pick<LeadsConfig, 'dnsServers' | 'mxCacheDays'>): MxChecker {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (config.dnsServers.length > 0) resolver.setServers(config.dnsServers);
  return {
    async check(domain) {
      const [hit] = await sql<{ verdict: 'ok' | 'none'; hosts: string[] }[]>`select verdict, hosts from leads.mx_cache where domain = ${domain} and expires_at > now()`;
      if (hit) return hit.verdict === 'ok' ? { verdict: 'ok', hosts: hit.hosts } : { verdict: 'none', detail: `${domain} has no MX record (cached)` };
      let verdict: 'ok' | 'none';
      let hosts: string[] = [];
      try {
        const records = await resolver.resolveMx(domain);
        hosts = records.sort((a, b) => a.priority - b.priority).map((r) => r.exchange.toLowerCase()).filter((h) => h && h !== '.');
        // A null MX (RFC 7505: a single "." exchange) says the domain accepts no mail.
        verdict = hosts.length > 0 ? 'ok' : 'none';
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'ENOTFOUND' && code !== 'ENODATA') return { verdict: 'later', detail: `MX lookup for ${domain} failed (${code ?? String(err)})` };
        verdict = 'none';
      }
      await sql`
        insert into leads.mx_cache (domain, verdict, hosts, checked_at, expires_at)
        values (${domain}, ${verdict}, ${JSON.stringify(hosts)}::jsonb, now(), now() + make_interval(days => ${config.mxCacheDays}))
        on conflict (domain) do update set verdict = excluded.verdict, hosts = excluded.hosts, checked_at = excluded.checked_at, expires_at = excluded.expires_at`;
      return verdict === 'ok' ? { verdict, hosts } : { verdict, detail: `${domain} has no MX record` };
    },
  };
}

export interface ValidateBatchResult {
  claimed: number;
  valid: number;
  invalid: number;
  duplicate: number;
  /** Put back for a later run (the DNS could not answer). */
  deferred: number;
  reasons: Record<string, number>;
}

interface ClaimedContact {
  id: number;
  job_id: string;
  email: string;
  name: string | null;
  company: string | null;
  phones: string[];
  domain: string | null;
  source_url: string;
  hints: string | null;
}

export interface ValidateDeps {
  sql: Sql;
  config: LeadsConfig;
  mx?: MxChecker;
}

async function blacklisted(sql: Sql, config: LeadsConfig, domains: string[]): Promise<Map<string, string>> {
  const rows = await sql<{ domain: string; sent: number; bounced: number; manual_reason: string | null }[]>`
    select domain, sent, bounced, manual_reason from leads.domain_blacklist where domain = any(${domains})`;
  const out = new Map<string, string>();
  for (const r of rows) {
    if (r.manual_reason) out.set(r.domain, `blocked: ${r.manual_reason}`);
    else if (r.sent >= config.bounceMinSent && r.bounced / r.sent > config.bounceRateThreshold) {
      out.set(r.domain, `bounce rate ${((100 * r.bounced) / r.sent).toFixed(1)}% over ${(100 * config.bounceRateThreshold).toFixed(0)}% (${r.bounced}/${r.sent})`);
    }
  }
  return out;
}

async function verdictFor(config: LeadsConfig, c: ClaimedContact, black: Map<string, string>, mxOf: (d: string) => ReturnType<MxChecker['check']>): Promise<Verdict> {
  const email = c.email.trim().toLowerCase();
  const syntax = syntaxProblem(email);
  if (syntax) return { ok: false, reason: 'syntax', detail: syntax };
  const [local, domain] = [email.slice(0, email.lastIndexOf('@')), email.slice(email.lastIndexOf('@') + 1)];
  if (isRole(local, config.rolePrefixes)) return { ok: false, reason: 'role', detail: `'${local}@' is a role or no-reply address` };
  if (isDisposable(domain)) return { ok: false, reason: 'disposable', detail: `${domain} is a disposable-address provider` };
  const black1 = black.get(domain);
  if (black1) return { ok: false, reason: 'blacklisted', detail: `${domain} ${black1}` };
  const r = await mxOf(domain);
  if (r.verdict === 'later') return { ok: 'later', detail: r.detail };
  if (r.verdict === 'none') return { ok: false, reason: 'no_mx', detail: r.detail };
  return { ok: true, mxHosts: r.hosts };
}

export async function validateLeadsBatch(deps: ValidateDeps, input: { limit?: number } = {}): Promise<ValidateBatchResult> {
  const { sql, config } = deps;
  const mx = deps.mx ?? createMxChecker(sql, config);
  const token = randomUUID();
  const limit = input.limit ?? config.validateBatch;
  const claimed = await sql<ClaimedContact[]>`
    update leads.scraped_contacts c set status = 'validating', claim_token = ${token}, claimed_at = now()
     where c.id in (
       select id from leads.scraped_contacts
        where (status = 'new' or (status = 'validating' and claimed_at < now() - ${STALE_CLAIM}::interval)) and email is not null
        order by id limit ${limit} for update skip locked)
    returning c.id, c.job_id, c.email, c.name, c.company, c.phones, c.domain, c.source_url, c.hints`;
  const result: ValidateBatchResult = { claimed: claimed.length, valid: 0, invalid: 0, duplicate: 0, deferred: 0, reasons: {} };
  if (claimed.length === 0) return result;
  const domains = [...new Set(claimed.map((c) => c.email.slice(c.email.lastIndexOf('@') + 1).toLowerCase()))];
  const black = await blacklisted(sql, config, domains);
  // One lookup per domain per batch, whatever the number of its contacts.
  const lookups = new Map<string, ReturnType<MxChecker['check']>>();
  // The warm part of the cache in one query rather than one per domain.
  const cached = await sql<{ domain: string; verdict: 'ok' | 'none'; hosts: string[] }[]>`
    select domain, verdict, hosts from leads.mx_cache where domain = any(${domains}) and expires_at > now()`;
  for (const c of cached) {
    lookups.set(c.domain, Promise.resolve(c.verdict === 'ok' ? { verdict: 'ok' as const, hosts: c.hosts } : { verdict: 'none' as const, detail: `${c.domain} has no MX record (cached)` }));
  }
  const mxOf = (d: string) => {
    let p = lookups.get(d);
    if (!p) lookups.set(d, (p = mx.check(d)));
    return p;
  };
  const verdicts: Verdict[] = new Array(claimed.length);
  await withHeartbeat(async (progress) => {
    let next = 0;
    let done = 0;
    const lanes = Array.from({ length: Math.min(8, claimed.length) }, async () => {
      while (next < claimed.length) {
        const i = next++;
        verdicts[i] = await verdictFor(config, claimed[i]!, black, mxOf);
        progress({ done: ++done });
      }
    });
    await Promise.all(lanes);
  });
  await settle(sql, config, claimed, verdicts, token, result);
  items().add(result.valid, { pipeline: PIPELINE, kind: 'contact', result: 'valid' });
  items().add(result.invalid, { pipeline: PIPELINE, kind: 'contact', result: 'invalid' });
  return result;
}

/** The whole batch's outcome in one transaction, a few set-based statements whatever its size. */
async function settle(sql: Sql, config: LeadsConfig, claimed: ClaimedContact[], verdicts: Verdict[], token: string, result: ValidateBatchResult): Promise<void> {
  const deferred: { id: number; reason: string }[] = [];
  const invalid: { id: number; reason: string }[] = [];
  const valid: Record<string, unknown>[] = [];
  claimed.forEach((c, i) => {
    const verdict = verdicts[i]!;
    if (verdict.ok === 'later') {
      deferred.push({ id: c.id, reason: verdict.detail });
      return;
    }
    if (verdict.ok === false) {
      invalid.push({ id: c.id, reason: `${verdict.reason}: ${verdict.detail}` });
      result.reasons[verdict.reason] = (result.reasons[verdict.reason] ?? 0) + 1;
      return;
    }
    const email = c.email.trim().toLowerCase();
    const domain = email.slice(email.lastIndexOf('@') + 1);
    const { category, scores } = categorize([c.hints, c.company, c.name, domain, c.source_url].filter(Boolean).join(' '), config.categories);
    const route = routeFor(category, config.routing);
    const names = namesFromEmail(email.slice(0, email.lastIndexOf('@')));
    valid.push({
      email,
      scraped_contact_id: c.id,
      job_id: c.job_id,
      first_name: names.first,
      last_name: names.last,
      company: c.company,
      phone: c.phones[0] ?? null,
      domain,
      category,
      category_scores: scores,
      platform: route.platform,
      list_uid: route.listUid,
      template: route.template,
      tags: route.tags,
      mx_hosts: verdict.mxHosts,
    });
  });
  await sql.begin(async (tx) => {
    if (deferred.length) {
      await tx`update leads.scraped_contacts c set status = 'new', claim_token = null, claimed_at = null, reason = d.reason
                 from jsonb_to_recordset(${JSON.stringify(deferred)}::jsonb) as d(id bigint, reason text)
                where c.id = d.id and c.claim_token = ${token}`;
    }
    if (invalid.length) {
      await tx`update leads.scraped_contacts c set status = 'invalid', reason = d.reason, validated_at = now(), claim_token = null
                 from jsonb_to_recordset(${JSON.stringify(invalid)}::jsonb) as d(id bigint, reason text)
                where c.id = d.id and c.claim_token = ${token}`;
    }
    if (valid.length) {
      // One email, one validated contact: the first claimed wins, the others (same batch or earlier) are duplicates.
      const inserted = await tx<{ scraped_contact_id: number }[]>`
        insert into leads.validated_contacts (email, scraped_contact_id, job_id, first_name, last_name, company, phone, domain, category,
               category_scores, platform, list_uid, template, tags, mx_hosts)
        select email, scraped_contact_id, job_id, first_name, last_name, company, phone, domain, category, category_scores, platform,
               list_uid, template, tags, mx_hosts
          from jsonb_to_recordset(${JSON.stringify(valid)}::jsonb) as v(email text, scraped_contact_id bigint, job_id text, first_name text,
               last_name text, company text, phone text, domain text, category text, category_scores jsonb, platform text, list_uid text,
               template text, tags jsonb, mx_hosts jsonb)
         order by scraped_contact_id
        on conflict (email) do nothing returning scraped_contact_id`;
      const won = inserted.map((r) => Number(r.scraped_contact_id));
      const ids = valid.map((v) => v.scraped_contact_id as number);
      await tx`update leads.scraped_contacts set
                 status = case when id = any(${won}::bigint[]) then 'valid' else 'duplicate' end,
                 reason = case when id = any(${won}::bigint[]) then null else 'already validated (found by another job or page)' end,
                 validated_at = now(), claim_token = null
               where id = any(${ids}::bigint[]) and claim_token = ${token}`;
      result.valid += won.length;
      result.duplicate += ids.length - won.length;
    }
  });
  result.deferred += deferred.length;
  result.invalid += invalid.length;
}

/** The validation activity, as the worker registers it (see `bindActivities`). */
export const leadsValidateActivities = { validateLeadsBatch };
