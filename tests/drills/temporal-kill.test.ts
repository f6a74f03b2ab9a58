/**
 * Drill `temporal-kill`: a full Pennylane sync (the replica) runs on a Temporal dev server of the drill's
 * own that keeps its state in SQLite; mid-stream the server is SIGKILLed, left dead a few seconds while
 * the worker's activity keeps loading, then started again on the same file and port. The worker and the
 * client reconnect by themselves, the run completes, and the table holds every source row exactly once,
 * with one run row and one log row. The shared stack's Temporal is never touched.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApisyncWorld, type ApisyncWorld } from '../apisync/harness';
import { startPrivateTemporal, type PrivateTemporal } from '../support/private-temporal';
import { assertExactlyOnce, fullSyncThrough, waitForCommitted } from './apisync-checks';

const ROWS = 6000;
const DEAD_MS = 5_000;
let temporal: PrivateTemporal;
let world: ApisyncWorld;

before(async () => {
  temporal = await startPrivateTemporal();
  world = await createApisyncWorld({ customer_invoices: ROWS }, {}, { temporal: () => Promise.resolve(temporal.env) });
});

after(async () => {
  await world?.close();
  await temporal?.destroy();
});

test('Temporal server SIGKILLed mid apisync full sync and restarted on its database: the run completes, every row once', async () => {
  const { result, committedAtKill, committedWhileDead } = await fullSyncThrough(world, 'drill-temporal-kill', async () => {
    const committedAtKill = await waitForCommitted(world, 'customer_invoices', 1500);
    const pid = temporal.pid();
    await temporal.kill();
    assert.equal(temporal.pid(), undefined, `server ${pid} is gone`);
    await new Promise((r) => setTimeout(r, DEAD_MS));
    const [row] = await world.db.sql<{ loaded: number | null }[]>`
      select (pending->'counts'->>'loaded')::int as loaded from apisync.sync_state where source = 'pennylane' and stream = 'customer_invoices'`;
    await temporal.restart();
    return { committedAtKill, committedWhileDead: row?.loaded ?? null };
  });
  assert.ok(committedAtKill < ROWS, `killed mid-stream (${committedAtKill} of ${ROWS} rows committed)`);
  await assertExactlyOnce(world, result, 'customer_invoices');
  const description = await world.temporal.client.workflow.getHandle('drill-temporal-kill').describe();
  assert.equal(description.status.name, 'COMPLETED');
  console.log(`drill temporal-kill: ${committedAtKill} rows committed at the kill, ${committedWhileDead ?? 'all'} when the server came back; stream finished on attempt ${result.streams[0]!.result!.attempt}`);
});
