/**
 * What consolidation's enrichment keeps (migration 0014): the 30-day answer cache of the BAN and company
 * registry clients, their request budgets shared by every worker (the engine's PostgreSQL limiter), the
 * SIRENE establishment file loaded for joins, and the enrichment proposals waiting to become suggestions.
 * The actors themselves (`consolidation.acteurs`) are the ingest's tables (0009).
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, date, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

export const consolidation = pgSchema('consolidation');

/** One answer of a third-party service, keyed by the normalised request; read back until `expires_at`. */
export const enrichCache = consolidation.table(
  'enrich_cache',
  {
    /** `ban.search`, `ban.csv`, `entreprises.search`. */
    service: text('service').notNull(),
    requestKey: text('request_key').notNull(),
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    response: jsonb('response').$type<unknown>().notNull(),
    fetchedAt: timestamp('fetched_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
  },
  (t) => [primaryKey({ name: 'enrich_cache_pk', columns: [t.service, t.requestKey] }), index('enrich_cache_expires_idx').on(t.expiresAt)],
);

/** The engine's shared limiter state, one row per service bucket (same columns as `apisync.rate_limits`). */
export const rateLimits = consolidation.table('rate_limits', {
  bucket: text('bucket').primaryKey(),
  nextSlot: timestamp('next_slot', { withTimezone: true, mode: 'string' }).notNull().default(sql`clock_timestamp()`),
  lastRemaining: integer('last_remaining'),
  lastResetAt: timestamp('last_reset_at', { withTimezone: true, mode: 'string' }),
  throttledUntil: timestamp('throttled_until', { withTimezone: true, mode: 'string' }),
  throttles: bigint('throttles', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

export const rateLimitSends = consolidation.table(
  'rate_limit_sends',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    bucket: text('bucket').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, mode: 'string' }).notNull(),
  },
  (t) => [index('rate_limit_sends_bucket_sent_idx').on(t.bucket, t.sentAt.desc())],
);

/**
 * INSEE's StockEtablissement, the columns the joins need. `adresse_match` is the street part normalised
 * for matching (upper case, no accents or punctuation, single spaces), as QFDMOD's
 * `udf_normalize_string_for_match` does on both sides of the replacement join.
 */
export const sireneEtablissements = consolidation.table(
  'sirene_etablissements',
  {
    siret: text('siret').primaryKey(),
    siren: text('siren').notNull(),
    nic: text('nic').notNull(),
    /** `A` (active) or `F` (closed). */
    etatAdministratif: text('etat_administratif').notNull(),
    dateDebut: date('date_debut', { mode: 'string' }),
    dateCreation: date('date_creation', { mode: 'string' }),
    etablissementSiege: boolean('etablissement_siege').notNull(),
    /** The establishment's own name: `enseigne1`, else `denominationUsuelle`. */
    nom: text('nom'),
    numeroVoie: text('numero_voie'),
    indiceRepetition: text('indice_repetition'),
    typeVoie: text('type_voie'),
    libelleVoie: text('libelle_voie'),
    complementAdresse: text('complement_adresse'),
    codePostal: text('code_postal'),
    libelleCommune: text('libelle_commune'),
    codeCommune: text('code_commune'),
    activitePrincipale: text('activite_principale'),
    nomenclatureActivite: text('nomenclature_activite'),
    adresseMatch: text('adresse_match'),
    dateDernierTraitement: timestamp('date_dernier_traitement', { mode: 'string' }),
    loadedAt: timestamp('loaded_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    index('sirene_etablissements_siren_idx').on(t.siren),
    index('sirene_etablissements_replacement_idx')
      .on(t.codePostal, t.numeroVoie, t.activitePrincipale, t.adresseMatch)
      .where(sql`${t.etatAdministratif} = 'A'`),
  ],
);

export const ENRICH_PROPOSAL_KINDS = [
  'geocode',
  'closed_not_replaced_unite',
  'closed_not_replaced_etablissement',
  'closed_replaced_same_siren',
  'closed_replaced_other_siren',
] as const;
export type EnrichProposalKind = (typeof ENRICH_PROPOSAL_KINDS)[number];

/**
 * A proposed change to one actor, never applied by enrichment itself: the ingest side turns these into
 * suggestion cohorts that a human accepts or rejects. `fingerprint` (a hash of the changes) makes writing
 * the same proposal twice a no-op.
 */
export const enrichProposals = consolidation.table(
  'enrich_proposals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').$type<EnrichProposalKind>().notNull(),
    identifiantUnique: text('identifiant_unique').notNull(),
    fingerprint: text('fingerprint').notNull(),
    changes: jsonb('changes').$type<unknown[]>().notNull(),
    reason: text('reason').notNull(),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    unique('enrich_proposals_kind_acteur_fingerprint_uq').on(t.kind, t.identifiantUnique, t.fingerprint),
    index('enrich_proposals_created_idx').on(t.kind, t.createdAt),
  ],
);

export type SireneEtablissement = typeof sireneEtablissements.$inferSelect;
export type EnrichProposalRow = typeof enrichProposals.$inferSelect;
