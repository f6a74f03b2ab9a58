/** Custom URL lists: each URL and its same-site links to `maxDepth` (user input: the SSRF guard applies to every hop). */
import type { CustomUrlsJobConfig } from '../../../schema/leads/items';
import type { NewPage } from '../store';
import { pageContacts, sameSiteLinks, type PageInput, type PageOutcome } from './common';

export function customUrlSeeds(config: CustomUrlsJobConfig): NewPage[] {
  return config.urls.map((url) => ({ url, kind: 'site' as const, depth: 0 }));
}

export function visitCustomPage(input: PageInput, config: CustomUrlsJobConfig): PageOutcome {
  return {
    contacts: pageContacts(input, ''),
    pages: input.row.depth < config.maxDepth ? sameSiteLinks(input, input.row.depth + 1, false) : [],
  };
}
