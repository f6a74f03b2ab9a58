/**
 * `consolidation.cluster`: clustering 150,000 actors generated from the real distributions
 * (consolidation-acteurs.ts) with QFDMOD's default config (blocks on postcode + city, TF-IDF on name then
 * address at 50/100, no two actors of one source in a cluster), end to end: selection, normalisation,
 * grouping, parent choice and data, one validated suggestion per cluster. Issue 11 asks < 5 minutes on
 * this 2-core machine (QFDMOD: ~6 hours).
 *
 * Quality: pairwise precision/recall of the clusters against the planted duplicates.
 * Baseline, in the same run: QFDMOD's way of grouping (every pair of a block scored, all pairs sorted,
 * clusters found by scanning a list of sets), written here as a yardstick, on every 10th block by size
 * rank (a subset with the same block-size distribution), extrapolated by rows; the product's grouping
 * runs on the same subset and must find the same clusters.
 */
import { clusterActeurs } from '../../activities/consolidation/cluster';
import { groupRows, type ClusterRow, type GroupingParams } from '../../activities/consolidation/cluster/clusters';
import { normalisationFor, parseClusterConfig } from '../../activities/consolidation/cluster/config';
import { normaliseValue } from '../../activities/consolidation/cluster/normalize';
import { roundScore } from '../../activities/consolidation/cluster/similarity';
import { loadavg } from 'node:os';
import { generateActeurs } from './consolidation-acteurs';
import { measure, round, type BenchContext, type BenchResult, type Scenario } from './support';

const ACTORS = 150_000;
const ALL_TYPES = ['artisan', 'commerce', 'ess', 'pav_public', 'collectivite', 'decheterie', 'ets_sante', 'pav_prive'];

/** QFDMOD's `values_to_similarity_matrix` + `similarity_matrix_to_tuples` + `score_tuples_to_clusters`. */
function naiveFuzzy(values: string[], threshold: number): number[][] {
  const n = values.length;
  const docs = values.map((v) => {
    const tf = new Map<string, number>();
    for (const w of v.toLowerCase().split(/\s+/)) if (w !== '') tf.set(w, (tf.get(w) ?? 0) + 1);
    return tf;
  });
  const df = new Map<string, number>();
  for (const d of docs) for (const w of d.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const vectors = docs.map((d) => {
    const v = new Map<string, number>();
    let norm = 0;
    for (const [w, c] of d) {
      const x = c * (Math.log((1 + n) / (1 + df.get(w)!)) + 1);
      v.set(w, x);
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (const [w, x] of v) v.set(w, x / norm);
    return v;
  });
  const tuples: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let dot = 0;
      const [small, big] = vectors[i]!.size <= vectors[j]!.size ? [vectors[i]!, vectors[j]!] : [vectors[j]!, vectors[i]!];
      for (const [w, x] of small) {
        const y = big.get(w);
        if (y !== undefined) dot += x * y;
      }
      tuples.push([i, j, roundScore(dot)]);
    }
  }
  tuples.sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
  const clusters: Set<number>[] = [];
  for (const [a, b, score] of tuples) {
    if (score < threshold) break;
    const ca = clusters.find((c) => c.has(a));
    const cb = clusters.find((c) => c.has(b));
    if (ca && cb) {
      if (ca !== cb) {
        for (const x of cb) ca.add(x);
        clusters.splice(clusters.indexOf(cb), 1);
      }
    } else if (ca) ca.add(b);
    else if (cb) cb.add(a);
    else clusters.push(new Set([a, b]));
  }
  return clusters.map((c) => [...c].sort((x, y) => x - y));
}

function naiveGroup(rows: ClusterRow[], params: GroupingParams): string[][] {
  const blocks = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = params.exactFields.map((f) => r.values[f]).join('\u0000');
    let b = blocks.get(key);
    if (!b) blocks.set(key, (b = []));
    b.push(i);
  });
  const out: string[][] = [];
  for (const block of blocks.values()) {
    if (block.length < 2) continue;
    let clusters = [block];
    for (const field of params.fuzzyFields) {
      clusters = clusters
        .flatMap((c) => naiveFuzzy(c.map((i) => rows[i]!.values[field]!), params.threshold).map((members) => members.map((p) => c[p]!)))
        .filter((c) => c.length > 1);
    }
    for (const c of clusters) out.push(c.map((i) => rows[i]!.id));
  }
  return out;
}

const canonical = (clusters: string[][]) => clusters.map((c) => [...c].sort().join(',')).sort();

function pairsOf(groups: Iterable<string[]>): Set<string> {
  const pairs = new Set<string>();
  for (const g of groups) {
    const ids = [...g].sort();
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairs.add(`${ids[i]}|${ids[j]}`);
  }
  return pairs;
}

const clusterScenario: Scenario = {
  produces: ['consolidation.cluster'],
  description: `clustering ${ACTORS.toLocaleString('en-US')} generated actors (default QFDMOD config) into suggestions; naive all-pairs baseline on a 10 % block subset`,
  async run(ctx: BenchContext): Promise<Record<string, BenchResult>> {
    const loadBefore = loadavg().map((x) => round(x, 2));
    const generatedAt = performance.now();
    const generated = generateActeurs(ACTORS);
    const generateMs = performance.now() - generatedAt;
    const configInput = { selection: { acteurTypes: { value: ALL_TYPES } } };
    ctx.log(`  generated ${generated.candidates.length} candidates (${generated.stats.duplicatedPlaces} places published 2–3 times) in ${round(generateMs / 1000, 1)} s`);

    const run = await measure(async () => clusterActeurs(generated.candidates, generated.children, configInput));
    const result = run.result;
    ctx.log(`  clustered in ${round(run.ms / 1000, 1)} s: ${result.stats.suggestions} suggestions, ${result.failures.length} failures`);

    // Precision / recall on the planted duplicates, over the actors that were candidates.
    const clusterPairs = pairsOf(
      result.suggestions.map((s) => s.changes.map((c) => c.model_params.id).filter((id) => generated.placeOf.has(id))),
    );
    const selected = new Set(generated.candidates.filter((c) => c.estParent || c.statut === 'ACTIF').map((c) => c.identifiantUnique));
    const byPlace = new Map<number, string[]>();
    for (const [id, place] of generated.placeOf) {
      if (!selected.has(id)) continue;
      let list = byPlace.get(place);
      if (!list) byPlace.set(place, (list = []));
      list.push(id);
    }
    const truePairs = pairsOf(byPlace.values());
    let hits = 0;
    for (const p of clusterPairs) if (truePairs.has(p)) hits++;
    const precision = clusterPairs.size === 0 ? 0 : hits / clusterPairs.size;
    const recall = truePairs.size === 0 ? 0 : hits / truePairs.size;

    // Baseline on every 10th block by size rank.
    const config = parseClusterConfig(configInput);
    const fields = [...config.exactFields, ...config.fuzzyFields];
    const rows: ClusterRow[] = [];
    for (const c of generated.candidates) {
      if (!(c.estParent || c.statut === 'ACTIF')) continue;
      const values: Record<string, string> = {};
      let ok = true;
      for (const f of fields) {
        const raw = c.data[f];
        const v = raw === null || raw === undefined ? '' : normaliseValue(raw as string, normalisationFor(config, f)!);
        if (v.trim() === '') ok = false;
        values[f] = v;
      }
      if (ok) rows.push({ id: c.identifiantUnique, values, sourceCodes: c.sourceCodes, latitude: c.latitude, longitude: c.longitude });
    }
    const blocks = new Map<string, ClusterRow[]>();
    for (const r of rows) {
      const key = config.exactFields.map((f) => r.values[f]).join('\u0000');
      let b = blocks.get(key);
      if (!b) blocks.set(key, (b = []));
      b.push(r);
    }
    const bySize = [...blocks.values()].sort((a, b) => b.length - a.length);
    const subset = bySize.filter((_, i) => i % 10 === 0).flat();
    const params: GroupingParams = { exactFields: config.exactFields, fuzzyFields: config.fuzzyFields, threshold: config.fuzzyThreshold / 100, distanceInCluster: 0, intraSourceAllowed: true };
    const fastSubset = await measure(async () => groupRows(subset, params));
    let baselineSeconds: number | undefined;
    let sameClusters: boolean | undefined;
    if (!ctx.skipBaseline) {
      const naive = await measure(async () => naiveGroup(subset, params));
      baselineSeconds = (naive.ms / 1000) * (rows.length / subset.length);
      const fastIds = fastSubset.result.clusters.map((c) => c.members.map((m) => subset[m]!.id));
      sameClusters = JSON.stringify(canonical(fastIds)) === JSON.stringify(canonical(naive.result));
      ctx.log(`  baseline on ${subset.length} rows: ${round(naive.ms / 1000, 1)} s (product ${round(fastSubset.ms / 1000, 2)} s), same clusters: ${sameClusters}`);
      if (!sameClusters) throw new Error('consolidation.cluster: the product and the naive baseline disagree on the subset clusters');
    }
    const seconds = run.ms / 1000;
    return {
      'consolidation.cluster': {
        value: round(seconds, 2),
        unit: 's for 150k actors',
        ...(baselineSeconds === undefined
          ? {}
          : { baseline: round(baselineSeconds, 1), baselineName: 'QFDMOD-style all pairs per block, list-of-sets components (extrapolated from a 10 % block subset)', ratio: round(seconds / baselineSeconds, 4) }),
        peakRssMb: run.peakRssMb,
        params: {
          actors: generated.candidates.length,
          existingChildren: generated.children.length,
          generator: 'scripts/bench/consolidation-acteurs.ts (seed 20261205)',
          config: 'exact code_postal+ville; fuzzy nom, adresse at 50; distance off; intra-source not allowed',
          wallMs: round(run.ms, 0),
          generateMs: round(generateMs, 0),
          ...result.stats,
          plantedDuplicatePlaces: generated.stats.duplicatedPlaces,
          precision: round(precision, 4),
          recall: round(recall, 4),
          truePairs: truePairs.size,
          clusterPairs: clusterPairs.size,
          baselineSubset: `every 10th block by size: ${subset.length} rows, extrapolated ×${round(rows.length / subset.length, 2)}`,
          productOnSubsetMs: round(fastSubset.ms, 0),
          ...(sameClusters === undefined ? {} : { sameClustersAsBaselineOnSubset: sameClusters }),
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadavg().map((x) => round(x, 2)),
        },
      },
    };
  },
};

export const consolidationScenarios: Scenario[] = [clusterScenario];
