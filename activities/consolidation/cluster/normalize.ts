/**
 * QFDMOD's string normalisers for clustering (`shared/tasks/business_logic/normalize.py`), pinned by the
 * golden vectors: applied to cluster fields before blocking and TF-IDF, never to the values a parent's
 * data is picked from.
 */
import unidecode from 'unidecode';
import type { FieldNormalisation } from './config';

export type RawValue = string | number | boolean | null | undefined;

/** Python's `str(x)` for the values a source row holds (None → '', booleans as 'True'/'False'). */
function pythonStr(value: RawValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** unidecode, lower case, non-[a-z0-9] → space, collapsed spaces, trimmed. */
export function stringBasic(value: RawValue): string {
  return unidecode(pythonStr(value))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Drops the words of `size` characters or fewer. */
export function stringRemoveSmallWords(value: RawValue, size: number): string {
  return pythonStr(value)
    .split(/\s+/)
    .filter((word) => word.length > size)
    .join(' ');
}

/** The unique words, sorted (code-point order, as Python sorts str). */
export function stringOrderUniqueWords(value: RawValue): string {
  const words = [...new Set(pythonStr(value).split(/\s+/).filter((w) => w !== ''))];
  words.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return words.join(' ');
}

/** One field's normalisation, in QFDMOD's order: basic, then small words, then sorted unique words. */
export function normaliseValue(value: RawValue, options: FieldNormalisation): string {
  let out = options.stringBasic ? stringBasic(value) : pythonStr(value);
  if (options.removeWordsUpTo > 0) out = stringRemoveSmallWords(out, options.removeWordsUpTo);
  if (options.sortUniqueWords) out = stringOrderUniqueWords(out);
  return out;
}
