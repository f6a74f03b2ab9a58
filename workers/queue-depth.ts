/**
 * Work waiting in PostgreSQL, as `moisson_queue_depth{queue}` observable gauges read at scrape time:
 * - `pmmp_notice_downloads`: award notices found on detail pages whose document is not downloaded yet and
 *   that have not used up their attempts (the queue `listPendingNotices` reads; its partial index);
 * - `consolidation_review`: consolidation suggestions waiting for an operator's review (AVALIDER);
 * - `consolidation_apply`: suggestions accepted and waiting for the apply Schedule (ATRAITER).
 * Each count is one cheap query, kept for `maxAgeMs` (15 s by default: Prometheus's scrape interval), so
 * scrapes, however frequent, never cost more than one query per queue in that time. A count that fails
 * (the database away) is left out of the scrape rather than shown stale: the series goes absent.
 */
import type { Meter } from '@opentelemetry/api';
import type { Sql } from 'postgres';
import { AWARD_NOTICE_KINDS } from '../activities/pmmp/awards-store';

export type QueueCounts = Record<string, () => Promise<number>>;

/** The queues this deployment counts, from its database. */
export function postgresQueueCounts(sql: Sql, opts: { noticeMaxAttempts?: number } = {}): QueueCounts {
  const maxAttempts = opts.noticeMaxAttempts ?? 3;
  const one = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;
  return {
    pmmp_notice_downloads: () =>
      one(sql<{ n: number }[]>`select count(*)::int as n from pmmp.notices where proof_id is null and fetch_attempts < ${maxAttempts} and kind = any(${AWARD_NOTICE_KINDS as unknown as string[]})`),
    consolidation_review: () => one(sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestions where statut = 'AVALIDER'`),
    consolidation_apply: () => one(sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestions where statut = 'ATRAITER'`),
  };
}

/** A count read at most once per `maxAgeMs`; concurrent scrapes share the query in flight. */
function cached(count: () => Promise<number>, maxAgeMs: number, now: () => number): () => Promise<number> {
  let last: { value: number; at: number } | undefined;
  let inFlight: Promise<number> | undefined;
  return () => {
    if (last && now() - last.at < maxAgeMs) return Promise.resolve(last.value);
    inFlight ??= count()
      .then((value) => {
        last = { value, at: now() };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

export function registerQueueDepthGauges(meter: Meter, counts: QueueCounts, opts: { maxAgeMs?: number; now?: () => number } = {}): void {
  const maxAgeMs = opts.maxAgeMs ?? 15_000;
  const now = opts.now ?? Date.now;
  const readers = Object.entries(counts).map(([queue, count]) => [queue, cached(count, maxAgeMs, now)] as const);
  meter
    .createObservableGauge('moisson_queue_depth', { description: 'Work waiting in PostgreSQL, by queue (pmmp notice downloads, consolidation suggestions to review or to apply)' })
    .addCallback(async (result) => {
      const values = await Promise.allSettled(readers.map(([, read]) => read()));
      values.forEach((v, i) => {
        if (v.status === 'fulfilled') result.observe(v.value, { queue: readers[i]![0] });
      });
    });
}
