/**
 * `moisson apisync run` and `moisson apisync status` as a user runs them: real processes against the
 * test world's Temporal server and database, a worker of the world serving the queue, the Pennylane
 * replica behind it. Status is checked after a full and an incremental run, while a run is in flight
 * (lease held, cursor pending), after a stream failed, and with the database gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApisyncStatus } from '../../control/apisync-status';
import { apisyncRun } from '../../workflows/apisync';
import { createApisyncWorld, type ApisyncWorld } from './harness';
import { runMoisson, type CliResult } from '../support/cli';

const SIZES = { customer_invoices: 150, supplier_invoices: 40, customers: 30, suppliers: 20, products: 25, transactions: 35 };
let world: ApisyncWorld;

before(async () => {
  world = await createApisyncWorld(SIZES);
});
after(async () => {
  await world?.close();
});

function moisson(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runMoisson(args, { TEMPORAL_ADDRESS: world.temporal.address, MOISSON_TASK_QUEUE: world.taskQueue, DATABASE_URL: world.db.url, ...env }, 240_000);
}

async function status(): Promise<ApisyncStatus> {
  const res = await moisson(['apisync', 'status', '--json']);
  assert.equal(res.code, 0, res.stdout + res.stderr);
  return JSON.parse(res.stdout) as ApisyncStatus;
}

const streamOf = (s: ApisyncStatus, name: string) => s.streams.find((x) => x.stream === name)!;

async function eventually<T>(check: () => Promise<T | undefined | false>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('moisson apisync status', () => {
  test('before any run: every stream of the source, never synced, no lease, no run', async () => {
    const s = await status();
    assert.equal(s.source, 'pennylane');
    assert.deepEqual(s.streams.map((x) => [x.stream, x.declared, x.synced, x.lastStatus]), Object.keys(SIZES).map((k) => [k, true, false, null]));
    assert.equal(s.lease, null);
    assert.equal(s.newestRun, null);
    const text = await moisson(['apisync', 'status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /lease: never taken/);
    assert.match(text.stdout, /newest run: none yet/);
    assert.match(text.stdout, /^customer_invoices\s+never\s+-\s+-\s+-/m);
  });

  test('after `run --mode full --sync` then `--mode incremental --sync`: modes, rows, watermarks, logs, the lease released', async () => {
    await world.withWorker(async () => {
      const full = await moisson(['apisync', 'run', '--mode', 'full', '--sync']);
      assert.equal(full.code, 0, full.stdout + full.stderr);
      assert.match(full.stdout, /outcome: success {3}source: pennylane {3}mode: full/);
      assert.match(full.stdout, /customer_invoices\s+full\s+150 loaded/);
      const afterFull = await status();
      for (const [stream, n] of Object.entries(SIZES)) {
        const x = streamOf(afterFull, stream);
        assert.deepEqual([x.lastStatus, x.lastMode, x.rowCount, x.pending, x.lastError], ['success', 'full', n, null, null], stream);
        assert.ok(x.watermark && x.lastFullAt, `${stream}: watermark and last full set`);
        assert.deepEqual([x.lastLog?.mode, x.lastLog?.loaded, x.lastLog?.extracted, x.lastLog?.runId], ['full', n, n, afterFull.newestRun?.runId]);
      }

      const ids = world.replica.snapshot('customer_invoices').map((r) => r.id);
      world.replica.mutate('customer_invoices', { insert: 4, update: [ids[10]!, ids[20]!, ids[30]!], delete: [ids[40]!, ids[50]!] });
      const incremental = await moisson(['apisync', 'run', '--mode', 'incremental', '--sync']);
      assert.equal(incremental.code, 0, incremental.stdout + incremental.stderr);
      assert.match(incremental.stdout, /customer_invoices\s+incremental\s+7 loaded\s+2 deleted/);

      const s = await status();
      const [run] = await world.db.sql<{ id: string }[]>`select id::text as id from etl.runs where pipeline = 'apisync' order by started_at desc limit 1`;
      assert.deepEqual(
        { ...s.newestRun, startedAt: undefined, finishedAt: undefined },
        { runId: run!.id, workflowId: 'apisync-pennylane', mode: 'incremental', status: 'success', startedAt: undefined, finishedAt: undefined },
      );
      assert.ok(s.newestRun!.finishedAt! >= s.newestRun!.startedAt);
      assert.equal(s.lease?.state, 'free');
      assert.equal(s.lease?.workflowId, 'apisync-pennylane');
      const ci = streamOf(s, 'customer_invoices');
      assert.deepEqual([ci.lastMode, ci.rowCount, ci.lastLog?.mode, ci.lastLog?.loaded, ci.lastRunId], ['incremental', 152, 'incremental', 7, run!.id]);
      assert.ok(ci.lastFullAt === streamOf(afterFull, 'customer_invoices').lastFullAt, 'an incremental run does not move the last full');
      assert.ok(ci.watermark! > streamOf(afterFull, 'customer_invoices').watermark!, 'the watermark moved to the newest change');
      const [db] = await world.db.sql<{ watermark: string }[]>`
        select to_char(watermark at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as watermark from apisync.sync_state where stream = 'customer_invoices'`;
      assert.equal(ci.watermark, db!.watermark, 'the watermark keeps its microseconds');

      const text = await moisson(['apisync', 'status']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /lease: free \(last held by apisync-pennylane\)/);
      assert.match(text.stdout, new RegExp(`newest run: ${run!.id} incremental success, started \\S+ \\S+Z, finished \\S+ \\S+Z \\(workflow apisync-pennylane\\)`));
      assert.match(text.stdout, /^stream\s+status\s+mode\s+rows\s+watermark\s+last full\s+last log \(loaded\/extracted\)\s+pending$/m);
      assert.match(text.stdout, /^customer_invoices\s+success\s+incremental\s+152\s+\d{4}-\d\d-\d\dT\S+Z\s+\S+ \S+Z\s+success incremental 7\/7 in \d+\.\d s\s+-$/m);
      assert.match(text.stdout, /^suppliers\s+success\s+incremental\s+20\s/m);
    });
  });

  test('while a run is in flight: the lease held by it, the committed cursor pending', async () => {
    await world.withWorker(
      async () => {
        // Three pages are answered, then every request of the stream is held open: the run stays where it is while we look.
        world.replica.setFault({ kind: 'hang' }, undefined, '/api/external/v2/customer_invoices', 3);
        const handle = await world.temporal.client.workflow.start(apisyncRun, { taskQueue: world.taskQueue, workflowId: 'apisync-pennylane-inflight', args: [{ source: 'pennylane', mode: 'full', streams: ['customer_invoices'] }] });
        try {
          await eventually(async () => {
            const [r] = await world.db.sql<{ pages: string | null }[]>`select pending->'counts'->>'pages' as pages from apisync.sync_state where stream = 'customer_invoices'`;
            return r?.pages === '3';
          });
          const s = await status();
          assert.equal(s.lease?.state, 'held');
          assert.equal(s.lease?.workflowId, 'apisync-pennylane-inflight');
          assert.ok(s.lease!.expiresAt > s.at, 'the lease is renewed ahead');
          assert.equal(s.newestRun?.status, 'running');
          const p = streamOf(s, 'customer_invoices').pending;
          assert.ok(p, 'a cursor is pending');
          assert.equal(p.runId, s.newestRun?.runId);
          assert.equal(p.mode, 'full');
          assert.equal(p.runRunning, true);
          assert.ok(p.position && p.position.length > 0);
          assert.equal(p.counts.pages, 3);
          assert.ok((p.counts.loaded ?? 0) > 0 && (p.counts.loaded ?? 0) <= 30, `loaded so far: ${p.counts.loaded}`);
          assert.equal(streamOf(s, 'suppliers').pending, null);
          const text = await moisson(['apisync', 'status']);
          assert.match(text.stdout, /lease: held by apisync-pennylane-inflight \(run \S+\) since \S+ \S+Z, renewed until \S+ \S+Z/);
          assert.match(text.stdout, /^customer_invoices\s.*\sfull$/m);
          assert.match(text.stdout, new RegExp(`pending customer_invoices: full run ${p.runId} \\(running\\), resumes at \\S+; so far 3 pages, ${p.counts.loaded} loaded, 0 deleted`));
        } finally {
          world.replica.clearFaults();
        }
        const result = await handle.result();
        assert.equal(result.outcome, 'success', JSON.stringify(result));
        const done = await status();
        assert.equal(streamOf(done, 'customer_invoices').pending, null);
        assert.equal(done.lease?.state, 'free');
        assert.equal(done.newestRun?.status, 'success');
      },
      { APISYNC_PAGE_SIZE: '10', APISYNC_LOAD_BATCH_ROWS: '10', APISYNC_HTTP_TIMEOUT_MS: '60000' },
    );
  });

  test('a failed stream: its status and error, its stale cursor; an expired lease; still exit 0', async () => {
    await world.withWorker(async () => {
      world.replica.setFault({ kind: 'status', status: 400 }, undefined, '/api/external/v2/products');
      try {
        const res = await moisson(['apisync', 'run', '--mode', 'full', '--streams', 'products,suppliers', '--sync']);
        assert.equal(res.code, 1, res.stdout + res.stderr);
        assert.match(res.stdout, /outcome: partial/);
      } finally {
        world.replica.clearFaults();
      }
    });
    const s = await status();
    const products = streamOf(s, 'products');
    assert.equal(products.lastStatus, 'failure');
    assert.match(products.lastError ?? '', /InvalidInputError: .*rejected the request \(400\)/);
    assert.equal(products.lastLog?.status, 'failure');
    assert.equal(products.rowCount, SIZES.products, 'the live table still has the last full');
    assert.deepEqual([products.pending?.mode, products.pending?.position, products.pending?.runRunning], ['full', null, false]);
    assert.equal(streamOf(s, 'suppliers').lastStatus, 'success');
    assert.equal(s.newestRun?.status, 'partial');

    await world.db.sql`update apisync.run_leases set released = false, expires_at = now() - interval '1 minute'`;
    const text = await moisson(['apisync', 'status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^products\s+failure\s+incremental\s+25\s.*\sfull \(stale\)$/m);
    assert.match(text.stdout, /pending products: full run \S+ \(its run is over: .*\), no page committed yet/);
    assert.match(text.stdout, /error products: InvalidInputError: .*\(400\)/);
    assert.match(text.stdout, /lease: expired: apisync-pennylane \(run \S+\) stopped renewing it at/);
    await world.db.sql`update apisync.run_leases set released = true`;
  });

  test('an unreachable database is a configuration problem (exit 3) saying which and what to do', async () => {
    const res = await moisson(['apisync', 'status'], { DATABASE_URL: 'postgres://moisson:secret-password@127.0.0.1:1/moisson' });
    assert.equal(res.code, 3, res.stdout + res.stderr);
    assert.match(res.stderr, /cannot use the database at postgres:\/\/127\.0\.0\.1:1\/moisson \(ECONNREFUSED/);
    assert.match(res.stderr, /set DATABASE_URL/);
    assert.doesNotMatch(res.stderr, /secret-password/);
  });
});
