/**
 * Map listings: the listing page is an app that renders results with JavaScript and loads more as its
 * feed is scrolled, so it is read by Chromium on the `moisson-browser` queue (one browser per worker
 * process, a fresh context per task, the page closed after). The activity only renders and reads;
 * the listings go back to the workflow (a few KB) and a main-queue activity stores them.
 */
import type { CountryCode } from 'libphonenumber-js';
import type { BoundActivities } from '../../engine/bind';
import type { BrowserDeps } from '../../engine/browser';
import { InvalidInputError, ResponseShapeError, TransientError } from '../../engine/errors';
import { withHeartbeat } from '../../engine/heartbeat';
import { MapsListingItemSchema, type MapsJobConfig, type MapsListing } from '../../../schema/leads/items';
import { normalizePhone, siteOf } from '../extract';
import type { NewContact, NewPage } from '../store';

export function mapsSeeds(mapsUrl: string, config: MapsJobConfig): NewPage[] {
  return config.queries.map((query) => {
    const url = new URL(mapsUrl);
    url.searchParams.set('q', query);
    return { url: url.toString(), kind: 'maps' as const, depth: 0, context: { query } };
  });
}

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
const READ_CARDS = `[...document.querySelectorAll(${JSON.stringify(CARD)})].map((card) => {
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

export async function renderMapsListings(deps: BrowserDeps, input: RenderMapsListingsInput): Promise<RenderMapsListingsResult> {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new InvalidInputError(`not a URL: ${input.url}`);
  }
  const timeout = input.timeoutMs ?? 30_000;
  return withHeartbeat((progress) =>
    deps.pool.withPage(async (page) => {
      try {
        await page.goto(url.toString(), { waitUntil: 'domcontentloaded', timeout });
      } catch (err) {
        throw new TransientError('network', `the browser could not load ${url.origin}${url.pathname}: ${(err as Error).message.split('\n')[0]}`);
      }
      try {
        await page.waitForSelector(`${CARD}, ${END}`, { timeout });
      } catch {
        if ((await page.locator(FEED).count()) === 0) throw new ResponseShapeError(`${url.origin}${url.pathname} has no result feed (${FEED}): the maps page changed`);
        throw new TransientError('timeout', `no listing appeared on ${url.origin}${url.pathname} within ${timeout} ms`);
      }
      let scrolls = 0;
      for (;;) {
        const count = await page.locator(CARD).count();
        const ended = (await page.locator(END).count()) > 0;
        progress({ listings: count, scrolls });
        if (ended || count >= input.maxResults) break;
        await page.locator(FEED).evaluate((el) => el.scrollTo(0, el.scrollHeight));
        scrolls++;
        try {
          // A string: this code runs in the page, where `document` exists (not in this program's types).
          await page.waitForFunction(
            `document.querySelectorAll(${JSON.stringify(CARD)}).length > ${count} || document.querySelector(${JSON.stringify(END)}) !== null`,
            undefined,
            { timeout },
          );
        } catch {
          throw new TransientError('timeout', `the feed of ${url.origin}${url.pathname} stopped loading after ${count} listings`);
        }
      }
      // Page code as a string: tsx would wrap named functions in a `__name` helper the page lacks.
      const raw = (await page.evaluate(READ_CARDS)) as unknown[];
      const listings = raw.slice(0, input.maxResults).map((r) => MapsListingItemSchema.parse(r));
      return { listings, reachedEnd: (await page.locator(END).count()) > 0, scrolls };
    }),
  );
}

/** The maps activity of the browser queue, as the browser worker registers it (see `bindActivities`). */
export const mapsBrowserActivities = { renderMapsListings };

export type MapsBrowserActivities = BoundActivities<typeof mapsBrowserActivities>;

/** A listing becomes a contact (its phone, no email yet) and its website a page to visit. */
export function listingContact(listing: MapsListing, sourceUrl: string, query: string, country: CountryCode): NewContact {
  const phone = listing.phone ? normalizePhone(listing.phone, country) : undefined;
  let domain: string | null = null;
  try {
    domain = listing.website ? siteOf(listing.website) : null;
  } catch {
    domain = null;
  }
  return {
    dedupKey: `listing:${listing.name.toLowerCase()}|${(listing.address ?? '').toLowerCase()}`,
    email: null,
    name: null,
    company: listing.name,
    phones: phone ? [phone] : [],
    socials: {},
    website: listing.website,
    address: listing.address,
    domain,
    sourceUrl,
    hints: [query, listing.category, listing.name].filter(Boolean).join(' · '),
  };
}
