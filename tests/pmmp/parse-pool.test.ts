/**
 * The parse pool (activities/pmmp/parse-pool.ts): pages parsed in a worker thread come back as the
 * parsers' inline results, a refused page as the same PageShapeError, and a dead thread refuses the
 * pages it held instead of leaving the crawl waiting. Run: node --import tsx --test tests/pmmp/parse-pool.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { inlineParsers, ParsePool, parseStoredPage, ParseThreadError } from '../../activities/pmmp/parse-pool';
import { PageShapeError } from '../../activities/pmmp/parse/index';

const SAMPLES = new URL('../fixtures/samples/pmmp/html/', import.meta.url);
const sample = (name: string): string => readFileSync(new URL(name, SAMPLES), 'utf8');
const DETAIL = sample('legacy-consultation-detail.excerpt.html');
const LIST = sample('legacy-results-list.html');
const LOTS = readFileSync(new URL('./fixtures/lots-popup.inferred.html', import.meta.url), 'utf8');
const ctx = { baseUrl: 'https://www.marchespublics.gov.ma/index.php' };

describe('pmmp parse pool', () => {
  const pool = new ParsePool(2);
  after(() => pool.close());

  it('parses detail, lots and list pages in its threads exactly as inline', async () => {
    const [detail, lots, list] = await Promise.all([pool.detail(DETAIL, ctx), pool.lots(LOTS, ctx), pool.list(LIST, ctx)]);
    assert.deepEqual(detail, await inlineParsers.detail(DETAIL, ctx));
    assert.deepEqual(lots, await inlineParsers.lots(LOTS, ctx));
    assert.deepEqual(list, await inlineParsers.list(LIST, ctx));
    assert.ok(list.items.length > 0 && list.form.pageState.length > 0, 'the list sample has rows and a page state');
  });

  it('many pages at once: each answer goes to its own page', async () => {
    const pages = Array.from({ length: 24 }, (_, i) => (i % 2 ? LOTS : DETAIL));
    const answers = await Promise.all(pages.map((html) => (html === LOTS ? pool.lots(html, ctx) : pool.detail(html, ctx))));
    answers.forEach((a, i) => assert.equal('lots' in a && Array.isArray((a as { lots: unknown }).lots), i % 2 === 1, `answer ${i}`));
  });

  it('a page of another shape is refused with the same PageShapeError as inline', async () => {
    const html = '<html><body><p>not a consultation</p></body></html>';
    const inline = await inlineParsers.detail(html, ctx).then(
      () => assert.fail('inline parse accepted a page without a consultation'),
      (e: unknown) => e,
    );
    const threaded = await pool.detail(html, ctx).then(
      () => assert.fail('the thread accepted a page without a consultation'),
      (e: unknown) => e,
    );
    assert.ok(threaded instanceof PageShapeError, `a PageShapeError, not ${String(threaded)}`);
    assert.ok(inline instanceof PageShapeError);
    assert.equal(threaded.message, inline.message);
    assert.deepEqual(threaded.missing, inline.missing);
    assert.equal(threaded.kind, 'detail');
  });

  it('a stored page (a proof\'s bytes) is decoded and parsed in a thread as inline, windows-1252 included; a refused one is the same PageShapeError', async () => {
    const utf8 = Buffer.from(DETAIL, 'utf8');
    const detail = await parseStoredPage(pool, 'detail', utf8, 'text/html; charset=utf-8', ctx);
    assert.deepEqual(detail, await inlineParsers.detail(DETAIL, ctx));
    assert.deepEqual(await parseStoredPage(inlineParsers, 'detail', utf8, 'text/html; charset=utf-8', ctx), detail);
    // The portal's older pages: windows-1252 bytes, where 0x92 is the typographic apostrophe.
    const latin = [...LIST].map((c) => (c === '\u2019' || c.charCodeAt(0) < 256 ? c : '?')).join('');
    const cp1252 = Buffer.from([...latin].map((c) => (c === '\u2019' ? 0x92 : c.charCodeAt(0))));
    assert.ok(latin.includes('\u2019'), 'the list sample has typographic apostrophes');
    assert.deepEqual(await parseStoredPage(pool, 'list', cp1252, 'text/html; charset=windows-1252', ctx), await inlineParsers.list(latin, ctx));
    assert.deepEqual(await parseStoredPage(pool, 'lots', Buffer.from(LOTS, 'utf8'), null, ctx), await inlineParsers.lots(LOTS, ctx));
    const refused = await parseStoredPage(pool, 'detail', Buffer.from('<html><body><p>not a consultation</p></body></html>'), 'text/html', ctx).then(
      () => assert.fail('the thread accepted a page without a consultation'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof PageShapeError, `a PageShapeError, not ${String(refused)}`);
    assert.equal(refused.kind, 'detail');
  });

  it('closing refuses the pages in flight with a retryable ParseThreadError, and a later page starts a new thread', async () => {
    const own = new ParsePool(1);
    const refused = assert.rejects(own.list(LIST, ctx), (e: unknown) => e instanceof ParseThreadError && e.retry === 'retry');
    await own.close();
    await refused;
    const again = await own.detail(DETAIL, ctx);
    assert.deepEqual(again, await inlineParsers.detail(DETAIL, ctx));
    await own.close();
  });
});
