/**
 * Search-engine result pages (Bing's markup: `li.b_algo h2 a`, next page `a.sb_pagN`, `first=` offset):
 * each result site is visited, with its contact pages when followDepth allows.
 */
import * as cheerio from 'cheerio';
import type { SearchJobConfig } from '../../../schema/leads/items';
import { ResponseShapeError } from '../../engine/errors';
import type { NewPage } from '../store';
import { pageContacts, sameSiteLinks, type PageInput, type PageOutcome } from './common';

export function searchSeeds(searchUrl: string, config: SearchJobConfig): NewPage[] {
  return config.queries.map((query) => {
    const url = new URL(searchUrl);
    url.searchParams.set('q', query);
    url.searchParams.set('first', '1');
    return { url: url.toString(), kind: 'serp' as const, depth: 0, context: { query, page: 1 } };
  });
}

export function parseResultPage(html: string, pageUrl: string): { results: { url: string; title: string; snippet: string }[]; next: string | undefined } {
  const $ = cheerio.load(html);
  const results: { url: string; title: string; snippet: string }[] = [];
  $('li.b_algo').each((_, el) => {
    const a = $(el).find('h2 a[href]').first();
    const href = a.attr('href');
    if (!href) return;
    results.push({ url: new URL(href, pageUrl).toString(), title: a.text().trim(), snippet: $(el).find('.b_caption p, p').first().text().trim() });
  });
  if (results.length === 0 && $('#b_results, #b_content').length === 0) {
    throw new ResponseShapeError(`${pageUrl} is not a result page (no #b_results): the search engine's markup changed or it showed a challenge`);
  }
  const next = $('a.sb_pagN[href]').attr('href');
  return { results, next: next ? new URL(next, pageUrl).toString() : undefined };
}

export function visitSearchPage(input: PageInput, config: SearchJobConfig): PageOutcome {
  const { row } = input;
  const query = String(row.context?.query ?? '');
  if (row.kind === 'serp') {
    const { results, next } = parseResultPage(input.html, input.url);
    const pageNo = Number(row.context?.page ?? 1);
    const pages: NewPage[] = results.map((r) => ({ url: r.url, kind: 'site', depth: 0, context: { query, title: r.title, snippet: r.snippet } }));
    if (next && pageNo < config.pagesPerQuery) pages.push({ url: next, kind: 'serp', depth: 0, context: { query, page: pageNo + 1 } });
    return { contacts: [], pages };
  }
  const hints = [query, row.context?.title, row.context?.snippet].filter(Boolean).join(' · ');
  return {
    contacts: pageContacts(input, hints),
    pages: row.depth < config.followDepth ? sameSiteLinks(input, row.depth + 1, true) : [],
  };
}
