/**
 * The `ClusterStore` over PostgreSQL. Candidates come from `consolidation.vue_acteurs` (the imported
 * state with the reviewed overlay over it, QFDMOD's VueActeur) in two reads like QFDMOD's: the actors
 * without a parent (orphans and parents) and the existing children of parents, which are only
 * re-attached. A parent's sources are its children's and its `nombre_enfants` counts them. The cohort
 * is one `CLUSTERING` cohort per run, its suggestions checked by the suggestions module (every change's
 * params validated at creation) so `consolidationApply` applies them like any other.
 */
import type { Sql } from 'postgres';
import { buildSuggestion, InvalidSuggestionError, type ValidSuggestion } from '../suggestions';
import type { ClusterStore } from './activity';
import type { ClusterConfig } from './config';
import type { ClusterFailure } from './index';
import type { ActeurStatut, ClusterCandidate } from './types';

/** The columns a candidate carries as `data`: what parent data is picked from, plus the selection's fields. */
const DATA_COLUMNS = [
  'nom',
  'nom_commercial',
  'nom_officiel',
  'description',
  'adresse',
  'adresse_complement',
  'code_postal',
  'ville',
  'latitude',
  'longitude',
  'siret',
  'siren',
  'naf_principal',
  'telephone',
  'email',
  'url',
  'horaires_osm',
  'horaires_description',
  'acteur_type_code',
  'public_accueilli',
  'label_codes',
  'acteur_service_codes',
] as const;

interface VueRow {
  identifiant_unique: string;
  est_parent: boolean;
  parent_id: string | null;
  source_code: string;
  statut: string;
  children_sources: string[] | null;
  nombre_enfants: number;
  [column: string]: unknown;
}

const SELECT = `v.identifiant_unique, v.est_parent, v.parent_id, v.source_code, v.statut, ${DATA_COLUMNS.map((c) => `v."${c}"`).join(', ')}`;

function toCandidate(row: VueRow): ClusterCandidate {
  const data: Record<string, unknown> = {};
  for (const column of DATA_COLUMNS) data[column] = row[column] ?? null;
  const sourceCode = row.est_parent || row.source_code === '' ? null : row.source_code;
  return {
    identifiantUnique: row.identifiant_unique,
    estParent: row.est_parent,
    parentId: row.parent_id,
    sourceCode,
    sourceCodes: row.est_parent ? (row.children_sources ?? []) : sourceCode === null ? [] : [sourceCode],
    acteurTypeCode: row.acteur_type_code === '' ? null : (row.acteur_type_code as string | null),
    statut: row.statut as ActeurStatut,
    nombreEnfants: Number(row.nombre_enfants ?? 0),
    latitude: row.latitude as number | null,
    longitude: row.longitude as number | null,
    data,
  };
}

export interface ClusterCohortMetadata {
  label: string | null;
  config: ClusterConfig;
  stats: Record<string, unknown>;
  /** The clusters left out, first ones only (the count is in `stats.failures`). */
  failures: ClusterFailure[];
}

/** How many failed clusters the cohort's metadata keeps in full. */
const FAILURES_KEPT = 200;

export function createPgClusterStore(sql: Sql): ClusterStore {
  return {
    async loadCandidates(config) {
      // The orphans the selection can keep are narrowed in SQL (the pure selection filters again);
      // parents are all read: a filter narrows them only with `applyToParents`.
      const types = config.selection.acteurTypes.value;
      const sources = config.selection.sources?.value ?? null;
      const rows = await sql.unsafe<VueRow[]>(
        `with enfants as (
           select c.parent_id, array_agg(distinct c.source_code) filter (where c.source_code <> '') as sources, count(*)::int as n
             from consolidation.vue_acteurs c where c.parent_id is not null group by c.parent_id)
         select ${SELECT}, e.sources as children_sources, coalesce(e.n, 0) as nombre_enfants
           from consolidation.vue_acteurs v left join enfants e on e.parent_id = v.identifiant_unique
          where v.parent_id is null
            and (v.est_parent
                 or (v.statut = 'ACTIF' and v.acteur_type_code = any($1::text[]) and ($2::text[] is null or v.source_code = any($2::text[]))))
          order by v.identifiant_unique`,
        [types, sources],
      );
      const children = await sql.unsafe<VueRow[]>(
        `select ${SELECT}, null as children_sources, 0 as nombre_enfants
           from consolidation.vue_acteurs v
          where v.parent_id is not null
          order by v.identifiant_unique`,
      );
      return { candidates: rows.map(toCandidate), children: children.map(toCandidate) };
    },

    async writeClusterCohort({ runId, label, config, suggestions, failures, stats }) {
      const valid: ValidSuggestion[] = [];
      const refused: ClusterFailure[] = [...failures];
      for (const s of suggestions) {
        try {
          valid.push(buildSuggestion({ cle: s.clusterId, contexte: s.contexte, changes: s.changes, metadata: { acteurs: s.changes.length } }));
        } catch (err) {
          // A cluster the change models refuse is skipped like QFDMOD's failing clusters, never fatal.
          if (!(err instanceof InvalidSuggestionError)) throw err;
          refused.push({ clusterId: s.clusterId, acteurIds: s.changes.map((c) => c.model_params.id), error: { type: err.name, message: err.message } });
        }
      }
      const metadata: ClusterCohortMetadata = {
        label: label ?? null,
        config,
        stats: { ...stats, suggestions: valid.length, failures: refused.length },
        failures: refused.slice(0, FAILURES_KEPT),
      };
      return sql.begin(async (tx) => {
        // Idempotent on the run: a retried attempt finds its cohort and adds nothing twice.
        const [row] = await tx<{ id: number }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, metadata)
          values (${'clustering'}, ${runId}, ${'CLUSTERING'}, ${JSON.stringify(metadata)}::jsonb)
          on conflict (identifiant_action, identifiant_execution, type_action) do update set metadata = excluded.metadata, updated_at = now()
          returning id`;
        const cohortId = Number(row!.id);
        for (let i = 0; i < valid.length; i += 500) {
          const chunk = valid.slice(i, i + 500).map((s) => ({ cle: s.cle, contexte: s.contexte, changes: s.changes, metadata: s.metadata }));
          await tx`insert into consolidation.suggestions (cohorte_id, cle, contexte, changes, metadata)
            select ${cohortId}, x->>'cle', x->'contexte', x->'changes', x->'metadata' from jsonb_array_elements(${JSON.stringify(chunk)}::jsonb) x
            on conflict (cohorte_id, cle) do nothing`;
        }
        return { cohortId: String(cohortId), suggestions: valid.length, failures: refused.length };
      });
    },
  };
}
