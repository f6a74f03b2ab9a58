/**
 * The maps render activity on reused browser contexts, with images, fonts and trackers blocked, reads
 * every listing exactly as the app shows it: compared field by field with the replica's model, query
 * after query in the same contexts, and with a plain read of a fresh context (the way it worked before).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { chromium } from 'playwright';
import { bindActivities } from '../../activities/engine/bind';
import { BrowserPool } from '../../activities/engine/browser';
import { mapsBrowserActivities, READ_CARDS } from '../../activities/leads/sources/maps-render';
import { loadCoreConfig } from '../../schema/config';
import { mapsMatches, startLeadsReplica, type LeadsReplica } from '../replicas/leads/index';

let replica: LeadsReplica;
const pool = new BrowserPool(loadCoreConfig().browser.chromiumPath);
const { renderMapsListings } = bindActivities({ pool }, mapsBrowserActivities);
const render = (q: string, maxResults = 100) =>
  new MockActivityEnvironment().run(() => renderMapsListings({ url: `${replica.url}/maps?q=${encodeURIComponent(q)}`, maxResults })) as ReturnType<typeof renderMapsListings>;

before(async () => {
  replica = await startLeadsReplica({ dnsPort: 0 });
});

after(async () => {
  await pool.close();
  await replica?.close();
});

function expected(q: string) {
  return replica.businesses
    .filter((b) => mapsMatches(b, q))
    .map((b) => ({ name: b.name, address: b.address, phone: b.phone, website: `${replica.url}/sites/${b.slug}/`, category: b.keywords[0], rating: b.rating }));
}

test('every listing is read exactly, query after query in reused contexts', async () => {
  for (const q of ['e', 'restaurant', 'e', 'plombier']) {
    const r = await render(q);
    assert.deepEqual(r.listings, expected(q), `query ${q}`);
    assert.equal(r.reachedEnd, true);
    assert.equal(r.scrolls, Math.ceil(expected(q).length / 8) - 1, 'one scroll per batch of 8 after the first');
  }
  assert.ok(pool.stats.reused >= 3, `contexts were reused (${JSON.stringify(pool.stats)})`);
});

test('maxResults stops the feed early without reaching its end', async () => {
  const r = await render('e', 10);
  assert.deepEqual(r.listings, expected('e').slice(0, 10));
  assert.equal(r.reachedEnd, false);
  assert.equal(r.scrolls, 1);
});

test('the same listings as a fresh context with nothing blocked', async () => {
  const browser = await chromium.launch({ executablePath: loadCoreConfig().browser.chromiumPath, headless: true });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${replica.url}/maps?q=e`);
    const card = '[role="feed"] [role="article"]';
    for (let i = 0; i < 10 && (await page.locator('[role="feed"] .HlvSq').count()) === 0; i++) {
      const count = await page.locator(card).count();
      await page.locator('[role="feed"]').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForFunction(`document.querySelectorAll('${card}').length > ${count} || document.querySelector('[role="feed"] .HlvSq') !== null`);
    }
    const plain = await page.evaluate(READ_CARDS);
    assert.deepEqual((await render('e')).listings, plain);
  } finally {
    await browser.close();
  }
});

test('a page without the result feed is a shape error, not a retryable one', async () => {
  await assert.rejects(
    new MockActivityEnvironment().run(() => renderMapsListings({ url: `${replica.url}/blog/`, maxResults: 10, timeoutMs: 1_000 })),
    /has no result feed/,
  );
});
