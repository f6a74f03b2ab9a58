import Decimal from 'decimal.js';

/**
 * French-formatted money amounts, read into exact decimal strings ("1234567.89"), never floats.
 *
 * Seen in the samples: "1 234 567,89" (space, NBSP or U+202F groups), "2.825.280,00 MAD"
 * (pv-2cfcb754), "985 284.00" (pv-ec6310d6), "95.040.40" (ocr-text companion pv-13),
 * "1,451,520,00 MAD" (ocr-text/pv-06), "660 024,00dh" (pv-7bba7ebe), OCR splits such as
 * "2.379 .696,00" (pv-d33824df) and "550.880 ,00" (ocr-text/pv-19), O/0 and I/l/1 confusions
 * such as "2OO.160,00" (the scanner text layer of pv-f884eb9f), and a lost group space in
 * "6158 253.60" (pv-064553d1, printed "6 158 253.60").
 */

export interface AmountMatch {
  start: number;
  end: number;
  raw: string;
  /** Exact decimal string with two decimals. */
  value: string;
  /** What had to be assumed to read it; empty for a clean amount. */
  notes: string[];
}

// A group separator: one space, or a dot/comma/apostrophe that OCR may have padded with a space.
const SEP = String.raw`(?: ?[.,'] ?| )`;
const DECIMAL_SEP = String.raw`(?: ?[.,] ?)`;
const WITH_DECIMALS = new RegExp(
  String.raw`(?<![\p{L}\d.,/])(\d{1,4})((?:${SEP}\d{3})*)${DECIMAL_SEP}(\d{2})(?![\d]|[.,/]\d)`,
  'gu',
);
// Whole amounts are only taken with a currency after them: a bare "18 340" is a journal number.
const WHOLE_WITH_CURRENCY = /(?<![\d.,/])(\d{1,3})((?:[ .]\d{3})+)(?= ?(?:dhs?|mad|dirhams?)\b)/gi;

// "576504,00": no group separators at all (an amount of 10 000 or more with its decimals).
const UNGROUPED = /(?<![\p{L}\d.,/])(\d{5,9})(?: ?[.,] ?)(\d{2})(?!\d|[.,/]\d)/gu;
// "933. 491 28 MAD": the decimal comma lost, the decimals still printed before the currency.
const DECIMALS_WITHOUT_COMMA = /(?<![\d.,/])(\d{1,3})((?:(?: ?[.,] ?| )\d{3})+) (\d{2})(?= ?(?:dhs?|mad|dirhams?)\b)/gi;

/** Digit look-alikes OCR puts inside numbers ("34L827,2O", "s63.L47,98"), decimals included. */
const LOOKALIKE: Record<string, string> = { O: '0', o: '0', I: '1', l: '1', L: '1' };

/**
 * Replaces digit look-alikes inside number-like runs, keeping the string length so offsets stay
 * valid. Only runs that already hold at least two real digits and end like an amount are touched.
 */
export function fixDigitLookalikes(s: string): { text: string; changed: boolean } {
  let changed = false;
  const text = s.replace(/(?<![\p{L}\d])[0-9OoIlL][0-9OoIlL .,']*[.,] ?[0-9OoIlL]{2}(?![\p{L}\d])/gu, (run) => {
    const digits = (run.match(/\d/g) ?? []).length;
    const lookalikes = (run.match(/[OoIlL]/g) ?? []).length;
    if (lookalikes === 0 || digits < 2 || digits + lookalikes < 5) return run;
    changed = true;
    return run.replace(/[OoIlL]/g, (c) => LOOKALIKE[c] ?? c);
  });
  return { text, changed };
}

export function findAmounts(input: string): AmountMatch[] {
  // Same-length replacement of the portal's thousands separators keeps offsets valid.
  const line = input.replace(/[\u00A0\u202F\u2007\u2009]/g, ' ');
  const { text, changed } = fixDigitLookalikes(line);
  const out: AmountMatch[] = [];
  for (const m of text.matchAll(WITH_DECIMALS)) {
    const lead = m[1]!;
    const groups = (m[2] ?? '').replace(/[^\d]/g, '');
    const notes: string[] = [];
    if (lead.length === 4 && groups.length > 0) notes.push('irregular digit grouping');
    if (lead.length === 4 && groups.length === 0 && /[ ]/.test(m[0])) continue;
    if (changed && /[OoIl]/.test(line.slice(m.index, m.index + m[0].length))) notes.push('OCR look-alike digits read as digits');
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      raw: line.slice(m.index, m.index + m[0].length),
      value: toDecimal(lead + groups, m[3]!),
      notes,
    });
  }
  // Looser forms only where no stricter form already read the same characters.
  const pushLoose = (m: RegExpExecArray, value: ReturnType<typeof toDecimal>, notes: string[]): void => {
    const end = m.index + m[0].length;
    if (out.some((a) => m.index < a.end && a.start < end)) return;
    out.push({ start: m.index, end, raw: line.slice(m.index, end), value, notes });
  };
  for (const m of text.matchAll(UNGROUPED)) {
    const raw = line.slice(m.index, m.index + m[0].length);
    pushLoose(m, toDecimal(m[1]!, m[2]!), ['no digit grouping', ...(changed && /[OoIlL]/.test(raw) ? ['OCR look-alike digits read as digits'] : [])]);
  }
  for (const m of text.matchAll(DECIMALS_WITHOUT_COMMA)) {
    pushLoose(m, toDecimal(m[1]! + m[2]!.replace(/[^\d]/g, ''), m[3]!), ['decimal separator lost']);
  }
  for (const m of text.matchAll(WHOLE_WITH_CURRENCY)) {
    pushLoose(m, toDecimal(m[1]! + m[2]!.replace(/[^\d]/g, ''), '00'), []);
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Parses one amount written alone ("1 234 567,89 DH TTC"); null when it is not exactly one amount. */
export function parseAmount(s: string): string | null {
  const found = findAmounts(s);
  return found.length === 1 ? found[0]!.value : null;
}

function toDecimal(intDigits: string, decimals: string): string {
  return new Decimal(`${intDigits}.${decimals}`).toFixed(2);
}
