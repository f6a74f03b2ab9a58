/**
 * The clustering's building blocks: QFDMOD's string normalisers (golden vectors), TF-IDF cosine against
 * scikit-learn (cluster-sklearn-expected.json, written by cluster-sklearn-crosscheck.py), QFDMOD's
 * `score_tuples_to_clusters` cases, haversine.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { edgesToClusters, haversineMetres, roundScore, SimilarityWorkspace, tokenize, type Edges } from '../../activities/consolidation/cluster/similarity';
import { stringBasic, stringOrderUniqueWords, stringRemoveSmallWords } from '../../activities/consolidation/cluster/normalize';

/** The normalisers' cases of QFDMOD's golden vectors (samples/consolidation/qfdmod/golden-vectors.from-tests.json, test_normalize.py). */
const golden: Record<string, { cases: unknown[] }> = {"normalize.string_basic": {"cases": [[" LE PETIT CHAT ! ", "le petit chat"], [" Château de l'île", "chateau de l ile"], [" foo & bar ", "foo bar"], ["", ""], [null, ""], [false, "false"], [123, "123"], [0, "0"]]}, "normalize.string_remove_small_words(s,size)": {"cases": [[["a b c", 1], ""], [["aa b cc", 1], "aa cc"], [["ccc b aaa", 2], "ccc aaa"], [["", 1], ""], [[null, 1], ""], [[1, 1], ""], [[123, 1], "123"]]}, "normalize.string_order_unique_words": {"cases": [["c b a", "a b c"], ["rue rue leon gautier", "gautier leon rue"], ["rue de de paris paris", "de paris rue"], ["", ""], [null, ""], [123, "123"]]}};

function edgesOf(values: string[], threshold: number): Map<string, number> {
  const field = tokenize(values);
  const rows = values.map((_, i) => i);
  const edges = new SimilarityWorkspace(field.vocabularySize).edges(field, rows, threshold);
  const out = new Map<string, number>();
  for (let e = 0; e < edges.length; e++) out.set(`${edges.a[e]},${edges.b[e]}`, edges.score[e]!);
  return out;
}

function edgeList(list: [number, number, number][]): Edges {
  return { a: Int32Array.from(list.map((e) => e[0])), b: Int32Array.from(list.map((e) => e[1])), score: Float64Array.from(list.map((e) => e[2])), length: list.length };
}

test('string_basic, remove small words and sorted unique words follow the golden vectors', () => {
  for (const [input, expected] of golden['normalize.string_basic']!.cases as [string | number | boolean | null, string][]) {
    assert.equal(stringBasic(input), expected, `string_basic(${JSON.stringify(input)})`);
  }
  for (const [[input, size], expected] of golden['normalize.string_remove_small_words(s,size)']!.cases as [[string | number | null, number], string][]) {
    assert.equal(stringRemoveSmallWords(input, size), expected, `remove_small_words(${JSON.stringify(input)}, ${size})`);
  }
  for (const [input, expected] of golden['normalize.string_order_unique_words']!.cases as [string | number | null, string][]) {
    assert.equal(stringOrderUniqueWords(input), expected, `order_unique_words(${JSON.stringify(input)})`);
  }
});

test('TF-IDF cosine by hand: smooth idf, raw counts, L2 rows, 5 decimals', () => {
  const values = ['auchan magasin', 'auchan boutique', 'carrefour depot', 'carrefour entrepot'];
  // n = 4; a word in 2 rows: idf = ln(5/3) + 1; in 1 row: ln(5/2) + 1. Rows 0 and 1 share "auchan" only.
  const shared = Math.log(5 / 3) + 1;
  const own = Math.log(5 / 2) + 1;
  const expected = roundScore((shared * shared) / (shared * shared + own * own));
  assert.equal(expected, 0.38332);
  const edges = edgesOf(values, 0.2);
  assert.deepEqual([...edges.entries()], [['0,1', 0.38332], ['2,3', 0.38332]]);
  // A repeated word counts twice (tf = 2): "rue rue" vs "rue" are the same direction, cosine 1.
  assert.equal(edgesOf(['rue rue', 'rue', 'place'], 0.1).get('0,1'), 1);
  // Upper case is folded like scikit-learn's default lowercase=True.
  assert.equal(edgesOf(['Garage MARTIN', 'garage martin', 'x'], 0.1).get('0,1'), 1);
});

test('TF-IDF cosine and components match scikit-learn on 40 blocks of names and addresses', () => {
  const expected = JSON.parse(readFileSync(new URL('./cluster-sklearn-expected.json', import.meta.url), 'utf8')) as {
    blocks: { values: string[]; pairs: [number, number, number][]; clusters: Record<string, number[][]> }[];
  };
  assert.equal(expected.blocks.length, 40);
  let pairs = 0;
  for (const [b, block] of expected.blocks.entries()) {
    const ours = edgesOf(block.values, Number.MIN_VALUE);
    assert.equal(ours.size, block.pairs.length, `block ${b}: number of non-zero pairs`);
    for (const [i, j, score] of block.pairs) {
      const mine = ours.get(`${i},${j}`);
      assert.ok(mine !== undefined && Math.abs(mine - score) <= 1e-5 + 1e-12, `block ${b} pair (${i}, ${j}): scikit-learn ${score}, ours ${mine}`);
      pairs++;
    }
    for (const [threshold, clusters] of Object.entries(block.clusters)) {
      const field = tokenize(block.values);
      const edges = new SimilarityWorkspace(field.vocabularySize).edges(field, block.values.map((_, i) => i), Number(threshold));
      assert.deepEqual(edgesToClusters(edges, block.values.length), clusters, `block ${b} at ${threshold}`);
    }
  }
  assert.ok(pairs > 1000, `only ${pairs} pairs compared`);
});

test('score tuples to clusters: strongest first, merges, threshold, order-insensitive input (QFDMOD cases)', () => {
  // Positions 1..6 stand for QFDMOD's indexes; 0 is unused.
  assert.deepEqual(edgesToClusters(edgeList([[1, 2, 0.6], [2, 3, 0.6], [4, 5, 0.6]]), 7), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(edgesToClusters(edgeList([[2, 3, 0.6], [4, 5, 0.6], [1, 2, 0.6]]), 7), [[1, 2, 3], [4, 5]]);
  assert.deepEqual(edgesToClusters(edgeList([[1, 2, 0.9], [2, 3, 0.8], [3, 4, 0.7]]), 5), [[1, 2, 3, 4]]);
  assert.deepEqual(edgesToClusters(edgeList([]), 5), []);
  // The cluster born from the strongest edge comes first, whatever the input order.
  assert.deepEqual(edgesToClusters(edgeList([[0, 1, 0.55], [2, 3, 0.95]]), 4), [[2, 3], [0, 1]]);
  // A merge keeps the position of the first end's cluster: (3,4) is born second, absorbs (0,1).
  assert.deepEqual(edgesToClusters(edgeList([[5, 6, 0.99], [0, 1, 0.9], [3, 4, 0.8], [3, 0, 0.7]].map(([a, b, s]) => [Math.min(a!, b!), Math.max(a!, b!), s!] as [number, number, number])), 7), [[5, 6], [0, 1, 3, 4]]);
  assert.equal(roundScore(0), 0);
  assert.equal(roundScore(1.0000000002), 1);
  assert.equal(roundScore(0.123456789), 0.12346);
});

test('haversine with R = 6,371,000 m', () => {
  // 0.0001° of latitude ≈ 11.12 m anywhere.
  assert.ok(Math.abs(haversineMetres(48.8566, 2.3522, 48.8567, 2.3522) - 11.1195) < 0.001);
  // Paris → Marseille ≈ 660.5 km.
  assert.ok(Math.abs(haversineMetres(48.8566, 2.3522, 43.2965, 5.3698) / 1000 - 660.5) < 1);
});
