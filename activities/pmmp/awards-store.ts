/**
 * Awards read from notice documents, written to `pmmp.notices`, `pmmp.attributions` and `pmmp.bids`.
 * A notice is the unit of replacement: its row is upserted and its attributions and bids are deleted
 * and rewritten in the same transaction, so a rerun (or a reparse that reads fewer lots than before)
 * leaves exactly the rows the latest parse produced, never a mix of two parses.
 */
import { and, asc, eq, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { jsonRecordset } from '../engine/bulk';
import { achevements, attributions, bids, notices, type NewAttribution, type NewBid, type NewNotice, type NoticeKind } from '../../schema/pmmp/tables';
import { fold } from './awards/text';
import { nameSimilarity } from './awards/names';
import type { AchevementNotice, AwardNotice, ExtractionMethod, WinnerItem } from './awards';
import { LOW_CONFIDENCE } from './awards/schema';

export interface NoticeKey {
  orgAcronyme: string;
  refConsultation: string;
  idAvis: string;
}

export interface StoredText {
  text: string;
  method: ExtractionMethod;
  ocrPages: number[];
  ocrConfidence: number | null;
}

export interface NoticeAwardRecord extends NoticeKey {
  kind: NoticeKind;
  url: string;
  annonceType?: number | null;
  label?: string | null;
  publishedOn?: string | null;
  proofId: string;
  extracted: StoredText;
  award: AwardNotice;
  parserVersion: string;
}

export interface StoreCounts {
  attributions: number;
  bids: number;
}

/**
 * The natural key of a bidder: the same company is printed "Sté X s.a.r.l", "STE X SARL" from one
 * notice to the next, so case, accents and punctuation must not make two keys.
 */
export function bidderKey(name: string): string {
  return fold(name)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .toUpperCase();
}

/** Lot key as the views join on it: the lot number, '' for a single lot. */
function lotKeysOf(award: AwardNotice): string[] {
  // A notice that covers several consultations repeats lot numbers per reference (pv-c1d8f75a).
  const multiRef = new Set(award.lots.map((l) => l.reference).filter(Boolean)).size > 1;
  const seen = new Map<string, number>();
  return award.lots.map((lot) => {
    const base = multiRef && lot.reference ? `${lot.reference}:${lot.lotNumber ?? ''}` : (lot.lotNumber ?? '');
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    // Two blocks under the same key would collide on the primary key; both are kept, distinguishable.
    return n === 1 ? base : `${base}#${n}`;
  });
}

/**
 * The parser's confidence in a winner and its amount, and whether either is low enough that the row
 * must be shown flagged (issue 14). A winner the parser did not rate (an older parse) is not flagged.
 */
function confidenceColumns(winner: WinnerItem | undefined): Pick<NewAttribution, 'winnerConfidence' | 'amountConfidence' | 'lowConfidence' | 'provenance'> {
  if (!winner) return { winnerConfidence: null, amountConfidence: null, lowConfidence: false, provenance: null };
  const name = winner.nameSource;
  const amount = winner.amount !== null ? winner.amountSource : undefined;
  return {
    winnerConfidence: name?.confidence ?? null,
    amountConfidence: amount?.confidence ?? null,
    lowConfidence: (name !== undefined && name.confidence < LOW_CONFIDENCE) || (amount !== undefined && amount.confidence < LOW_CONFIDENCE),
    provenance: name || amount ? { ...(name ? { winner: name } : {}), ...(amount ? { amount } : {}) } : null,
  };
}

export function awardRows(key: NoticeKey, award: AwardNotice, proofId: string): { attributions: NewAttribution[]; bids: NewBid[] } {
  const keys = lotKeysOf(award);
  const attributionRows: NewAttribution[] = [];
  const bidRows: NewBid[] = [];
  award.lots.forEach((lot, i) => {
    const lotKey = keys[i] ?? '';
    const winner = lot.winners[0];
    attributionRows.push({
      ...key,
      lotKey,
      status: lot.status,
      winner: winner?.name ?? null,
      winnerIsGroupement: winner ? winner.isGroupement : null,
      winnerMembers: winner?.members ?? [],
      amount: winner?.amount ?? null,
      amountMin: winner?.amountMin ?? null,
      bidderCount: lot.bidderCount ?? (lot.bidders.length > 0 ? lot.bidders.length : null),
      openingDate: lot.openingDate ?? award.openingDate,
      ...confidenceColumns(winner),
      proofId,
    });
    // A winner is the bid of its own spelling when there is one ("TAFILALET TAFILALET SARL" did not
    // win because "STE TAFILALET-TAFILALET SARL AU" did); otherwise the bid spelled most alike.
    const bidKeys = new Set(lot.bidders.map((b) => bidderKey(b.bidder)));
    const isRetained = (b: { bidder: string }, k: string): boolean =>
      lot.winners.some((w) => bidderKey(w.name) === k || (!bidKeys.has(bidderKey(w.name)) && nameSimilarity(w.name, b.bidder) >= 0.9));
    const byKey = new Map<string, NewBid>();
    for (const b of lot.bidders) {
      const k = bidderKey(b.bidder);
      // A bidder listed twice (base offer and variant) keeps its first line: one row per bidder and lot.
      if (!k || byKey.has(k)) continue;
      byKey.set(k, {
        ...key,
        lotKey,
        bidderKey: k,
        bidder: b.bidder,
        isGroupement: b.isGroupement,
        members: b.members,
        amount: b.amount,
        amountVerified: b.amountVerified,
        eliminated: b.eliminated,
        eliminationReason: b.eliminationReason,
        retained: isRetained(b, k),
        proofId,
      });
    }
    bidRows.push(...byKey.values());
  });
  return { attributions: attributionRows, bids: bidRows };
}

function keyWhere<T extends typeof attributions | typeof bids | typeof notices>(t: T, key: NoticeKey): SQL {
  return and(eq(t.orgAcronyme, key.orgAcronyme), eq(t.refConsultation, key.refConsultation), eq(t.idAvis, key.idAvis))!;
}

/** Upserts the notice and replaces its attributions and bids, all or nothing. */
export async function storeNoticeAward(db: PostgresJsDatabase, r: NoticeAwardRecord): Promise<StoreCounts> {
  return db.transaction((tx) => writeNoticeAwards(tx, [r]));
}

/** Keyset pagination in the notices' key order: rows strictly after `a`. */
function afterNotice(a: NoticeKey): SQL {
  return sql`(${notices.orgAcronyme}, ${notices.refConsultation}, ${notices.idAvis}) > (${a.orgAcronyme}, ${a.refConsultation}, ${a.idAvis})`;
}

export interface ReparseCandidate extends NoticeKey {
  kind: NoticeKind;
  url: string;
  proofId: string;
  text: string | null;
  textMethod: ExtractionMethod | null;
  ocrPages: number[] | null;
  ocrConfidence: number | null;
}

/** Notices read by another parser version, after `after` in key order (keyset: stable under updates). */
export async function noticesToReparse(
  db: PostgresJsDatabase,
  opts: { after?: NoticeKey | null; limit: number; parserVersion: string },
): Promise<ReparseCandidate[]> {
  const where: SQL[] = [isNotNull(notices.proofId), sql`${notices.parserVersion} is distinct from ${opts.parserVersion}`];
  if (opts.after) where.push(afterNotice(opts.after));
  const rows = await db
    .select({
      orgAcronyme: notices.orgAcronyme,
      refConsultation: notices.refConsultation,
      idAvis: notices.idAvis,
      kind: notices.kind,
      url: notices.url,
      proofId: notices.proofId,
      text: notices.text,
      textMethod: notices.textMethod,
      ocrPages: notices.ocrPages,
      ocrConfidence: notices.ocrConfidence,
    })
    .from(notices)
    .where(and(...where))
    .orderBy(asc(notices.orgAcronyme), asc(notices.refConsultation), asc(notices.idAvis))
    .limit(opts.limit);
  return rows.map((r) => ({ ...r, proofId: r.proofId! }));
}

/** The kinds of notice whose documents say who won: the download queue holds only these. */
export const AWARD_NOTICE_KINDS: NoticeKind[] = ['extrait_pv', 'resultat_definitif', 'achevement'];

export interface PendingNotice extends NoticeKey {
  kind: NoticeKind;
  url: string;
  annonceType: number | null;
  label: string | null;
  publishedOn: string | null;
}

/**
 * Notices discovered on detail pages whose document is not downloaded yet, in key order after
 * `after` (keyset), skipping those that already failed `maxAttempts` times.
 */
export async function pendingNotices(
  db: PostgresJsDatabase,
  opts: { after?: NoticeKey | null; limit: number; maxAttempts: number; kinds?: NoticeKind[] },
): Promise<PendingNotice[]> {
  const kinds = opts.kinds ?? AWARD_NOTICE_KINDS;
  const where: SQL[] = [sql`${notices.proofId} is null`, sql`${notices.fetchAttempts} < ${opts.maxAttempts}`, inArray(notices.kind, kinds)];
  if (opts.after) where.push(afterNotice(opts.after));
  return db
    .select({
      orgAcronyme: notices.orgAcronyme,
      refConsultation: notices.refConsultation,
      idAvis: notices.idAvis,
      kind: notices.kind,
      url: notices.url,
      annonceType: notices.annonceType,
      label: notices.label,
      publishedOn: notices.publishedOn,
    })
    .from(notices)
    .where(and(...where))
    .orderBy(asc(notices.orgAcronyme), asc(notices.refConsultation), asc(notices.idAvis))
    .limit(opts.limit);
}

/** A document that could not be read: counted on its notice (and its proof kept when there is one). */
export async function markNoticeFailed(db: PostgresJsDatabase, key: NoticeKey, error: string, proofId: string | null): Promise<void> {
  await db
    .update(notices)
    .set({
      fetchAttempts: sql`${notices.fetchAttempts} + 1`,
      lastError: error.slice(0, 2000),
      proofId: sql`coalesce(${proofId}, ${notices.proofId})`,
      updatedAt: sql`now()`,
    })
    .where(keyWhere(notices, key));
}

/** The rapport d'achèvement's facts, one row per notice, rewritten by each parse. */
export async function storeAchevement(db: Pick<PostgresJsDatabase, 'insert'>, key: NoticeKey, a: AchevementNotice, proofId: string): Promise<void> {
  const values = { contractors: a.contractors, initialAmount: a.initialAmount, finalAmount: a.finalAmount, completedOn: a.completedOn, proofId };
  await db
    .insert(achevements)
    .values({ ...key, ...values })
    .onConflictDoUpdate({
      target: [achevements.orgAcronyme, achevements.refConsultation, achevements.idAvis],
      set: { ...values, updatedAt: sql`now()` },
    });
}

/** Notices per transaction of the bulk loader. */
export const AWARD_BULK_CHUNK = 1_000;

const NOTICE_PROPS = [
  'orgAcronyme', 'refConsultation', 'idAvis', 'kind', 'url', 'annonceType', 'label', 'publishedOn', 'proofId', 'text', 'textMethod',
  'ocrPages', 'ocrConfidence', 'parserVersion', 'parsedAt', 'awardReference', 'openingDate', 'commissionEndDate', 'documentDate',
  'parseConfidence', 'parseWarnings',
] as const satisfies readonly (keyof NewNotice)[];
const ATTRIBUTION_PROPS = [
  'orgAcronyme', 'refConsultation', 'idAvis', 'lotKey', 'status', 'winner', 'winnerIsGroupement', 'winnerMembers', 'amount', 'amountMin',
  'bidderCount', 'openingDate', 'winnerConfidence', 'amountConfidence', 'lowConfidence', 'provenance', 'proofId',
] as const satisfies readonly (keyof NewAttribution)[];
const BID_PROPS = [
  'orgAcronyme', 'refConsultation', 'idAvis', 'lotKey', 'bidderKey', 'bidder', 'isGroupement', 'members', 'amount', 'amountVerified',
  'eliminated', 'eliminationReason', 'retained', 'proofId',
] as const satisfies readonly (keyof NewBid)[];

/**
 * The bulk variant of `storeNoticeAward` for large loads (a backfill, a reparse of many proofs): the same
 * rows (`awardRows`), the same replacement rule (a notice's attributions and bids are exactly those of
 * its latest parse), one statement per table and chunk (rows as one JSON value), one transaction per chunk.
 */
export async function storeNoticeAwards(db: PostgresJsDatabase, records: NoticeAwardRecord[]): Promise<StoreCounts> {
  const total: StoreCounts = { attributions: 0, bids: 0 };
  for (let i = 0; i < records.length; i += AWARD_BULK_CHUNK) {
    const chunk = records.slice(i, i + AWARD_BULK_CHUNK);
    const written = await db.transaction((tx) => writeNoticeAwards(tx, chunk));
    total.attributions += written.attributions;
    total.bids += written.bids;
  }
  return total;
}

/**
 * `storeNoticeAwards`' statements for one chunk, inside the caller's transaction (a reparse writes its
 * batch's rejections in the same one): one statement per table, rows as one JSON value.
 */
export async function writeNoticeAwards(tx: Pick<PostgresJsDatabase, 'execute'>, records: readonly NoticeAwardRecord[]): Promise<StoreCounts> {
  const chunk = [...new Map(records.map((r) => [`${r.orgAcronyme}\u0000${r.refConsultation}\u0000${r.idAvis}`, r])).values()];
  if (chunk.length === 0) return { attributions: 0, bids: 0 };
  const attributionRows: NewAttribution[] = [];
  const bidRows: NewBid[] = [];
  for (const r of chunk) {
    const rows = awardRows({ orgAcronyme: r.orgAcronyme, refConsultation: r.refConsultation, idAvis: r.idAvis }, r.award, r.proofId);
    attributionRows.push(...rows.attributions);
    bidRows.push(...rows.bids);
  }
  const parsedAt = new Date().toISOString();
  const noticeRows: NewNotice[] = chunk.map((r) => ({
    orgAcronyme: r.orgAcronyme,
    refConsultation: r.refConsultation,
    idAvis: r.idAvis,
    kind: r.kind,
    url: r.url,
    annonceType: r.annonceType ?? null,
    label: r.label ?? null,
    publishedOn: r.publishedOn ?? null,
    proofId: r.proofId,
    text: r.extracted.text,
    textMethod: r.extracted.method,
    ocrPages: r.extracted.ocrPages,
    ocrConfidence: r.extracted.ocrConfidence,
    parserVersion: r.parserVersion,
    parsedAt,
    awardReference: r.award.reference,
    openingDate: r.award.openingDate,
    commissionEndDate: r.award.commissionEndDate,
    documentDate: r.award.documentDate,
    parseConfidence: r.award.confidence,
    parseWarnings: r.award.warnings,
  }));
  await tx.execute(sql`
    insert into ${notices} ${jsonRecordset(notices, noticeRows, NOTICE_PROPS)}
    on conflict (org_acronyme, ref_consultation, id_avis) do update set
      kind = excluded.kind, url = excluded.url, proof_id = excluded.proof_id, text = excluded.text,
      text_method = excluded.text_method, ocr_pages = excluded.ocr_pages, ocr_confidence = excluded.ocr_confidence,
      parser_version = excluded.parser_version, parsed_at = excluded.parsed_at, award_reference = excluded.award_reference,
      opening_date = excluded.opening_date, commission_end_date = excluded.commission_end_date,
      document_date = excluded.document_date, parse_confidence = excluded.parse_confidence,
      parse_warnings = excluded.parse_warnings, updated_at = now(),
      -- What the list told us is not in the document: a reparse must not erase it.
      annonce_type = coalesce(excluded.annonce_type, ${notices.annonceType}),
      label = coalesce(excluded.label, ${notices.label}),
      published_on = coalesce(excluded.published_on, ${notices.publishedOn})`);
  const keys = JSON.stringify(chunk.map((r) => [r.orgAcronyme, r.refConsultation, r.idAvis]));
  for (const table of [bids, attributions] as const) {
    await tx.execute(sql`
      delete from ${table} t using jsonb_array_elements(${keys}::jsonb) k
      where t.org_acronyme = k->>0 and t.ref_consultation = k->>1 and t.id_avis = k->>2`);
  }
  if (attributionRows.length) await tx.execute(sql`insert into ${attributions} ${jsonRecordset(attributions, attributionRows, ATTRIBUTION_PROPS)}`);
  if (bidRows.length) await tx.execute(sql`insert into ${bids} ${jsonRecordset(bids, bidRows, BID_PROPS)}`);
  return { attributions: attributionRows.length, bids: bidRows.length };
}
