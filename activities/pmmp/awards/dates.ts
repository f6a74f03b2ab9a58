import { fold } from './text';

/**
 * Dates of the notices, read into ISO "YYYY-MM-DD" (calendar dates in Africa/Casablanca: no
 * conversion, a date has no time zone). Formats seen: "13/08/2026", "05-08-2026", "10.08.2026",
 * "13 Août 2026", "Le Jeudi 13 Août 2026", "29 juillet 2026", and OCR damage such as "22t07t2026"
 * and "o4t08t2026" (scanner text layers of pv-f884eb9f and pv-96715bce) or "t3-08-2026".
 */

export interface DateMatch {
  start: number;
  end: number;
  raw: string;
  iso: string;
  notes: string[];
}

const MONTHS: Record<string, number> = {
  janvier: 1, fevrier: 2, mars: 3, avril: 4, mai: 5, juin: 6, juillet: 7, aout: 8,
  septembre: 9, octobre: 10, novembre: 11, decembre: 12,
  // Moroccan Arabic month names.
  'يناير': 1, 'فبراير': 2, 'مارس': 3, 'أبريل': 4, 'ابريل': 4, 'ماي': 5, 'يونيو': 6, 'يوليوز': 7,
  'يوليو': 7, 'غشت': 8, 'شتنبر': 9, 'أكتوبر': 10, 'اكتوبر': 10, 'نونبر': 11, 'دجنبر': 12,
};

const NUMERIC = /(?<![\p{L}\d/.,])([0-9oOIlt]{1,2}) ?([/\-.t]) ?([0-9oOIl]{1,2}) ?\2 ?((?:20|2O)[0-9oOIl]{2}|[0-9]{2})(?![\d/]|[;:,.]\d)/gu;
const TEXTUAL = /(?<![\p{L}\d])(\d{1,2})(?: ?er)? +(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre) +(20\d{2})(?!\d)/gu;
const ARABIC = /(?<!\d)(\d{1,2}) +(يناير|فبراير|مارس|أبريل|ابريل|ماي|يونيو|يوليوز|يوليو|غشت|شتنبر|أكتوبر|اكتوبر|نونبر|دجنبر) +(20\d{2})(?!\d)/gu;

/**
 * Years outside this window are OCR damage ("16/06/2096" in pv-2cfcb754) or not award dates.
 * The window is fixed rather than relative to "now" so parsing stays a pure function.
 */
const MIN_YEAR = 2000;
const MAX_YEAR = 2049;

export function findDates(line: string): DateMatch[] {
  const out: DateMatch[] = [];
  for (const m of line.matchAll(NUMERIC)) {
    const raw = m[0];
    const notes: string[] = [];
    const sep = m[2]!;
    if (sep === 't') notes.push('OCR separator "t" read as "/"');
    const [d, mo, y] = [m[1]!, m[3]!, m[4]!].map((p) => {
      const fixed = p.replace(/[oO]/g, '0').replace(/[Ilt]/g, '1');
      if (fixed !== p) notes.push(`OCR look-alike digits in "${p}"`);
      return fixed;
    });
    // Two-digit years only with a real separator: "12-08-26" yes, "12t08t26" is too uncertain.
    if (y!.length === 2 && (sep === 't' || /[^\d]/.test(m[4]!))) continue;
    const iso = toIso(Number(y!.length === 2 ? `20${y}` : y), Number(mo), Number(d));
    if (iso) out.push({ start: m.index, end: m.index + raw.length, raw, iso, notes });
  }
  const folded = fold(line);
  for (const m of folded.matchAll(TEXTUAL)) {
    const iso = toIso(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]));
    if (iso) out.push({ start: m.index, end: m.index + m[0].length, raw: line.slice(m.index, m.index + m[0].length), iso, notes: [] });
  }
  for (const m of line.matchAll(ARABIC)) {
    const iso = toIso(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]));
    if (iso) out.push({ start: m.index, end: m.index + m[0].length, raw: m[0], iso, notes: [] });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * A date whose two slashes OCR read as "1" ("17/10/2025" printed "1711012025", portal 65a04747): ten
 * digits that make no sense otherwise. Only where a label says a date follows (`text` starts after it),
 * never in running text, where ten digits may be anything.
 */
export function labelledSlashlessDate(text: string): DateMatch | undefined {
  const m = /^([\s:.,-]*)([0-3]\d)[1lI|]([01]\d)[1lI|]((?:20)\d{2})(?!\d)/.exec(text);
  if (!m) return undefined;
  const iso = toIso(Number(m[4]), Number(m[3]), Number(m[2]));
  if (!iso) return undefined;
  const start = m[1]!.length;
  return { start, end: m[0].length, raw: m[0].slice(start), iso, notes: ['OCR read the date\'s slashes as "1"'] };
}

const UNITS: Record<string, number> = {
  un: 1, une: 1, premier: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9,
  dix: 10, onze: 11, douze: 12, treize: 13, quatorze: 14, quinze: 15, seize: 16,
};
const TENS: Record<string, number> = { vingt: 20, trente: 30, quarante: 40 };

/** "dix-neuf", "vingt et un", "trente": a French number from 1 to 49, else null. */
export function frenchNumber(words: string): number | null {
  const parts = words.split(/[\s-]+/).filter((w) => w && w !== 'et');
  if (parts.length === 0 || parts.length > 3) return null;
  let n = 0;
  let i = 0;
  if (TENS[parts[0]!] !== undefined) n = TENS[parts[i++]!]!;
  // "dix-neuf": ten then a unit.
  if (parts[i] === 'dix' && i + 1 < parts.length) {
    const u = UNITS[parts[i + 1]!];
    if (u === undefined || u > 9) return null;
    n += 10 + u;
    i += 2;
  } else if (i < parts.length) {
    const u = UNITS[parts[i]!];
    if (u === undefined || (n > 0 && u > 9)) return null;
    n += u;
    i++;
  }
  return i === parts.length && n > 0 ? n : null;
}

/** A month's name read with one letter wrong ("Décombre"), else undefined. */
function fuzzyMonth(word: string): number | undefined {
  if (MONTHS[word] !== undefined) return MONTHS[word];
  if (word.length < 4) return undefined;
  const near = Object.keys(MONTHS).filter((m) => /^[a-z]+$/.test(m) && m.length === word.length && [...m].filter((c, k) => c !== word[k]).length === 1);
  return near.length === 1 ? MONTHS[near[0]!] : undefined;
}

const WORDS_DATE = /\bl'\s*an\s+deux\s+mille((?:[\s-]+(?!et\s+le\b)[a-z]+){0,4}?)\s*,?\s*(?:et\s+)?le\s+([a-z]+(?:[\s-]+(?:et[\s-]+)?[a-z]+)?)\s+(?:du\s+mois\s+(?:de\s+|d'\s*)?|de\s+|d'\s*)?([a-z]+)/;

/**
 * The formal opening of a PV, the date in words: "L'an deux mille vingt-quatre et le Dix-neuf du Mois de
 * Décembre" (portal 4537a41d, OCR printed "Décombre"). On a folded line; undefined when any part is no number.
 */
export function wordsDate(folded: string): DateMatch | undefined {
  const m = WORDS_DATE.exec(folded);
  if (!m) return undefined;
  const yearWords = m[1]!.trim();
  const year = yearWords ? frenchNumber(yearWords) : 0;
  const day = frenchNumber(m[2]!);
  const month = fuzzyMonth(m[3]!);
  if (year === null || day === null || month === undefined) return undefined;
  const iso = toIso(2000 + year, month, day);
  if (!iso) return undefined;
  const notes = MONTHS[m[3]!] === undefined ? [`month "${m[3]}" read as a month one letter away`] : [];
  return { start: m.index, end: m.index + m[0].length, raw: m[0], iso, notes };
}

export function parseDate(s: string): string | null {
  return findDates(s)[0]?.iso ?? null;
}

function toIso(y: number, m: number, d: number): string | null {
  if (!(y >= MIN_YEAR && y <= MAX_YEAR && m >= 1 && m <= 12 && d >= 1)) return null;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > days) return null;
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
