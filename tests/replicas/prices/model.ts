/**
 * The deterministic price model behind the prices replica.
 *
 * Every quote is a pure function of (date, asset), so two runs on the same day produce
 * byte-identical bodies and consecutive days differ a little, like a real market. Each source
 * then applies its own small deterministic deviation (at most ±0.25%): alternative sources
 * quote the same market but never to the last digit, and a pipeline that cross-checks them
 * must tolerate that, while anything beyond ~1% is a genuine disagreement.
 *
 * Magnitudes are those of 2024 (EUR ≈ 1.08 USD, 1 USD ≈ 39.9 MRU, gold 2,300–2,700 USD/oz),
 * which is what the pipeline's sanity bounds are written against.
 */

export type ModelSource = 'erapi' | 'fawaz' | 'coingecko' | 'metalpriceapi';

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 for a `YYYY-MM-DD` date, or undefined when it is not a real date. */
export function epochDay(date: string): number | undefined {
  const m = ISO_DATE.exec(date);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2024-02-31 over to March: reject instead of silently serving another day.
  return new Date(ms).toISOString().slice(0, 10) === date ? ms / DAY_MS : undefined;
}

export function isoDate(epochDayNumber: number): string {
  return new Date(epochDayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** Unix seconds of midnight UTC at the start of `date`. */
export function midnightUnix(date: string): number {
  return requireDay(date) * 86_400;
}

function requireDay(date: string): number {
  const day = epochDay(date);
  if (day === undefined) throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return day;
}

/** FNV-1a, mapped to [0, 1): a stable pseudo-random number per key, same on every platform. */
export function unit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // One extra avalanche round: FNV alone keeps close keys ("…-01", "…-02") correlated.
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h ^ (h >>> 12)) >>> 0;
  return h / 0x1_0000_0000;
}

const wave = (day: number, period: number, phase: number) => Math.sin((2 * Math.PI * (day + phase)) / period);

/**
 * Units of fiat currency per 1 USD around 2024 (per 1 EUR for the `peg: 'EUR'` ones): pegged currencies
 * (hard pegs, currency boards, the CFA francs) do not float against their anchor.
 */
const FIAT: Record<string, { perUsd: number; peg?: 'USD' | 'EUR' }> = {
  USD: { perUsd: 1, peg: 'USD' },
  MRU: { perUsd: 39.9 },
  EUR: { perUsd: 1 / 1.08 },
  CNY: { perUsd: 7.14 },
  AED: { perUsd: 3.6725, peg: 'USD' },
  AUD: { perUsd: 1.52 },
  BDT: { perUsd: 117.5 },
  BGN: { perUsd: 1.95583, peg: 'EUR' },
  BHD: { perUsd: 0.376, peg: 'USD' },
  BRL: { perUsd: 5.2 },
  CAD: { perUsd: 1.36 },
  CHF: { perUsd: 0.88 },
  CZK: { perUsd: 23.2 },
  DKK: { perUsd: 7.46, peg: 'EUR' },
  DZD: { perUsd: 134.5 },
  EGP: { perUsd: 48.2 },
  GBP: { perUsd: 0.79 },
  GHS: { perUsd: 14.6 },
  GMD: { perUsd: 68.2 },
  GNF: { perUsd: 8600 },
  HKD: { perUsd: 7.81, peg: 'USD' },
  HUF: { perUsd: 362 },
  IDR: { perUsd: 15900 },
  ILS: { perUsd: 3.7 },
  INR: { perUsd: 83.5 },
  JPY: { perUsd: 151.5 },
  KES: { perUsd: 130 },
  KRW: { perUsd: 1352 },
  KWD: { perUsd: 0.3075 },
  MAD: { perUsd: 10.02 },
  MXN: { perUsd: 17.4 },
  MYR: { perUsd: 4.72 },
  NGN: { perUsd: 1480 },
  NOK: { perUsd: 10.75 },
  NZD: { perUsd: 1.66 },
  PHP: { perUsd: 56.8 },
  PKR: { perUsd: 278 },
  PLN: { perUsd: 4.0 },
  QAR: { perUsd: 3.64, peg: 'USD' },
  RUB: { perUsd: 92 },
  SAR: { perUsd: 3.75, peg: 'USD' },
  SEK: { perUsd: 10.6 },
  SGD: { perUsd: 1.35 },
  THB: { perUsd: 36.2 },
  TND: { perUsd: 3.12 },
  TRY: { perUsd: 32.1 },
  VND: { perUsd: 25200 },
  XAF: { perUsd: 655.957, peg: 'EUR' },
  XOF: { perUsd: 655.957, peg: 'EUR' },
  ZAR: { perUsd: 18.6 },
};

/** USD price of one unit: crypto per coin, precious metals per troy ounce, XCU and IRON per avoirdupois ounce. */
const PRICED: Record<string, (day: number) => number> = {
  BTC: (d) => 80_000 + 14_000 * wave(d, 173, 11) + 3_000 * wave(d, 41, 5) + 800 * (unit(`BTC|${d}`) - 0.5),
  ETH: (d) => 3_000 + 500 * wave(d, 151, 29) + 150 * wave(d, 37, 3) + 40 * (unit(`ETH|${d}`) - 0.5),
  USDT: (d) => 1 + 0.0006 * (unit(`USDT|${d}`) - 0.5),
  XAU: (d) => 2_500 + 140 * wave(d, 211, 17) + 40 * wave(d, 37, 9) + 10 * (unit(`XAU|${d}`) - 0.5),
  XAG: (d) => 29.5 + 2.4 * wave(d, 199, 23) + 0.6 * wave(d, 31, 2) + 0.2 * (unit(`XAG|${d}`) - 0.5),
  XPT: (d) => 960 + 50 * wave(d, 181, 7) + 15 * wave(d, 29, 4) + 5 * (unit(`XPT|${d}`) - 0.5),
  XPD: (d) => 1_000 + 80 * wave(d, 163, 13) + 25 * wave(d, 27, 8) + 8 * (unit(`XPD|${d}`) - 0.5),
  // Copper ≈ 4.30 USD/lb and iron ore ≈ 105 USD per dry tonne, expressed per ounce as MetalpriceAPI does.
  XCU: (d) => (4.3 + 0.3 * wave(d, 157, 19) + 0.05 * (unit(`XCU|${d}`) - 0.5)) / 16,
  IRON: (d) => (105 + 12 * wave(d, 143, 21) + 1.5 * (unit(`IRON|${d}`) - 0.5)) / 35_273.962,
};

export const FIAT_CODES: readonly string[] = Object.keys(FIAT);
export const CRYPTO_CODES: readonly string[] = ['BTC', 'ETH', 'USDT'];
export const PRECIOUS_METAL_CODES: readonly string[] = ['XAU', 'XAG', 'XPT', 'XPD'];
export const INDUSTRIAL_METAL_CODES: readonly string[] = ['XCU', 'IRON'];

/** Units of `code` per 1 USD on `date`, as the market would have it (no source deviation). */
export function marketPerUsd(date: string, code: string): number {
  const day = requireDay(date);
  const priced = PRICED[code];
  if (priced) return 1 / priced(day);
  const fiat = FIAT[code];
  if (!fiat) throw new Error(`the price model does not know ${code}`);
  if (fiat.peg === 'USD') return fiat.perUsd;
  if (fiat.peg === 'EUR') return fiat.perUsd * marketPerUsd(date, 'EUR');
  // MRU is a managed float: it moves about a third as much as a free-floating currency.
  const amplitude = code === 'MRU' ? 0.004 : 0.012;
  const period = 60 + Math.floor(unit(`period|${code}`) * 120);
  const drift = amplitude * wave(day, period, unit(`phase|${code}`) * period);
  const noise = (code === 'MRU' ? 0.002 : 0.004) * (unit(`${code}|${day}`) - 0.5);
  return fiat.perUsd * (1 + drift + noise);
}

/** Units of `code` per 1 USD on `date` as `source` reports it: the market value within ±0.25%. */
export function perUsd(source: ModelSource, date: string, code: string): number {
  const market = marketPerUsd(date, code);
  // Hard pegs are quoted identically everywhere; only floating quotes differ between sources.
  if (FIAT[code]?.peg === 'USD') return market;
  return market * (1 + 0.005 * (unit(`${source}|${code}|${date}`) - 0.5));
}

/** Units of `quote` per 1 unit of `base` on `date` as `source` reports it. */
export function cross(source: ModelSource, date: string, base: string, quote: string): number {
  if (base === quote) return 1;
  return perUsd(source, date, quote) / perUsd(source, date, base);
}
