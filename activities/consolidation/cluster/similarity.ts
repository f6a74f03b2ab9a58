/**
 * TF-IDF cosine similarity inside one group of rows, as QFDMOD computes it with scikit-learn
 * (`TfidfVectorizer(tokenizer=str.split, token_pattern=None)` fitted on the group, then
 * `cosine_similarity`): lower-cased whitespace tokens, raw term counts, smooth idf
 * `ln((1 + n) / (1 + df)) + 1`, L2-normalised rows. Scores are rounded to 5 decimals (0 and ≥ 1 exact).
 *
 * QFDMOD builds the dense n × n matrix of every group and sorts all its pairs; here each group gets an
 * inverted index (token → rows, ascending) and a row only meets the later rows it shares a token with,
 * so pairs with nothing in common cost nothing and only pairs at or above the threshold are kept.
 * Tokens are interned once per field for the whole run (`TokenizedField`), so a group works on
 * integer ids in typed arrays and never builds a Map of strings.
 */

/** One field's values as token ids, CSR-style: the tokens of row r are `ids[start[r] .. start[r+1])`. */
export interface TokenizedField {
  start: Int32Array;
  ids: Int32Array;
  vocabularySize: number;
}

/** Python's `str.split()` on the lower-cased value (sklearn lower-cases before its tokenizer). */
export function tokenize(values: readonly string[]): TokenizedField {
  const vocabulary = new Map<string, number>();
  const start = new Int32Array(values.length + 1);
  let ids = new Int32Array(Math.max(16, values.length * 4));
  let size = 0;
  for (let r = 0; r < values.length; r++) {
    start[r] = size;
    const words = values[r]!.toLowerCase().split(/\s+/);
    for (const word of words) {
      if (word === '') continue;
      let id = vocabulary.get(word);
      if (id === undefined) {
        id = vocabulary.size;
        vocabulary.set(word, id);
      }
      if (size === ids.length) {
        const grown = new Int32Array(ids.length * 2);
        grown.set(ids);
        ids = grown;
      }
      ids[size++] = id;
    }
  }
  start[values.length] = size;
  return { start, ids: ids.subarray(0, size), vocabularySize: vocabulary.size };
}

/** QFDMOD's `score_normalize`: 0 stays 0, ≥ 1 becomes 1, the rest rounded to 5 decimals. */
export function roundScore(score: number): number {
  if (score === 0) return 0;
  if (score >= 1) return 1;
  return Number(score.toFixed(5));
}

/** Pairs of a group (positions in the group, i < j) with their rounded cosine. */
export interface Edges {
  a: Int32Array;
  b: Int32Array;
  score: Float64Array;
  length: number;
}

/**
 * Scratch space reused across groups (sized to the field's vocabulary and the largest group seen):
 * `stamp`/`local` map a global token id to its id inside the current group without clearing arrays.
 */
export class SimilarityWorkspace {
  private stamp: Int32Array;
  private local: Int32Array;
  private generation = 0;
  private accumulator = new Float64Array(0);
  private touched = new Int32Array(0);
  private seen = new Int32Array(0);

  constructor(vocabularySize: number) {
    this.stamp = new Int32Array(vocabularySize);
    this.local = new Int32Array(vocabularySize);
  }

  private ensureRows(n: number): void {
    if (this.accumulator.length >= n) return;
    this.accumulator = new Float64Array(n);
    this.touched = new Int32Array(n);
    this.seen = new Int32Array(n).fill(-1);
  }

  /**
   * The edges at or above `threshold` between the rows of one group (`rows` are indices into the
   * tokenized field; positions in `rows` are what the edges hold).
   */
  edges(field: TokenizedField, rows: ArrayLike<number>, threshold: number): Edges {
    const n = rows.length;
    this.ensureRows(n);
    const generation = ++this.generation;
    const { stamp, local } = this;
    // Vocabulary of the group and document frequencies.
    let vocab = 0;
    const docFreqList: number[] = [];
    const lastDoc: number[] = [];
    let totalTokens = 0;
    for (let p = 0; p < n; p++) {
      const r = rows[p]!;
      for (let k = field.start[r]!; k < field.start[r + 1]!; k++) {
        const t = field.ids[k]!;
        let l: number;
        if (stamp[t] !== generation) {
          stamp[t] = generation;
          l = vocab++;
          local[t] = l;
          docFreqList.push(0);
          lastDoc.push(-1);
        } else {
          l = local[t]!;
        }
        if (lastDoc[l] !== p) {
          lastDoc[l] = p;
          docFreqList[l]!++;
        }
        totalTokens++;
      }
    }
    const idf = new Float64Array(vocab);
    for (let l = 0; l < vocab; l++) idf[l] = Math.log((1 + n) / (1 + docFreqList[l]!)) + 1;

    // Row vectors: unique local tokens with tf·idf weights, L2-normalised.
    const vecStart = new Int32Array(n + 1);
    const vecTok = new Int32Array(totalTokens);
    const vecW = new Float64Array(totalTokens);
    const postingCount = new Int32Array(vocab);
    let size = 0;
    for (let p = 0; p < n; p++) {
      const r = rows[p]!;
      vecStart[p] = size;
      const from = size;
      for (let k = field.start[r]!; k < field.start[r + 1]!; k++) {
        const l = local[field.ids[k]!]!;
        let found = -1;
        for (let q = from; q < size; q++) {
          if (vecTok[q] === l) {
            found = q;
            break;
          }
        }
        if (found >= 0) vecW[found]! += 1;
        else {
          vecTok[size] = l;
          vecW[size] = 1;
          size++;
          postingCount[l]!++;
        }
      }
      let norm = 0;
      for (let q = from; q < size; q++) {
        const w = vecW[q]! * idf[vecTok[q]!]!;
        vecW[q] = w;
        norm += w * w;
      }
      norm = Math.sqrt(norm);
      if (norm > 0) for (let q = from; q < size; q++) vecW[q] = vecW[q]! / norm;
    }
    vecStart[n] = size;

    // Inverted index: token → (row, weight), rows ascending.
    const postStart = new Int32Array(vocab + 1);
    for (let l = 0; l < vocab; l++) postStart[l + 1] = postStart[l]! + postingCount[l]!;
    const postRow = new Int32Array(size);
    const postW = new Float64Array(size);
    const fill = postStart.slice(0, vocab);
    for (let p = 0; p < n; p++) {
      for (let q = vecStart[p]!; q < vecStart[p + 1]!; q++) {
        const l = vecTok[q]!;
        const at = fill[l]!++;
        postRow[at] = p;
        postW[at] = vecW[q]!;
      }
    }

    // Each row meets the later rows sharing a token: `cursor[l]` is the row's own posting in l's list.
    const cursor = postStart.slice(0, vocab);
    const { accumulator, touched, seen } = this;
    const out = new EdgeBuffer();
    for (let p = 0; p < n; p++) {
      let touchedCount = 0;
      for (let q = vecStart[p]!; q < vecStart[p + 1]!; q++) {
        const l = vecTok[q]!;
        const w = vecW[q]!;
        const own = cursor[l]!++;
        for (let at = own + 1; at < postStart[l + 1]!; at++) {
          const j = postRow[at]!;
          if (seen[j] !== p) {
            seen[j] = p;
            accumulator[j] = 0;
            touched[touchedCount++] = j;
          }
          accumulator[j]! += w * postW[at]!;
        }
      }
      for (let t = 0; t < touchedCount; t++) {
        const j = touched[t]!;
        const score = roundScore(accumulator[j]!);
        if (score >= threshold) out.push(p, j, score);
      }
    }
    for (let t = 0; t < n; t++) seen[t] = -1;
    return out.finish();
  }
}

class EdgeBuffer {
  private a = new Int32Array(64);
  private b = new Int32Array(64);
  private s = new Float64Array(64);
  private n = 0;
  push(a: number, b: number, score: number): void {
    if (this.n === this.a.length) {
      const grow = <T extends Int32Array | Float64Array>(x: T, make: (n: number) => T): T => {
        const y = make(x.length * 2);
        y.set(x);
        return y;
      };
      this.a = grow(this.a, (k) => new Int32Array(k));
      this.b = grow(this.b, (k) => new Int32Array(k));
      this.s = grow(this.s, (k) => new Float64Array(k));
    }
    this.a[this.n] = a;
    this.b[this.n] = b;
    this.s[this.n] = score;
    this.n++;
  }
  finish(): Edges {
    return { a: this.a, b: this.b, score: this.s, length: this.n };
  }
}

/**
 * QFDMOD's `score_tuples_to_clusters`: edges taken from the strongest down (ties in (i, j) order, as
 * numpy's triu lists them), a new cluster when both ends are free, a merge keeping the position of
 * the first end's cluster. Returns the clusters in that order (strongest first), members ascending.
 * Singletons never appear: a cluster is born from an edge.
 */
export function edgesToClusters(edges: Edges, n: number): number[][] {
  const order = new Int32Array(edges.length);
  for (let e = 0; e < edges.length; e++) order[e] = e;
  const { a, b, score } = edges;
  order.sort((x, y) => score[y]! - score[x]! || a[x]! - a[y]! || b[x]! - b[y]!);

  const parent = new Int32Array(n).fill(-1); // -1 = in no cluster yet
  const rank = new Float64Array(n); // the cluster's position, at its root
  let created = 0;
  const find = (x: number): number => {
    let root = x;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[x] !== root) {
      const next = parent[x]!;
      parent[x] = root;
      x = next;
    }
    return root;
  };
  for (let k = 0; k < order.length; k++) {
    const e = order[k]!;
    const i = a[e]!;
    const j = b[e]!;
    const inI = parent[i] !== -1;
    const inJ = parent[j] !== -1;
    if (inI && inJ) {
      const ri = find(i);
      const rj = find(j);
      if (ri !== rj) parent[rj] = ri; // i's cluster keeps its position
    } else if (inI) {
      parent[j] = find(i);
    } else if (inJ) {
      parent[i] = find(j);
    } else {
      parent[i] = i;
      parent[j] = i;
      rank[i] = created++;
    }
  }
  const byRoot = new Map<number, number[]>();
  for (let x = 0; x < n; x++) {
    if (parent[x] === -1) continue;
    const root = find(x);
    let members = byRoot.get(root);
    if (!members) byRoot.set(root, (members = []));
    members.push(x);
  }
  return [...byRoot.entries()].sort((x, y) => rank[x[0]]! - rank[y[0]]!).map(([, members]) => members);
}

const EARTH_RADIUS_M = 6_371_000;

/** Great-circle distance in metres (QFDMOD's haversine, R = 6,371,000 m). */
export function haversineMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * Math.asin(Math.sqrt(h)) * EARTH_RADIUS_M;
}
