/**
 * A source is a declaration, not code: where its rows are (one of four kinds), how its columns become
 * acteur fields (QFDMOD's normalisation rules), and how its product labels map to sous-catégories. A
 * declaration is checked whole before anything runs, and refused with every bad field named.
 */
import { z } from 'zod';
import { NormalizationRuleSchema } from '../normalize/rules';
import productMappings from './declarations/product-mappings.json' with { type: 'json' };

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const code = z.string().regex(/^[a-z0-9][a-z0-9_]*$/, 'must be lower-case letters, digits and _');

export const DataFairLocationSchema = z
  .object({
    kind: z.literal('data-fair'),
    /** The portal's root, e.g. https://data.pointsapport.ademe.fr */
    baseUrl: httpUrl,
    dataset: z.string().regex(/^[\w.-]+$/, 'must be a data-fair dataset id'),
    pageSize: z.number().int().min(1).max(10_000).default(10_000),
  })
  .strict();

export const PagedJsonLocationSchema = z
  .object({
    kind: z.literal('paged-json'),
    url: httpUrl,
    pageParam: z.string().min(1).default('page'),
    pageSizeParam: z.string().min(1).default('page_size'),
    pageSize: z.number().int().min(1).max(10_000).default(100),
    /** The first page's number (CMA counts from 1). */
    firstPage: z.number().int().min(0).default(1),
    totalField: z.string().min(1).default('total_entries'),
    dataField: z.string().min(1).default('data'),
  })
  .strict();

export const ZipCsvLocationSchema = z
  .object({
    kind: z.literal('zip-csv'),
    url: httpUrl,
    /** The entry to read; the first `.csv` entry when absent. */
    entry: z.string().min(1).optional(),
    encoding: z.enum(['utf-16le', 'utf-8', 'latin1']).default('utf-16le'),
    delimiter: z.string().length(1).default(';'),
  })
  .strict();

export const S3_ENCODINGS = ['utf-8', 'utf-16le', 'latin1', 'windows-1252'] as const;

export const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An S3 object's reading options: checked together, since some apply to one format only. */
export function checkS3Format(loc: { format: 'csv' | 'xlsx'; delimiter?: string | undefined; encoding?: string | undefined; sheet?: string | number | undefined }, ctx: z.RefinementCtx): void {
  if (loc.format === 'xlsx' && (loc.delimiter !== undefined || loc.encoding !== undefined)) {
    ctx.addIssue({ code: 'custom', path: [loc.delimiter !== undefined ? 'delimiter' : 'encoding'], message: 'applies to csv only' });
  }
  if (loc.format === 'csv' && loc.sheet !== undefined) ctx.addIssue({ code: 'custom', path: ['sheet'], message: 'applies to xlsx only' });
}

export const S3LocationFields = {
  kind: z.literal('s3'),
  /** Absent: the bucket of the configuration (CONSOLIDATION_S3_BUCKET), so one declaration serves every deployment. */
  bucket: z.string().regex(S3_BUCKET_NAME, 'must be a valid S3 bucket name').optional(),
  key: z.string().min(1, 'must name the object').max(1024),
  format: z.enum(['csv', 'xlsx']),
  /** One character; CSV only. Absent: sniffed on the header line. */
  delimiter: z.string().length(1, 'must be one character').optional(),
  /** CSV only (UTF-8 by default). */
  encoding: z.enum(S3_ENCODINGS).optional(),
  /** xlsx only: a sheet name, or its 1-based position (the first sheet by default). */
  sheet: z.union([z.string().min(1), z.number().int().positive()]).optional(),
};

/** CSV / Excel files in S3-compatible storage; the server and its keys come from the configuration (CONSOLIDATION_S3_*). */
export const S3LocationSchema = z.object(S3LocationFields).strict().superRefine(checkS3Format);

export const SourceLocationSchema = z.discriminatedUnion('kind', [DataFairLocationSchema, PagedJsonLocationSchema, ZipCsvLocationSchema, S3LocationSchema]);
export type SourceLocation = z.infer<typeof SourceLocationSchema>;
export type DataFairLocation = z.infer<typeof DataFairLocationSchema>;
export type PagedJsonLocation = z.infer<typeof PagedJsonLocationSchema>;
export type ZipCsvLocation = z.infer<typeof ZipCsvLocationSchema>;
export type S3Location = z.infer<typeof S3LocationSchema>;

const NAMED_MAPPINGS = productMappings as Record<string, Record<string, string | string[]>>;

/** A product mapping inline, or the name of one of the shared mappings (QFDMOD's db_mapping.json). */
const ProductMappingSchema = z.union([
  z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])),
  z
    .object({ shared: z.string() })
    .strict()
    .refine((m) => Object.hasOwn(NAMED_MAPPINGS, m.shared), { message: `must name a shared mapping (${Object.keys(NAMED_MAPPINGS).join(', ')})` }),
]);

export const SourceDeclarationSchema = z
  .object({
    code,
    libelle: z.string().min(1),
    url: httpUrl.optional(),
    licence: z.enum(['OPEN_LICENSE', 'NO_LICENSE', 'CC_BY_NC_SA']).default('NO_LICENSE'),
    priority: z.number().int().min(0).max(1000).default(100),
    location: SourceLocationSchema,
    normalization: z
      .object({
        rules: z.array(NormalizationRuleSchema).min(1),
        productMapping: ProductMappingSchema,
        dechetMapping: z.record(z.string(), z.string()).optional(),
        labelBonusReparation: z.string().min(1).optional(),
        returnableObjects: z.boolean().default(false),
        /** Rows whose one of these columns is null or empty are ignored at download (counted). */
        ignoreRowsWithNullOrEmptyFields: z.array(z.string().min(1)).default([]),
      })
      .strict(),
  })
  .strict();
export type SourceDeclaration = z.infer<typeof SourceDeclarationSchema>;

/** A declaration refused: each issue names its field (`location.dataset`, `normalization.rules.3.transformation`…). */
export class DeclarationError extends Error {
  constructor(
    readonly where: string,
    readonly issues: { field: string; message: string }[],
  ) {
    super(`invalid source declaration ${where}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'DeclarationError';
  }
}

export function parseDeclaration(value: unknown, where: string): SourceDeclaration {
  const parsed = SourceDeclarationSchema.safeParse(value);
  if (!parsed.success) {
    throw new DeclarationError(
      where,
      parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(root)', message: i.message })),
    );
  }
  return parsed.data;
}

/** The product mapping of a declaration, keys lower-cased as the normaliser looks them up. */
export function resolveProductMapping(d: SourceDeclaration): Record<string, string | string[]> {
  const m = d.normalization.productMapping;
  const mapping = 'shared' in m && typeof m.shared === 'string' ? NAMED_MAPPINGS[m.shared]! : (m as Record<string, string | string[]>);
  return Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k.trim().toLowerCase(), v]));
}
