import { findAmounts, type AmountMatch } from './amounts';
import { findDates, labelledSlashlessDate, wordsDate, type DateMatch } from './dates';
import { bestNameMatch, cleanBidderName, isNameFragment, levenshtein, looksLikeName, nameKey, nameSimilarity, splitGroupement, uniqueFragmentMatch } from './names';
import {
  FIELD_NAMES,
  type AwardLotItem,
  type AwardNotice,
  type AwardStatus,
  type BidItem,
  type NoticeField,
  type ParseWarning,
  type ValueSource,
  type WinnerItem,
} from './schema';
import { cells, cleanValue, fold, isBlank, isWordPerLine, toLines, type Line } from './text';

/**
 * Reads an extrait de procès-verbal or a résultat définitif (text from extractNoticeText) into
 * an AwardNotice. Pure. Nothing is guessed: a field that cannot be read is null and a warning
 * says why; values that needed an assumption (OCR look-alike digits, a winner identified from
 * its amount) carry a warning and a lower confidence.
 */
export function parseAward(text: string): AwardNotice {
  const doc = new Doc(toLines(rejoinWordPerLine(text)));
  const reference = readReference(doc);
  const buyer = readBuyer(doc);
  const object = readObject(doc);
  const dates = readDates(doc, reference);
  const lots = readLots(doc);

  for (const f of FIELD_NAMES) if (doc.confidence[f] === undefined) doc.confidence[f] = 0;
  const sources: Partial<Record<NoticeField, ValueSource>> = {};
  if (reference) {
    const line = doc.lines[reference.line]!;
    sources.reference = { page: line.page, line: line.index + 1, rule: 'labelled-number', confidence: doc.confidence.reference! };
  }
  const dated: Array<[NoticeField, string | null, string]> = [
    ['openingDate', dates.opening, 'opening-label'],
    ['commissionEndDate', dates.commissionEnd, 'commission-end-label'],
    ['documentDate', dates.document, 'fait-a'],
  ];
  for (const [field, iso, rule] of dated) if (iso) sources[field] = { ...doc.locateDate(iso), rule, confidence: doc.confidence[field]! };
  return {
    kind: readKind(doc),
    reference: reference?.value ?? null,
    object,
    buyer,
    openingDate: dates.opening,
    commissionEndDate: dates.commissionEnd,
    documentDate: dates.document,
    lots,
    confidence: doc.confidence as Record<NoticeField, number>,
    sources,
    warnings: doc.warnings,
  };
}

/**
 * OCR that lost the page layout prints one word per line: every label is then cut from its value.
 * When most lines hold a single word, lines are joined back into paragraphs (a blank line, or a
 * line ending a sentence or a label, ends one); the page breaks are kept (issue 14).
 */
export function rejoinWordPerLine(text: string): string {
  if (!isWordPerLine(text)) return text;
  const lines = text.split('\n');
  const out: string[] = [];
  let current: string[] = [];
  const flush = (): void => {
    if (current.length) out.push(current.join(' '));
    current = [];
  };
  for (const raw of lines) {
    const page = raw.includes('\f');
    const l = raw.replace(/\f/g, '').trim();
    if (page) {
      flush();
      out.push('\f');
    }
    if (!l) {
      flush();
      continue;
    }
    current.push(l);
    if (/[.:;]$/.test(l)) flush();
  }
  flush();
  return out.join('\n');
}

class Doc {
  readonly warnings: ParseWarning[] = [];
  readonly confidence: Partial<Record<NoticeField, number>> = {};
  readonly all: string;
  constructor(readonly lines: Line[]) {
    this.all = lines.map((l) => l.folded).join('\n');
  }
  warn(field: string, code: ParseWarning['code'], message: string): void {
    if (!this.warnings.some((w) => w.field === field && w.message === message)) this.warnings.push({ field, code, message });
  }
  private keyed: string | undefined;
  /** How many times a name is printed, spaces and punctuation ignored. */
  countName(name: string): number {
    this.keyed ??= ` ${this.lines.map((l) => nameKey(l.latin)).join(' ')} `;
    const key = nameKey(name);
    return key ? this.keyed.split(` ${key} `).length - 1 : 0;
  }
  /** The line that prints a name best (1-based page and line), for provenance. */
  locate(name: string): { page: number | null; line: number | null } {
    let best: Line | undefined;
    let score = 0.5;
    const key = nameKey(name);
    for (const l of this.lines) {
      if (isBlank(l)) continue;
      const s = key && nameKey(l.latin).includes(key) ? 1 : nameSimilarity(cleanBidderName(l.latin), name);
      if (s > score) {
        score = s;
        best = l;
        if (s === 1) break;
      }
    }
    return best ? { page: best.page, line: best.index + 1 } : { page: null, line: null };
  }
  /** The first line that prints this date. */
  locateDate(iso: string): { page: number | null; line: number | null } {
    for (const l of this.lines) if (findDates(l.text).some((d) => d.iso === iso)) return { page: l.page, line: l.index + 1 };
    return { page: null, line: null };
  }
  /** The first line that prints an amount of this value. */
  locateAmount(value: string): { page: number | null; line: number | null } {
    for (const l of this.lines) if (findAmounts(l.latin).some((a) => a.value === value)) return { page: l.page, line: l.index + 1 };
    return { page: null, line: null };
  }
  nextNonBlank(i: number, max = 3): Line | undefined {
    for (let j = i + 1; j < this.lines.length && j <= i + max; j++) if (!isBlank(this.lines[j])) return this.lines[j];
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Kind

function readKind(doc: Doc): AwardNotice['kind'] {
  const pv = doc.all.search(/extrait\s+(?:du|de|~+)\s*(?:proces|pv)|proces[\s-]*verbal|extra[iî]t\s+du\s+pv/);
  const res = doc.all.search(/resultats?\s+(?:definitifs?|de\s+l'appel)|cadre\s+des\s+resultats/);
  if (pv < 0 && res < 0) return 'inconnu';
  if (pv < 0) return 'resultat_definitif';
  if (res < 0) return 'extrait_pv';
  return pv <= res ? 'extrait_pv' : 'resultat_definitif';
}

// ---------------------------------------------------------------------------------------------
// Reference

interface RefCandidate {
  value: string;
  score: number;
  line: number;
  end: number;
  /** Digit look-alikes of a letter code were read as letters. */
  fixed?: boolean;
}

// "N° AOO N°01/2026/X": the "N" of an "AOON" prefix is not the "N" of a second "N°".
// "Numéro :", "NUMERO", "Référence :" and "de l'AO 23/2026" label the number too, in any case (issue 14).
const REF_KEY =
  /(?:\b[nN]\s?[°º"“”'*]|\b[nN][oO]\.?(?=\s*(?:AO[ON]?\s*)?[:.]?\s*\d)|\b[nN][uU][mM][eéEÉ][rR][oO]|\b[rR][eéEÉ][fF][eéEÉ][rR][eE][nN][cC][eE](?=\s*[:.]?\s*[A-Z]{0,4}\d|\s*:\s*$)|\b[lL]'\s?A\.?O[ON]?\.?(?=\s+\d)|(?<=offres?\s+(?:ouvert\s+)?)N(?=\s\d{1,4}\/))\s*(?:A\.?\s?O\.?\s?O?\.?\s?(?:N(?!\s?[°º"“”'*]))?\s*)?[:.]?\s*/g;
const REF_TOKEN =
  /^((?:[A-Z]{2,4}\s(?=\d{1,4}\/))?[A-Za-z0-9][A-Za-z0-9.-]*(?:\s?\/\s?[A-Za-z0-9][A-Za-z0-9.-]*(?:\s[A-Z][A-Z0-9.-]*(?=\/))?)+|\d{6,}|[A-Z]{1,3}\d{6,})/;
/** After the label, a colon and a number/year reference further on the same line. */
const LABEL_THEN_REF = /^[^:\d]{0,8}\d{0,2}[^:\d/]{1,60}:\s*(\d{1,4}\/\d{2,4}(?:\/[A-Za-z0-9.-]+)*)/;

/**
 * Separators OCR read as something else, right after a reference label: "04:1G/2024" (04/1G/2024),
 * "22I2O24" (22/2024), "6212O25/CMR" (62/2025/CMR: the slash read as a 1 and the year's 0 as an O).
 */
function repairReferenceSeparators(after: string): string {
  const year = (y: string): string => y.replace(/O/g, '0');
  return after
    .replace(/^(\s*\d{1,4})\s?[:;]\s?(?=[0-9A-Z]{1,6}\/)/, '$1/')
    .replace(/^(\s*\d{1,4})[Il|](2[0O][0-9O]{2})(?![0-9A-Za-z])/, (_, n: string, y: string) => `${n}/${year(y)}`)
    .replace(/^(\s*\d{1,3})1(2[0O][0-9O]{2})(?=\/)/, (all: string, n: string, y: string) => (y.includes('O') ? `${n}/${year(y)}` : all))
    .replace(/^(\s*\d{1,4}\/)(2O[0-9O]{2})(?![0-9A-Za-z])/, (_, n: string, y: string) => `${n}${year(y)}`);
}

const AO_CONTEXT = /appel\s*d'?\s*'?offres?|\bao[on]?\b|a\.o|consultation|\bmarche\b|\bpv\b|\bavis\b|\baoo\b/;
const NOT_A_REF_CONTEXT = /decision|arrete|journal|matin|opinion|quotidien|bulletin|decret|article|\bloi\b|registre|\br\.?c\b|\bice\b|\btel\b|fax|portail|bureau|page/;

function readReference(doc: Doc): RefCandidate | undefined {
  const found: RefCandidate[] = [];
  doc.lines.forEach((line, i) => {
    for (const key of line.latin.matchAll(REF_KEY)) {
      let after = line.latin.slice(key.index + key[0].length);
      // "Référence :" / "38/2026/SAPP": the label and its value on different lines (issue 14).
      if (!after.trim() && /[:.]\s*$/.test(key[0])) after = doc.nextNonBlank(i, 2)?.latin.trim() ?? '';
      after = repairReferenceSeparators(after);
      let m = REF_TOKEN.exec(after);
      // "N° de l'AOO ‏…‎ : 28/2024/CT": the label's words (OCR-damaged, Arabic between) before the colon.
      if (!m) m = LABEL_THEN_REF.exec(after.slice(0, 80));
      if (!m) continue;
      // A page footer: "A.O N° 207/2025 / 2 1/1" (a batch-3 class): a spaced one- or two-digit last
      // segment followed by a page count is the page, not part of the number.
      const pageSegment = /\s\/\s?\d{1,2}$/.test(m[1]!) && /^\s+\d{1,2}\s*\/\s*\d{1,2}\s*$/.test(after.slice(m.index + m[0].length));
      const printed = (pageSegment ? m[1]!.replace(/\s\/\s?\d{1,2}$/, '') : m[1]!)
        .replace(/^([A-Z]{2,4})\s(?=\d)/, '$1/')
        .replace(/\s*\/\s*/g, '/')
        .replace(/[.-]+$/, '')
        .trim();
      const value = fixReferenceLookalikes(printed);
      if (!isPlausibleReference(value)) continue;
      const before = line.folded.slice(Math.max(0, key.index - 60), key.index);
      let score = value.includes('/') ? 1 : 0;
      if (/^\d{8}$/.test(value)) score += 1;
      if (AO_CONTEXT.test(before)) score += 3;
      else {
        // "...de l'appel d'offre\nnational à majoration N° 25/2023/ABHOER" (ocr-text/pv-08).
        const prev = previousNonBlank(doc, i);
        if (prev && AO_CONTEXT.test(prev.folded) && before.trim().length < 40) score += 2;
      }
      if (NOT_A_REF_CONTEXT.test(line.folded.slice(Math.max(0, key.index - 25), key.index))) score -= 4;
      if (score >= 1) found.push({ value, score, line: i, end: key.index + key[0].length + m[0].length, fixed: value !== printed });
    }
    // Arabic notices: "طلب العروض رقم 2025/07" (ocr-text/pv-07).
    for (const m of line.text.matchAll(/رقم\s*:?\s*(\d{1,4}\s?\/\s?\d{2,4}(?:\/[A-Za-z0-9.-]+)*)/g)) {
      found.push({ value: m[1]!.replace(/\s/g, ''), score: 1, line: i, end: m.index + m[0].length });
    }
  });
  if (found.length === 0) {
    doc.warn('reference', 'not_found', 'no consultation number found');
    return undefined;
  }
  // The same reference is often printed in the title and in the footer, sometimes shortened
  // ("25/2023/ABHOER" vs "l'AO n° 25/2023" in ocr-text/pv-08): prefer the fuller form.
  for (const c of found) {
    for (const o of found) if (o !== c && o.value.startsWith(c.value + '/')) c.score -= 2;
  }
  found.sort((a, b) => b.score - a.score || a.line - b.line);
  const best = found[0]!;
  const distinct = new Set(found.filter((c) => c.score >= best.score - 1).map((c) => c.value));
  if (distinct.size > 1) doc.warn('reference', 'ambiguous', `several numbers: ${[...distinct].join(', ')}`);
  doc.confidence.reference = best.score >= 3 ? 1 : best.score >= 2 ? 0.8 : 0.6;
  if (distinct.size > 1) doc.confidence.reference = Math.min(doc.confidence.reference, 0.6);
  if (best.fixed) {
    doc.warn('reference', 'ocr_correction', `${best.value}: a leading 1/0 of a letter code read as I/O`);
    doc.confidence.reference = Math.min(doc.confidence.reference, 0.8);
  }
  return best;
}

/** A letter code whose first letter OCR read as a digit: "03/1G/2024" for 03/IG/2024 (ocr-text/pv-15, commune d'Iguidi). */
const LOOKALIKE_PART = /^[10][A-Z]{1,5}$/;
/** A zero inside a letter code: "2460/L0G/2024" for 2460/LOG/2024. */
const ZERO_IN_LETTERS = /^[A-Z]+0[A-Z]+$/;

function fixReferenceLookalikes(value: string): string {
  return value
    .split('/')
    .map((p) => (LOOKALIKE_PART.test(p) ? (p[0] === '1' ? 'I' : 'O') + p.slice(1) : ZERO_IN_LETTERS.test(p) ? p.replace(/0/g, 'O') : p))
    .join('/');
}

function isPlausibleReference(v: string): boolean {
  if (!/\d/.test(v) || v.length < 4) return false;
  // ONEE and a few others number by a letter code and digits only: "TS4122908", "TC4130613".
  if (!v.includes('/')) return /^\d{6,}$/.test(v) || /^[A-Z]{1,3}\d{6,}$/.test(v);
  const parts = v.split('/');
  // ONCF numbers its consultations "52561/C2/PM": a part of up to six digits.
  if (!parts.some((p) => /^\d{1,6}$/.test(p))) return false;
  // A date is not a reference.
  if (/^\d{1,2}\/\d{1,2}\/\d{2,4}$/.test(v)) return false;
  return true;
}

function previousNonBlank(doc: Doc, i: number): Line | undefined {
  for (let j = i - 1; j >= 0 && j >= i - 3; j--) if (!isBlank(doc.lines[j])) return doc.lines[j];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Buyer and object

// "Maître _d'ouvrage" (companion pv-26), "MAITRE D''OUVRAGE" (resultat-48636ebf).
const BUYER_LABEL = /ma[iî]tre[\s_]*d\s*'*\s*'?\s*ouvrage(?!\s*delegue)\s*(?:[:.]|\s{2,}|$)/;

function readBuyer(doc: Doc): string | null {
  for (const line of doc.lines) {
    const m = BUYER_LABEL.exec(line.folded);
    if (!m) continue;
    let value = line.latin.slice(m.index + m[0].length);
    let last = line.index;
    if (!cleanValue(value)) {
      const next = doc.nextNonBlank(line.index, 2);
      if (!next || LABEL_START.test(stripMarkers(next.folded))) continue;
      value = next.latin;
      last = next.index;
    }
    // Continuation lines: "... Chef de Centre Régional de la Recherche\nAgronomique de Rabat."
    for (let k = 0; k < 2 && !/[.;]\s*$/.test(value.trim()); k++) {
      const next = doc.lines[last + 1];
      if (!next || isBlank(next) || LABEL_START.test(stripMarkers(next.folded)) || /^\s*[-•*]/.test(next.latin)) break;
      value += ' ' + next.latin;
      last++;
    }
    const buyer = tidyBuyer(value);
    if (buyer) {
      doc.confidence.buyer = 1;
      return buyer;
    }
  }
  const inferred = letterheadBuyer(doc);
  if (inferred) {
    doc.confidence.buyer = 0.5;
    doc.warn('buyer', 'inferred', 'no "maître d\'ouvrage" line: buyer taken from the letterhead');
    return inferred;
  }
  doc.warn('buyer', 'not_found', 'no maître d\'ouvrage found');
  return null;
}

/** Line openings that start another field rather than continue a value. */
const LABEL_START =
  /^(?:objet|date|lieu|journa|liste|maitre|ma[iî]tre|lot\b|lots\b|marches\b|sites?\s|publication|montant|concurrent|estimation|caution|seance|reference|n°|appel|resultat|extrait|signature|fait\s+a)/;

function stripMarkers(folded: string): string {
  // Numbered headings too: "1) Concurrent retenu :", "2°/ Offres retenues", "b- Attributaire" (issue 14).
  // Bullets OCR read as a letter: "e Le concurrent retenu :", "e Justification ..." (portal 52e35dfc, 116e922f).
  return folded.replace(/^[\s\-–•·▪>®©*+~°"«=_.,;:|!#➢✓✔■●◆❖►⮚▶➤❑\uE000-\uF8FF]+/, '').replace(/^[eo]\s+(?=[a-z]{2})/, '').replace(/^(?:\d{1,2}|[a-e]|[ivx]{1,4})\s*(?:[).]|°\s*\/?|-)\s+(?=[a-z])/, '').replace(/^\d{1,2}\s+(?=(?:concurr?ents?|soumissionnaires?|attributaires?|justification|date)\b)/, '');
}

function tidyBuyer(raw: string): string | null {
  let v = cleanValue(raw.replace(/\s{2,}.*$/, (m) => (/[a-z]/i.test(m) && m.trim().length > 30 ? ' ' + m.trim() : '')));
  // The line sometimes names the official before the function (resultat-329b929d): personal
  // data has no place in the buyer field.
  v = v.replace(/^(?:monsieur|madame|mr\.?|mme\.?|m\.)\s+[^,]{2,60},\s*/i, '');
  v = v.replace(/\s*[.;]\s*$/, '');
  if (v.length < 3 || !/\p{L}{3}/u.test(v)) return null;
  return v;
}

const ORG_WORD = /^(?:office|offce|agence|societe|caisse|tresorerie|barid|academie|universite|groupement\s+des\s+communes|commune|conseil|centre|institut|ecole|hopital|chu\b|region\b|province|prefecture|wilaya|direction|ministere)/;

function letterheadBuyer(doc: Doc): string | null {
  // ONEE extracts print the issuing direction under the title, just before the object.
  const stop = doc.lines.findIndex((l) => /^\W*(?:objet|obiet)\b/.test(l.folded));
  const limit = stop < 0 ? Math.min(doc.lines.length, 25) : Math.min(stop, doc.lines.length);
  const candidates: Array<{ text: string; rank: number; index: number }> = [];
  for (let i = 0; i < limit; i++) {
    const line = doc.lines[i]!;
    for (const cell of cells(line.latin)) {
      const f = stripMarkers(fold(cell.text));
      const m = ORG_WORD.exec(f);
      if (!m) continue;
      let text = cell.text;
      const next = doc.lines[i + 1];
      if (next && /\b(?:pour\s+la|de\s+la|de|du|des|et)$/.test(f) && !isBlank(next)) text += ' ' + (cells(next.latin)[0]?.text ?? '');
      const word = m[0];
      const rank = /^(?:ministere)/.test(word) ? 3 : /^(?:direction|region|province|prefecture|wilaya)/.test(word) ? 2 : 1;
      candidates.push({ text: cleanValue(text), rank, index: i });
    }
  }
  candidates.sort((a, b) => a.rank - b.rank || a.index - b.index);
  return candidates[0]?.text ?? null;
}

const OBJECT_LABEL = /^(?:objet|obiet|0bjet)(?:\s+de\s+l'appel\s+d'offres?)?\s*[:.]\s*/;

function readObject(doc: Doc): string | null {
  for (const line of doc.lines) {
    const stripped = stripMarkers(line.folded);
    const m = OBJECT_LABEL.exec(stripped);
    if (!m) continue;
    const offset = line.folded.length - stripped.length + m[0].length;
    let value = line.latin.slice(offset);
    for (let j = line.index + 1; j < doc.lines.length && j <= line.index + 4; j++) {
      const next = doc.lines[j]!;
      if (isBlank(next) || LABEL_START.test(stripMarkers(next.folded)) || /^\s*[-•]/.test(next.latin)) break;
      value += ' ' + next.latin;
    }
    const v = cleanValue(value.replace(/\s{3,}/g, ' '));
    if (v.length >= 5) {
      doc.confidence.object = 1;
      return v;
    }
  }
  doc.warn('object', 'not_found', 'no "Objet" line');
  return null;
}

// ---------------------------------------------------------------------------------------------
// Dates

// "ouvertute": OCR's reading of "ouverture" (a batch-3 class).
const OPENING_LABEL = /(?:date|seance)s?\s*(?:et\s+heure\s*)?(?:d\s*'*\s*)?ouvert(?:ur|ut)e(?:\s+des\s+plis)?|ouvert(?:ur|ut)e\s+des\s+plis/;
const END_LABEL = /achev[e]?ment\s+(?:des\s+|~+\s+)?travaux|achevement\s+de\s+la\s+commission/;
/** Column headers of results tables wrap: "Date et heure / d'ouverture / des plis". */
const OPENING_COLUMN = /(?<!lieu\s)(?<!lieux\s)\bd?\s*'?\s*ouverture\b/;
const END_COLUMN = /\bd?\s*'?\s*achev[e]?ment\b/;

interface NoticeDates {
  opening: string | null;
  commissionEnd: string | null;
  document: string | null;
}

function readDates(doc: Doc, reference: RefCandidate | undefined): NoticeDates {
  const table = tableDates(doc);
  let opening = narrativeDate(doc, OPENING_LABEL, /lieu\s+d'?\s*ouverture|journa|liste\s+des|publication/) ?? table.opening;
  let openingConfidence = opening ? (opening.notes.length ? 0.6 : 1) : 0;
  if (!opening && reference) {
    // "N°01/2026/CRRAR DU 11/08/2026 à 10h00" (resultat-329b929d): the session date in the title.
    const line = doc.lines[reference.line]!;
    const rest = line.text.slice(reference.end);
    if (/^\s*(?:du|de\s+la\s+s[eé]ance\s+du)\s+/i.test(rest)) opening = findDates(rest)[0];
    if (opening) openingConfidence = 0.8;
  }
  if (!opening) {
    // "Le 04 Août 2026 à 10 h 30 min, la commission d'appel d'offres composée de:" (tuning 205f8760),
    // "1ére Séance" / "26/04/2022  à 11H 00 mn, la commission d'appel d'offre, ..." (tuning 2cb6da69):
    // a full PV with no opening label; its first séance, opened by that sentence, is the opening.
    opening = sessionSentenceDate(doc);
    if (opening) openingConfidence = 0.8;
  }
  if (!opening) {
    // "L'an deux mille vingt-quatre et le Dix-neuf du Mois de Décembre à 11h ; la Commission ..." (a
    // batch-3 class): the séance's date in words, on the line that convenes the commission.
    for (const line of doc.lines) {
      if (!/commission/.test(line.folded) && !/commission/.test(doc.nextNonBlank(line.index, 1)?.folded ?? '')) continue;
      opening = wordsDate(line.folded);
      if (opening) {
        openingConfidence = 0.7;
        break;
      }
    }
  }
  if (opening) {
    doc.confidence.openingDate = openingConfidence;
    if (opening.notes.length) doc.warn('openingDate', 'ocr_correction', opening.notes.join('; '));
  } else doc.warn('openingDate', 'not_found', 'no opening date found');

  const end = narrativeDate(doc, END_LABEL, /fait\s+a|signature|le\s+president/) ?? table.end;
  if (end) {
    doc.confidence.commissionEndDate = end.notes.length ? 0.6 : 1;
    if (end.notes.length) doc.warn('commissionEndDate', 'ocr_correction', end.notes.join('; '));
  } else doc.warn('commissionEndDate', 'not_found', 'no commission end date found');

  let documentIso: string | null = null;
  for (const line of doc.lines) {
    const m = /fait\s+a\b/.exec(line.folded);
    if (!m) continue;
    const after = [line.text.slice(m.index), doc.lines[line.index + 1]?.text ?? '', doc.lines[line.index + 2]?.text ?? ''].join(' ');
    const d = findDates(after)[0];
    if (d) {
      documentIso = d.iso;
      doc.confidence.documentDate = d.notes.length ? 0.6 : 1;
      break;
    }
  }
  // A damaged opening date lets a date from elsewhere (a publication, a decree) be read in its place:
  // one after the commission's end, or years before the signature, is not the opening; empty is right.
  // A signature date OCR damaged is common ("2022" for 2023 in companion pv-26): it only rules out an
  // opening years before it, never one after it.
  const latest = end?.iso ?? documentIso;
  if (opening && latest && ((end && opening.iso > end.iso) || (opening.iso < latest && yearsBetween(opening.iso, latest) > 1.5))) {
    doc.warn('openingDate', 'inconsistent', `${opening.iso} cannot be the opening (commission end or signature ${latest}): left empty`);
    doc.confidence.openingDate = 0;
    opening = undefined;
  }
  return { opening: opening?.iso ?? null, commissionEnd: end?.iso ?? null, document: documentIso };
}

const SESSION_SENTENCE =
  /^\W*(?:le\s+)?(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?$/;
const SESSION_AFTER = /^\s*,?\s*(?:a|des)\s*\d{1,2}\s*(?:h|heures?|:)[^.;]{0,30}?,?\s*la\s+commission\b/;

/** The date opening the first séance's sentence: "Le <date> à <hour>, la commission ...". */
function sessionSentenceDate(doc: Doc): DateMatch | undefined {
  for (const line of doc.lines) {
    if (!/la\s+commission/.test(line.folded)) continue;
    const d = findDates(line.text)[0];
    if (!d) continue;
    if (!SESSION_SENTENCE.test(line.folded.slice(0, d.start))) continue;
    if (SESSION_AFTER.test(line.folded.slice(d.end))) return d;
  }
  return undefined;
}

function yearsBetween(a: string, b: string): number {
  return Math.abs(Date.parse(b) - Date.parse(a)) / (365.25 * 86_400_000);
}

/**
 * "Date d'ouverture des plis : 05-08-2026." or the label then the date(s) on the next lines
 * ("- 1ère séance le 16/11/2023 à 10H00 ;" in ocr-text/pv-08: the first session is the opening).
 * Labels that are column headers of a table are left to tableDates.
 */
function narrativeDate(doc: Doc, label: RegExp, stopAt: RegExp): DateMatch | undefined {
  for (const line of doc.lines) {
    const m = label.exec(line.folded);
    if (!m) continue;
    if (/lieu[x]?\s+d'?\s*$/.test(line.folded.slice(Math.max(0, m.index - 8), m.index))) continue;
    const rest = line.text.slice(m.index + m[0].length);
    const sameLine = findDates(rest)[0] ?? labelledSlashlessDate(rest);
    if (sameLine) return { ...sameLine, start: sameLine.start + m.index + m[0].length };
    if (isTableHeader(doc, line.index)) continue;
    for (let j = line.index + 1; j < doc.lines.length && j <= line.index + 4; j++) {
      const next = doc.lines[j]!;
      if (isBlank(next)) continue;
      if (stopAt.test(next.folded) || label.test(next.folded)) break;
      const d = findDates(next.text)[0];
      if (d) return d;
    }
  }
  return undefined;
}

function isTableHeader(doc: Doc, index: number): boolean {
  const around = doc.lines.slice(Math.max(0, index - 3), index + 4).map((l) => l.folded).join(' ');
  return (OPENING_COLUMN.test(around) || END_COLUMN.test(around)) && /concurrent|retenu|montant|resultat/.test(around);
}

/**
 * Results tables put both dates on one row under wrapped headers whose columns OCR does not keep
 * aligned (resultat-32f13b68). The opening necessarily precedes the end of the commission's work,
 * so on the first data row the earlier date is the opening and the later one the end; a single
 * date goes to the column whose header is nearer.
 */
function tableDates(doc: Doc): { opening?: DateMatch; end?: DateMatch } {
  for (const line of doc.lines) {
    if (!OPENING_COLUMN.test(line.folded) && !END_COLUMN.test(line.folded)) continue;
    if (!isTableHeader(doc, line.index)) continue;
    const headerLines = doc.lines.slice(Math.max(0, line.index - 3), line.index + 5);
    const colOf = (re: RegExp): number | undefined => {
      for (const l of headerLines) {
        const mm = re.exec(l.folded);
        if (mm) return mm.index;
      }
      return undefined;
    };
    const openCol = colOf(OPENING_COLUMN);
    const endCol = colOf(END_COLUMN);
    let first = -1;
    const found: DateMatch[] = [];
    const later: DateMatch[] = [];
    for (let j = line.index; j < doc.lines.length && j <= line.index + 40; j++) {
      const l = doc.lines[j]!;
      if (/fait\s+a\b|signature|cachet/.test(l.folded)) break;
      const ds = findDates(l.text);
      if (ds.length === 0) continue;
      if (first < 0) first = j;
      if (j <= first + 3) found.push(...ds);
      else later.push(...ds);
    }
    if (found.length === 0) return {};
    // Several rows (one notice for several consultations, pv-c1d8f75a) share the end date: the
    // latest date of the table; the opening is the first row's earliest.
    const isos = [...new Set(found.map((d) => d.iso))].sort();
    const all = [...found, ...later].sort((a, b) => a.iso.localeCompare(b.iso));
    const byIso = (iso: string): DateMatch => found.find((d) => d.iso === iso)!;
    if (isos.length >= 2 || all[all.length - 1]!.iso > isos[0]!) return { opening: byIso(isos[0]!), end: all[all.length - 1]! };
    const d = found[0]!;
    if (found.length >= 2) return { opening: d, end: d };
    if (openCol === undefined || endCol === undefined) return openCol === undefined ? { end: d } : { opening: d };
    return Math.abs(d.start - openCol) <= Math.abs(d.start - endCol) ? { opening: d } : { end: d };
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Lots, bidders, winners

type SectionKind = 'deposit' | 'eliminated' | 'admitted' | 'amounts' | 'verification' | 'retained' | 'justification' | 'ranking' | 'other';

interface Section {
  kind: SectionKind;
  /** Line of the heading's first words (a wrapped heading ends on `start`). */
  headStart: number;
  start: number;
  /** Text after the heading on its own line (after the colon). */
  headTail: string;
  headTailStart: number;
  end: number;
  /** The lot whose block holds this section (notices reported lot by lot), else null. */
  lot: string | null;
}

const HEADINGS: Array<[SectionKind, RegExp]> = [
  ['verification', /^(?:la\s+)?verification\s+des\s+montants/],
  ['amounts', /^(?:examen\s+des\s+offres\s+financieres\s*:?\s*)?montants?\s+(?:~+\s*(?:l'\s*)?|des?\s+|d'\s*)?(?:actes?|offres?)\s*(?:~+\s*)?d?\s*'{0,2}\s*engagements?|^montant\s+d'acte|^liste\s+des\s+(?:concurrents|soumissionnaires)\s+dont\s+les\s+offres\s+financieres/],
  // "Concurrent_retenu", "Concurrent attribut" (batch 2's classes: an underscore for the space, the word cut).
  ['retained', /^(?:(?:le\s+|les\s+)?(?:concurr?ents?|soumissionnaires?|souissionnaires?)[\s_]+(?:retenus?|attributaires?|attribut\s*:?\s*$)(?!\s*(?:\((?!par\s+tirage)|montant))|attributaires?\s*(?:(?:du|~+)\s+marche\s*)?:|la\s+commission\s+decide\s+de\s+reten|resultat\s+definitif\s+de\s+l?'?\s*appel|resultat\s+de\s+l'aoo|attributaire\s+ayant|attributaire\s+(?:montant|\|)|offres?\s+retenues?\s*[:.]|adjug[e]s?\s*[:.]|adjudicataires?\s*[:.]|attributaires?\s*$|l'\s*offre\s+economiquement\s+la\s+plus\s+avantageuse\s*:\s*$|[^\s:]{4,20}\s+ret[ec][nmr]us?\s*[:;]\s*$|architectes?\s+retenue?s?\s*[:.]?\s*$)/],
  ['justification', /^(?:justification\s+(?:du|~+)\s+choix|critere\s+du\s+choix)/],
  ['ranking', /^(?:le\s+)?classement\s+des\s+offres/],
  ['deposit', /^(?:la\s+)?(?:liste|listes|les)\s+(?:des\s+|~+\s*)?(?:concurrents|soumissionnaires)\s+(?:ayant|avant|ayunt|avunt)\s+(?:depose|deposes|remis|presente)|^(?:liste\s+des\s+)?concurrents\s+ayant\s+depose|^(?:\S{1,4}\s+)?[^\s:]{1,10}\s+des\s+(?:concurrents|soumissionnaires)\s+(?:ayant|avant|ayunt)\s+(?:depose|remis)|^liste\s+des\s+(?:concurrents|soumissionnaires)\s*[.:]?\s*$/],
  ['eliminated', /^(?:la\s+)?(?:liste|listes)\s+(?:des\s+|~+\s*)?(?:concurrents|soumissionnaires)\s+(?:ecartes|evinces|elimines|non\s+admis|non\s+admissibles|rejetes)|^(?:la\s+)?liste\s+des\s+concurrents\s+ecartes|^concurrents\s+elimines|^soumissionnaires\s+ecartes|^[^\s:]{1,10}\s+des\s+(?:concurrents|soumissionnaires)\s+(?:ecartes|evinces|elimines)/],
  ['admitted', /^(?:la\s+)?(?:liste|listes)\s+(?:des\s+|~+\s*)?(?:concurrents|soumissionnaires)\s+(?:admis|admissibles?)|^soumissionnaires\s+admissibles/],
  ['other', /^(?:date\s+d'?\s*'?achev|achevement\s+des\s+travaux|fait\s+a\b|date\s+(?:et\s+heure\s+)?d'?ouverture|lieu\s+d|journa|site|publication|date\s+de\s+publication|pour\s+le\s+president|le\s+president|signature|signe|prix\s+de\s+reference|page\s+\d)/],
];

function sectionsOf(doc: Doc): Section[] {
  const found: Section[] = [];
  for (const line of doc.lines) {
    const stripped = stripMarkers(line.folded);
    const offset = line.folded.length - stripped.length;
    for (const [kind, re] of HEADINGS) {
      const m = re.exec(stripped);
      if (!m) continue;
      // "Montants des actes / d'engagement en DH TTC" is a column header inside a table, not
      // the heading of the amounts section (ocr-text/pv-03, pv-27).
      if (kind === 'amounts' && !/concurrent|soumissionnaire|:\s*\S{0,3}\s*$/.test(stripped)) break;
      // The heading's own colon may end the match ("Attributaire :", portal 1c473b3e).
      const colon = line.latin.indexOf(':', offset + m[0].length - (m[0].endsWith(':') ? 1 : 0));
      if (colon >= 0 && colon - (offset + m[0].length) < 90) {
        found.push({ kind, headStart: line.index, start: line.index, headTail: line.latin.slice(colon + 1), headTailStart: colon + 1, end: doc.lines.length, lot: null });
        break;
      }
      // A heading wrapped over two lines ("... dossiers administratifs et" / "techniques :").
      const next = doc.nextNonBlank(line.index, 2);
      const nextColon = next ? next.latin.indexOf(':') : -1;
      // ...unless that next line is a heading itself ("LISTE DES CONCURRENTS ÉLIMINÉS" / "Concurrent
      // retenu :", portal 13158996).
      const nextIsHeading = !!next && HEADINGS.some(([k, re]) => k !== 'other' && re.test(stripMarkers(next.folded)));
      if (next && kind !== 'other' && !nextIsHeading && nextColon >= 0 && nextColon < 70 && !/^\s*[-•▪>®o]\s/.test(next.latin) && !findAmounts(next.latin).length) {
        found.push({ kind, headStart: line.index, start: next.index, headTail: next.latin.slice(nextColon + 1), headTailStart: nextColon + 1, end: doc.lines.length, lot: null });
        break;
      }
      found.push({ kind, headStart: line.index, start: line.index, headTail: '', headTailStart: line.latin.length, end: doc.lines.length, lot: null });
      break;
    }
  }
  const sections = found.filter((s, i) => i === 0 || s.start !== found[i - 1]!.start);
  for (let i = 0; i < sections.length; i++) sections[i]!.end = sections[i + 1]?.headStart ?? doc.lines.length;
  return sections;
}

interface LotDraft {
  lotNumber: string | null;
  reference: string | null;
  openingDate: string | null;
  deposited: string[];
  depositedNone: boolean;
  bids: BidItem[];
  winners: WinnerItem[];
  status: AwardStatus | null;
}

function newLot(lotNumber: string | null): LotDraft {
  return { lotNumber, reference: null, openingDate: null, deposited: [], depositedNone: false, bids: [], winners: [], status: null };
}

// Not "Lot n° 25-62 « TAZART - ENNAKHIL »": a line number in a lot cell (ONEE, portal 53d3ff84).
const LOT_HEADING = /^(?:pour\s+(?:le\s+)?)?lot\s*(?:n\s*[°o]?\s*)?0*(\d{1,2})\s*(?:[:.]|-(?!\d)|$)/;
// "NEANT" and the OCR spellings seen in the portal texts ("NENAT", "NEAN", "NEANI").
const NONE = /^(?:neant|nenat|neamt|naent|neani|nean|aucun|aucune|(?:\(?etat\s+ne[an]{2}t\)?))\b/;

/** Lines [start, end) of one lot's report in a notice written lot by lot. */
interface LotBlock {
  lot: string;
  start: number;
  end: number;
}

/**
 * Notices that report lot by lot: "Lot n° 2 : <title>", then that lot's deposit list, bids and
 * retained bidder, then the next lot. A lot heading whose next non-blank line is a section heading
 * opens a block, and the sections up to the next such heading belong to its lot. Notices written
 * section by section put their lot headings inside the sections instead ("Liste des concurrents
 * ayant déposé leurs plis :" / "Lot n°1" in ocr-text/pv-24 and pv-27): no block there.
 */
function lotBlocks(doc: Doc, sections: Section[]): LotBlock[] {
  const heads = new Map(sections.filter((s) => s.kind !== 'other').map((s) => [s.headStart, s]));
  const openers: Array<{ lot: string; line: number }> = [];
  for (const line of doc.lines) {
    if (heads.has(line.index)) continue;
    const m = LOT_HEADING.exec(stripMarkers(line.folded));
    if (!m) continue;
    const next = doc.nextNonBlank(line.index, 3);
    if (next && heads.has(next.index)) openers.push({ lot: String(Number(m[1])), line: line.index });
  }
  const end = doc.lines.length;
  const blocks = openers.map((o, k) => ({ lot: o.lot, start: o.line, end: openers[k + 1]?.line ?? end }));
  for (const s of sections) {
    const block = blocks.find((b) => b.start < s.headStart && s.headStart < b.end);
    s.lot = block?.lot ?? null;
    // The next lot's heading is not part of this lot's last section.
    if (block) s.end = Math.min(s.end, block.end);
  }
  return blocks;
}

function readLots(doc: Doc): AwardLotItem[] {
  const sections = sectionsOf(doc);
  const blocks = lotBlocks(doc, sections);
  const declared = [...new Set([...declaredLots(doc, sections), ...blocks.map((b) => b.lot)])].sort((a, b) => Number(a) - Number(b));
  const lots = new Map<string, LotDraft>();
  const lotOf = (n: string | null): LotDraft => {
    const key = n ?? '';
    let l = lots.get(key);
    if (!l) {
      l = newLot(n);
      lots.set(key, l);
    }
    return l;
  };
  for (const n of declared) lotOf(n);

  // Deposits (and eliminations, with their reasons).
  const eliminated: Array<{ name: string; reason: string | null; lot: string | null }> = [];
  for (const s of sections) {
    if (s.kind === 'deposit') {
      const items = listItems(doc, s);
      if (items.none && items.entries.length === 0) {
        for (const l of s.lot !== null ? [s.lot] : declared.length ? declared : [null]) lotOf(l).depositedNone = true;
      }
      // The entries of one list are distinct plis, however alike their names ("ANFA SIGMA SARL"
      // and "STE ANFA-SIGMA SARL"); a name is only merged with another list's spelling of it.
      const fromEarlierLists = new Map<LotDraft, string[]>();
      for (const e of items.entries) {
        const targets = e.lots.length ? e.lots : [e.lot ?? (declared.length === 1 ? declared[0]! : null)];
        for (const t of targets) {
          const lot = lotOf(declared.length > 1 || t !== null ? t : null);
          if (!fromEarlierLists.has(lot)) fromEarlierLists.set(lot, [...lot.deposited]);
          const earlier = fromEarlierLists.get(lot)!;
          if (lot.deposited.some((d) => nameKey(d) === nameKey(e.name)) || earlier.some((d) => nameSimilarity(d, e.name) >= 0.9)) continue;
          lot.deposited.push(e.name);
        }
      }
    } else if (s.kind === 'eliminated') {
      const known = [...lots.values()].flatMap((l) => l.deposited);
      for (const e of listItems(doc, s, known).entries) eliminated.push({ name: e.name, reason: e.reason, lot: e.lot });
    }
  }

  // Bids.
  for (const s of sections.filter((x) => x.kind === 'amounts' || x.kind === 'verification')) {
    readBids(doc, s, declared, lotOf);
  }

  // Winners.
  const tableZones = resultTables(doc, sections);
  const winnersFound: Array<{ winner: WinnerItem; lot: string | null; reference: string | null; openingDate: string | null }> = [];
  for (const zone of tableZones) winnersFound.push(...readTableWinners(doc, zone));
  // Each lot block has its own retained bidder; within one block (or a notice without blocks) a
  // later "retained" section supersedes an earlier one (ocr-text companion pv-12: the first
  // retained bidder's samples are rejected and "la commission décide de retenir" the next).
  const retainedGroups = new Map<string | null, Section[]>();
  for (const s of sections) if (s.kind === 'retained') retainedGroups.set(s.lot, [...(retainedGroups.get(s.lot) ?? []), s]);
  // A results table whose name column OCR lost (the ONEE summary page of portal 635b68d8) does not
  // hide the retained section that names the winner.
  const namelessTable = winnersFound.length > 0 && winnersFound.every((w) => !w.winner.name && w.winner.amount !== null);
  const fromTable = namelessTable ? winnersFound.splice(0) : [];
  for (const [blockLot, retainedSections] of winnersFound.length === 0 ? retainedGroups : []) {
    // A later retained heading that yields a name without an amount (a letterhead under "Résultat
    // définitif de l'appel d'offres" on the next page, portal 3ed76aa6) does not supersede an earlier
    // section that printed the retained bidder with its amount.
    const complete = (ws: FoundWinner[]): boolean => ws.some((w) => w.winner.name && w.winner.amount);
    const readings = retainedSections.map((s) => readRetainedSection(doc, s, lots));
    const latestComplete = readings.map((r, k) => (complete(r) ? k : -1)).reduce((a, b) => Math.max(a, b), -1);
    for (let k = retainedSections.length - 1; k >= 0; k--) {
      if (latestComplete >= 0 && k > latestComplete && !complete(readings[k]!) && readings[k]!.every((w) => w.winner.name)) continue;
      let got = readings[k]!;
      if ((declared.length <= 1 || blockLot !== null) && got.length > 1 && got.every((w) => w.lot === blockLot)) {
        // One lot, several candidates: OCR moved another table's amounts into the section
        // (companion pv-13). A name printed with its amount beats one inferred from an amount.
        const explicit = got.filter((w) => w.winner.name && !w.inferred);
        if (explicit.length > 0) got = [explicit[0]!];
        if (new Set(got.map((w) => w.winner.name)).size > 1) doc.warn('lots', 'ambiguous', `several retained candidates: ${got.map((w) => w.winner.name).join(', ')}`);
      }
      if (got.length > 0) {
        winnersFound.push(...got);
        break;
      }
    }
  }
  // "Justification du choix de l'attributaire du lot 2 : ZAHIR ABDELLAH" (ocr-text/pv-14).
  if (winnersFound.length === 0) winnersFound.push(...fromTable);
  const justified = justificationWinners(doc);
  if (winnersFound.length === 0) winnersFound.push(...awardSentenceWinners(doc));
  if (winnersFound.length === 0) winnersFound.push(...retainedOverflowWinners(doc, sections, lots));
  if (winnersFound.length === 0 && declared.length > 1) winnersFound.push(...lotDescriptionWinners(doc, sections, lots));

  assignWinners(doc, winnersFound, justified, declared, lots, lotOf);
  applyStatuses(doc, declared, blocks, lots, lotOf);

  // Eliminations onto bids; a bidder eliminated without a bid line still counts as a bidder.
  for (const e of eliminated) {
    const targets = e.lot !== null ? [lotOf(e.lot)] : [...lots.values()];
    for (const lot of targets) {
      // A bidder listed under this very spelling is this one, not the closest other name
      // ("CEDRE CONSTRUCTION SA" eliminated, "HYDRO CONSTRUCTION SARL" admitted).
      const exactBid = lot.bids.find((b) => nameKey(b.bidder) === nameKey(e.name));
      const exactListed = lot.deposited.find((d) => nameKey(d) === nameKey(e.name));
      if (!exactBid && exactListed) {
        if (!lot.bids.some((b) => nameKey(b.bidder) === nameKey(exactListed))) lot.bids.push(makeBid(exactListed, null, null, true, e.reason));
        continue;
      }
      const bid = exactBid ?? bestNameMatch(e.name, lot.bids, (b) => b.bidder, 0.7) ?? lot.bids.find((b) => isNameFragment(e.name, b.bidder));
      if (bid) {
        bid.eliminated = true;
        bid.eliminationReason ??= e.reason;
      } else if (lot.deposited.some((d) => nameSimilarity(d, e.name) >= 0.7 || isNameFragment(e.name, d)) || targets.length === 1) {
        const listed = bestNameMatch(e.name, lot.deposited, (d) => d, 0.7) ?? uniqueFragmentMatch(e.name, lot.deposited) ?? e.name;
        if (!lot.bids.some((b) => nameSimilarity(b.bidder, listed) >= 0.9)) lot.bids.push(makeBid(listed, null, null, true, e.reason));
      }
    }
  }

  // A later séance undoing the award ("Au 2ème séance la commission décide de refuser l'offre ...
  // déclare l'appel d'offres infructueux", portal 0c2cced8): the last word is the outcome.
  if (lots.size === 1 && LATER_SEANCE.test(doc.all)) {
    const lot = [...lots.values()][0]!;
    const lastWinnerLine = Math.max(0, ...lot.winners.map((w) => w.nameSource?.line ?? 0));
    if (lot.winners.length > 0 && doc.lines.slice(lastWinnerLine).some((l) => INFRUCTUEUX_DAMAGED.test(l.folded))) {
      lot.winners = [];
      lot.status = 'infructueux';
      doc.warn('lots', 'inferred', 'award undone at a later séance: consultation unsuccessful');
    }
  }

  // Every bidder eliminated and nobody retained, without the word "infructueux" (issue 14's
  // held-apart misses): the consultation had no result.
  for (const lot of lots.values()) {
    if (lot.status || lot.winners.length > 0 || lot.deposited.length === 0) continue;
    const out = lot.bids.filter((b) => b.eliminated);
    if (lot.deposited.every((d) => out.some((b) => nameKey(b.bidder) === nameKey(d) || nameSimilarity(b.bidder, d) >= 0.7))) {
      lot.status = 'infructueux';
      doc.warn('lots', 'inferred', 'every bidder eliminated: consultation unsuccessful');
    }
  }

  const out: AwardLotItem[] = [];
  const drafts = [...lots.values()];
  const multi = drafts.length > 1;
  // Lots of several consultations stay in the notice's order.
  if (!drafts.some((d) => d.reference !== null)) drafts.sort((a, b) => lotOrder(a) - lotOrder(b));
  for (const d of drafts) {
    // In a multi-lot notice, what could not be tied to a lot is reported, not made into a lot.
    if (multi && d.lotNumber === null && d.reference === null && d.winners.length === 0) {
      if (d.bids.length > 0 || d.deposited.length > 0) doc.warn('lots', 'ambiguous', `${Math.max(d.bids.length, d.deposited.length)} bidder(s) not attributable to a lot`);
      continue;
    }
    // The deposit list is the count; an amounts table can list bidders the OCR lost from it
    // (ocr-text/pv-19), never fewer.
    const distinctBids: string[] = [];
    for (const b of d.bids) if (!distinctBids.some((n) => nameSimilarity(n, b.bidder) >= 0.75)) distinctBids.push(b.bidder);
    const counted = Math.max(d.deposited.length, distinctBids.length);
    const bidderCount = counted > 0 ? counted : d.depositedNone ? 0 : null;
    out.push({
      lotNumber: d.lotNumber,
      reference: d.reference,
      openingDate: d.openingDate,
      status: d.status ?? (d.winners.length > 0 ? 'attribue' : 'inconnu'),
      bidders: d.bids,
      bidderCount,
      winners: d.winners,
    });
  }
  if (out.length === 0) {
    out.push({ lotNumber: null, reference: null, openingDate: null, status: 'inconnu', bidders: [], bidderCount: null, winners: [] });
  }
  const unknown = out.filter((l) => l.status === 'inconnu').length;
  doc.confidence.lots = out.length === 0 ? 0 : Math.round((1 - unknown / out.length) * 100) / 100;
  if (unknown > 0) doc.warn('lots', 'not_found', `${unknown} lot(s) without a readable result`);
  return out;
}

/** Lots of a notice covering several consultations (pv-c1d8f75a) are keyed by consultation too. */
function lotOfConsultation(lots: Map<string, LotDraft>, reference: string | null, lotNumber: string | null): LotDraft {
  const key = `${reference ?? ''}#${lotNumber ?? ''}`;
  let l = lots.get(key);
  if (!l) {
    l = newLot(lotNumber);
    l.reference = reference;
    lots.set(key, l);
  }
  return l;
}

function lotOrder(l: LotDraft): number {
  return l.lotNumber === null ? 0 : Number(l.lotNumber);
}

/**
 * Lots the notice announces: headings "Lot 1 : ...", "LOT N°2 : ...", "Lot n° 01 : ..." on lines of
 * their own before the first section (ocr-text/pv-14, pv-24, pv-27; "LOT 1:..." under the object
 * of ONEE extracts, pv-2cfcb754). Lots named inside the object's sentence are not: "Objet : LOT 4 :
 * Travaux ..." is the title of a consultation the buyer split into separate ones, and "... en
 * trois lots séparés : • Lot 1 : ...; • Lot 2 : ..." describes the programme; in such a running
 * paragraph a "Lot 3 :" that wrapping happens to put at a line start is no heading either.
 */
function declaredLots(doc: Doc, sections: Section[]): string[] {
  const firstSection = sections.find((s) => s.kind !== 'other')?.start ?? doc.lines.length;
  const inObject = objectParagraphLines(doc, firstSection);
  const found = new Set<string>();
  for (const line of doc.lines.slice(0, firstSection)) {
    if (inObject.has(line.index)) continue;
    const m = LOT_DECLARATION.exec(stripMarkers(line.folded));
    if (m) found.add(String(Number(m[1])));
  }
  return [...found].sort((a, b) => Number(a) - Number(b));
}

const LOT_DECLARATION = /^lot\s*(?:n\s*[°o]?\s*)?0*(\d{1,2})\s*(?::|-(?!\d))/;
const LOT_MENTION = /\blot\s*(?:n\s*[°o]?\s*)?0*\d{1,2}\s*:/;

/**
 * Lines of an object paragraph that names lots in its running text (a lot mention after other
 * words on its line): the label's line and the lines that continue it, up to a blank line or
 * another label. Empty when the object names no lot inline.
 */
function objectParagraphLines(doc: Doc, limit: number): Set<number> {
  const out = new Set<number>();
  for (const line of doc.lines.slice(0, limit)) {
    const stripped = stripMarkers(line.folded);
    const label = OBJECT_LABEL.exec(stripped);
    if (!label) continue;
    const paragraph = [line.index];
    for (let j = line.index + 1; j < limit && j <= line.index + 12; j++) {
      const next = doc.lines[j]!;
      if (isBlank(next)) break;
      const f = stripMarkers(next.folded);
      if (LABEL_START.test(f) && !LOT_DECLARATION.test(f)) break;
      paragraph.push(j);
    }
    const inline = paragraph.some((j) => {
      const f = stripMarkers(doc.lines[j]!.folded);
      const body = j === line.index ? f.slice(label[0].length) : f;
      const m = LOT_MENTION.exec(body);
      return !!m && (j === line.index || m.index > 0);
    });
    if (inline) for (const j of paragraph) out.add(j);
  }
  return out;
}

interface ListEntry {
  name: string;
  reason: string | null;
  lot: string | null;
  lots: string[];
}

const COUNTRY_CELL = /^(?:maroc|france|espagne|tunisie|turquie|chine|italie|portugal|egypte|allemagne|belgique|senegal)\b/i;

/** Items of a list section: "- Société X", "o Société Y (lots n° 1, 2 et 3);", table rows... */
function listItems(doc: Doc, s: Section, known: readonly string[] = []): { entries: ListEntry[]; none: boolean } {
  const entries: ListEntry[] = [];
  let none = false;
  let currentLot: string | null = s.lot;
  let hasPaysColumn = false;
  const raw: Array<{ text: string; marker: boolean; lot: string | null }> = [];
  const pushText = (text: string, marker: boolean): void => {
    // Two items on one line: "- Société CRMH GROUPE - Kénitra ; - Société MY DADA — Kénitra ;"
    // (ocr-text/pv-08), or two columns "SOCIETE FIFA VERT    SOCIETE AGATIA TRAVAUX" (companion
    // pv-26); a groupement's members ("X / STE Y") stay together.
    const twoColumns = !/groupement|\//i.test(text);
    const splitter = twoColumns
      ? /\s*;\s*(?=[-–•]|\bsoci[eé]t[eé]\b)|\s+-\s+(?=soci[eé]t[eé]\b)|(?<=\S)\s+(?=(?:SOCIETE|Société|STE)\s)/
      : /\s*;\s*(?=[-–•]|\bsoci[eé]t[eé]\b)|\s+-\s+(?=soci[eé]t[eé]\b)/i;
    const parts: string[] = [];
    for (const part of text.split(splitter)) {
      // "Société STE URBAN ELECTRONICS" (companion pv-17) is one name.
      const prev = parts[parts.length - 1];
      if (prev !== undefined && /^[\W_]*(?:la\s+)?(?:soci[eé]t[eé]|ste)[\W_]*$/i.test(prev)) parts[parts.length - 1] = `${prev} ${part}`;
      else parts.push(part);
    }
    for (const part of parts) if (cleanValue(part)) raw.push({ text: part, marker, lot: currentLot });
  };
  const tail = cleanValue(s.headTail);
  if (tail) {
    // "Liste des concurrents écartés : NEANT": the list is closed; name lines below it belong to a
    // part whose heading OCR lost (the retained bidder of pv-ec6310d6), not to this list.
    if (NONE.test(fold(tail)) && currentLot === null) return { entries, none: true };
    if (NONE.test(fold(tail))) none = true;
    else if (looksLikeName(tail.split(':')[0] ?? '')) pushText(tail, true);
  }
  for (let i = s.start + 1; i < s.end; i++) {
    const line = doc.lines[i]!;
    if (isBlank(line)) continue;
    const f = stripMarkers(line.folded);
    if (NONE.test(f)) {
      none = true;
      // "NEANT" closes a list; what follows is commentary ("N.B : Personne ne ..." in
      // ocr-text/pv-15), unless the list goes on lot by lot.
      if (currentLot === null && raw.length === 0) break;
      continue;
    }
    const lotHead = LOT_HEADING.exec(f);
    if (lotHead) {
      currentLot = String(Number(lotHead[1]));
      const rest = cleanValue(line.latin.slice(line.latin.indexOf(':') + 1));
      if (line.latin.includes(':') && rest && NONE.test(fold(rest))) none = true;
      continue;
    }
    if (/\bpays\b/.test(f)) {
      hasPaysColumn = true;
      continue;
    }
    if (/^(?:concurrents?|soumissionnaires?|noms?|raison\s+sociale|motifs?|type\s+de\s+depot|depot|lots?)\b/.test(f) && !/\b(?:ste|societe)\b/.test(f)) continue;
    if (/^(?:la\s+commission|alors|n\.?b|apres|en\s+date)/.test(f)) break;
    if (findAmounts(line.latin).length > 0) continue;
    const marker = /^\s*(?:[-–•·▪>®©*+°<]|[eo]\s+(?=[A-Z])|\d{1,2}[.)]\s)/.test(line.latin);
    // ONEE deposit tables have a PAYS column: "LBIR FORAGE ET FONDATION    MAROC" (pv-2cfcb754).
    let text = hasPaysColumn ? line.latin.replace(/\s+(?:maroc|france|espagne|tunisie|turquie|chine|italie|portugal|egypte|allemagne)\b[\s~|'"_.,;:!]*$/i, '') : line.latin;
    if (s.kind === 'deposit') {
      // Same column when OCR lost the header: a country alone in a later cell.
      const cs = cells(text);
      const kept = cs.filter((c, k) => k === 0 || !COUNTRY_CELL.test(c.text));
      if (kept.length < cs.length) text = kept.slice(0, cs.findIndex((c, k) => k > 0 && COUNTRY_CELL.test(c.text))).map((c) => c.text).join(' ');
    }
    pushText(text, marker);
  }
  // Right-to-left layout moves the list dash to the end of the line ("INDUS POMPES 518 2-" /
  // "STE SEHI-" in pv-ec6310d6): when every item ends so, the dash is the item's marker, not a
  // connector joining it to the next.
  const trailingDash = /\s*-\s*$/;
  if (raw.length >= 2 && raw.every((r) => trailingDash.test(r.text))) {
    for (const r of raw) {
      r.text = r.text.replace(trailingDash, '');
      r.marker = true;
    }
  }
  const anyMarker = raw.some((r) => r.marker);
  const merged: Array<{ text: string; lot: string | null }> = [];
  for (const r of raw) {
    const prev = merged[merged.length - 1];
    // A numbered item ("2. _ GR STE ERATEN") starts an entry even after a line ending in a dash.
    const numbered = /^\s*\d{1,2}[.)]\s/.test(r.text);
    const continuation =
      prev &&
      !numbered &&
      ((anyMarker && !r.marker && !/^\s*(?:ste|soci[eé]t[eé]|groupement|laboratoire|m\.|mr)\b/i.test(r.text)) ||
        /(?:\bet|&|\bde|\bdu|\bdes|-|\/)$/i.test(prev.text.trim()) ||
        /^\s*(?:d'|de\s|du\s|des\s|et\s)/i.test(r.text) ||
        // A reason wrapping onto a line of its own ("électroniquement les pièces communes").
        (s.kind === 'eliminated' && /^\s*\p{Ll}/u.test(r.text)));
    if (continuation) prev.text += ' ' + r.text.trim();
    else {
      // "1. STE BALB TRAVAUX -" / "2. _ GR …" (portal 6e3e3d90): the dash closed the entry.
      if (prev && numbered) prev.text = prev.text.replace(/\s+[-–]\s*$/, '');
      merged.push({ text: r.text, lot: r.lot });
    }
  }
  // Only a deposit list is written as a sentence; an eliminated entry's reason may hold commas and "et".
  const items = s.kind === 'deposit' ? merged.flatMap((e) => enumeration(e.text).map((text) => ({ text, lot: e.lot }))) : merged;
  for (const m of items) {
    let text = m.text;
    // "(lots n° 1, 2 et 3)" (ocr-text/pv-27).
    const lotsMatch = /\(\s*lots?\s*n?\s*°?\s*([\d\s,et]+)\)/i.exec(text);
    const lotsList = lotsMatch ? (lotsMatch[1]!.match(/\d+/g) ?? []).map((n) => String(Number(n))) : [];
    // Name and reason: "STE EJYM : Quantité n°13 ... eronées", "X :offre jugée excessive".
    let reason: string | null = null;
    const colon = /\s:\s*|\s*:\s+|\s+:\s*(?=\p{L})/u.exec(text);
    if (colon && colon.index > 2) {
      reason = cleanValue(text.slice(colon.index + colon[0].length)) || null;
      text = text.slice(0, colon.index);
    } else {
      const gap = /\S(\s{2,})\S/.exec(text.trim());
      if (gap && s.kind === 'eliminated') {
        const at = text.trim().indexOf(gap[1]!, gap.index);
        reason = cleanValue(text.trim().slice(at)) || null;
        text = text.trim().slice(0, at);
      } else if (s.kind === 'eliminated' && known.length > 0) {
        // "BENESING AMENAGEMENT Absence de la procuration ..." (companion pv-05): the name is the
        // longest opening that is part of a bidder's name, the rest is the reason.
        const words = text.trim().split(/\s+/);
        for (let k = words.length - 1; k >= 1; k--) {
          const head = words.slice(0, k).join(' ');
          if (known.some((n) => isNameFragment(head, n))) {
            const rest = words.slice(k).join(' ');
            // Reasons are sentences; an all-capitals rest is more of the name.
            if (/\p{Ll}/u.test(rest)) {
              reason = cleanValue(rest) || null;
              text = head;
            }
            break;
          }
        }
      }
    }
    const name = cleanBidderName(text.replace(/\s*-\s+[A-Z][a-zé]+(?:\s[A-Z][a-zé]+)?\s*$/, '').replace(/\s*-\s*[A-Z][a-zé]+$/, ''));
    if (!looksLikeName(name) || NONE.test(fold(name))) continue;
    entries.push({ name, reason, lot: m.lot, lots: lotsList });
  }
  return { entries, none };
}

/**
 * A list written as a sentence, "STE BAHI NAJIB, JTTOPO et MAPPING ENGINEERING." (portal 678eca5e): its
 * names. Only with a comma and a closing lower-case "et" (names print their own "ET" in capitals), no
 * groupement, and no part that is a legal form ("STE X, SARL").
 */
function enumeration(text: string): string[] {
  if (/groupement|\(|:/i.test(text)) return [text];
  const m = /^(.+?)\s+et\s+(\S.*)$/.exec(text.trim());
  if (!m || !m[1]!.includes(',')) return [text];
  const parts = [...m[1]!.split(/\s*,\s*/), m[2]!].map((p) => p.trim());
  if (parts.some((p) => !/\p{L}{2}/u.test(p) || /^(?:s\.?\s?a\.?(?:\s?r\.?\s?l\.?)?(?:\s?a\.?u\.?)?|sarl(?:\s?au)?|au|et\s.*)$/i.test(p.replace(/[.;\s]+$/, '')))) return [text];
  return parts;
}

function makeBid(name: string, amount: string | null, verified: string | null, eliminatedFlag = false, reason: string | null = null): BidItem {
  const g = splitGroupement(name);
  return { bidder: name, isGroupement: g.isGroupement, members: g.members, amount, amountVerified: verified, eliminated: eliminatedFlag, eliminationReason: reason };
}

/** Company names are printed in capitals; object and observation text is not. */
function mostlyLowerCase(s: string): boolean {
  const letters = s.replace(/[^\p{L}]/gu, '');
  return letters.length >= 6 && letters.replace(/\p{Lu}/gu, '').length / letters.length > 0.6;
}

/** A line opening a new company rather than continuing the previous one's name. */
const ENTITY_START = /^\s*(?:ste|stes|soci[eé]t[eé]|groupement|la\s+soci[eé]t[eé]|laboratoire|bureau|cabinet|m\.|mr\.?|mme)\b/i;
const CONNECTOR_END = /(?:\bet|&|\bde|\bdu|\bdes|\bpour|\bla|-|\/)\s*$/i;

/**
 * Amount tables: a line with an amount holds a bidder; its name is the text left of the amount,
 * or the name-only lines just above it when the row wrapped (OCR puts the amount on its own line).
 * Name-only lines between two complete rows continue the previous name ("STE INOX GENERAL DU" /
 * "SUD" in pv-7bba7ebe) unless they open a new company or end with a connector
 * ("Groupement EXPERT CONSTRUCTION /" / "STE MANASSA TRV 6 240 034,80", companion pv-05).
 */
function readBids(doc: Doc, s: Section, declared: string[], lotOf: (n: string | null) => LotDraft): void {
  let currentLot: string | null = s.lot ?? (declared.length === 1 ? declared[0]! : null);
  let pending: string[] = [];
  let last: BidItem | undefined;
  let lastLot: string | null = null;
  /**
   * The previous bid's name is a deposit-list entry as printed: a line below it is no more of it (a
   * letterhead, "ANP-DPCR" in portal 678eca5e), unless it is a legal form alone ("SARL").
   */
  const lastIsListed = (): boolean => !!last && lotOf(lastLot).deposited.some((d) => nameKey(d) === nameKey(last!.bidder));
  const orphanAmounts: Array<{ values: string[]; lot: string | null }> = [];
  const verification = s.kind === 'verification';
  const lotColumn = /\blots?\b/.test(doc.lines.slice(s.start, s.start + 4).map((l) => l.folded).join(' '));

  const canonicalName = (lotNumber: string | null, name: string): string => {
    const lot = lotOf(lotNumber);
    return (
      lot.deposited.find((d) => nameKey(d) === nameKey(name)) ??
      bestNameMatch(name, lot.deposited, (d) => d, 0.75) ??
      uniqueFragmentMatch(name, lot.deposited) ??
      name
    );
  };
  const addBid = (lotNumber: string | null, name: string, values: string[]): BidItem => {
    const lot = lotOf(lotNumber);
    const canonical = canonicalName(lotNumber, name);
    // Two entries of the deposit list are two bidders, however alike ("TAFILALET TAFILALET SARL"
    // and "STE TAFILALET-TAFILALET SARL AU"): a listed name only meets a bid of its own spelling.
    const listed = lot.deposited.some((d) => nameKey(d) === nameKey(canonical));
    const existing = listed
      ? lot.bids.find((b) => nameKey(b.bidder) === nameKey(canonical))
      : bestNameMatch(canonical, lot.bids, (b) => b.bidder, 0.85);
    const lastValue = values[values.length - 1] ?? null;
    if (verification) {
      if (existing) {
        existing.amountVerified = lastValue;
        return existing;
      }
      const bid = makeBid(canonical, null, lastValue);
      lot.bids.push(bid);
      return bid;
    }
    if (existing && existing.amount === null) {
      existing.amount = values[0] ?? null;
      if (values.length > 1) existing.amountVerified = lastValue;
      return existing;
    }
    const bid = makeBid(canonical, values[0] ?? null, values.length > 1 ? lastValue : null);
    lot.bids.push(bid);
    return bid;
  };

  for (let i = s.start + 1; i < s.end; i++) {
    const line = doc.lines[i]!;
    if (isBlank(line)) continue;
    const f = stripMarkers(line.folded);
    const amounts = findAmounts(line.latin);
    const lotHead = LOT_HEADING.exec(f);
    if (lotHead && amounts.length === 0) {
      currentLot = String(Number(lotHead[1]));
      pending = [];
      last = undefined;
      continue;
    }
    if (amounts.length === 0) {
      if (/\b(?:montants?|concurrents?|soumissionnaires?|verifications?|rectifi\w*|engagements?|ttc|avant|apres)\b/.test(f) && !/\b(?:ste|societe)\b/.test(f)) continue;
      const text = cleanBidderName(line.latin);
      if (looksLikeName(text)) pending.push(text);
      continue;
    }
    let left = line.latin.slice(0, amounts[0]!.start);
    let rowLot = currentLot;
    if (lotColumn) {
      const lm = /^\s*[|[(]?\s*(\d{1,2})\s*[|\]]/.exec(left);
      if (lm) {
        rowLot = String(Number(lm[1]));
        left = left.slice(lm[0].length);
      }
    }
    let name = cleanBidderName(left.replace(/^\s*\d{1,2}\s+(?=\S)/, ''));
    if (!looksLikeName(name)) name = '';
    const forNext: string[] = [];
    for (const p of pending) {
      // Already part of the previous bid's name, as the deposit list spells it ("STE GENERAL
      // CIVIL" / "ENGINEERING SERVICES" in pv-7bba7ebe).
      if (last && forNext.length === 0 && (isNameFragment(p, last.bidder) || fold(last.bidder).endsWith(fold(p).trim()))) continue;
      const continues =
        last && forNext.length === 0 && !(lastIsListed() && !LEGAL_FORM_ONLY.test(cleanValue(p))) && (CONNECTOR_END.test(last.bidder) || (!ENTITY_START.test(p) && !CONNECTOR_END.test(p) && name !== ''));
      // Sentences of an "Observation" column are not names.
      if (mostlyLowerCase(p)) continue;
      if (continues) last!.bidder = cleanBidderName(`${last!.bidder} ${p}`);
      else forNext.push(p);
    }
    pending = [];
    const values = amounts.map((a) => a.value);
    if (!name && forNext.length > 1) {
      // Several complete names above one amount: OCR lost the other rows' amounts (companion
      // pv-05). Each is a bidder; which one the amount belongs to is unknown.
      const known = new Set(forNext.map((p) => canonicalName(rowLot, p)).filter((c) => lotOf(rowLot).deposited.includes(c)));
      if (known.size >= 2) {
        for (const p of forNext) addBid(rowLot, p, []);
        doc.warn('lots', 'ambiguous', `amount ${values.join(' / ')} could not be attached to one of ${forNext.join(', ')}`);
        continue;
      }
    }
    if (!name) name = forNext.join(' ');
    else if (forNext.length > 0) {
      const head = forNext[forNext.length - 1]!;
      if (CONNECTOR_END.test(forNext[forNext.length - 1]!)) name = `${forNext.join(' ')} ${name}`;
      else if (isNameTail(head, name, lotOf(rowLot).deposited)) {
        for (const p of forNext.slice(0, -1)) if (ENTITY_START.test(p)) addBid(rowLot, p, []);
        name = cleanBidderName(`${head} ${name}`);
      }
      // A company line whose amount OCR could not read ("Société LGCI 92.0", companion pv-13).
      else for (const p of forNext) if (ENTITY_START.test(p)) addBid(rowLot, p, []);
    }
    if (!name) {
      orphanAmounts.push({ values, lot: rowLot });
      continue;
    }
    for (const a of amounts) if (a.notes.length) doc.warn('lots', 'ocr_correction', `${name}: ${a.raw} read as ${a.value} (${a.notes.join('; ')})`);
    last = addBid(rowLot, name, values);
    lastLot = rowLot;
  }
  // OCR sometimes emits a table column by column: all the amounts, then all the names
  // (ocr-text/pv-03). Equal counts pair up in order.
  if (orphanAmounts.length > 0 && pending.length === orphanAmounts.length) {
    const perLot = declared.length === orphanAmounts.length && orphanAmounts.every((o) => o.lot === null);
    if (perLot) doc.warn('lots', 'inferred', 'amounts table without lot column: one row per lot, in lot order');
    orphanAmounts.forEach((o, k) => addBid(perLot ? declared[k]! : o.lot, pending[k]!, o.values));
    pending = [];
  }
  if (pending.length > 0 && last && !ENTITY_START.test(pending[0]!) && !(lastIsListed() && !pending.every((p) => LEGAL_FORM_ONLY.test(cleanValue(p))))) last.bidder = cleanBidderName(`${last.bidder} ${pending.join(' ')}`);
}

const LEGAL_FORM_ONLY = /^(?:s\.?\s?a\.?\s?r\.?\s?l\.?(?:\s*a\.?\s?u\.?)?|sarlau|s\.?\s?a\.?|s\.?\s?n\.?\s?c\.?|suarl|sas)$/i;

/**
 * Whether `tail`, on the amount's line, ends the name printed on the line above (`head`): a legal
 * form alone ("GROUPEMENT X / SOCIETE OMEGA MAGHREB" / "SARL AU 114 243,26 DH TTC"), or the two
 * together spell an entry of the deposit list.
 */
function isNameTail(head: string, tail: string, listed: readonly string[]): boolean {
  if (LEGAL_FORM_ONLY.test(cleanValue(tail))) return true;
  const joined = nameKey(`${head} ${tail}`);
  return listed.some((d) => nameKey(d) === joined);
}

interface FoundWinner {
  winner: WinnerItem;
  lot: string | null;
  reference: string | null;
  openingDate: string | null;
  /** Set when the name was not on the amount's row. */
  inferred?: boolean;
  /** The rule that found it (provenance); "results-table" when unset. */
  rule?: string;
  /** The first digits of an award amount OCR cut short: a bid taken for it must start with them. */
  cutAmount?: string;
}

function makeWinner(name: string, amount: string | null, amountMin: string | null = null): WinnerItem {
  const g = splitGroupement(name);
  return { name, isGroupement: g.isGroupement, members: g.members, amount, amountMin };
}

const WINNER_PREFIX =
  /^.*?(?:est\s+la\s+soci[eé]t[eé]\s*:?|attribu[eé]\s+[aà]\s+(?:la\s+soci[eé]t[eé]\s*)?|(?:pour\s+le\s+)?lot\s*n?\s*[°o®º]?\s*\d{1,2}\b\s*(?::|-|(?=\s+\p{L}))\s*(?:la\s+soci[eé]t[eé]\s*)?|retenu\s*:\s*)/iu;

/** Narrative "Concurrent retenu" sections: name then amount, on one line or split over a few. */
function readRetainedSection(doc: Doc, s: Section, lots: Map<string, LotDraft>): FoundWinner[] {
  const out: FoundWinner[] = [];
  let pending: string[] = [];
  let currentLot: string | null = s.lot;
  const lines: Array<{ latin: string; folded: string; index: number }> = [];
  if (cleanValue(s.headTail)) lines.push({ latin: ' '.repeat(s.headTailStart) + s.headTail, folded: fold(' '.repeat(s.headTailStart) + s.headTail), index: s.start });
  for (let i = s.start + 1; i < s.end; i++) lines.push(doc.lines[i]!);
  let sawAucun = false;
  let ttcColumn: number | null = null;
  const tagged = (): FoundWinner[] => out.map((w) => ({ ...w, rule: w.rule ?? 'retained-section' }));
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    const f = stripMarkers(line.folded);
    if (!f.trim() || /^~*$/.test(f.trim())) continue;
    // A column header "TOTAL HT | TOTAL TTC" (portal 209604ca): the rows below print both, and the
    // award amount is the TTC one whatever the row itself says.
    const ht = /\b(?:total\s+)?h\.?t\.?(?:va)?\b/.exec(f);
    const ttc = /\b(?:total\s+)?t\.?t\.?c\.?\b/.exec(f);
    if (ht && ttc && findAmounts(line.latin).length === 0) {
      ttcColumn = ht.index < ttc.index ? 1 : 0;
      // What came before the header (a letterhead, "ANP-DPCR" in 6a77a51a) is not the row's name.
      pending = [];
      continue;
    }
    if (NONE.test(f)) {
      sawAucun = true;
      // "NEANT" (or "NENAT") under the heading: the lot has no winner, whatever name-like token OCR
      // put near it; the marker is read as "infructueux" (issue 14).
      if (!out.some((w) => w.lot === currentLot)) out.push({ winner: { name: '', isGroupement: false, members: [], amount: null, amountMin: null }, lot: currentLot, reference: null, openingDate: null, rule: 'retained-section:neant' });
      continue;
    }
    if (/^(?:les?\s+echantillons|la\s+commission)/.test(f)) break;
    // "Lot 2 : X", and in tables "Lot 1 Sté. EXTRAMIS" (portal 43e5a8a8).
    const lotHead = /(?:pour\s+le\s+)?\blot\s*n?\s*[°o®º]?\s*0*(\d{1,2})\b\s*(?::|-|(?=\s+[a-z]))/.exec(f);
    if (lotHead && String(Number(lotHead[1])) !== currentLot) {
      // A name of the previous lot whose amount OCR lost ("LOT N°1 Le laboratoire LPEE 974 880",
      // portal 53b0229e) stays that lot's winner rather than the next lot's.
      if (pending.length > 0 && currentLot !== null && !out.some((w) => w.lot === currentLot)) {
        out.push({ winner: makeWinner(cleanBidderName(pending.join(' ')), null), lot: currentLot, reference: null, openingDate: null, inferred: pending.length > 1 });
        pending = [];
      }
      currentLot = String(Number(lotHead[1]));
    }
    let amounts = findAmounts(line.latin);
    // "... avec un montant de Neuf millions ... (9 262 904,40 dh TTC)" (ocr-text/pv-24): the
    // amount in digits may be on the next line.
    let joined = line.latin;
    // "Minimum 341 827,20" / "Maximum 576 504,00": a framework agreement's two amounts on two lines.
    if (amounts.length === 1 && /^\W*minimum\b/.test(f)) {
      const next = lines[k + 1];
      if (next && /^\W*maximum\b/.test(next.folded) && findAmounts(next.latin).length === 1) {
        joined = `${line.latin} ${next.latin}`;
        amounts = findAmounts(joined);
        k++;
      }
    }
    if (amounts.length === 0 && /montant\s+de/.test(f)) {
      const next = lines[k + 1];
      if (next) {
        const nextAmounts = findAmounts(next.latin);
        if (nextAmounts.length > 0) {
          joined = `${line.latin} ${next.latin}`;
          amounts = findAmounts(joined);
          k++;
        }
      }
    }
    // "LOT N°1 Le laboratoire LPEE 974 880": in a retained row after a name, a whole amount printed
    // with its groups but without decimals or currency (portal 53b0229e).
    const wholeAtEnd = amounts.length === 0 ? /^(.*\p{L}.*?)\s+(\d{1,3}(?:[ .]\d{3})+)\s*$/u.exec(line.latin) : null;
    if (wholeAtEnd && looksLikeName(cleanBidderName(wholeAtEnd[1]!.replace(/^\s*lot\s*n?\s*[°o®º]?\s*\d{1,2}\s*:?/i, '')))) {
      const start = wholeAtEnd.index + wholeAtEnd[1]!.length + 1;
      const raw = wholeAtEnd[2]!;
      amounts = [{ start, end: start + raw.length, raw, value: `${raw.replace(/\D/g, '')}.00`, notes: ['whole amount without currency'] }];
    }
    if (amounts.length === 0) {
      const name = cleanBidderName(line.latin.replace(WINNER_PREFIX, ''));
      // "Mr. Kamal Amernis pour une proposition d'honoraire de 4.2 %" (ocr-text/pv-11).
      const honoraire = /^(.*?)\s+pour\s+une\s+proposition/i.exec(name);
      if (honoraire) {
        out.push({ winner: makeWinner(cleanBidderName(honoraire[1]!), null), lot: currentLot, reference: null, openingDate: null });
        continue;
      }
      if (looksLikeName(name) && !/\b(?:montant|concurrent|soumissionnaire)/i.test(line.folded)) {
        // The name cell printed below its amount ("Unique }> 239 414,28 dhs TTC" / "}> STE
        // JUPITER FOX", companion pv-22).
        const nameless = out[out.length - 1];
        if (nameless && !nameless.winner.name && nameless.rule !== 'retained-section:neant' && pending.length === 0) nameless.winner = makeWinner(name, nameless.winner.amount, nameless.winner.amountMin);
        else pending.push(name);
      }
      continue;
    }
    // "MIN : x MAX : y" (pv-c1d8f75a) or "Minimum x" / "Maximum y" on two lines (portal 4a7c73d0).
    const min = /\bmin\s*:|\bminimum\b[\s\S]*\bmaximum\b/.test(fold(joined));
    let left = joined.slice(0, amounts[0]!.start);
    left = left.replace(/[,(]?\s*avec\s+un\s+montant\s+de.*$/i, '').replace(/\s+(?:~+\s*)*un\s+montant\s+(?:de|~+).*$/i, '');
    left = left.replace(WINNER_PREFIX, '');
    let name = cleanBidderName(left.replace(/^\s*\d{1,2}\s+(?=\S)/, '').replace(/\b(?:tf|min|max|minimum|maximum)\s*:?\s*$/i, ''));
    if (!looksLikeName(name)) name = '';
    let inferred = false;
    if (!name && pending.length > 0) {
      name = pending.join(' ');
      inferred = pending.length > 1;
    } else if (name && pending.length > 0) {
      // "... est la société: STE" / "STRADA TRAVAUX 662 400,00dh" (pv-7bba7ebe).
      const head = pending[pending.length - 1]!;
      const listed = [...lots.values()].flatMap((l) => l.deposited);
      if (/^(?:ste|soci[eé]t[eé]|la\s+soci[eé]t[eé]|groupement)$/i.test(head) || CONNECTOR_END.test(head) || isNameTail(head, name, listed)) {
        name = cleanBidderName(`${head} ${name}`);
      }
    }
    pending = [];
    // Under "TOTAL HT  TOTAL TTC", the HT read and the TTC cut by OCR ("MAPPING 403 000,00 483 0",
    // portal 678eca5e): the award amount is unknown here; the bid table may hold it (`cutAmount`).
    const cutTtc = ttcColumn === 1 && amounts.length === 1 && !min ? /^\s*(\d{1,4})(?:[ .,]\d{0,3})?\s*\|?\s*$/.exec(joined.slice(amounts[0]!.end)) : null;
    if (name && cutTtc) {
      doc.warn('lots', 'ocr_correction', `${name}: TTC amount cut to "${cutTtc[0].replace(/[\s|]+$/, '').trim()}" (HT ${amounts[0]!.value})`);
      out.push({ winner: makeWinner(name, null), lot: currentLot, reference: null, openingDate: null, inferred, cutAmount: cutTtc[1]! });
      continue;
    }
    const amount = min && amounts.length > 1 ? amounts[1]! : ttcColumn !== null && amounts.length === 2 ? amounts[ttcColumn]! : ttcAmount(joined, amounts);
    const amountMin = min && amounts.length > 1 ? amounts[0]!.value : null;
    if (!name) {
      // The name column was lost (ocr-text companion pv-05): identify the bidder by the amount.
      const byAmount = [...lots.values()].flatMap((l) => l.bids.map((b) => ({ b, l }))).filter(({ b }) => b.amount === amount.value || b.amountVerified === amount.value);
      if (byAmount.length === 1) {
        doc.warn('lots', 'inferred', `winner identified by its amount ${amount.value}: ${byAmount[0]!.b.bidder}`);
        out.push({ winner: makeWinner(byAmount[0]!.b.bidder, amount.value, amountMin), lot: byAmount[0]!.l.lotNumber, reference: null, openingDate: null, inferred: true, rule: 'retained-section:by-amount' });
      } else {
        out.push({ winner: { name: '', isGroupement: false, members: [], amount: amount.value, amountMin }, lot: currentLot, reference: null, openingDate: null });
      }
      continue;
    }
    if (amount.notes.length) doc.warn('lots', 'ocr_correction', `${name}: ${amount.raw} read as ${amount.value} (${amount.notes.join('; ')})`);
    out.push({ winner: makeWinner(name, amount.value, amountMin), lot: currentLot, reference: null, openingDate: null, inferred });
    // Further amounts on the same line (TC 1, TC 2, "Délai") are not other winners.
  }
  if (pending.length > 0 && !out.some((w) => w.lot === currentLot) && !sawAucun) {
    // A name without an amount, possibly wrapped ("LA MAROCAINE D'ASSAINISSEMENT ET" /
    // "D'ENVIRONNEMENT - Offre de base" in ocr-text/pv-06, whose amount OCR garbled).
    let name = pending[0]!;
    for (const p of pending.slice(1)) {
      if (CONNECTOR_END.test(name) || /^\s*(?:d'|de\s|du\s|des\s|et\s)/i.test(p)) name = `${name} ${p}`;
      else break;
    }
    out.push({ winner: makeWinner(cleanBidderName(name), null), lot: currentLot, reference: null, openingDate: null });
  }
  // Amount-only entries are kept only when they can be attached to a name later; the NEANT marker stays.
  return tagged().filter((w) => w.winner.name || w.winner.amount || w.rule === 'retained-section:neant');
}

/**
 * "X DH HT soit Y DH TTC", "Y TTC (X HT)", "X DH/HT Soit Y DH/TTC" (tuning 6616b167): the award amount is
 * the TTC one. Without a TTC mark the
 * first amount of the line is the retained one.
 */
function ttcAmount(line: string, amounts: AmountMatch[]): AmountMatch {
  if (amounts.length > 1) {
    const folded = fold(line);
    const ttc = amounts.find((a) => /^\s*(?:(?:dh|dhs|mad|dirhams?)\s*[/|]?\s*)?(?:en\s+)?(?:toutes\s+taxes|t\.?\s?t\.?\s?c)/.test(folded.slice(a.end, a.end + 24)));
    if (ttc) return ttc;
  }
  return amounts[0]!;
}

/**
 * The award stated in a sentence only, with no retained section or results table: "Le présent AOO
 * est attribué à la société << X >> pour un montant de ..." (portal 641bb9d9). Read only when nothing
 * else named a winner; the amount is the first one after "montant" within the next two lines.
 */
const AWARD_SENTENCE =
  /(?:attribu[eé]e?|adjug[eé]e?)\s+(?:d[eé]finitivement\s+)?(?:[aà]|au)\s+(?:la\s+soci[eé]t[eé]|l'entreprise|la\s+st[eé]|st[eé]\.?|soci[eé]t[eé]|groupement)?\s*[«<"“]*\s*(.+?)\s*[»>"”]*\s*(?:\([^)]*\)\s*)?[,;]?\s*(?:pour|avec|moyennant)\s+(?:un|le)\s+montant\b/i;

/**
 * Equal offers decided by drawing lots, the winner named only in that sentence: "Le tirage au sort
 * réalisé pour départager les concurrents ... a fait ressortir la société CHEMAOU NEGOCE." (portal
 * 0eb5b69d). The amount is then the winner's bid.
 */
const RETAIN_SENTENCE =
  /retenir\s+l'\s*offre\b.{0,200}?pr[eé]sent[eé]e\s+par\s*:?\s*(?:la\s+soci[eé]t[eé]\s+|l'entreprise\s+)?(.+?)\s*,?\s+(?:avec|pour)\s+un\s+montant\s+(?:de|global\s+de)?\b(.*)$/i;

const DRAW_SENTENCE =
  /tirage\s+au\s+sort\b.{0,240}?\b(?:a\s+fait\s+ressortir|a\s+d[eé]sign[eé]|a\s+d[eé]sign[eé]\s+comme\s+attributaire|en\s+faveur\s+de|au\s+profit\s+de)\s+(?:la\s+soci[eé]t[eé]|l'entreprise|le\s+concurrent|la\s+st[eé]|st[eé]\.?|soci[eé]t[eé])?\s*[«<"“]*\s*([^.;«»"”<>]+?)\s*[»>"”]*\s*(?:[.;]|$)/i;

function awardSentenceWinners(doc: Doc): FoundWinner[] {
  const out: FoundWinner[] = [];
  for (let i = 0; i < doc.lines.length; i++) {
    if (!/tirage\s+au\s+sort/i.test(doc.lines[i]!.latin)) continue;
    const m = DRAW_SENTENCE.exec(doc.lines.slice(i, i + 3).map((l) => l.latin).join(' '));
    if (!m) continue;
    const name = cleanBidderName(m[1]!);
    if (!looksLikeName(name)) continue;
    out.push({ winner: makeWinner(name, null), lot: null, reference: null, openingDate: null, rule: 'drawing-lots-sentence' });
    return out;
  }
  // Séance after séance, the last "décide ... de retenir l'offre ... présentée par X avec un montant
  // de ... (241 800.00DHs)" is the award, whatever earlier séances said of excessive prices
  // (portal 207ada44).
  for (let i = doc.lines.length - 1; i >= 0; i--) {
    if (!/retenir\s+l'\s*offre/i.test(doc.lines[i]!.latin)) continue;
    const window = doc.lines.slice(i, i + 6).map((l) => l.latin.trim()).join(' ');
    const m = RETAIN_SENTENCE.exec(window);
    if (!m) continue;
    const name = cleanBidderName(m[1]!);
    if (!looksLikeName(name)) continue;
    const tail = m[2]!.slice(0, 260);
    const amounts = findAmounts(tail);
    out.push({ winner: makeWinner(name, amounts.length > 0 ? ttcAmount(tail, amounts).value : null), lot: null, reference: null, openingDate: null, rule: 'retain-sentence' });
    return out;
  }
  for (let i = 0; i < doc.lines.length; i++) {
    const window = doc.lines.slice(i, i + 3).map((l) => l.latin).join(' ');
    const m = AWARD_SENTENCE.exec(doc.lines[i]!.latin) ?? AWARD_SENTENCE.exec(window);
    if (!m || m.index > doc.lines[i]!.latin.length) continue;
    const name = cleanBidderName(m[1]!);
    if (!looksLikeName(name)) continue;
    const after = window.slice(m.index + m[0].length);
    const amounts = findAmounts(after);
    const amount = amounts.length > 0 ? ttcAmount(after, amounts).value : null;
    out.push({ winner: makeWinner(name, amount), lot: null, reference: null, openingDate: null, rule: 'award-sentence' });
    break;
  }
  return out;
}

/**
 * An empty retained section whose row the layout printed further down, after the signature ("-
 * Concurrent attributaire :" / ... / "Pour le président de la commission" / "TECH-LUX SARL - Offre de
 * base" / "637.020,00 MAD", portal 10082bfe, an ONEE layout). Only after the last section that lists
 * bidders, only a name the notice listed as a bidder, and flagged: inferred from the layout.
 */
/**
 * A retained table whose rows name the lot by its object, not its number, wrapped over OCR lines
 * ("la maintenance préventive et curative des échographes MANDIM 288 000,00 MAD TTC", portal
 * 22e1e96a): each amount row goes to the lot whose own words (those of no other lot's "Lot N : ..."
 * line) it and its amount-free neighbours print, and its name is that lot's listed bidder printed
 * just before the amount. Read after the last bidder list only; one winner per lot.
 */
function lotDescriptionWinners(doc: Doc, sections: Section[], lots: Map<string, LotDraft>): FoundWinner[] {
  const words = (t: string): string[] => (t.match(/[a-z]{5,}/g) ?? []).filter((w) => !LOT_STOP_WORDS.has(w));
  const byLot = new Map<string, Set<string>>();
  for (const line of doc.lines) {
    const f = stripMarkers(line.folded);
    const m = LOT_HEADING.exec(f);
    if (!m) continue;
    const n = String(Number(m[1]));
    const set = byLot.get(n) ?? new Set<string>();
    for (const w of words(f.slice(m[0].length))) set.add(w);
    // A description wrapped onto the next line ("... diffusion des" / "images médicales (PACS)").
    const next = doc.nextNonBlank(line.index, 1);
    if (next && /^\s*\p{Ll}{2,}\s/u.test(next.latin) && !/[:]/.test(next.folded) && next.folded.length < 80) for (const w of words(next.folded)) set.add(w);
    byLot.set(n, set);
  }
  if (byLot.size < 2) return [];
  const near = (a: string, b: string): boolean => a === b || (Math.min(a.length, b.length) >= 6 && levenshtein(a, b) <= 2);
  const own = new Map<string, string[]>();
  for (const [n, set] of byLot) own.set(n, [...set].filter((w) => ![...byLot].some(([o, other]) => o !== n && [...other].some((x) => near(x, w)))));
  const lastList = Math.max(0, ...sections.filter((x) => BID_LIST_SECTIONS.has(x.kind)).map((x) => x.start));
  const found: FoundWinner[] = [];
  const done = new Set<string>();
  for (const line of doc.lines.slice(lastList + 1)) {
    const amounts = findAmounts(line.latin);
    if (amounts.length !== 1) continue;
    const neighbours = [previousNonBlank(doc, line.index), doc.nextNonBlank(line.index, 3)].filter((l): l is Line => !!l && findAmounts(l.latin).length === 0);
    const score = (n: string, text: string): number => words(text).filter((w) => own.get(n)!.some((x) => near(x, w))).length;
    const ranked = [...own.keys()]
      .map((n) => ({ n, s: 2 * score(n, line.folded) + neighbours.reduce((a, l) => a + score(n, l.folded), 0) }))
      .sort((a, b) => b.s - a.s);
    if (ranked[0]!.s === 0 || ranked[0]!.s === ranked[1]!.s || done.has(ranked[0]!.n)) continue;
    const lot = ranked[0]!.n;
    // Any listed bidder (lists OCR ran together keep their bullets, "AFNORMED e 3GCOM e - MANDIM").
    const listed = [...new Set([...lots.values()].flatMap((l) => [...l.deposited, ...l.bids.map((b) => b.bidder)]).flatMap((d) => d.split(/(?:^|\s+)[eo«•»-]\s+(?:-\s+)?/)).map(cleanValue).filter((d) => d.length >= 3))];
    const before = line.latin.slice(0, amounts[0]!.start).trim().split(/\s+/);
    let best: { name: string; s: number } | undefined;
    for (let k = 1; k <= Math.min(5, before.length); k++) {
      const tail = before.slice(before.length - k).join(' ');
      for (const d of listed) {
        const sim = nameSimilarity(tail, d);
        if (sim >= 0.75 && (!best || sim > best.s)) best = { name: d, s: sim };
      }
    }
    if (!best) continue;
    done.add(lot);
    found.push({ winner: makeWinner(best.name, amounts[0]!.value), lot, reference: null, openingDate: null, inferred: true, rule: 'lot-description-row' });
  }
  return found;
}

const LOT_STOP_WORDS = new Set(['maintenance', 'travaux', 'fourniture', 'prestations', 'acquisition', 'relatif', 'relative', 'profit', 'preventive', 'curative', 'corrective']);

function retainedOverflowWinners(doc: Doc, sections: Section[], lots: Map<string, LotDraft>): FoundWinner[] {
  const retained = sections.filter((s) => s.kind === 'retained');
  if (retained.length === 0 || lots.size > 1) return [];
  const lastListing = Math.max(...sections.filter((s) => s.kind !== 'other' && s.kind !== 'retained' && s.kind !== 'justification').map((s) => s.end), retained[retained.length - 1]!.start);
  const listed = [...lots.values()].flatMap((l) => [...l.deposited, ...l.bids.map((b) => b.bidder)]);
  if (listed.length === 0) return [];
  for (let i = lastListing; i < doc.lines.length; i++) {
    const line = doc.lines[i]!;
    const amounts = findAmounts(line.latin);
    const name = cleanBidderName(amounts.length > 0 ? line.latin.slice(0, amounts[0]!.start) : line.latin);
    if (!looksLikeName(name)) continue;
    // A listed spelling, or the name printed inside a list entry OCR ran together with others.
    const match = bestNameMatch(name, listed, (x) => x, 0.85) ?? (nameKey(name).length >= 6 && listed.some((l) => ` ${nameKey(l)} `.includes(` ${nameKey(name)} `)) ? name : undefined);
    if (!match) continue;
    let amount = amounts.length > 0 ? ttcAmount(line.latin, amounts).value : null;
    for (let k = i + 1; amount === null && k < Math.min(doc.lines.length, i + 6); k++) {
      const next = findAmounts(doc.lines[k]!.latin);
      if (next.length > 0) amount = ttcAmount(doc.lines[k]!.latin, next).value;
    }
    return [{ winner: makeWinner(match, amount), lot: null, reference: null, openingDate: null, inferred: true, rule: 'retained-overflow' }];
  }
  return [];
}

function justificationWinners(doc: Doc): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of doc.lines) {
    const m = /attributaire\s+(?:~+\s*)?du\s+(?:lot|~+)\s*n?\s*[°o]?\s*(\d{1,2})\s*:\s*(.+?)(?:\s*:\s*|$)/.exec(line.folded);
    if (!m) continue;
    const at = m.index + m[0].indexOf(m[2]!);
    out.set(String(Number(m[1])), cleanBidderName(line.latin.slice(at, at + m[2]!.length)));
  }
  return out;
}

/**
 * The bid of a retained bidder: the bid printed under the same spelling, else among the alike
 * spellings the one whose amount is the retained amount, else the most alike.
 */
function winnerBid(name: string, amount: string | null, bids: BidItem[]): BidItem | undefined {
  const exact = bids.find((b) => nameKey(b.bidder) === nameKey(name));
  if (exact) return exact;
  const alike = bids.filter((b) => nameSimilarity(name, b.bidder) >= 0.75);
  const sameAmount = amount === null ? [] : alike.filter((b) => b.amount === amount || b.amountVerified === amount);
  return sameAmount.length === 1 ? sameAmount[0] : bestNameMatch(name, bids, (b) => b.bidder, 0.75);
}

function assignWinners(
  doc: Doc,
  found: FoundWinner[],
  justified: Map<string, string>,
  declared: string[],
  lots: Map<string, LotDraft>,
  lotOf: (n: string | null) => LotDraft,
): void {
  const multi = declared.length > 1 || [...lots.keys()].filter((k) => k !== '').length > 1;
  // Winners without a lot in a multi-lot notice: the justification names the lot, or the
  // (name, amount) pair is one lot's bid, or they come in lot order.
  const unplaced = found.filter((w) => w.lot === null && w.reference === null);
  for (const w of unplaced) {
    if (!multi) continue;
    const byBid = [...lots.values()].filter((l) => l.lotNumber !== null && l.bids.some((b) => (b.amount === w.winner.amount || b.amountVerified === w.winner.amount) && (!w.winner.name || nameSimilarity(b.bidder, w.winner.name) >= 0.6)));
    if (byBid.length === 1) {
      w.lot = byBid[0]!.lotNumber;
      continue;
    }
  }
  const stillUnplaced = unplaced.filter((w) => w.lot === null);
  if (multi && stillUnplaced.length > 0) {
    const open = declared.filter((n) => !found.some((w) => w.lot === n));
    const infructueux = new Set([...lots.values()].filter((l) => l.status === 'infructueux').map((l) => l.lotNumber));
    const justifiedLots = [...justified.keys()].filter((n) => !found.some((w) => w.lot === n));
    const order = justifiedLots.length === stillUnplaced.length ? justifiedLots : open.filter((n) => !infructueux.has(n));
    if (order.length === stillUnplaced.length) {
      stillUnplaced.forEach((w, i) => (w.lot = order[i]!));
      if (order !== justifiedLots) doc.warn('lots', 'inferred', 'winners listed without lot numbers: assigned in lot order');
    }
  }
  const severalConsultations = new Set(found.map((w) => w.reference).filter(Boolean)).size > 1;
  for (const w of found) {
    let name = w.winner.name;
    const lotNumber = multi || severalConsultations ? w.lot : w.lot ?? (declared.length === 1 ? declared[0]! : null);
    const lot = severalConsultations ? lotOfConsultation(lots, w.reference, lotNumber) : lotOf(lotNumber);
    if (severalConsultations) lot.reference = w.reference;
    if (severalConsultations && w.openingDate) lot.openingDate = w.openingDate;
    if (!name && w.winner.amount === null) {
      // An "Infructueux" cell in the winner column, or "NEANT" under the retained heading.
      lot.status = 'infructueux';
      lot.winners = [];
      continue;
    }
    if (lot.status === 'infructueux' && w.rule === 'retained-section') continue;
    if (!name && lot.lotNumber !== null && justified.has(lot.lotNumber)) name = justified.get(lot.lotNumber)!;
    if (!name && w.winner.amount !== null) name = bidderOfAmount(doc, w.winner.amount, lot) ?? name;
    if (!name) {
      doc.warn('lots', 'not_found', `retained amount ${w.winner.amount} without a readable name`);
      continue;
    }
    // OCR damages a name differently in each table ("STE STRADA TRAVAUX" in the award line,
    // "STE ISTRADA TRAVAUX" in the bids of pv-7bba7ebe): keep the fullest spelling.
    const bid = winnerBid(name, w.winner.amount, lot.bids);
    // Printed exactly so in the deposit list: that entry, not an alike one ("TRAVAUXNOUR SARL AU"
    // and "SOCIETE TRAVAUX NOUR SARL AU" both bid).
    const exact = lot.deposited.find((d) => nameKey(d) === nameKey(name)) ?? (bid && lot.deposited.find((d) => nameKey(d) === nameKey(bid.bidder)));
    const listed = exact ?? bestNameMatch(name, lot.deposited, (d) => d, 0.8);
    if (exact) name = exact;
    const letters = (x: string): number => (x.match(/\p{L}/gu) ?? []).length;
    // The spelling the notice prints most often wins ("INTERFACE COMPUTER" in the deposit and admitted
    // lists, "INTERFACE COMPU'TTER" on the retained line, portal 1e677a8c); on a tie, the fullest.
    const readings = [name, bid?.bidder, listed].filter((x): x is string => !!x);
    // A reading with its case scrambled by OCR ("x oFFIcE SYSTEMS", 4a7c73d0) is no better for being repeated.
    const printed = (x: string): number => (/\p{Ll}\p{Lu}/u.test(x) ? 0 : doc.countName(x));
    // Only between damaged spellings: a reading that is the other plus words ("STE BOUKABOUS" and
    // "BOUKABOUS", ocr-text/pv-24) is the fuller one, however often the shorter one's words recur.
    const within = (x: string, y: string): boolean => ` ${nameKey(y)} `.includes(` ${nameKey(x)} `);
    const byPrinting = (a: string, b: string): boolean => !within(a, b) && !within(b, a) && printed(a) !== printed(b);
    const spelling = exact ?? readings.reduce((a, b) => (byPrinting(a, b) ? (printed(b) > printed(a) ? b : a) : letters(b) > letters(a) ? b : a));
    const rule = w.rule ?? 'results-table';
    let nameRule = rule;
    let nameConfidence = w.inferred ? 0.6 : 0.9;
    let chosen = spelling;
    let matchedBid = bid;
    const listedNames = [...lot.bids.map((b) => b.bidder), ...lot.deposited];
    if (!bid && !listed && listedNames.length > 0) {
      // The winner line is damaged (or runs over several lines) while the bidders' list has the
      // name right: take the listed spelling when one name alone is alike (issue 14).
      const near = reconcileWithBidders(name, w.winner.amount, lot);
      if (near) {
        chosen = near;
        matchedBid = lot.bids.find((b) => b.bidder === near);
        nameRule = `${rule}+bidder-list`;
        nameConfidence = 0.7;
        doc.warn('lots', 'inferred', `winner "${name}" read as the listed bidder "${near}"`);
      } else {
        nameConfidence = Math.min(nameConfidence, 0.5);
        doc.warn('lots', 'inconsistent', `winner "${name}" is not among the listed bidders`);
      }
    }
    const winner: WinnerItem = makeWinner(chosen, w.winner.amount, w.winner.amountMin);
    let amountRule = rule;
    let amountConfidence = winner.amount === null ? 0 : 0.9;
    const fromBid = matchedBid ? (matchedBid.amountVerified ?? matchedBid.amount) : null;
    if (winner.amount === null && matchedBid && (!w.cutAmount || (fromBid !== null && amountDigits(fromBid).startsWith(w.cutAmount)))) {
      winner.amount = fromBid;
      amountRule = 'bids-table';
      amountConfidence = 0.8;
      if (winner.amount) doc.warn('lots', 'inferred', `amount of ${winner.name} taken from its bid`);
    }
    if (winner.amount === null) {
      // The award amount cut by OCR so short it is no amount ("STE MAROC BUREAU 1191 0", portal
      // 0a2bf0a2): the one bid of the lot whose digits start with its first group is the amount.
      const cut = /(\d{3,4})(?:[ .,]\d{1,3})?\s*$/.exec(w.winner.name);
      const starting = cut ? [...new Set(lot.bids.flatMap((b) => [b.amountVerified, b.amount]).filter((x): x is string => !!x && amountDigits(x).startsWith(cut[1]!) && amountDigits(x).length > cut[1]!.length))] : [];
      if (starting.length === 1) {
        winner.amount = starting[0]!;
        amountRule = `${rule}+bids-table`;
        amountConfidence = 0.7;
        doc.warn('lots', 'ocr_correction', `${winner.name}: award amount cut to "${cut![0].trim()}" read as the bid ${winner.amount}`);
      }
    }
    const bidAmounts = matchedBid ? [matchedBid.amountVerified, matchedBid.amount].filter((x): x is string => !!x) : [];
    if (winner.amount && bidAmounts.length > 0 && !bidAmounts.includes(winner.amount)) {
      // The award line cut by OCR ("183 0" under a table reading "183 600,00") or with digit noise
      // ("3 3.22 992,OO"): the bid of the same bidder, read in a table, is the amount (issue 14).
      const corrected = doc.warnings.some((x) => x.code === 'ocr_correction' && x.message.startsWith(`${name}: `) && x.message.includes(`read as ${winner.amount}`));
      const damaged = bidAmounts.find((b) => amountLooksDamaged(winner.amount!, b, corrected));
      if (damaged) {
        doc.warn('lots', 'ocr_correction', `${winner.name}: award amount ${winner.amount} read as its bid ${damaged}`);
        winner.amount = damaged;
        amountRule = `${rule}+bids-table`;
        amountConfidence = 0.7;
      } else {
        doc.warn('lots', 'inconsistent', `${winner.name}: retained amount ${winner.amount} differs from its bid ${bidAmounts[0]}`);
        amountConfidence = Math.min(amountConfidence, 0.6);
      }
    }
    if (winner.amount && doc.warnings.some((x) => x.code === 'ocr_correction' && x.message.startsWith(`${name}: `) && x.message.includes(`read as ${winner.amount}`))) {
      amountConfidence = Math.min(amountConfidence, 0.7);
    }
    winner.nameSource = { ...doc.locate(winner.name), rule: nameRule, confidence: nameConfidence };
    winner.amountSource = { ...(winner.amount ? doc.locateAmount(winner.amount) : { page: null, line: null }), rule: amountRule, confidence: amountConfidence };
    if (!lot.winners.some((x) => nameSimilarity(x.name, winner.name) >= 0.9 && x.amount === winner.amount)) lot.winners.push(winner);
  }
  // Justified lots with no winner line: take the justification's name and the bid's amount.
  for (const [n, name] of justified) {
    const lot = lotOf(n);
    if (lot.winners.length > 0) continue;
    const bid = bestNameMatch(name, lot.bids, (b) => b.bidder, 0.75);
    const winner = makeWinner(bid?.bidder ?? name, bid ? (bid.amountVerified ?? bid.amount) : null);
    winner.nameSource = { ...doc.locate(name), rule: 'justification', confidence: bid ? 0.8 : 0.6 };
    winner.amountSource = { ...(winner.amount ? doc.locateAmount(winner.amount) : { page: null, line: null }), rule: 'bids-table', confidence: winner.amount ? 0.8 : 0 };
    lot.winners.push(winner);
  }
}

/**
 * The listed bidder a damaged or cut winner name stands for: a bid of the same amount whose name is
 * alike, else the one listed name it is the start of ("Groupement BRAYOU TRAVAUX /" for the
 * groupement with its second member), else the most alike name (0.6). A listed bidder whose bid has
 * another amount than the retained one is never taken.
 */
function reconcileWithBidders(name: string, amount: string | null, lot: LotDraft): string | undefined {
  const bidOf = (n: string): BidItem | undefined => lot.bids.find((b) => b.bidder === n);
  const amountAgrees = (n: string): boolean => {
    const b = bidOf(n);
    return amount === null || !b || (b.amount === null && b.amountVerified === null) || b.amount === amount || b.amountVerified === amount;
  };
  // A list entry that is several bidders run together ("STE A sis à X & STE B ; STE C") or a table
  // cell led by an identifier is no spelling of one bidder.
  // List lines OCR ran together keep their bullets read as letters ("AEBDMSA e - ARCASHIELD SARL e - ARKEOSSA", portal 4d03623e).
  const oneBidder = (n: string): boolean => !/[;]|\s&\s.*\bst[eé]\b|^\s*\d|\s[eo•]\s+[-–]\s|,\s*[^,]+\set\s+\S/i.test(n) && n.length <= Math.max(60, name.length * 2.5);
  if (amount !== null) {
    const sameAmount = lot.bids.filter((b) => oneBidder(b.bidder) && (b.amount === amount || b.amountVerified === amount) && (nameSimilarity(name, b.bidder) >= 0.5 || isNameFragment(name, b.bidder)));
    if (sameAmount.length === 1) return sameAmount[0]!.bidder;
  }
  const names = [...new Set([...lot.bids.map((b) => b.bidder), ...lot.deposited])].filter((n) => amountAgrees(n) && oneBidder(n));
  // A groupement whose name ran over several lines: the winner line holds its start only.
  if (CONNECTOR_END.test(name.trim()) || /^\s*groupement\b/i.test(name)) {
    const head = fold(cleanBidderName(name)).replace(/[\s/&,-]+$/, '');
    const starts = names.filter((n) => head.length >= 6 && fold(n).startsWith(head));
    if (starts.length >= 1 && new Set(starts.map(nameKey)).size === 1) return starts.reduce((a, b) => (b.length > a.length ? b : a));
  }
  // The retained row's first line alone, its second under a cut amount ("MAPPING" / "ENGINEERING",
  // portal 678eca5e): the one listed name it is a fragment of, before a looser likeness.
  if (amount === null) {
    const whole = uniqueFragmentMatch(name, names);
    if (whole) return whole;
  }
  return bestNameMatch(name, names, (x) => x, 0.6);
}

/**
 * The retained amount printed without its name ("Le concurrent attributaire :" over an amount
 * column, ONEE layouts, portal 53d3ff84): the one listed bidder whose bid is that amount, or the one
 * whose name is printed on a line with that amount elsewhere (the results table, a bids row).
 */
function bidderOfAmount(doc: Doc, amount: string, lot: LotDraft): string | undefined {
  const bids = lot.bids.filter((b) => b.amount === amount || b.amountVerified === amount);
  if (bids.length === 1) return bids[0]!.bidder;
  if (bids.length > 1) return undefined;
  const names = new Set<string>();
  for (const l of doc.lines) {
    const at = findAmounts(l.latin).find((a) => a.value === amount);
    if (!at) continue;
    const before = l.latin.slice(0, at.start);
    // A short list printed on the heading's line ("Liste des concurrents ayant déposé des plis : SGEE et
    // OUHAFID TRAVAUX") is one entry: its parts are candidates too.
    for (const d of lot.deposited.flatMap((x) => [x, ...x.split(/\s+et\s+/i).slice(x.includes(' et ') ? 0 : 1)])) {
      const key = nameKey(d);
      if (key.length >= 3 && ` ${nameKey(before)} `.includes(` ${key} `)) names.add(d);
    }
  }
  return names.size === 1 ? [...names][0] : undefined;
}

/** Digits of an amount, without the decimals when they are zero. */
function amountDigits(value: string): string {
  return value.replace(/\.00$/, '').replace(/\D/g, '');
}

/**
 * An award amount OCR damaged relative to the bid read in a table: its digits are a cut prefix of
 * the bid's ("1830" of 183600), or noisy (OCR corrections, a digit more or less) within two digit
 * edits of them.
 */
function amountLooksDamaged(award: string, bid: string, awardNeededCorrection: boolean): boolean {
  const a = amountDigits(award);
  const b = amountDigits(bid);
  if (a.length >= 2 && a.length < b.length && b.startsWith(a)) return true;
  // Two clean readings of equal length that differ ("2379696" / "2319606"): either may be the damaged
  // one, so the award line stands (flagged); noise that needed a correction or changed the length goes.
  if (!awardNeededCorrection && a.length === b.length) return false;
  return b.length >= 6 && Math.abs(a.length - b.length) <= 1 && levenshtein(a, b) <= 2;
}

// OCR spellings seen: "infructueux", "inferctaux" (ocr-text/pv-15); the feminine, "la procédure a été
// déclarée infructueuse" (and OCR's "infructuause", a batch-2 class).
const INFRUCTUEUX_WORD = /\binf\w{2,6}(?:ueux|eux|aux|euses?|ause)\b/;
// "صرحت اللجنة بعدم جدوى" (the commission declared it unsuccessful), in Arabic notices (a batch-1 class).
const INFRUCTUEUX_ARABIC = /عدم\s+جدوى/;
const INFRUCTUEUX = new RegExp(`${INFRUCTUEUX_WORD.source}|non\\s+attribu|sans\\s+suite|aucun\\s+concurrent|aucune\\s+offre|absence\\s+d'offre`);
const EXCESSIVE = /excessive|excessif/;
// "inftuc.tueux" glued to the words before it (portal 0c2cced8).
const INFRUCTUEUX_DAMAGED = new RegExp(`inf\\w{1,5}[.,]?\\w{0,4}ueux\\b|${INFRUCTUEUX_WORD.source}`);
const LATER_SEANCE = /\b(?:2|deux)\s*(?:e|eme|ieme)\s+s[e]ance|\bdeuxieme\s+seance|\bseconde\s+seance/;
const ANNULE = /\bannul[eé]e?s?\b|\bannulation\b|الغاء|إلغاء|ألغ/;

function applyStatuses(
  doc: Doc,
  declared: string[],
  blocks: LotBlock[],
  lots: Map<string, LotDraft>,
  lotOf: (n: string | null) => LotDraft,
): void {
  // A lot reported on its own says its own outcome: "La commission déclare l'appel d'offres
  // infructueux : offres jugées excessives." in one lot's block is about that lot only.
  for (const b of blocks) {
    const lot = lotOf(b.lot);
    if (lot.status || lot.winners.length > 0) continue;
    const text = doc.lines.slice(b.start, b.end).map((l) => l.folded).join('\n');
    if (EXCESSIVE.test(text)) lot.status = 'offre_excessive';
    else if (ANNULE.test(text.replace(/annule\s+et\s+remplace/g, ''))) lot.status = 'annule';
    else if (INFRUCTUEUX.test(text)) lot.status = 'infructueux';
  }
  // Lots named as unsuccessful: "infructueux pour les lots cités en dessous : Lot N°3, Lot N°5".
  for (const line of doc.lines) {
    if (!INFRUCTUEUX.test(line.folded)) continue;
    const lotNumbers: string[] = [];
    for (let j = line.index; j < Math.min(doc.lines.length, line.index + 8); j++) {
      const l = doc.lines[j]!;
      if (j > line.index && (isBlank(l) ? false : !/^\s*[-•]?\s*lot/i.test(l.latin))) break;
      for (const m of l.folded.matchAll(/\blot\s*n?\s*[°o]?\s*0*(\d{1,2})\b/g)) lotNumbers.push(String(Number(m[1])));
    }
    if (lotNumbers.length > 0 && /\blots\b/.test(line.folded)) {
      for (const n of lotNumbers) if (lotOf(n).winners.length === 0) lotOf(n).status = 'infructueux';
    }
  }
  const text = doc.all;
  const globalInfructueux = INFRUCTUEUX_WORD.test(text) || INFRUCTUEUX_ARABIC.test(doc.lines.map((l) => l.text).join('\n'));
  const excessive = EXCESSIVE.test(text);
  // "Cet avis annule et remplace ..." is about a previous notice, not a cancellation.
  const withoutReplace = (t: string): string => t.replace(/annule\s+et\s+remplace/g, '');
  const annule = ANNULE.test(withoutReplace(text)) || ANNULE.test(doc.lines.map((l) => l.text).join('\n'));
  const all = lots.size > 0 ? [...lots.values()] : [lotOf(declared.length === 1 ? declared[0]! : null)];
  for (const lot of all) {
    if (lot.status || lot.winners.length > 0) continue;
    if (excessive) lot.status = 'offre_excessive';
    else if (annule) lot.status = 'annule';
    else if (globalInfructueux) lot.status = 'infructueux';
    else if (lot.depositedNone && lot.bids.length === 0) {
      lot.status = 'infructueux';
      doc.warn('lots', 'inferred', 'no bidder: consultation unsuccessful');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Results tables ("Concurrent retenu | Montant de l'offre retenue" columns)

interface TableZone {
  headerStart: number;
  headerEnd: number;
  end: number;
  winnerCol: number;
  amountCol: number | null;
  lotCol: number | null;
  refCol: number | null;
  openingCol: number | null;
}

/** Sections whose tables list bids or bidders, never the award. */
const BID_LIST_SECTIONS = new Set<SectionKind>(['deposit', 'eliminated', 'admitted', 'amounts', 'verification', 'ranking']);

function resultTables(doc: Doc, sections: Section[]): TableZone[] {
  const zones: TableZone[] = [];
  for (let i = 0; i < doc.lines.length; i++) {
    const line = doc.lines[i]!;
    let m: RegExpExecArray | null = /\b(?:concurrent|attributaire)s?\s*(?:retenus?|attributaires?)?|\bresultat\b(?!s?\s+(?:definitif|de\s+l))/.exec(line.folded);
    const block = doc.lines.slice(Math.max(0, i - 3), i + 4);
    const header = block.map((l) => l.folded).join(' ');
    let winnerColGuess: number | null = null;
    if (!m && !/concurrent|retenu\b|attribu/.test(header)) {
      // The "Concurrent retenu" header unreadable (pv-c1d8f75a): the winner column is the one
      // left of "Montant de l'offre retenue".
      m = /montant\s+de\s+l'offre/.exec(line.folded);
      if (m && /retenue/.test(header) && /ouverture|objet|\blot\b|a\.?o\.?n/.test(header)) winnerColGuess = Math.max(0, m.index - 35);
      else m = null;
    }
    if (!m) continue;
    const isTable = winnerColGuess !== null || (/retenu|attribu|resultat/.test(header) && /(?:montant|ouverture|objet|\blot\b|a\.?o\.?n)/.test(header) && cells(line.latin).length >= 2);
    const narrative = /^\s*[-•]?\s*(?:concurrents?|soumissionnaires?)\s+(?:retenus?|attributaires?)\s*:?\s*$/.test(line.folded);
    if (!isTable || narrative) continue;
    // "CONCURRENTS | MONTANTS DES ACTES D'ENGAGEMENT" heads the bids table of an amounts section:
    // the "Concurrent retenu" a few lines below does not make it a results table.
    const within = sections.find((s) => s.headStart <= i && i < s.end);
    if (within && BID_LIST_SECTIONS.has(within.kind) && !/retenu|attribu/.test(line.folded)) continue;
    // Already inside a zone found from a previous header line?
    if (zones.some((z) => i <= z.headerEnd)) continue;
    const colOf = (re: RegExp): number | null => {
      for (const l of block) {
        const mm = re.exec(l.folded);
        if (mm) return mm.index;
      }
      return null;
    };
    let headerEnd = i;
    for (let j = i + 1; j < Math.min(doc.lines.length, i + 5); j++) {
      const f = doc.lines[j]!.folded;
      if (findAmounts(doc.lines[j]!.latin).length || findDates(doc.lines[j]!.text).length) break;
      if (/retenu|retenue|commission|plis|ttc|offre|lot\b|des travaux/.test(f)) headerEnd = j;
    }
    let end = doc.lines.length;
    for (let j = headerEnd + 1; j < doc.lines.length; j++) {
      // The signature block, or a letterhead footer ("Société Anonyme au capital de 27.000.000
      // Dirhams" in resultat-48636ebf is not an award).
      if (/fait\s+a\b|signature|cachet|le\s+president|page\s*\d|capital\s+de|siege\s+social|\bi\.?c\.?e\b\s*:|\btel\b\s*[.:]/.test(doc.lines[j]!.folded)) {
        end = j;
        break;
      }
    }
    zones.push({
      headerStart: i,
      headerEnd,
      end,
      winnerCol: winnerColGuess ?? m.index,
      amountCol: colOf(/montant/),
      lotCol: colOf(/\blot\b|indication/),
      refCol: colOf(/a\.?o\.?n/),
      openingCol: colOf(/ouverture/),
    });
  }
  for (let k = 0; k + 1 < zones.length; k++) zones[k]!.end = Math.min(zones[k]!.end, zones[k + 1]!.headerStart);
  return zones;
}

/** Rows of a results table: one winner per amount (or per "infructueux" cell). */
function readTableWinners(doc: Doc, z: TableZone): FoundWinner[] {
  const ruled = ruledTableWinners(doc, z);
  if (ruled) return ruled;
  const out: FoundWinner[] = [];
  const rowLines = doc.lines.slice(z.headerEnd + 1, z.end);
  let lastRef: string | null = null;
  let lastOpening: string | null = null;
  let lastLot: string | null = null;
  let prevWasMin = false;
  const usedAsName = new Set<number>();
  for (const line of rowLines) {
    const amounts = findAmounts(line.latin);
    const dates = findDates(line.text);
    const refMatch = /(?:^|\s)([A-Z]\/\d{2,3}\/\d{2})(?=\s|$)/.exec(line.latin);
    if (refMatch) lastRef = refMatch[1]!;
    if (dates.length > 0 && z.openingCol !== null) {
      const near = dates.reduce((a, b) => (Math.abs(b.start - z.openingCol!) < Math.abs(a.start - z.openingCol!) ? b : a));
      lastOpening = near.iso;
    }
    const lotCell = /(?:^|\s)lot\s*(?:n\s*[°o]?\s*)?0*(\d{1,2})\b/.exec(line.folded);
    const bareLot = z.lotCol !== null ? cells(line.latin).find((c) => /^\d{1,2}$/.test(c.text) && Math.abs(c.start - z.lotCol!) <= 10) : undefined;
    if (lotCell) lastLot = String(Number(lotCell[1]));
    else if (bareLot) lastLot = String(Number(bareLot.text));

    const infr = /\binfructu/.exec(line.folded);
    if (amounts.length === 0 && infr && infr.index >= z.winnerCol - 12) {
      out.push({ winner: { name: '', isGroupement: false, members: [], amount: null, amountMin: null }, lot: lastLot, reference: lastRef, openingDate: lastOpening });
      continue;
    }
    if (amounts.length === 0) continue;
    // MIN/MAX framework amounts may be on two lines: "MIN : 8 767 200,00" / "MAX: 20 304 000,00".
    // They are one row even when its name and reference sit on the MAX line (pv-c1d8f75a).
    const isMin = /\bmin\s*:?\s*$/.test(line.folded.slice(0, amounts[0]!.start));
    if (/\bmax\s*:?\s*$/.test(line.folded.slice(0, amounts[0]!.start)) && !isMin) {
      const prev = out[out.length - 1];
      if (prev && prev.winner.amountMin === null && prev.winner.amount && (prev.winner.name || prevWasMin)) {
        const name = prev.winner.name || tableName(doc, z, line, amounts[0]!, usedAsName);
        prev.winner = makeWinner(name, amounts[0]!.value, prev.winner.amount);
        prev.reference ??= lastRef;
        prevWasMin = false;
        continue;
      }
    }
    prevWasMin = isMin && amounts.length === 1;
    const amt = isMin && amounts.length > 1 ? amounts[1]! : amounts[0]!;
    const amtMin = isMin && amounts.length > 1 ? amounts[0]!.value : null;
    const name = tableName(doc, z, line, amounts[0]!, usedAsName);
    if (amt.notes.length) doc.warn('lots', 'ocr_correction', `${name || 'winner'}: ${amt.raw} read as ${amt.value} (${amt.notes.join('; ')})`);
    out.push({ winner: makeWinner(name, amt.value, amtMin), lot: lastLot, reference: lastRef, openingDate: lastOpening });
  }
  // "Attribué à la société X avec un montant de Y" written down one cell (resultat-48636ebf).
  const column = rowLines
    .map((l) => cells(l.latin).filter((c) => c.start >= z.winnerCol - 30).map((c) => c.text).join(' '))
    .join(' ');
  const attributed = /attribu[eé]\s+[aà]\s+(?:la\s+soci[eé]t[eé]\s+)?(.+?)\s+avec\s+un\s+montant/i.exec(column);
  if (attributed) {
    const name = cleanBidderName(attributed[1]!);
    const w = out.find((x) => x.winner.amount) ?? out[0];
    if (w && looksLikeName(name)) w.winner = makeWinner(name, w.winner.amount, w.winner.amountMin);
  }
  if (new Set(out.map((w) => w.reference).filter(Boolean)).size > 1) {
    // pv-c1d8f75a: a row whose reference cell OCR lost inherits the reference above it.
    doc.warn('lots', 'inferred', 'several consultations in one table: each row takes the last reference read above it');
    doc.confidence.reference = 0;
  }
  if (out.length > 1 && !out.some((w) => w.lot) && new Set(out.map((w) => w.reference)).size <= 1) {
    doc.warn('lots', 'ambiguous', 'several retained amounts in a table without lot numbers');
  }
  return out;
}

/**
 * A table whose columns are ruled with "|" on the header and on every row: cells are matched to
 * the header's by position, whatever their widths ("06/04/2026 à 09h00 | 13/04/2026 | 2 | X SARL |
 * 1 267 947,69 DH TTC"). A line without any "|" continues the last cell of the row above (a long
 * name or an amount wrapped: "... / SOCIETE MAGHREB HYDRO SARL | 5" / "248 077,97 DH TTC").
 * Null when the table is not ruled that way or a row does not fit, so the column-offset reading
 * takes over.
 */
function ruledTableWinners(doc: Doc, z: TableZone): FoundWinner[] | null {
  const split = (t: string): string[] => t.split('|').map((c) => c.trim());
  const header = split(doc.lines[z.headerStart]!.folded);
  if (header.length < 4) return null;
  const col = (re: RegExp): number => header.findIndex((c) => re.test(c));
  const winnerCol = col(/\b(?:concurrent|attributaire)/);
  const amountCol = col(/\bmontant/);
  const lotCol = col(/^lots?\b/);
  const openingCol = col(/ouverture/);
  if (winnerCol < 0 || amountCol < 0) return null;
  const texts: string[] = [];
  for (let j = z.headerEnd + 1; j < z.end; j++) {
    const line = doc.lines[j]!;
    if (isBlank(line)) continue;
    const last = texts.length - 1;
    // A row wrapped inside a cell, or at a rule ("... SARL AU" / "| 25 315 592,22 DH TTC").
    if (last >= 0 && (!line.latin.includes('|') || split(texts[last]!).length < header.length)) texts[last] = `${texts[last]} ${line.latin.trim()}`;
    else if (line.latin.includes('|')) texts.push(line.latin.trim());
  }
  const rows = texts.map(split);
  if (rows.length === 0 || rows.some((r) => r.length !== header.length)) return null;
  const out: FoundWinner[] = [];
  let lastLot: string | null = null;
  for (const r of rows) {
    const lotCell = lotCol >= 0 ? r[lotCol]! : '';
    const lot = /^(?:lot\s*(?:n\s*[°o]?\s*)?)?0*(\d{1,2})$/i.exec(lotCell);
    if (lot) lastLot = String(Number(lot[1]));
    else if (lotCol >= 0 && /^[-–]?$/.test(lotCell)) lastLot = null;
    const openingDate = openingCol >= 0 ? (findDates(r[openingCol]!)[0]?.iso ?? null) : null;
    const amounts = findAmounts(r[amountCol]!);
    const winnerCell = r[winnerCol]!;
    if (amounts.length === 0 && /\binfructu/i.test(fold(`${winnerCell} ${r[amountCol]}`))) {
      out.push({ winner: makeWinner('', null), lot: lastLot, reference: null, openingDate });
      continue;
    }
    if (amounts.length !== 1) return null;
    const name = cleanBidderName(winnerCell);
    if (amounts[0]!.notes.length) doc.warn('lots', 'ocr_correction', `${name || 'winner'}: ${amounts[0]!.raw} read as ${amounts[0]!.value} (${amounts[0]!.notes.join('; ')})`);
    out.push({ winner: makeWinner(looksLikeName(name) ? name : '', amounts[0]!.value), lot: lastLot, reference: null, openingDate });
  }
  if (out.length > 1 && out.some((w) => w.lot === null)) doc.warn('lots', 'ambiguous', 'several rows in a results table without lot numbers');
  return out;
}

/**
 * The winner's name of a table row: the cell left of the amount, extended with the cells of the
 * lines just above and below that sit in the same column (names wrap inside their cell:
 * "OUSSY OUMY" / "3   51 948,00 DH TTC" / "SARL AU" in resultat-e53cb45d).
 */
function tableName(doc: Doc, z: TableZone, line: Line, amount: AmountMatch, used: Set<number>): string {
  // "MAX:" / "MIN :" / "TF :" label the amount, not the winner.
  const rowCells = cells(line.latin.slice(0, amount.start)).filter((c) => !/^(?:min|max|tf|tc)\s*:?$/i.test(c.text));
  const minCol = z.winnerCol - 14;
  let core = rowCells.filter((c) => c.end > minCol && looksLikeName(c.text) && !findDates(c.text).length);
  // Without column alignment (psm 6 drops leading indentation), the last cell left of the amount.
  if (core.length === 0 && rowCells.length > 0) {
    const lastCell = rowCells[rowCells.length - 1]!;
    // The amount itself far left of its column header: this line lost its indentation
    // ("SOFA SA       596 988,00" in resultat-caab530d), so offsets say nothing.
    const shifted = (z.amountCol !== null && amount.start < z.amountCol - 25) || amount.start < z.winnerCol - 20;
    if (looksLikeName(lastCell.text) && !findDates(lastCell.text).length && (shifted || lastCell.start >= minCol - 20)) core = [lastCell];
  }
  core = core.slice(-1);
  const anchor = core[0]?.start ?? z.winnerCol;
  /** The name piece of a neighbouring line; '' when its winner cell is empty; null to stop. */
  const colCells = (l: Line): string | null => {
    if (isBlank(l) || findAmounts(l.latin).length > 0 || used.has(l.index)) return null;
    const cs = cells(l.latin).filter(
      (c) => !/^\d{1,2}$/.test(c.text) && (Math.abs(c.start - anchor) <= 8 || (c.start >= minCol && c.end <= amount.end && c.start > anchor - 8)),
    );
    // Only a lot number ("1" of resultat-329b929d) or nothing in this column: look further.
    if (cs.length === 0) return '';
    const named = cs.filter((c) => looksLikeName(c.text) && !findDates(c.text).length && !/^lot\b/i.test(c.text) && !/\binfructu/i.test(c.text));
    if (named.length !== 1) return null;
    const t = named[0]!.text;
    // Object text is mostly lower case; company names are upper case.
    const letters = t.replace(/[^\p{L}]/gu, '');
    if (letters.length > 0 && letters.replace(/\p{Lu}/gu, '').length / letters.length > 0.5) return null;
    return t;
  };
  const above: string[] = [];
  for (let j = line.index - 1; j > z.headerEnd && j >= line.index - 3; j--) {
    const t = colCells(doc.lines[j]!);
    if (t === null) break;
    if (!t) continue;
    above.unshift(t);
    used.add(j);
  }
  const below: string[] = [];
  for (let j = line.index + 1; j < z.end && j <= line.index + 3; j++) {
    const t = colCells(doc.lines[j]!);
    if (t === null) break;
    if (!t) continue;
    below.push(t);
    used.add(j);
  }
  // Unaligned OCR rows: the name's pieces are the last name cells of the neighbouring lines
  // ("... à partir de | 19/05/2026 à TIFTRAVELEC" / "1 . 13/08/2026 768 024,00" / "... 09h30 SARL"
  // in pv-a17aade3).
  if (core.length === 0) {
    const lastNameCell = (l: Line | undefined): string | null => {
      if (!l || l.index <= z.headerEnd || l.index >= z.end || isBlank(l) || findAmounts(l.latin).length > 0 || used.has(l.index)) return null;
      // Still roughly under the winner column: object text far to the left is not a name piece.
      const cs = cells(l.latin).filter((c) => looksLikeName(c.text) && !findDates(c.text).length && Math.abs(c.start - anchor) <= 40);
      const t = cs[cs.length - 1]?.text;
      if (!t || /^lot\b/i.test(t)) return null;
      const letters = t.replace(/[^\p{L}]/gu, '');
      return letters.replace(/\p{Lu}/gu, '').length / letters.length <= 0.2 ? t : null;
    };
    const up = above.length === 0 ? lastNameCell(doc.lines[line.index - 1]) : null;
    const down = below.length === 0 ? lastNameCell(doc.lines[line.index + 1]) : null;
    if (up) above.push(up);
    if (down) below.push(down);
  }
  const name = cleanBidderName([...above, ...core.map((c) => c.text), ...below].join(' '));
  return looksLikeName(name) ? name : '';
}
