/**
 * The `consolidation` schema: QFDMOD's data model. `acteurs` is the imported state (what the sources
 * say, one row per `identifiant_unique`), `revision_acteurs` the reviewed overlay (same columns, all
 * optional, plus the parent links of clusters), and the suggestion tables carry every change a person
 * reviews before it is applied: one cohort per action type per run, immutable suggestions holding
 * ordered changes, and the per-row logs of normalisation (warnings that blanked a field, errors that
 * dropped a row).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const consolidation = pgSchema('consolidation');

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const ACTEUR_STATUTS = ['ACTIF', 'INACTIF', 'SUPPRIME'] as const;
export type ActeurStatut = (typeof ACTEUR_STATUTS)[number];

export const SUGGESTION_STATUTS = ['AVALIDER', 'ATRAITER', 'REJETEE', 'ENCOURS', 'SUCCES', 'ERREUR'] as const;
export type SuggestionStatut = (typeof SUGGESTION_STATUTS)[number];

export const COHORTE_STATUTS = ['AVALIDER', 'ENCOURS', 'SUCCES'] as const;
export type CohorteStatut = (typeof COHORTE_STATUTS)[number];

/** `SOURCE_SUPRESSION` keeps QFDMOD's spelling: cohorts are compared across both systems by this name. */
export const COHORTE_TYPES = ['SOURCE_AJOUT', 'SOURCE_MODIFICATION', 'SOURCE_SUPRESSION', 'CLUSTERING', 'ENRICH_ACTEURS_FERMES', 'ENRICH_ACTEURS_RGPD', 'ENRICH_ACTEURS_VILLES', 'ENRICH_ACTEURS_CP', 'ENRICH_ACTEURS_COORDONNEES'] as const;
export type CohorteType = (typeof COHORTE_TYPES)[number];

/** INFO: a review decision (who accepted or rejected what); WARNING / ERROR: normalisation. */
export const LOG_LEVELS = ['INFO', 'WARNING', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One proposition service: an action (reparer, donner…) and the sous-catégories it applies to. */
export interface PropositionService {
  action: string;
  sous_categories: string[];
}

export interface PerimetreADomicile {
  type: string;
  valeur: string;
}

export const sources = consolidation.table('sources', {
  code: text('code').primaryKey(),
  libelle: text('libelle').notNull(),
  url: text('url'),
  /** `OPEN_LICENSE` sources go to the open-data export; others only to the map. */
  licence: text('licence').notNull().default('NO_LICENSE'),
  /** Lower wins when picking a parent's data among its children. */
  priority: integer('priority').notNull().default(100),
  afficher: boolean('afficher').notNull().default(true),
  /** The declaration the source was last ingested with, as checked (kind, endpoint, rules, mapping). */
  declaration: jsonb('declaration').$type<Record<string, unknown>>(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** The columns an acteur carries, shared by the imported state and the reviewed overlay. */
const acteurColumns = () => ({
  identifiantUnique: text('identifiant_unique').primaryKey(),
  sourceCode: text('source_code'),
  identifiantExterne: text('identifiant_externe'),
  nom: text('nom'),
  nomCommercial: text('nom_commercial'),
  nomOfficiel: text('nom_officiel'),
  description: text('description'),
  adresse: text('adresse'),
  adresseComplement: text('adresse_complement'),
  codePostal: text('code_postal'),
  ville: text('ville'),
  latitude: doublePrecision('latitude'),
  longitude: doublePrecision('longitude'),
  siret: text('siret'),
  siren: text('siren'),
  naf: text('naf_principal'),
  telephone: text('telephone'),
  email: text('email'),
  url: text('url'),
  horairesOsm: text('horaires_osm'),
  horairesDescription: text('horaires_description'),
  acteurTypeCode: text('acteur_type_code'),
  statut: text('statut').$type<ActeurStatut>(),
  publicAccueilli: text('public_accueilli'),
  reprise: text('reprise'),
  exclusiviteDeReprisereparation: boolean('exclusivite_de_reprisereparation'),
  uniquementSurRdv: boolean('uniquement_sur_rdv'),
  lieuPrestation: text('lieu_prestation'),
  labelCodes: text('label_codes').array(),
  acteurServiceCodes: text('acteur_service_codes').array(),
  propositionServiceCodes: jsonb('proposition_service_codes').$type<PropositionService[]>(),
  perimetreAdomicileCodes: jsonb('perimetre_adomicile_codes').$type<PerimetreADomicile[]>(),
  consignesDacces: text('consignes_dacces'),
  commentaires: text('commentaires'),
  creeLe: tstz('cree_le').notNull().defaultNow(),
  modifieLe: tstz('modifie_le').notNull().defaultNow(),
});

export const acteurs = consolidation.table(
  'acteurs',
  {
    ...acteurColumns(),
    sourceCode: text('source_code').notNull(),
    identifiantExterne: text('identifiant_externe').notNull(),
    nom: text('nom').notNull(),
    statut: text('statut').$type<ActeurStatut>().notNull().default('ACTIF'),
    labelCodes: text('label_codes').array().notNull().default(sql`'{}'::text[]`),
    acteurServiceCodes: text('acteur_service_codes').array().notNull().default(sql`'{}'::text[]`),
    propositionServiceCodes: jsonb('proposition_service_codes').$type<PropositionService[]>().notNull().default(sql`'[]'::jsonb`),
  },
  (t) => [index('acteurs_source_idx').on(t.sourceCode, t.statut), index('acteurs_cp_ville_idx').on(t.codePostal, t.ville)],
);

export const revisionActeurs = consolidation.table(
  'revision_acteurs',
  {
    ...acteurColumns(),
    parentId: text('parent_id'),
    estParent: boolean('est_parent').notNull().default(false),
  },
  (t) => [index('revision_acteurs_parent_idx').on(t.parentId)],
);

export const suggestionCohortes = consolidation.table(
  'suggestion_cohortes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** What produced it: `source_<code>`, `clustering`, `enrich_…`. */
    identifiantAction: text('identifiant_action').notNull(),
    /** The run: a Temporal run id, so that a retried activity finds its own cohort again. */
    identifiantExecution: text('identifiant_execution').notNull(),
    typeAction: text('type_action').$type<CohorteType>().notNull(),
    statut: text('statut').$type<CohorteStatut>().notNull().default('AVALIDER'),
    sourceCode: text('source_code'),
    /** Per-column counts `{col: [MODIF, SUP, AJOUT]}`, dropped-row counts, … */
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('suggestion_cohortes_run_type_key').on(t.identifiantAction, t.identifiantExecution, t.typeAction), index('suggestion_cohortes_created_idx').on(t.createdAt)],
);

export const suggestions = consolidation.table(
  'suggestions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    cohorteId: bigint('cohorte_id', { mode: 'number' })
      .notNull()
      .references(() => suggestionCohortes.id, { onDelete: 'cascade' }),
    /** The acteur (or cluster id) it is about: one suggestion per key per cohort. */
    cle: text('cle').notNull(),
    statut: text('statut').$type<SuggestionStatut>().notNull().default('AVALIDER'),
    /** What the suggestion was computed against (the stored row, the exact-match values of a cluster). */
    contexte: jsonb('contexte').$type<Record<string, unknown>>(),
    /** Ordered, validated changes; immutable once written (a trigger refuses updates). */
    changes: jsonb('changes').$type<unknown[]>().notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('suggestions_cohorte_cle_key').on(t.cohorteId, t.cle),
    index('suggestions_statut_idx').on(t.statut, t.id),
    index('suggestions_cohorte_statut_idx').on(t.cohorteId, t.statut, t.id),
  ],
);

export const suggestionLogs = consolidation.table(
  'suggestion_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    cohorteId: bigint('cohorte_id', { mode: 'number' }).references(() => suggestionCohortes.id, { onDelete: 'cascade' }),
    suggestionId: bigint('suggestion_id', { mode: 'number' }).references(() => suggestions.id, { onDelete: 'cascade' }),
    /** The run that logged it, so that logs written before the cohort exists can be attached to it. */
    identifiantExecution: text('identifiant_execution').notNull(),
    sourceCode: text('source_code'),
    identifiantUnique: text('identifiant_unique'),
    /** The 0-based row of the source the log is about. */
    ligne: integer('ligne'),
    niveau: text('niveau').$type<LogLevel>().notNull(),
    fonction: text('fonction').notNull(),
    origineColonnes: text('origine_colonnes').array().notNull(),
    origineValeurs: jsonb('origine_valeurs').$type<unknown[]>().notNull(),
    destinationColonnes: text('destination_colonnes').array().notNull(),
    message: text('message').notNull(),
    /** Who made a review decision (INFO logs); null for what the pipeline logged itself. */
    auteur: text('auteur'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('suggestion_logs_run_idx').on(t.identifiantExecution),
    index('suggestion_logs_created_idx').on(t.createdAt),
    index('suggestion_logs_suggestion_idx').on(t.suggestionId),
  ],
);
