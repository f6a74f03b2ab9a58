/**
 * Work waiting in PostgreSQL, read at scrape time as two observable gauges per queue:
 * `moisson_queue_depth{queue}` (how many items wait) and `moisson_queue_oldest_age_seconds{queue}` (how
 * long the oldest one has waited; 0 when none does), so that an alert can tell a backlog that drains from
 * one that sits:
 * - `pmmp_notice_downloads`: award notices found on detail pages whose document is not downloaded yet and
 *   that have not used up their attempts (the queue `listPendingNotices` reads; its partial index); age
 *   since the notice was first seen;
 * - `consolidation_review`: consolidation suggestions waiting for an operator's review (AVALIDER), since
 *   they were suggested;
 * - `consolidation_apply`: suggestions accepted and waiting for the apply Schedule (ATRAITER), since they
 *   were accepted (the review sets `updated_at`).
 * Each queue is one cheap query, kept for `maxAgeMs` (15 s by default: Prometheus's scrape interval), so
 * scrapes, however frequent, never cost more than one query per queue in that time. A query that fails
 * (the database away) is left out of the scrape rather than shown stale: the series go absent.
 */
import type { Meter } from '@opentelemetry/api';
import type { Sql } from 'postgres';
import { AWARD_NOTICE_KINDS } from '../activities/pmmp/awards-store';

/** A queue's state: items waiting and, when the queue knows it, the age of the oldest (seconds). */
export interface QueueState {
  depth: number;
  oldestSeconds?: number;
}

export type QueueCounts = Record<string, () => Promise<QueueState>>;

/** The queues this deployment counts, from its database. */
export function postgresQueueCounts(sql: Sql, opts: { noticeMaxAttempts?: number } = {}): QueueCounts {
  const maxAttempts = opts.noticeMaxAttempts ?? 3;
  const one = async (query: Promise<{ n: number; oldest: number }[]>): Promise<QueueState> => {
    const [row] = await query;
    return { depth: row?.n ?? 0, oldestSeconds: row?.oldest ?? 0 };
  };
  return {
    pmmp_notice_downloads: () =>
      one(sql<{ n: number; oldest: number }[]>`
        select count(*)::int as n, coalesce(extract(epoch from now() - min(first_seen_at)), 0)::float8 as oldest
          from pmmp.notices where proof_id is null and fetch_attempts < ${maxAttempts} and kind = any(${AWARD_NOTICE_KINDS as unknown as string[]})`),
    // The oldest suggestion is the one of the lowest id (ids follow creation): one index probe, not a scan.
    consolidation_review: () =>
      one(sql<{ n: number; oldest: number }[]>`
        select (select count(*)::int from consolidation.suggestions where statut = 'AVALIDER') as n,
               coalesce((select extract(epoch from now() - created_at) from consolidation.suggestions where statut = 'AVALIDER' order by id limit 1), 0)::float8 as oldest`),
    consolidation_apply: () =>
      one(sql<{ n: number; oldest: number }[]>`
        select count(*)::int as n, coalesce(extract(epoch from now() - min(updated_at)), 0)::float8 as oldest
          from consolidation.suggestions where statut = 'ATRAITER'`),
  };
}

/** A queue read at most once per `maxAgeMs`; concurrent scrapes share the query in flight. */
function cached(count: () => Promise<QueueState>, maxAgeMs: number, now: () => number): () => Promise<QueueState> {
  let last: { value: QueueState; at: number } | undefined;
  let inFlight: Promise<QueueState> | undefined;
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
  const depth = meter.createObservableGauge('moisson_queue_depth', {
    description: 'Work waiting in PostgreSQL, by queue (pmmp notice downloads, consolidation suggestions to review or to apply)',
  });
  const oldest = meter.createObservableGauge('moisson_queue_oldest_age_seconds', {
    description: 'How long the oldest item of a queue has waited (0 when the queue is empty), by queue',
    unit: 's',
  });
  // One batch callback: both gauges of a queue come from the same read.
  meter.addBatchObservableCallback(
    async (result) => {
      const values = await Promise.allSettled(readers.map(([, read]) => read()));
      values.forEach((v, i) => {
        if (v.status !== 'fulfilled') return;
        const attributes = { queue: readers[i]![0] };
        result.observe(depth, v.value.depth, attributes);
        if (v.value.oldestSeconds !== undefined) result.observe(oldest, v.value.oldestSeconds, attributes);
      });
    },
    [depth, oldest],
  );
}
