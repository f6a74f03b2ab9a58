/**
 * Crawling the consultations of one publication window: one activity per window (a sequential
 * activity per page would cost ~6 history events each), pages looped inside, the cursor
 * heartbeated so that a retry opens a new search and jumps to where the last attempt stopped.
 */
import { Context } from '@temporalio/activity';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import type { BoundActivities } from '../engine/bind';
import { InvalidInputError, ResponseShapeError } from '../engine/errors';
import type { FetchSession, Fetcher } from '../engine/fetcher';
import { withHeartbeat } from '../engine/heartbeat';
import { items as pipelineItems } from '../engine/metrics';
import { withInlineRetries } from '../engine/retry';
import type { ProofStore } from '../engine/proofs';
import { recordRejections, writeEtlLog, type Rejection } from '../engine/runs';
import type { ConsultationListItem, LotItem } from './parse/index';
import { inlineParsers, pageParsers, type PageParsers } from './parse-pool';
import {
  DEFAULT_PAGE_SIZE,
  isDay,
  isNoticeList,
  NOTICE_LISTS,
  PAGE_SIZES,
  PageStateLostError,
  PortalClient,
  type ConsultationSearchKind,
  type ListPage,
  type PortalPageSize,
  type PortalSearch,
} from './portal';
import { parseOrReject, PIPELINE, problemRejections } from './rejections';
import { buildConsultationRecord, storeConsultations, type ConsultationRecord, type ListOrigin } from './store';

export interface CrawlConsultationWindowInput {
  /** Publication window, calendar days `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
  kind?: ConsultationSearchKind;
  pageSize?: PortalPageSize;
  /** `etl.runs` id the rejections and the log row belong to, when the caller keeps a run. */
  runId?: string | null;
}

export interface CrawlCounts {
  pages: number;
  listed: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/** What a retry resumes from: the last list page whose rows are all stored. */
export interface CrawlCursor {
  page: number;
  pageCount: number;
  seen: number;
  counts: CrawlCounts;
}

export interface PmmpDeps {
  db: PostgresJsDatabase;
  fetcher: Fetcher;
  proofs: ProofStore;
  /** The portal's `index.php`. */
  portalUrl: string;
  /** Per-request time limit; the portal's list postbacks are slow. */
  requestTimeoutMs?: number;
  /** In-activity attempts per page before the activity itself fails (then Temporal retries it). */
  pageAttempts?: number;
  /** Retry-After waits up to this long are slept inside the activity, longer ones go to Temporal. */
  maxInlineWaitMs?: number;
  /**
   * Detail pages (with their lots popups) fetched and parsed at once per list page, default 8. The
   * fetcher's per-host politeness still decides how many really go to a host at once (1 on the portal).
   */
  detailConcurrency?: number;
  /**
   * Threads that parse the pages (see parse-pool.ts), shared by the process's crawls; 0 parses on the
   * activity's own thread. Default: one per core beyond the first, at most two.
   */
  parseThreads?: number;
  /** Called before each list page is fetched (1-based); tests use it to fail or cancel mid-crawl. */
  onListPage?: (page: number) => void | Promise<void>;
}

/** One list row read from the portal: a record to store with its field problems, or a page of unknown shape. */
type RowRead =
  | { kind: 'record'; naturalKey: string; record: ConsultationRecord; problems: Rejection[]; detailProofId: string }
  | { kind: 'shape'; rejection: Rejection };

/**
 * `read` over the items, at most `concurrency` at once, results in the items' order. On a failure the
 * reads in flight are awaited before it is thrown, so that no request outlives the page.
 */
async function inOrder<T, R>(items: readonly T[], concurrency: number, read: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await read(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.error;
  return results;
}

const zero = (): CrawlCounts => ({ pages: 0, listed: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 });

const keyOf = (i: { orgAcronyme: string; refConsultation: string }) => `${i.orgAcronyme}/${i.refConsultation}`;


type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A promise that never rejects, for work started ahead of the moment its result is needed. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));

function unwrap<T>(s: Settled<T>): T {
  if (!s.ok) throw s.error;
  return s.value;
}

/**
 * A row read with strings of its own. htmlparser2 slices text and attribute values out of the page, and V8
 * keeps a whole string alive for any slice of it: a stored record would otherwise hold its detail page's
 * text (~130 KB) until its list page is committed, ~25 MB for the two pages of rows in flight. A structured
 * clone copies the few strings a record has (plain data only: strings, numbers, Dates, arrays). What a parse
 * thread answers is a copy already.
 */
const detacher = (parsers: PageParsers) => (parsers === inlineParsers ? (read: RowRead): RowRead => structuredClone(read) : (read: RowRead) => read);

/** After this many detail pages in a row without the known shape, the portal changed, not a page. */
const SHAPE_STREAK_LIMIT = 25;

/**
 * Runs one portal step, retrying transient faults in place (a 5xx or a short body costs one page,
 * not the whole activity); a lost page state or a truncated list is repaired by `recover`.
 */
function step<T>(deps: PmmpDeps, run: () => Promise<T>, recover?: () => void, signal?: AbortSignal): Promise<T> {
  return withInlineRetries(run, {
    attempts: deps.pageAttempts ?? 5,
    maxInlineWaitMs: deps.maxInlineWaitMs ?? 60_000,
    signal,
    recover,
    alsoRetry: (err) => err instanceof PageStateLostError,
  });
}

export async function crawlConsultationWindow(deps: PmmpDeps, input: CrawlConsultationWindowInput): Promise<CrawlCounts> {
  const kind = input.kind ?? 'searchAnnCons';
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!isDay(input.from) || !isDay(input.to) || input.from > input.to) {
    throw new InvalidInputError(`bad window ${input.from}..${input.to}`);
  }
  if (!PAGE_SIZES.includes(pageSize)) throw new InvalidInputError(`page size ${pageSize} is not one of ${PAGE_SIZES.join('/')}`);
  const started = Date.now();
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  const details0 = ctx.info.heartbeatDetails as Partial<CrawlCursor> | undefined;
  // A cursor from another version of this activity is not trusted: the window starts over (idempotent).
  const resumed = details0 && typeof details0.page === 'number' && details0.counts ? (details0 as CrawlCursor) : undefined;
  const parsers = pageParsers(deps.parseThreads);
  const client = new PortalClient({ fetcher: deps.fetcher, proofs: deps.proofs, baseUrl: deps.portalUrl, timeoutMs: deps.requestTimeoutMs, signal, parsers });
  const spec = { kind, from: input.from, to: input.to, pageSize };
  const runId = input.runId ?? null;
  const source = `${kind}:${input.from}..${input.to}`;
  const origin: ListOrigin = { annonceType: isNoticeList(kind) ? NOTICE_LISTS[kind] : null };
  const reader: RowReader = { deps, client, session: deps.fetcher.session(), parsers, detached: detacher(parsers), source, signal, origin };
  // Notice lists ignore the window and show the newest notice first: the crawl stops at the first
  // row published before the window instead of paging ~95k notices.
  const newestFirst = isNoticeList(kind);
  let pastWindow = false;

  // Counts only move forward at page boundaries: a retry redoes the page it was killed in.
  const cursor: CrawlCursor = resumed
    ? { page: resumed.page, pageCount: resumed.pageCount, seen: resumed.counts.listed, counts: { ...resumed.counts } }
    : { page: 0, pageCount: 0, seen: 0, counts: zero() };
  const counts = { ...cursor.counts };
  let shapeStreak = 0;

  return withHeartbeat<CrawlCounts, CrawlCursor>(async (progress) => {
    let search: PortalSearch | null = null;
    const open = async (page: number) => {
      search = await client.openSearch(spec, page);
    };
    /** List page `target` of the open search (a new search when none is open or the state was lost). */
    const fetchList = (target: number): Promise<ListPage> =>
      step(
        deps,
        async () => {
          if (!search) await open(target);
          else if (search.current.list.pagination.currentPage !== target) await search.next();
          const s = search as PortalSearch | null;
          if (!s) throw new PageStateLostError('no search open');
          const shown = s.current.list.pagination;
          // An empty search shows "page 1 of 0".
          if (shown.currentPage !== target && !(shown.pageCount === 0 && target === 1)) {
            throw new PageStateLostError(`asked for list page ${target}, the portal showed page ${shown.currentPage}`);
          }
          return s.current;
        },
        () => {
          search = null;
        },
        signal,
      );

    /**
     * Stores a list page's rows in one transaction, set-based (see `storeConsultations`), then moves the
     * cursor past the page: counts, rejections and the shape streak read as in a one-by-one crawl.
     */
    const storePage = async (target: number, reads: RowRead[]): Promise<void> => {
      // The shape streak decides how much of the page is stored: up to the read that shows the portal changed.
      let portalChanged: ResponseShapeError | undefined;
      let streak = shapeStreak;
      const taken: RowRead[] = [];
      for (const read of reads) {
        taken.push(read);
        if (read.kind !== 'shape') {
          streak = 0;
        } else if (++streak >= SHAPE_STREAK_LIMIT) {
          // Thrown once what was read is committed: the rejections keep their proofs.
          portalChanged = new ResponseShapeError(`${streak} detail pages in a row have an unknown shape: the portal changed`, { source });
          break;
        }
      }
      const records = taken.filter((r) => r.kind === 'record');
      const pageCounts = { ...counts };
      pageCounts.listed += taken.length;
      pageCounts.rejected += taken.length - records.length;
      // A cancellation does not interrupt it: the page is read already, committing it is a moment's work
      // and saves the retry from reading it again; the next stage sees the cancellation.
      await deps.db.transaction(async (tx) => {
        const outcomes = await storeConsultations(tx, records.map((r) => r.record));
        const rejections = taken.flatMap((r) => (r.kind === 'shape' ? [r.rejection] : r.problems));
        outcomes.forEach((outcome, i) => {
          if (typeof outcome === 'string') {
            pageCounts[outcome]++;
            return;
          }
          // A database refusal of one row (a constraint, a value out of range) must not stop the window.
          pageCounts.rejected++;
          const read = records[i]!;
          rejections.push({ kind: 'pmmp.consultation', naturalKey: read.naturalKey, reason: `database refused the row: ${outcome.refused.message} (${outcome.refused.code})`, code: 'database_refused', source, proofId: read.detailProofId });
        });
        await recordRejections(tx, PIPELINE, runId, rejections);
      });
      // Counts move only once the page is committed: a transaction rolled back leaves them as they were.
      Object.assign(counts, pageCounts);
      // Per committed page (a retry resumes after it, so nothing counts twice): detail pages read into a record.
      pipelineItems().add(records.length, { pipeline: PIPELINE, kind: 'consultation', result: 'parsed' });
      shapeStreak = streak;
      if (portalChanged) throw portalChanged;
      cursor.page = target;
      cursor.seen = counts.listed;
      cursor.counts = { ...counts };
      progress({ ...cursor, counts: { ...counts } });
    };

    // Three stages overlap: the next list page is fetched (and parsed) while this page's detail pages
    // are read, and a page's rows are written while the next page's detail pages are read. The list
    // postbacks stay one at a time in one session (PRADO's page state), the pages are stored in order,
    // and nothing started here outlives the activity: on a failure the other stages are awaited first.
    let prefetched: { target: number; page: Promise<Settled<ListPage>> } | undefined;
    let storing: Promise<void> | undefined;
    try {
      let wanted = cursor.page + 1;
      for (;;) {
        await deps.onListPage?.(wanted);
        const target = wanted;
        const listPage: ListPage =
          prefetched?.target === target ? unwrap(await prefetched.page) : await fetchList(target);
        prefetched = undefined;
        const { list } = listPage;
        cursor.pageCount = list.pagination.pageCount;
        await recordRejections(deps.db, PIPELINE, runId, problemRejections(list.problems, { kind: 'pmmp.list-row', proofId: listPage.proofId, source }));

        const rows: ConsultationListItem[] = [];
        for (const row of list.items) {
          // AllCons and the notice lists show every window; only this window's rows are this activity's to store.
          if (row.publishedOn && row.publishedOn < input.from && newestFirst) pastWindow = true;
          if (row.publishedOn && (row.publishedOn < input.from || row.publishedOn > input.to)) continue;
          rows.push(row);
        }
        const last = !list.pagination.hasNextPage || pastWindow;
        if (!last) prefetched = { target: target + 1, page: settle(fetchList(target + 1)) };

        // Detail pages (and lots popups) do not touch the list's page state: a few at a time.
        const reads = await inOrder(rows, deps.detailConcurrency ?? 8, (row) => readRow(reader, row, listPage.proofId));
        if (storing) await storing;
        storing = undefined;
        counts.pages++;
        const stored = storePage(target, reads);
        // Awaited below or in `finally`; a failure must not count as unhandled while the next page is read.
        stored.catch(() => undefined);
        storing = stored;
        if (last) {
          await stored;
          storing = undefined;
          break;
        }
        wanted = target + 1;
      }
    } finally {
      await Promise.allSettled([storing, prefetched?.page]);
    }

    if (runId) {
      await writeEtlLog(deps.db, {
        runId,
        pipeline: PIPELINE,
        stream: `${newestFirst ? 'notices' : 'consultations'}:${source}`,
        status: counts.rejected ? 'partial' : 'success',
        extracted: counts.listed,
        loaded: counts.inserted + counts.updated + counts.unchanged,
        rejected: counts.rejected,
        durationMs: Date.now() - started,
        details: { ...counts },
      });
    }
    // Once per window (the counts of resumed attempts are carried by the heartbeat): what the dashboards
    // and the "no consultations for 3 days" alert read. Saved is stored or confirmed, the ETL log's `loaded`.
    pipelineItems().add(counts.listed, { pipeline: PIPELINE, kind: 'consultation', result: 'scraped' });
    pipelineItems().add(counts.inserted + counts.updated + counts.unchanged, { pipeline: PIPELINE, kind: 'consultation', result: 'saved' });
    return { ...counts };
  });
}

/** What reading a row needs, the same for every row of a window. */
interface RowReader {
  deps: PmmpDeps;
  client: PortalClient;
  /** The detail pages' session (they need none of the search's page state). */
  session: FetchSession;
  parsers: PageParsers;
  detached: (read: RowRead) => RowRead;
  source: string;
  signal: AbortSignal;
  origin: ListOrigin;
}

/** Detail (and lots) of one list row, fetched and parsed; nothing written yet. A page that cannot be read is a rejection. */
async function readRow(reader: RowReader, row: ConsultationListItem, listProofId: string): Promise<RowRead> {
  const { deps, client, session, parsers, detached, source, signal, origin } = reader;
  const key = { orgAcronyme: row.orgAcronyme, refConsultation: row.refConsultation };
  const naturalKey = keyOf(key);
  const detailPage = await step(deps, () => client.getPage(session, row.detailUrl, 'detail'), undefined, signal);
  const detail = await parseOrReject(() => parsers.detail(detailPage.html, { baseUrl: client.baseUrl, key }), {
    kind: 'pmmp.consultation',
    naturalKey,
    source,
    proofId: detailPage.proofId,
    reason: 'detail page shape changed',
    payload: (err) => ({ missing: err.missing, url: row.detailUrl }),
  });
  if (!detail.ok) return detached({ kind: 'shape', rejection: detail.rejection });
  const problems: Rejection[] = [];
  let lotItems: LotItem[] = [];
  let lotsProofId: string | null = null;
  const lotsUrl = detail.parsed.item.allotted ? (detail.parsed.item.lotsUrl ?? row.lotsUrl) : null;
  if (lotsUrl) {
    const lotsPage = await step(deps, () => client.getPage(session, lotsUrl, 'lots'), undefined, signal);
    lotsProofId = lotsPage.proofId;
    const lots = await parseOrReject(() => parsers.lots(lotsPage.html, { baseUrl: client.baseUrl, key }), {
      kind: 'pmmp.consultation',
      naturalKey,
      source,
      proofId: lotsPage.proofId,
      reason: 'lots popup shape changed',
      payload: (err) => ({ missing: err.missing, url: lotsUrl }),
    });
    // Without its lots an allotted consultation would be stored wrong (amounts are per lot).
    if (!lots.ok) return detached({ kind: 'shape', rejection: lots.rejection });
    lotItems = lots.parsed.lots;
    problems.push(...problemRejections(lots.parsed.problems, { kind: 'pmmp.lot', proofId: lotsPage.proofId, source }));
  }
  problems.push(...problemRejections(detail.parsed.problems, { kind: 'pmmp.consultation-field', proofId: detailPage.proofId, source }));
  const record = buildConsultationRecord(row, detail.parsed.item, lotItems, { list: listProofId, detail: detailPage.proofId, lots: lotsProofId }, origin);
  return detached({ kind: 'record', naturalKey, record, problems, detailProofId: detailPage.proofId });
}

/** The activities of this file, as the worker registers them (see `bindActivities`). */
export const pmmpCrawlActivities = { crawlConsultationWindow };

export type PmmpActivities = BoundActivities<typeof pmmpCrawlActivities>;
