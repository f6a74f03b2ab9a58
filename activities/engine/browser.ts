/**
 * The browser pool of a browser worker: one Chromium per process (Debian's, by path: browsers are
 * never downloaded), launched on first use and relaunched if it dies; each task gets its own context,
 * closed afterwards, so cookies never leak between jobs.
 */
import type { Browser, BrowserContext, Page } from 'playwright';
import { withHeartbeat } from './heartbeat';
import type { BoundActivities } from './bind';
import { ConfigurationError, InvalidInputError, TransientError } from './errors';

// Without the background-networking flags Chromium keeps calling home, which a closed network refuses.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export class BrowserPool {
  private browser: Promise<Browser> | undefined;

  constructor(
    private readonly executablePath: string,
    private readonly userAgent = 'moisson/0.1 (+https://github.com/moisson/moisson)',
  ) {}

  private launch(): Promise<Browser> {
    if (!this.browser) {
      // Playwright is loaded on the first launch: its bundles cost ~35 MB of heap and ~50 MB of RSS in every
      // process that imports this module (the main worker imports it too, through the leads activities).
      const launching = import('playwright')
        .then(({ chromium }) => chromium.launch({ executablePath: this.executablePath, headless: true, args: CHROMIUM_ARGS }))
        .catch((err: unknown) => {
          this.browser = undefined;
          const message = err instanceof Error ? err.message : String(err);
          if (/ENOENT|doesn't exist|no such file/i.test(message)) {
            throw new ConfigurationError(`no Chromium at ${this.executablePath} (CHROMIUM_PATH); install Debian's chromium (npm run stack:install)`);
          }
          throw new TransientError('network', `Chromium failed to start: ${message.split('\n')[0]}`);
        });
      this.browser = launching;
      void launching.then((b) => b.on('disconnected', () => (this.browser = undefined)), () => undefined);
    }
    return this.browser;
  }

  async withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    const browser = await this.launch();
    let context: BrowserContext | undefined;
    try {
      context = await browser.newContext({ userAgent: this.userAgent, serviceWorkers: 'block' });
      const page = await context.newPage();
      return await fn(page);
    } finally {
      await context?.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    await (await b?.catch(() => undefined))?.close();
  }
}

export interface ProbePageInput {
  url: string;
  timeoutMs?: number;
}

export interface ProbePageResult {
  finalUrl: string;
  status: number | null;
  title: string;
  bytes: number;
  links: number;
  durationMs: number;
}

/** What the browser activities need: the process's browser pool (one Chromium, launched on first use). */
export interface BrowserDeps {
  pool: BrowserPool;
}

/** Renders a page in the real browser and says what came back: the browser queue's smoke check. */
export async function probePage(deps: BrowserDeps, input: ProbePageInput): Promise<ProbePageResult> {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new InvalidInputError(`not a URL: ${input.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError(`only http(s) pages can be probed, not ${url.protocol}`);
  const started = Date.now();
  return withHeartbeat(() =>
    deps.pool.withPage(async (page) => {
      let response;
      try {
        response = await page.goto(url.toString(), { waitUntil: 'load', timeout: input.timeoutMs ?? 30_000 });
      } catch (err) {
        throw new TransientError('network', `the browser could not load ${url}: ${(err as Error).message.split('\n')[0]}`);
      }
      const html = await page.content();
      return {
        finalUrl: page.url(),
        status: response?.status() ?? null,
        title: await page.title(),
        bytes: Buffer.byteLength(html),
        links: await page.locator('a[href]').count(),
        durationMs: Date.now() - started,
      };
    }),
  );
}

/** The browser queue's own activities, as the browser worker registers them (see `bindActivities`). */
export const browserActivities = { probePage };

export type BrowserActivities = BoundActivities<typeof browserActivities>;
