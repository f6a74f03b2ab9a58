/**
 * One side of the `leads.maps.browser` scenario, run as its own process so that its peak memory (this
 * process plus its Chromium) is measured apart from the bench and the replica, as a browser worker's
 * would be. `moisson`: the browser pool and the renderMapsListings activity; `playwright`: what a plain
 * Playwright script does with the same Chromium — a fresh context per page, nothing blocked, Playwright's
 * own waits. Both render `renders` pages `concurrency` at a time after one warm-up render (Chromium's
 * start) and print one JSON line: the time of each page, the wall time and every page's listings.
 *
 *   node --import tsx scripts/bench/maps-render.ts '{"side":"moisson","url":…,"renders":30,"concurrency":2,"chromiumPath":…}'
 */
import { z } from 'zod';

const Args = z.object({
  side: z.enum(['moisson', 'playwright']),
  url: z.string().url(),
  renders: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  chromiumPath: z.string().min(1),
});
type Args = z.infer<typeof Args>;

type Render = (url: string) => Promise<{ listings: unknown[]; reachedEnd: boolean; scrolls: number }>;

async function moissonSide(args: Args): Promise<{ render: Render; close: () => Promise<void>; stats: () => unknown }> {
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  const { bindActivities } = await import('../../activities/engine/bind');
  const { BrowserPool } = await import('../../activities/engine/browser');
  // The activities as the browser worker registers them, through its own module: this process loads what
  // a browser worker loads (but its telemetry and the Temporal connection).
  const { browserQueueActivities } = await import('../../workers/create-browser');
  const pool = new BrowserPool(args.chromiumPath);
  const { renderMapsListings } = bindActivities({ pool }, browserQueueActivities);
  return {
    render: (url) => new MockActivityEnvironment().run(() => renderMapsListings({ url, maxResults: 100 })) as ReturnType<Render>,
    close: () => pool.close(),
    stats: () => pool.stats,
  };
}

async function playwrightSide(args: Args): Promise<{ render: Render; close: () => Promise<void>; stats: () => unknown }> {
  const { chromium } = await import('playwright');
  const { READ_CARDS } = await import('../../activities/leads/sources/maps-render');
  const browser = await chromium.launch({ executablePath: args.chromiumPath, headless: true });
  const card = '[role="feed"] [role="article"]';
  const end = '[role="feed"] .HlvSq';
  let contexts = 0;
  let requests = 0;
  return {
    async render(url) {
      const context = await browser.newContext();
      contexts++;
      try {
        const page = await context.newPage();
        page.on('request', () => requests++);
        await page.goto(url);
        await page.waitForSelector(`${card}, ${end}`);
        let scrolls = 0;
        for (;;) {
          const count = await page.locator(card).count();
          if ((await page.locator(end).count()) > 0 || count >= 100) break;
          await page.locator('[role="feed"]').evaluate((el) => el.scrollTo(0, el.scrollHeight));
          scrolls++;
          await page.waitForFunction(`document.querySelectorAll(${JSON.stringify(card)}).length > ${count} || document.querySelector(${JSON.stringify(end)}) !== null`);
        }
        const listings = (await page.evaluate(READ_CARDS)) as unknown[];
        return { listings, reachedEnd: (await page.locator(end).count()) > 0, scrolls };
      } finally {
        await context.close();
      }
    },
    close: () => browser.close(),
    stats: () => ({ contextsCreated: contexts, requests }),
  };
}

async function main(): Promise<void> {
  const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
  const side = args.side === 'moisson' ? await moissonSide(args) : await playwrightSide(args);
  try {
    await side.render(args.url);
    const pageMs: number[] = [];
    const pages: { listings: unknown[]; reachedEnd: boolean; scrolls: number }[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: args.concurrency }, async () => {
        while (next < args.renders) {
          next++;
          const t = performance.now();
          pages.push(await side.render(args.url));
          pageMs.push(performance.now() - t);
        }
      }),
    );
    const wallMs = performance.now() - start;
    process.stdout.write(`${JSON.stringify({ wallMs, pageMs, pages, stats: side.stats() })}\n`);
  } finally {
    await side.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`maps-render: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
