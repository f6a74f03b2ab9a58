/**
 * The browser side of map listings, on the `moisson-browser` queue: the listing page is an app that
 * renders results with JavaScript and loads more as its feed is scrolled, so Chromium reads it (one
 * browser per worker process, contexts reused and reset between tasks, images, fonts, media and trackers
 * not loaded). The activity only renders and reads; the listings go back to the workflow (a few KB) and a
 * main-queue activity stores them (./maps.ts). Apart from ./maps.ts so that the browser worker does not
 * load what storing needs (cheerio, Readability, libphonenumber: ~20 MB of RSS).
 */
import type { BoundActivities } from '../../engine/bind';
import { pageUrl, type BrowserDeps } from '../../engine/browser';
import { ResponseShapeError, TransientError } from '../../engine/errors';
import { withHeartbeat } from '../../engine/heartbeat';
import { MapsListingItemSchema, type MapsListing } from '../../../schema/leads/items';

export interface RenderMapsListingsInput {
  url: string;
  maxResults: number;
  timeoutMs?: number;
}

export interface RenderMapsListingsResult {
  listings: MapsListing[];
  /** The feed said it reached its end (rather than stopping at maxResults). */
  reachedEnd: boolean;
  scrolls: number;
}

const FEED = '[role="feed"]';
const CARD = '[role="feed"] [role="article"]';
const END = '[role="feed"] .HlvSq';

/** Reads the cards in the page: name (aria-label), category · address, phone, website, rating. */
export const READ_CARDS = `[...document.querySelectorAll(${JSON.stringify(CARD)})].map((card) => {
  const text = (sel) => (card.querySelector(sel)?.textContent ?? '').trim() || null;
  const [category, ...rest] = (text('.addr') ?? '').split(' · ');
  const rating = text('.MW4etd');
  return {
    name: card.getAttribute('aria-label') ?? text('.qBF1Pd') ?? '',
    address: rest.join(' · ') || null,
    phone: text('.UsdlK'),
    website: card.querySelector('a.lcr4fd')?.href ?? null,
    category: category || null,
    rating: rating ? Number(rating.replace(',', '.')) : null,
  };
})`;

interface FeedState {
  count: number;
  ended: boolean;
  hasFeed: boolean;
  timedOut: boolean;
}

/**
 * Page code that waits for the feed's own signal instead of polling or sleeping: a MutationObserver
 * answers as soon as the app appended cards or showed the end of the list. \`first\`: wait for the
 * first card (or the end); otherwise scroll the feed to its bottom — which makes the app load the next
 * batch — and wait for more cards than \`known\`. A string: tsx would wrap named functions in a
 * `__name` helper the page lacks.
 */
function waitForFeed(first: boolean, known: number, timeoutMs: number): string {
  return `new Promise((resolve) => {
  const state = (timedOut) => ({ count: document.querySelectorAll(${JSON.stringify(CARD)}).length, ended: document.querySelector(${JSON.stringify(END)}) !== null, hasFeed: document.querySelector(${JSON.stringify(FEED)}) !== null, timedOut });
  const done = (s) => s.ended || s.count > ${known};
  const now = state(false);
  if (${first} && done(now)) return resolve(now);
  let timer;
  const observer = new MutationObserver(() => {
    const s = state(false);
    if (done(s)) { observer.disconnect(); clearTimeout(timer); resolve(s); }
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  timer = setTimeout(() => { observer.disconnect(); resolve(state(true)); }, ${timeoutMs});
  if (!${first}) { const feed = document.querySelector(${JSON.stringify(FEED)}); if (feed) feed.scrollTo(0, feed.scrollHeight); }
})`;
}

export async function renderMapsListings(deps: BrowserDeps, input: RenderMapsListingsInput): Promise<RenderMapsListingsResult> {
  const url = pageUrl(input.url);
  const timeout = input.timeoutMs ?? 30_000;
  return withHeartbeat((progress) =>
    deps.pool.withPage(async (page) => {
      try {
        await page.goto(url.toString(), { waitUntil: 'domcontentloaded', timeout });
      } catch (err) {
        throw new TransientError('network', `the browser could not load ${url.origin}${url.pathname}: ${(err as Error).message.split('\n')[0]}`);
      }
      let state = (await page.evaluate(waitForFeed(true, 0, timeout))) as FeedState;
      if (state.timedOut) {
        if (!state.hasFeed) throw new ResponseShapeError(`${url.origin}${url.pathname} has no result feed (${FEED}): the maps page changed`);
        throw new TransientError('timeout', `no listing appeared on ${url.origin}${url.pathname} within ${timeout} ms`);
      }
      let scrolls = 0;
      for (;;) {
        progress({ listings: state.count, scrolls });
        if (state.ended || state.count >= input.maxResults) break;
        scrolls++;
        state = (await page.evaluate(waitForFeed(false, state.count, timeout))) as FeedState;
        if (state.timedOut) throw new TransientError('timeout', `the feed of ${url.origin}${url.pathname} stopped loading after ${state.count} listings`);
      }
      const read = (await page.evaluate(`({ cards: ${READ_CARDS}, ended: document.querySelector(${JSON.stringify(END)}) !== null })`)) as { cards: unknown[]; ended: boolean };
      const listings = read.cards.slice(0, input.maxResults).map((r) => MapsListingItemSchema.parse(r));
      return { listings, reachedEnd: read.ended, scrolls };
    }, { block: ['image', 'font', 'media', 'trackers'] }),
  );
}

/** The maps activity of the browser queue, as the browser worker registers it (see `bindActivities`). */
export const mapsBrowserActivities = { renderMapsListings };

export type MapsBrowserActivities = BoundActivities<typeof mapsBrowserActivities>;
