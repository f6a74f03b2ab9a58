/**
 * The diff of a source's normalised acteurs against the stored ones (QFDMOD's `keep_acteur_changed`
 * and `db_data_prepare`), as a pure function: both sides re-keyed by recomputing `identifiant_unique`
 * (legacy stored ids still match), anonymised acteurs skipped, lists compared order-insensitively,
 * per-column MODIF / SUP / AJOUT counts, and the three sets a run suggests: to create, to update
 * (with the stored row as context), to delete (stored ACTIF acteurs the source no longer lists).
 */
import type { ActeurFields, NormalizedActeur } from '../../../schema/consolidation/items';
import { computeIdentifiantUnique } from '../normalize/identity';

/** The value QFDMOD writes over the personal fields of an acteur anonymised for the RGPD. */
export const ANONYMISED = 'ANONYMISE';

export type StoredActeur = ActeurFields & { identifiant_unique: string; source_code: string; identifiant_externe: string; nom: string };

export type ColumnCounts = Record<string, [modif: number, sup: number, ajout: number]>;

export interface SourceDiff {
  toCreate: NormalizedActeur[];
  toUpdate: { acteur: NormalizedActeur; stored: StoredActeur; changed: Partial<NormalizedActeur> }[];
  toDelete: StoredActeur[];
  counts: ColumnCounts;
  skippedAnonymised: number;
  unchanged: number;
}

export class DuplicateStoredKeyError extends Error {
  constructor(readonly keys: string[]) {
    super(`stored acteurs share a recomputed identifiant_unique: ${keys.slice(0, 10).join(', ')}${keys.length > 10 ? '…' : ''}`);
    this.name = 'DuplicateStoredKeyError';
  }
}

const isEmpty = (v: unknown) => v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v)) || (Array.isArray(v) && v.length === 0);

/** The comparable form of a value: lists sorted, proposition services sorted by action then sous-catégorie. */
export function canonical(column: string, value: unknown): unknown {
  if (isEmpty(value)) return null;
  if (column === 'proposition_service_codes' && Array.isArray(value)) {
    return (value as { action: string; sous_categories: string[] }[])
      .map((p) => ({ action: p.action, sous_categories: [...p.sous_categories].sort() }))
      .sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : 0));
  }
  if (column === 'perimetre_adomicile_codes' && Array.isArray(value)) {
    return (value as { type: string; valeur: string }[]).map((p) => ({ type: p.type, valeur: p.valeur })).sort((a, b) => (a.type === b.type ? a.valeur.localeCompare(b.valeur) : a.type.localeCompare(b.type)));
  }
  if (Array.isArray(value)) return [...value].map(String).sort();
  return value;
}

const same = (column: string, a: unknown, b: unknown) => JSON.stringify(canonical(column, a)) === JSON.stringify(canonical(column, b));

const IDENTITY = new Set(['identifiant_unique', 'source_code', 'identifiant_externe']);

/**
 * `columns` are the fields the source provides (model fields ∩ its expected columns): a field the
 * source does not carry is never compared, so it never shows as removed.
 */
export function diffSource(sourceCode: string, incoming: NormalizedActeur[], stored: StoredActeur[], columns: string[]): SourceDiff {
  const rekey = (a: { source_code: string; identifiant_externe: string }) => computeIdentifiantUnique(a.source_code, a.identifiant_externe);
  const storedByKey = new Map<string, StoredActeur>();
  const duplicates: string[] = [];
  for (const s of stored) {
    const key = rekey(s);
    if (storedByKey.has(key)) duplicates.push(key);
    storedByKey.set(key, s);
  }
  if (duplicates.length) throw new DuplicateStoredKeyError(duplicates);

  const compared = columns.filter((c) => !IDENTITY.has(c));
  const counts: ColumnCounts = {};
  const diff: SourceDiff = { toCreate: [], toUpdate: [], toDelete: [], counts, skippedAnonymised: 0, unchanged: 0 };
  const seen = new Set<string>();
  for (const acteur of incoming) {
    const key = rekey(acteur);
    seen.add(key);
    const before = storedByKey.get(key);
    if (!before) {
      diff.toCreate.push(acteur);
      continue;
    }
    if (before.nom === ANONYMISED) {
      diff.skippedAnonymised++;
      continue;
    }
    const changed: Record<string, unknown> = {};
    for (const column of compared) {
      const next = (acteur as Record<string, unknown>)[column];
      const prev = (before as Record<string, unknown>)[column];
      if (same(column, next, prev)) continue;
      changed[column] = next ?? null;
      const c = (counts[column] ??= [0, 0, 0]);
      if (isEmpty(next)) c[1]++;
      else if (isEmpty(prev)) c[2]++;
      else c[0]++;
    }
    if (Object.keys(changed).length === 0) diff.unchanged++;
    else diff.toUpdate.push({ acteur, stored: before, changed: changed as Partial<NormalizedActeur> });
  }
  for (const [key, s] of storedByKey) {
    if (!seen.has(key) && s.statut === 'ACTIF' && s.source_code === sourceCode && s.nom !== ANONYMISED) diff.toDelete.push(s);
  }
  return diff;
}
