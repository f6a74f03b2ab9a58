/**
 * INSEE's SIRENE establishment file (StockEtablissement, ~40M rows nationally) loaded into PostgreSQL with
 * COPY, so that "which of our actors' SIRETs are closed, and what replaced them" is one join instead of
 * hundreds of thousands of registry calls. The proposals follow QFDMOD's enrich_acteurs_closed models:
 *
 * - candidates: ACTIF actors whose 14-digit SIRET is a closed establishment (`etatAdministratif = 'F'`);
 * - a replacement is an active establishment at the same postcode, street number and street (normalised),
 *   with the same activity code and a name, the same SIREN first, then the most name words in common;
 * - replaced: the actor's SIRET/SIREN are proposed to change; not replaced: the actor is proposed INACTIF,
 *   told apart by whether the company (SIREN) still has an open establishment in the file.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv, CsvError } from 'csv-parse';
import type { Sql } from 'postgres';
import { InvalidInputError } from '../../engine/errors';
import { changeOf, type EnrichmentProposal } from './proposals';

/** The StockEtablissement columns the load reads; a file without them has changed shape. */
export const SIRENE_REQUIRED_COLUMNS = [
  'siren',
  'nic',
  'siret',
  'dateCreationEtablissement',
  'etablissementSiege',
  'complementAdresseEtablissement',
  'numeroVoieEtablissement',
  'indiceRepetitionEtablissement',
  'typeVoieEtablissement',
  'libelleVoieEtablissement',
  'codePostalEtablissement',
  'libelleCommuneEtablissement',
  'codeCommuneEtablissement',
  'dateDebut',
  'etatAdministratifEtablissement',
  'enseigne1Etablissement',
  'denominationUsuelleEtablissement',
  'activitePrincipaleEtablissement',
  'nomenclatureActivitePrincipaleEtablissement',
  'dateDernierTraitementEtablissement',
] as const;

/** Upper case, no accents, letters and digits separated by single spaces (QFDMOD's udf_normalize_string_for_match). */
export function normalizeForMatch(s: string | null | undefined): string {
  return (s ?? '')
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}

const COPY_COLUMNS = [
  'siret',
  'siren',
  'nic',
  'etat_administratif',
  'date_debut',
  'date_creation',
  'etablissement_siege',
  'nom',
  'numero_voie',
  'indice_repetition',
  'type_voie',
  'libelle_voie',
  'complement_adresse',
  'code_postal',
  'libelle_commune',
  'code_commune',
  'activite_principale',
  'nomenclature_activite',
  'adresse_match',
  'date_dernier_traitement',
] as const;

/** COPY's text format: `\N` for null, backslash escapes for the separators. */
function copyField(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : v.trim());

export interface SireneLoadResult {
  rows: number;
  active: number;
  closed: number;
}

/**
 * Streams a StockEtablissement CSV (UTF-8, `,`-separated, header line) into
 * `consolidation.sirene_etablissements`: COPY into a staging table, then one upsert by SIRET, all in one
 * transaction (a file that fails half-way leaves the previous load untouched).
 */
export async function loadSireneStock(
  sql: Sql,
  input: Readable | AsyncIterable<Buffer | Uint8Array | string>,
  where = 'StockEtablissement',
  onProgress?: (counts: SireneLoadResult) => void,
): Promise<SireneLoadResult> {
  const counts: SireneLoadResult = { rows: 0, active: 0, closed: 0 };
  await sql.begin(async (tx) => {
    await tx`create temp table sirene_load (like consolidation.sirene_etablissements including defaults) on commit drop`;
    const copy = await tx`copy sirene_load (${tx(COPY_COLUMNS as unknown as string[])}) from stdin`.writable();
    const parser = parseCsv({
      columns: (header: string[]) => {
        const missing = SIRENE_REQUIRED_COLUMNS.filter((c) => !header.includes(c));
        if (missing.length > 0) throw new InvalidInputError(`${where}: not a StockEtablissement file, columns missing: ${missing.join(', ')}`, { missing });
        return header;
      },
      bom: true,
      skip_empty_lines: true,
    });
    async function* lines(records: AsyncIterable<Record<string, string>>): AsyncGenerator<string> {
      let buffer = '';
      for await (const r of records) {
        const etat = r.etatAdministratifEtablissement;
        if (etat !== 'A' && etat !== 'F') throw new InvalidInputError(`${where} line ${counts.rows + 2}: etatAdministratifEtablissement '${etat}' is neither A nor F`, { siret: r.siret });
        if (!/^\d{14}$/.test(r.siret ?? '')) throw new InvalidInputError(`${where} line ${counts.rows + 2}: siret '${r.siret}' is not 14 digits`);
        counts.rows++;
        if (etat === 'A') counts.active++;
        else counts.closed++;
        const values: (string | null)[] = [
          r.siret!,
          r.siren!,
          r.nic!,
          etat,
          blank(r.dateDebut),
          blank(r.dateCreationEtablissement),
          r.etablissementSiege === 'true' ? 't' : 'f',
          blank(r.enseigne1Etablissement) ?? blank(r.denominationUsuelleEtablissement),
          blank(r.numeroVoieEtablissement),
          blank(r.indiceRepetitionEtablissement),
          blank(r.typeVoieEtablissement),
          blank(r.libelleVoieEtablissement),
          blank(r.complementAdresseEtablissement),
          blank(r.codePostalEtablissement),
          blank(r.libelleCommuneEtablissement),
          blank(r.codeCommuneEtablissement),
          blank(r.activitePrincipaleEtablissement),
          blank(r.nomenclatureActivitePrincipaleEtablissement),
          blank(normalizeForMatch(`${r.typeVoieEtablissement ?? ''} ${r.libelleVoieEtablissement ?? ''}`)),
          blank(r.dateDernierTraitementEtablissement),
        ];
        buffer += values.map(copyField).join('\t') + '\n';
        if (buffer.length > 1 << 16) {
          yield buffer;
          buffer = '';
          onProgress?.(counts);
        }
      }
      if (buffer) yield buffer;
    }
    const source = input instanceof Readable ? input : Readable.from(input);
    try {
      await pipeline(source, parser, lines, copy);
    } catch (err) {
      if (err instanceof CsvError) throw new InvalidInputError(`${where} line ${(err as CsvError & { lines?: number }).lines ?? '?'}: ${err.message}`);
      throw err;
    }
    await tx`
      insert into consolidation.sirene_etablissements (${tx(COPY_COLUMNS as unknown as string[])}, loaded_at)
      select ${tx(COPY_COLUMNS as unknown as string[])}, now() from sirene_load
      on conflict (siret) do update set ${tx.unsafe(
        COPY_COLUMNS.filter((c) => c !== 'siret')
          .map((c) => `${c} = excluded.${c}`)
          .join(', '),
      )}, loaded_at = excluded.loaded_at`;
  });
  return counts;
}

export interface ActorWithSiret {
  identifiantUnique: string;
  siret: string | null;
  nom: string | null;
  statut: string;
  adresse?: string | null;
  codePostal?: string | null;
  ville?: string | null;
}

interface ClosedRow {
  identifiant_unique: string;
  siret: string;
  nom: string | null;
  adresse: string | null;
  code_postal: string | null;
  ville: string | null;
  date_fermeture: string | null;
  unite_active: boolean;
  new_siret: string | null;
  new_nom: string | null;
  same_siren: boolean | null;
  words_in_common: number | null;
}

/** Closed-establishment proposals for these actors, from the loaded SIRENE file (nothing is written here). */
export async function proposeClosedActors(sql: Sql, actors: ActorWithSiret[]): Promise<EnrichmentProposal[]> {
  const candidates = actors.filter((a) => a.statut === 'ACTIF' && a.siret && /^\d{14}$/.test(a.siret));
  if (candidates.length === 0) return [];
  const rows = await sql<ClosedRow[]>`
    with acteurs as (
      select * from unnest(
        ${candidates.map((a) => a.identifiantUnique)}::text[], ${candidates.map((a) => a.siret!)}::text[],
        ${candidates.map((a) => a.nom ?? '')}::text[], ${candidates.map((a) => normalizeForMatch(a.nom))}::text[],
        ${candidates.map((a) => a.adresse ?? '')}::text[], ${candidates.map((a) => a.codePostal ?? '')}::text[], ${candidates.map((a) => a.ville ?? '')}::text[]
      ) as t(identifiant_unique, siret, nom, nom_match, adresse, code_postal, ville)
    ),
    candidates as (
      select a.*, e.siren, e.date_debut as date_fermeture, e.code_postal as etab_code_postal, e.numero_voie as etab_numero,
             e.adresse_match as etab_adresse, e.activite_principale as etab_naf,
             exists (select 1 from consolidation.sirene_etablissements o where o.siren = e.siren and o.etat_administratif = 'A') as unite_active
        from acteurs a join consolidation.sirene_etablissements e on e.siret = a.siret
       where e.etat_administratif = 'F'
    ),
    replacements as (
      select distinct on (c.identifiant_unique) c.identifiant_unique, s.siret as new_siret, s.nom as new_nom,
             s.siren = c.siren as same_siren, w.n as words_in_common
        from candidates c
        join consolidation.sirene_etablissements s
          on s.etat_administratif = 'A' and s.code_postal = c.etab_code_postal and s.numero_voie = c.etab_numero
         and s.activite_principale = c.etab_naf and s.adresse_match = c.etab_adresse and s.siret <> c.siret
        cross join lateral (
          select count(*)::int as n from (
            select unnest(string_to_array(c.nom_match, ' ')) intersect
            select unnest(string_to_array(regexp_replace(upper(s.nom), '[^A-Z0-9]+', ' ', 'g'), ' '))
          ) words
        ) w
       where s.nom is not null and s.nom <> '[ND]'
       order by c.identifiant_unique, (s.siren = c.siren) desc, w.n desc, s.siret
    )
    select c.identifiant_unique, c.siret, nullif(c.nom, '') as nom, nullif(c.adresse, '') as adresse, nullif(c.code_postal, '') as code_postal,
           nullif(c.ville, '') as ville, c.date_fermeture::text, c.unite_active, r.new_siret, r.new_nom, r.same_siren, r.words_in_common
      from candidates c left join replacements r using (identifiant_unique)
     order by c.identifiant_unique`;
  return rows.map((r): EnrichmentProposal => {
    const contexte = { nom: r.nom, statut: 'ACTIF', adresse: r.adresse, code_postal: r.code_postal, ville: r.ville };
    const evidence = { source: 'sirene', siret: r.siret, etatAdministratif: 'F', dateFermeture: r.date_fermeture, uniteActive: r.unite_active, contexte };
    if (r.new_siret) {
      const reason = `SIRET ${r.siret} fermé dans SIRENE, remplacé par le SIRET ${r.new_siret}${r.same_siren ? ' du même SIREN' : " d'un autre SIREN"}`;
      return {
        kind: r.same_siren ? 'closed_replaced_same_siren' : 'closed_replaced_other_siren',
        identifiantUnique: r.identifiant_unique,
        reason,
        changes: [changeOf(1, 'Modification du SIRET', 'acteur_update_data', { id: r.identifiant_unique, data: { siret: r.new_siret, siren: r.new_siret.slice(0, 9) } })],
        evidence: { ...evidence, replacement: { siret: r.new_siret, nom: r.new_nom, memeSiren: r.same_siren, motsEnCommun: r.words_in_common } },
      };
    }
    return {
      kind: r.unite_active ? 'closed_not_replaced_etablissement' : 'closed_not_replaced_unite',
      identifiantUnique: r.identifiant_unique,
      reason: `SIRET ${r.siret} fermé dans SIRENE${r.unite_active ? '' : ', SIREN sans établissement ouvert'}, aucun remplacement trouvé`,
      changes: [
        changeOf(1, r.unite_active ? 'SIRET fermé, 0 remplacement trouvé' : 'SIRET & SIREN fermés, 0 remplacement trouvé', 'acteur_update_statut', {
          id: r.identifiant_unique,
          data: { statut: 'INACTIF' },
        }),
      ],
      evidence,
    };
  });
}
