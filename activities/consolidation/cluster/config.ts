/**
 * The clustering run's configuration (CONSOLIDATION.md §3), checked with zod before anything runs so a
 * bad declaration is refused at once with the field named. Defaults are QFDMOD's: blocking on
 * postcode + city, TF-IDF on name then address at 50/100, no distance split, no two actors of one
 * source in a cluster.
 */
import { z } from 'zod';
import { ConfigurationError } from '../../engine/errors';

/** Fields QFDMOD never normalises: coordinates are compared as numbers by the distance split. */
export const UNNORMALIZABLE_FIELDS = ['latitude', 'longitude', 'location'] as const;

/**
 * Fields a parent never takes from its children (QFDMOD's FIELDS_PARENT_DATA_EXCLUDED): ids assigned at
 * creation, what is inherited from children (sources, services, perimeters, statut) and timestamps.
 */
export const FIELDS_PARENT_DATA_EXCLUDED = [
  'cree_le',
  'duplicats',
  'identifiant_externe',
  'identifiant_unique',
  'lieu_prestation',
  'modifie_le',
  'perimetre_adomiciles',
  'proposition_services',
  'proposition_service_codes',
  'source_id',
  'source',
  'source_code',
  'statut',
  'suggestion_groupes',
  'suggestion_unitaires',
  'parent_id',
  'est_parent',
] as const;

/** The fields a parent's data is picked from by default (the actor columns that describe a place). */
export const DEFAULT_PARENT_DATA_FIELDS = [
  'nom',
  'nom_commercial',
  'nom_officiel',
  'siret',
  'siren',
  'naf_principal',
  'adresse',
  'adresse_complement',
  'code_postal',
  'ville',
  'latitude',
  'longitude',
  'telephone',
  'email',
  'url',
  'horaires_osm',
  'horaires_description',
  'description',
  'acteur_type_code',
  'public_accueilli',
  'label_codes',
  'acteur_service_codes',
] as const;

export const fieldNormalisationSchema = z
  .object({
    /** unidecode, lower case, every non-[a-z0-9] becomes a space, spaces collapsed. */
    stringBasic: z.boolean().default(true),
    /** Drop words of this length or shorter (0 = keep every word). */
    removeWordsUpTo: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).default(0),
    /** Sort the unique words ("rue de de paris paris" → "de paris rue"). */
    sortUniqueWords: z.boolean().default(false),
  })
  .strict();
export type FieldNormalisation = z.infer<typeof fieldNormalisationSchema>;

const fieldName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a field name is lower-case snake_case');

/** A selection filter and whether it also narrows the existing parents (QFDMOD's "apply to parents too"). */
const withParents = <T extends z.ZodType>(value: T) =>
  z.object({ value, applyToParents: z.boolean().default(false) }).strict();

export const clusterConfigSchema = z
  .object({
    selection: z
      .object({
        sources: withParents(z.array(z.string().min(1)).min(1)).optional(),
        /** At least one acteur type: clustering every type together is never what a reviewer wants. */
        acteurTypes: withParents(z.array(z.string().min(1)).min(1, 'at least one acteur type is required')),
        nomRegex: withParents(
          z.string().min(1).refine(
            (pattern) => {
              try {
                new RegExp(pattern, 'i');
                return true;
              } catch {
                return false;
              }
            },
            { message: 'not a valid regular expression' },
          ),
        ).optional(),
        fieldsAllFilled: withParents(z.array(fieldName).min(1)).optional(),
      })
      .strict(),
    exactFields: z.array(fieldName).default(['code_postal', 'ville']),
    fuzzyFields: z.array(fieldName).default(['nom', 'adresse']),
    /** Per-field normalisation; a cluster field without an entry gets `stringBasic` only. */
    normalisation: z.record(fieldName, fieldNormalisationSchema).default({}),
    /** 0–100 as the UI takes it; compared to cosines as `threshold / 100`. ≤ 0 = each block is one cluster. */
    fuzzyThreshold: z.number().min(0).max(100).default(50),
    /** Metres; 0 = no distance split. */
    distanceInCluster: z.number().min(0).default(0),
    intraSourceAllowed: z.boolean().default(false),
    parentData: z
      .object({
        fields: z.array(fieldName).default([...DEFAULT_PARENT_DATA_FIELDS]),
        /** Source codes, most trusted first; sources not listed come after, in actor id order. */
        prioritySources: z.array(z.string().min(1)).default([]),
        /** Sources whose actors never give data to a parent. */
        excludedSources: z.array(z.string().min(1)).default([]),
        /** When updating an existing parent, a priority source's empty value replaces the parent's. */
        keepEmpty: z.boolean().default(false),
        /** An existing parent's own values come first. */
        keepParentDataByDefault: z.boolean().default(true),
      })
      .strict()
      .default({ fields: [...DEFAULT_PARENT_DATA_FIELDS], prioritySources: [], excludedSources: [], keepEmpty: false, keepParentDataByDefault: true }),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const field of config.exactFields) {
      if (config.fuzzyFields.includes(field)) {
        ctx.addIssue({ code: 'custom', path: ['fuzzyFields'], message: `'${field}' is both an exact and a fuzzy field` });
      }
    }
    for (const field of Object.keys(config.normalisation)) {
      if ((UNNORMALIZABLE_FIELDS as readonly string[]).includes(field)) {
        ctx.addIssue({ code: 'custom', path: ['normalisation', field], message: `'${field}' is never normalised` });
      }
    }
  });

export type ClusterConfigInput = z.input<typeof clusterConfigSchema>;
export type ClusterConfig = z.output<typeof clusterConfigSchema>;

/** A refused cluster config: permanent (a person must fix it), every wrong field named. */
export class ClusterConfigError extends ConfigurationError {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid cluster config: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { issues });
  }
}

/** Parses a cluster config, naming every wrong field in the error. */
export function parseClusterConfig(input: unknown): ClusterConfig {
  const parsed = clusterConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ClusterConfigError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return parsed.data;
}

export function normalisationFor(config: ClusterConfig, field: string): FieldNormalisation | null {
  if ((UNNORMALIZABLE_FIELDS as readonly string[]).includes(field)) return null;
  return config.normalisation[field] ?? { stringBasic: true, removeWordsUpTo: 0, sortUniqueWords: false };
}
