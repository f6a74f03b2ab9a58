import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, afterEach, before, describe, it } from 'node:test';
import { startPricesReplica, type PriceSourceId, type PricesReplica } from './prices/index';

// node:test returns promises from describe/it that the runner itself awaits: `void` marks them as handled.

const TODAY = '2025-06-15';
const KEY = 'replica-metals-key';

let replica: PricesReplica;

before(async () => {
  replica = await startPricesReplica({ today: TODAY });
});
afterEach(() => replica.clearFaults());
after(() => replica.close());

type Body = Record<string, unknown>;

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Body,
  };
}

const erapi = (base = 'USD') => get(`${replica.baseUrls.erapi}/latest/${base}`);
const fawaz = (code = 'usd', date = 'latest', min = false) =>
  get(`${replica.baseUrls.fawaz}@${date}/v1/currencies/${code}${min ? '.min' : ''}.json`);
const coingecko = (query = 'ids=bitcoin&vs_currencies=usd&include_last_updated_at=true', headers: Record<string, string> = {}) =>
  get(`${replica.baseUrls.coingecko}/simple/price?${query}`, headers);
const metals = (path = 'latest', query = `api_key=${KEY}&base=USD&currencies=XAU,XCU,IRON`) =>
  get(`${replica.baseUrls.metalpriceapi}/${path}?${query}`);

const rates = (b: Body) => b.rates as Record<string, number>;
const fawazRates = (b: Body, base = 'usd') => b[base] as Record<string, number>;
const coin = (b: Body, id = 'bitcoin') => b[id] as Record<string, number>;

/** Relative difference, for cross-source agreement. */
const gap = (a: number, b: number) => Math.abs(a - b) / Math.min(Math.abs(a), Math.abs(b));

void describe('base URLs', () => {
  void it('are the ones a client configures, one prefix per source', () => {
    assert.match(replica.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(replica.baseUrls, {
      erapi: `${replica.url}/erapi/v6`,
      fawaz: `${replica.url}/fawaz/npm/@fawazahmed0/currency-api`,
      coingecko: `${replica.url}/coingecko/api/v3`,
      metalpriceapi: `${replica.url}/metalpriceapi/v1`,
    });
  });

  void it('answers unknown paths with a JSON 404', async () => {
    for (const path of ['/', '/nowhere', '/erapi/v6/history/USD', '/coingecko/api/v3/coins/list', '/metalpriceapi/v1/convert']) {
      const res = await get(`${replica.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(typeof res.json().error, 'string');
    }
  });
});

void describe('open.er-api.com replica', () => {
  void it('serves the real /v6/latest/{BASE} body', async () => {
    const res = await erapi();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = res.json();
    assert.deepEqual(Object.keys(body), [
      'result', 'provider', 'documentation', 'terms_of_use',
      'time_last_update_unix', 'time_last_update_utc', 'time_next_update_unix', 'time_next_update_utc',
      'time_eol_unix', 'base_code', 'rates',
    ]);
    assert.equal(body.result, 'success');
    assert.equal(body.provider, 'https://www.exchangerate-api.com');
    assert.equal(body.documentation, 'https://www.exchangerate-api.com/docs/free');
    assert.equal(body.terms_of_use, 'https://www.exchangerate-api.com/terms');
    assert.equal(body.time_eol_unix, 0);
    assert.equal(body.base_code, 'USD');

    const last = body.time_last_update_unix as number;
    const next = body.time_next_update_unix as number;
    assert.ok(Number.isInteger(last) && Number.isInteger(next) && next > last);
    assert.equal(new Date(last * 1000).toISOString().slice(0, 10), TODAY);
    assert.match(body.time_last_update_utc as string, /^Sun, 15 Jun 2025 00:0\d:\d\d \+0000$/);
    assert.equal(Date.parse(body.time_last_update_utc as string), last * 1000);
    assert.equal(Date.parse(body.time_next_update_utc as string), next * 1000);

    const r = rates(body);
    assert.equal(Object.keys(r)[0], 'USD', 'the base comes first, as in the real feed');
    assert.equal(r.USD, 1);
    for (const code of ['MRU', 'EUR', 'CNY', 'GBP', 'JPY', 'XOF', 'MAD']) assert.equal(typeof r[code], 'number', code);
    assert.ok(Object.keys(r).length >= 40);
    assert.equal(r.BTC, undefined, 'open access has no crypto');
    assert.equal(r.XAU, undefined, 'open access has no metals');
    for (const v of Object.values(r)) assert.ok(v > 0 && Math.round(v * 1e6) / 1e6 === v, `${v} has at most 6 decimals`);
  });

  void it('quotes other bases with consistent cross rates', async () => {
    const usd = rates((await erapi('USD')).json());
    const eur = (await erapi('EUR')).json();
    assert.equal(eur.base_code, 'EUR');
    const r = rates(eur);
    assert.equal(Object.keys(r)[0], 'EUR');
    assert.ok(gap(r.MRU!, usd.MRU! / usd.EUR!) < 1e-5);
    assert.ok(gap(r.USD!, 1 / usd.EUR!) < 1e-5);
  });

  void it('answers an unknown base with the real error body', async () => {
    const res = await erapi('XYZ');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { result: 'error', 'error-type': 'unsupported-code' });
  });
});

void describe('fawazahmed0 currency-api replica', () => {
  void it('serves {date, base: {code: value}} with lower-case sorted codes', async () => {
    const res = await fawaz();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['date', 'usd']);
    assert.equal(body.date, TODAY);
    const usd = fawazRates(body);
    const codes = Object.keys(usd);
    assert.deepEqual(codes, [...codes].sort());
    for (const c of codes) assert.equal(c, c.toLowerCase());
    assert.equal(usd.usd, 1);
    for (const c of ['eur', 'mru', 'cny', 'btc', 'eth', 'xau', 'xag', 'xpt', 'xpd']) assert.equal(typeof usd[c], 'number', c);
    assert.ok(usd.btc! < 0.0001, 'units of that currency per 1 USD: a small fraction of a bitcoin');
  });

  void it('has no copper nor iron, like the real currency list', async () => {
    const usd = fawazRates((await fawaz()).json());
    for (const c of ['xcu', 'iron', 'xfe']) assert.equal(usd[c], undefined, c);
  });

  void it('pretty-prints .json with tabs and minifies .min.json, same data', async () => {
    const pretty = await fawaz('usd', 'latest');
    const min = await fawaz('usd', 'latest', true);
    assert.match(pretty.text, /^\{\n\t"date": /);
    assert.ok(!min.text.includes('\n'));
    assert.deepEqual(pretty.json(), min.json());
  });

  void it('serves a past day by YYYY-MM-DD and by its npm version YYYY.M.D', async () => {
    const iso = (await fawaz('eur', '2025-01-05')).json();
    const semver = (await fawaz('eur', '2025.1.5')).json();
    assert.equal(iso.date, '2025-01-05');
    assert.deepEqual(iso, semver);
    assert.equal(fawazRates(iso, 'eur').eur, 1);
    assert.notDeepEqual(iso.eur, fawazRates((await fawaz('eur')).json(), 'eur'));
  });

  void it('answers an unpublished version or file with a jsDelivr 404', async () => {
    const future = await fawaz('usd', '2025-06-16');
    assert.equal(future.status, 404);
    assert.equal(future.text, "Couldn't find the requested release version 2025-06-16.");
    assert.equal(future.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal((await fawaz('usd', '2024-03-01')).status, 404, 'history starts 2024-03-02');
    assert.equal((await fawaz('usd', '2024-03-02')).status, 200);
    const missing = await fawaz('zzz');
    assert.equal(missing.status, 404);
    assert.match(missing.text, /^Couldn't find the requested file \/v1\/currencies\/zzz\.json in @fawazahmed0\/currency-api\.$/);
  });
});

void describe('CoinGecko replica', () => {
  void it('serves the real /simple/price body', async () => {
    const res = await coingecko();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['bitcoin']);
    assert.deepEqual(Object.keys(coin(body)), ['usd', 'last_updated_at']);
    const updated = coin(body).last_updated_at!;
    assert.ok(Number.isInteger(updated));
    assert.equal(new Date(updated * 1000).toISOString().slice(0, 10), TODAY);
  });

  void it('leaves unknown ids out, and last_updated_at unless asked', async () => {
    const body = (await coingecko('ids=bitcoin,not-a-coin,ethereum&vs_currencies=usd,eur')).json();
    assert.deepEqual(Object.keys(body), ['bitcoin', 'ethereum']);
    assert.deepEqual(Object.keys(coin(body)), ['usd', 'eur']);
    assert.deepEqual((await coingecko('ids=not-a-coin&vs_currencies=usd')).json(), {});
  });

  void it('adds market cap, volume and 24h change when asked', async () => {
    const q = 'ids=bitcoin&vs_currencies=usd&include_market_cap=true&include_24hr_vol=true&include_24hr_change=true&include_last_updated_at=true';
    const btc = coin((await coingecko(q)).json());
    assert.deepEqual(Object.keys(btc), ['usd', 'usd_market_cap', 'usd_24h_vol', 'usd_24h_change', 'last_updated_at']);
    assert.ok(btc.usd_market_cap! > btc.usd! * 1e6);
    assert.ok(Math.abs(btc.usd_24h_change!) < 20);
  });

  void it('accepts a demo API key header', async () => {
    const res = await coingecko(undefined, { 'x-cg-demo-api-key': 'CG-demo' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), (await coingecko()).json());
  });

  void it('rejects a request without vs_currencies', async () => {
    const res = await coingecko('ids=bitcoin');
    assert.equal(res.status, 422);
    assert.deepEqual(res.json(), { error: 'Missing parameter vs_currencies' });
  });
});

void describe('MetalpriceAPI replica', () => {
  void it('serves /v1/latest with each quote and its BASE+SYMBOL inverse', async () => {
    const res = await metals();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['success', 'base', 'timestamp', 'rates']);
    assert.equal(body.success, true);
    assert.equal(body.base, 'USD');
    assert.ok(Number.isInteger(body.timestamp));
    assert.equal(new Date((body.timestamp as number) * 1000).toISOString().slice(0, 10), TODAY);
    const r = rates(body);
    assert.deepEqual(Object.keys(r), ['IRON', 'XAU', 'XCU', 'USDIRON', 'USDXAU', 'USDXCU']);
    for (const s of ['IRON', 'XAU', 'XCU']) assert.ok(gap(r[s]! * r[`USD${s}`]!, 1) < 1e-6, s);
  });

  void it('serves a past day with historical: true and its date', async () => {
    const body = (await metals('2025-01-02', `api_key=${KEY}&currencies=XAU`)).json();
    assert.deepEqual(Object.keys(body), ['success', 'historical', 'date', 'timestamp', 'base', 'rates']);
    assert.equal(body.historical, true);
    assert.equal(body.date, '2025-01-02');
    assert.equal(body.timestamp, Date.UTC(2025, 0, 2, 23, 59, 59) / 1000);
    assert.deepEqual(Object.keys(rates(body)), ['XAU', 'USDXAU']);
  });

  void it('accepts the key as an X-API-KEY header too, and returns every symbol without `currencies`', async () => {
    const res = await get(`${replica.baseUrls.metalpriceapi}/latest`, { 'x-api-key': KEY });
    assert.equal(res.status, 200);
    const r = rates(res.json());
    for (const s of ['XAU', 'XAG', 'XPT', 'XPD', 'XCU', 'IRON', 'EUR', 'MRU', 'CNY']) assert.equal(typeof r[s], 'number', s);
  });

  void it('answers a missing or wrong key with the real error shape', async () => {
    for (const query of ['currencies=XAU', 'api_key=wrong&currencies=XAU']) {
      const res = await metals('latest', query);
      assert.equal(res.status, 401);
      const body = res.json();
      assert.equal(body.success, false);
      const error = body.error as { statusCode: number; message: string };
      assert.equal(error.statusCode, 101);
      assert.equal(typeof error.message, 'string');
    }
  });

  void it('only accepts the configured key', async () => {
    const other = await startPricesReplica({ today: TODAY, metalpriceApiKey: 'another-key' });
    try {
      assert.equal((await get(`${other.baseUrls.metalpriceapi}/latest?api_key=${KEY}`)).status, 401);
      assert.equal((await get(`${other.baseUrls.metalpriceapi}/latest?api_key=another-key`)).status, 200);
    } finally {
      await other.close();
    }
  });

  void it('refuses a date in the future', async () => {
    const res = await metals('2025-06-16', `api_key=${KEY}`);
    assert.equal(res.status, 400);
    assert.equal(res.json().success, false);
  });
});

void describe('price model', () => {
  void it('gives identical bodies for the same day', async () => {
    for (const call of [() => erapi(), () => fawaz(), () => coingecko(), () => metals()]) {
      const a = await call();
      const b = await call();
      assert.equal(a.text, b.text);
    }
  });

  void it('moves slightly from one day to the next', async () => {
    let today = '2025-06-15';
    const moving = await startPricesReplica({ today: () => today });
    try {
      const day1 = rates((await get(`${moving.baseUrls.erapi}/latest/USD`)).json());
      today = '2025-06-16';
      const day2 = rates((await get(`${moving.baseUrls.erapi}/latest/USD`)).json());
      assert.notEqual(day1.EUR, day2.EUR);
      assert.ok(gap(day1.EUR!, day2.EUR!) < 0.02);
      assert.ok(gap(day1.MRU!, day2.MRU!) < 0.01);
    } finally {
      await moving.close();
    }
  });

  void it('has realistic magnitudes', async () => {
    const fx = rates((await erapi()).json());
    assert.ok(fx.MRU! > 39 && fx.MRU! < 41, `1 USD = ${fx.MRU} MRU`);
    assert.ok(1 / fx.EUR! > 1.04 && 1 / fx.EUR! < 1.12, `1 EUR = ${1 / fx.EUR!} USD`);
    assert.ok(1 / fx.CNY! > 0.13 && 1 / fx.CNY! < 0.15, `1 CNY = ${1 / fx.CNY!} USD`);
    const btc = coin((await coingecko()).json()).usd!;
    assert.ok(btc > 60_000 && btc < 100_000, `BTC = ${btc} USD`);
    const m = rates((await metals()).json());
    assert.ok(m.USDXAU! > 2_300 && m.USDXAU! < 2_700, `gold = ${m.USDXAU} USD/ozt`);
    assert.ok(m.USDXCU! * 16 > 3.5 && m.USDXCU! * 16 < 5.2, `copper = ${m.USDXCU! * 16} USD/lb`);
    assert.ok(m.USDIRON! * 35_273.962 > 80 && m.USDIRON! * 35_273.962 < 130, `iron ore = ${m.USDIRON! * 35_273.962} USD/t`);
  });

  void it('keeps the four sources within 1% of each other for the same date', async () => {
    const er = rates((await erapi()).json());
    const fz = fawazRates((await fawaz()).json());
    const cg = coin((await coingecko('ids=bitcoin&vs_currencies=usd,eur,xau')).json());
    const mp = rates((await metals('latest', `api_key=${KEY}&currencies=EUR,MRU,CNY,XAU,XAG`)).json());
    for (const [code, a, b, c] of [
      ['EUR', er.EUR, fz.eur, mp.EUR],
      ['MRU', er.MRU, fz.mru, mp.MRU],
      ['CNY', er.CNY, fz.cny, mp.CNY],
    ] as const) {
      assert.ok(gap(a!, b!) < 0.01 && gap(a!, c!) < 0.01 && gap(b!, c!) < 0.01, `${code}: ${a} ${b} ${c}`);
    }
    assert.ok(gap(cg.usd!, 1 / fz.btc!) < 0.01, `BTC: ${cg.usd} vs ${1 / fz.btc!}`);
    assert.ok(gap(cg.eur! / cg.usd!, er.EUR!) < 0.01, 'CoinGecko EUR leg');
    assert.ok(gap(mp.USDXAU!, 1 / fz.xau!) < 0.01, `gold: ${mp.USDXAU} vs ${1 / fz.xau!}`);
    assert.ok(gap(mp.USDXAG!, 1 / fz.xag!) < 0.01, 'silver');
    assert.ok(gap(cg.usd! / cg.xau!, mp.USDXAU!) < 0.01, 'BTC priced in gold');
  });
});

void describe('faults', () => {
  void it('timeout: accepts the request and never answers', async () => {
    replica.setFault('erapi', { kind: 'timeout' });
    const before = replica.requestCount('erapi');
    await assert.rejects(fetch(`${replica.baseUrls.erapi}/latest/USD`, { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
    assert.equal(replica.requestCount('erapi'), before + 1);
  });

  void it("status: sends the source's error body, with Retry-After on 429", async () => {
    const cases: [PriceSourceId, number, () => Promise<Awaited<ReturnType<typeof get>>>, string | null, (b: string) => void][] = [
      ['erapi', 429, () => erapi(), '1200', (b) => assert.deepEqual(JSON.parse(b), { result: 'error', 'error-type': 'rate-limited' })],
      ['coingecko', 429, () => coingecko(), '60', (b) =>
        assert.deepEqual(JSON.parse(b), {
          status: {
            error_code: 429,
            error_message:
              "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
          },
        })],
      ['metalpriceapi', 503, () => metals(), null, (b) => assert.equal((JSON.parse(b) as Body).success, false)],
      ['fawaz', 500, () => fawaz(), null, (b) => assert.equal(b, 'Internal Server Error')],
    ];
    for (const [source, status, call, retryAfter, check] of cases) {
      replica.setFault(source, { kind: 'status', status });
      const res = await call();
      assert.equal(res.status, status, source);
      assert.equal(res.headers.get('retry-after'), retryAfter, source);
      check(res.text);
    }
  });

  void it('status: retryAfterSeconds overrides the default', async () => {
    replica.setFault('coingecko', { kind: 'status', status: 429, retryAfterSeconds: 5 });
    assert.equal((await coingecko()).headers.get('retry-after'), '5');
    replica.setFault('metalpriceapi', { kind: 'status', status: 503, retryAfterSeconds: 30 });
    assert.equal((await metals()).headers.get('retry-after'), '30');
  });

  void it('malformed: 200 with a truncated JSON body', async () => {
    for (const [source, call] of [['erapi', erapi], ['fawaz', fawaz], ['coingecko', coingecko], ['metalpriceapi', metals]] as const) {
      const good = await call();
      replica.setFault(source, { kind: 'malformed' });
      const res = await call();
      assert.equal(res.status, 200);
      assert.ok(good.text.startsWith(res.text) && res.text.length < good.text.length, source);
      assert.throws(() => JSON.parse(res.text), SyntaxError);
    }
  });

  void it('negative: that asset, and only it, turns negative', async () => {
    const good = rates((await erapi()).json());
    replica.setFault('erapi', { kind: 'negative', asset: 'EUR' });
    const r = rates((await erapi()).json());
    assert.equal(r.EUR, -good.EUR!);
    assert.equal(r.MRU, good.MRU);

    replica.setFault('coingecko', { kind: 'negative', asset: 'BTC' });
    assert.ok(coin((await coingecko()).json()).usd! < 0);

    replica.setFault('metalpriceapi', { kind: 'negative', asset: 'XAU' });
    const m = rates((await metals()).json());
    assert.ok(m.XAU! < 0 && m.USDXAU! < 0 && m.XCU! > 0);

    replica.setFault('fawaz', { kind: 'negative', asset: 'XAU' });
    assert.ok(fawazRates((await fawaz()).json()).xau! < 0);
  });

  void it('missing: that asset is absent from the body', async () => {
    replica.setFault('erapi', { kind: 'missing', asset: 'MRU' });
    const r = rates((await erapi()).json());
    assert.ok(!('MRU' in r) && 'EUR' in r);

    replica.setFault('coingecko', { kind: 'missing', asset: 'BTC' });
    assert.deepEqual((await coingecko('ids=bitcoin,ethereum&vs_currencies=usd')).json().bitcoin, undefined);

    replica.setFault('metalpriceapi', { kind: 'missing', asset: 'XAU' });
    assert.deepEqual(Object.keys(rates((await metals()).json())), ['IRON', 'XCU', 'USDIRON', 'USDXCU']);

    replica.setFault('fawaz', { kind: 'missing', asset: 'BTC' });
    const usd = fawazRates((await fawaz()).json());
    assert.ok(!('btc' in usd) && 'eur' in usd);
  });

  void it('shape: 200 with valid JSON of another shape', async () => {
    replica.setFault('erapi', { kind: 'shape' });
    const er = (await erapi()).json();
    assert.equal(er.rates, undefined);
    assert.equal(typeof er.conversion_rates, 'object');

    replica.setFault('fawaz', { kind: 'shape' });
    assert.equal((await fawaz()).json().usd, undefined);

    replica.setFault('coingecko', { kind: 'shape' });
    const cg = await coingecko();
    assert.equal(cg.status, 200);
    assert.ok(Array.isArray(JSON.parse(cg.text)));

    replica.setFault('metalpriceapi', { kind: 'shape' });
    const mp = await metals();
    assert.equal(mp.status, 200);
    assert.equal(mp.json().rates, undefined);
  });

  void it('times: affects that many requests, then the source recovers', async () => {
    replica.setFault('erapi', { kind: 'status', status: 503 }, 2);
    assert.equal((await erapi()).status, 503);
    assert.equal((await erapi()).status, 503);
    assert.equal((await erapi()).status, 200);
    assert.equal((await erapi()).status, 200);
  });

  void it('only touches the source it is set on, until cleared', async () => {
    replica.setFault('erapi', { kind: 'status', status: 500 });
    assert.equal((await fawaz()).status, 200);
    assert.equal((await erapi()).status, 500);
    replica.clearFaults();
    assert.equal((await erapi()).status, 200);
  });

  void it('rejects a malformed fault', () => {
    assert.throws(() => replica.setFault('nope' as PriceSourceId, { kind: 'timeout' }), /unknown price source/);
    assert.throws(() => replica.setFault('erapi', { kind: 'status', status: 200 }), /HTTP error status/);
    assert.throws(() => replica.setFault('erapi', { kind: 'missing', asset: '' }), /asset/);
    assert.throws(() => replica.setFault('erapi', { kind: 'shape' }, 0), /times/);
  });

  void it('counts requests per source', async () => {
    const counts = Object.fromEntries((['erapi', 'fawaz', 'coingecko', 'metalpriceapi'] as const).map((s) => [s, replica.requestCount(s)]));
    const total = replica.requestCount();
    await fawaz();
    await fawaz();
    await metals();
    assert.equal(replica.requestCount('fawaz'), counts.fawaz! + 2);
    assert.equal(replica.requestCount('metalpriceapi'), counts.metalpriceapi! + 1);
    assert.equal(replica.requestCount('erapi'), counts.erapi);
    assert.equal(replica.requestCount(), total + 3);
  });
});

void describe('control surface', () => {
  const control = (method: string, body?: unknown) =>
    fetch(`${replica.url}/__replica/faults`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  void it('POST /__replica/faults sets a fault, DELETE clears it', async () => {
    const set = await control('POST', { source: 'coingecko', fault: { kind: 'status', status: 429 }, times: 3 });
    assert.equal(set.status, 200);
    assert.deepEqual(((await set.json()) as Body).faults, { coingecko: { fault: { kind: 'status', status: 429 }, remaining: 3 } });
    assert.equal((await coingecko()).status, 429);
    const cleared = await control('DELETE');
    assert.equal(cleared.status, 200);
    assert.equal((await coingecko()).status, 200);
  });

  void it('POST /__replica/faults refuses a bad fault with a 400', async () => {
    for (const body of [{ source: 'nope', fault: { kind: 'timeout' } }, { source: 'erapi', fault: { kind: 'explode' } }, { source: 'erapi' }]) {
      const res = await control('POST', body);
      assert.equal(res.status, 400);
      assert.equal(typeof ((await res.json()) as Body).message, 'string');
    }
    const res = await fetch(`${replica.url}/__replica/faults`, { method: 'POST', body: '{not json' });
    assert.equal(res.status, 400);
    assert.equal((await erapi()).status, 200);
  });

  void it('GET /__replica/health reports the date and the request counts', async () => {
    const res = await get(`${replica.url}/__replica/health`);
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.today, TODAY);
    assert.deepEqual(Object.keys(body.requests as Body), ['erapi', 'fawaz', 'coingecko', 'metalpriceapi']);
  });
});

void describe('lifecycle', () => {
  void it('close() ends a request held by a timeout fault', async () => {
    const own = await startPricesReplica({ today: TODAY });
    own.setFault('metalpriceapi', { kind: 'timeout' });
    const pending = fetch(`${own.baseUrls.metalpriceapi}/latest?api_key=${KEY}`);
    pending.catch(() => undefined);
    while (own.requestCount('metalpriceapi') === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await own.close();
    await assert.rejects(pending);
    assert.ok(Date.now() - started < 2_000);
  });

  void it('main.ts runs the server as a process and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/replicas/prices/main.ts', '--port', '0', '--today', TODAY], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const m = /^prices replica listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
      assert.ok(m?.[1], line);
      const health = (await get(`${m[1]}/__replica/health`)).json();
      assert.equal(health.today, TODAY);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
