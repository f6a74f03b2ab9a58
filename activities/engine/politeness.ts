/**
 * Per-host politeness for one process: how many requests a host may have in flight, how fast they may
 * start, how long to pause after each response, and when to stop contacting a host that blocks us.
 * All of it is shared by every session of a fetcher, since a site sees our sessions as one visitor.
 *
 * Time comes from an injectable `Clock` so the spacing rules can be tested without real waiting.
 * This limiter holds within one process only; `FleetHostLimiter` (host-budget.ts) makes the same
 * budget one for every worker process, through PostgreSQL.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** In [0, 1): draws the random pause. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await sleepFor(ms, undefined, signal ? { signal } : undefined);
    } catch (err) {
      // The caller's own reason (e.g. the activity's cancellation), not a generic AbortError.
      throw signal?.aborted ? signal.reason : err;
    }
  },
  random: () => Math.random(),
};

export interface HostPoliteness {
  /** Requests in flight at once to the host; 0 = no limit. */
  maxConcurrent: number;
  /** Request starts per second (start-to-start spacing of 1/rate); 0 = no limit. */
  ratePerSecond: number;
  /**
   * A random pause, drawn in [min, max] ms, between the end of the previous response from the host
   * and the next request: measured from the end so that a slow postback is not followed at once by
   * another one. [0, 0] = none.
   */
  delayMs: readonly [number, number];
}

/** DESIGN §3.1: one request at a time, 0.5 req/s, a random 2–5 s pause. */
export const DEFAULT_POLITENESS: HostPoliteness = { maxConcurrent: 1, ratePerSecond: 0.5, delayMs: [2000, 5000] };
export const NO_POLITENESS: HostPoliteness = { maxConcurrent: 0, ratePerSecond: 0, delayMs: [0, 0] };

/**
 * The settings for each host: the base (or none at all when politeness is off) with per-host overrides.
 * Overrides are keyed by host (`www.example.org`, or `example.org:8080` when a port is explicit).
 */
export function politenessResolver(
  base: false | Partial<HostPoliteness> | undefined,
  hosts: Record<string, Partial<HostPoliteness>> = {},
): (host: string) => HostPoliteness {
  const defaults = base === false ? NO_POLITENESS : { ...DEFAULT_POLITENESS, ...base };
  const byHost = new Map(Object.entries(hosts).map(([host, o]) => [host.toLowerCase(), validate({ ...defaults, ...o }, host)]));
  validate(defaults, 'default');
  return (host) => byHost.get(host.toLowerCase()) ?? defaults;
}

function validate(p: HostPoliteness, where: string): HostPoliteness {
  const [min, max] = p.delayMs;
  const ok =
    Number.isInteger(p.maxConcurrent) && p.maxConcurrent >= 0 && Number.isFinite(p.ratePerSecond) && p.ratePerSecond >= 0 && min >= 0 && max >= min;
  if (!ok) throw new RangeError(`invalid politeness for ${where}: ${JSON.stringify(p)}`);
  return p;
}

interface HostState {
  active: number;
  /** Callers waiting for a slot, first come first served. */
  waiting: Array<{ grant: () => void }>;
  /** Serialises the start-time computation: two slot holders must never start from the same `lastStart`. */
  gate: Promise<void>;
  lastStart: number | undefined;
  lastEnd: number | undefined;
  /** Spacing imposed from outside, e.g. a robots.txt Crawl-delay; the larger of it and 1/rate wins. */
  floorIntervalMs: number;
}

/** How a turn ended: `sent: false` when no request left (the pause is not owed); a cool-down the answer asked for. */
export interface TurnOutcome {
  sent?: boolean;
  /** A 429's Retry-After (or a 503's): nobody sharing the budget starts a request to the host before it has passed. */
  holdOffMs?: number;
  /**
   * When the request really left (this process's clock): a busy event loop may send it well after its
   * turn was granted, and the next turn is then counted from the send.
   */
  startedAt?: number;
}

export type Release = (outcome?: TurnOutcome) => void | Promise<void>;

/** What the fetcher takes its turns from: this process's `HostLimiter`, or the fleet's (host-budget.ts). */
export interface HostTurns {
  /** `leaseMs`: how long the request may take at most (a shared budget lets a dead holder's turn lapse after it). */
  acquire(host: string, signal?: AbortSignal, leaseMs?: number): Promise<Release>;
  setFloorInterval(host: string, ms: number): void;
  /** A cool-down for everyone sharing the budget (a block seen outside a turn's release). */
  holdOff?(host: string, ms: number): Promise<void>;
}

export class HostLimiter implements HostTurns {
  private readonly hosts = new Map<string, HostState>();
  private acquisitions = 0;

  constructor(
    private readonly settingsFor: (host: string) => HostPoliteness,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Waits for the host's turn. The caller must call the returned function once the response has been
   * read completely (or has failed): that moment starts the pause before the next request.
   */
  async acquire(host: string, signal?: AbortSignal): Promise<Release> {
    const settings = this.settingsFor(host);
    const state = this.state(host);
    if (++this.acquisitions % 1000 === 0) this.sweep();
    await this.takeSlot(state, settings, signal);
    let released = false;
    const release = (outcome: TurnOutcome = {}) => {
      if (released) return;
      released = true;
      if (outcome.sent !== false) state.lastEnd = this.clock.now();
      const next = state.waiting.shift();
      // The slot passes straight to the next waiter: were `active` to dip first, a newcomer could jump the queue.
      if (next) next.grant();
      else state.active--;
    };
    const turn = state.gate.then(() => this.waitForSpacing(state, settings, signal));
    state.gate = turn.catch(() => undefined);
    try {
      await turn;
    } catch (err) {
      release({ sent: false });
      throw err;
    }
    return release;
  }

  setFloorInterval(host: string, ms: number): void {
    this.state(host).floorIntervalMs = Math.max(0, ms);
  }

  private state(host: string): HostState {
    const key = host.toLowerCase();
    let s = this.hosts.get(key);
    if (!s) {
      s = { active: 0, waiting: [], gate: Promise.resolve(), lastStart: undefined, lastEnd: undefined, floorIntervalMs: 0 };
      this.hosts.set(key, s);
    }
    return s;
  }

  private takeSlot(state: HostState, settings: HostPoliteness, signal?: AbortSignal): Promise<void> {
    if (settings.maxConcurrent === 0 || state.active < settings.maxConcurrent) {
      state.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = state.waiting.indexOf(waiter);
        if (i >= 0) state.waiting.splice(i, 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      state.waiting.push(waiter);
    });
  }

  private async waitForSpacing(state: HostState, settings: HostPoliteness, signal?: AbortSignal): Promise<void> {
    const interval = Math.max(settings.ratePerSecond > 0 ? 1000 / settings.ratePerSecond : 0, state.floorIntervalMs);
    const [min, max] = settings.delayMs;
    const pause = min + (max - min) * this.clock.random();
    // A loop, not one sleep: a request in flight may end while we sleep and push `lastEnd` later.
    for (;;) {
      const now = this.clock.now();
      const due = Math.max(
        state.lastStart === undefined ? now : state.lastStart + interval,
        state.lastEnd === undefined ? now : state.lastEnd + pause,
      );
      if (due <= now) break;
      await this.clock.sleep(due - now, signal);
    }
    state.lastStart = this.clock.now();
  }

  /** Forgets hosts idle for a while, so a crawl over many domains does not grow this map for ever. */
  private sweep(): void {
    const horizon = this.clock.now() - 10 * 60_000;
    for (const [host, s] of this.hosts) {
      if (s.active === 0 && s.waiting.length === 0 && (s.lastEnd ?? 0) < horizon && s.floorIntervalMs === 0) this.hosts.delete(host);
    }
  }
}

export interface BreakerSettings {
  /** Consecutive 403/429 (or classified blocks) that open the breaker; 0 = never. */
  threshold: number;
  /** How long an open breaker refuses requests before letting one through again. */
  coolDownMs: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { threshold: 5, coolDownMs: 10 * 60_000 };

export type Admission =
  | { state: 'open'; untilMs: number; blocks: number }
  | { state: 'retry-after'; untilMs: number }
  | undefined;

interface GuardState {
  consecutiveBlocks: number;
  openUntil: number;
  retryAfterUntil: number;
}

/**
 * Stops a crawl from hammering a host that blocks it: after `threshold` consecutive blocks, requests
 * to the host fail at once until the cool-down has passed; then requests go through again, and one
 * more block reopens the breaker straight away (the count is only reset by an answer that is not a block).
 * Also remembers a server's Retry-After so that other requests to that host wait for it too.
 */
export class HostGuard {
  private readonly hosts = new Map<string, GuardState>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly clock: Clock = systemClock,
  ) {}

  admit(host: string): Admission {
    const s = this.hosts.get(host.toLowerCase());
    if (!s) return undefined;
    const now = this.clock.now();
    if (s.openUntil > now) return { state: 'open', untilMs: s.openUntil, blocks: s.consecutiveBlocks };
    if (s.retryAfterUntil > now) return { state: 'retry-after', untilMs: s.retryAfterUntil };
    return undefined;
  }

  /** A 403, a 429 or a page the pipeline classified as a block. Returns true when this opened the breaker. */
  blocked(host: string): boolean {
    const s = this.state(host);
    s.consecutiveBlocks++;
    if (this.settings.threshold > 0 && s.consecutiveBlocks >= this.settings.threshold) {
      s.openUntil = this.clock.now() + this.settings.coolDownMs;
      return true;
    }
    return false;
  }

  /** Consecutive blocks from the host so far. */
  blocks(host: string): number {
    return this.hosts.get(host.toLowerCase())?.consecutiveBlocks ?? 0;
  }

  answered(host: string): void {
    const s = this.hosts.get(host.toLowerCase());
    if (s) s.consecutiveBlocks = 0;
  }

  holdOff(host: string, ms: number): void {
    const s = this.state(host);
    s.retryAfterUntil = Math.max(s.retryAfterUntil, this.clock.now() + ms);
  }

  private state(host: string): GuardState {
    const key = host.toLowerCase();
    let s = this.hosts.get(key);
    if (!s) {
      s = { consecutiveBlocks: 0, openUntil: 0, retryAfterUntil: 0 };
      this.hosts.set(key, s);
    }
    return s;
  }
}
