/**
 * The browser pool reuses its contexts between tasks: what one task leaves (cookies, local and session
 * storage, IndexedDB, history) must be gone for the next, a failed task's context must not be reused,
 * and what a task blocks (images, fonts, trackers) must never reach the server. Real Chromium, a local server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { BrowserPool, isTracker } from '../../activities/engine/browser';
import { loadCoreConfig } from '../../schema/config';

let server: Server;
let base: string;
const hits = new Map<string, number>();

before(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/set') {
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'session=job-a; Path=/' });
      return res.end(`<html><body><script>
        document.cookie = 'script=job-a; path=/';
        localStorage.setItem('job', 'a'); sessionStorage.setItem('job', 'a');
        indexedDB.open('job-a').onsuccess = () => { document.title = 'stored' };
      </script></body></html>`);
    }
    if (path === '/read') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body>read</body></html>');
    }
    if (path === '/heavy') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(`<html><head><style>@font-face { font-family: F; src: url(/font.woff2) } body { font-family: F }</style></head>
        <body>text<img src="/photo.png"><script src="/gen_204?ev=1"></script><script>document.title = 'ran'</script></body></html>`);
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end('x');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

after(() => server?.close());

test('a reused context carries nothing from one task to the next', async () => {
  const pool = new BrowserPool(loadCoreConfig().browser.chromiumPath);
  try {
    await pool.withPage(async (page) => {
      await page.goto(`${base}/set`);
      await page.waitForFunction('document.title === "stored"');
      assert.match(await page.evaluate('document.cookie'), /script=job-a/);
    });
    const seen = await pool.withPage(async (page) => {
      await page.goto(`${base}/read`);
      return page.evaluate(`new Promise((resolve) => indexedDB.databases().then((dbs) => resolve({
        cookie: document.cookie, local: localStorage.length, session: sessionStorage.length, history: history.length, dbs: dbs.map((d) => d.name) })))`);
    });
    assert.deepEqual(pool.stats, { contextsCreated: 1, reused: 1, blocked: 0 }, 'the second task ran in the first one’s context');
    assert.deepEqual(seen, { cookie: '', local: 0, session: 0, history: 2, dbs: [] });
    const cookies = await pool.withPage((page) => page.context().cookies());
    assert.deepEqual(cookies, [], 'the server’s cookie is gone too');
  } finally {
    await pool.close();
  }
});

test('a task that failed does not hand its context to the next one', async () => {
  const pool = new BrowserPool(loadCoreConfig().browser.chromiumPath);
  try {
    await assert.rejects(
      pool.withPage(async (page) => {
        await page.goto(`${base}/set`);
        throw new Error('the task failed');
      }),
      /the task failed/,
    );
    const cookie = await pool.withPage(async (page) => {
      await page.goto(`${base}/read`);
      return page.evaluate('document.cookie');
    });
    assert.equal(cookie, '');
    assert.equal(pool.stats.contextsCreated, 2);
    assert.equal(pool.stats.reused, 0);
  } finally {
    await pool.close();
  }
});

test('images, fonts and trackers a task blocks never reach the server; other tasks load them', async () => {
  const pool = new BrowserPool(loadCoreConfig().browser.chromiumPath);
  try {
    hits.clear();
    const title = await pool.withPage(async (page) => {
      await page.goto(`${base}/heavy`, { waitUntil: 'load' });
      return page.title();
    }, { block: ['image', 'font', 'media', 'trackers'] });
    assert.equal(title, 'ran', 'the page’s own script still ran');
    assert.deepEqual([...hits.keys()].sort(), ['/heavy']);
    assert.ok(pool.stats.blocked >= 2, `blocked ${pool.stats.blocked}`);
    hits.clear();
    await pool.withPage(async (page) => {
      await page.goto(`${base}/heavy`, { waitUntil: 'load' });
    });
    assert.ok(hits.has('/photo.png') && hits.has('/gen_204'), `the next task, blocking nothing, loaded ${[...hits.keys()].join(', ')}`);
  } finally {
    await pool.close();
  }
});

test('tracker URLs are recognised by host and by logging path', () => {
  assert.equal(isTracker('https://www.google-analytics.com/g/collect?v=2'), true);
  assert.equal(isTracker('https://www.google.com/maps/vt/log?x=1'), true);
  assert.equal(isTracker('https://www.google.com/gen_204?atyp=i'), true);
  assert.equal(isTracker('https://www.google.com/maps/search/boulangerie'), false);
  assert.equal(isTracker('not a url'), false);
});
