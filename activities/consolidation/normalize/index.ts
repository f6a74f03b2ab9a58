/** QFDMOD's normalisation, as pure functions: rows of a source in, acteurs and per-row logs out. */
import { ACTEUR_FIELDS, type NormalizedActeur } from '../../../schema/consolidation/items';
import type { Row } from './rules';

export * from './columns';
export * from './errors';
export * from './frames';
export * from './identity';
export * from './rules';

const LIST_FIELDS = new Set(['label_codes', 'acteur_service_codes', 'proposition_service_codes', 'perimetre_adomicile_codes']);
const BOOLEAN_FIELDS = new Set(['exclusivite_de_reprisereparation', 'uniquement_sur_rdv']);
const NUMBER_FIELDS = new Set(['latitude', 'longitude']);

/**
 * A normalised row as an acteur: model fields only (helper columns such as `action_codes` or
 * `location` are left out), empty text as null, and an acteur without proposition services is
 * INACTIF (it cannot be shown), as QFDMOD's `db_data_prepare` forces it.
 */
export function rowToActeur(row: Row, sourceCode: string): NormalizedActeur {
  const out: Record<string, unknown> = {};
  for (const field of ACTEUR_FIELDS) {
    if (!(field in row)) continue;
    const v = row[field];
    if (LIST_FIELDS.has(field)) out[field] = Array.isArray(v) ? v : [];
    else if (BOOLEAN_FIELDS.has(field)) out[field] = typeof v === 'boolean' ? v : null;
    else if (NUMBER_FIELDS.has(field)) out[field] = typeof v === 'number' && Number.isFinite(v) ? v : null;
    else out[field] = v === '' || v === null || v === undefined ? null : String(v);
  }
  const services = (out.proposition_service_codes as unknown[] | undefined) ?? [];
  return {
    ...out,
    identifiant_unique: String(row.identifiant_unique),
    source_code: typeof out.source_code === 'string' && out.source_code ? out.source_code : sourceCode,
    identifiant_externe: String(row.identifiant_externe),
    nom: String(out.nom ?? row.identifiant_externe),
    statut: services.length === 0 ? 'INACTIF' : ((out.statut as NormalizedActeur['statut'] | null) ?? 'ACTIF'),
    label_codes: (out.label_codes as string[] | undefined) ?? [],
    acteur_service_codes: (out.acteur_service_codes as string[] | undefined) ?? [],
    proposition_service_codes: (out.proposition_service_codes as NormalizedActeur['proposition_service_codes'] | undefined) ?? [],
  } as NormalizedActeur;
}
export * from './strings';
