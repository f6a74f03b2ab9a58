/**
 * Loading consultations and their lots. Idempotent on the portal's natural key; a content hash
 * over what was read (never over proof ids: the same page fetched twice has other bytes, a new
 * page state) decides whether a row is rewritten, so `updated_at` means "the portal changed it".
 */
import { createHash } from 'node:crypto';
import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { consultations, lots, type MarketKind, type NewConsultation, type NewLot } from '../../schema/pmmp/tables';
import type { ConsultationDetailItem, ConsultationListItem, LotItem } from './parse/index';

export interface ConsultationRecord {
  row: NewConsultation;
  lots: NewLot[];
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
  const { listProofId: _l, detailProofId: _d, contentHash: _h, firstSeenAt: _f, updatedAt: _u, ...content } = row;
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
): ConsultationRecord {
  const key = { orgAcronyme: listed.orgAcronyme, refConsultation: listed.refConsultation };
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
    publishedOn: listed.publishedOn,
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
  return { row, lots: lotRows };
}

/**
 * Upserts one consultation and, when it is new or changed, replaces its lots, in one transaction
 * so a reader never sees a consultation with half of its lots.
 */
export async function upsertConsultation(db: PostgresJsDatabase, record: ConsultationRecord): Promise<UpsertOutcome> {
  return db.transaction(async (tx) => {
    const { orgAcronyme: _o, refConsultation: _r, firstSeenAt: _f, ...changes } = record.row;
    const written = await tx
      .insert(consultations)
      .values(record.row)
      .onConflictDoUpdate({
        target: [consultations.orgAcronyme, consultations.refConsultation],
        set: { ...changes, updatedAt: sql`now()` },
        setWhere: sql`${consultations.contentHash} is distinct from excluded.content_hash`,
      })
      .returning({ inserted: sql<boolean>`(xmax = 0)` });
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
            object: sql`excluded.object`,
            category: sql`excluded.category`,
            description: sql`excluded.description`,
            estimationTtc: sql`excluded.estimation_ttc`,
            cautionProvisoire: sql`excluded.caution_provisoire`,
            qualifications: sql`excluded.qualifications`,
            agrements: sql`excluded.agrements`,
            proofId: sql`excluded.proof_id`,
            updatedAt: sql`now()`,
          },
        });
    }
    return first.inserted ? 'inserted' : 'updated';
  });
}
