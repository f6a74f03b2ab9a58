/**
 * The `pmmp` schema: Morocco's public procurement as moisson stores it. Natural keys are the portal's
 * own: a consultation is (org_acronyme, ref_consultation) — the buyer's reference is not unique — a
 * notice adds its id_avis, an award row its lot. Every row names the proof (raw page or PDF in the
 * proof store) it was read from. Amounts are exact numeric; times carry their Africa/Casablanca offset.
 */
import { sql } from 'drizzle-orm';
import { boolean, date, index, integer, jsonb, numeric, pgSchema, primaryKey, real, text, timestamp } from 'drizzle-orm/pg-core';

export const pmmp = pgSchema('pmmp');

const amount = (name: string) => numeric(name, { precision: 18, scale: 2 });
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });
const seen = {
  firstSeenAt: tstz('first_seen_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
};

/** Travaux / Fournitures / Services, as the API filters them (the portal's label is kept too). */
export type MarketKind = 'travaux' | 'fournitures' | 'services';

export const consultations = pmmp.table(
  'consultations',
  {
    orgAcronyme: text('org_acronyme').notNull(),
    refConsultation: text('ref_consultation').notNull(),
    reference: text('reference'),
    object: text('object'),
    buyer: text('buyer'),
    procedure: text('procedure'),
    procedureCode: text('procedure_code'),
    passationMode: text('passation_mode'),
    category: text('category'),
    marketKind: text('market_kind').$type<MarketKind>(),
    executionPlace: text('execution_place'),
    /** "Publié le": only the result lists show it. */
    publishedOn: date('published_on', { mode: 'string' }),
    deadline: tstz('deadline'),
    estimationTtc: amount('estimation_ttc'),
    cautionProvisoire: amount('caution_provisoire'),
    openingPlace: text('opening_place'),
    withdrawalAddress: text('withdrawal_address'),
    submissionAddress: text('submission_address'),
    variantAllowed: boolean('variant_allowed'),
    reservedForSmallBusiness: boolean('reserved_small_business'),
    siteVisits: jsonb('site_visits').$type<{ at: string | null; place: string | null }[]>().notNull().default([]),
    qualifications: jsonb('qualifications').$type<string[]>().notNull().default([]),
    agrements: jsonb('agrements').$type<string[]>().notNull().default([]),
    activityDomains: jsonb('activity_domains').$type<string[]>().notNull().default([]),
    allotted: boolean('allotted'),
    lotCount: integer('lot_count'),
    detailUrl: text('detail_url'),
    listProofId: text('list_proof_id'),
    detailProofId: text('detail_proof_id'),
    /** Hash of the parsed content: an unchanged page is not rewritten (updated_at stays). */
    contentHash: text('content_hash'),
    ...seen,
  },
  (t) => [
    primaryKey({ name: 'consultations_pkey', columns: [t.orgAcronyme, t.refConsultation] }),
    index('consultations_published_idx').on(t.publishedOn),
    index('consultations_deadline_idx').on(t.deadline),
    index('consultations_buyer_idx').on(t.buyer),
    index('consultations_kind_published_idx').on(t.marketKind, t.publishedOn),
    index('consultations_reference_idx').on(t.reference),
  ],
);

export const lots = pmmp.table(
  'lots',
  {
    orgAcronyme: text('org_acronyme').notNull(),
    refConsultation: text('ref_consultation').notNull(),
    lotNumber: integer('lot_number').notNull(),
    object: text('object'),
    category: text('category'),
    description: text('description'),
    estimationTtc: amount('estimation_ttc'),
    cautionProvisoire: amount('caution_provisoire'),
    qualifications: jsonb('qualifications').$type<string[]>().notNull().default([]),
    agrements: jsonb('agrements').$type<string[]>().notNull().default([]),
    proofId: text('proof_id'),
    ...seen,
  },
  (t) => [primaryKey({ name: 'lots_pkey', columns: [t.orgAcronyme, t.refConsultation, t.lotNumber] })],
);

export const NOTICE_KINDS = ['extrait_pv', 'resultat_definitif', 'achevement', 'avis', 'inconnu'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** A published notice of a consultation, with its document and what was read from it. */
export const notices = pmmp.table(
  'notices',
  {
    orgAcronyme: text('org_acronyme').notNull(),
    refConsultation: text('ref_consultation').notNull(),
    idAvis: text('id_avis').notNull(),
    kind: text('kind').$type<NoticeKind>().notNull(),
    /** The portal's annonceType: 5 extrait de PV, 4 résultat définitif, 6 rapport d'achèvement. */
    annonceType: integer('annonce_type'),
    label: text('label'),
    url: text('url').notNull(),
    publishedOn: date('published_on', { mode: 'string' }),
    /** The document's bytes in the proof store; null until downloaded. */
    proofId: text('proof_id'),
    text: text('text'),
    textMethod: text('text_method').$type<'text-layer' | 'ocr'>(),
    ocrPages: jsonb('ocr_pages').$type<number[]>(),
    ocrConfidence: real('ocr_confidence'),
    /** Version of the award parser that read `text`: a reparse only rewrites rows of older versions. */
    parserVersion: text('parser_version'),
    parsedAt: tstz('parsed_at'),
    awardReference: text('award_reference'),
    openingDate: date('opening_date', { mode: 'string' }),
    commissionEndDate: date('commission_end_date', { mode: 'string' }),
    documentDate: date('document_date', { mode: 'string' }),
    parseConfidence: jsonb('parse_confidence').$type<Record<string, number>>(),
    parseWarnings: jsonb('parse_warnings').$type<{ field: string; code: string; message: string }[]>(),
    /**
     * Downloads tried without a readable document: a notice that keeps failing leaves the queue after
     * a few runs (its reasons are in etl.rejected_records) instead of being fetched forever.
     */
    fetchAttempts: integer('fetch_attempts').notNull().default(0),
    lastError: text('last_error'),
    ...seen,
  },
  (t) => [
    primaryKey({ name: 'notices_pkey', columns: [t.orgAcronyme, t.refConsultation, t.idAvis] }),
    index('notices_kind_published_idx').on(t.kind, t.publishedOn),
    index('notices_unparsed_idx').on(t.kind).where(sql`${t.parsedAt} is null`),
    // The queue of documents to download: discovered on a detail page, not fetched yet.
    index('notices_pending_idx').on(t.orgAcronyme, t.refConsultation, t.idAvis).where(sql`${t.proofId} is null`),
  ],
);

/**
 * What a rapport d'achèvement states about the end of a contract: who executed it, for how much
 * against the awarded amount, and when it was completed. One row per notice.
 */
export const achevements = pmmp.table(
  'achevements',
  {
    orgAcronyme: text('org_acronyme').notNull(),
    refConsultation: text('ref_consultation').notNull(),
    idAvis: text('id_avis').notNull(),
    contractors: jsonb('contractors').$type<string[]>().notNull().default([]),
    initialAmount: amount('initial_amount'),
    finalAmount: amount('final_amount'),
    completedOn: date('completed_on', { mode: 'string' }),
    proofId: text('proof_id'),
    ...seen,
  },
  (t) => [
    primaryKey({ name: 'achevements_pkey', columns: [t.orgAcronyme, t.refConsultation, t.idAvis] }),
    index('achevements_completed_idx').on(t.completedOn),
  ],
);

export const AWARD_STATUSES = ['attribue', 'infructueux', 'offre_excessive', 'annule', 'inconnu'] as const;
export type AwardStatus = (typeof AWARD_STATUSES)[number];

export interface ValueProvenance {
  page: number | null;
  line: number | null;
  rule: string;
  confidence: number;
}
export interface AttributionProvenance {
  winner?: ValueProvenance;
  amount?: ValueProvenance;
}

/** The result of one lot as one notice states it. `lot_key` is the lot number, or '' for a single lot. */
export const attributions = pmmp.table(
  'attributions',
  {
    orgAcronyme: text('org_acronyme').notNull(),
    refConsultation: text('ref_consultation').notNull(),
    idAvis: text('id_avis').notNull(),
    lotKey: text('lot_key').notNull(),
    status: text('status').$type<AwardStatus>().notNull(),
    winner: text('winner'),
    winnerIsGroupement: boolean('winner_is_groupement'),
    winnerMembers: jsonb('winner_members').$type<string[]>().notNull().default([]),
    amount: amount('amount'),
    /** Framework contracts state a minimum and a maximum; `amount` is then the maximum. */
    amountMin: amount('amount_min'),
    bidderCount: integer('bidder_count'),
    openingDate: date('opening_date', { mode: 'string' }),
    /** 0..1 as the parser rates the winner's name and the amount (issue 14); null without a winner. */
    winnerConfidence: real('winner_confidence'),
    amountConfidence: real('amount_confidence'),
    /** A winner or amount read with low confidence: shown flagged, not as fact. */
    lowConfidence: boolean('low_confidence').notNull().default(false),
    /** Where status, winner and amount were read: { winner: {page, line, rule, confidence}, ... }. */
    provenance: jsonb('provenance').$type<AttributionProvenance>(),
    proofId: text('proof_id'),
    ...seen,
  },
  (t) => [
    primaryKey({ name: 'attributions_pkey', columns: [t.orgAcronyme, t.refConsultation, t.idAvis, t.lotKey] }),
    index('attributions_winner_idx').on(t.winner),
    index('attributions_status_idx').on(t.status),
  ],
);

/** One bidder's offer on one lot. `bidder_key` is the bidder's normalized name (the natural key). */
export const bids = pmmp.table(
  'bids',
  {
    orgAcronyme: text('org_acronyme').notNull(),
    refConsultation: text('ref_consultation').notNull(),
    idAvis: text('id_avis').notNull(),
    lotKey: text('lot_key').notNull(),
    bidderKey: text('bidder_key').notNull(),
    bidder: text('bidder').notNull(),
    isGroupement: boolean('is_groupement').notNull().default(false),
    members: jsonb('members').$type<string[]>().notNull().default([]),
    amount: amount('amount'),
    amountVerified: amount('amount_verified'),
    eliminated: boolean('eliminated').notNull().default(false),
    eliminationReason: text('elimination_reason'),
    retained: boolean('retained').notNull().default(false),
    proofId: text('proof_id'),
    ...seen,
  },
  (t) => [
    primaryKey({ name: 'bids_pkey', columns: [t.orgAcronyme, t.refConsultation, t.idAvis, t.lotKey, t.bidderKey] }),
    index('bids_bidder_key_idx').on(t.bidderKey),
  ],
);

/**
 * Purchase-order results of the /bdc/ interface. Cards carry no id, so `bdc_id` is a digest of what
 * identifies a result on the portal (buyer, reference, publication time): a card seen twice, on two
 * drifting pages or two overlapping windows, is one row.
 */
export const bdcResults = pmmp.table(
  'bdc_results',
  {
    bdcId: text('bdc_id').primaryKey(),
    reference: text('reference').notNull(),
    object: text('object'),
    buyer: text('buyer'),
    resultPublishedAt: tstz('result_published_at'),
    deadline: tstz('deadline'),
    bidCount: integer('bid_count'),
    outcome: text('outcome').$type<'attribue' | 'infructueux'>().notNull(),
    winner: text('winner'),
    amountTtc: amount('amount_ttc'),
    detailUrl: text('detail_url'),
    proofId: text('proof_id'),
    ...seen,
  },
  (t) => [index('bdc_results_published_idx').on(t.resultPublishedAt), index('bdc_results_winner_idx').on(t.winner)],
);

export type Consultation = typeof consultations.$inferSelect;
export type NewConsultation = typeof consultations.$inferInsert;
export type Lot = typeof lots.$inferSelect;
export type NewLot = typeof lots.$inferInsert;
export type Notice = typeof notices.$inferSelect;
export type NewNotice = typeof notices.$inferInsert;
export type Attribution = typeof attributions.$inferSelect;
export type NewAttribution = typeof attributions.$inferInsert;
export type Bid = typeof bids.$inferSelect;
export type NewBid = typeof bids.$inferInsert;
export type Achevement = typeof achevements.$inferSelect;
export type NewAchevement = typeof achevements.$inferInsert;
export type BdcResult = typeof bdcResults.$inferSelect;
export type NewBdcResult = typeof bdcResults.$inferInsert;
