/**
 * Map listings, the main queue's side: the seeds of a maps job and what a listing becomes. The listing
 * pages themselves are rendered by Chromium on the `moisson-browser` queue (./maps-render.ts).
 */
import type { CountryCode } from 'libphonenumber-js';
import type { MapsJobConfig, MapsListing } from '../../../schema/leads/items';
import { normalizePhone, siteOf } from '../extract';
import type { NewContact, NewPage } from '../store';

export function mapsSeeds(mapsUrl: string, config: MapsJobConfig): NewPage[] {
  return config.queries.map((query) => {
    const url = new URL(mapsUrl);
    url.searchParams.set('q', query);
    return { url: url.toString(), kind: 'maps' as const, depth: 0, context: { query } };
  });
}

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
