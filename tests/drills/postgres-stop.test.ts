/**
 * Drill `postgres-stop-apisync-full`: a full Pennylane sync (the replica) loads into a PostgreSQL cluster
 * of the drill's own; mid-stream the cluster is stopped (fast shutdown: sessions cut, open transactions
 * rolled back) for 25 s, then started again. The stream's activity fails while the database is away and
 * Temporal retries it; the attempt that finishes continues from the committed cursor. The table ends
 * exactly as the source serves it, and the retry shows in the stream's result (`attempt`) and on the
 * worker's metrics (`moisson_activity_retried`). The shared stack's PostgreSQL is never touched.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setupTelemetry, type Telemetry } from '../../workers/telemetry';
import { createApisyncWorld, type ApisyncWorld } from '../apisync/harness';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { createTestDatabase } from '../support/services';
import { assertExactlyOnce, fullSyncThrough, waitForCommitted } from './apisync-checks';

const ROWS = 4000;
const DOWN_MS = 25_000;
let telemetry: Telemetry;
let pg: PrivatePostgres;
let world: ApisyncWorld;

before(async () => {
  telemetry = setupTelemetry({ serviceName: 'moisson-drill-postgres-stop' });
  pg = await startPrivatePostgres();
  world = await createApisyncWorld({ customer_invoices: ROWS }, {}, { database: () => createTestDatabase(pg.databaseUrl('postgres')) });
});

after(async () => {
  await world?.close();
  await pg?.destroy();
  await telemetry?.shutdown();
});

function retriedSucceeded(metrics: string): number {
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('moisson_activity_retried') && l.includes('activity="syncApisyncStream"') && l.includes('outcome="succeeded"'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

test(`PostgreSQL stopped ${DOWN_MS / 1000} s mid apisync full sync: the retried stream completes, every row once`, async () => {
  const { result, committedAtStop, pid } = await fullSyncThrough(world, 'drill-postgres-stop', async () => {
    const committedAtStop = await waitForCommitted(world, 'customer_invoices', 1000);
    const pid = pg.pid();
    await pg.stop();
    assert.equal(pg.pid(), undefined, 'the cluster is down');
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await pg.start();
    return { committedAtStop, pid };
  });
  assert.ok(committedAtStop < ROWS, `stopped mid-stream (${committedAtStop} of ${ROWS} rows committed)`);
  assert.notEqual(pg.pid(), pid, 'a new postmaster');
  assert.match(pg.log(), /received fast shutdown request/);

  await assertExactlyOnce(world, result, 'customer_invoices');
  const stream = result.streams[0]!.result!;
  assert.ok(stream.attempt > 1, `the stream finished on a retry (attempt ${stream.attempt})`);
  assert.equal(stream.resumed, true, 'the retry continued the committed cursor');
  const fromStart = world.replica.requests().filter((r) => r.path.endsWith('/customer_invoices') && !r.query.cursor);
  assert.equal(fromStart.length, 1, 'the list was read from its start once');
  const [log] = await world.db.sql<{ attempt: number }[]>`select (details->>'attempt')::int as attempt from etl.etl_logs where stream = 'pennylane:customer_invoices'`;
  assert.equal(log?.attempt, stream.attempt, "the run's log says which attempt finished");
  assert.ok(retriedSucceeded(await telemetry.scrape()) >= 1, 'the metrics count the retry that succeeded');
});
