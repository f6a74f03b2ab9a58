/**
 * Reprocessing from proofs: the current parsers run again over the pages already stored (list, detail
 * and lots pages of each consultation; /bdc/ result pages), without a request to the portal. A fixed
 * parser repairs years of rows in minutes; with unchanged parsers the content hashes match and nothing
 * is rewritten.
 */
import { Context } from '@temporalio/activity';
import { and, asc, sql, type SQL } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { bdcResults, consultations } from '../../schema/pmmp/tables';
import type { BoundActivities } from '../engine/bind';
import { InvalidInputError } from '../engine/errors';
import { decodeBody } from '../engine/fetcher-charset';
import { withHeartbeat } from '../engine/heartbeat';
import type { Proof, ProofStore } from '../engine/proofs';
import { recordRejections, type Rejection } from '../engine/runs';
import { bdcRow, upsertBdcResults } from './bdc';
import { PageShapeError, parseBdcResults, type ConsultationListItem, type LotItem } from './parse/index';
import { pageParsers, parseStoredPage, ParseThreadError, type PageParsers } from './parse-pool';
import { isDay } from './portal';
import { parseOrRecord, parseOrReject, PIPELINE } from './rejections';
import { buildConsultationRecord, storeConsultations, type ConsultationRecord } from './store';

export interface ConsultationKey {
  orgAcronyme: string;
  refConsultation: string;
}

export interface ReparseConsultationsInput {
  after?: ConsultationKey | null;
  limit: number;
  /** Publication days, both included; every consultation when absent. */
  from?: string | null;
  to?: string | null;
  runId?: string | null;
  /** Consultations read together and written in one transaction (default `REPARSE_BATCH`). */
  batch?: number;
}

export interface ReparseConsultationCounts {
  consultations: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface ReparseConsultationsResult extends ReparseConsultationCounts {
  next: ConsultationKey | null;
}

export interface ReparseBdcInput {
  /** Proof id of the last page done (keyset). */
  after?: string | null;
  limit: number;
  runId?: string | null;
}

export interface ReparseBdcResult {
  pages: number;
  cards: number;
  updated: number;
  unchanged: number;
  rejected: number;
  next: string | null;
}

export interface PmmpReparseDeps {
  db: PostgresJsDatabase;
  proofs: ProofStore;
  /** Threads that parse the pages (see parse-pool.ts, shared with the crawls); 0 parses here. Default as the crawl's. */
  parseThreads?: number;
}

async function page(deps: PmmpReparseDeps, proofId: string): Promise<{ html: string; url: string }> {
  const proof = await deps.proofs.get(proofId);
  return { html: decodeBody(proof.body, proof.contentType), url: pageUrlOf(proof) };
}

/** Links resolve against the portal's page (`…/index.php`), as in the crawl, not the page's own query. */
function pageUrlOf(proof: Proof): string {
  const at = new URL(proof.url);
  return `${at.origin}${at.pathname}`;
}

/** The rows of a list page by natural key, or why the page could not be read. */
type ListedRows = Map<string, ConsultationListItem> | { failed: unknown };

/**
 * A list page holds up to 500 rows (8 MB at 500): parsed once for all its consultations, not once
 * per consultation (which made a 100-row page cost ~100 parses). Rows are kept, not the HTML; the
 * cache lives as long as the proof store the worker was given (a proof never changes). It holds the
 * parse in flight, so that batches read at once share one parse of a page.
 */
const listCaches = new WeakMap<ProofStore, Map<string, Promise<ListedRows>>>();

async function listedRowsOf(parsers: PageParsers, proof: Proof): Promise<ListedRows> {
  const rows = new Map<string, ConsultationListItem>();
  try {
    for (const item of (await parseStoredPage(parsers, 'list', proof.body, proof.contentType, { baseUrl: pageUrlOf(proof) })).items) {
      const k = `${item.orgAcronyme}/${item.refConsultation}`;
      if (!rows.has(k)) rows.set(k, item);
    }
  } catch (err) {
    // A dead parse thread says nothing about the page: the activity fails (and is retried), nothing is cached.
    if (err instanceof ParseThreadError) throw err;
    // Refused for each of its consultations, as when each one parsed it (see `readBatch`).
    return { failed: err };
  }
  return rows;
}

/** Consultations per batch: their pages read together, their rows written in one transaction. */
export const REPARSE_BATCH = 100;
/** Proof files read and decompressed at once (libuv's pool has 4 threads). */
const READ_CONCURRENCY = 8;
/**
 * Batches read (proofs decompressed, pages parsed in the parse threads) while one is written: the main
 * thread only moves bytes and rows, so the parse threads, libuv's pool and PostgreSQL work at once.
 */
const READ_AHEAD = 2;
/** Batches read and not yet written, at most (their records wait in memory for the writer). */
const READ_BUFFERED = 4;

interface StoredConsultation {
  orgAcronyme: string;
  refConsultation: string;
  listProofId: string | null;
  detailProofId: string | null;
  lotsProofId: string | null;
}

type ConsultationRead = { key: ConsultationKey; detailProofId: string } & ({ ok: true; record: ConsultationRecord } | { ok: false; rejection: Rejection });

/**
 * A batch's pages: detail and lots proofs and the list proofs not parsed yet, fetched in one metadata
 * query and read concurrently; then each consultation read from its three pages, as the crawl does,
 * its detail and lots pages parsed at once by `parsers` (the parse threads). Reads keep the batch's order.
 */
async function readBatch(deps: PmmpReparseDeps, parsers: PageParsers, batch: StoredConsultation[]): Promise<ConsultationRead[]> {
  let lists = listCaches.get(deps.proofs);
  if (!lists) listCaches.set(deps.proofs, (lists = new Map()));
  // The batch holds on to its list pages' rows: the cache may drop one while the batch is read.
  const batchLists = new Map<string, Promise<ListedRows> | undefined>();
  for (const r of batch) if (r.listProofId && !batchLists.has(r.listProofId)) batchLists.set(r.listProofId, lists.get(r.listProofId));
  const listIds = [...batchLists].flatMap(([id, rows]) => (rows ? [] : [id]));
  const pageIds = batch.flatMap((r) => [r.detailProofId!, ...(r.lotsProofId ? [r.lotsProofId] : [])]);
  const proofs = await deps.proofs.getMany([...listIds, ...pageIds], { concurrency: READ_CONCURRENCY });
  for (const id of listIds) {
    // Another batch may have started this page's parse while the proofs were read.
    let rows = lists.get(id);
    if (!rows) {
      rows = listedRowsOf(parsers, proofs.get(id)!);
      // Awaited below through `batchLists`; a dead thread must not be an unhandled rejection meanwhile.
      rows.catch(() => undefined);
      if (lists.size >= 64) lists.delete(lists.keys().next().value!);
      lists.set(id, rows);
      // A failed parse (a dead thread, not a refused page) is not kept for the next batches.
      rows.catch(() => (lists.get(id) === rows ? lists.delete(id) : undefined));
    }
    batchLists.set(id, rows);
  }
  const readOne = async (row: StoredConsultation): Promise<ConsultationRead> => {
    const key = { orgAcronyme: row.orgAcronyme, refConsultation: row.refConsultation };
    const naturalKey = `${key.orgAcronyme}/${key.refConsultation}`;
    // Both pages go to the threads at once; each one's refusal is met in the crawl's order (detail, list, lots).
    const detailProof = proofs.get(row.detailProofId!)!;
    const lotsProof = row.lotsProofId ? proofs.get(row.lotsProofId)! : null;
    const detailing = parseStoredPage(parsers, 'detail', detailProof.body, detailProof.contentType, { baseUrl: pageUrlOf(detailProof), key });
    const lotting = lotsProof ? parseStoredPage(parsers, 'lots', lotsProof.body, lotsProof.contentType, { baseUrl: pageUrlOf(lotsProof), key }) : null;
    lotting?.catch(() => undefined);
    // The consultation is read again from its three pages; the rejection carries the detail page's proof.
    const read = await parseOrReject(
      async () => {
        const detail = await detailing;
        let listed: ConsultationListItem | undefined;
        if (row.listProofId) {
          const rows = await batchLists.get(row.listProofId)!;
          if (!(rows instanceof Map)) throw rows.failed;
          listed = rows.get(naturalKey);
        }
        if (!listed) throw new PageShapeError('list', [`row ${naturalKey} in list proof ${row.listProofId ?? '(none)'}`]);
        // A notice list dates the notice, not the consultation: its day is not this row's.
        if (listed.annonceType !== null) listed = { ...listed, publishedOn: null };
        const lotItems: LotItem[] = lotting ? (await lotting).lots : [];
        return buildConsultationRecord(listed, detail.item, lotItems, { list: row.listProofId!, detail: row.detailProofId!, lots: row.lotsProofId });
      },
      { kind: 'pmmp.consultation', naturalKey, reason: 'reparse', source: 'proofs', proofId: row.detailProofId ?? undefined },
    );
    return read.ok ? { key, detailProofId: row.detailProofId!, ok: true, record: read.parsed } : { key, detailProofId: row.detailProofId!, ok: false, rejection: read.rejection };
  };
  // Settled first: no parse of this batch is left running behind a failure (a dead thread) when it throws.
  const settled = await Promise.allSettled(batch.map(readOne));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<ConsultationRead>).value);
}

export async function reparseConsultationProofs(deps: PmmpReparseDeps, input: ReparseConsultationsInput): Promise<ReparseConsultationsResult> {
  if ((input.from && !isDay(input.from)) || (input.to && !isDay(input.to))) {
    throw new InvalidInputError(`reparse window ${input.from ?? '…'}..${input.to ?? '…'}: days are YYYY-MM-DD`);
  }
  const ctx = Context.current();
  const resumed = ctx.info.heartbeatDetails as { cursor: ConsultationKey | null; counts: ReparseConsultationCounts } | undefined;
  const counts: ReparseConsultationCounts = resumed?.counts ? { ...resumed.counts } : { consultations: 0, updated: 0, unchanged: 0, rejected: 0 };
  let cursor = resumed ? resumed.cursor : (input.after ?? null);
  const where: SQL[] = [sql`${consultations.detailProofId} is not null`];
  if (input.from) where.push(sql`${consultations.publishedOn} >= ${input.from}`);
  if (input.to) where.push(sql`${consultations.publishedOn} <= ${input.to}`);
  if (cursor) where.push(sql`(${consultations.orgAcronyme}, ${consultations.refConsultation}) > (${cursor.orgAcronyme}, ${cursor.refConsultation})`);

  return withHeartbeat(async (progress) => {
    const rows = await deps.db
      .select({
        orgAcronyme: consultations.orgAcronyme,
        refConsultation: consultations.refConsultation,
        listProofId: consultations.listProofId,
        detailProofId: consultations.detailProofId,
        // Qualified by hand: inside a subquery drizzle names columns without their table.
        lotsProofId: sql<string | null>`(select l.proof_id from pmmp.lots l where l.org_acronyme = pmmp.consultations.org_acronyme
          and l.ref_consultation = pmmp.consultations.ref_consultation and l.proof_id is not null limit 1)`,
      })
      .from(consultations)
      .where(and(...where))
      .orderBy(asc(consultations.orgAcronyme), asc(consultations.refConsultation))
      .limit(Math.max(0, input.limit - counts.consultations));

    /** A batch's rows and rejections in one transaction, set-based (the crawl's page writer); counts move once committed. */
    const writeBatch = async (reads: ConsultationRead[]): Promise<void> => {
      const batchCounts = { ...counts };
      const written = reads.filter((r): r is Extract<ConsultationRead, { ok: true }> => r.ok);
      await deps.db.transaction(async (tx) => {
        const outcomes = await storeConsultations(tx, written.map((r) => r.record));
        const rejections = reads.flatMap((r) => (r.ok ? [] : [r.rejection]));
        outcomes.forEach((outcome, i) => {
          if (outcome === 'unchanged') batchCounts.unchanged++;
          else if (typeof outcome === 'string') batchCounts.updated++;
          else {
            // A value the database refuses is that consultation's rejection, not the end of the reparse.
            const read = written[i]!;
            batchCounts.rejected++;
            rejections.push({
              kind: 'pmmp.consultation',
              naturalKey: `${read.key.orgAcronyme}/${read.key.refConsultation}`,
              reason: `reparse: database refused the row: ${outcome.refused.message} (${outcome.refused.code})`,
              code: 'database_refused',
              source: 'proofs',
              proofId: read.detailProofId,
            });
          }
        });
        batchCounts.rejected += reads.length - written.length;
        batchCounts.consultations += reads.length;
        await recordRejections(tx, PIPELINE, input.runId ?? null, rejections);
      });
      Object.assign(counts, batchCounts);
      cursor = reads.at(-1)!.key;
      progress({ cursor, counts: { ...counts } });
    };

    // The stages overlap: the next batches' proofs are read and parsed (in the parse threads) while this one is written.
    const parsers = pageParsers(deps.parseThreads);
    const batches: StoredConsultation[][] = [];
    const size = Math.max(1, input.batch ?? REPARSE_BATCH);
    for (let i = 0; i < rows.length; i += size) batches.push(rows.slice(i, i + size));
    // Reads run ahead of the writes on their own: batch i + READ_AHEAD is read as soon as batch i is read
    // (not once it is written), so the parse threads are never left waiting for a write and a proof read
    // in turn; at most READ_BUFFERED batches are read and not yet written.
    const reading = new Map<number, Promise<ConsultationRead[]>>();
    const started = new Set<number>();
    let written = 0;
    let stopped = false;
    const start = (i: number): void => {
      if (stopped || i >= batches.length || i >= written + READ_BUFFERED || started.has(i)) return;
      started.add(i);
      const p = readBatch(deps, parsers, batches[i]!);
      reading.set(i, p);
      // Handled here so that a read failing during a write is not an unhandled rejection; awaited below.
      p.then(
        () => start(i + READ_AHEAD),
        () => undefined,
      );
    };
    try {
      for (let i = 0; i < batches.length; i++) {
        for (let j = i; j < i + READ_AHEAD; j++) start(j);
        const reads = await reading.get(i)!;
        reading.delete(i);
        await writeBatch(reads);
        written = i + 1;
      }
    } finally {
      // Nothing started here outlives the activity: a failed write waits for the reads in flight.
      stopped = true;
      await Promise.allSettled(reading.values());
    }
    const done = counts.consultations < input.limit;
    return { ...counts, next: done ? null : cursor };
  });
}

export async function reparseBdcProofs(deps: PmmpReparseDeps, input: ReparseBdcInput): Promise<ReparseBdcResult> {
  const counts = { pages: 0, cards: 0, updated: 0, unchanged: 0, rejected: 0 };
  return withHeartbeat(async (progress) => {
    const where: SQL[] = [sql`${bdcResults.proofId} is not null`];
    if (input.after) where.push(sql`${bdcResults.proofId} > ${input.after}`);
    const proofIds = (
      await deps.db
        .selectDistinct({ proofId: bdcResults.proofId })
        .from(bdcResults)
        .where(and(...where))
        .orderBy(asc(bdcResults.proofId))
        .limit(input.limit)
    ).map((r) => r.proofId!);
    let last: string | null = null;
    for (const proofId of proofIds) {
      const p = await page(deps, proofId);
      const read = await parseOrRecord(deps.db, input.runId ?? null, () => parseBdcResults(p.html, { baseUrl: p.url }), {
        kind: 'pmmp.bdc-result',
        naturalKey: `page ${proofId}`,
        reason: 'reparse',
        source: p.url,
        proofId,
      });
      if (read.ok) {
        const written = await upsertBdcResults(deps.db, read.parsed.items.map((i) => bdcRow(i, proofId)));
        counts.cards += read.parsed.items.length;
        counts.updated += written.inserted + written.updated;
        counts.unchanged += written.unchanged;
      } else {
        counts.rejected++;
      }
      counts.pages++;
      last = proofId;
      progress({ last, counts });
    }
    return { ...counts, next: proofIds.length < input.limit ? null : last };
  });
}

/** The activities of this file, as the worker registers them (see `bindActivities`). */
export const pmmpReparseActivities = { reparseConsultationProofs, reparseBdcProofs };

export type PmmpReparseActivities = BoundActivities<typeof pmmpReparseActivities>;
