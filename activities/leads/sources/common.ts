/** What visiting one page gives the job: contacts, new pages to visit, maybe an article. */
import type { CountryCode } from 'libphonenumber-js';
import { CONTACT_PAGE, extractContacts, linksOf, siteOf, type ExtractedArticle } from '../extract';
import type { FrontierRow, NewContact, NewPage } from '../store';

export interface PageOutcome {
  contacts: NewContact[];
  pages: NewPage[];
  article?: ExtractedArticle;
}

export interface PageInput {
  row: FrontierRow;
  /** The URL after redirects. */
  url: string;
  html: string;
  country: CountryCode;
}

/**
 * The contacts of a business page: one per email (phones and social profiles of the page attached),
 * or, with no email, one per phone so that a phone-only business is not lost.
 */
export function pageContacts(input: PageInput, hints: string, extra: Partial<NewContact> = {}): NewContact[] {
  const found = extractContacts(input.html, input.url, input.country);
  const site = siteOf(input.url);
  const allHints = [found.title, hints].filter(Boolean).join(' · ');
  if (found.emails.length > 0) {
    return found.emails.map((email) => ({
      dedupKey: email,
      email,
      phones: found.phones,
      socials: found.socials,
      website: `${new URL(input.url).origin}/`,
      domain: email.split('@')[1] ?? null,
      sourceUrl: input.url,
      hints: allHints,
      ...extra,
    }));
  }
  return found.phones.map((phone) => ({
    dedupKey: `phone:${phone}`,
    email: null,
    phones: [phone],
    socials: found.socials,
    website: `${new URL(input.url).origin}/`,
    domain: site,
    sourceUrl: input.url,
    hints: allHints,
    ...extra,
  }));
}

/** Same-site links of a page; with `contactOnly`, just the pages where contacts usually are. */
export function sameSiteLinks(input: PageInput, depth: number, contactOnly: boolean): NewPage[] {
  const site = siteOf(input.url);
  return linksOf(input.html, input.url)
    // Cloudflare's /cdn-cgi/l/email-protection is what its obfuscated addresses link to: never a page.
    .filter((l) => siteOf(l.url) === site && !/\.(pdf|jpe?g|png|gif|zip|docx?|xlsx?|mp4|svg|css|js)$/i.test(new URL(l.url).pathname) && !new URL(l.url).pathname.startsWith('/cdn-cgi/'))
    .filter((l) => !contactOnly || CONTACT_PAGE.test(l.url) || CONTACT_PAGE.test(l.text))
    .map((l) => ({ url: l.url, kind: 'site' as const, depth, context: input.row.context ?? undefined }));
}
