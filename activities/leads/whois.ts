/**
 * Domain registration data on demand, over RDAP (RFC 9083, the JSON successor of WHOIS): registrar,
 * creation and expiry dates, name servers, status. Answers, "not found" included, are cached in
 * leads.whois_cache for LEADS_WHOIS_CACHE_DAYS so a domain is asked once per period.
 */
import type { Sql } from 'postgres';
import { errorMessage, NotAvailableError, ResponseShapeError } from '../engine/errors';
import type { Fetcher } from '../engine/fetcher';

export interface WhoisRecord {
  domain: string;
  found: boolean;
  registrar: string | null;
  registeredAt: string | null;
  expiresOn: string | null;
  nameservers: string[];
  status: string[];
  cached: boolean;
}

interface RdapDomain {
  objectClassName?: string;
  ldhName?: string;
  status?: string[];
  events?: { eventAction?: string; eventDate?: string }[];
  entities?: { roles?: string[]; vcardArray?: [string, [string, unknown, string, unknown][]] }[];
  nameservers?: { ldhName?: string }[];
}

export function parseRdap(domain: string, body: unknown): Omit<WhoisRecord, 'cached'> {
  const rdap = body as RdapDomain;
  if (!rdap || typeof rdap !== 'object' || rdap.objectClassName !== 'domain') {
    throw new ResponseShapeError(`the RDAP answer for ${domain} is not a domain object`);
  }
  const event = (action: string) => rdap.events?.find((e) => e.eventAction === action)?.eventDate ?? null;
  const registrar = rdap.entities?.find((e) => e.roles?.includes('registrar'));
  const fn = registrar?.vcardArray?.[1]?.find((entry) => entry[0] === 'fn')?.[3];
  return {
    domain,
    found: true,
    registrar: typeof fn === 'string' ? fn : null,
    registeredAt: event('registration'),
    expiresOn: event('expiration'),
    nameservers: (rdap.nameservers ?? []).map((n) => n.ldhName?.toLowerCase()).filter((n): n is string => Boolean(n)),
    status: rdap.status ?? [],
  };
}

export async function lookupWhois(deps: { sql: Sql; fetcher: Fetcher; rdapUrl: string; cacheDays: number }, rawDomain: string): Promise<WhoisRecord> {
  const domain = rawDomain.trim().toLowerCase().replace(/\.$/, '');
  const [hit] = await deps.sql<{ found: boolean; registrar: string | null; registered_at: Date | null; expires_on: Date | null; nameservers: string[]; status: string[] }[]>`
    select found, registrar, registered_at, expires_on, nameservers, status from leads.whois_cache where domain = ${domain} and expires_at > now()`;
  if (hit) {
    return {
      domain,
      found: hit.found,
      registrar: hit.registrar,
      registeredAt: hit.registered_at ? new Date(hit.registered_at).toISOString() : null,
      expiresOn: hit.expires_on ? new Date(hit.expires_on).toISOString() : null,
      nameservers: hit.nameservers,
      status: hit.status,
      cached: true,
    };
  }
  let record: Omit<WhoisRecord, 'cached'>;
  let raw: unknown = null;
  try {
    const res = await deps.fetcher.get(`${deps.rdapUrl.replace(/\/$/, '')}/domain/${encodeURIComponent(domain)}`, {
      headers: { accept: 'application/rdap+json, application/json' },
    });
    try {
      raw = JSON.parse(res.text());
    } catch (err) {
      throw new ResponseShapeError(`the RDAP answer for ${domain} is not JSON: ${errorMessage(err)}`);
    }
    record = parseRdap(domain, raw);
  } catch (err) {
    if (!(err instanceof NotAvailableError)) throw err;
    record = { domain, found: false, registrar: null, registeredAt: null, expiresOn: null, nameservers: [], status: [] };
  }
  await deps.sql`
    insert into leads.whois_cache (domain, found, registrar, registered_at, expires_on, nameservers, status, raw, fetched_at, expires_at)
    values (${domain}, ${record.found}, ${record.registrar}, ${record.registeredAt}, ${record.expiresOn}, ${JSON.stringify(record.nameservers)}::jsonb,
            ${JSON.stringify(record.status)}::jsonb, ${raw === null ? null : JSON.stringify(raw)}::jsonb, now(), now() + make_interval(days => ${deps.cacheDays}))
    on conflict (domain) do update set found = excluded.found, registrar = excluded.registrar, registered_at = excluded.registered_at,
      expires_on = excluded.expires_on, nameservers = excluded.nameservers, status = excluded.status, raw = excluded.raw,
      fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`;
  return { ...record, cached: false };
}
