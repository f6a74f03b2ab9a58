import { levenshtein, nameSimilarity } from './names';
import { parseAward } from './parse';
import type { AwardLotItem, AwardNotice, AwardStatus } from './schema';
import { fold } from './text';

/**
 * Field-level accuracy of parsed notices against a hand-labelled ground truth
 * (tests/pmmp/fixtures/awards/ground-truth.json). Used by the tests (with a floor) and by the
 * benchmark. Convention of the ground truth: an absent field was not assessed; null means the
 * document does not give it and the parser must return null.
 */

export type TextKind = 'native' | 'scan' | 'ocr-text';

export interface GroundTruthLot {
  lot: string | null;
  reference?: string | null;
  status?: AwardStatus;
  winner?: string | null;
  amount?: string | null;
  amountMin?: string;
  bidderCount?: number | null;
  openingDate?: string;
}

export interface GroundTruthDocument {
  source: string;
  textKind: TextKind;
  /** Labelled before the parser was ever run on it: its score is the unbiased one. */
  heldOut?: boolean;
  notes?: string;
  reference?: string | null;
  buyer?: string | null;
  buyerAccept?: string[];
  openingDate?: string | null;
  commissionEndDate?: string | null;
  lots?: GroundTruthLot[];
}

export interface GroundTruth {
  labelledBy: string;
  documents: Record<string, GroundTruthDocument>;
}

export const ACCURACY_FIELDS = [
  'reference',
  'buyer',
  'openingDate',
  'commissionEndDate',
  'lotCount',
  'status',
  'winner',
  'amount',
  'bidderCount',
] as const;
export type AccuracyField = (typeof ACCURACY_FIELDS)[number];

export interface FieldScore {
  correct: number;
  total: number;
  /** correct / total, 0..1; null when nothing was assessed. */
  accuracy: number | null;
}

export interface Mismatch {
  document: string;
  field: AccuracyField;
  lot?: string;
  expected: unknown;
  actual: unknown;
}

export interface AccuracyReport {
  documents: number;
  overall: Record<AccuracyField, FieldScore>;
  byKind: Record<TextKind, Record<AccuracyField, FieldScore>>;
  /** All fields pooled. */
  total: FieldScore;
  totalByKind: Record<TextKind, FieldScore>;
  mismatches: Mismatch[];
}

/**
 * Parses every ground-truth document (its text supplied by `loadText`: cached OCR, a fresh
 * extraction, or an OCR text file) and scores the result. The benchmark calls this.
 */
export async function evaluateGroundTruth(
  truth: GroundTruth,
  loadText: (name: string, doc: GroundTruthDocument) => Promise<string>,
  filter: (name: string, doc: GroundTruthDocument) => boolean = () => true,
): Promise<{ report: AccuracyReport; parsed: Record<string, AwardNotice> }> {
  const parsed: Record<string, AwardNotice> = {};
  const documents: Record<string, GroundTruthDocument> = {};
  for (const [name, doc] of Object.entries(truth.documents)) {
    if (!filter(name, doc)) continue;
    documents[name] = doc;
    parsed[name] = parseAward(await loadText(name, doc));
  }
  return { report: accuracyReport({ ...truth, documents }, parsed), parsed };
}

export function accuracyReport(truth: GroundTruth, parsed: Readonly<Record<string, AwardNotice>>): AccuracyReport {
  const tally = emptyTally();
  const byKind: Record<TextKind, Tally> = { native: emptyTally(), scan: emptyTally(), 'ocr-text': emptyTally() };
  const mismatches: Mismatch[] = [];
  let documents = 0;
  for (const [name, gt] of Object.entries(truth.documents)) {
    const notice = parsed[name];
    if (!notice) continue;
    documents++;
    for (const r of compareNotice(gt, notice)) {
      for (const t of [tally, byKind[gt.textKind]]) {
        t[r.field].total++;
        if (r.ok) t[r.field].correct++;
      }
      if (!r.ok) mismatches.push({ document: name, field: r.field, ...(r.lot !== undefined ? { lot: r.lot } : {}), expected: r.expected, actual: r.actual });
    }
  }
  const kinds = Object.keys(byKind) as TextKind[];
  return {
    documents,
    overall: finish(tally),
    byKind: Object.fromEntries(kinds.map((k) => [k, finish(byKind[k])])) as AccuracyReport['byKind'],
    total: pooled(tally),
    totalByKind: Object.fromEntries(kinds.map((k) => [k, pooled(byKind[k])])) as AccuracyReport['totalByKind'],
    mismatches,
  };
}

export interface FieldResult {
  field: AccuracyField;
  ok: boolean;
  lot?: string;
  expected: unknown;
  actual: unknown;
}

export function compareNotice(gt: GroundTruthDocument, notice: AwardNotice): FieldResult[] {
  const out: FieldResult[] = [];
  const push = (field: AccuracyField, ok: boolean, expected: unknown, actual: unknown, lot?: string): void => {
    out.push({ field, ok, expected, actual, ...(lot !== undefined ? { lot } : {}) });
  };
  if (gt.reference !== undefined) push('reference', sameReference(gt.reference, notice.reference), gt.reference, notice.reference);
  if (gt.buyer !== undefined) push('buyer', sameBuyer(gt.buyer, gt.buyerAccept ?? [], notice.buyer), gt.buyer, notice.buyer);
  if (gt.openingDate !== undefined) push('openingDate', gt.openingDate === notice.openingDate, gt.openingDate, notice.openingDate);
  if (gt.commissionEndDate !== undefined) {
    push('commissionEndDate', gt.commissionEndDate === notice.commissionEndDate, gt.commissionEndDate, notice.commissionEndDate);
  }
  if (!gt.lots) return out;
  push('lotCount', gt.lots.length === notice.lots.length, gt.lots.length, notice.lots.length);
  const used = new Set<AwardLotItem>();
  for (const gl of gt.lots) {
    const label = `${gl.reference ? gl.reference + ' ' : ''}lot ${gl.lot ?? 'unique'}`;
    const pl = pairLot(gl, gt.lots.length, notice.lots, used);
    if (pl) used.add(pl);
    const winner = pl?.winners[0];
    if (gl.status !== undefined) push('status', pl?.status === gl.status, gl.status, pl?.status ?? null, label);
    if (gl.winner !== undefined) {
      const ok = gl.winner === null ? !!pl && pl.winners.length === 0 : !!winner && sameCompany(gl.winner, winner.name);
      push('winner', ok, gl.winner, winner?.name ?? null, label);
    }
    if (gl.amount !== undefined) {
      const actual = winner?.amount ?? null;
      push('amount', !!pl && actual === gl.amount, gl.amount, actual, label);
    }
    if (gl.bidderCount !== undefined) push('bidderCount', !!pl && pl.bidderCount === gl.bidderCount, gl.bidderCount, pl?.bidderCount ?? null, label);
  }
  return out;
}

function pairLot(gl: GroundTruthLot, gtCount: number, lots: AwardLotItem[], used: Set<AwardLotItem>): AwardLotItem | undefined {
  const free = lots.filter((l) => !used.has(l));
  if (gtCount === 1 && lots.length === 1 && !gl.reference) return free[0];
  return free.find(
    (l) => (l.lotNumber ?? null) === (gl.lot ?? null) && (gl.reference === undefined || gl.reference === null || sameReference(gl.reference, l.reference)),
  );
}

export function sameReference(expected: string | null, actual: string | null): boolean {
  if (expected === null || actual === null) return expected === actual;
  const norm = (s: string): string => s.toUpperCase().replace(/\s+/g, '');
  return norm(expected) === norm(actual);
}

/** Winner names agree when their identifying words agree (legal forms and case ignored). */
export function sameCompany(expected: string, actual: string): boolean {
  return nameSimilarity(expected, actual) >= 0.8;
}

const BUYER_NOISE = new Set(['de', 'du', 'des', 'la', 'le', 'les', 'l', 'd', 'et', 'pour', 'a', 'au', 'aux', 'sa', 's']);

function buyerTokens(s: string): string[] {
  return fold(s)
    .replace(/[^a-z0-9\u0600-\u06ff]+/g, ' ')
    .split(' ')
    .filter((t) => t && !BUYER_NOISE.has(t));
}

/**
 * A buyer matches when one of the accepted spellings is covered (3/4 of its words) by the parsed
 * value, or the parsed value (2+ words) is covered by it: "Chef de Centre Régional de la Recherche
 * Agronomique de Rabat" matches "Centre Régional de la Recherche Agronomique de Rabat".
 */
export function sameBuyer(expected: string | null, accept: readonly string[], actual: string | null): boolean {
  if (expected === null || actual === null) return expected === actual;
  const got = buyerTokens(actual);
  for (const candidate of [expected, ...accept]) {
    const want = buyerTokens(candidate);
    if (want.length === 0) continue;
    const covered = (a: string[], b: string[]): number => a.filter((x) => b.some((y) => x === y || similar(x, y))).length / a.length;
    if (covered(want, got) >= 0.75) return true;
    if (got.length >= 2 && covered(got, want) >= 0.75) return true;
  }
  return false;
}

/** OCR-damaged words ("Electricité" / "Electnicité"): one edit per five letters. */
function similar(a: string, b: string): boolean {
  return Math.min(a.length, b.length) >= 5 && levenshtein(a, b) <= Math.floor(Math.max(a.length, b.length) / 5);
}

type Tally = Record<AccuracyField, { correct: number; total: number }>;

function emptyTally(): Tally {
  return Object.fromEntries(ACCURACY_FIELDS.map((f) => [f, { correct: 0, total: 0 }])) as Tally;
}

function finish(t: Tally): Record<AccuracyField, FieldScore> {
  return Object.fromEntries(
    ACCURACY_FIELDS.map((f) => [f, { ...t[f], accuracy: t[f].total ? Math.round((t[f].correct / t[f].total) * 1000) / 1000 : null }]),
  ) as Record<AccuracyField, FieldScore>;
}

function pooled(t: Tally): FieldScore {
  const correct = ACCURACY_FIELDS.reduce((s, f) => s + t[f].correct, 0);
  const total = ACCURACY_FIELDS.reduce((s, f) => s + t[f].total, 0);
  return { correct, total, accuracy: total ? Math.round((correct / total) * 1000) / 1000 : null };
}

/** A fixed-width table of the report, for test logs and the benchmark's output. */
export function formatAccuracyReport(r: AccuracyReport): string {
  const kinds: TextKind[] = ['native', 'scan', 'ocr-text'];
  const pct = (s: FieldScore): string => (s.accuracy === null ? '   -   ' : `${(s.accuracy * 100).toFixed(1).padStart(5)}% ${`${s.correct}/${s.total}`.padStart(6)}`);
  const rows = [`${'field'.padEnd(18)}${'all'.padEnd(16)}${kinds.map((k) => k.padEnd(16)).join('')}`];
  for (const f of ACCURACY_FIELDS) rows.push(`${f.padEnd(18)}${pct(r.overall[f]).padEnd(16)}${kinds.map((k) => pct(r.byKind[k][f]).padEnd(16)).join('')}`);
  rows.push(`${'ALL FIELDS'.padEnd(18)}${pct(r.total).padEnd(16)}${kinds.map((k) => pct(r.totalByKind[k]).padEnd(16)).join('')}`);
  return rows.join('\n');
}
