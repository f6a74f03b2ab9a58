import { z } from 'zod';

/** Exact decimal string with two decimals: amounts are never floats. */
export const DecimalStringSchema = z.string().regex(/^\d+\.\d{2}$/, 'decimal string such as "1234567.89"');
export const IsoDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date as YYYY-MM-DD');

export const AWARD_STATUSES = ['attribue', 'infructueux', 'offre_excessive', 'annule', 'inconnu'] as const;
export const AwardStatusSchema = z.enum(AWARD_STATUSES);
export type AwardStatus = z.infer<typeof AwardStatusSchema>;

export const NOTICE_KINDS = ['extrait_pv', 'resultat_definitif', 'inconnu'] as const;

export const BidItemSchema = z.object({
  /** As printed (after trimming list markers and "- Offre de base"). */
  bidder: z.string().min(1),
  isGroupement: z.boolean(),
  /** Members of a groupement when the notice separates them ("Groupement X / Y"). */
  members: z.array(z.string().min(1)),
  /** Amount of the acte d'engagement as read at the opening. */
  amount: DecimalStringSchema.nullable(),
  /** Amount after the commission's arithmetic check, when the notice gives one. */
  amountVerified: DecimalStringSchema.nullable(),
  eliminated: z.boolean(),
  eliminationReason: z.string().nullable(),
});
export type BidItem = z.infer<typeof BidItemSchema>;

/** Where a value was read and how sure the parser is of it (issue 14). */
export const ValueSourceSchema = z.object({
  /** 1-based page and line of the notice text; null when the value was not read from one line. */
  page: z.number().int().positive().nullable(),
  line: z.number().int().positive().nullable(),
  /** The parser rule that produced the value, e.g. "retained-section", "results-table+bidder-list". */
  rule: z.string().min(1),
  /** 0..1; below LOW_CONFIDENCE the value is stored flagged, not as a fact. */
  confidence: z.number().min(0).max(1),
});
export type ValueSource = z.infer<typeof ValueSourceSchema>;

/** Winners and amounts read with less confidence than this are flagged `lowConfidence`. */
export const LOW_CONFIDENCE = 0.7;

export const WinnerItemSchema = z.object({
  name: z.string().min(1),
  isGroupement: z.boolean(),
  members: z.array(z.string().min(1)),
  /** Retained amount; for framework contracts (MIN/MAX) the maximum. */
  amount: DecimalStringSchema.nullable(),
  amountMin: DecimalStringSchema.nullable(),
  /** Where the name and the amount came from; set by the parser for every winner it reports. */
  nameSource: ValueSourceSchema.optional(),
  amountSource: ValueSourceSchema.optional(),
});
export type WinnerItem = z.infer<typeof WinnerItemSchema>;

export const AwardLotItemSchema = z.object({
  /** "1", "2"...; null for a single-lot consultation. */
  lotNumber: z.string().nullable(),
  /** Set only when one notice covers several consultations (pv-c1d8f75a). */
  reference: z.string().nullable(),
  openingDate: IsoDateSchema.nullable(),
  status: AwardStatusSchema,
  bidders: z.array(BidItemSchema),
  /** Bidders the notice lists for this lot; null when it lists none (results tables). */
  bidderCount: z.number().int().nonnegative().nullable(),
  winners: z.array(WinnerItemSchema),
});
export type AwardLotItem = z.infer<typeof AwardLotItemSchema>;

export const FIELD_NAMES = ['reference', 'object', 'buyer', 'openingDate', 'commissionEndDate', 'documentDate', 'lots'] as const;
export type NoticeField = (typeof FIELD_NAMES)[number];

export const ParseWarningSchema = z.object({
  field: z.string(),
  code: z.enum(['not_found', 'ambiguous', 'ocr_correction', 'inferred', 'inconsistent']),
  message: z.string(),
});
export type ParseWarning = z.infer<typeof ParseWarningSchema>;

export const AwardNoticeItemSchema = z.object({
  kind: z.enum(NOTICE_KINDS),
  reference: z.string().nullable(),
  object: z.string().nullable(),
  buyer: z.string().nullable(),
  openingDate: IsoDateSchema.nullable(),
  /** "Date d'achèvement des travaux de la commission". */
  commissionEndDate: IsoDateSchema.nullable(),
  /** "Fait à ..., le ...": the date the extract or result was signed. */
  documentDate: IsoDateSchema.nullable(),
  lots: z.array(AwardLotItemSchema),
  /**
   * 0..1 per field: 1 = read from a labelled place without correction, lower when inferred,
   * OCR-corrected or picked among candidates, 0 = not found (the field is then null).
   */
  confidence: z.record(z.enum(FIELD_NAMES), z.number().min(0).max(1)),
  /** Where the notice-level values were read (reference, dates). */
  sources: z.record(z.string(), ValueSourceSchema).optional(),
  warnings: z.array(ParseWarningSchema),
});
export type AwardNotice = z.infer<typeof AwardNoticeItemSchema>;
