/**
 * Loading consultations and their lots. Idempotent on the portal's natural key; a content hash
 * over what was read (never over proof ids: the same page fetched twice has other bytes, a new
 * page state) decides whether a row is rewritten, so `updated_at` means "the portal changed it".
 */
import { createHash } from 'node:crypto';
import { getTableColumns, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { anyChanged, jsonRecordset } from '../engine/bulk';
import { refusedValue } from '../engine/errors';
import { consultations, lots, notices, type MarketKind, type NewConsultation, type NewLot, type NewNotice, type NoticeKind } from '../../schema/pmmp/tables';
import type { ConsultationDetailItem, ConsultationListItem, LotItem } from './parse/index';

export interface ConsultationRecord {
  row: NewConsultation;
  lots: NewLot[];
  /** Notice documents the detail page links to: the download queue of the award reading. */
  notices: NewNotice[];
}

/** Which list a row came from: a notice list dates the notice, not the consultation. */
export interface ListOrigin {
  /** annonceType of the notice list (5 extrait de PV, 4 résultat définitif, 6 achèvement); null on consultation lists. */
  annonceType: 5 | 4 | 6 | null;
}

export const NOTICE_KIND_OF_ANNONCE_TYPE: Record<5 | 4 | 6, NoticeKind> = { 5: 'extrait_pv', 4: 'resultat_definitif', 6: 'achevement' };

/** The detail page names each document ("Extrait de PV - 123,45 Ko"); the name is all it says of its kind. */
export function noticeKindOfLabel(label: string | null | undefined): NoticeKind {
  if (!label) return 'inconnu';
  const folded = label.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  if (/extrait|proces[- ]verbal|\bpv\b/.test(folded)) return 'extrait_pv';
  if (/resultat|attribution/.test(folded)) return 'resultat_definitif';
  if (/achevement/.test(folded)) return 'achevement';
  if (/\bavis\b/.test(folded)) return 'avis';
  return 'inconnu';
}

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

/** The API filters on three kinds; the portal's label has variants (case, accents, plural). */
export function marketKindOf(category: string | null | undefined): MarketKind | null {
  if (!category) return null;
  const folded = category.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  if (folded.includes('travaux')) return 'travaux';
  if (folded.includes('fourniture')) return 'fournitures';
  if (folded.includes('service')) return 'services';
  return null;
}

function contentHash(row: NewConsultation, lotRows: NewLot[]): string {
  // The publication day is left out: a notice list does not show it, and its absence is no change.
  const { listProofId: _l, detailProofId: _d, contentHash: _h, firstSeenAt: _f, updatedAt: _u, publishedOn: _p, ...content } = row;
  const lotContent = lotRows.map(({ proofId: _p, firstSeenAt: _lf, updatedAt: _lu, ...l }) => l);
  return createHash('sha256').update(JSON.stringify([content, lotContent])).digest('hex');
}

/**
 * One consultation as stored: the detail page wins where it says something (it is the fuller
 * source), the list gives what only it shows (publication day, procedure code).
 */
export function buildConsultationRecord(
  listed: ConsultationListItem,
  detail: ConsultationDetailItem,
  lotItems: LotItem[],
  proofs: { list: string; detail: string; lots: string | null },
  origin: ListOrigin = { annonceType: null },
): ConsultationRecord {
  const key = { orgAcronyme: listed.orgAcronyme, refConsultation: listed.refConsultation };
  const listedKind = origin.annonceType ? NOTICE_KIND_OF_ANNONCE_TYPE[origin.annonceType] : null;
  const category = detail.category ?? listed.category;
  const row: NewConsultation = {
    ...key,
    reference: detail.reference ?? listed.reference,
    object: detail.object ?? listed.object,
    buyer: detail.buyer ?? listed.buyer,
    procedure: detail.procedure ?? listed.procedure,
    procedureCode: listed.procedureCode,
    passationMode: detail.passationMode,
    category,
    marketKind: marketKindOf(category),
    executionPlace: detail.executionPlace ?? listed.executionPlace,
    // On a notice list "Publié le" is the notice's day; the consultation's own is kept from its list.
    publishedOn: listedKind ? null : listed.publishedOn,
    deadline: detail.deadline ?? listed.deadline,
    estimationTtc: detail.estimationTtc,
    cautionProvisoire: detail.cautionProvisoire,
    openingPlace: detail.openingPlace,
    withdrawalAddress: detail.withdrawalAddress,
    submissionAddress: detail.submissionAddress,
    variantAllowed: detail.variantAllowed,
    reservedForSmallBusiness: detail.reservedForSmallBusiness,
    siteVisits: detail.siteVisits,
    qualifications: detail.qualifications,
    agrements: detail.agrements,
    activityDomains: detail.activityDomains,
    allotted: detail.allotted,
    lotCount: detail.lotCount,
    detailUrl: listed.detailUrl,
    listProofId: proofs.list,
    detailProofId: proofs.detail,
  };
  const lotRows: NewLot[] = lotItems.map((l) => ({ ...key, ...l, proofId: proofs.lots }));
  row.contentHash = contentHash(row, lotRows);
  const documents = detail.noticeDocuments.map((d) => ({ ...d, kind: noticeKindOfLabel(d.label) }));
  // The list's date belongs to the notice of its kind, when the page shows exactly one of that kind.
  const dated = listedKind ? documents.filter((d) => d.kind === listedKind) : [];
  const noticeRows: NewNotice[] = documents.map((d) => ({
    ...key,
    idAvis: d.idAvis,
    kind: d.kind,
    url: d.url,
    label: d.label,
    annonceType: dated.length === 1 && dated[0] === d ? origin.annonceType : null,
    publishedOn: dated.length === 1 && dated[0] === d ? listed.publishedOn : null,
  }));
  return { row, lots: lotRows, notices: noticeRows };
}

/**
 * Queues the notices a detail page links to. What the download and the award reading wrote (proof,
 * text, parse) is never touched here; the list's date and type only fill what is still unknown.
 */
export async function upsertDiscoveredNotices(db: Pick<PostgresJsDatabase, 'execute'>, rows: NewNotice[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into ${notices} ${jsonRecordset(notices, rows, NOTICE_PROPS)}
    on conflict (org_acronyme, ref_consultation, id_avis) do update set
      label = coalesce(excluded.label, ${notices.label}),
      annonce_type = coalesce(${notices.annonceType}, excluded.annonce_type),
      published_on = coalesce(${notices.publishedOn}, excluded.published_on),
      -- Once read, the document's own title decided the kind; before, the newest label does.
      kind = case when ${notices.parsedAt} is null then excluded.kind else ${notices.kind} end
    where ${notices.label} is distinct from excluded.label
      or (${notices.annonceType} is null and excluded.annonce_type is not null)
      or (${notices.publishedOn} is null and excluded.published_on is not null)`);
}

const CONSULTATION_PROPS = [
  'orgAcronyme', 'refConsultation', 'reference', 'object', 'buyer', 'procedure', 'procedureCode', 'passationMode', 'category',
  'marketKind', 'executionPlace', 'publishedOn', 'deadline', 'estimationTtc', 'cautionProvisoire', 'openingPlace',
  'withdrawalAddress', 'submissionAddress', 'variantAllowed', 'reservedForSmallBusiness', 'siteVisits', 'qualifications',
  'agrements', 'activityDomains', 'allotted', 'lotCount', 'detailUrl', 'listProofId', 'detailProofId', 'contentHash',
] as const satisfies readonly (keyof NewConsultation)[];
/** What a lot says (its key and proof apart): a lot rewritten with none of these changed keeps its updated_at. */
const LOT_CONTENT = [
  'object', 'category', 'description', 'estimationTtc', 'cautionProvisoire', 'qualifications', 'agrements',
] as const satisfies readonly (keyof NewLot)[];
const LOT_PROPS = ['orgAcronyme', 'refConsultation', 'lotNumber', ...LOT_CONTENT, 'proofId'] as const satisfies readonly (keyof NewLot)[];
const NOTICE_PROPS = [
  'orgAcronyme', 'refConsultation', 'idAvis', 'kind', 'annonceType', 'label', 'url', 'publishedOn',
] as const satisfies readonly (keyof NewNotice)[];

const consultationColumns = getTableColumns(consultations);
/** Every column the reading sets, the key and the publication day apart (that one is only ever filled). */
const CONSULTATION_ASSIGNMENTS = sql.raw(
  CONSULTATION_PROPS.filter((p) => p !== 'orgAcronyme' && p !== 'refConsultation' && p !== 'publishedOn')
    .map((p) => `"${consultationColumns[p].name}" = excluded."${consultationColumns[p].name}"`)
    .join(', '),
);
const lotColumns = getTableColumns(lots);
const LOT_ASSIGNMENTS = sql.raw([...LOT_CONTENT, 'proofId' as const].map((p) => `"${lotColumns[p].name}" = excluded."${lotColumns[p].name}"`).join(', '));

const keyOf = (r: { orgAcronyme: string; refConsultation: string }) => `${r.orgAcronyme}\u0000${r.refConsultation}`;

/**
 * The records' indexes in rounds whose keys are distinct (ON CONFLICT refuses a statement that touches
 * one row twice): a key's second reading goes to the next round, so it is written after the first, as it came.
 */
function distinctRounds(records: readonly ConsultationRecord[]): number[][] {
  const rounds: { keys: Set<string>; indexes: number[] }[] = [];
  const seen = new Map<string, number>();
  records.forEach((r, i) => {
    const key = keyOf(r.row);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    rounds[round] ??= { keys: new Set(), indexes: [] };
    rounds[round].keys.add(key);
    rounds[round].indexes.push(i);
  });
  return rounds.map((r) => r.indexes);
}

/**
 * Records of distinct keys in four statements whatever their number: the consultations upserted (an
 * unchanged content hash rewrites nothing, so `updated_at` means "the portal changed it"; the list's
 * publication day only fills a missing one), their notices queued, and for the new or changed ones the
 * lots the new version no longer lists deleted and the others upserted (a lot that says the same is not
 * rewritten). Rows travel as one JSON value per statement (see engine/bulk.ts).
 */
async function writeRound(db: Pick<PostgresJsDatabase, 'execute'>, records: readonly ConsultationRecord[]): Promise<UpsertOutcome[]> {
  const written = await db.execute<{ org: string; ref: string; inserted: boolean }>(sql`
    insert into ${consultations} ${jsonRecordset(consultations, records.map((r) => r.row), CONSULTATION_PROPS)}
    on conflict (org_acronyme, ref_consultation) do update set ${CONSULTATION_ASSIGNMENTS},
      published_on = coalesce(excluded.published_on, ${consultations.publishedOn}), updated_at = now()
    where ${consultations.contentHash} is distinct from excluded.content_hash
      or (${consultations.publishedOn} is null and excluded.published_on is not null)
    returning org_acronyme as org, ref_consultation as ref, (xmax = 0) as inserted`);
  await upsertDiscoveredNotices(db, records.flatMap((r) => r.notices));
  const outcome = new Map<string, UpsertOutcome>(written.map((w) => [keyOf({ orgAcronyme: w.org, refConsultation: w.ref }), w.inserted ? 'inserted' : 'updated']));
  if (outcome.size > 0) {
    const changed = records.filter((r) => outcome.has(keyOf(r.row)));
    const keep = JSON.stringify(changed.map((r) => ({ org: r.row.orgAcronyme, ref: r.row.refConsultation, keep: r.lots.map((l) => l.lotNumber) })));
    await db.execute(sql`
      delete from ${lots} l using jsonb_to_recordset(${keep}::jsonb) as k(org text, ref text, keep int[])
      where l.org_acronyme = k.org and l.ref_consultation = k.ref and l.lot_number <> all(k.keep)`);
    const lotRows = changed.flatMap((r) => r.lots);
    if (lotRows.length) {
      await db.execute(sql`
        insert into ${lots} ${jsonRecordset(lots, lotRows, LOT_PROPS)}
        on conflict (org_acronyme, ref_consultation, lot_number) do update set ${LOT_ASSIGNMENTS}, updated_at = now()
        where ${anyChanged(lots, [...LOT_CONTENT, 'proofId'])}`);
    }
  }
  return records.map((r) => outcome.get(keyOf(r.row)) ?? 'unchanged');
}

/** Records in rounds of distinct keys (see `distinctRounds`), outcomes in the records' order. */
async function writeRecords(db: Pick<PostgresJsDatabase, 'execute'>, records: readonly ConsultationRecord[]): Promise<UpsertOutcome[]> {
  const outcomes = new Array<UpsertOutcome>(records.length);
  for (const round of distinctRounds(records)) {
    const written = await writeRound(db, round.map((i) => records[i]!));
    round.forEach((i, j) => (outcomes[i] = written[j]!));
  }
  return outcomes;
}

/** A record's outcome, or the database's refusal of one of its values (the refused row is not written). */
export type StoreOutcome = UpsertOutcome | { refused: Error & { code: string } };

/**
 * A list page's records in the caller's transaction, set-based (a few statements per page, not per row).
 * When the database refuses a value (SQLSTATE class 22/23: a NUL byte, an amount out of range), the
 * page's statements are rolled back to a savepoint and the records written one by one, each in its own
 * savepoint, so that the refused one is reported with its key and none of the others is lost.
 */
export async function storeConsultations(db: Pick<PostgresJsDatabase, 'transaction'>, records: readonly ConsultationRecord[]): Promise<StoreOutcome[]> {
  if (records.length === 0) return [];
  try {
    return await db.transaction((sp) => writeRecords(sp, records));
  } catch (err) {
    if (!refusedValue(err)) throw err;
  }
  const outcomes: StoreOutcome[] = [];
  for (const record of records) {
    try {
      const [outcome] = await db.transaction((sp) => writeRound(sp, [record]));
      outcomes.push(outcome!);
    } catch (err) {
      const refused = refusedValue(err);
      if (!refused) throw err;
      outcomes.push({ refused });
    }
  }
  return outcomes;
}

/** Consultations per statement and transaction of the bulk loader. */
export const BULK_CHUNK = 1_000;

/**
 * The bulk variant for backfills and large loads (the API's test datasets): the same rows and rules as a
 * crawl, `BULK_CHUNK` records per transaction; a refused value fails the load.
 */
export async function upsertConsultations(db: PostgresJsDatabase, records: ConsultationRecord[]): Promise<Record<UpsertOutcome, number>> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0 };
  for (let i = 0; i < records.length; i += BULK_CHUNK) {
    const chunk = records.slice(i, i + BULK_CHUNK);
    for (const outcome of await db.transaction((tx) => writeRecords(tx, chunk))) counts[outcome]++;
  }
  return counts;
}
