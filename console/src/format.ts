/**
 * How the console writes dates, times and numbers: one place, in the browser's language (Intl), so every
 * tab shows a moment, a day or an amount the same way. Dates use the month's name ("7 déc. 2026",
 * "Dec 7, 2026"), never a numeric day/month order a reader of another locale would misread.
 */

/** The reader's locale (the browser's language); undefined lets Intl take the same default. */
const locale: string | undefined = typeof navigator === 'undefined' ? undefined : navigator.language;

const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
// A day (YYYY-MM-DD) is a calendar day, not a moment: formatted in UTC so no time zone moves it.
const dayFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
const integerFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A moment (ISO 8601 timestamp) in the reader's time zone; a bare day as a day; '—' when absent. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  if (DAY.test(iso)) return formatDay(iso);
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTimeFormat.format(t);
}

/** A calendar day (YYYY-MM-DD, or the day of a timestamp as the API dated it); '—' when absent. */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso.slice(0, 10));
  return Number.isNaN(t) ? iso : dayFormat.format(t);
}

/** Whether a value is an ISO 8601 timestamp (a watermark may be one, or an opaque cursor). */
export function isTimestamp(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}

/** A count with the locale's grouping ("12 021", "12,021"); '—' when absent. */
export function formatCount(n: number | string | null | undefined): string {
  if (n === null || n === undefined || n === '') return '—';
  const v = Number(n);
  return Number.isFinite(v) ? integerFormat.format(v) : String(n);
}

const decimalFormats = new Map<string, Intl.NumberFormat>();
function decimals(min: number, max: number): Intl.NumberFormat {
  const key = `${min}/${max}`;
  let f = decimalFormats.get(key);
  if (!f) decimalFormats.set(key, (f = new Intl.NumberFormat(locale, { minimumFractionDigits: min, maximumFractionDigits: max })));
  return f;
}
const smallFormat = new Intl.NumberFormat(locale, { maximumSignificantDigits: 4 });

/** An amount of money with two decimals at most (none when whole), with its currency after it. */
export function formatAmount(value: string | number | null | undefined, currency: string): string {
  if (value === null || value === undefined || value === '') return '—';
  const v = Number(value);
  return Number.isFinite(v) ? `${decimals(0, 2).format(v)} ${currency}` : String(value);
}

/**
 * A price with the precision its asset class is quoted at: exchange rates to 4 decimals (39.8582), crypto
 * and metals to 2 (3,883,911.12); a price under 1 keeps 4 significant digits (0.114) so it does not read 0.11.
 */
export function formatPrice(value: string | number | null | undefined, assetClass?: string): string {
  if (value === null || value === undefined || value === '') return '—';
  const v = Number(value);
  if (!Number.isFinite(v)) return String(value);
  if (Math.abs(v) < 1 && v !== 0) return smallFormat.format(v);
  return assetClass === 'fx' ? decimals(4, 4).format(v) : decimals(2, 2).format(v);
}

/** Axis ticks: short figures (1.2M, 14K) so the axis stays narrow whatever the values. */
const compactFormat = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 2 });
export function formatCompact(n: number): string {
  return compactFormat.format(n);
}

/** A share (0.125) as a percentage with one decimal (12.5 %, the locale's way). */
const percentFormat = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
export function formatPercent(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : percentFormat.format(share);
}
