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
import type { ProofStore } from '../engine/proofs';
import { bdcRow, upsertBdcResults } from './bdc';
import { PageShapeError, parseBdcResults, parseConsultationDetail, parseLots, parseResultList, type ConsultationListItem, type LotItem } from './parse/index';
import { isDay } from './portal';
import { parseOrRecord } from './rejections';
import { buildConsultationRecord, upsertConsultation } from './store';

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
}

async function page(deps: PmmpReparseDeps, proofId: string): Promise<{ html: string; url: string }> {
  const proof = await deps.proofs.get(proofId);
  // Links resolve against the portal's page (`…/index.php`), as in the crawl, not the page's own query.
  const at = new URL(proof.url);
  return { html: decodeBody(proof.body, proof.contentType), url: `${at.origin}${at.pathname}` };
}

/**
 * A list page holds up to 500 rows (8 MB at 500): parsed once for all its consultations, not once
 * per consultation (which made a 100-row page cost ~100 parses). Rows are kept, not the HTML; the
 * cache lives as long as the proof store the worker was given (a proof never changes).
 */
const listCaches = new WeakMap<ProofStore, Map<string, Map<string, ConsultationListItem>>>();
async function listedRows(deps: PmmpReparseDeps, proofId: string): Promise<Map<string, ConsultationListItem>> {
  let lists = listCaches.get(deps.proofs);
  if (!lists) listCaches.set(deps.proofs, (lists = new Map()));
  const cached = lists.get(proofId);
  if (cached) return cached;
  const listPage = await page(deps, proofId);
  const rows = new Map<string, ConsultationListItem>();
  for (const item of parseResultList(listPage.html, { baseUrl: listPage.url }).items) {
    const k = `${item.orgAcronyme}/${item.refConsultation}`;
    if (!rows.has(k)) rows.set(k, item);
  }
  if (lists.size >= 64) lists.delete(lists.keys().next().value!);
  lists.set(proofId, rows);
  return rows;
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
        publishedOn: consultations.publishedOn,
        // Qualified by hand: inside a subquery drizzle names columns without their table.
        lotsProofId: sql<string | null>`(select l.proof_id from pmmp.lots l where l.org_acronyme = pmmp.consultations.org_acronyme
          and l.ref_consultation = pmmp.consultations.ref_consultation and l.proof_id is not null limit 1)`,
      })
      .from(consultations)
      .where(and(...where))
      .orderBy(asc(consultations.orgAcronyme), asc(consultations.refConsultation))
      .limit(Math.max(0, input.limit - counts.consultations));

    for (const row of rows) {
      const key = { orgAcronyme: row.orgAcronyme, refConsultation: row.refConsultation };
      const naturalKey = `${key.orgAcronyme}/${key.refConsultation}`;
      // The consultation is read again from its three pages; the rejection carries the detail page's proof.
      const read = await parseOrRecord(
        deps.db,
        input.runId ?? null,
        async () => {
          const detailPage = await page(deps, row.detailProofId!);
          const detail = parseConsultationDetail(detailPage.html, { baseUrl: detailPage.url, key });
          let listed: ConsultationListItem | undefined;
          if (row.listProofId) listed = (await listedRows(deps, row.listProofId)).get(naturalKey);
          if (!listed) throw new PageShapeError('list', [`row ${naturalKey} in list proof ${row.listProofId ?? '(none)'}`]);
          // A notice list dates the notice, not the consultation: its day is not this row's.
          if (listed.annonceType !== null) listed = { ...listed, publishedOn: null };
          let lotItems: LotItem[] = [];
          if (row.lotsProofId) {
            const lotsPage = await page(deps, row.lotsProofId);
            lotItems = parseLots(lotsPage.html, { baseUrl: lotsPage.url, key }).lots;
          }
          return buildConsultationRecord(listed, detail.item, lotItems, { list: row.listProofId!, detail: row.detailProofId!, lots: row.lotsProofId });
        },
        { kind: 'pmmp.consultation', naturalKey, reason: 'reparse', source: 'proofs', proofId: row.detailProofId ?? undefined },
      );
      if (read.ok) {
        const outcome = await upsertConsultation(deps.db, read.parsed);
        if (outcome === 'unchanged') counts.unchanged++;
        else counts.updated++;
      } else {
        counts.rejected++;
      }
      counts.consultations++;
      cursor = key;
      progress({ cursor, counts: { ...counts } });
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
