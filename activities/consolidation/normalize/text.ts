/** Python's string helpers the normalisers rely on, with their exact semantics. */
import anyAscii from 'any-ascii';

/** Python `unidecode`: Unicode → closest ASCII. */
export const unidecode = (s: string): string => anyAscii(s);

/** `str.strip(chars)`: removes any of `chars` from both ends. */
export function stripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** `str.title()`: a letter is upper-cased after a non-letter, lower-cased after a letter. */
export function pyTitle(s: string): string {
  let out = '';
  let previousIsLetter = false;
  for (const ch of s) {
    const isLetter = /\p{L}/u.test(ch);
    out += isLetter ? (previousIsLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    previousIsLetter = isLetter;
  }
  return out;
}

/** Python `str(value)` for the scalars a source yields. */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** pandas `isna` or Python falsiness of a cell (None, NaN, '', 0, false, empty list). */
export function isBlank(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === 0 || value === false) return true;
  if (typeof value === 'number' && Number.isNaN(value)) return true;
  return Array.isArray(value) && value.length === 0;
}

/** QFDMOD's `format_libelle_to_code`: unidecode, strip, lower. */
export const formatLibelleToCode = (s: string): string => unidecode(s).trim().toLowerCase();
