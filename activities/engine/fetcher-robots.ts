/**
 * robots.txt per origin, fetched once and cached, read the way RFC 9309 says:
 * - 2xx: the rules (the first 500 KiB); an HTML page served as robots.txt means there is none;
 * - a redirect to something that is not a robots.txt (the portal sends its robots.txt to a page): none;
 * - 4xx: none, everything allowed;
 * - 5xx, 429 or unreachable: assume everything is disallowed for a while, keeping an older copy if
 *   we have one (§2.3.1.3–4).
 */
import robotsParser from 'robots-parser';
import { type Clock, systemClock } from './politeness';

export interface RobotsSettings {
  /** How long a fetched robots.txt is trusted; RFC 9309 says no more than 24 h. */
  ttlMs: number;
  /** How long an unreachable robots.txt keeps the origin closed before it is tried again. */
  unavailableMs: number;
  /** Crawl-delay above this is capped: a huge value would stall a crawl without telling anyone. */
  maxCrawlDelayMs: number;
}

export const DEFAULT_ROBOTS: RobotsSettings = { ttlMs: 24 * 3600_000, unavailableMs: 10 * 60_000, maxCrawlDelayMs: 60_000 };

/** RFC 9309 §2.5: parse at least the first 500 KiB. */
export const ROBOTS_MAX_BYTES = 500 * 1024;
const MAX_REDIRECTS = 5;

/** One hop, no redirect following; throws on network failure. */
export type RobotsTransport = (url: string) => Promise<{ status: number; location: string | null; contentType: string | null; body: string }>;

type Robot = ReturnType<typeof robotsParser>;

type Policy =
  | { kind: 'none'; why: string }
  | { kind: 'rules'; robot: Robot }
  | { kind: 'unavailable'; why: string; previous: Robot | undefined };

interface Entry {
  policy: Policy;
  expiresAt: number;
}

export type RobotsVerdict =
  | { allowed: true; crawlDelayMs: number | undefined }
  | { allowed: false; reason: 'disallowed' }
  | { allowed: false; reason: 'unavailable'; why: string; retryAfterMs: number };

export class RobotsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();

  constructor(
    private readonly transport: RobotsTransport,
    /** The product token of our User-Agent (`moisson`), what robots.txt groups are matched against. */
    private readonly agent: string,
    private readonly settings: RobotsSettings = DEFAULT_ROBOTS,
    private readonly clock: Clock = systemClock,
  ) {}

  async check(url: URL): Promise<RobotsVerdict> {
    const entry = await this.entry(url.origin);
    const { policy } = entry;
    const robot = policy.kind === 'rules' ? policy.robot : policy.kind === 'unavailable' ? policy.previous : undefined;
    if (policy.kind === 'unavailable' && !robot) {
      return { allowed: false, reason: 'unavailable', why: policy.why, retryAfterMs: Math.max(0, entry.expiresAt - this.clock.now()) };
    }
    if (!robot) return { allowed: true, crawlDelayMs: undefined };
    // robots-parser answers undefined for a URL of another origin; ours are always the same origin.
    if (robot.isAllowed(url.toString(), this.agent) === false) return { allowed: false, reason: 'disallowed' };
    const delay = robot.getCrawlDelay(this.agent);
    return { allowed: true, crawlDelayMs: delay === undefined ? undefined : Math.min(delay * 1000, this.settings.maxCrawlDelayMs) };
  }

  private async entry(origin: string): Promise<Entry> {
    const cached = this.entries.get(origin);
    if (cached && cached.expiresAt > this.clock.now()) return cached;
    let pending = this.loading.get(origin);
    if (!pending) {
      pending = this.load(origin, cached?.policy).finally(() => this.loading.delete(origin));
      this.loading.set(origin, pending);
    }
    return pending;
  }

  private async load(origin: string, stale: Policy | undefined): Promise<Entry> {
    const policy = await this.fetchPolicy(origin, stale);
    const ttl = policy.kind === 'unavailable' ? this.settings.unavailableMs : this.settings.ttlMs;
    const entry = { policy, expiresAt: this.clock.now() + ttl };
    this.entries.set(origin, entry);
    return entry;
  }

  private async fetchPolicy(origin: string, stale: Policy | undefined): Promise<Policy> {
    const robotsUrl = `${origin}/robots.txt`;
    const previous = stale?.kind === 'rules' ? stale.robot : stale?.kind === 'unavailable' ? stale.previous : undefined;
    let target = robotsUrl;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      let res: Awaited<ReturnType<RobotsTransport>>;
      try {
        res = await this.transport(target);
      } catch (err) {
        return { kind: 'unavailable', why: `robots.txt unreachable: ${err instanceof Error ? err.message : String(err)}`, previous };
      }
      if (res.status >= 300 && res.status < 400 && res.location) {
        const next = new URL(res.location, target);
        if (next.pathname !== '/robots.txt') return { kind: 'none', why: `robots.txt redirects to ${next.pathname}, not a robots.txt` };
        target = next.toString();
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        if (looksLikeHtml(res.contentType, res.body)) return { kind: 'none', why: 'robots.txt is an HTML page' };
        // Rules are read against the origin asked for, even when a redirect fetched them elsewhere.
        return { kind: 'rules', robot: robotsParser(robotsUrl, res.body) };
      }
      if (res.status === 429 || res.status >= 500) return { kind: 'unavailable', why: `robots.txt answered ${res.status}`, previous };
      if (res.status >= 400) return { kind: 'none', why: `robots.txt answered ${res.status}` };
      return { kind: 'none', why: `robots.txt answered ${res.status}` };
    }
    return { kind: 'none', why: `robots.txt redirects more than ${MAX_REDIRECTS} times` };
  }
}

function looksLikeHtml(contentType: string | null, body: string): boolean {
  if (contentType && /\bhtml\b/i.test(contentType)) return true;
  return /^\s*(<!doctype html|<html[\s>])/i.test(body);
}

/** `moisson/0.1 (+https://…)` → `moisson`. */
export function productToken(userAgent: string): string {
  return /^[^\s/]+/.exec(userAgent.trim())?.[0] ?? userAgent;
}
