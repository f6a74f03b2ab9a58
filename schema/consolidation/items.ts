/**
 * What crosses the consolidation pipeline's boundaries: a normalised acteur (what ingestion writes to
 * `consolidation.acteurs`), and the changes a suggestion holds. Each change model's params are checked
 * here when a suggestion is created (QFDMOD validates them at creation, not at apply time), so a
 * suggestion that reaches the apply loop is always well-formed.
 */
import { z } from 'zod';
import { ACTEUR_STATUTS } from './tables';

const text = z.string();
const optionalText = z.string().nullable().optional();

export const PropositionServiceSchema = z.object({ action: z.string().min(1), sous_categories: z.array(z.string().min(1)) }).strict();

/** Acteur fields as snake_case keys (QFDMOD's names), every one optional: changes carry subsets. */
export const ActeurFieldsSchema = z
  .object({
    source_code: optionalText,
    identifiant_externe: optionalText,
    nom: optionalText,
    nom_commercial: optionalText,
    nom_officiel: optionalText,
    description: optionalText,
    adresse: optionalText,
    adresse_complement: optionalText,
    code_postal: optionalText,
    ville: optionalText,
    latitude: z.number().min(-90).max(90).nullable().optional(),
    longitude: z.number().min(-180).max(180).nullable().optional(),
    siret: optionalText,
    siren: optionalText,
    naf_principal: optionalText,
    telephone: optionalText,
    email: optionalText,
    url: optionalText,
    horaires_osm: optionalText,
    horaires_description: optionalText,
    acteur_type_code: optionalText,
    statut: z.enum(ACTEUR_STATUTS).nullable().optional(),
    public_accueilli: optionalText,
    reprise: optionalText,
    exclusivite_de_reprisereparation: z.boolean().nullable().optional(),
    uniquement_sur_rdv: z.boolean().nullable().optional(),
    lieu_prestation: optionalText,
    label_codes: z.array(text).nullable().optional(),
    acteur_service_codes: z.array(text).nullable().optional(),
    proposition_service_codes: z.array(PropositionServiceSchema).nullable().optional(),
    perimetre_adomicile_codes: z.array(z.object({ type: text, valeur: text }).strict()).nullable().optional(),
    consignes_dacces: optionalText,
    commentaires: optionalText,
  })
  .strict();
export type ActeurFields = z.infer<typeof ActeurFieldsSchema>;
export const ACTEUR_FIELDS = Object.keys(ActeurFieldsSchema.shape) as (keyof ActeurFields)[];

/** A normalised acteur as ingestion produces it: the identity and `nom` are always there. */
export const NormalizedActeurSchema = ActeurFieldsSchema.extend({
  identifiant_unique: z.string().min(1),
  source_code: z.string().min(1),
  identifiant_externe: z.string().min(1),
  nom: z.string().min(1),
  statut: z.enum(ACTEUR_STATUTS),
  label_codes: z.array(text),
  acteur_service_codes: z.array(text),
  proposition_service_codes: z.array(PropositionServiceSchema),
});
export type NormalizedActeur = z.infer<typeof NormalizedActeurSchema>;

const id = z.string().min(1, 'id must not be empty');
const withData = <T extends z.ZodType>(data: T) => z.object({ id, data }).strict();
const parentData = z.object({ parent_id: z.string().min(1) }).strict();
const someFields = ActeurFieldsSchema.refine((d) => Object.keys(d).length > 0, 'data must change at least one field');

/**
 * Every change model, with its params. The cluster and enrichment models are QFDMOD's; the `source_*`
 * models are what ingestion suggests (write the imported state, never the reviewed overlay).
 */
export const CHANGE_MODEL_PARAMS = {
  acteur_create_as_parent: withData(ActeurFieldsSchema),
  acteur_keep_as_parent: withData(ActeurFieldsSchema),
  acteur_update_parent_id: withData(parentData),
  acteur_verify_in_revision: withData(parentData),
  acteur_delete_as_parent: z.object({ id }).strict(),
  acteur_update_data: withData(someFields),
  acteur_update_statut: withData(z.object({ statut: z.enum(ACTEUR_STATUTS) }).strict()),
  source_acteur_create: withData(NormalizedActeurSchema.omit({ identifiant_unique: true })),
  source_acteur_update: withData(someFields),
  source_acteur_delete: z.object({ id }).strict(),
} as const;
export type ChangeModelName = keyof typeof CHANGE_MODEL_PARAMS;
export const CHANGE_MODEL_NAMES = Object.keys(CHANGE_MODEL_PARAMS) as ChangeModelName[];

export const ChangeSchema = z
  .object({
    order: z.number().int().min(1),
    reason: z.string().min(5, 'reason must be at least 5 characters'),
    model_name: z.enum(CHANGE_MODEL_NAMES),
    model_params: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine((change, ctx) => {
    const parsed = CHANGE_MODEL_PARAMS[change.model_name].safeParse(change.model_params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: `${change.model_name}: ${issue.message}`, path: ['model_params', ...issue.path] });
    }
  });
export type Change = z.infer<typeof ChangeSchema>;

/** A suggestion's changes: at least one, and listed in `order` order (ties allowed: same step). */
export const ChangesSchema = z
  .array(ChangeSchema)
  .min(1, 'a suggestion needs at least one change')
  .superRefine((changes, ctx) => {
    for (let i = 1; i < changes.length; i++) {
      if (changes[i]!.order < changes[i - 1]!.order) ctx.addIssue({ code: 'custom', message: `changes must be sorted by order: ${changes[i - 1]!.order} before ${changes[i]!.order}`, path: [i, 'order'] });
    }
  });

/** What cluster and enrichment producers hand over to be stored as one suggestion. */
export const SuggestionInputSchema = z
  .object({
    cle: z.string().min(1),
    contexte: z.record(z.string(), z.unknown()).nullable().default(null),
    changes: ChangesSchema,
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type SuggestionInput = z.input<typeof SuggestionInputSchema>;
