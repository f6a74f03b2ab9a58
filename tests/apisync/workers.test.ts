/**
 * apisync with real worker processes: two of them syncing at once never send the source more than its
 * 25 requests in any 5 s window (the limiter lives in PostgreSQL, not in a process); a worker killed with
 * SIGKILL mid-stream is replaced and the stream continues from its committed cursor, to the same rows an
 * uninterrupted run loads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_TOKEN, RESOURCES } from '../replicas/pennylane/index';
import type { SyncStreamResult } from '../../activities/apisync/types';
import { apisyncRun, type ApisyncRunResult } from '../../workflows/apisync';
import { createApisyncWorld, loadedRows, servedRows, type ApisyncWorld } from './harness';

let world: ApisyncWorld;
/** customer_invoices as the uninterrupted run (the first test) reported it. */
let clean: SyncStreamResult | undefined;

before(async () => {
  world = await createApisyncWorld({ customer_invoices: 3000, supplier_invoices: 600, customers: 600, suppliers: 600, products: 600, transactions: 600 });
});

after(async () => {
  await world?.close();
});

async function assertMirrors(resource: (typeof RESOURCES)[number]): Promise<void> {
  const loaded = (await loadedRows(world, resource)).map((r) => JSON.stringify(r));
  const served = servedRows(world, resource).map((r) => JSON.stringify(r));
  assert.equal(loaded.length, served.length, `${resource}: row count`);
  assert.ok(loaded.every((r, i) => r === served[i]), `${resource}: the table mirrors the API`);
}

describe('apisync worker processes', () => {
  test('two worker processes together never exceed 25 requests in any 5 s window', async () => {
    const a = await world.spawnActivityWorker('a', { APISYNC_TEST_WORKER_SLOTS: '3' });
    const b = await world.spawnActivityWorker('b', { APISYNC_TEST_WORKER_SLOTS: '3' });
    world.replica.clearRequests();
    const result: ApisyncRunResult = await world.withWorkflowWorker(() =>
      world.temporal.client.workflow.execute(apisyncRun, { taskQueue: world.taskQueue, workflowId: 'apisync-pennylane-two-workers', args: [{ source: 'pennylane', mode: 'full' }] }),
    );
    assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
    assert.ok(a.streamsStarted().length > 0 && b.streamsStarted().length > 0, `both processes synced streams: a=${a.streamsStarted().join(',')} b=${b.streamsStarted().join(',')}`);
    assert.equal(a.streamsStarted().length + b.streamsStarted().length, 6);
    const log = world.replica.requests();
    assert.ok(log.length >= 60, `a long enough extraction: ${log.length} requests`);
    assert.equal(log.filter((r) => r.status === 429).length, 0, 'the source never had to refuse a request');
    assert.ok(world.replica.maxInWindow(DEFAULT_TOKEN, 5_000) <= 25, `at most 25 requests in any 5 s window, saw ${world.replica.maxInWindow(DEFAULT_TOKEN, 5_000)}`);
    for (const r of RESOURCES) await assertMirrors(r);
    clean = result.streams.find((s) => s.stream === 'customer_invoices')?.result;
    await Promise.all([a.stop(), b.stop()]);
  });

  test('a worker killed mid-stream is replaced and the stream resumes from its committed cursor', async () => {
    const env = { APISYNC_LOAD_BATCH_ROWS: '200' };
    const first = await world.spawnActivityWorker('first', env);
    world.replica.clearRequests();
    const handle = await world.temporal.client.workflow.start(apisyncRun, {
      taskQueue: world.taskQueue,
      workflowId: 'apisync-pennylane-killed',
      args: [{ source: 'pennylane', mode: 'full', streams: ['customer_invoices'] }],
    });
    const result = await world.withWorkflowWorker(async () => {
      // Wait until a good part of the stream is committed, then kill the worker without warning.
      let position: string | null = null;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const [row] = await world.db.sql<{ loaded: number | null; position: string | null }[]>`
          select (pending->'counts'->>'loaded')::int as loaded, pending->>'position' as position
            from apisync.sync_state where source = 'pennylane' and stream = 'customer_invoices' and pending is not null`;
        if (row?.loaded && row.loaded >= 800 && row.position) {
          first.child.kill('SIGKILL');
          position = row.position;
          break;
        }
        assert.ok(Date.now() < deadline, `the stream never got going:\n${first.output()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      await new Promise((r) => first.child.once('exit', r));
      const killedAt = Date.now();
      const [committed] = await world.db.sql<{ position: string }[]>`
        select pending->>'position' as position from apisync.sync_state where source = 'pennylane' and stream = 'customer_invoices'`;
      const resumeAt = committed!.position;
      assert.ok(position);
      const second = await world.spawnActivityWorker('second', env);
      const done = await handle.result();
      await second.stop();
      return { done, resumeAt, killedAt };
    });

    assert.equal(result.done.outcome, 'success', JSON.stringify(result.done, null, 2));
    const stream = result.done.streams[0]!.result!;
    assert.equal(stream.resumed, true, 'the retried attempt continued a committed cursor');
    await assertMirrors('customer_invoices');

    const lists = world.replica.requests().filter((r) => r.path.endsWith('/customer_invoices'));
    const fromStart = lists.filter((r) => !r.query.cursor);
    assert.equal(fromStart.length, 1, 'the list was read from its start once, by the first worker only');
    const afterKill = lists.filter((r) => r.at > result.killedAt);
    assert.ok(afterKill.length > 0);
    assert.equal(afterKill[0]!.query.cursor, result.resumeAt, 'the replacement asked for the page after the committed cursor first');
    const served = world.replica.snapshot('customer_invoices').length;
    assert.ok(afterKill.length * 100 < served, `the replacement did not read everything again (${afterKill.length} pages for ${served} rows)`);

    // The counts users read are what the table holds from the run, as the uninterrupted run reported them.
    assert.ok(clean, 'the uninterrupted run came first');
    assert.deepEqual(
      [stream.counts.loaded, stream.counts.deleted, stream.rowCount],
      [clean.counts.loaded, clean.counts.deleted, clean.rowCount],
      `killed run ${JSON.stringify(stream.counts)} vs uninterrupted ${JSON.stringify(clean.counts)}`,
    );
    assert.equal(stream.counts.loaded, served);
  });

  test('a worker killed mid incremental sync: the run counts the changes the source made, once', async () => {
    const env = { APISYNC_CHANGELOG_PAGE_SIZE: '50' };
    const changed = world.replica.mutate('customer_invoices', { insert: 150, update: 400, delete: 40 });
    const gone = new Set(changed.deleted);
    const expectedLoaded = new Set([...changed.inserted, ...changed.updated].filter((id) => !gone.has(id))).size;
    const first = await world.spawnActivityWorker('incremental-first', env);
    const handle = await world.temporal.client.workflow.start(apisyncRun, {
      taskQueue: world.taskQueue,
      workflowId: 'apisync-pennylane-incremental-killed',
      args: [{ source: 'pennylane', mode: 'incremental', streams: ['customer_invoices'] }],
    });
    const done = await world.withWorkflowWorker(async () => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const [row] = await world.db.sql<{ loaded: number | null }[]>`
          select (pending->'counts'->>'loaded')::int as loaded
            from apisync.sync_state where source = 'pennylane' and stream = 'customer_invoices' and pending->>'mode' = 'incremental'`;
        if (row?.loaded && row.loaded >= 100) break;
        assert.ok(Date.now() < deadline, `the incremental never got going:\n${first.output()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      const [left] = await world.db.sql<{ loaded: number }[]>`
        select (pending->'counts'->>'loaded')::int as loaded from apisync.sync_state where source = 'pennylane' and stream = 'customer_invoices'`;
      assert.ok(left && left.loaded < expectedLoaded, `killed mid-sync (${left?.loaded} of ${expectedLoaded} committed)`);
      const second = await world.spawnActivityWorker('incremental-second', env);
      const r = await handle.result();
      await second.stop();
      return r;
    });
    assert.equal(done.outcome, 'success', JSON.stringify(done, null, 2));
    const stream = done.streams[0]!.result!;
    assert.deepEqual([stream.mode, stream.resumed], ['incremental', true]);
    assert.deepEqual([stream.counts.loaded, stream.counts.deleted], [expectedLoaded, gone.size], JSON.stringify(stream.counts));
    await assertMirrors('customer_invoices');
  });
});
