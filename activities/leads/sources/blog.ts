/**
 * Blogs: index pages (paginated by `rel=next`) list article links (`rel=bookmark`, or links inside
 * `article`/`h2`); each article is read with Readability (title, author, date, language, main text),
 * and its author's email, when the page shows one, becomes a contact.
 */
import type { BlogJobConfig } from '../../../schema/leads/items';
import { extractArticle, linksOf, siteOf } from '../extract';
import type { NewPage } from '../store';
import { pageContacts, type PageInput, type PageOutcome } from './common';

export function blogSeeds(config: BlogJobConfig): NewPage[] {
  return config.urls.map((url) => ({ url, kind: 'blog_index' as const, depth: 0, context: { indexPage: 1 } }));
}

export function visitBlogPage(input: PageInput, config: BlogJobConfig): PageOutcome {
  const { row } = input;
  if (row.kind === 'blog_index') {
    const site = siteOf(input.url);
    const links = linksOf(input.html, input.url).filter((l) => siteOf(l.url) === site);
    const indexPage = Number(row.context?.indexPage ?? 1);
    const pages: NewPage[] = links
      .filter((l) => l.rel.includes('bookmark') || (l.inArticle && !l.rel.includes('next') && !l.rel.includes('prev')))
      .slice(0, config.maxArticles)
      .map((l) => ({ url: l.url, kind: 'article', depth: row.depth + 1, context: { title: l.text } }));
    const next = links.find((l) => l.rel.split(/\s+/).includes('next'));
    if (next && indexPage < config.maxIndexPages) pages.push({ url: next.url, kind: 'blog_index', depth: row.depth, context: { indexPage: indexPage + 1 } });
    // An article given as a seed URL: read it as one.
    const article = pages.length === 0 ? extractArticle(input.html) : undefined;
    return { contacts: article ? pageContacts(input, article.title ?? '', { name: article.author }) : [], pages, article };
  }
  const article = extractArticle(input.html);
  return { contacts: article ? pageContacts(input, article.title ?? '', { name: article.author }) : [], pages: [], article };
}
