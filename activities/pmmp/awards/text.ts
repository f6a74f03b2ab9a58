/**
 * Text normalization shared by the award parser and the accuracy report. Pure functions.
 */

const BIDI_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069\u061C\uFEFF\u200B]/g;
// NBSP and U+202F are what the portal and Word use as thousands separators (samples README).
const ODD_SPACES = /[\u00A0\u202F\u2007\u2009\u200A\u2002-\u2006\u3000\t]/g;
const ARABIC_RUN = /[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]+(?:[\s\u0660-\u0669]+[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]+)*/g;

/**
 * Unicode and typography clean-up that keeps the line structure (and, apart from removed
 * invisible characters, the column positions) of pdftotext -layout / tesseract output.
 */
export function normalizeText(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(BIDI_CONTROLS, '')
    .replace(ODD_SPACES, ' ')
    .replace(/[’‘`´ʼʹ′]/g, "'")
    .replace(/[“”„″]/g, '"')
    .replace(/[–—‑‐−]/g, '-')
    .replace(/[ﬀ-ﬆ]/g, (c) => c.normalize('NFKC'))
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660));
}

/**
 * The view the French rules read: every Arabic run becomes "~". Tesseract with fra+ara turns
 * short French words into Arabic letters ("Extrait نال procès-verbal عل la séance" in
 * ocr-text/pv-03.txt); a placeholder keeps the word count so "des travaux ~ commission" still
 * matches, and Arabic letterheads stop looking like names.
 */
export function latinView(text: string): string {
  return text.replace(ARABIC_RUN, (m) => '~'.repeat(m.length));
}

export function hasArabic(text: string): boolean {
  return /[\u0600-\u06FF]/.test(text);
}

/**
 * Lower case without diacritics, one output character per input character, so offsets found in
 * the folded string are valid in the original.
 */
export function fold(s: string): string {
  // ASCII folds to its lower case (NFD leaves it as it is): most lines of a notice are only that.
  if (ASCII_ONLY.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    if (ch.length !== 1) {
      out += ch;
      continue;
    }
    let folded = FOLDED.get(ch);
    if (folded === undefined) {
      const base = ch.normalize('NFD').charAt(0);
      const lower = base.toLowerCase();
      // Characters whose lower case is longer (İ) would shift offsets: keep them as they are.
      folded = lower.length === 1 ? lower : ch;
      FOLDED.set(ch, folded);
    }
    out += folded;
  }
  return out;
}

const ASCII_ONLY = /^\p{ASCII}*$/u;
/** `fold` of one UTF-16 unit, computed once (at most 65,536 entries): normalize per character was its cost. */
const FOLDED = new Map<string, string>();

/** Collapses whitespace and trims punctuation left over by table borders and list markers. */
export function cleanValue(s: string): string {
  return s
    .replace(/~/g, ' ')
    .replace(/\s+/g, ' ')
    // Word's Symbol-font bullet (U+F0B7, portal 172118e5) and other private-use or arrow bullets.
    .replace(/^[\s|:;,.\-_=*•·▪>®©[\](){}<»\uE000-\uF8FF➢✓✔■●◆❖►▶➤❑]+/, '')
    .replace(/[\s|:;,_=*[\]{}<>'"]+$/, '')
    .replace(/\s*[.,]$/, '')
    .replace(/[\s'"]+$/, '')
    .trim();
}

export interface Line {
  /** Index in the document's line array. */
  index: number;
  /** Normalized text (Arabic kept). */
  text: string;
  /** Latin view of text (Arabic runs as "~"), same length. */
  latin: string;
  /** fold(latin), same length. */
  folded: string;
  page: number;
}

export function toLines(text: string): Line[] {
  const lines: Line[] = [];
  let page = 1;
  const raw = normalizeText(text).split('\n');
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i]!;
    if (t.includes('\f')) {
      page++;
      t = t.replace(/\f/g, '');
    }
    const latin = latinView(t);
    lines.push({ index: lines.length, text: t, latin, folded: fold(latin), page });
  }
  return lines;
}

export function isBlank(line: Line | undefined): boolean {
  return !line || line.latin.replace(/[~\s|_\-.,:;'"!*]+/g, '').length === 0;
}

/**
 * Splits a layout line into cells: runs of two or more spaces or a table border ("|") separate
 * columns in both pdftotext -layout and tesseract (psm 6 with preserve_interword_spaces).
 */
export interface Cell {
  start: number;
  end: number;
  text: string;
}

export function cells(latin: string): Cell[] {
  const out: Cell[] = [];
  for (const run of latin.matchAll(/\S+(?: \S+)*/g)) {
    let offset = run.index;
    for (const part of run[0].split('|')) {
      const lead = part.length - part.trimStart().length;
      const text = part.trim();
      if (text && /[\p{L}\p{N}]/u.test(text.replace(/~/g, ''))) {
        out.push({ start: offset + lead, end: offset + lead + text.length, text });
      }
      offset += part.length + 1;
    }
  }
  return out;
}

/**
 * OCR that lost the page layout prints one word per line (seen in the portal's OCR texts): 40 or more
 * non-blank lines, 80 % of them a single token.
 */
export function isWordPerLine(text: string): boolean {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\f/g, '').trim())
    .filter(Boolean);
  return lines.length >= 40 && lines.filter((l) => !/\s/.test(l)).length / lines.length >= 0.8;
}
