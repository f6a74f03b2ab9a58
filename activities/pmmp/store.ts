/**
 * Loading consultations and their lots. Idempotent on the portal's natural key; a content hash
 * over what was read (never over proof ids: the same page fetched twice has other bytes, a new
 * page state) decides whether a row is rewritten, so `updated_at` means "the portal changed it".
 */
import { createHash } from 'node:crypto';
import { and, eq, getTableColumns, notInArray, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { fromExcluded, jsonRecordset } from '../engine/bulk';
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
 * Upserts one consultation and, when it is new or changed, replaces its lots, in one transaction
 * so a reader never sees a consultation with half of its lots.
 */
export async function upsertConsultation(db: Pick<PostgresJsDatabase, 'transaction'>, record: ConsultationRecord): Promise<UpsertOutcome> {
  return db.transaction(async (tx) => {
    const { orgAcronyme: _o, refConsultation: _r, firstSeenAt: _f, ...changes } = record.row;
    const written = await tx
      .insert(consultations)
      .values(record.row)
      .onConflictDoUpdate({
        target: [consultations.orgAcronyme, consultations.refConsultation],
        set: {
          ...changes,
          publishedOn: sql`coalesce(excluded.published_on, ${consultations.publishedOn})`,
          updatedAt: sql`now()`,
        },
        setWhere: sql`${consultations.contentHash} is distinct from excluded.content_hash
          or (${consultations.publishedOn} is null and excluded.published_on is not null)`,
      })
      .returning({ inserted: sql<boolean>`(xmax = 0)` });
    await upsertDiscoveredNotices(tx, record.notices);
    const first = written[0];
    if (!first) return 'unchanged';

    const key = and(eq(lots.orgAcronyme, record.row.orgAcronyme), eq(lots.refConsultation, record.row.refConsultation));
    const numbers = record.lots.map((l) => l.lotNumber);
    await tx.delete(lots).where(numbers.length ? and(key, notInArray(lots.lotNumber, numbers)) : key);
    if (record.lots.length) {
      await tx
        .insert(lots)
        .values(record.lots)
        .onConflictDoUpdate({
          target: [lots.orgAcronyme, lots.refConsultation, lots.lotNumber],
          set: {
            ...fromExcluded(lots, ['object', 'category', 'description', 'estimationTtc', 'cautionProvisoire', 'qualifications', 'agrements', 'proofId']),
            updatedAt: sql`now()`,
          },
        });
    }
    return first.inserted ? 'inserted' : 'updated';
  });
}

/**
 * Queues the notices a detail page links to. What the download and the award reading wrote (proof,
 * text, parse) is never touched here; the list's date and type only fill what is still unknown.
 */
export async function upsertDiscoveredNotices(db: Pick<PostgresJsDatabase, 'insert'>, rows: NewNotice[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(notices)
    .values(rows)
    .onConflictDoUpdate({
      target: [notices.orgAcronyme, notices.refConsultation, notices.idAvis],
      set: {
        label: sql`coalesce(excluded.label, ${notices.label})`,
        annonceType: sql`coalesce(${notices.annonceType}, excluded.annonce_type)`,
        publishedOn: sql`coalesce(${notices.publishedOn}, excluded.published_on)`,
        // Once read, the document's own title decided the kind; before, the newest label does.
        kind: sql`case when ${notices.parsedAt} is null then excluded.kind else ${notices.kind} end`,
      },
      setWhere: sql`${notices.label} is distinct from excluded.label
        or (${notices.annonceType} is null and excluded.annonce_type is not null)
        or (${notices.publishedOn} is null and excluded.published_on is not null)`,
    });
}

/** Consultations per statement and transaction of the bulk loader. */
export const BULK_CHUNK = 1_000;

const CONSULTATION_PROPS = [
  'orgAcronyme', 'refConsultation', 'reference', 'object', 'buyer', 'procedure', 'procedureCode', 'passationMode', 'category',
  'marketKind', 'executionPlace', 'publishedOn', 'deadline', 'estimationTtc', 'cautionProvisoire', 'openingPlace',
  'withdrawalAddress', 'submissionAddress', 'variantAllowed', 'reservedForSmallBusiness', 'siteVisits', 'qualifications',
  'agrements', 'activityDomains', 'allotted', 'lotCount', 'detailUrl', 'listProofId', 'detailProofId', 'contentHash',
] as const satisfies readonly (keyof NewConsultation)[];
const LOT_PROPS = [
  'orgAcronyme', 'refConsultation', 'lotNumber', 'object', 'category', 'description', 'estimationTtc', 'cautionProvisoire',
  'qualifications', 'agrements', 'proofId',
] as const satisfies readonly (keyof NewLot)[];

/**
 * The bulk variant of `upsertConsultation`, for backfills and large loads: the same rows (built by
 * `buildConsultationRecord`), the same rule (an unchanged content hash rewrites nothing, a changed one
 * replaces the lots), one statement per table and chunk (rows as one JSON value), one transaction per chunk.
 */
export async function upsertConsultations(db: PostgresJsDatabase, records: ConsultationRecord[]): Promise<Record<UpsertOutcome, number>> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0 };
  const columns = getTableColumns(consultations);
  const assignments = sql.raw(
    CONSULTATION_PROPS.filter((p) => p !== 'orgAcronyme' && p !== 'refConsultation')
      .map((p) => `"${columns[p].name}" = excluded."${columns[p].name}"`)
      .join(', '),
  );
  for (let i = 0; i < records.length; i += BULK_CHUNK) {
    const slice = records.slice(i, i + BULK_CHUNK);
    // One row per key (the latest): ON CONFLICT refuses a statement touching the same row twice.
    const chunk = [...new Map(slice.map((r) => [`${r.row.orgAcronyme}\u0000${r.row.refConsultation}`, r])).values()];
    counts.unchanged += slice.length - chunk.length;
    await db.transaction(async (tx) => {
      const written = await tx.execute<{ org: string; ref: string; inserted: boolean }>(sql`
        insert into ${consultations} ${jsonRecordset(consultations, chunk.map((r) => r.row), CONSULTATION_PROPS)}
        on conflict (org_acronyme, ref_consultation) do update set ${assignments}, updated_at = now()
        where ${consultations.contentHash} is distinct from excluded.content_hash
        returning org_acronyme as org, ref_consultation as ref, (xmax = 0) as inserted`);
      counts.unchanged += chunk.length - written.length;
      for (const w of written) counts[w.inserted ? 'inserted' : 'updated'] += 1;
      await upsertDiscoveredNotices(tx, chunk.flatMap((r) => r.notices));
      if (written.length === 0) return;
      const writtenKeys = new Set(written.map((w) => `${w.org}\u0000${w.ref}`));
      const lotRows = chunk.filter((r) => writtenKeys.has(`${r.row.orgAcronyme}\u0000${r.row.refConsultation}`)).flatMap((r) => r.lots);
      const keep = JSON.stringify(lotRows.map((l) => [l.orgAcronyme, l.refConsultation, l.lotNumber]));
      const keys = JSON.stringify(written.map((w) => [w.org, w.ref]));
      // Lots the new version no longer lists go; the others are upserted below.
      await tx.execute(sql`
        delete from ${lots} l
        using jsonb_array_elements(${keys}::jsonb) k
        where l.org_acronyme = k->>0 and l.ref_consultation = k->>1
          and not exists (select 1 from jsonb_array_elements(${keep}::jsonb) e
                          where e->>0 = l.org_acronyme and e->>1 = l.ref_consultation and (e->>2)::int = l.lot_number)`);
      if (lotRows.length === 0) return;
      await tx.execute(sql`
        insert into ${lots} ${jsonRecordset(lots, lotRows, LOT_PROPS)}
        on conflict (org_acronyme, ref_consultation, lot_number) do update set
          object = excluded.object, category = excluded.category, description = excluded.description,
          estimation_ttc = excluded.estimation_ttc, caution_provisoire = excluded.caution_provisoire,
          qualifications = excluded.qualifications, agrements = excluded.agrements, proof_id = excluded.proof_id,
          updated_at = now()`);
    });
  }
  return counts;
}
