/**
 * Per-host politeness for a whole fleet of worker processes: the host's rate, its concurrency, the pause
 * after each response, a robots.txt Crawl-delay and any cool-down (a 429's Retry-After, a block) are one
 * budget kept in PostgreSQL (`etl.host_budgets`, migration 0025), so two workers crawling the same portal
 * send what one would. Each request costs one round trip for its turn (`etl.host_turn`, under the host
 * row's lock, on the database clock) and one for its release; a rate-only budget (no concurrency limit,
 * no pause) is granted several starts per round trip so that a fast rate is not slowed by the database.
 *
 * Within the process a `HostLimiter` limited to the concurrency still queues the callers first, so that
 * only as many of them as may run at once ask the database.
 */
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import { type Clock, type HostPoliteness, HostLimiter, type HostTurns, type Release, systemClock } from './politeness';

/** A lease outlives its request by this much: a request never holds the host longer than its timeout. */
const LEASE_MARGIN_MS = 5_000;
/** How often a caller asks again while every lease of the host is taken (leases are usually returned early). */
const BUSY_POLL_MS = 25;
/** A rate-only budget asks for the starts of about this much time per round trip. */
const BATCH_WINDOW_MS = 100;
const MAX_BATCH = 32;

interface LocalHost {
  /** Starts already granted by the database (local clock), handed out in order. */
  granted: number[];
  /** One round trip for the host at a time, so that granted starts are handed out in their order. */
  gate: Promise<void>;
  floorIntervalMs: number;
  /** When this process last started a request to the host (its clock). */
  lastStart: number;
}

export class FleetHostLimiter implements HostTurns {
  private readonly local: HostLimiter;
  private readonly hosts = new Map<string, LocalHost>();

  constructor(
    private readonly sql: Sql,
    private readonly settingsFor: (host: string) => HostPoliteness,
    private readonly clock: Clock = systemClock,
  ) {
    // Only the concurrency is kept locally: the spacing is the database's, counted once for everyone.
    this.local = new HostLimiter((host) => ({ maxConcurrent: settingsFor(host).maxConcurrent, ratePerSecond: 0, delayMs: [0, 0] }), clock);
  }

  async acquire(host: string, signal?: AbortSignal, leaseMs = 120_000): Promise<Release> {
    const settings = this.settingsFor(host);
    const state = this.state(host);
    const intervalMs = Math.max(settings.ratePerSecond > 0 ? 1000 / settings.ratePerSecond : 0, state.floorIntervalMs);
    const unlimited = settings.maxConcurrent === 0 && intervalMs === 0 && settings.delayMs[1] === 0;
    // Politeness off for this host: no budget to share, no round trip.
    if (unlimited) return this.local.acquire(host, signal);
    const releaseLocal = await this.local.acquire(host, signal);
    let lease: string | undefined;
    try {
      lease = await this.turn(host, state, settings, intervalMs, leaseMs + LEASE_MARGIN_MS, signal);
    } catch (err) {
      await releaseLocal({ sent: false });
      throw err;
    }
    let released = false;
    return async (outcome = {}) => {
      if (released) return;
      released = true;
      try {
        const [min, max] = settings.delayMs;
        const pauseMs = outcome.sent === false ? 0 : min + (max - min) * this.clock.random();
        const holdOffMs = outcome.holdOffMs ?? 0;
        // The next start is due an interval after this request really left, not after its turn was granted.
        const sentAgoMs = outcome.startedAt === undefined ? undefined : Math.max(0, this.clock.now() - outcome.startedAt);
        const restartInMs = sentAgoMs === undefined || intervalMs === 0 ? 0 : intervalMs - sentAgoMs;
        if (lease !== undefined || pauseMs > 0 || holdOffMs > 0) await this.release(host, lease ?? '', Math.max(pauseMs, restartInMs), holdOffMs);
      } finally {
        await releaseLocal(outcome);
      }
    };
  }

  setFloorInterval(host: string, ms: number): void {
    this.state(host).floorIntervalMs = Math.max(0, ms);
  }

  /** A 429 or a block seen here: no worker starts a request to the host for `ms`. */
  async holdOff(host: string, ms: number): Promise<void> {
    if (ms <= 0) return;
    await this.release(host, '', 0, ms);
    // Starts this process was granted before the cool-down are not used either.
    this.state(host).granted.length = 0;
  }

  /** Waits for a start; returns the lease taken, if the host's concurrency is limited. */
  private async turn(host: string, state: LocalHost, settings: HostPoliteness, intervalMs: number, leaseMs: number, signal?: AbortSignal): Promise<string | undefined> {
    const key = host.toLowerCase();
    const limited = settings.maxConcurrent > 0;
    const tokens = !limited && settings.delayMs[1] === 0 ? Math.max(1, Math.min(MAX_BATCH, Math.ceil(BATCH_WINDOW_MS / intervalMs))) : 1;
    const lease = limited ? randomUUID() : undefined;
    const mine = state.gate.then(async () => {
      for (;;) {
        const granted = state.granted.shift();
        if (granted !== undefined) {
          // A start handed out late (a busy event loop) pushes the next ones back: never two within an interval.
          const start = Math.max(granted, state.lastStart + intervalMs);
          const wait = start - this.clock.now();
          if (wait > 0) await this.clock.sleep(wait, signal);
          state.lastStart = this.clock.now();
          return;
        }
        const [row] = await this.sql<{ granted: number; wait_ms: number }[]>`
          select granted, wait_ms from etl.host_turn(${key}, ${lease ?? ''}, ${settings.maxConcurrent}, ${intervalMs}::float8, ${leaseMs}::float8, ${tokens})`;
        if (row && row.granted > 0) {
          const now = this.clock.now();
          state.lastStart = now;
          // The first start is now; the others follow at the interval, on this process's clock from here on.
          for (let i = 1; i < row.granted; i++) state.granted.push(now + i * intervalMs);
          return;
        }
        const wait = row?.wait_ms ?? BUSY_POLL_MS;
        await this.clock.sleep(Math.max(1, Math.ceil(limited ? Math.min(wait, BUSY_POLL_MS) : wait)), signal);
      }
    });
    state.gate = mine.catch(() => undefined);
    await mine;
    return lease;
  }

  private async release(host: string, lease: string, pauseMs: number, holdOffMs: number): Promise<void> {
    await this.sql`
      update etl.host_budgets
         set leases = leases - ${lease}::text,
             next_start = greatest(next_start, clock_timestamp() + ${pauseMs}::float8 * interval '1 millisecond'),
             cooldown_until = case when ${holdOffMs}::float8 > 0
                                   then greatest(cooldown_until, clock_timestamp() + ${holdOffMs}::float8 * interval '1 millisecond')
                                   else cooldown_until end,
             cooldowns = cooldowns + (${holdOffMs}::float8 > 0)::int,
             updated_at = clock_timestamp()
       where host = ${host.toLowerCase()}`;
  }

  private state(host: string): LocalHost {
    const key = host.toLowerCase();
    let s = this.hosts.get(key);
    if (!s) {
      s = { granted: [], gate: Promise.resolve(), floorIntervalMs: 0, lastStart: -Infinity };
      this.hosts.set(key, s);
    }
    return s;
  }
}
