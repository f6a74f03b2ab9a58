/**
 * Items the pmmp parsers produce from marchespublics.gov.ma pages, before loading.
 *
 * Amounts are exact decimal strings in MAD (`'48516000.00'`), dates ISO-8601 with the offset
 * Africa/Casablanca had at that instant, calendar days `YYYY-MM-DD`. `null` means the portal
 * shows no value (empty, or its `-`). Objects are strict: a field nobody declared (a person's
 * name, phone or email from the contact block) cannot slip into storage.
 */
import { z } from 'zod';

export const OrgAcronymeSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'organisation acronym');
export const RefConsultationSchema = z.string().regex(/^\d{1,12}$/, 'numeric consultation id');

/** Exact amount, at least two decimals, no sign, no separators. */
export const AmountSchema = z.string().regex(/^\d+\.\d{2,}$/, 'decimal amount such as 1234.50');
/** Wall-clock time of the portal with its offset, e.g. `2025-10-30T11:00:00+01:00`. */
export const PortalDateTimeSchema = z.iso.datetime({ offset: true, local: false });
export const PortalDaySchema = z.iso.date();

const Text = z.string().min(1);

export const ConsultationKeySchema = z.strictObject({
  orgAcronyme: OrgAcronymeSchema,
  refConsultation: RefConsultationSchema,
});
export type ConsultationKeyItem = z.infer<typeof ConsultationKeySchema>;

/** One row of a legacy (PRADO) result list: consultations, or notices of annonceType 4/5/6. */
export const ConsultationListItemSchema = z.strictObject({
  orgAcronyme: OrgAcronymeSchema,
  refConsultation: RefConsultationSchema,
  /** The buyer's own reference; not unique across buyers nor even within one. */
  reference: Text.nullable(),
  /** Short procedure code shown in the list (`AOO`). */
  procedureCode: Text.nullable(),
  procedure: Text.nullable(),
  category: Text.nullable(),
  object: Text.nullable(),
  buyer: Text.nullable(),
  /** Places of execution, comma separated as the portal's tooltip lists them. */
  executionPlace: Text.nullable(),
  /** Kind of notice, on notice lists (`Annonce d'extrait de PV`); null on consultation lists. */
  annonceType: Text.nullable(),
  /** "Publié le": only lists show it. */
  publishedOn: PortalDaySchema.nullable(),
  /** Date limite de remise des plis. */
  deadline: PortalDateTimeSchema.nullable(),
  detailUrl: z.url(),
  /** Lots popup, when the row shows one (allotted consultations). */
  lotsUrl: z.url().nullable(),
});
export type ConsultationListItem = z.infer<typeof ConsultationListItemSchema>;

export const SiteVisitSchema = z.strictObject({
  at: PortalDateTimeSchema.nullable(),
  place: Text.nullable(),
});

export const NoticeDocumentSchema = z.strictObject({
  idAvis: z.string().regex(/^\d+$/),
  url: z.url(),
  label: Text.nullable(),
});

/** The `#recap-consultation` block of a consultation (or notice) detail page. */
export const ConsultationDetailItemSchema = z.strictObject({
  orgAcronyme: OrgAcronymeSchema,
  refConsultation: RefConsultationSchema,
  reference: Text,
  object: Text,
  /** Entité publique / acheteur public, as `MINISTRY / ORG - NAME`. */
  buyer: Text.nullable(),
  annonceType: Text.nullable(),
  /** Type de procédure (`Appel d'offres ouvert`). */
  procedure: Text.nullable(),
  /** Mode de passation (`Sur offre de prix`, `Au rabais / majoration`). */
  passationMode: Text.nullable(),
  category: Text.nullable(),
  executionPlace: Text.nullable(),
  deadline: PortalDateTimeSchema.nullable(),
  /** Estimation (en Dhs TTC); null when allotted (then per lot) or on notices. */
  estimationTtc: AmountSchema.nullable(),
  cautionProvisoire: AmountSchema.nullable(),
  planPrice: AmountSchema.nullable(),
  openingPlace: Text.nullable(),
  withdrawalAddress: Text.nullable(),
  submissionAddress: Text.nullable(),
  variantAllowed: z.boolean().nullable(),
  /** Réservé à la TPE et PME, coopératives, auto-entrepreneurs. */
  reservedForSmallBusiness: z.boolean().nullable(),
  siteVisits: z.array(SiteVisitSchema),
  qualifications: z.array(Text),
  agrements: z.array(Text),
  activityDomains: z.array(Text),
  allotted: z.boolean(),
  lotCount: z.number().int().positive().nullable(),
  lotsUrl: z.url().nullable(),
  /** Published notices (avis, extrait de PV, résultat définitif) with a real idAvis. */
  noticeDocuments: z.array(NoticeDocumentSchema),
});
export type ConsultationDetailItem = z.infer<typeof ConsultationDetailItemSchema>;

/** One lot of the `commun.PopUpDetailLots` popup. */
export const LotItemSchema = z.strictObject({
  lotNumber: z.number().int().positive(),
  object: Text.nullable(),
  category: Text.nullable(),
  description: Text.nullable(),
  estimationTtc: AmountSchema.nullable(),
  cautionProvisoire: AmountSchema.nullable(),
  qualifications: z.array(Text),
  agrements: z.array(Text),
});
export type LotItem = z.infer<typeof LotItemSchema>;

/** One result card of `/bdc/entreprise/consultation/resultat` (purchase orders). */
export const BdcResultItemSchema = z.strictObject({
  reference: Text,
  object: Text.nullable(),
  buyer: Text.nullable(),
  /** Date de publication du résultat. */
  resultPublishedAt: PortalDateTimeSchema.nullable(),
  /** Date limite, when the card shows one. */
  deadline: PortalDateTimeSchema.nullable(),
  /** Nombre de devis reçus. */
  bidCount: z.number().int().nonnegative().nullable(),
  outcome: z.enum(['attribue', 'infructueux']),
  winner: Text.nullable(),
  amountTtc: AmountSchema.nullable(),
  /** `/bdc/entreprise/consultation/show/<id>` when the card links to it. */
  detailUrl: z.url().nullable(),
});
export type BdcResultItem = z.infer<typeof BdcResultItemSchema>;
