/**
 * Parent choice, change orders and parent data for one cluster (QFDMOD's
 * `cluster_acteurs_parents_choose_new` and `…_choose_data`).
 */
import { v5 as uuidv5 } from 'uuid';
import { FIELDS_PARENT_DATA_EXCLUDED, type ClusterConfig } from './config';
import type { ClusterCandidate } from './types';

const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

export const CHANGE_MODELS = {
  createAsParent: 'acteur_create_as_parent',
  keepAsParent: 'acteur_keep_as_parent',
  updateParentId: 'acteur_update_parent_id',
  verifyInRevision: 'acteur_verify_in_revision',
  deleteAsParent: 'acteur_delete_as_parent',
} as const;
export type ClusterChangeModel = (typeof CHANGE_MODELS)[keyof typeof CHANGE_MODELS];

export const REASONS = {
  oneParentKept: '1 seul parent existant → à garder',
  parentWithMostChildrenKept: "2+ parents → celui avec + d'enfants → à garder",
  noParentCreateOne: 'Pas de parent → à créer',
  pointToNewParent: 'A pointer vers nouveau parent',
  alreadyPointsToParent: 'Pointe déjà vers nouveau parent',
  parentToDelete: '2+ parents → non choisi → à supprimer',
} as const;

export interface ClusterChange {
  order: 1 | 2 | 3;
  reason: string;
  model_name: ClusterChangeModel;
  model_params: { id: string; data?: Record<string, unknown> };
}

/** A new parent's id: uuid5(NAMESPACE_DNS, sorted child ids joined by ','), so the same children give the same parent. */
export function parentIdGenerate(childIds: readonly string[]): string {
  return uuidv5([...childIds].sort(compareCodePoints).join(','), NAMESPACE_DNS);
}

export interface ParentDecision {
  parentId: string;
  modelName: typeof CHANGE_MODELS.createAsParent | typeof CHANGE_MODELS.keepAsParent;
  reason: string;
  /** The existing parent kept, or null when one is created. */
  parent: ClusterCandidate | null;
}

/** One existing parent: kept; several: the one with most children, ACTIF ones first; none: a new one. */
export function chooseParent(members: readonly ClusterCandidate[]): ParentDecision {
  const parents = members.filter((m) => m.estParent);
  if (parents.length === 1) {
    return { parentId: parents[0]!.identifiantUnique, modelName: CHANGE_MODELS.keepAsParent, reason: REASONS.oneParentKept, parent: parents[0]! };
  }
  if (parents.length >= 2) {
    const active = parents.filter((p) => p.statut === 'ACTIF');
    const pool = active.length > 0 ? active : parents;
    let best = pool[0]!;
    for (const p of pool) if (p.nombreEnfants > best.nombreEnfants) best = p;
    return { parentId: best.identifiantUnique, modelName: CHANGE_MODELS.keepAsParent, reason: REASONS.parentWithMostChildrenKept, parent: best };
  }
  return {
    parentId: parentIdGenerate(members.map((m) => m.identifiantUnique)),
    modelName: CHANGE_MODELS.createAsParent,
    reason: REASONS.noParentCreateOne,
    parent: null,
  };
}

/** Empty = null/undefined or a blank string (the database allows empty strings). */
export function valueIsEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** The first non-empty value; with `keepEmpty`, simply the first value. */
export function fieldPickValue(values: readonly unknown[], keepEmpty = false): unknown {
  for (const value of values) if (!valueIsEmpty(value) || keepEmpty) return value;
  return null;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return (a ?? null) === (b ?? null);
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/**
 * The parent's new data: candidates are the existing parent (first, when kept and
 * `keepParentDataByDefault`), then the other members by source priority minus excluded sources; per
 * field the first non-empty value wins; values equal to the parent's current one are left out.
 * `keepEmpty` only applies to an existing parent (a new one never gets empty values).
 */
export function chooseParentData(
  parent: ClusterCandidate | null,
  others: readonly ClusterCandidate[],
  options: ClusterConfig['parentData'],
): Record<string, unknown> {
  const excluded = new Set<string>(FIELDS_PARENT_DATA_EXCLUDED);
  const fields = options.fields.filter((f) => !excluded.has(f));
  const priority = (c: ClusterCandidate) => {
    const at = c.sourceCode === null ? -1 : options.prioritySources.indexOf(c.sourceCode);
    return at === -1 ? Number.POSITIVE_INFINITY : at;
  };
  const eligible = others
    .filter((c) => c.sourceCode === null || !options.excludedSources.includes(c.sourceCode))
    .sort((a, b) => compareCodePoints(a.identifiantUnique, b.identifiantUnique));
  // A stable sort keeps id order among equal priorities.
  let ordered = [...eligible].sort((a, b) => {
    const pa = priority(a);
    const pb = priority(b);
    return pa === pb ? 0 : pa < pb ? -1 : 1;
  });
  const keepEmpty = parent ? options.keepEmpty : false;
  if (parent && options.keepParentDataByDefault) ordered = [parent, ...ordered];

  const result: Record<string, unknown> = {};
  for (const field of fields) {
    const oldValue = parent ? (parent.data[field] ?? null) : null;
    const newValue = fieldPickValue(
      ordered.map((c) => c.data[field] ?? null),
      keepEmpty,
    );
    if (sameValue(newValue, oldValue)) continue;
    if ((newValue === null || newValue === undefined) && !keepEmpty) continue;
    result[field] = newValue;
  }
  return result;
}

/**
 * Every change of one cluster, one per actor: the parent (order 1), members and the existing children
 * of the cluster's parents pointed at it (order 2; `verify_in_revision` for those already attached),
 * the parents not chosen deleted (order 3).
 */
export function clusterChanges(
  members: readonly ClusterCandidate[],
  childrenOfParents: readonly ClusterCandidate[],
  options: ClusterConfig['parentData'],
): ClusterChange[] {
  const decision = chooseParent(members);
  const others = members.filter((m) => m.identifiantUnique !== decision.parentId);
  const data = chooseParentData(decision.parent, [...others, ...childrenOfParents], options);
  const changes: ClusterChange[] = [
    { order: 1, reason: decision.reason, model_name: decision.modelName, model_params: { id: decision.parentId, data } },
  ];
  const losing: ClusterChange[] = [];
  for (const m of others) {
    if (m.estParent) {
      losing.push({ order: 3, reason: REASONS.parentToDelete, model_name: CHANGE_MODELS.deleteAsParent, model_params: { id: m.identifiantUnique } });
    } else {
      changes.push(pointAt(m, decision.parentId));
    }
  }
  for (const child of childrenOfParents) changes.push(pointAt(child, decision.parentId));
  return [...changes, ...losing.sort((a, b) => compareCodePoints(a.model_params.id, b.model_params.id))].sort(
    (a, b) => a.order - b.order || (a.order === 2 ? compareCodePoints(a.model_params.id, b.model_params.id) : 0),
  );
}

function pointAt(acteur: ClusterCandidate, parentId: string): ClusterChange {
  const already = acteur.parentId === parentId;
  return {
    order: 2,
    reason: already ? REASONS.alreadyPointsToParent : REASONS.pointToNewParent,
    model_name: already ? CHANGE_MODELS.verifyInRevision : CHANGE_MODELS.updateParentId,
    model_params: { id: acteur.identifiantUnique, data: { parent_id: parentId } },
  };
}

export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
