/**
 * The polite fetcher against real HTTP servers on 127.0.0.1: cookies, politeness measured on the
 * server side, robots.txt, the error vocabulary, the breaker, the size limit and charsets.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InvalidInputError, NotAvailableError, RateLimitedError, RobotsDisallowedError, TransientError } from '../../activities/engine/errors';
import {
  BlockedError,
  CircuitOpenError,
  createFetcher,
  type Fetcher,
  type FetcherOptions,
  ResponseTooLargeError,
  RobotsUnavailableError,
} from '../../activities/engine/fetcher';
import { loadFetchConfig as loadFetcherConfig } from '../../schema/config';
import { createTransport } from '../../activities/engine/fetcher-transport';
import { type Clock, HostGuard, HostLimiter, politenessResolver } from '../../activities/engine/politeness';
import { ConfigError } from '../../schema/config';

interface Hit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  start: number;
  end: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

interface TestServer {
  base: string;
  host: string;
  hits: Hit[];
  /** Hits other than robots.txt. */
  pages(): Hit[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const fetchers: Fetcher[] = [];

/** A server whose routes are exact paths (with query); anything else is a 404. */
async function serve(routes: Record<string, Handler>): Promise<TestServer> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const start = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit: Hit = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), start, end: NaN };
      hits.push(hit);
      res.on('finish', () => (hit.end = performance.now()));
      const handler = routes[req.url ?? ''] ?? routes[(req.url ?? '').split('?')[0] ?? ''];
      if (!handler) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<title>Not Found</title>');
        return;
      }
      void Promise.resolve(handler(req, res, hit.body)).catch((err: unknown) => res.destroy(err as Error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const s: TestServer = {
    base: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits,
    pages: () => hits.filter((h) => h.path !== '/robots.txt'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

function fetcher(opts: FetcherOptions = {}): Fetcher {
  const f = createFetcher({ politeness: false, ...opts });
  fetchers.push(f);
  return f;
}

function html(body: string, status = 200, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers }).end(body);
  };
}

async function rejectsWith<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E, check?: (err: E) => void): Promise<E> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof type, `expected ${type.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  check?.(caught);
  return caught;
}

class TestReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
const reader = new TestReader();

before(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});

after(async () => {
  await Promise.all(fetchers.map((f) => f.close()));
  await Promise.all(servers.map((s) => s.close()));
  metrics.disable();
});

describe('sessions', () => {
  test('cookies are kept per session (also those set on a redirect) and isolated between sessions', async () => {
    let n = 0;
    const site = await serve({
      '/login': (_req, res) => {
        n++;
        res.writeHead(302, { location: '/whoami', 'set-cookie': [`PRADO=s${n}; Path=/; HttpOnly`] }).end();
      },
      '/whoami': (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(req.headers.cookie ?? '(none)');
      },
    });
    const f = fetcher();
    const a = f.session();
    const b = f.session();
    const first = await a.get(`${site.base}/login`);
    assert.equal(first.text(), 'PRADO=s1');
    assert.equal(first.url, `${site.base}/whoami`, 'the final URL after the redirect');
    assert.equal(first.redirects, 1);
    assert.equal((await b.get(`${site.base}/login`)).text(), 'PRADO=s2');
    assert.equal((await a.get(`${site.base}/whoami`)).text(), 'PRADO=s1', 'session a kept its own cookie');
    assert.equal((await f.get(`${site.base}/whoami`)).text(), '(none)', "the fetcher's own session saw none of them");
  });

  test('a form is posted url-encoded in UTF-8; a 302 after the post continues as a GET', async () => {
    const site = await serve({
      '/form': (_req, res) => void res.writeHead(302, { location: '/done' }).end(),
      '/done': html('<p>ok</p>'),
    });
    const f = fetcher();
    const res = await f.post(`${site.base}/form`, [
      ['ctl0$CONTENU_PAGE$resultSearch$listePageSizeTop', '500'],
      ['PRADO_POSTBACK_TARGET', 'ctl0$CONTENU_PAGE$resultSearch$PagerTop$ctl2'],
      ['q', 'marché à procédure'],
    ]);
    assert.equal(res.status, 200);
    const [post, get] = site.pages();
    assert.equal(post?.method, 'POST');
    assert.match(post?.headers['content-type'] ?? '', /^application\/x-www-form-urlencoded/);
    const sent = new URLSearchParams(post?.body);
    assert.equal(sent.get('ctl0$CONTENU_PAGE$resultSearch$listePageSizeTop'), '500');
    assert.equal(sent.get('q'), 'marché à procédure');
    assert.equal(get?.method, 'GET');
    assert.equal(get?.body, '');
    assert.match(post?.headers['user-agent'] ?? '', /^moisson\/0\.1 \(\+.+\)$/, 'an identifiable User-Agent with a contact');
  });

  test('only http(s) URLs are fetched', async () => {
    await rejectsWith(fetcher().get('file:///etc/passwd'), InvalidInputError);
  });
});

describe('politeness', () => {
  test('one request at a time per host, start-to-start spacing of 1/rate and a pause after each response', async () => {
    const site = await serve({ '/p': async (_req, res) => (await sleep(30), void res.writeHead(200).end('ok')) });
    const f = fetcher({ politeness: { maxConcurrent: 1, ratePerSecond: 10, delayMs: [50, 80] }, robots: false });
    // Opens the keep-alive connection first: a first request's connect time would blur the spacing seen here.
    await f.get(`${site.base}/p`);
    const a = f.session();
    const b = f.session();
    // Two sessions: the limiter is the host's, not the session's.
    await Promise.all([a.get(`${site.base}/p`), b.get(`${site.base}/p`), a.get(`${site.base}/p`), b.get(`${site.base}/p`)]);
    const hits = [...site.hits].sort((x, y) => x.start - y.start);
    assert.equal(hits.length, 5);
    // Timers may fire a millisecond early, and the server sees each start a little after the client.
    // Only lower bounds: an upper bound on wall time fails on a loaded machine; the draw within
    // [min, max] is checked with a fake clock below.
    const slack = 5;
    for (let i = 1; i < hits.length; i++) {
      const prev = hits[i - 1]!;
      const cur = hits[i]!;
      assert.ok(cur.start >= prev.end - slack, `request ${i} started before the previous one ended`);
      // The warm-up request (0) is stamped by the server after its connection setup, which shortens the
      // first gap as seen here: start-to-start spacing is checked inside the concurrent batch only.
      if (i >= 2) assert.ok(cur.start - prev.start >= 100 - slack, `request ${i} started ${(cur.start - prev.start).toFixed(1)} ms after the previous one (rate 10/s)`);
      assert.ok(cur.start - prev.end >= 50 - slack, `only ${(cur.start - prev.end).toFixed(1)} ms of pause before request ${i}`);
    }
  });

  test('hosts do not wait for each other', async () => {
    const one = await serve({ '/p': html('1') });
    const two = await serve({ '/p': html('2') });
    const f = fetcher({ politeness: { maxConcurrent: 1, ratePerSecond: 0, delayMs: [300, 300] }, robots: false });
    await Promise.all([f.get(`${one.base}/p`), f.get(`${one.base}/p`), f.get(`${two.base}/p`)]);
    const [o1, o2] = one.hits;
    const [t1] = two.hits;
    assert.ok(o2!.start - o1!.end >= 298, 'the second request to the same host waited for the pause');
    // Order, not wall time: the other host's request went out inside the first host's 300 ms pause.
    assert.ok(t1!.start < o2!.start, 'the other host was served without waiting for the first one');
  });

  test('politeness: false lets requests to a host overlap', async () => {
    const site = await serve({ '/p': async (_req, res) => (await sleep(50), void res.writeHead(200).end('ok')) });
    const f = fetcher({ robots: false });
    await Promise.all([1, 2, 3].map(() => f.get(`${site.base}/p`)));
    const [x, y, z] = site.hits;
    assert.ok(y!.start < x!.end && z!.start < x!.end, 'all three were in flight together');
  });

  test('the pause is drawn in [min, max] and measured from the end of the previous response (fake clock)', async () => {
    let now = 0;
    let draw = 0.5;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms), random: () => draw };
    const limiter = new HostLimiter(politenessResolver({ maxConcurrent: 1, ratePerSecond: 0.5, delayMs: [2000, 5000] }), clock);
    const release1 = await limiter.acquire('h');
    assert.equal(now, 0, 'the first request goes at once');
    now = 100; // its response took 100 ms
    await release1();
    const release2 = await limiter.acquire('h');
    assert.equal(now, 100 + 3500, 'the pause (2000 + 0.5 × 3000) runs from the end of the response, beyond the 2 s of the rate');
    now += 60_000; // a 60 s postback
    await release2();
    draw = 0;
    const start3 = now;
    await limiter.acquire('h');
    assert.equal(now - start3, 2000, 'after a slow response the minimum pause still applies');
    const other = now;
    await limiter.acquire('other');
    assert.equal(now, other, 'another host does not wait');
  });

  test('a request cancelled while it waits for its turn is never sent', async () => {
    const site = await serve({ '/p': html('ok') });
    const f = fetcher({ politeness: { maxConcurrent: 1, ratePerSecond: 0, delayMs: [2_000, 2_000] }, robots: false });
    await f.get(`${site.base}/p`);
    const cancel = new AbortController();
    const waiting = f.get(`${site.base}/p`, { signal: cancel.signal });
    setTimeout(() => cancel.abort(new Error('activity cancelled')), 50);
    await assert.rejects(waiting, /activity cancelled/);
    assert.equal(site.hits.length, 1);
  });

  test('the breaker opens after N blocks, lets requests through after the cool-down and reopens on the next block', () => {
    let now = 0;
    const guard = new HostGuard({ threshold: 2, coolDownMs: 1_000 }, { now: () => now, sleep: async () => undefined, random: () => 0 });
    assert.equal(guard.blocked('h'), false);
    assert.equal(guard.blocked('h'), true);
    assert.deepEqual(guard.admit('h'), { state: 'open', untilMs: 1_000, blocks: 2 });
    assert.equal(guard.admit('other'), undefined);
    now = 1_000;
    assert.equal(guard.admit('h'), undefined);
    assert.equal(guard.blocked('h'), true, 'still blocked after the cool-down: open again at once');
    now = 2_500;
    guard.answered('h');
    assert.equal(guard.blocked('h'), false, 'an answer reset the count');
  });

  test('the connect timeout is applied on this Node', async () => {
    const transport = createTransport({ connectMs: 1_000 });
    assert.equal(transport.connectTimeoutApplied, true);
    await transport.close();
  });
});

describe('robots.txt', () => {
  test('a disallowed URL fails before any request is sent; robots.txt is fetched once', async () => {
    const site = await serve({
      '/robots.txt': (_req, res) =>
        void res.writeHead(200, { 'content-type': 'text/plain' }).end('User-agent: *\nDisallow: /private\n\nUser-agent: moisson\nDisallow: /not-for-moisson\n'),
      '/public': html('ok'),
      '/private': html('secret'),
      '/not-for-moisson': html('no'),
    });
    const f = fetcher();
    await rejectsWith(f.get(`${site.base}/not-for-moisson`), RobotsDisallowedError);
    assert.equal((await f.get(`${site.base}/public`)).text(), 'ok', 'the group for our product token replaces the * group');
    assert.equal((await f.session().get(`${site.base}/private`)).text(), 'secret');
    assert.deepEqual(
      site.hits.map((h) => h.path),
      ['/robots.txt', '/public', '/private'],
    );
  });

  test('a 404 robots.txt allows everything', async () => {
    const site = await serve({ '/a': html('a') });
    const f = fetcher();
    assert.equal((await f.get(`${site.base}/a`)).status, 200);
    assert.deepEqual(
      site.hits.map((h) => [h.path, h.headers['user-agent']?.startsWith('moisson/')]),
      [
        ['/robots.txt', true],
        ['/a', true],
      ],
    );
  });

  test("a robots.txt that redirects to a page (the portal's) allows everything, without fetching that page", async () => {
    const site = await serve({
      '/robots.txt': (_req, res) => void res.writeHead(302, { location: '/index.php?page=entreprise.AccueilEntreprise' }).end(),
      '/index.php': html('<!DOCTYPE html><html>home</html>'),
    });
    const f = fetcher();
    await f.get(`${site.base}/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons`);
    assert.deepEqual(
      site.hits.map((h) => h.path),
      ['/robots.txt', '/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons'],
    );
  });

  test('a robots.txt served as an HTML page allows everything', async () => {
    const site = await serve({ '/robots.txt': html('<html><body>Disallow: /</body></html>'), '/x': html('x') });
    assert.equal((await fetcher().get(`${site.base}/x`)).status, 200);
  });

  test('a 5xx robots.txt closes the site for a while (retry later), with no request sent', async () => {
    const site = await serve({ '/robots.txt': html('down', 503), '/x': html('x') });
    const f = fetcher({ robots: { unavailableMs: 5_000 } });
    const err = await rejectsWith(f.get(`${site.base}/x`), RobotsUnavailableError);
    assert.ok(err instanceof RateLimitedError, 'it is a "retry later"');
    assert.ok(err.retryAfterMs > 4_000 && err.retryAfterMs <= 5_000);
    await rejectsWith(f.get(`${site.base}/x`), RobotsUnavailableError);
    assert.deepEqual(
      site.hits.map((h) => h.path),
      ['/robots.txt'],
      'robots.txt is not asked again within the window, the page never',
    );
  });
});

describe('errors', () => {
  test('429 with Retry-After is a RateLimitedError with that delay; the host is then left alone for it', async () => {
    const site = await serve({ '/busy': html('slow down', 429, { 'retry-after': '7' }), '/other': html('ok') });
    const f = fetcher();
    const err = await rejectsWith(f.get(`${site.base}/busy`), RateLimitedError);
    assert.equal(err.retryAfterMs, 7000);
    const again = await rejectsWith(f.get(`${site.base}/other`), RateLimitedError);
    assert.ok(again.retryAfterMs > 6000 && again.retryAfterMs <= 7000);
    assert.deepEqual(
      site.pages().map((h) => h.path),
      ['/busy'],
    );
  });

  test('503 with an HTTP-date Retry-After is a RateLimitedError; 503 without one is transient', async () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    const site = await serve({ '/maint': html('maintenance', 503, { 'retry-after': date }) });
    const err = await rejectsWith(fetcher().get(`${site.base}/maint`), RateLimitedError);
    assert.ok(err.retryAfterMs > 28_000 && err.retryAfterMs <= 30_000, `${err.retryAfterMs}`);
    const plain = await serve({ '/down': html('<title>Service Unavailable</title>', 503) });
    await rejectsWith(fetcher().get(`${plain.base}/down`), TransientError, (e) => assert.equal(e.kind, 'server'));
  });

  test('5xx, a timeout and a truncated body are transient; secrets stay out of the message', async () => {
    const site = await serve({
      '/boom': html('<title>Oops</title>', 500),
      '/slow': async (_req, res) => (await sleep(2_000), void res.end('late')),
      '/short': (_req, res) => {
        res.writeHead(200, { 'content-length': '1000' }).write('abc');
        setTimeout(() => res.destroy(), 20);
      },
      '/reset': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).write('<html>half');
        setTimeout(() => res.destroy(), 20);
      },
    });
    const f = fetcher();
    await rejectsWith(f.get(`${site.base}/boom?api_key=SECRET123`), TransientError, (e) => {
      assert.equal(e.kind, 'server');
      assert.doesNotMatch(e.message + JSON.stringify(e.details), /SECRET123/);
      assert.match(e.message, /500, "Oops"/);
    });
    const t0 = performance.now();
    await rejectsWith(f.get(`${site.base}/slow`, { timeoutMs: 150 }), TransientError, (e) => assert.equal(e.kind, 'timeout'));
    assert.ok(performance.now() - t0 < 1_000);
    await rejectsWith(f.get(`${site.base}/short`), TransientError, (e) => assert.equal(e.kind, 'truncated'));
    await rejectsWith(f.get(`${site.base}/reset`), TransientError, (e) => assert.equal(e.kind, 'truncated'));
  });

  test('a refused connection is a transient network error', async () => {
    const site = await serve({});
    const url = `${site.base}/x`;
    await site.close();
    await rejectsWith(fetcher({ robots: false }).get(url), TransientError, (e) => assert.equal(e.kind, 'network'));
  });

  test('404 is NotAvailable unless accepted', async () => {
    const site = await serve({});
    const f = fetcher();
    await rejectsWith(f.get(`${site.base}/nope`), NotAvailableError);
    assert.equal((await f.get(`${site.base}/nope`, { accept: [404] })).status, 404);
  });

  test('a 403 storm opens the breaker: requests fail at once until the cool-down, then go through again', async () => {
    let blocking = true;
    const site = await serve({ '/p': (_req, res) => void (blocking ? res.writeHead(403, { 'content-type': 'text/html' }).end('<title>Forbidden</title>') : res.end('ok')) });
    const f = fetcher({ breaker: { threshold: 3, coolDownMs: 300 } });
    for (let i = 1; i <= 3; i++) {
      await rejectsWith(f.session().get(`${site.base}/p`), BlockedError, (e) => assert.equal(e.details.breakerOpened, i === 3));
    }
    const open = await rejectsWith(f.get(`${site.base}/p`), CircuitOpenError, (e) => assert.match(e.message, /blocked us 3 times in a row/));
    assert.ok(open.retryAfterMs > 0 && open.retryAfterMs <= 300);
    assert.equal(site.pages().length, 3, 'no request while the breaker is open');
    await sleep(320);
    blocking = false;
    assert.equal((await f.get(`${site.base}/p`)).text(), 'ok');
  });

  test('the classify hook turns a 200 WAF page into a typed error that counts as a block', async () => {
    const site = await serve({
      '/waf': html('<html><head><title>Request Rejected</title></head><body>The requested URL was rejected.</body></html>'),
      '/fine': html('<p>ok</p>'),
    });
    const f = fetcher({
      breaker: { threshold: 2, coolDownMs: 60_000 },
      classify: (res) => (res.text().includes('<title>Request Rejected</title>') ? new BlockedError(`WAF rejected ${res.url}`) : undefined),
    });
    await rejectsWith(f.get(`${site.base}/waf`), BlockedError);
    assert.equal((await f.get(`${site.base}/fine`)).status, 200, 'a good page resets the count');
    await rejectsWith(f.get(`${site.base}/waf`), BlockedError);
    await rejectsWith(f.get(`${site.base}/waf`), BlockedError, (e) => assert.equal(e.details.breakerOpened, true));
    await rejectsWith(f.get(`${site.base}/fine`), CircuitOpenError);
  });

  test('a body over the size limit is a stop error, whether announced or streamed', async () => {
    const big = 'x'.repeat(5_000);
    const site = await serve({
      '/announced': (_req, res) => void res.writeHead(200, { 'content-length': String(big.length) }).end(big),
      '/streamed': async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 10; i++) {
          if (!res.write(big)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      },
      '/small': html('y'.repeat(900)),
    });
    const f = fetcher({ maxBodyBytes: 1_000 });
    await rejectsWith(f.get(`${site.base}/announced`), ResponseTooLargeError);
    await rejectsWith(f.get(`${site.base}/streamed`), ResponseTooLargeError);
    assert.equal((await f.get(`${site.base}/small`)).body.length, 900);
  });
});

describe('charsets', () => {
  // é and ° are the same in ISO-8859-1; €, œ and ’ (0x80, 0x9c, 0x92) exist only in windows-1252, which
  // is what browsers read for both labels, and which Node 20's own TextDecoder gets wrong.
  const cp1252 = Buffer.concat([Buffer.from('Marché public n° 12 ', 'latin1'), Buffer.from([0x80, 0x20, 0x9c, 0x92])]);
  const page = (head: string) => Buffer.concat([Buffer.from(`<html><head>${head}<title>t</title></head><body>`), cp1252, Buffer.from('</body></html>')]);
  const expected = 'Marché public n° 12 € œ’';

  test('windows-1252 and ISO-8859-1 pages decode from the header, a <meta> or a guess', async () => {
    const send = (body: Buffer, type: string): Handler => (_req, res) => void res.writeHead(200, { 'content-type': type }).end(body);
    const site = await serve({
      '/header': send(page(''), 'text/html; charset=windows-1252'),
      '/meta': send(page('<meta charset="ISO-8859-1">'), 'text/html'),
      '/http-equiv': send(page('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'), 'text/html'),
      '/undeclared': send(page(''), 'text/html'),
      '/utf8': send(Buffer.from(`<html><meta charset="utf-8"><body>${expected}</body></html>`), 'text/html'),
    });
    const f = fetcher();
    for (const path of ['/header', '/meta', '/http-equiv', '/undeclared', '/utf8']) {
      const text = (await f.get(`${site.base}${path}`)).text();
      assert.ok(text.includes(expected), `${path}: ${text}`);
    }
  });
});

describe('configuration and metrics', () => {
  test('politeness comes from the environment, every bad variable reported at once', () => {
    const config = loadFetcherConfig({ FETCH_CONTACT: 'mailto:data@example.org', FETCH_HOSTS: '{"www.marchespublics.gov.ma":{"delayMs":[3000,6000]}}' });
    assert.equal(config.userAgent, 'moisson/0.1 (+mailto:data@example.org)');
    assert.deepEqual(config.politeness, { maxConcurrent: 1, ratePerSecond: 0.5, delayMs: [2000, 5000] });
    assert.deepEqual(config.hosts, { 'www.marchespublics.gov.ma': { delayMs: [3000, 6000] } });
    assert.equal(config.maxBodyBytes, 50 * 1024 * 1024);
    assert.equal(loadFetcherConfig({ FETCH_POLITENESS: 'off' }).politeness, false);
    assert.throws(
      () => loadFetcherConfig({ FETCH_RATE_PER_SECOND: 'fast', FETCH_DELAY_MIN_MS: '9000', FETCH_HOSTS: '{"h":{"delay":1}}' }),
      (err: unknown) => err instanceof ConfigError && err.issues.map((i) => i.variable).sort().join() === 'FETCH_DELAY_MAX_MS,FETCH_HOSTS,FETCH_RATE_PER_SECOND',
    );
  });

  test('requests are counted by host and status; Retry-After waits are recorded', async () => {
    const site = await serve({ '/ok': html('ok'), '/busy': html('busy', 429, { 'retry-after': '3' }) });
    const f = fetcher();
    await f.get(`${site.base}/ok`);
    await rejectsWith(f.session().get(`${site.base}/busy`), RateLimitedError);
    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const requests = all.find((m) => m.descriptor.name === 'moisson_http_requests');
    const point = (status: string) => requests?.dataPoints.find((p) => p.attributes.host === site.host && p.attributes.status === status)?.value;
    assert.equal(point('200'), 1);
    assert.equal(point('404'), 1, 'the robots.txt request counts too');
    assert.equal(point('429'), 1);
    const waits = all.find((m) => m.descriptor.name === 'moisson_rate_limit_wait_seconds');
    assert.ok(waits?.dataPoints.some((p) => p.attributes.host === site.host && (p.value as { sum?: number }).sum === 3));
  });
});
