/**
 * The browser pool of a browser worker: one Chromium per process (Debian's, by path: browsers are
 * never downloaded), launched on first use and relaunched if it dies. Creating a context and its page
 * costs a renderer process and was about half of a maps render, so contexts are kept and reused: a
 * task borrows an idle slot (one context, one page), and gives it back reset — page on about:blank,
 * navigation history dropped, cookies and every storage of the origins it visited (local and session
 * storage, IndexedDB, cache storage, service workers) cleared — so no job sees another job's state.
 * The HTTP cache is kept: it holds public responses (the maps app's scripts), no job's data. The reset
 * ends with a full garbage collection of the renderer, which otherwise grows from task to task. A slot
 * whose task failed, or that served `reuseLimit` tasks, is closed rather than reused.
 */
import type { Browser, BrowserContext, CDPSession, Page, Route } from 'playwright';
import { withHeartbeat } from './heartbeat';
import type { BoundActivities } from './bind';
import { ConfigurationError, InvalidInputError, TransientError } from './errors';

// Without the background-networking flags Chromium keeps calling home, which a closed network refuses.
// The memory flags, each measured on the maps bench: no zygote processes, the GPU (software) and network
// services inside the browser process (~100 MB RSS each as their own processes); no site isolation
// (a renderer per site and a spare one: our contexts hold no login nor secret another site could read);
// no omnibox popup WebUI, which new headless Chromium renders in a renderer of its own for every page;
// no SwiftShader GL behind the disabled GPU (compositing stays in software: ~10 MB less in the browser).
// Measured and left out: --js-flags (lite mode, jitless, small semi-space: renderers' heaps are not where
// the memory is), --renderer-process-limit (contexts never share a renderer), --single-process (Chromium
// dies on a second context), --disable-threaded-compositing (the maps render failed).
// Chromium keeps the last --enable/--disable-features: ours repeat Playwright's disabled list (its
// chromiumSwitches.ts), and replace its two enabled ones (screenshots, account sign-in: not used here).
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
];
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--in-process-gpu',
  '--disable-software-rasterizer',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--enable-features=NetworkServiceInProcess2',
  '--disable-site-isolation-trials',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup'].join(',')}`,
];

/** What a task may not need its page to load. */
export type BlockedResource = 'image' | 'font' | 'media' | 'stylesheet' | 'trackers';

/** Hosts that only measure the visit: never needed to read a page. */
const TRACKER_HOSTS = /(^|\.)(google-analytics\.com|googletagmanager\.com|doubleclick\.net|googlesyndication\.com|googleadservices\.com|facebook\.net|connect\.facebook\.com|hotjar\.com|clarity\.ms|scorecardresearch\.com|criteo\.(com|net)|adservice\.google\.[a-z.]+)$/;
/** Google's own logging endpoints (maps pings them as the feed moves). */
const TRACKER_PATHS = /^\/(gen_204|log|maps\/vt\/log|csi)\b/;

export function isTracker(url: string): boolean {
  try {
    const u = new URL(url);
    return TRACKER_HOSTS.test(u.hostname) || TRACKER_PATHS.test(u.pathname);
  } catch {
    return false;
  }
}

export interface PageOptions {
  /** Resource kinds aborted before they are requested (a listing needs no image, font or tracker). */
  block?: readonly BlockedResource[];
}

interface Slot {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  uses: number;
  /** Origins the page's frames were on during the current task: their storage is cleared after it. */
  origins: Set<string>;
  block: ReadonlySet<string>;
}

export interface BrowserPoolOptions {
  userAgent?: string;
  /** Tasks one context serves before it is closed and replaced (bounds what a long-lived renderer accumulates). */
  reuseLimit?: number;
}

export class BrowserPool {
  private browser: Promise<Browser> | undefined;
  private idle: Slot[] = [];
  private readonly userAgent: string;
  private readonly reuseLimit: number;
  /** Counters for the bench and the logs: how many contexts were created, how many tasks reused one. */
  readonly stats = { contextsCreated: 0, reused: 0, blocked: 0 };

  constructor(
    private readonly executablePath: string,
    options: BrowserPoolOptions = {},
  ) {
    this.userAgent = options.userAgent ?? 'moisson/0.1 (+https://github.com/moisson/moisson)';
    this.reuseLimit = options.reuseLimit ?? 50;
  }

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
      void launching.then(
        (b) =>
          b.on('disconnected', () => {
            // Its contexts died with it: never hand one out again.
            this.browser = undefined;
            this.idle = [];
          }),
        () => undefined,
      );
    }
    return this.browser;
  }

  private async newSlot(): Promise<Slot> {
    const browser = await this.launch();
    const context = await browser.newContext({ userAgent: this.userAgent, serviceWorkers: 'block' });
    try {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      const slot: Slot = { context, page, cdp, uses: 0, origins: new Set(), block: new Set() };
      page.on('framenavigated', (frame) => {
        const origin = originOf(frame.url());
        if (origin) slot.origins.add(origin);
      });
      // One route for the context's life; what it aborts is the current task's choice.
      await context.route('**/*', (route: Route) => {
        const request = route.request();
        if (slot.block.size > 0 && (slot.block.has(request.resourceType()) || (slot.block.has('trackers') && isTracker(request.url())))) {
          this.stats.blocked++;
          return route.abort('blockedbyclient');
        }
        return route.fallback();
      });
      this.stats.contextsCreated++;
      return slot;
    } catch (err) {
      await context.close().catch(() => undefined);
      throw err;
    }
  }

  /** Back to a blank page with nothing of the task left: history, cookies, every storage of its origins. */
  private async reset(slot: Slot): Promise<void> {
    // sessionStorage lives with the tab, not the origin's storage: cleared from inside while still there.
    await slot.page.evaluate('try { sessionStorage.clear() } catch {}').catch(() => undefined);
    await slot.page.goto('about:blank');
    // The rest at once: the renderer, the storage service and the browser each do their part.
    await Promise.all([
      slot.cdp.send('Page.resetNavigationHistory'),
      // A full GC of the renderer once the task's documents are gone: left to V8, a reused renderer grew by
      // ~3 MB a task (60 MB more at the peak of two renderers over 30 maps pages); it takes 10–30 ms.
      slot.cdp.send('HeapProfiler.collectGarbage'),
      ...[...slot.origins].map((origin) => slot.cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' })),
      slot.context.clearCookies(),
      slot.context.clearPermissions(),
    ]);
    slot.origins.clear();
  }

  async withPage<T>(fn: (page: Page) => Promise<T>, options: PageOptions = {}): Promise<T> {
    const reused = this.idle.pop();
    const slot = reused ?? (await this.newSlot());
    if (reused) this.stats.reused++;
    slot.block = new Set(options.block ?? []);
    slot.uses++;
    let healthy = false;
    try {
      const result = await fn(slot.page);
      healthy = true;
      return result;
    } finally {
      if (healthy && slot.uses < this.reuseLimit && !slot.page.isClosed()) {
        try {
          await this.reset(slot);
        } catch {
          healthy = false;
        }
      } else {
        healthy = false;
      }
      // A browser that died meanwhile took the context with it: the slot is dropped either way.
      if (healthy && this.browser) this.idle.push(slot);
      else await slot.context.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const b = this.browser;
    this.browser = undefined;
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((s) => s.context.close().catch(() => undefined)));
    await (await b?.catch(() => undefined))?.close();
  }
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
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
/** The page address an activity was given, or the permanent error that says it is none. */
export function pageUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new InvalidInputError(`not a URL: ${text}`);
  }
}

export async function probePage(deps: BrowserDeps, input: ProbePageInput): Promise<ProbePageResult> {
  const url = pageUrl(input.url);
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
