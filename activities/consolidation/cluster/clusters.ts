/**
 * Grouping candidates into clusters (QFDMOD's `cluster_acteurs_clusters`, CONSOLIDATION.md §3):
 * exact blocking, then per fuzzy field TF-IDF cosine + connected components inside each group, then the
 * optional haversine split, then the greedy intra-source split whose parts are checked again against
 * the fuzzy and distance rules (a part that falls apart into several clusters names them `_r1`, `_r2`…). Pure: rows in, clusters (row indices + cluster id) out.
 */
import slugify from '@sindresorhus/slugify';
import unidecode from 'unidecode';
import { edgesToClusters, haversineMetres, SimilarityWorkspace, tokenize, type TokenizedField } from './similarity';

/** What the grouping needs of a row: its normalised cluster fields, sources and coordinates. */
export interface ClusterRow {
  id: string;
  /** Normalised values, by field name (exact and fuzzy fields). */
  values: Record<string, string>;
  sourceCodes: readonly string[];
  latitude: number | null;
  longitude: number | null;
}

export interface GroupingParams {
  exactFields: readonly string[];
  fuzzyFields: readonly string[];
  /** Cosine threshold in [0, 1]; ≤ 0 keeps each group whole. */
  threshold: number;
  distanceInCluster: number;
  intraSourceAllowed: boolean;
}

export interface FoundCluster {
  clusterId: string;
  /** Indices into the rows given to `groupRows`, ascending. */
  members: number[];
  /** The exact-match values of the cluster's block, by field. */
  exactValues: Record<string, string>;
}

export interface GroupingStats {
  rows: number;
  blocks: number;
  largestBlock: number;
  edges: number;
  clusters: number;
  intraSourceSplits: number;
}

/** `'_'.join(slugify(unidecode(str(x))).lower())`, as QFDMOD names its clusters. */
export function clusterIdFromParts(parts: readonly string[]): string {
  return parts
    .map((part) =>
      slugify(unidecode(part).replace(/'/g, ' '), { decamelize: false, customReplacements: [['&', ' ']] }).toLowerCase(),
    )
    .join('_');
}

interface Pending {
  keys: string[];
  members: number[];
  exactValues: Record<string, string>;
}

class Grouper {
  readonly fields: TokenizedField[];
  readonly workspaces: SimilarityWorkspace[];
  edgesSeen = 0;

  constructor(
    private readonly rows: readonly ClusterRow[],
    private readonly params: GroupingParams,
  ) {
    this.fields = params.fuzzyFields.map((f) => tokenize(rows.map((r) => r.values[f] ?? '')));
    this.workspaces = this.fields.map((f) => new SimilarityWorkspace(f.vocabularySize));
  }

  /** `cluster_cols_group_fuzzy`: each fuzzy field in turn splits the clusters of the previous one. */
  fuzzy(members: number[]): number[][] {
    const { fuzzyFields, threshold } = this.params;
    const kept = members.filter((m) => fuzzyFields.every((f) => (this.rows[m]!.values[f] ?? '').trim() !== ''));
    if (kept.length < 2) return [];
    if (threshold <= 0) return [kept];
    let clusters = [kept];
    for (let f = 0; f < fuzzyFields.length; f++) {
      const next: number[][] = [];
      for (const cluster of clusters) {
        const edges = this.workspaces[f]!.edges(this.fields[f]!, cluster, threshold);
        this.edgesSeen += edges.length;
        for (const positions of edgesToClusters(edges, cluster.length)) next.push(positions.map((p) => cluster[p]!));
      }
      clusters = next.filter((c) => c.length > 1);
    }
    return clusters;
  }

  /** `split_clusters_by_distance`: rows closer than the distance (strictly) are linked; components ≥ 2. */
  distance(members: number[]): number[][] {
    const located = members.filter((m) => this.rows[m]!.latitude !== null && this.rows[m]!.longitude !== null);
    if (located.length < 2) return [];
    const n = located.length;
    const lat = located.map((m) => this.rows[m]!.latitude!);
    const lon = located.map((m) => this.rows[m]!.longitude!);
    const adjacency: number[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (haversineMetres(lat[i]!, lon[i]!, lat[j]!, lon[j]!) < this.params.distanceInCluster) {
          adjacency[i]!.push(j);
          adjacency[j]!.push(i);
        }
      }
    }
    const visited = new Uint8Array(n);
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      if (visited[i]) continue;
      const component: number[] = [];
      const stack = [i];
      while (stack.length > 0) {
        const node = stack.pop()!;
        if (visited[node]) continue;
        visited[node] = 1;
        component.push(located[node]!);
        for (const neighbour of adjacency[node]!) if (!visited[neighbour]) stack.push(neighbour);
      }
      if (component.length >= 2) out.push(component.sort((x, y) => x - y));
    }
    return out;
  }

  /**
   * `split_cluster_intra_source`: rows with the most sources first; a row whose sources meet those
   * already kept goes to the next part (suffix _1, _2…); a lone leftover is dropped.
   */
  intraSource(cluster: Pending): Pending[] {
    const parts: Pending[] = [];
    let rest = [...cluster.members].sort((x, y) => this.rows[y]!.sourceCodes.length - this.rows[x]!.sourceCodes.length);
    let index = 0;
    while (rest.length > 0) {
      const seen = new Set<string>();
      const current: number[] = [];
      const next: number[] = [];
      for (const m of rest) {
        const codes = this.rows[m]!.sourceCodes;
        if (codes.some((c) => seen.has(c))) next.push(m);
        else {
          for (const c of codes) seen.add(c);
          current.push(m);
        }
      }
      parts.push({
        keys: index === 0 ? cluster.keys : [...cluster.keys, String(index)],
        members: current.sort((x, y) => x - y),
        exactValues: cluster.exactValues,
      });
      if (next.length < 2) break;
      rest = next;
      index++;
    }
    return parts;
  }

  /** A part left by the intra-source split must still hold together under the fuzzy and distance rules. */
  recheck(part: Pending): Pending[] {
    let groups = [part.members];
    if (this.params.fuzzyFields.length > 0) groups = groups.flatMap((g) => this.fuzzy(g));
    if (this.params.distanceInCluster > 0) groups = groups.flatMap((g) => this.distance(g));
    groups = groups.filter((g) => g.length >= 2);
    if (groups.length === 1) return [{ ...part, members: groups[0]! }];
    // 'r1', 'r2'… and not '1', '2': the intra-source parts already use the numeric suffixes.
    return groups.map((members, i) => ({ ...part, keys: [...part.keys, `r${i + 1}`], members }));
  }
}

/** Runs the grouping over `rows`; returns clusters of 2+ sorted by cluster id, and counters. */
export function groupRows(rows: readonly ClusterRow[], params: GroupingParams): { clusters: FoundCluster[]; stats: GroupingStats } {
  const grouper = new Grouper(rows, params);
  const { exactFields, fuzzyFields } = params;

  // 1. exact blocking (groups of 2+, in key order as pandas' groupby gives them)
  let blocks: Pending[];
  if (exactFields.length > 0) {
    const byKey = new Map<string, Pending>();
    for (let r = 0; r < rows.length; r++) {
      const values = exactFields.map((f) => rows[r]!.values[f] ?? '');
      const key = values.join('\u0000');
      let block = byKey.get(key);
      if (!block) {
        block = { keys: values, members: [], exactValues: Object.fromEntries(exactFields.map((f, i) => [f, values[i]!])) };
        byKey.set(key, block);
      }
      block.members.push(r);
    }
    blocks = [...byKey.values()].filter((b) => b.members.length >= 2);
    blocks.sort((x, y) => compareTuples(x.keys, y.keys));
  } else {
    blocks = [{ keys: [], members: rows.map((_, r) => r), exactValues: {} }];
  }
  const largestBlock = blocks.reduce((max, b) => Math.max(max, b.members.length), 0);

  const found: Pending[] = [];
  let intraSourceSplits = 0;
  for (const block of blocks) {
    // 2. fuzzy
    let candidates: Pending[];
    if (fuzzyFields.length > 0) {
      candidates = grouper
        .fuzzy(block.members)
        .map((members, i) => ({ keys: [...block.keys, ...fuzzyFields, String(i + 1)], members, exactValues: block.exactValues }));
    } else {
      candidates = [block];
    }
    // 3. distance
    if (params.distanceInCluster > 0) {
      candidates = candidates.flatMap((c) =>
        grouper.distance(c.members).map((members, i) => ({ keys: [...c.keys, 'distance', String(i + 1)], members, exactValues: c.exactValues })),
      );
    }
    // 4. intra-source split, each changed part checked again
    if (!params.intraSourceAllowed) {
      candidates = candidates.flatMap((c) => {
        const parts = grouper.intraSource(c);
        if (parts.length === 1 && parts[0]!.members.length === c.members.length) return parts;
        intraSourceSplits++;
        return parts.flatMap((p) => (p.members.length >= 2 ? grouper.recheck(p) : []));
      });
    }
    for (const c of candidates) if (c.members.length >= 2) found.push(c);
  }

  const clusters = found.map((c) => ({ clusterId: clusterIdFromParts(c.keys), members: c.members, exactValues: c.exactValues }));
  clusters.sort((x, y) => (x.clusterId < y.clusterId ? -1 : x.clusterId > y.clusterId ? 1 : 0));
  return {
    clusters,
    stats: { rows: rows.length, blocks: blocks.length, largestBlock, edges: grouper.edgesSeen, clusters: clusters.length, intraSourceSplits },
  };
}

function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}
