/**
 * Purchase-order results of the /bdc/ interface, crawled a day at a time. Its lists drift: the order
 * inside a day changes between requests and new results push older ones down, so one pass over the
 * pages can miss cards and see others twice. Each day is swept again until the distinct cards reach
 * the count the page announces (or the sweeps run out, which the log says); rows are upserted on a
 * digest of the card, so overlapping windows and repeated sweeps converge on one row per result.
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { bdcResults, type NewBdcResult } from '../../schema/pmmp/tables';
import { anyChanged, fromExcluded } from '../engine/bulk';
import type { BoundActivities } from '../engine/bind';
import { InvalidInputError, ResponseShapeError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { withInlineRetries } from '../engine/retry';
import { recordRejections, writeEtlLog } from '../engine/runs';
import type { PmmpDeps } from './consultations';
import { PageShapeError, parseBdcResults, type BdcResultItem } from './parse/index';
import { isDay, nextIsoDay, PortalClient } from './portal';
import { PIPELINE, problemRejections } from './rejections';

export const BDC_PAGE_SIZES = [10, 20, 30, 50] as const;
export type BdcPageSize = (typeof BDC_PAGE_SIZES)[number];

export interface CrawlBdcWindowInput {
  /** Days of publication of the results, `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
  pageSize?: BdcPageSize;
  /** Passes over a day's pages at most, while distinct cards stay below the announced count. */
  maxSweeps?: number;
  runId?: string | null;
}

export interface BdcCounts {
  days: number;
  pages: number;
  cards: number;
  distinct: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** Results the portal announced that no sweep showed (drift faster than the sweeps). */
  missing: number;
}

interface BdcCursor {
  /** First day not finished yet. */
  day: string;
  counts: BdcCounts;
}

const zero = (): BdcCounts => ({ days: 0, pages: 0, cards: 0, distinct: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0, missing: 0 });

const fold = (s: string | null): string =>
  (s ?? '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toUpperCase();

/** The card's identity on the portal: who bought, under which reference, published when. */
export function bdcIdOf(item: Pick<BdcResultItem, 'buyer' | 'reference' | 'resultPublishedAt'>): string {
  return createHash('sha256')
    .update(JSON.stringify([fold(item.buyer), fold(item.reference), item.resultPublishedAt ?? '']))
    .digest('hex')
    .slice(0, 32);
}

export function bdcRow(item: BdcResultItem, proofId: string): NewBdcResult {
  return {
    bdcId: bdcIdOf(item),
    reference: item.reference,
    object: item.object,
    buyer: item.buyer,
    resultPublishedAt: item.resultPublishedAt,
    deadline: item.deadline,
    bidCount: item.bidCount,
    outcome: item.outcome,
    winner: item.winner,
    amountTtc: item.amountTtc,
    detailUrl: item.detailUrl,
    proofId,
  };
}

/** Upserts a page's cards; a row changes only when what the card says changed (not its proof). */
export async function upsertBdcResults(db: PostgresJsDatabase, rows: NewBdcResult[]): Promise<{ inserted: number; updated: number; unchanged: number }> {
  const unique = [...new Map(rows.map((r) => [r.bdcId, r])).values()];
  if (unique.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  // What the card says; its proof follows the card but is no reason to rewrite the row.
  const said = ['object', 'deadline', 'bidCount', 'outcome', 'winner', 'amountTtc', 'detailUrl'] as const;
  const written = await db
    .insert(bdcResults)
    .values(unique)
    .onConflictDoUpdate({
      target: bdcResults.bdcId,
      set: { ...fromExcluded(bdcResults, [...said, 'proofId']), updatedAt: sql`now()` },
      setWhere: anyChanged(bdcResults, said),
    })
    .returning({ inserted: sql<boolean>`(xmax = 0)` });
  const inserted = written.filter((w) => w.inserted).length;
  return { inserted, updated: written.length - inserted, unchanged: unique.length - written.length };
}

export async function crawlBdcWindow(deps: PmmpDeps, input: CrawlBdcWindowInput): Promise<BdcCounts> {
  const pageSize = input.pageSize ?? 50;
  const maxSweeps = input.maxSweeps ?? 4;
  if (!isDay(input.from) || !isDay(input.to) || input.from > input.to) {
    throw new InvalidInputError(`bad /bdc/ window ${input.from}..${input.to}: expected two days YYYY-MM-DD, from ≤ to`);
  }
  if (!BDC_PAGE_SIZES.includes(pageSize)) throw new InvalidInputError(`/bdc/ page size ${pageSize} is not one of ${BDC_PAGE_SIZES.join('/')}`);
  const started = Date.now();
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const resumed = ctx.info.heartbeatDetails as Partial<BdcCursor> | undefined;
  const cursor: BdcCursor =
    resumed && typeof resumed.day === 'string' && resumed.counts ? { day: resumed.day, counts: { ...resumed.counts } } : { day: input.from, counts: zero() };
  const counts = cursor.counts;
  const client = new PortalClient({ fetcher: deps.fetcher, proofs: deps.proofs, baseUrl: deps.portalUrl, timeoutMs: deps.requestTimeoutMs, signal });
  const session = deps.fetcher.session();
  const runId = input.runId ?? null;
  const source = `bdc:${input.from}..${input.to}`;

  const pageUrl = (day: string, page: number): string => {
    const u = new URL(client.bdcResultsUrl);
    const F = 'search_consultation_resultats';
    u.searchParams.set(`${F}[dateLimitePublicationStart]`, day);
    u.searchParams.set(`${F}[dateLimitePublicationEnd]`, day);
    // Without pageSize on every request the form binds to nothing and shows no card.
    u.searchParams.set(`${F}[pageSize]`, String(pageSize));
    u.searchParams.set('page', String(page));
    return u.toString();
  };

  return withHeartbeat<BdcCounts, BdcCursor>(async (progress) => {
    for (let day = cursor.day; day <= input.to; day = nextIsoDay(day)) {
      const seen = new Set<string>();
      let announced = 0;
      for (let sweep = 1; sweep <= maxSweeps; sweep++) {
        for (let page = 1; ; page++) {
          if (signal.aborted) throw signal.reason;
          const url = pageUrl(day, page);
          const stored = await withInlineRetries(() => client.getPage(session, url, 'bdc-results'), {
            attempts: deps.pageAttempts ?? 5,
            maxInlineWaitMs: deps.maxInlineWaitMs ?? 60_000,
            signal,
          });
          let parsed;
          try {
            parsed = parseBdcResults(stored.html, { baseUrl: stored.response.url });
          } catch (err) {
            if (!(err instanceof PageShapeError)) throw err;
            throw new ResponseShapeError(`/bdc/ results page of ${day} (page ${page}): ${err.message}`, {
              url: stored.response.url,
              missing: err.missing,
              proofId: stored.proofId,
            });
          }
          counts.pages++;
          counts.cards += parsed.items.length;
          announced = Math.max(announced, parsed.totalResults ?? 0);
          if (parsed.problems.length) {
            const rejections = problemRejections(parsed.problems, { kind: 'pmmp.bdc-result', proofId: stored.proofId, source, naturalKey: (p) => `${day} card ${p.row ?? '?'}` });
            await recordRejections(deps.db, PIPELINE, runId, rejections);
            counts.rejected += rejections.length;
          }
          const fresh = parsed.items.map((i) => bdcRow(i, stored.proofId)).filter((r) => !seen.has(r.bdcId));
          for (const r of fresh) seen.add(r.bdcId);
          const written = await upsertBdcResults(deps.db, fresh);
          counts.inserted += written.inserted;
          counts.updated += written.updated;
          counts.unchanged += written.unchanged;
          progress({ day, counts: { ...counts } });
          const pageCount = Math.ceil((parsed.totalResults ?? 0) / pageSize);
          if (parsed.items.length === 0 || page >= pageCount) break;
        }
        if (seen.size >= announced) break;
      }
      counts.days++;
      counts.distinct += seen.size;
      counts.missing += Math.max(0, announced - seen.size);
      progress({ day: nextIsoDay(day), counts: { ...counts } });
    }
    if (runId) {
      await writeEtlLog(deps.db, {
        runId,
        pipeline: PIPELINE,
        stream: source,
        status: counts.rejected || counts.missing ? 'partial' : 'success',
        extracted: counts.distinct,
        loaded: counts.inserted + counts.updated + counts.unchanged,
        rejected: counts.rejected,
        durationMs: Date.now() - started,
        details: { ...counts },
      });
    }
    return { ...counts };
  });
}

/** The activities of this file, as the worker registers them (see `bindActivities`). */
export const pmmpBdcActivities = { crawlBdcWindow };

export type PmmpBdcActivities = BoundActivities<typeof pmmpBdcActivities>;
