/**
 * The PostgreSQL driver survives its server going away (patches/postgres+3.4.9.patch): a write buffered
 * for a connection whose socket has closed used to throw from a setImmediate — no caller can catch that,
 * and the worker process died (seen in the postgres-stop drill; postgres.js issues 1154 and 1208). A
 * reserved connection whose backend is terminated now rejects its queries with CONNECTION_CLOSED; released,
 * it stays with the pool's closed connections (it used to rejoin the open ones without a socket, failing
 * every query sent to it), and is connected again on demand.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
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
