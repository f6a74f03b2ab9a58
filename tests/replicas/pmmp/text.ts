/**
 * Amounts and text as the portal prints them, and their normalized form for the oracle
 * (the same conventions as schema/pmmp/items.ts: `'48516000.00'`).
 */

/** 4851600000 → `48 516 000,00`; `sep` is the thousands separator (space, NBSP or U+202F on the portal). */
export function frAmount(cents: number, sep = ' '): string {
  const whole = Math.floor(cents / 100);
  const frac = String(cents % 100).padStart(2, '0');
  return `${String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, sep)},${frac}`;
}

/** 4851600000 → `48516000.00`. */
export function decimalAmount(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** `1 227 400,00`, `20 000,00 MAD` → cents; null when it is not such an amount. */
export function centsOf(text: string | null | undefined): number | null {
  if (text == null) return null;
  const t = text.replace(/MAD|DH|TTC/gi, '').replace(/[\s\u00a0\u202f]/g, '');
  const m = /^(\d+),(\d{2})$/.exec(t);
  if (!m) return null;
  return Number(m[1]) * 100 + Number(m[2]);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#039;' };

/** PRADO encodes `& < > "`; the sample shows `'` left as is in text (`d'offres`). */
export function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** For attribute values that may hold a quote. */
export function escAttr(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** NFC, whitespace collapsed, trimmed: what a reader of the page sees. */
export function squash(text: string): string {
  return text.normalize('NFC').replace(/[\s\u00a0\u202f]+/g, ' ').trim();
}

/** Lowercase without accents: how the keyword search compares. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[’']/g, ' ');
}

/** Last part of `MINISTRY / CODE - NAME`: the list shows the buyer's own name only (legacy-results-list.html row 10). */
export function buyerDenomination(full: string): string {
  const slash = full.indexOf(' / ');
  if (slash < 0) return full;
  const dash = full.indexOf(' - ', slash);
  return dash < 0 ? full.slice(slash + 3) : full.slice(dash + 3);
}

/** `CODE` of `MINISTRY / CODE - NAME`, used to build references such as `12/2024/DRH`. */
export function buyerCode(full: string): string {
  const m = / \/ ([^-]+?) - /.exec(full);
  return (m?.[1] ?? 'DA').replace(/[^A-Za-z0-9]/g, '').slice(0, 10) || 'DA';
}
