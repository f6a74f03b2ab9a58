/**
 * A worker whose metrics port, or the Temporal SDK's next to it, is taken names the address and the setting
 * and exits 3 (configuration error), without a stack trace; with both free it starts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, freePort, freePortPair, holdPort, startEntry, uniqueName, type TestDatabase } from '../support/services';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

/** An entry point until it exits or says its metrics are served; Temporal at a closed port, a task queue of its own. */
async function start(entry: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return startEntry(entry, { ...process.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, MOISSON_TASK_QUEUE: uniqueName('metrics-port'), ...env }, /metrics on http/);
}

for (const [entry, setting] of [
  ['workers/main.ts', 'METRICS_PORT'],
  ['workers/browser.ts', 'BROWSER_METRICS_PORT'],
] as const) {
  test(`${entry}: a taken metrics port or SDK port (${setting} + 1) is named, exit 3; free ports start it`, async () => {
    const port = await freePortPair();
    for (const taken of [port + 1, port]) {
      const held = await holdPort(taken);
      assert.ok(held, `port ${taken} free to hold`);
      try {
        const r = await start(entry, { [setting]: String(port) });
        assert.equal(r.code, 3, r.output);
        assert.match(r.output, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}: another process holds that port\\. Set ${setting} to a free port`), r.output);
        assert.doesNotMatch(r.output, /at .*\.ts:\d+|metrics on http/, 'no stack trace, nothing served');
      } finally {
        await new Promise((ok) => held.close(ok));
      }
    }
    const free = await start(entry, { [setting]: String(await freePortPair()) });
    assert.match(free.output, /metrics on http/, free.output);
  });
}
