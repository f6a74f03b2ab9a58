/**
 * A library held only while in use (activities/engine/idle-release.ts): loaded on the first call, the same
 * value while calls keep coming, let go after a quiet period (its modules out of the loader's cache and
 * collectable), loaded again by the next call.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { idleReleased } from '../../activities/engine/idle-release';
import { isDisposable } from '../../activities/leads/validate';

const cached = () => Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('/node_modules/mailchecker/'));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a library is loaded on first use, held while used, let go when quiet and loaded again on the next use', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let builds = 0;
  const library = idleReleased('mailchecker', (exports) => (builds++, exports as { isValid: (email: string) => boolean }), { quietMs: 150 });
  assert.equal(library.held, false);
  // Only a WeakRef outlives this block: the test holds no other reference to the library.
  const weak = await (async () => {
    const first = library.get();
    assert.equal(first.isValid('someone@yopmail.com'), false);
    assert.ok(cached().length > 0, 'its modules are loaded');
    await pause(100);
    assert.equal(library.get(), first, 'used within the quiet period: the same value');
    return new WeakRef(first);
  })();
  await pause(100);
  assert.equal(library.held, true, 'the quiet period starts again at each use');
  assert.equal(builds, 1);
  await pause(200);
  assert.equal(library.held, false, 'let go after the quiet period');
  assert.deepEqual(cached(), [], 'its modules left the cache');
  gc();
  assert.equal(weak.deref(), undefined, 'nothing else keeps the library alive');
  assert.equal(library.get().isValid('someone@yopmail.com'), false, 'loaded again on the next use');
  assert.equal(builds, 2);
  library.release();
});

test('the disposable-domain check answers the same after its list was let go', () => {
  assert.equal(isDisposable('yopmail.com'), true);
  assert.equal(isDisposable('example.org'), false);
});
