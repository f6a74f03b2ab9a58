/**
 * String normalisers shared by ingestion and clustering (QFDMOD's `shared/.../normalize.py`): what two
 * names or addresses are compared on.
 */
import { unidecode } from './text';

const pyStrOrEmpty = (s: unknown): string => (s === null || s === undefined ? '' : typeof s === 'boolean' ? (s ? 'true' : 'false') : String(s));

/** unidecode, lower, anything but [a-z0-9] → space, spaces collapsed. */
export function stringBasic(s: unknown): string {
  return unidecode(pyStrOrEmpty(s))
    .toLowerCase()
    .replace(/[^a-z0-9]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Drops words of `size` characters or fewer. */
export function stringRemoveSmallWords(s: unknown, size: number): string {
  return pyStrOrEmpty(s)
    .split(/\s+/)
    .filter((w) => w.length > size)
    .join(' ');
}

/** Unique words, sorted. */
export function stringOrderUniqueWords(s: unknown): string {
  return [...new Set(pyStrOrEmpty(s).split(/\s+/).filter(Boolean))].sort().join(' ');
}
