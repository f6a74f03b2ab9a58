/**
 * apisyncRun end to end on the real Temporal dev server and PostgreSQL, against the Pennylane replica:
 * full then incremental (inserts, updates, deletes), a field appearing mid-stream, a 429 storm, 5xx and
 * timeouts, refused credentials, the change feed's retention, one run per source at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { RESOURCES } from '../replicas/pennylane/index';
import { apisyncProgressQuery, apisyncRun, type ApisyncRunInput, type ApisyncRunResult } from '../../workflows/apisync';
import { recordHistories } from '../support/histories';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createApisyncWorld, loadedRows, servedRows, type ApisyncWorld } from './harness';

// The test's worker runs in this process: its activities record into this meter provider.
testTelemetry();

let world: ApisyncWorld;
const histories = new URL('./histories/', import.meta.url);
const SIZES = { customer_invoices: 260, supplier_invoices: 140, customers: 120, suppliers: 60, products: 50, transactions: 150 };

before(async () => {
  world = await createApisyncWorld(SIZES);
});

after(async () => {
  await world?.close();
});

let seq = 0;
async function run(input: Omit<ApisyncRunInput, 'source'> = {}, env: Record<string, string | undefined> = {}): Promise<ApisyncRunResult> {
  return world.withWorker(
    () => world.temporal.client.workflow.execute(apisyncRun, { taskQueue: world.taskQueue, workflowId: `apisync-pennylane-test-${++seq}`, args: [{ source: 'pennylane', ...input }] }),
    env,
  );
}

async function assertMirrors(resource: (typeof RESOURCES)[number]): Promise<void> {
  const loaded = new Map((await loadedRows(world, resource)).map((r) => [r.id, JSON.stringify(r)]));
  const served = new Map(servedRows(world, resource).map((r) => [r.id, JSON.stringify(r)]));
  const missing = [...served.keys()].filter((id) => !loaded.has(id));
  const extra = [...loaded.keys()].filter((id) => !served.has(id));
  const differ = [...served].filter(([id, v]) => loaded.has(id) && loaded.get(id) !== v).map(([id, v]) => `${v} != ${loaded.get(id)}`);
  assert.deepEqual({ missing, extra, differ: differ.slice(0, 3) }, { missing: [], extra: [], differ: [] }, `${resource}: the table mirrors the API`);
}

describe('apisyncRun', () => {
  test('a first run (incremental asked, no watermark) loads every stream in full, exactly', async () => {
    const itemsBefore = await testTelemetry().scrape();
    const result = await run({ mode: 'incremental' });
    assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
    await recordHistories(world.temporal.client, histories, 'full', `apisync-pennylane-test-${seq}`);
    assert.equal(result.streams.length, 6);
    for (const s of result.streams) {
      assert.equal(s.result?.mode, 'full');
      assert.match(s.result?.fallbackReason ?? '', /no watermark yet/);
    }
    for (const r of RESOURCES) await assertMirrors(r);

    // Amounts are exact numeric, strings trimmed, references flattened to ids, links not stored.
    const [types] = await world.db.sql<{ amount: string; date: string; customer_id: string; paid: string }[]>`
      select max(data_type) filter (where column_name = 'amount') as amount, max(data_type) filter (where column_name = 'date') as date,
             max(data_type) filter (where column_name = 'customer_id') as customer_id, max(data_type) filter (where column_name = 'paid') as paid
        from information_schema.columns where table_schema = 'apisync' and table_name = 'pennylane_customer_invoices'`;
    assert.deepEqual(types, { amount: 'numeric', date: 'date', customer_id: 'bigint', paid: 'boolean' });
    const links = await world.db.sql`select 1 from information_schema.columns where table_schema = 'apisync' and table_name = 'pennylane_customer_invoices' and column_name in ('invoice_lines', 'payments')`;
    assert.equal(links.length, 0, 'links to sub-collections are not columns');
    const inv = world.replica.snapshot('customer_invoices').find((r) => typeof r.label === 'string' && /[\t\n\\]/.test(r.label))!;
    const [row] = await world.db.sql<{ label: string; customer_id: string; amount: string }[]>`
      select label, customer_id::text, amount::text from apisync.pennylane_customer_invoices where id = ${inv.id}`;
    assert.deepEqual(row, { label: String(inv.label).trim(), customer_id: String((inv.customer as { id: number }).id), amount: inv.amount });

    const logs = await world.db.sql<{ stream: string; status: string; extracted: number; loaded: number }[]>`
      select stream, status, extracted, loaded from etl.etl_logs where run_id = ${result.runId} order by stream`;
    assert.deepEqual(
      logs.map((l) => [l.stream, l.status, l.extracted, l.loaded]),
      Object.entries(SIZES).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => [`pennylane:${k}`, 'success', n, n]),
    );
    const states = await world.db.sql<{ stream: string; watermark: string | null; last_status: string; pending: unknown }[]>`
      select stream, watermark, last_status, pending from apisync.sync_state where source = 'pennylane'`;
    assert.equal(states.length, 6);
    const scrape = await testTelemetry().scrape();
    for (const s of states) {
      assert.ok(s.watermark, `${s.stream} has a watermark`);
      assert.equal(s.last_status, 'success');
      assert.equal(s.pending, null);
      const gauge = seriesValue(scrape, 'moisson_apisync_watermark_timestamp_seconds', { source: 'pennylane', stream: s.stream });
      assert.equal(Math.floor(gauge), Math.floor(Date.parse(s.watermark) / 1000), `${s.stream}'s watermark on the metrics endpoint`);
    }
    // Rows read and loaded, per stream, like the other pipelines' items.
    const itemsDelta = (kind: string, r: string) =>
      seriesValue(scrape, 'moisson_items_total', { pipeline: 'apisync', kind, result: r }) - seriesValue(itemsBefore, 'moisson_items_total', { pipeline: 'apisync', kind, result: r });
    for (const [stream, n] of Object.entries(SIZES)) {
      assert.deepEqual([itemsDelta(`pennylane.${stream}`, 'scraped'), itemsDelta(`pennylane.${stream}`, 'saved')], [n, n], `${stream} rows on the metrics endpoint`);
    }
  });

  test('incremental applies inserts, updates and deletes from the change feed and re-reads nothing else', async () => {
    const invoices = world.replica.mutate('customer_invoices', { insert: 7, update: 12, delete: 5 });
    world.replica.mutate('customers', { update: [invoices.updated.length > 0 ? 100_000_002 : 100_000_003], delete: [100_000_004] });
    // An update then a delete of the same record: the delete wins.
    world.replica.mutate('products', { update: [300_000_010] });
    world.replica.mutate('products', { delete: [300_000_010] });
    world.replica.clearRequests();

    const result = await run({ mode: 'incremental' });
    assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
    await recordHistories(world.temporal.client, histories, 'incremental', `apisync-pennylane-test-${seq}`);
    for (const s of result.streams) assert.equal(s.result?.mode, 'incremental', `${s.stream} ran incrementally`);
    const ci = result.streams.find((s) => s.stream === 'customer_invoices')!.result!;
    assert.equal(ci.counts.changes, 24);
    assert.equal(ci.counts.deleted, 5);
    assert.equal(ci.counts.extracted, 7 + 12 - invoices.updated.filter((id) => invoices.deleted.includes(id)).length);
    for (const r of RESOURCES) await assertMirrors(r);
    const gone = await world.db.sql`select id from apisync.pennylane_products where id = 300000010`;
    assert.equal(gone.length, 0);

    // Only the change feeds and id look-ups were asked: no list was read in full again.
    const lists = world.replica.requests().filter((r) => !r.path.includes('/changelogs/') && /\/(customer_invoices|supplier_invoices|customers|suppliers|products|transactions)$/.test(r.path));
    assert.ok(lists.length > 0);
    for (const r of lists) assert.match(r.query.filter ?? '', /"operator":"in"/, `${r.path} was a re-fetch by id`);
    const feeds = world.replica.requests().filter((r) => r.path.includes('/changelogs/'));
    assert.equal(feeds.length, 6);
    for (const r of feeds) assert.ok(r.query.start_date && !r.query.cursor, 'the feed starts at the watermark');
  });

  test('a second incremental run with nothing new changes nothing', async () => {
    const before = await loadedRows(world, 'customer_invoices');
    const result = await run({ mode: 'incremental' });
    assert.equal(result.outcome, 'success');
    // The watermark is re-read with >=, so the last change may be applied again; never anything more.
    for (const s of result.streams) assert.ok((s.result?.counts.changes ?? 0) <= 1, `${s.stream}: ${JSON.stringify(s.result?.counts)}`);
    assert.deepEqual(await loadedRows(world, 'customer_invoices'), before);
  });

  test('a field that appears mid-stream gets its column, recorded, and its values', async () => {
    world.replica.growField('customer_invoices', 'late_fee_amount', 2);
    world.replica.growField('customer_invoices', 'einvoicing_channel', 2);
    const result = await run({ mode: 'full', streams: ['customer_invoices'] }, { APISYNC_PAGE_SIZE: '50', APISYNC_LOAD_BATCH_ROWS: '100' });
    assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
    const r = result.streams[0]!.result!;
    assert.deepEqual([...r.columnsAdded].sort(), ['einvoicing_channel', 'late_fee_amount']);
    const cols = await world.db.sql<{ column_name: string; data_type: string }[]>`
      select column_name, data_type from information_schema.columns
       where table_schema = 'apisync' and table_name = 'pennylane_customer_invoices' and column_name in ('late_fee_amount', 'einvoicing_channel') order by 1`;
    assert.deepEqual(cols.map((c) => [c.column_name, c.data_type]), [['einvoicing_channel', 'text'], ['late_fee_amount', 'numeric']]);
    const recorded = await world.db.sql<{ column: string; origin: string; first_run_id: string }[]>`
      select "column", origin, first_run_id from apisync.columns where stream = 'customer_invoices' and origin = 'observed' order by 1`;
    assert.deepEqual(recorded.map((c) => [c.column, c.origin, c.first_run_id]), [['einvoicing_channel', 'observed', result.runId], ['late_fee_amount', 'observed', result.runId]]);
    const [counts] = await world.db.sql<{ with_fee: number; total: number }[]>`
      select count(late_fee_amount)::int as with_fee, count(*)::int as total from apisync.pennylane_customer_invoices`;
    // The first two pages (100 rows) were served before the field existed.
    assert.equal(counts?.total, world.replica.snapshot('customer_invoices').length);
    assert.equal(counts?.with_fee, counts!.total - 100);
    const sample = world.replica.snapshot('customer_invoices')[0]!;
    const [one] = await world.db.sql<{ fee: string }[]>`select late_fee_amount::text as fee from apisync.pennylane_customer_invoices where id = ${sample.id}`;
    assert.equal(one?.fee, sample.late_fee_amount, 'the lowest ids come last (sort -id) and carry the new field');
  });

  test('a 429 storm is waited out for its retry-after, and the run completes', async () => {
    world.replica.mutate('suppliers', { update: 3 });
    world.replica.clearRequests();
    world.replica.setFault({ kind: '429', retryAfterSeconds: 1 }, 5, '/api/external/v2/changelogs/');
    const result = await run({ mode: 'incremental' });
    assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
    assert.equal(result.streams.reduce((n, s) => n + (s.result?.rateLimited ?? 0), 0), 5);
    const log = world.replica.requests().filter((r) => r.token && r.path.startsWith('/api'));
    const throttled = log.filter((r) => r.status === 429);
    assert.equal(throttled.length, 5);
    // A stream that got a 429 sends nothing before its retry-after has passed. (Other streams' requests
    // admitted before the 429 came back may still arrive just after it; from then on they wait too.)
    for (const t of throttled) {
      const next = log.find((r) => r.at > t.at && r.path === t.path);
      assert.ok(next, `${t.path} was asked again`);
      assert.ok(next.at - t.at >= 950, `${t.path} asked again ${Math.round(next.at - t.at)} ms after a retry-after of 1 s`);
    }
    await assertMirrors('suppliers');
  });

  test('5xx answers and a timeout are backed off and retried', async () => {
    world.replica.mutate('transactions', { insert: 2, update: 2 });
    world.replica.setFault({ kind: 'status', status: 503 }, 3, '/api/external/v2/changelogs/transactions');
    const flaky = await run({ mode: 'incremental', streams: ['transactions'] });
    assert.equal(flaky.outcome, 'success', JSON.stringify(flaky, null, 2));
    world.replica.mutate('transactions', { update: 1 });
    world.replica.setFault({ kind: 'hang' }, 1, '/api/external/v2/changelogs/transactions');
    const slow = await run({ mode: 'incremental', streams: ['transactions'] }, { APISYNC_HTTP_TIMEOUT_MS: '800' });
    world.replica.clearFaults();
    assert.equal(slow.outcome, 'success', JSON.stringify(slow, null, 2));
    await assertMirrors('transactions');
  });

  test('refused credentials stop the run at once with a clear error', async () => {
    world.replica.clearRequests();
    const result = await run({ mode: 'incremental' }, { PENNYLANE_API_TOKEN: 'revoked-token' });
    assert.equal(result.outcome, 'failure');
    assert.match(result.error ?? '', /pennylane refused the credentials in PENNYLANE_API_TOKEN: .*\(401\).*The access token is invalid/);
    assert.doesNotMatch(JSON.stringify(result), /revoked-token/, 'the token never appears in the result');
    assert.equal(result.streams.length, 0);
    assert.equal(world.replica.requests().length, 1, 'one request, then nothing');
    const [run_] = await world.db.sql<{ status: string }[]>`select status from etl.runs where id = ${result.runId}`;
    assert.equal(run_?.status, 'failure');
    const missing = await run({}, { PENNYLANE_API_TOKEN: undefined });
    assert.equal(missing.outcome, 'config_error');
    assert.deepEqual(missing.configIssues?.map((i) => i.variable), ['PENNYLANE_API_TOKEN']);
  });

  test('a watermark beyond the change-feed retention falls back to full and says so', async () => {
    await world.db.sql`update apisync.sync_state set watermark = now() - interval '40 days' where stream = 'products'`;
    // Within our own retention check, but the source's clock says it is too old: it answers 422.
    await world.db.sql`update apisync.sync_state set watermark = now() - interval '27 days' where stream = 'suppliers'`;
    world.replicaClockOffsetMs = 2 * 86_400_000;
    try {
      world.replica.mutate('products', { delete: 1 });
      const result = await run({ mode: 'incremental', streams: ['products', 'suppliers'] });
      assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
      const products = result.streams.find((s) => s.stream === 'products')!.result!;
      assert.equal(products.mode, 'full');
      assert.match(products.fallbackReason ?? '', /older than the 28-day change-feed retention/);
      const suppliers = result.streams.find((s) => s.stream === 'suppliers')!.result!;
      assert.equal(suppliers.mode, 'full');
      assert.match(suppliers.fallbackReason ?? '', /422.*retention.*re-synced in full/);
      const [log] = await world.db.sql<{ details: { fallbackReason: string } }[]>`
        select details from etl.etl_logs where run_id = ${result.runId} and stream = 'pennylane:products'`;
      assert.match(log?.details.fallbackReason ?? '', /retention/);
      await assertMirrors('products');
      await assertMirrors('suppliers');
    } finally {
      world.replicaClockOffsetMs = 0;
    }
  });

  test('one run per source at a time: a second start collides, a lease held elsewhere skips', async () => {
    const handle = await world.temporal.client.workflow.start(apisyncRun, { taskQueue: world.taskQueue, workflowId: 'apisync-pennylane', args: [{ source: 'pennylane', mode: 'incremental' }] });
    await assert.rejects(
      world.temporal.client.workflow.start(apisyncRun, { taskQueue: world.taskQueue, workflowId: 'apisync-pennylane', args: [{ source: 'pennylane' }] }),
      WorkflowExecutionAlreadyStartedError,
    );
    const done = await world.withWorker(async () => {
      const progress = await handle.query(apisyncProgressQuery);
      assert.ok(['planning', 'syncing', 'finishing', 'done'].includes(progress.phase));
      return handle.result();
    });
    assert.equal(done.outcome, 'success');

    await world.db.sql`update apisync.run_leases set workflow_id = 'apisync-pennylane-2026-11-23T10:00:00Z', workflow_run_id = 'elsewhere', released = false, expires_at = now() + interval '5 minutes'`;
    const skipped = await run({ mode: 'incremental' });
    assert.equal(skipped.outcome, 'skipped');
    assert.match(skipped.error ?? '', /another run of pennylane is in progress: apisync-pennylane-2026-11-23T10:00:00Z/);
    await world.db.sql`update apisync.run_leases set expires_at = now() - interval '1 second'`;
    const after = await run({ mode: 'incremental' });
    assert.equal(after.outcome, 'success', 'an expired lease is taken over');
  });
});
