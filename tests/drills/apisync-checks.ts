/** What the apisync drills wait for and check: a stream caught mid-run, and its table against the source. */
import assert from 'node:assert/strict';
import { apisyncRun, type ApisyncRunResult } from '../../workflows/apisync';
import { loadedRows, servedRows, type ApisyncWorld } from '../apisync/harness';

/**
 * Starts a full sync of customer_invoices and runs `during` (the fault) while an in-process worker polls,
 * 200 rows to a committed batch so the cursor moves often; returns what `during` returns and the result.
 */
export async function fullSyncThrough<T>(world: ApisyncWorld, workflowId: string, during: () => Promise<T>): Promise<T & { result: ApisyncRunResult }> {
  const handle = await world.temporal.client.workflow.start(apisyncRun, {
    taskQueue: world.taskQueue,
    workflowId,
    args: [{ source: 'pennylane', mode: 'full', streams: ['customer_invoices'] }],
  });
  return world.withWorker(
    async () => {
      const observed = await during();
      return { ...observed, result: await handle.result() };
    },
    { APISYNC_LOAD_BATCH_ROWS: '200' },
  );
}

/** Waits until the run has committed at least `rows` rows of `stream` (its saved cursor's count). */
export async function waitForCommitted(world: ApisyncWorld, stream: string, rows: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await world.db.sql<{ loaded: number | null }[]>`
      select (pending->'counts'->>'loaded')::int as loaded
        from apisync.sync_state where source = 'pennylane' and stream = ${stream} and pending is not null`;
    if (row?.loaded && row.loaded >= rows) return row.loaded;
    assert.ok(Date.now() < deadline, `${stream} never reached ${rows} committed rows`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The run succeeded and the table holds exactly what the source serves: every row once, none lost, none
 * extra; the run's `loaded` is that many rows; the run has one etl.runs row and one log row for the stream.
 */
export async function assertExactlyOnce(world: ApisyncWorld, result: ApisyncRunResult, stream: 'customer_invoices'): Promise<void> {
  assert.equal(result.outcome, 'success', JSON.stringify(result, null, 2));
  const loaded = await loadedRows(world, stream);
  const served = servedRows(world, stream);
  const [ids] = await world.db.sql<{ rows: number; distinct: number }[]>`
    select count(*)::int as rows, count(distinct id)::int as distinct from apisync.pennylane_customer_invoices`;
  assert.equal(ids!.rows, ids!.distinct, 'no row stored twice');
  assert.equal(loaded.length, served.length, 'no row lost or added');
  const mismatch = loaded.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(served[i]));
  assert.equal(mismatch, -1, `the table mirrors the API (first difference at ${mismatch}: ${JSON.stringify(loaded[mismatch])} vs ${JSON.stringify(served[mismatch])})`);
  const counts = result.streams[0]!.result!.counts;
  assert.equal(counts.loaded, served.length, `the run's loaded count: ${JSON.stringify(counts)}`);
  const [bookkeeping] = await world.db.sql<{ runs: number; logs: number; status: string }[]>`
    select count(distinct r.id)::int as runs, count(l.id)::int as logs, max(r.status) as status
      from etl.runs r left join etl.etl_logs l on l.run_id = r.id where r.pipeline = 'apisync'`;
  assert.deepEqual(bookkeeping, { runs: 1, logs: 1, status: 'success' }, 'one run, logged once');
}
