/**
 * The price sources: each turns one API response into quotes in MRU. Response shapes are checked
 * with zod (a changed API is a ResponseShapeError, not a wrong price); numbers are carried as exact
 * decimals from the JSON text of the number onwards.
 */
import Decimal from 'decimal.js';
import { z } from 'zod';
import type { PriceSourceId, PricesConfig } from '../../schema/config';
import type { QuoteDirection } from '../../schema/prices/tables';
import { AuthError, InvalidInputError, NotAvailableError, ResponseShapeError } from '../engine/errors';
import { requestJson } from '../engine/http';

export interface SourceQuote {
  assetCode: string;
  priceMru: Decimal;
  direction: QuoteDirection;
  /** The number the source gave for this asset and the currency it is in. */
  sourceValue: Decimal;
  sourceCurrency: string;
  sourceTimestamp: string;
}

export interface SourceFetch {
  quotes: SourceQuote[];
  /** Assets the response did not have, with why. */
  missing: { asset: string; reason: string }[];
}

export interface SourceContext {
  date: string;
  assets: string[];
  config: PricesConfig;
  /** The day's USD→MRU rate already stored by the FX step, for sources quoting in USD. */
  usdMru: () => Promise<Decimal | undefined>;
  /** Today's date (UTC) by the activity's clock: some endpoints serve only the latest prices. */
  today: string;
}

export interface PriceSource {
  id: PriceSourceId;
  fetch(ctx: SourceContext): Promise<SourceFetch>;
}

const dec = (n: number) => new Decimal(String(n));
const positiveNumber = z.number().finite();

function parseShape<S extends z.ZodType>(schema: S, body: unknown, source: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new ResponseShapeError(`${source} answered with an unexpected shape (${where})`, { source });
}

function utcDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/**
 * Quotes from a table of "units per USD" (both FX feeds have this shape): USD costs MRU/USD, any other
 * asset MRU/USD ÷ asset/USD. MRU replaced MRO in 2018 at 1 MRU = 10 MRO; some feeds still quote MRO.
 */
function quotesFromUsdRates(source: string, assets: string[], sourceTimestamp: string, perUsd: (code: string) => number | undefined): SourceFetch {
  const mru = perUsd('MRU');
  const mro = perUsd('MRO');
  const mruPerUsd = mru !== undefined ? dec(mru) : mro !== undefined ? dec(mro).div(10) : undefined;
  if (!mruPerUsd) return { quotes: [], missing: assets.map((asset) => ({ asset, reason: `${source} has no MRU (or MRO) rate` })) };
  const quotes: SourceQuote[] = [];
  const missing: SourceFetch['missing'] = [];
  for (const asset of assets) {
    if (asset === 'USD') {
      quotes.push({ assetCode: asset, priceMru: mruPerUsd, direction: 'direct', sourceValue: mruPerUsd, sourceCurrency: 'MRU', sourceTimestamp });
      continue;
    }
    const rate = perUsd(asset);
    if (rate === undefined || rate === 0) {
      missing.push({ asset, reason: rate === 0 ? `${source} gives 0 ${asset} per USD` : `${source} has no ${asset} rate` });
      continue;
    }
    quotes.push({ assetCode: asset, priceMru: mruPerUsd.div(dec(rate)), direction: 'cross', sourceValue: dec(rate), sourceCurrency: `${asset}/USD`, sourceTimestamp });
  }
  return { quotes, missing };
}

function requireUsdMru(value: Decimal | undefined, source: string, date: string): Decimal {
  if (!value) throw new NotAvailableError(`${source} quotes in USD, and no USD→MRU rate is stored for ${date} (the FX step found none)`, { source, date });
  return value;
}

// ---------------------------------------------------------------- open.er-api.com

const erapiSchema = z.discriminatedUnion('result', [
  z.object({
    result: z.literal('success'),
    time_last_update_unix: z.number().int(),
    base_code: z.string(),
    rates: z.record(z.string(), positiveNumber),
  }),
  z.object({ result: z.literal('error'), 'error-type': z.string() }),
]);

const erapi: PriceSource = {
  id: 'erapi',
  async fetch({ date, assets, config }) {
    const res = await requestJson(`${config.sources.erapi.baseUrl}/latest/USD`, { timeoutMs: config.httpTimeoutMs });
    const body = parseShape(erapiSchema, res.body, 'erapi');
    if (body.result === 'error') throw new InvalidInputError(`erapi refused the request: ${body['error-type']}`, { source: 'erapi' });
    const asOf = utcDate(body.time_last_update_unix);
    if (asOf !== date) throw new NotAvailableError(`erapi serves only its latest rates (dated ${asOf}), not ${date}`, { source: 'erapi', asOf });
    return quotesFromUsdRates('erapi', assets, new Date(body.time_last_update_unix * 1000).toISOString(), (code) => body.rates[code]);
  },
};

// ---------------------------------------------------------------- fawazahmed0 currency API

const fawazSchema = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), usd: z.record(z.string(), positiveNumber) });

const fawaz: PriceSource = {
  id: 'fawaz',
  async fetch({ date, assets, config }) {
    const res = await requestJson(`${config.sources.fawaz.baseUrl}@${date}/v1/currencies/usd.json`, { timeoutMs: config.httpTimeoutMs });
    const body = parseShape(fawazSchema, res.body, 'fawaz');
    if (body.date !== date) throw new NotAvailableError(`fawaz answered with rates dated ${body.date}, not ${date}`, { source: 'fawaz' });
    // The feed is daily and carries no time: its day is its timestamp.
    return quotesFromUsdRates('fawaz', assets, `${body.date}T00:00:00.000Z`, (code) => body.usd[code.toLowerCase()]);
  },
};

// ---------------------------------------------------------------- CoinGecko

const COINGECKO_IDS: Record<string, string> = { BTC: 'bitcoin' };
const coingeckoSchema = z.record(z.string(), z.object({ usd: positiveNumber, last_updated_at: z.number().int().optional() }));

const coingecko: PriceSource = {
  id: 'coingecko',
  async fetch({ date, assets, config, usdMru, today }) {
    if (date !== today) throw new NotAvailableError(`coingecko simple/price serves only current prices (${today}), not ${date}`, { source: 'coingecko' });
    const ids = assets.map((a) => COINGECKO_IDS[a]).filter((x): x is string => x !== undefined);
    const missing: SourceFetch['missing'] = assets.filter((a) => !COINGECKO_IDS[a]).map((asset) => ({ asset, reason: `no CoinGecko id known for ${asset}` }));
    if (ids.length === 0) return { quotes: [], missing };
    const url = `${config.sources.coingecko.baseUrl}/simple/price?ids=${ids.join(',')}&vs_currencies=usd&include_last_updated_at=true`;
    const key = config.sources.coingecko.apiKey;
    const res = await requestJson(url, { timeoutMs: config.httpTimeoutMs, headers: key ? { 'x-cg-demo-api-key': key } : {} });
    const body = parseShape(coingeckoSchema, res.body, 'coingecko');
    const rate = requireUsdMru(await usdMru(), 'coingecko', date);
    const quotes: SourceQuote[] = [];
    for (const asset of assets) {
      const id = COINGECKO_IDS[asset];
      if (!id) continue;
      const entry = body[id];
      if (!entry) {
        missing.push({ asset, reason: `coingecko has no price for ${id}` });
        continue;
      }
      const ts = entry.last_updated_at ? new Date(entry.last_updated_at * 1000).toISOString() : new Date().toISOString();
      quotes.push({ assetCode: asset, priceMru: dec(entry.usd).mul(rate), direction: 'cross', sourceValue: dec(entry.usd), sourceCurrency: 'USD', sourceTimestamp: ts });
    }
    return { quotes, missing };
  },
};

// ---------------------------------------------------------------- MetalpriceAPI

const metalpriceSchema = z.union([
  z.object({ success: z.literal(true), base: z.string(), timestamp: z.number().int(), rates: z.record(z.string(), positiveNumber) }),
  z.object({ success: z.literal(false), error: z.object({ statusCode: z.number().int(), message: z.string().optional(), info: z.string().optional() }) }),
]);

const metalpriceapi: PriceSource = {
  id: 'metalpriceapi',
  async fetch({ date, assets, config, usdMru, today }) {
    const { baseUrl, apiKey } = config.sources.metalpriceapi;
    if (!apiKey) throw new AuthError('metalpriceapi needs METALPRICEAPI_KEY', { source: 'metalpriceapi' });
    const endpoint = date === today ? 'latest' : date;
    const url = `${baseUrl}/${endpoint}?api_key=${encodeURIComponent(apiKey)}&base=USD&currencies=${assets.join(',')}`;
    const res = await requestJson(url, { timeoutMs: config.httpTimeoutMs });
    const body = parseShape(metalpriceSchema, res.body, 'metalpriceapi');
    if (!body.success) {
      const why = body.error.message ?? body.error.info ?? `error ${body.error.statusCode}`;
      // 101: missing or invalid key, 102: inactive account (documented error codes).
      if (body.error.statusCode === 101 || body.error.statusCode === 102) throw new AuthError(`metalpriceapi refused the key: ${why}`, { source: 'metalpriceapi' });
      throw new InvalidInputError(`metalpriceapi refused the request: ${why}`, { source: 'metalpriceapi', statusCode: body.error.statusCode });
    }
    const rate = requireUsdMru(await usdMru(), 'metalpriceapi', date);
    const ts = new Date(body.timestamp * 1000).toISOString();
    const quotes: SourceQuote[] = [];
    const missing: SourceFetch['missing'] = [];
    for (const asset of assets) {
      const usdPerUnit = body.rates[`USD${asset}`];
      const unitsPerUsd = body.rates[asset];
      if (usdPerUnit !== undefined) {
        quotes.push({ assetCode: asset, priceMru: dec(usdPerUnit).mul(rate), direction: 'cross', sourceValue: dec(usdPerUnit), sourceCurrency: 'USD', sourceTimestamp: ts });
      } else if (unitsPerUsd !== undefined && unitsPerUsd !== 0) {
        quotes.push({ assetCode: asset, priceMru: new Decimal(1).div(dec(unitsPerUsd)).mul(rate), direction: 'inverse', sourceValue: dec(unitsPerUsd), sourceCurrency: `${asset}/USD`, sourceTimestamp: ts });
      } else {
        missing.push({ asset, reason: `metalpriceapi has no ${asset} rate` });
      }
    }
    return { quotes, missing };
  },
};

export const PRICE_SOURCE_IMPLEMENTATIONS: Record<PriceSourceId, PriceSource> = { erapi, fawaz, coingecko, metalpriceapi };
