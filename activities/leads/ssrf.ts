/**
 * Custom URLs are user input: without a guard a job could make our workers read the cloud metadata
 * endpoint, the database or anything else on the private network. Only public unicast addresses are
 * contacted, unless the configuration allows a range (CIDR) or one `host:port`. The host is resolved
 * and every address checked before a request; the same check runs again at connect time (the
 * fetcher's `lookup`), so a name that resolves to a public address first and a private one later
 * (DNS rebinding) is refused too; the fetcher calls the guard for each redirect hop.
 */
import { lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidInputError } from '../engine/errors';

/** The target is on a private, loopback, link-local or otherwise non-public network. */
export class SsrfRefusedError extends InvalidInputError {}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface SsrfGuard {
  /** Throws SsrfRefusedError when the URL's host is, or resolves to, a refused address. */
  check(url: URL): Promise<void>;
  /** For the fetcher's connections: resolves and refuses the same way. */
  lookup: LookupFunction;
}

interface Allowed {
  cidrs: [Address, number][];
  /** `host:port`, host lower case, IPv6 without brackets. */
  hostPorts: Set<string>;
  hosts: Set<string>;
}

function parseAllow(entries: readonly string[]): Allowed {
  const allowed: Allowed = { cidrs: [], hostPorts: new Set(), hosts: new Set() };
  for (const entry of entries) {
    if (entry.includes('/')) {
      allowed.cidrs.push(ipaddr.parseCIDR(entry));
      continue;
    }
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(entry);
    if (!m) throw new InvalidInputError(`LEADS_SSRF_ALLOW entry '${entry}' is neither a CIDR nor host:port`);
    allowed.hostPorts.add(`${m[1]!.toLowerCase()}:${m[2]}`);
    allowed.hosts.add(m[1]!.toLowerCase());
  }
  return allowed;
}

function normalize(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** Why an address is refused, or undefined for a public unicast one. */
export function refusedRange(raw: string): string | undefined {
  let address: Address;
  try {
    address = normalize(ipaddr.parse(raw));
  } catch {
    return 'unparseable address';
  }
  const range = address.range();
  return range === 'unicast' ? undefined : range;
}

function inAllowedCidr(address: Address, allowed: Allowed): boolean {
  return allowed.cidrs.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

export function createSsrfGuard(allowEntries: readonly string[] = []): SsrfGuard {
  const allowed = parseAllow(allowEntries);

  function verdict(ip: string, hostPortAllowed: boolean): string | undefined {
    const range = refusedRange(ip);
    if (range === undefined || hostPortAllowed) return undefined;
    const address = normalize(ipaddr.parse(ip));
    return inAllowedCidr(address, allowed) ? undefined : range;
  }

  async function check(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const hostPortAllowed = allowed.hostPorts.has(`${host}:${defaultPort(url)}`);
    let addresses: string[];
    if (ipaddr.isValid(host)) {
      addresses = [host];
    } else {
      try {
        addresses = (await dnsLookupAsync(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch (err) {
        throw new SsrfRefusedError(`cannot resolve ${host}: ${(err as Error).message}`, { url: url.toString(), host });
      }
    }
    for (const ip of addresses) {
      const refused = verdict(ip, hostPortAllowed);
      if (refused) {
        throw new SsrfRefusedError(`refusing ${url.protocol}//${url.host}: ${host === ip ? '' : `${host} resolves to `}${ip}, a ${refused} address (LEADS_SSRF_ALLOW to allow it)`, {
          url: url.toString(),
          host,
          address: ip,
          range: refused,
        });
      }
    }
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    const host = hostname.toLowerCase();
    dnsLookup(hostname, { ...options, all: true }, (err, results) => {
      if (err) return (callback as (e: Error | null, a: string, f?: number) => void)(err, '', undefined);
      const list = results as unknown as { address: string; family: number }[];
      // A name allowed on some port passed `check` for its port; the port is not known here.
      const bad = list.map((a) => ({ a, refused: verdict(a.address, allowed.hosts.has(host)) })).find((x) => x.refused);
      if (bad) {
        const e = new SsrfRefusedError(`refusing to connect to ${hostname}: it resolves to ${bad.a.address}, a ${bad.refused} address`) as Error & { code?: string };
        e.code = 'ESSRF';
        return (callback as (e: Error | null, a: string, f?: number) => void)(e, '', undefined);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0]!;
      (callback as (e: null, a: string, f: number) => void)(null, first.address, first.family);
    });
  };

  return { check, lookup };
}
