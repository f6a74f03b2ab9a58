/**
 * The displayed acteurs (QFDMOD's marts_carte_filtered_acteur and marts_opendata_filtered_acteur):
 * the merged state (`consolidation.vue_acteurs`: revision over source), parents only, each child's
 * proposition services rolled up to its parent per action, an acteur shown only with at least one
 * service holding a sous-catégorie, `AUCUN` / `PROFESSIONNELS` publics left out, a parent's
 * `lieu_prestation` the strongest of its children's and its sources its ACTIF children's. The open-data
 * perimeter takes children (and orphans) from `OPEN_LICENSE` sources only, their parents added back.
 *
 * A table (`consolidation.acteurs_affiches`) rebuilt whole by `consolidationPublish`, not a view: the
 * rollup is an aggregation over every acteur that the map and the export would otherwise redo on each
 * read; the export needs one stable set whose row count it checks its files against; and the displayed
 * uuid (base57 of uuid5, bit-exact with QFDMOD) is computed here in TypeScript so the database needs no
 * extension (pgcrypto). The rebuild is one transaction (delete + insert), so readers keep seeing the
 * previous set until it commits and never a half-built one.
 */
import type { Sql, TransactionSql } from 'postgres';
import { displayedUuid } from '../normalize/identity';

export const PERIMETRES = ['carte', 'opendata'] as const;
export type Perimetre = (typeof PERIMETRES)[number];

/** Text columns copied from the merged state, blanks stored as null. */
const TEXT_COLUMNS = [
  'nom_commercial',
  'nom_officiel',
  'description',
  'adresse',
  'adresse_complement',
  'code_postal',
  'ville',
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
  'reprise',
] as const;
const OTHER_COLUMNS = ['latitude', 'longitude', 'exclusivite_de_reprisereparation', 'uniquement_sur_rdv', 'label_codes', 'acteur_service_codes', 'cree_le', 'modifie_le'] as const;

/** `SUR_PLACE_OU_A_DOMICILE` > `A_DOMICILE` > `SUR_PLACE`: a parent offers what its strongest child offers. */
const LIEU_RANK = `case c.lieu_prestation when 'SUR_PLACE_OU_A_DOMICILE' then 3 when 'A_DOMICILE' then 2 when 'SUR_PLACE' then 1 else 0 end`;

export interface PublishResult {
  carte: number;
  opendata: number;
  seconds: number;
}

async function stageMergedState(tx: TransactionSql): Promise<void> {
  // The view is read once: each perimeter joins it with itself (a child and its parent).
  await tx.unsafe(`create temp table publish_vue on commit drop as select * from consolidation.vue_acteurs`);
  await tx.unsafe(`create unique index on publish_vue (identifiant_unique)`);
  await tx.unsafe(`analyze publish_vue`);
  await tx.unsafe(`create temp table publish_uuid (identifiant_unique text primary key, uuid text not null) on commit drop`);
}

/** The acteurs contributing to a perimeter, each under its owner: its parent, or itself. */
async function stageContributions(tx: TransactionSql, perimetre: Perimetre): Promise<void> {
  await tx.unsafe(`drop table if exists publish_contrib`);
  await tx.unsafe(
    `create temp table publish_contrib on commit drop as
     select coalesce(v.parent_id, v.identifiant_unique) as owner, v.identifiant_unique, v.source_code, v.identifiant_externe,
            v.lieu_prestation, v.proposition_service_codes
       from publish_vue v left join publish_vue p on p.identifiant_unique = v.parent_id
      where v.statut = 'ACTIF' and not v.est_parent
        and (v.parent_id is null or p.statut = 'ACTIF')
        and ($1 = 'carte' or v.source_code in (select code from consolidation.sources where licence = 'OPEN_LICENSE'))`,
    [perimetre],
  );
}

/** Computes the displayed uuid of every owner that has none yet in this rebuild. */
async function stageUuids(tx: TransactionSql): Promise<void> {
  const owners = await tx.unsafe<{ owner: string }[]>(`select distinct c.owner from publish_contrib c where not exists (select 1 from publish_uuid u where u.identifiant_unique = c.owner)`);
  for (let i = 0; i < owners.length; i += 20_000) {
    const ids = owners.slice(i, i + 20_000).map((o) => o.owner);
    await tx.unsafe(`insert into publish_uuid select * from unnest($1::text[], $2::text[])`, [ids, ids.map(displayedUuid)]);
  }
}

async function insertPerimeter(tx: TransactionSql, perimetre: Perimetre): Promise<number> {
  const textCols = TEXT_COLUMNS.map((c) => `nullif(a."${c}", '')`).join(', ');
  const otherCols = OTHER_COLUMNS.map((c) => `a."${c}"`).join(', ');
  const rows = await tx.unsafe(
    `with services as (
       select owner, jsonb_agg(jsonb_build_object('action', action, 'sous_categories', to_jsonb(sous_categories)) order by action) as services
         from (select c.owner, e->>'action' as action, array_agg(distinct sc order by sc) as sous_categories
                 from publish_contrib c, jsonb_array_elements(c.proposition_service_codes) e, jsonb_array_elements_text(e->'sous_categories') sc
                where sc <> ''
                group by c.owner, e->>'action') per_action
        group by owner),
     owners as (
       select c.owner, count(*)::int as n, max(${LIEU_RANK}) as lieu_rank,
              jsonb_agg(jsonb_build_object('source_code', c.source_code, 'identifiant_externe', c.identifiant_externe) order by c.source_code, c.identifiant_externe) as sources,
              array_agg(distinct c.source_code order by c.source_code) as source_codes
         from publish_contrib c group by c.owner)
     insert into consolidation.acteurs_affiches (perimetre, identifiant_unique, uuid, nom, ${TEXT_COLUMNS.map((c) => `"${c}"`).join(', ')}, ${OTHER_COLUMNS.map((c) => `"${c}"`).join(', ')},
                                                 lieu_prestation, proposition_service_codes, sources, source_codes, est_parent, nombre_enfants)
     select $1, o.owner, u.uuid, a.nom, ${textCols}, ${otherCols},
            case when a.est_parent then (array[null, 'SUR_PLACE', 'A_DOMICILE', 'SUR_PLACE_OU_A_DOMICILE'])[o.lieu_rank + 1] else nullif(a.lieu_prestation, '') end,
            s.services, o.sources, o.source_codes, a.est_parent, case when a.est_parent then o.n else 0 end
       from owners o
       join services s on s.owner = o.owner
       join publish_vue a on a.identifiant_unique = o.owner
       join publish_uuid u on u.identifiant_unique = o.owner
      where lower(a.public_accueilli) not in ('aucun', 'professionnels')
        and a.statut = 'ACTIF'`,
    [perimetre],
  );
  return rows.count;
}

/** Rebuilds both perimeters in one transaction. */
export async function publishDisplayed(sql: Sql, onProgress: (phase: string) => void = () => {}): Promise<PublishResult> {
  const started = performance.now();
  const counts = await sql.begin(async (tx) => {
    await stageMergedState(tx);
    await tx.unsafe(`delete from consolidation.acteurs_affiches`);
    const result: Record<Perimetre, number> = { carte: 0, opendata: 0 };
    for (const perimetre of PERIMETRES) {
      onProgress(perimetre);
      await stageContributions(tx, perimetre);
      await stageUuids(tx);
      result[perimetre] = await insertPerimeter(tx, perimetre);
    }
    return result;
  });
  return { ...counts, seconds: Math.round(performance.now() - started) / 1000 };
}
