/**
 * The PostgreSQL driver survives its server going away (patches/postgres+3.4.9.patch): a write buffered
 * for a connection whose socket has closed used to throw from a setImmediate — no caller can catch that,
 * and the worker process died (seen in the postgres-stop drill; postgres.js issues 1154 and 1208). A
 * reserved connection whose backend is terminated now rejects its queries with CONNECTION_CLOSED; released,
 * it stays with the pool's closed connections (it used to rejoin the open ones without a socket, failing
 * every query sent to it), and is connected again on demand.
 *
 * The driver keeps, per query template, the Error that records where the template was first called. Its
 * stack used to stay unformatted until read, and V8 then keeps the frames' functions alive, with their
 * closures: whatever the first call had in scope (a batch of rows) stayed for the life of the process
 * (~7 MB in a worker after every pipeline ran, bench `worker.memory.afterAll`). The patch formats it at once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import postgres from 'postgres';
import { LOCAL_STACK } from '../../schema/config';

const url = process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl;
const sql = postgres(url, { max: 2, onnotice: () => {} });
const admin = postgres(url, { max: 1, onnotice: () => {} });
const uncaught: Error[] = [];
const onUncaught = (err: Error) => void uncaught.push(err);
process.on('uncaughtException', onUncaught);

after(async () => {
  process.removeListener('uncaughtException', onUncaught);
  await Promise.all([sql.end({ timeout: 5 }), admin.end({ timeout: 5 })]);
});

/** Ends our own session's backend, as a server shutdown or a crashed backend would. */
async function terminate(session: postgres.Sql): Promise<void> {
  const [row] = await session<{ pid: number }[]>`select pg_backend_pid() as pid`;
  await admin`select pg_terminate_backend(${row!.pid})`;
  await new Promise((r) => setTimeout(r, 200));
}

test('a reserved connection whose backend died rejects its queries instead of ending the process', async () => {
  const reserved = await sql.reserve();
  try {
    await terminate(reserved);
    await assert.rejects(reserved`select 1`, (err: Error & { code?: string }) => err.code === 'CONNECTION_CLOSED');
    await assert.rejects(reserved`select 1`, (err: Error & { code?: string }) => err.code === 'CONNECTION_CLOSED');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(uncaught.map((e) => e.message), []);
  } finally {
    reserved.release();
  }
});

test('the pool still answers after a dead reserved connection was released and a pooled backend died', async () => {
  await terminate(sql);
  const [row] = await sql<{ one: number }[]>`select 1 as one`;
  assert.equal(row!.one, 1);
  assert.deepEqual(uncaught.map((e) => e.message), []);
});

test('a query template does not keep the scope of its first call alive', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const scope = await (async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i }));
    // The caller's frame closes over its rows, as a bulk write's does.
    const write = () => sql<{ n: number }[]>`select ${rows.length}::int as n`;
    const [row] = await write();
    assert.equal(row!.n, 10_000);
    return new WeakRef(rows);
  })();
  // A WeakRef's target is held until the current job ends, and the query until its connection reads the
  // server's ReadyForQuery, which may come after the rows (a loaded machine): collect for up to 2 s. A
  // template that kept the first call's scope would keep it for good.
  for (let tries = 0; tries < 40 && scope.deref() !== undefined; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    gc();
  }
  assert.equal(scope.deref(), undefined, 'the rows of the first call are still reachable 2 s after it returned');
});
