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

/**
 * The consultation's identifier in a reference, for comparing what a notice prints with the portal's
 * record of it: case, spaces, separators ("37/DPCR-ANP/2024" vs "37/DPCR/ANP/2024"), zero padding
 * ("6/2023" vs "06/2023") and an "AO"/"AOO"/"AON" prefix of the number ignored.
 */
export function referenceIdentifier(ref: string): string {
  return ref
    .toUpperCase()
    .replace(/\s+/g, '')
    .replace(/^A\.?O[ONM]?\.?(?=\d)/, '')
    .split(/[/\-_.]+/)
    .filter(Boolean)
    .map((p) => p.replace(/^0+(?=\d)/, ''))
    .join('/');
}

export interface PortalRecord {
  reference: string;
  /** dd/mm/yyyy, as the portal prints it. */
  date_publication?: string;
  acheteur_public?: string;
  objet?: string;
}

export interface PortalCheck {
  documents: number;
  /** The parsed reference equals the portal's (case and spaces ignored). */
  referenceExact: FieldScore;
  /** Same identifier (separators, zero padding, an AO prefix ignored): the same consultation number. */
  referenceSameIdentifier: FieldScore;
  /** The printed reference names the portal's consultation (`sameConsultationReference`). */
  referenceSameConsultation: FieldScore;
  referenceMissing: number;
  /** An opening date is read, or null; a read one must not be after the portal's publication date. */
  openingDatePlausible: FieldScore;
  openingDateRead: number;
  misses: Array<{ document: string; field: 'reference' | 'openingDate'; expected: string | null; actual: string | null }>;
}

/**
 * What the portal's own record of each consultation (samples/pmmp/ocr-text-portal/portal-records.json)
 * can check in a parsed notice: its reference; its dates only for plausibility (the record has the
 * publication date, not the opening date). Winners, amounts and statuses are not in the record.
 */
export function portalCheck(records: Readonly<Record<string, PortalRecord>>, parsed: Readonly<Record<string, AwardNotice>>): PortalCheck {
  const exact = { correct: 0, total: 0 };
  const same = { correct: 0, total: 0 };
  const consultation = { correct: 0, total: 0 };
  const plausible = { correct: 0, total: 0 };
  let missing = 0;
  let read = 0;
  const misses: PortalCheck['misses'] = [];
  for (const [name, notice] of Object.entries(parsed)) {
    const rec = records[name];
    if (!rec) continue;
    exact.total++;
    same.total++;
    if (sameReference(rec.reference, notice.reference)) exact.correct++;
    if (notice.reference && referenceIdentifier(rec.reference) === referenceIdentifier(notice.reference)) same.correct++;
    consultation.total++;
    if (sameConsultationReference(rec.reference, notice.reference)) consultation.correct++;
    else misses.push({ document: name, field: 'reference', expected: rec.reference, actual: notice.reference });
    if (!notice.reference) missing++;
    const pub = rec.date_publication ? /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(rec.date_publication) : null;
    if (pub) {
      plausible.total++;
      const published = `${pub[3]}-${pub[2]}-${pub[1]}`;
      if (notice.openingDate) read++;
      // Results are published within months of the opening: two years before is already a long procedure.
      const earliest = `${Number(pub[3]) - 2}-${pub[2]}-${pub[1]}`;
      if (notice.openingDate === null || (notice.openingDate <= published && notice.openingDate >= earliest)) plausible.correct++;
      else misses.push({ document: name, field: 'openingDate', expected: `${earliest}..${published}`, actual: notice.openingDate });
    }
  }
  const score = (t: { correct: number; total: number }): FieldScore => ({ ...t, accuracy: t.total ? Math.round((t.correct / t.total) * 1000) / 1000 : null });
  return {
    documents: exact.total,
    referenceExact: score(exact),
    referenceSameIdentifier: score(same),
    referenceSameConsultation: score(consultation),
    referenceMissing: missing,
    openingDatePlausible: score(plausible),
    openingDateRead: read,
    misses,
  };
}

function referenceParts(ref: string): string[] {
  return referenceIdentifier(ref)
    .replace(/(?<=\d{2})(?=[A-Z]{2})/g, '/')
    .split('/')
    .filter(Boolean);
}

/** OCR look-alikes folded so "L0G" and "LOG", "1G" and "IG" compare equal. */
function lookalikeFold(part: string): string {
  return /[A-Z]/.test(part) || part.length === 1 ? part.replace(/0/g, 'O').replace(/1/g, 'I') : part;
}

function samePart(a: string, b: string): boolean {
  if (a === b || lookalikeFold(a) === lookalikeFold(b)) return true;
  // Years printed on two or four digits: "114DR3/24" is 114/DR3/2024.
  if (/^\d{2}$/.test(a) && /^20\d{2}$/.test(b)) return b.endsWith(a);
  if (/^\d{2}$/.test(b) && /^20\d{2}$/.test(a)) return a.endsWith(b);
  return a.length >= 5 && b.length >= 5 && /^[A-Z]+$/.test(a) && /^[A-Z]+$/.test(b) && levenshtein(a, b) <= 1;
}

/**
 * Whether the reference a notice prints names the consultation the portal records. Buyers print a
 * shorter form of their own reference ("10007795" for 10007795/2026/SRMDT, "241/2025" for
 * 241/2025/OFPPT) or its parts in another order ("19/BG/2024" for 19/2024/BG): the printed number
 * must be printed and one form's parts must all be the other's (years on 2 or 4 digits, OCR
 * look-alikes folded). A different number or year is another consultation, or a misreading.
 */
export function sameConsultationReference(portal: string, printed: string | null): boolean {
  if (printed === null) return false;
  const want = referenceParts(portal);
  const got = referenceParts(printed);
  if (want.length === 0 || got.length === 0) return false;
  // The portal's number must be printed (in any position: "2025/06" for 06/2025).
  const number = want.find((p) => /\d/.test(p));
  if (!number || !got.some((p) => samePart(number, p))) return false;
  // One side's parts are all the other's: a shorter form, or a longer one ("74/DR2/C/2023" for 74/DR2/2023).
  const within = (small: string[], big: string[]): boolean => {
    const free = [...big];
    for (const part of small) {
      const at = free.findIndex((x) => samePart(x, part));
      if (at < 0) return false;
      free.splice(at, 1);
    }
    return true;
  };
  return within(got, want) || within(want, got);
}
