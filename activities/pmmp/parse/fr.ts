/**
 * French-formatted text, amounts and dates as marchespublics.gov.ma prints them.
 *
 * Amounts leave here as exact decimal strings (`'48516000.00'`), never as floats: they are
 * stored as `numeric` and compared to the cent. Dates are wall-clock times in Africa/Casablanca;
 * Morocco runs UTC+1 most of the year but UTC+0 around Ramadan (tzdata encodes the announced
 * switches), so the offset comes from the IANA zone, never from a constant.
 */
import Decimal from 'decimal.js';
import { DateTime } from 'luxon';

export const PORTAL_ZONE = 'Africa/Casablanca';

// Every space the portal (or a copy-paste into it) produces: line breaks, NBSP, narrow NBSP
// (U+202F, French typography before ':' and as thousands separator), figure/thin spaces, tabs.
const SPACES = /[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]+/gu;
// Zero-width characters that sneak into copy-pasted references and break equality.
const ZERO_WIDTH = /[\u200b-\u200d\u2060]/gu;

/** The characters SPACES and `trim` remove (JavaScript's `\s` and the typographic spaces above). */
function isSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Whether normalizeSpace has more to do than NFC: a space to trim or collapse, a line break, tab or
 * typographic space, a zero-width character. Most values a page gives (85% of a detail page's) are
 * already clean, and one look at their characters costs a third of the two regular expressions.
 */
function needsSpaceWork(text: string): boolean {
  const n = text.length;
  if (n === 0) return false;
  if (isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(n - 1))) return true;
  let previousSpace = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) {
      if (previousSpace) return true;
      previousSpace = true;
      continue;
    }
    previousSpace = false;
    if (c < 128 ? c >= 9 && c <= 13 : isSpace(c) || (c >= 0x200b && c <= 0x200d) || c === 0x2060) return true;
  }
  return false;
}

/** NFC, every kind of whitespace collapsed to one ASCII space, trimmed. */
export function normalizeSpace(text: string | null | undefined): string {
  if (text == null) return '';
  if (!needsSpaceWork(text)) return text.normalize('NFC');
  return text.normalize('NFC').replace(ZERO_WIDTH, '').replace(SPACES, ' ').trim();
}

/**
 * The Atexo referential widgets render an info-bubble whose placeholder text is `@@@@`; whoever
 * reads a whole `div.line` gets it glued to the value (`Estimation (en Dhs TTC) * : @@@@`).
 */
export function stripPlaceholder(text: string): string {
  return text.replace(/@{2,}/g, ' ');
}

/** A displayed value, or null when the portal shows nothing or its "absent" dash. */
export function cleanValue(text: string | null | undefined): string | null {
  const v = normalizeSpace(stripPlaceholder(text ?? ''));
  if (v === '' || /^[-–—]+$/.test(v)) return null;
  return v;
}

/** Lowercase, without accents or punctuation: how visible labels are compared. */
export function foldLabel(text: string): string {
  return normalizeSpace(text)
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[’']/g, ' ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const CURRENCY_NOISE = /\b(?:mad|dhs?|dirhams?|ttc|ht|hors\s+taxes?)\b\.?/giu;

/**
 * `48 516 000,00` → `'48516000.00'`. Accepts NBSP / U+202F / spaces / dots as thousands
 * separators, a comma (or a lone dot with one or two digits) as decimal separator, and
 * `MAD`, `DH`, `Dhs`, `TTC`, `HT`, `@@@@` around the number. Returns null for absent values
 * (`-`, empty) and for anything that is not a single number, rather than guessing.
 * At least two decimals are kept; more are kept as given (exact, never rounded).
 */
export function parseFrenchAmount(text: string | null | undefined): string | null {
  if (text == null) return null;
  const t = normalizeSpace(normalizeSpace(stripPlaceholder(text)).replace(CURRENCY_NOISE, ' '));
  if (t === '' || /^[-–—]+$/.test(t)) return null;
  if (!/^\d[\d .,]*$/.test(t)) return null;

  let intPart: string;
  let fracPart = '';
  const commas = t.split(',');
  if (commas.length > 2) return null;
  if (commas.length === 2) {
    intPart = commas[0] ?? '';
    fracPart = (commas[1] ?? '').trim();
    if (!/^\d+$/.test(fracPart)) return null;
  } else {
    // No comma: "314304.00" (dot decimals, seen in /bdc/ exports) versus "1.450.200" (dot groups).
    const m = /^(.*)\.(\d{1,2})$/.exec(t);
    if (m && !(m[1] ?? '').includes('.')) {
      intPart = m[1] ?? '';
      fracPart = m[2] ?? '';
    } else {
      intPart = t;
    }
  }
  intPart = intPart.trim();
  // Groups after the first must be exactly three digits, whatever the separator.
  if (!/^\d{1,3}(?:[ .]?\d{3})*$/.test(intPart) && !/^\d+$/.test(intPart)) return null;
  const digits = intPart.replace(/[ .]/g, '');
  if (digits === '') return null;

  const value = new Decimal(fracPart ? `${digits}.${fracPart}` : digits);
  return value.decimalPlaces() > 2 ? value.toFixed() : value.toFixed(2);
}

const DATE_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s*(?:à|a)?\s*(\d{1,2})\s*[:hH]\s*(\d{2})(?:\s*:\s*(\d{2}))?)?$/u;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour?: number;
  minute?: number;
  second?: number;
}

function readWallClock(text: string | null | undefined): WallClock | null {
  if (text == null) return null;
  const t = normalizeSpace(stripPlaceholder(text));
  const m = DATE_TIME.exec(t);
  if (!m) return null;
  const [, d, mo, y, h, mi, s] = m;
  const clock: WallClock = { year: Number(y), month: Number(mo), day: Number(d) };
  if (h !== undefined && mi !== undefined) {
    clock.hour = Number(h);
    clock.minute = Number(mi);
    clock.second = s === undefined ? 0 : Number(s);
  }
  return clock;
}

/**
 * `dd/mm/yyyy` or `dd/mm/yyyy HH:MM` (also `HHhMM`, `à HH:MM`), read as wall-clock time in
 * Africa/Casablanca, → ISO-8601 with that instant's offset: `'2025-10-30T11:00:00+01:00'`,
 * `'2026-03-01T10:00:00+00:00'` (Ramadan). A date without time means midnight.
 * Null for absent or impossible dates (31/02). A time inside the spring-forward gap
 * does not exist; luxon moves it forward by the gap, as a wall clock would.
 */
export function parseCasablancaDate(text: string | null | undefined): string | null {
  return text == null ? null : CASABLANCA_DATES(text);
}

/**
 * A bounded cache in front of a pure reader of portal dates: the zone's offset costs luxon an Intl
 * formatting per date, and a window's dates repeat.
 */
function memoized(read: (text: string) => string | null): (text: string) => string | null {
  const cache = new Map<string, string | null>();
  return (text) => {
    let value = cache.get(text);
    if (value === undefined) {
      value = read(text);
      if (cache.size >= 10_000) cache.clear();
      cache.set(text, value);
    }
    return value;
  };
}
const CASABLANCA_DATES = memoized(readCasablancaDate);

function readCasablancaDate(text: string): string | null {
  const c = readWallClock(text);
  if (!c) return null;
  const dt = DateTime.fromObject(
    { year: c.year, month: c.month, day: c.day, hour: c.hour ?? 0, minute: c.minute ?? 0, second: c.second ?? 0 },
    { zone: PORTAL_ZONE },
  );
  if (!dt.isValid) return null;
  // luxon accepts hour 24 as the next day's midnight; the portal never means that.
  if (dt.day !== c.day || dt.month !== c.month) return null;
  return dt.toISO({ suppressMilliseconds: true, includeOffset: true });
}

/** `dd/mm/yyyy` (a trailing time is ignored) → `'YYYY-MM-DD'`, a calendar day with no zone. */
export function parseCasablancaDay(text: string | null | undefined): string | null {
  return text == null ? null : CASABLANCA_DAYS(text);
}
const CASABLANCA_DAYS = memoized(readCasablancaDay);

function readCasablancaDay(text: string): string | null {
  const c = readWallClock(text);
  if (!c) return null;
  const dt = DateTime.fromObject({ year: c.year, month: c.month, day: c.day }, { zone: PORTAL_ZONE });
  if (!dt.isValid) return null;
  return dt.toISODate();
}

/** `Oui` / `Non` → boolean; anything else null. */
export function parseOuiNon(text: string | null | undefined): boolean | null {
  const f = foldLabel(text ?? '');
  if (f === 'oui') return true;
  if (f === 'non') return false;
  return null;
}

/** First integer in the text (`"4 lots"` → 4), or null. */
export function parseInteger(text: string | null | undefined): number | null {
  const m = /\d[\d\u00a0\u202f ]*/u.exec(text ?? '');
  if (!m) return null;
  const n = Number(m[0].replace(/\D/g, ''));
  return Number.isSafeInteger(n) ? n : null;
}

export const CONTACT_REDACTED = '[contact retiré]';

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// Moroccan numbers as buyers type them: 05 23 31 06 98/99, (212) 05 22 66 80 21,
// +212539940208, 00.212.05.22 66 85 00. Dates and amounts never start this way.
const PHONE =
  /(?:(?:(?:\+|00)[\s.]?212|\(\s?\+?212\s?\))[\s.]?0?[5-8]|(?<![\d/.,])0[5-8])(?:[\s.-]?\d){8}(?:\s?\/\s?\d{2})*(?![\d/])/gu;
const CONTACT_PERSON = /\b(?:la\s+|les\s+)?personnes?\s+(?:à|a)\s+contacter\b.*$/isu;

/**
 * Free-text fields (addresses, site-visit places) sometimes name a contact person with a
 * phone or email (legacy-consultation-detail.excerpt.html: "Personne à contacter au sujet de
 * la visite des lieux est M. …"). Personal contacts stay out of storage, so emails, phone
 * numbers and a trailing "personne à contacter …" clause are replaced by a marker.
 */
export function scrubContacts(text: string | null): string | null {
  if (text == null) return null;
  // Each pattern is tried only where its literal part occurs: EMAIL scanned from every letter of a
  // text without '@' was most of a detail page's scrubbing.
  let redacted = text;
  if (/contacter/i.test(redacted)) redacted = redacted.replace(CONTACT_PERSON, CONTACT_REDACTED);
  if (redacted.includes('@')) redacted = redacted.replace(EMAIL, CONTACT_REDACTED);
  if (/212|0[5-8]/.test(redacted)) redacted = redacted.replace(PHONE, CONTACT_REDACTED);
  const scrubbed = normalizeSpace(redacted);
  return scrubbed === '' ? null : scrubbed;
}
