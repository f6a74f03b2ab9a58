/**
 * The prices pipeline end to end, on the real Temporal dev server, PostgreSQL and FerretDB, against
 * the local replicas of the four price APIs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pricesArchive, pricesDaily, type PricesDailyResult } from '../../workflows/prices';
import { createPricesWorld, type PricesWorld } from './harness';

let world: PricesWorld;

before(async () => {
  world = await createPricesWorld();
});

after(async () => {
  await world?.close();
});

async function runDaily(date: string, envOverrides: Record<string, string | undefined> = {}, id = `prices-daily-${date}-${Math.random().toString(36).slice(2, 8)}`) {
  world.today = date;
  return world.withWorker(
    () => world.temporal.client.workflow.execute(pricesDaily, { taskQueue: world.taskQueue, workflowId: id, args: [{ date }] }),
    envOverrides,
  );
}

async function quotes(date: string) {
  return world.db.sql<{ asset_code: string; price_mru: string; source: string; direction: string; updated_at: Date }[]>`
    select asset_code, price_mru::text as price_mru, source, direction, updated_at from prices.quotes where quote_date = ${date} order by asset_code`;
}

describe('pricesDaily', () => {
  const day = '2026-03-10';
  let first: PricesDailyResult;

  test('a full run saves every asset from its primary source and archives the window', async () => {
    first = await runDaily(day);
    assert.equal(first.outcome, 'success', JSON.stringify(first, null, 2));
    assert.deepEqual(first.counts, { requested: 7, saved: 7, inserted: 7, updated: 0, unchanged: 0, rejected: 0 });
    const rows = await quotes(day);
    assert.deepEqual(
      rows.map((r) => [r.asset_code, r.source]),
      [['BTC', 'coingecko'], ['CNY', 'erapi'], ['EUR', 'erapi'], ['IRON', 'metalpriceapi'], ['USD', 'erapi'], ['XAU', 'metalpriceapi'], ['XCU', 'metalpriceapi']],
    );
    const usd = Number(rows.find((r) => r.asset_code === 'USD')!.price_mru);
    assert.ok(usd > 35 && usd < 45, `USD in MRU looks wrong: ${usd}`);
    for (const r of rows) assert.match(r.price_mru, /^\d+\.\d{8}$/, 'prices are exact decimals with 8 places');
    assert.equal(rows.find((r) => r.asset_code === 'USD')!.direction, 'direct');
    assert.equal(rows.find((r) => r.asset_code === 'BTC')!.direction, 'cross');

    assert.equal(first.archive?.status, 'success');
    assert.ok(first.archive && 'verify' in first.archive && first.archive.verify?.ok);
    const docs = await world.archive.db.collection('prices').find({ date: day }).toArray();
    assert.equal(docs.length, 7);
    const indexes = await world.archive.db.collection('prices').indexes();
    assert.ok(indexes.some((i) => i.unique && JSON.stringify(i.key) === JSON.stringify({ asset_code: 1, date: 1 })), 'unique (asset_code, date) index');

    const [run] = await world.db.sql<{ status: string }[]>`select status from etl.runs where id = ${first.runId}`;
    assert.equal(run?.status, 'success');
    const logs = await world.db.sql<{ stream: string; status: string; loaded: number }[]>`
      select stream, status, loaded from etl.etl_logs where run_id = ${first.runId} order by stream`;
    assert.deepEqual(logs.map((l) => [l.stream, l.status, l.loaded]), [['crypto:coingecko', 'success', 1], ['fx:erapi', 'success', 3], ['metals:metalpriceapi', 'success', 3]]);
  });

  test('running the same day again changes nothing, in PostgreSQL or in the archive', async () => {
    const before = await quotes(day);
    const archivedBefore = await world.archive.db.collection('prices').find({ date: day }, { projection: { _id: 1, archived_at: 1, asset_code: 1 } }).sort({ asset_code: 1 }).toArray();
    const again = await runDaily(day);
    assert.equal(again.outcome, 'success');
    assert.deepEqual(again.counts, { requested: 7, saved: 7, inserted: 0, updated: 0, unchanged: 7, rejected: 0 });
    assert.deepEqual(await quotes(day), before, 'rows, including updated_at, are untouched');
    const [{ count }] = (await world.db.sql`select count(*)::int as count from prices.quotes`) as unknown as [{ count: number }];
    assert.equal(count, 7);
    assert.ok(again.archive && 'counts' in again.archive);
    assert.deepEqual(again.archive.counts, { pgRows: 7, inserted: 0, updated: 0, unchanged: 7, deleted: 0 });
    const archivedAfter = await world.archive.db.collection('prices').find({ date: day }, { projection: { _id: 1, archived_at: 1, asset_code: 1 } }).sort({ asset_code: 1 }).toArray();
    assert.deepEqual(archivedAfter, archivedBefore);
  });

  test('a failing primary source falls back to the next one; a class with no fallback makes the run partial', async () => {
    const date = '2026-03-11';
    world.replica.setFault('erapi', { kind: 'status', status: 503 });
    world.replica.setFault('metalpriceapi', { kind: 'status', status: 500 });
    try {
      const result = await runDaily(date);
      assert.equal(result.outcome, 'partial', JSON.stringify(result, null, 2));
      assert.equal(result.assets.USD?.source, 'fawaz');
      assert.equal(result.assets.EUR?.source, 'fawaz');
      assert.equal(result.assets.XAU?.source, 'fawaz');
      assert.equal(result.assets.XCU?.status, 'missing');
      assert.equal(result.assets.IRON?.status, 'missing');
      assert.match(result.assets.IRON?.reason ?? '', /fawaz has no IRON rate/);
      const erapi = result.sources.find((s) => s.source === 'erapi');
      assert.equal(erapi?.status, 'failed');
      assert.match(erapi?.error ?? '', /TransientError: .*503/);
      assert.equal(world.replica.requestCount('erapi') >= 3, true, 'erapi was retried before falling back');
      const [run] = await world.db.sql<{ status: string }[]>`select status from etl.runs where id = ${result.runId}`;
      assert.equal(run?.status, 'partial');
    } finally {
      world.replica.clearFaults();
    }
  });

  test('a long rate-limit lock (429 with a 20-minute Retry-After) moves on to the fallback at once', async () => {
    const date = '2026-03-12';
    world.replica.setFault('erapi', { kind: 'status', status: 429, retryAfterSeconds: 1200 });
    const before = world.replica.requestCount('erapi');
    try {
      const result = await runDaily(date);
      assert.equal(result.outcome, 'success');
      assert.equal(result.assets.USD?.source, 'fawaz');
      assert.equal(world.replica.requestCount('erapi') - before, 1, 'no retry against a 20-minute lock');
      assert.match(result.sources.find((s) => s.source === 'erapi')?.error ?? '', /429/);
    } finally {
      world.replica.clearFaults();
    }
  });

  test('a truncated body is retried; a timeout exhausts the source and falls back', async () => {
    const date = '2026-03-13';
    world.replica.setFault('erapi', { kind: 'malformed' }, 1);
    world.replica.setFault('coingecko', { kind: 'timeout' });
    try {
      const result = await runDaily(date, { PRICES_HTTP_TIMEOUT_MS: '500' });
      assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
      assert.equal(result.assets.USD?.source, 'erapi', 'the second attempt got a whole body');
      assert.equal(result.assets.BTC?.source, 'fawaz');
      assert.match(result.sources.find((s) => s.source === 'coingecko')?.error ?? '', /TransientError: no answer .* within 500 ms/);
    } finally {
      world.replica.clearFaults();
    }
  });

  test('a negative price is rejected with its reason, never stored, and the next source is asked', async () => {
    const date = '2026-03-14';
    world.replica.setFault('coingecko', { kind: 'negative', asset: 'BTC' });
    world.replica.setFault('fawaz', { kind: 'status', status: 500 });
    try {
      const result = await runDaily(date);
      assert.equal(result.outcome, 'partial');
      assert.equal(result.assets.BTC?.status, 'rejected');
      assert.match(result.assets.BTC?.reason ?? '', /not above the minimum 0.01 MRU/);
      const stored = await world.db.sql`select 1 from prices.quotes where asset_code = 'BTC' and quote_date = ${date}`;
      assert.equal(stored.length, 0);
      const rejected = await world.db.sql<{ natural_key: string; source: string; reason: string }[]>`
        select natural_key, source, reason from etl.rejected_records where run_id = ${result.runId}`;
      assert.deepEqual(rejected.map((r) => [r.natural_key, r.source]), [[`BTC@${date}`, 'coingecko']]);
    } finally {
      world.replica.clearFaults();
    }
  });

  test('when every source fails the outcome is failure and nothing is written for the day', async () => {
    const date = '2026-03-15';
    for (const s of ['erapi', 'fawaz', 'coingecko', 'metalpriceapi'] as const) world.replica.setFault(s, { kind: 'status', status: 502 });
    try {
      const result = await runDaily(date);
      assert.equal(result.outcome, 'failure');
      assert.equal(result.counts.saved, 0);
      assert.ok(Object.values(result.assets).every((a) => a.status === 'missing' && a.reason));
      assert.equal((await quotes(date)).length, 0);
      const [run] = await world.db.sql<{ status: string }[]>`select status from etl.runs where id = ${result.runId}`;
      assert.equal(run?.status, 'failure');
    } finally {
      world.replica.clearFaults();
    }
  });

  test('a bad configuration ends in config_error naming every bad variable, before any request', async () => {
    const requestsBefore = world.replica.requestCount();
    const result = await runDaily('2026-03-16', { PRICES_FX_SOURCES: 'erapi,bogus', METALPRICEAPI_KEY: undefined, PRICES_HTTP_TIMEOUT_MS: 'soon' });
    assert.equal(result.outcome, 'config_error');
    const variables = result.configIssues?.map((i) => i.variable).sort();
    assert.deepEqual(variables, ['METALPRICEAPI_KEY', 'PRICES_FX_SOURCES', 'PRICES_HTTP_TIMEOUT_MS']);
    assert.match(result.configIssues!.find((i) => i.variable === 'PRICES_FX_SOURCES')!.message, /unknown source 'bogus'/);
    assert.equal(world.replica.requestCount(), requestsBefore);
    assert.equal(result.archive, undefined);
  });
});

describe('pricesArchive', () => {
  test('verify catches a corrupted archive document, and the next archive run repairs it', async () => {
    const day = '2026-03-10';
    const prices = world.archive.db.collection('prices');
    await prices.updateOne({ asset_code: 'EUR', date: day }, { $set: { price_mru: '1.00000000' } });
    await prices.deleteOne({ asset_code: 'CNY', date: day });

    const checked = await world.withWorker(() =>
      world.temporal.client.workflow.execute(pricesArchive, {
        taskQueue: world.taskQueue,
        workflowId: `prices-verify-${Date.now()}`,
        args: [{ endDate: '2026-03-16', verifyOnly: true }],
      }),
    );
    assert.equal(checked.status, 'failure');
    assert.equal(checked.verify?.mismatched, 1);
    assert.equal(checked.verify?.missing, 1);
    assert.ok(checked.verify?.samples.some((s) => s.asset === 'EUR' && /price_mru: archive has "1.00000000"/.test(s.problem)));
    assert.ok(checked.verify?.samples.some((s) => s.asset === 'CNY' && /missing/.test(s.problem)));

    const repaired = await world.withWorker(() =>
      world.temporal.client.workflow.execute(pricesArchive, {
        taskQueue: world.taskQueue,
        workflowId: `prices-archive-${Date.now()}`,
        args: [{ endDate: '2026-03-16' }],
      }),
    );
    assert.equal(repaired.status, 'success');
    assert.equal(repaired.counts?.updated, 1);
    assert.equal(repaired.counts?.inserted, 1);
    assert.ok(repaired.verify?.ok);
  });

  test('a document for a row that no longer exists in PostgreSQL is removed from the window', async () => {
    await world.db.sql`delete from prices.quotes where asset_code = 'XAU' and quote_date = '2026-03-11'`;
    const result = await world.withWorker(() =>
      world.temporal.client.workflow.execute(pricesArchive, {
        taskQueue: world.taskQueue,
        workflowId: `prices-archive-${Date.now()}`,
        args: [{ endDate: '2026-03-16', days: 7 }],
      }),
    );
    assert.equal(result.counts?.deleted, 1);
    assert.ok(result.verify?.ok);
    assert.equal(await world.archive.db.collection('prices').countDocuments({ asset_code: 'XAU', date: '2026-03-11' }), 0);
  });
});
