/**
 * Clustering duplicates across sources (issue 11 §5, CONSOLIDATION.md §3), as one pure function over
 * in-memory candidates: select → normalise → group → validate → one suggestion per cluster. No I/O
 * here; `activity.ts` binds it to the database and runs it in a worker thread.
 */
import { z } from 'zod';
import { normalisationFor, parseClusterConfig, type ClusterConfig } from './config';
import { groupRows, type ClusterRow, type GroupingStats } from './clusters';
import { normaliseValue, type RawValue } from './normalize';
import { CHANGE_MODELS, clusterChanges, type ClusterChange } from './parents';
import type { ClusterCandidate } from './types';

export { parseClusterConfig, type ClusterConfig, type ClusterConfigInput } from './config';
export type { ClusterCandidate } from './types';
export type { ClusterChange } from './parents';

/** One suggestion per cluster, in the shape the suggestions table stores (CONSOLIDATION-SPLIT.md). */
export interface ClusterSuggestion {
  clusterId: string;
  /** The exact-match values the cluster's actors share. */
  contexte: Record<string, string>;
  changes: ClusterChange[];
}

/** A cluster left out of the suggestions, and why: reported, never fatal for the run. */
export interface ClusterFailure {
  clusterId: string;
  acteurIds: string[];
  error: { type: string; message: string };
}

export interface ClusterRunStats extends GroupingStats {
  candidates: number;
  selectedOrphans: number;
  selectedParents: number;
  /** Selected candidates left out because a cluster field is empty (they cannot be blocked or compared). */
  missingClusterField: number;
  suggestions: number;
  failures: number;
  /** Changes in the suggestions: one per actor (members, re-attached children) plus new parents. */
  changes: number;
}

export interface ClusterRunResult {
  suggestions: ClusterSuggestion[];
  failures: ClusterFailure[];
  stats: ClusterRunStats;
}

// ---------------------------------------------------------------------------------------------------
// Selection

function isFilled(candidate: ClusterCandidate, field: string): boolean {
  const value = field === 'latitude' ? candidate.latitude : field === 'longitude' ? candidate.longitude : candidate.data[field];
  return !(value === null || value === undefined || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0));
}

/**
 * QFDMOD's two reads: orphans (not a parent, ACTIF, no parent) and parents (no parent), each narrowed
 * by the filters; a filter narrows the parents only when its `applyToParents` is set.
 */
export function selectCandidates(candidates: readonly ClusterCandidate[], config: ClusterConfig): { orphans: ClusterCandidate[]; parents: ClusterCandidate[] } {
  const { sources, acteurTypes, nomRegex, fieldsAllFilled } = config.selection;
  const regex = nomRegex ? new RegExp(nomRegex.value, 'i') : null;
  const passes = (c: ClusterCandidate, isParent: boolean): boolean => {
    if (sources && (!isParent || sources.applyToParents)) {
      const codes = isParent ? c.sourceCodes : c.sourceCode === null ? [] : [c.sourceCode];
      if (!codes.some((code) => sources.value.includes(code))) return false;
    }
    if (!isParent || acteurTypes.applyToParents) {
      if (c.acteurTypeCode === null || !acteurTypes.value.includes(c.acteurTypeCode)) return false;
    }
    if (regex && nomRegex && (!isParent || nomRegex.applyToParents)) {
      const nom = c.data.nom;
      if (typeof nom !== 'string' || !regex.test(nom)) return false;
    }
    if (fieldsAllFilled && (!isParent || fieldsAllFilled.applyToParents)) {
      if (!fieldsAllFilled.value.every((f) => isFilled(c, f))) return false;
    }
    return true;
  };
  const orphans: ClusterCandidate[] = [];
  const parents: ClusterCandidate[] = [];
  for (const c of candidates) {
    if (c.parentId !== null) continue;
    if (c.estParent) {
      if (passes(c, true)) parents.push(c);
    } else if (c.statut === 'ACTIF' && passes(c, false)) {
      orphans.push(c);
    }
  }
  return { orphans, parents };
}

// ---------------------------------------------------------------------------------------------------
// Validation

export class ClusterValidationError extends Error {
  constructor(
    readonly kind: 'too-small' | 'acteur-in-several-clusters' | 'cluster-ids-not-ordered' | 'invalid-change',
    message: string,
    /** The clusters the problem is about. */
    readonly clusterIds: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ClusterValidationError';
  }
}

/** QFDMOD's `cluster_acteurs_clusters_validate`: every actor once, every cluster 2+, ids ascending. */
export function validateClusters(clusters: readonly { clusterId: string; acteurIds: readonly string[] }[]): ClusterValidationError[] {
  const problems: ClusterValidationError[] = [];
  const owner = new Map<string, string>();
  for (const c of clusters) {
    if (c.acteurIds.length < 2) problems.push(new ClusterValidationError('too-small', `cluster ${c.clusterId} has ${c.acteurIds.length} acteur(s), fewer than 2`, [c.clusterId]));
    for (const id of c.acteurIds) {
      const other = owner.get(id);
      if (other !== undefined) problems.push(new ClusterValidationError('acteur-in-several-clusters', `acteur ${id} is in clusters ${other} and ${c.clusterId}`, [other, c.clusterId]));
      else owner.set(id, c.clusterId);
    }
  }
  for (let i = 1; i < clusters.length; i++) {
    if (clusters[i - 1]!.clusterId >= clusters[i]!.clusterId) {
      const pair = [clusters[i - 1]!.clusterId, clusters[i]!.clusterId];
      problems.push(new ClusterValidationError('cluster-ids-not-ordered', `cluster ids not in ascending order: ${pair[0]} then ${pair[1]}`, pair));
    }
  }
  return problems;
}

const changeSchema = z
  .object({
    order: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    reason: z.string().min(5),
    model_name: z.enum(Object.values(CHANGE_MODELS) as [string, ...string[]]),
    model_params: z.object({ id: z.string().min(1), data: z.record(z.string(), z.unknown()).optional() }).strict(),
  })
  .strict();

/** A suggestion's own checks: valid changes, one per actor, exactly one parent change, 2+ actors. */
export function validateSuggestion(suggestion: ClusterSuggestion): void {
  for (const [i, change] of suggestion.changes.entries()) {
    const parsed = changeSchema.safeParse(change);
    if (!parsed.success) {
      throw new ClusterValidationError('invalid-change', `change ${i} (${change.model_name} ${change.model_params.id}): ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    }
  }
  const ids = suggestion.changes.map((c) => c.model_params.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new ClusterValidationError('acteur-in-several-clusters', `acteur ${duplicate} has more than one change`);
  const parentChanges = suggestion.changes.filter((c) => c.order === 1);
  if (parentChanges.length !== 1) throw new ClusterValidationError('invalid-change', `${parentChanges.length} parent changes (order 1), expected exactly 1`);
  if (suggestion.changes.length < 3 && suggestion.changes.filter((c) => c.order === 2).length < 1) {
    throw new ClusterValidationError('too-small', 'a cluster needs at least one actor pointed at its parent');
  }
}

// ---------------------------------------------------------------------------------------------------
// The run

/**
 * Clusters `candidates` (the displayed actors without a parent) under `configInput`. `children` are the
 * existing children of parents (actors with a `parentId`): re-attached to their cluster's parent.
 */
export function clusterActeurs(candidates: readonly ClusterCandidate[], children: readonly ClusterCandidate[], configInput: unknown): ClusterRunResult {
  const config = parseClusterConfig(configInput);
  const { orphans, parents } = selectCandidates(candidates, config);
  const clusterFields = [...config.exactFields, ...config.fuzzyFields];
  const normalisers = clusterFields.map((f) => [f, normalisationFor(config, f)] as const);

  const selected: ClusterCandidate[] = [];
  const rows: ClusterRow[] = [];
  let missingClusterField = 0;
  for (const c of [...orphans, ...parents]) {
    const values: Record<string, string> = {};
    let complete = true;
    for (const [field, normalisation] of normalisers) {
      const raw = (field === 'latitude' ? c.latitude : field === 'longitude' ? c.longitude : c.data[field]) as RawValue;
      if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) {
        complete = false;
        break;
      }
      const value = normalisation ? normaliseValue(raw, normalisation) : String(raw);
      // A value that normalises to nothing ('-', '.') cannot block or compare either.
      if (value.trim() === '') {
        complete = false;
        break;
      }
      values[field] = value;
    }
    if (!complete) {
      missingClusterField++;
      continue;
    }
    selected.push(c);
    rows.push({ id: c.identifiantUnique, values, sourceCodes: c.sourceCodes, latitude: c.latitude, longitude: c.longitude });
  }

  const { clusters, stats } = groupRows(rows, {
    exactFields: config.exactFields,
    fuzzyFields: config.fuzzyFields,
    threshold: config.fuzzyThreshold / 100,
    distanceInCluster: config.distanceInCluster,
    intraSourceAllowed: config.intraSourceAllowed,
  });

  const childrenByParent = new Map<string, ClusterCandidate[]>();
  for (const child of children) {
    if (child.parentId === null) continue;
    let list = childrenByParent.get(child.parentId);
    if (!list) childrenByParent.set(child.parentId, (list = []));
    list.push(child);
  }

  const failures: ClusterFailure[] = [];
  const suggestions: ClusterSuggestion[] = [];
  const withIds = clusters.map((c) => ({ ...c, acteurIds: c.members.map((m) => selected[m]!.identifiantUnique) }));
  // Clusters the global checks reject are skipped (grouping makes this impossible; the check stays as a guard).
  const rejected = new Map<string, ClusterValidationError>();
  for (const problem of validateClusters(withIds)) {
    for (const id of problem.clusterIds) if (!rejected.has(id)) rejected.set(id, problem);
  }
  let changes = 0;
  for (const cluster of withIds) {
    const problem = rejected.get(cluster.clusterId);
    try {
      if (problem) throw problem;
      const members = cluster.members.map((m) => selected[m]!);
      const attached = members.filter((m) => m.estParent).flatMap((p) => childrenByParent.get(p.identifiantUnique) ?? []);
      const suggestion: ClusterSuggestion = {
        clusterId: cluster.clusterId,
        contexte: cluster.exactValues,
        changes: clusterChanges(members, attached, config.parentData),
      };
      validateSuggestion(suggestion);
      suggestions.push(suggestion);
      changes += suggestion.changes.length;
    } catch (err) {
      failures.push({
        clusterId: cluster.clusterId,
        acteurIds: cluster.acteurIds,
        error: { type: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) },
      });
    }
  }

  return {
    suggestions,
    failures,
    stats: {
      ...stats,
      candidates: candidates.length,
      selectedOrphans: orphans.length,
      selectedParents: parents.length,
      missingClusterField,
      suggestions: suggestions.length,
      failures: failures.length,
      changes,
    },
  };
}
