/**
 * The API's response cache on a real PostgreSQL: answers kept until a notification on their channel, or
 * their TTL, or the size bound; an answer read before a change is served but never kept; a write to a
 * procurement table notifies the channel the procurement reads listen on (migration 0031).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { responseContract } from '../../api/contract-serializer';
import { PMMP_DATA_CHANGED_CHANNEL, readKey, ResponseCache } from '../../api/response-cache';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

const Body = responseContract(z.object({ n: z.number() }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean): Promise<void> {
  for (const end = Date.now() + 2_000; Date.now() < end; await sleep(10)) if (check()) return;
  assert.fail(`never: ${what}`);
}

describe('response cache', () => {
  test('kept until a notification on its channel; rebuilt after it', async () => {
    const cache = new ResponseCache(db.sql, 'moisson_test_cache_a', { maxBytes: 1 << 20 });
    let builds = 0;
    const build = async () => ({ n: ++builds });
    assert.equal(await cache.get('k', Body, build), '{"n":1}');
    assert.equal(await cache.get('k', Body, build), '{"n":1}');
    // Listening empties the cache once when the connection (re)connects.
    assert.deepEqual(cache.counts, { hits: 1, misses: 1, invalidations: 1 });
    await db.sql`select pg_notify('moisson_test_cache_a', '')`;
    await until('the notification empties the cache', () => cache.counts.invalidations > 1);
    assert.equal(await cache.get('k', Body, build), '{"n":2}');
  });

  test('an answer is kept its TTL at most', async () => {
    const cache = new ResponseCache(db.sql, 'moisson_test_cache_b', { maxBytes: 1 << 20, ttlMs: 60 });
    let builds = 0;
    const build = async () => ({ n: ++builds });
    assert.equal(await cache.get('k', Body, build), '{"n":1}');
    assert.equal(await cache.get('k', Body, build), '{"n":1}');
    await sleep(90);
    assert.equal(await cache.get('k', Body, build), '{"n":2}');
  });

  test('an answer built while the data changed is served, not kept', async () => {
    const cache = new ResponseCache(db.sql, 'moisson_test_cache_c', { maxBytes: 1 << 20 });
    await cache.get('warm', Body, async () => ({ n: 0 }));
    const before = cache.counts.invalidations;
    let builds = 0;
    const racing = async () => {
      builds += 1;
      await db.sql`select pg_notify('moisson_test_cache_c', '')`;
      await until('the notification arrives during the build', () => cache.counts.invalidations > before);
      return { n: builds };
    };
    assert.equal(await cache.get('k', Body, racing), '{"n":1}');
    assert.equal(await cache.get('k', Body, async () => ({ n: 42 })), '{"n":42}');
  });

  test('bounded by size, least recently used first; 0 bytes keeps nothing; a bad answer is refused', async () => {
    const cache = new ResponseCache(db.sql, 'moisson_test_cache_d', { maxBytes: 20 });
    let builds = 0;
    const build = async () => ({ n: ++builds });
    await cache.get('a', Body, build); // {"n":1}: 7 characters
    await cache.get('b', Body, build);
    await cache.get('a', Body, build); // a is now the most recent
    await cache.get('c', Body, build); // 21 characters in all: b goes
    assert.equal(await cache.get('a', Body, build), '{"n":1}');
    assert.equal(await cache.get('b', Body, build), '{"n":4}');

    const off = new ResponseCache(db.sql, 'moisson_test_cache_e', { maxBytes: 0 });
    let offBuilds = 0;
    await off.get('k', Body, async () => ({ n: ++offBuilds }));
    await off.get('k', Body, async () => ({ n: ++offBuilds }));
    assert.equal(offBuilds, 2);

    await assert.rejects(cache.get('bad', Body, async () => ({ n: 'x' }) as never), z.ZodError);
    assert.equal(await cache.get('bad', Body, async () => ({ n: 5 })), '{"n":5}');
  });

  test('a write to a procurement table notifies the procurement reads, once per transaction', async () => {
    const cache = new ResponseCache(db.sql, PMMP_DATA_CHANGED_CHANNEL, { maxBytes: 1 << 20 });
    await cache.get('k', Body, async () => ({ n: 1 }));
    const before = cache.counts.invalidations;
    const seen: string[] = [];
    const listener = await db.sql.listen(PMMP_DATA_CHANGED_CHANNEL, (payload) => seen.push(payload));
    await db.sql.begin(async (tx) => {
      await tx`delete from pmmp.lots where false`;
      await tx`delete from pmmp.attributions where false`;
      await tx`truncate pmmp.bids`;
    });
    await until('the commit notifies', () => seen.length > 0 && cache.counts.invalidations > before);
    await sleep(100);
    assert.equal(seen.length, 1, 'one notification for the transaction');
    await listener.unlisten();
  });

  test('the key of a read does not depend on the order of its parameters or an absent one', () => {
    assert.equal(readKey('list', { a: 1, b: 'x', c: undefined }), readKey('list', { b: 'x', a: 1 }));
    assert.notEqual(readKey('list', { a: 1 }), readKey('list', { a: 2 }));
    assert.notEqual(readKey('list', { a: 1 }), readKey('pv', { a: 1 }));
  });
});
