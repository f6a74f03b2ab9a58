/**
 * Request and response shapes of the procurement endpoints. Query parameters keep the seed service's
 * French names (statut, type_marche, organisme, date_debut…); responses use the stored columns' names.
 * Every query object is strict: an unknown parameter is a 400 naming it, never silently ignored.
 */
import { z } from 'zod';
import { OrgAcronymeSchema, RefConsultationSchema } from '../../schema/pmmp/items';
import { queryNumber } from '../pagination';

export const STATUTS = ['en_cours', 'cloturee', 'attribuee', 'infructueux'] as const;
export const STATUT_DESCRIPTION =
  'Derived from the data, in this order: `attribuee` when the latest word on at least one lot (résultat définitif over extrait de PV, then the newest notice) is an award; ' +
  '`infructueux` when every lot with a result was declared unsuccessful (infructueux or offres jugées excessives); ' +
  '`en_cours` when the deadline for bids is still ahead; `cloturee` otherwise (deadline passed, no decisive result known yet).';

// Year 0 does not exist (PostgreSQL refuses it), and PostgreSQL text cannot hold a NUL character: both
// are refused here, naming the field, rather than by the database half-way through an answer.
const YEAR = '(?:000[1-9]|00[1-9]\\d|0[1-9]\\d\\d|[1-9]\\d{3})';
const day = z.iso.date({ error: 'must be a date YYYY-MM-DD' }).regex(new RegExp(`^${YEAR}-`), 'must be a date from year 1 on');
const month = z.string().regex(new RegExp(`^${YEAR}-(?:0[1-9]|1[0-2])$`), 'must be a month YYYY-MM, from year 1 on');
const amount = z.string().regex(/^\d{1,15}(\.\d{1,2})?$/, 'must be an amount in MAD such as 150000 or 150000.50');
/** A non-empty trimmed text parameter PostgreSQL can hold (no NUL), at most `max` characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    // eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses
    .regex(/^[^\u0000]*$/, 'must not contain a NUL character');

export interface Limits {
  maxPageSize: number;
  maxOffset: number;
}

function pageParams(limits: Limits) {
  return {
    limit: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(limits.maxPageSize, `must be at most ${limits.maxPageSize} (use the cursor for more)`)
      .default(50),
    cursor: z.string().max(1000).optional().describe('`next_cursor` of the previous page (keyset pagination, any depth)'),
    offset: queryNumber(
      z.coerce
        .number({ error: 'must be a whole number' })
        .int('must be a whole number')
        .min(0, 'must not be negative')
        .max(limits.maxOffset, `must be at most ${limits.maxOffset}: page deeper with the cursor`)
        .optional(),
    )
      .optional()
      .describe(`rows to skip (at most ${limits.maxOffset}); the cursor has no such limit`),
  };
}

type RangeCheck = [from: string, to: string];

/** Ranges must not be inverted, and cursor and offset do not mix. */
function checkRanges(ranges: RangeCheck[], numeric: RangeCheck[] = []) {
  return (q: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const [from, to] of ranges) {
      const a = q[from];
      const b = q[to];
      if (typeof a === 'string' && typeof b === 'string' && a > b) ctx.addIssue({ code: 'custom', path: [to], message: `must not be before ${from} (${a})` });
    }
    for (const [from, to] of numeric) {
      const a = q[from];
      const b = q[to];
      if (typeof a === 'string' && typeof b === 'string' && Number(a) > Number(b)) ctx.addIssue({ code: 'custom', path: [to], message: `must not be below ${from} (${a})` });
    }
    if (q.cursor !== undefined && q.offset !== undefined) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'give either cursor or offset, not both' });
  };
}

const consultationFilters = {
  statut: z.enum(STATUTS).optional().describe(STATUT_DESCRIPTION),
  type_marche: z.enum(['travaux', 'fournitures', 'services']).optional(),
  organisme: text(200).optional().describe("organisation acronym (exact), or part of the buyer's name (accents and case ignored)"),
  date_debut: day.optional().describe('published on or after this day'),
  date_fin: day.optional().describe('published on or before this day'),
  date_limite_debut: day.optional().describe('deadline for bids on or after this day (Africa/Casablanca)'),
  date_limite_fin: day.optional().describe('deadline for bids on or before this day (Africa/Casablanca)'),
  montant_min: amount.optional().describe('estimation TTC at least this (MAD)'),
  montant_max: amount.optional().describe('estimation TTC at most this (MAD)'),
};

const consultationRanges: RangeCheck[] = [
  ['date_debut', 'date_fin'],
  ['date_limite_debut', 'date_limite_fin'],
];
const amountRanges: RangeCheck[] = [['montant_min', 'montant_max']];

export const CONSULTATION_SORTS = ['-date_publication', 'date_publication', '-date_limite', 'date_limite', '-montant', 'montant'] as const;

export function consultationListQuery(limits: Limits) {
  return z
    .strictObject({
      ...consultationFilters,
      sort: z.enum(CONSULTATION_SORTS).default('-date_publication').describe('a leading minus sorts descending; nulls always last'),
      ...pageParams(limits),
    })
    .superRefine(checkRanges(consultationRanges, amountRanges));
}
export type ConsultationListQuery = z.infer<ReturnType<typeof consultationListQuery>>;
export type ConsultationFilters = Omit<ConsultationListQuery, 'sort' | 'limit' | 'cursor' | 'offset'>;

export function consultationSearchQuery(limits: Limits) {
  return z
    .strictObject({
      q: text(300).describe('words to find in the reference, object and buyer (French: accents and plurals folded; "quoted phrases", -excluded, or)'),
      ...consultationFilters,
      limit: pageParams(limits).limit,
      offset: pageParams(limits).offset,
    })
    .superRefine(checkRanges(consultationRanges, amountRanges));
}
export type ConsultationSearchQuery = z.infer<ReturnType<typeof consultationSearchQuery>>;

export const exportQuery = z
  .strictObject({
    dataset: z.enum(['consultations', 'attributions']).default('consultations').describe('consultations (filters of /consultations) or attributions (filters of /attributions)'),
    ...consultationFilters,
    entreprise: text(200).optional().describe("attributions only: part of the winner's name"),
  })
  .superRefine(checkRanges(consultationRanges, amountRanges));
export type ExportQuery = z.infer<typeof exportQuery>;

export const CONSULTATION_KEY_PARAMS = z.strictObject({ org: OrgAcronymeSchema, ref: RefConsultationSchema });

export function pvQuery(limits: Limits) {
  return z
    .strictObject({
      organisme: consultationFilters.organisme,
      date_debut: day.optional().describe('notice published on or after this day'),
      date_fin: day.optional().describe('notice published on or before this day'),
      lu: z.enum(['true', 'false']).optional().describe('true: only notices whose document was read (awards extracted); false: only those not read yet'),
      ...pageParams(limits),
    })
    .superRefine(checkRanges([['date_debut', 'date_fin']]));
}
export type PvQuery = z.infer<ReturnType<typeof pvQuery>>;

export const ATTRIBUTION_SORTS = ['-date', 'date', '-montant', 'montant'] as const;

export function attributionQuery(limits: Limits) {
  return z
    .strictObject({
      entreprise: text(200).optional().describe("part of the winner's name (accents and case ignored)"),
      montant_min: amount.optional().describe('awarded amount at least this (MAD)'),
      montant_max: amount.optional().describe('awarded amount at most this (MAD)'),
      organisme: consultationFilters.organisme,
      date_debut: day.optional().describe('notice published on or after this day'),
      date_fin: day.optional().describe('notice published on or before this day'),
      statut: z.enum(['attribue', 'infructueux', 'offre_excessive', 'annule', 'inconnu']).optional().describe('result of the lot'),
      sort: z.enum(ATTRIBUTION_SORTS).default('-date'),
      ...pageParams(limits),
    })
    .superRefine(checkRanges([['date_debut', 'date_fin']], amountRanges));
}
export type AttributionQuery = z.infer<ReturnType<typeof attributionQuery>>;

export const statsQuery = z
  .strictObject({
    mois_debut: month.optional(),
    mois_fin: month.optional(),
    type_marche: consultationFilters.type_marche,
  })
  .superRefine(checkRanges([['mois_debut', 'mois_fin']]));

export const topQuery = z.strictObject({
  limit: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
  tri: z.enum(['nombre', 'montant']).default('nombre').describe('rank by count, or by amount'),
});

// ---------------------------------------------------------------------------------------------- responses

const nullableText = z.string().nullable();
const decimal = z.string().describe('exact decimal, MAD').nullable();

export const LinksSchema = z.record(z.string(), z.string());

export const ConsultationSummarySchema = z
  .object({
    org_acronyme: z.string(),
    ref_consultation: z.string(),
    reference: nullableText,
    object: nullableText,
    buyer: nullableText,
    procedure: nullableText,
    category: nullableText,
    market_kind: z.enum(['travaux', 'fournitures', 'services']).nullable(),
    execution_place: nullableText,
    published_on: z.string().nullable().describe('YYYY-MM-DD'),
    deadline: z.string().nullable().describe('ISO 8601 with the Africa/Casablanca offset'),
    estimation_ttc: decimal,
    lot_count: z.number().int().nullable(),
    statut: z.enum(STATUTS).describe(STATUT_DESCRIPTION),
    links: LinksSchema,
  })
  .meta({ id: 'ConsultationSummary' });

export const PageInfoSchema = z
  .object({
    limit: z.number().int(),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().describe('pass as `cursor` for the next page'),
    offset: z.number().int().optional(),
    next_offset: z.number().int().nullable().optional(),
  })
  .meta({ id: 'PageInfo' });

export const ConsultationListSchema = z.object({ items: z.array(ConsultationSummarySchema), page: PageInfoSchema });

export const SearchHitSchema = ConsultationSummarySchema.extend({
  rank: z.number(),
  highlights: z.object({
    object: z.string().nullable().describe('object with the matched words between <mark> and </mark>'),
    buyer: z.string().nullable(),
    reference: z.string().nullable(),
  }),
}).meta({ id: 'SearchHit' });

export const SearchResultSchema = z.object({
  query: z.string(),
  items: z.array(SearchHitSchema),
  page: PageInfoSchema,
});

const LotSchema = z.object({
  lot_number: z.number().int(),
  object: nullableText,
  category: nullableText,
  description: nullableText,
  estimation_ttc: decimal,
  caution_provisoire: decimal,
  qualifications: z.array(z.string()),
  agrements: z.array(z.string()),
});

const NoticeSchema = z.object({
  id_avis: z.string(),
  kind: z.string().describe('extrait_pv, resultat_definitif, achevement, avis, inconnu'),
  label: nullableText,
  url: z.string().describe("the document's address on the portal"),
  published_on: z.string().nullable(),
  proof_id: z.string().nullable().describe('null while the document is not downloaded'),
  text_method: z.string().nullable(),
  parsed_at: z.string().nullable(),
  links: LinksSchema.describe('`proof`: the archived document, when downloaded'),
});

export const AttributionSchema = z
  .object({
    org_acronyme: z.string(),
    ref_consultation: z.string(),
    id_avis: z.string(),
    lot_key: z.string().describe("lot number, '' for a single lot"),
    status: z.string(),
    winner: nullableText,
    winner_is_groupement: z.boolean().nullable(),
    winner_members: z.array(z.string()),
    amount: decimal,
    amount_min: decimal,
    bidder_count: z.number().int().nullable(),
    opening_date: z.string().nullable(),
    low_confidence: z.boolean().describe('the parser read the winner or the amount with low confidence (damaged OCR, name taken from the bidders list, amount differing from the bid): check the proof'),
    notice_kind: z.string(),
    notice_published_on: z.string().nullable(),
    links: LinksSchema,
  })
  .meta({ id: 'Attribution' });

const DetailAttributionSchema = AttributionSchema.omit({ org_acronyme: true, ref_consultation: true }).extend({
  latest: z.boolean().describe("this notice's word on the lot is the one that counts (résultat définitif over extrait de PV, then the newest)"),
});

const BidSchema = z.object({
  id_avis: z.string(),
  lot_key: z.string(),
  bidder: z.string(),
  is_groupement: z.boolean(),
  members: z.array(z.string()),
  amount: decimal,
  amount_verified: decimal,
  eliminated: z.boolean(),
  elimination_reason: nullableText,
  retained: z.boolean(),
});

export const ConsultationDetailSchema = ConsultationSummarySchema.extend({
  procedure_code: nullableText,
  passation_mode: nullableText,
  caution_provisoire: decimal,
  opening_place: nullableText,
  withdrawal_address: nullableText,
  submission_address: nullableText,
  variant_allowed: z.boolean().nullable(),
  reserved_small_business: z.boolean().nullable(),
  site_visits: z.array(z.object({ at: z.string().nullable(), place: z.string().nullable() })),
  qualifications: z.array(z.string()),
  agrements: z.array(z.string()),
  activity_domains: z.array(z.string()),
  allotted: z.boolean().nullable(),
  detail_url: nullableText,
  first_seen_at: z.string(),
  updated_at: z.string(),
  lots: z.array(LotSchema),
  notices: z.array(NoticeSchema),
  attributions: z.array(DetailAttributionSchema),
  bids: z.array(BidSchema),
}).meta({ id: 'ConsultationDetail' });

export const PvSchema = z
  .object({
    org_acronyme: z.string(),
    ref_consultation: z.string(),
    id_avis: z.string(),
    reference: nullableText,
    object: nullableText,
    buyer: nullableText,
    label: nullableText,
    url: z.string(),
    published_on: z.string().nullable(),
    proof_id: z.string().nullable(),
    parsed_at: z.string().nullable(),
    lots_with_result: z.number().int(),
    links: LinksSchema,
  })
  .meta({ id: 'Pv' });

export const PvListSchema = z.object({ items: z.array(PvSchema), page: PageInfoSchema });
export const AttributionListSchema = z.object({ items: z.array(AttributionSchema), page: PageInfoSchema });

export const MonthlyStatSchema = z.object({
  month: z.string().describe('YYYY-MM'),
  market_kind: z.string(),
  consultations: z.number().int(),
  estimation_ttc_total: decimal,
  lots_awarded: z.number().int(),
  lots_unsuccessful: z.number().int(),
  awarded_amount_total: decimal,
});
export const StatsSchema = z.object({
  totals: z.object({
    consultations: z.number().int(),
    estimation_ttc_total: decimal,
    lots_awarded: z.number().int(),
    lots_unsuccessful: z.number().int(),
    awarded_amount_total: decimal,
  }),
  months: z.array(MonthlyStatSchema),
  note: z.string(),
});
export const TopBuyersSchema = z.object({
  items: z.array(
    z.object({
      buyer: z.string(),
      consultations: z.number().int(),
      estimation_ttc_total: decimal,
      lots_awarded: z.number().int(),
      awarded_amount_total: decimal,
      last_published_on: z.string().nullable(),
    }),
  ),
});
export const TopWinnersSchema = z.object({
  items: z.array(
    z.object({
      winner: z.string(),
      lots_won: z.number().int(),
      consultations_won: z.number().int(),
      awarded_amount_total: decimal,
      buyers: z.number().int(),
      ever_in_groupement: z.boolean().nullable(),
    }),
  ),
});
