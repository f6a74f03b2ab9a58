/**
 * What a page gives a lead tool: emails (also the usual obfuscations: `[at]`/`(dot)` spellings, HTML
 * entities, Cloudflare's `data-cfemail`, reversed text), phone numbers normalized to E.164 with
 * libphonenumber-js, social profiles, the links to follow, and for blogs the article itself
 * (Mozilla's Readability on a linkedom document). Pure functions of the HTML: tested on pages.
 */
import { createHash } from 'node:crypto';
import { Readability } from '@mozilla/readability';
import * as cheerio from 'cheerio';
import { franc } from 'franc-min';
import { findPhoneNumbersInText, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { createRequire } from 'node:module';
import type * as Linkedom from 'linkedom';

export interface PageContacts {
  emails: string[];
  phones: string[];
  socials: Record<string, string>;
  title: string;
}

const EMAIL = /[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}/gi;
const AT = String.raw`\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|<\s*at\s*>|\s+at\s+|\s+arobase\s+|\[\s*arobase\s*\]|\(\s*arobase\s*\)|\[@\]|\(@\))\s*`;
const DOT = String.raw`\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|<\s*dot\s*>|\s+dot\s+|\s+point\s+|\[\s*point\s*\]|\(\s*point\s*\)|\[\.\]|\(\.\))\s*`;
const OBFUSCATED = new RegExp(String.raw`([a-z0-9][a-z0-9._%+-]{0,63})${AT}((?:[a-z0-9-]+(?:${DOT}|\.))+[a-z]{2,24})\b`, 'gi');
const DOT_ONLY = new RegExp(DOT, 'gi');
/** Image or asset names that look like addresses (`logo@2x.png`). */
const NOT_AN_EMAIL = /\.(png|jpe?g|gif|svg|webp|css|js|ico)$/i;

export const SOCIAL_HOSTS: Record<string, RegExp> = {
  facebook: /(^|\.)facebook\.com$|(^|\.)fb\.com$/,
  instagram: /(^|\.)instagram\.com$/,
  linkedin: /(^|\.)linkedin\.com$/,
  twitter: /(^|\.)twitter\.com$|^x\.com$|\.x\.com$/,
  youtube: /(^|\.)youtube\.com$|^youtu\.be$/,
  tiktok: /(^|\.)tiktok\.com$/,
  pinterest: /(^|\.)pinterest\.[a-z.]+$/,
};

const INLINE = 'b, i, em, strong, small, sup, sub, u, abbr, wbr';

function cleanEmail(raw: string): string | undefined {
  const email = raw.trim().replace(/^mailto:/i, '').split('?')[0]!.toLowerCase().replace(/\.+$/, '');
  if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,24}$/.test(email) || NOT_AN_EMAIL.test(email)) return undefined;
  return email;
}

/** Cloudflare's email protection: the first byte is the XOR key of the rest. */
export function decodeCfEmail(hex: string): string | undefined {
  if (!/^[0-9a-f]{4,}$/i.test(hex) || hex.length % 2 !== 0) return undefined;
  const key = parseInt(hex.slice(0, 2), 16);
  let out = '';
  for (let i = 2; i < hex.length; i += 2) out += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16) ^ key);
  return out;
}

/** Emails in plain text, spelled out ones included. */
export function emailsInText(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(EMAIL)) {
    const e = cleanEmail(m[0]);
    if (e) found.add(e);
  }
  for (const m of text.matchAll(OBFUSCATED)) {
    const e = cleanEmail(`${m[1]}@${m[2]!.replace(DOT_ONLY, '.')}`);
    if (e) found.add(e);
  }
  return [...found];
}

export function phonesInText(text: string, country: CountryCode): string[] {
  const found = new Set<string>();
  for (const m of findPhoneNumbersInText(text, { defaultCountry: country })) {
    if (m.number.isValid()) found.add(m.number.number);
  }
  return [...found];
}

export function normalizePhone(raw: string, country: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(raw.replace(/^tel:/i, ''), country);
  return parsed?.isValid() ? parsed.number : undefined;
}

export function socialOf(href: string): [string, string] | undefined {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  const host = url.hostname.toLowerCase();
  for (const [network, pattern] of Object.entries(SOCIAL_HOSTS)) {
    // A share button is not the company's profile.
    if (pattern.test(host) && !/\/(sharer|share|intent)\b/.test(url.pathname) && url.pathname.length > 1) return [network, `${url.origin}${url.pathname.replace(/\/$/, '')}`];
  }
  return undefined;
}

export function extractContacts(html: string, pageUrl: string, country: CountryCode): PageContacts {
  const $ = cheerio.load(html);
  const emails = new Set<string>();
  const phones = new Set<string>();
  const socials: Record<string, string> = {};
  $('[data-cfemail]').each((_, el) => {
    const e = cleanEmail(decodeCfEmail($(el).attr('data-cfemail') ?? '') ?? '');
    if (e) emails.add(e);
  });
  $('a[href]').each((_, el) => {
    const href = ($(el).attr('href') ?? '').trim();
    if (/^mailto:/i.test(href)) {
      const e = cleanEmail(decodeURIComponent(href));
      if (e) emails.add(e);
    } else if (/^tel:/i.test(href)) {
      const p = normalizePhone(href, country);
      if (p) phones.add(p);
    } else {
      let abs: string;
      try {
        abs = new URL(href, pageUrl).toString();
      } catch {
        return;
      }
      const social = socialOf(abs);
      if (social && !socials[social[0]]) socials[social[0]] = social[1];
    }
  });
  // Reversed addresses shown right-to-left by CSS read backwards in the source.
  $('[style*="rtl"], .reverse').each((_, el) => {
    const reversed = $(el).text().split('').reverse().join('');
    for (const e of emailsInText(reversed)) emails.add(e);
    $(el).remove();
  });
  $('script, style, noscript, template').remove();
  // Element boundaries are word boundaries: without them `<p>Paris</p><p>contact@x.fr</p>` reads `Pariscontact@x.fr`.
  $('*').not(INLINE).each((_, el) => {
    $(el).append(' ');
  });
  const text = $('body').length ? $('body').text() : $.root().text();
  const flat = text.replace(/[ \t\u00a0]+/g, ' ');
  for (const e of emailsInText(flat)) emails.add(e);
  for (const p of phonesInText(flat, country)) phones.add(p);
  return { emails: [...emails], phones: [...phones], socials, title: $('title').first().text().trim() };
}

/** Canonical form of a URL for de-duplication: no fragment, sorted query, no tracking parameters, no default port. */
export function canonicalUrl(raw: string): string {
  const url = new URL(raw);
  url.hash = '';
  url.hostname = url.hostname.toLowerCase();
  const params = [...url.searchParams.entries()].filter(([k]) => !/^(utm_|fbclid$|gclid$|ref$|mc_)/i.test(k)).sort(([a], [b]) => a.localeCompare(b));
  url.search = params.length ? `?${new URLSearchParams(params).toString()}` : '';
  if (url.pathname !== '/' && url.pathname.endsWith('/')) url.pathname = url.pathname.replace(/\/+$/, '');
  return url.toString();
}

export function urlFingerprint(raw: string): string {
  return createHash('sha256').update(canonicalUrl(raw)).digest('hex').slice(0, 32);
}

/** The registrable-ish host: `www.` dropped, for "same site" and contact domains. */
export function siteOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).host.toLowerCase().replace(/^www\./, '');
}

/** Links of a page, absolute, http(s) only, without fragments, each once. */
export function linksOf(html: string, pageUrl: string): { url: string; text: string; rel: string; inArticle: boolean }[] {
  const $ = cheerio.load(html);
  const base = $('base[href]').attr('href');
  const baseUrl = base ? new URL(base, pageUrl).toString() : pageUrl;
  const seen = new Set<string>();
  const links: { url: string; text: string; rel: string; inArticle: boolean }[] = [];
  $('a[href]').each((_, el) => {
    const href = ($(el).attr('href') ?? '').trim();
    if (!href || /^(mailto|tel|javascript|data):/i.test(href) || href.startsWith('#')) return;
    let abs: URL;
    try {
      abs = new URL(href, baseUrl);
    } catch {
      return;
    }
    if (abs.protocol !== 'http:' && abs.protocol !== 'https:') return;
    abs.hash = '';
    const key = abs.toString();
    if (seen.has(key)) return;
    seen.add(key);
    links.push({ url: key, text: $(el).text().trim().slice(0, 200), rel: ($(el).attr('rel') ?? '').toLowerCase(), inArticle: $(el).closest('article, .post, .entry, h2, h3').length > 0 });
  });
  return links;
}

/** Pages of a site where contacts usually are, followed first and even at the depth limit of a search job. */
export const CONTACT_PAGE = /contact|about|a-propos|apropos|qui-sommes|equipe|team|impressum|mentions|legal|nous-trouver|kontakt/i;

export interface ExtractedArticle {
  title: string | null;
  author: string | null;
  publishedAt: string | null;
  language: string | null;
  text: string;
  excerpt: string | null;
  wordCount: number;
}

// linkedom (~5 MB of heap) is loaded with the first page to read, not in every worker process.
const requireCjs = createRequire(import.meta.url);
let linkedom: typeof Linkedom | undefined;
const parseHTML = (html: string) => (linkedom ??= requireCjs('linkedom') as typeof Linkedom).parseHTML(html);

type Dom = ReturnType<typeof parseHTML>['document'];

function metaContent(document: Dom, selectors: string[]): string | null {
  for (const selector of selectors) {
    const el = document.querySelector(selector);
    const value = el?.getAttribute('content') ?? el?.getAttribute('datetime') ?? el?.textContent ?? null;
    if (value && value.trim()) return value.trim();
  }
  return null;
}

function isoOrNull(value: string | null): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

const FRANC_TO_ISO1: Record<string, string> = { fra: 'fr', eng: 'en', spa: 'es', deu: 'de', ita: 'it', por: 'pt', nld: 'nl', arb: 'ar', cmn: 'zh', rus: 'ru' };

/**
 * The article of a blog page, or undefined when the page has no main text (an index, a tag page).
 * Metadata first from the page's own markup (article:published_time, author meta, `<time>`, `lang`),
 * then from Readability; the language falls back to a detection on the text.
 */
export function extractArticle(html: string, minWords = 80): ExtractedArticle | undefined {
  const { document } = parseHTML(html);
  const declaredLang = document.documentElement?.getAttribute('lang')?.trim().toLowerCase().split(/[-_]/)[0] || null;
  const author = metaContent(document, ['meta[name="author"]', 'meta[property="article:author"]', '[rel="author"]', '.author', '.byline']);
  const published = metaContent(document, ['meta[property="article:published_time"]', 'meta[name="date"]', 'meta[itemprop="datePublished"]', 'time[datetime]']);
  // Read before Readability rewrites the document. It keeps the site's name in the title (`Post – Blog`); the page's only h1 is the post's own.
  const h1s = document.querySelectorAll('h1');
  const h1 = h1s.length === 1 ? h1s[0]!.textContent?.trim() : undefined;
  const reader = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], { charThreshold: 200 });
  const parsed = reader.parse();
  if (!parsed?.textContent) return undefined;
  const text = parsed.textContent.replace(/\s+\n/g, '\n').replace(/\n{3,}/g, '\n\n').replace(/[ \t]+/g, ' ').trim();
  const wordCount = text.split(/\s+/).filter(Boolean).length;
  if (wordCount < minWords) return undefined;
  const detected = franc(text.slice(0, 2000), { minLength: 40 });
  return {
    title: (h1 && parsed.title?.includes(h1) ? h1 : parsed.title?.trim()) || null,
    author: author ?? parsed.byline?.trim() ?? null,
    publishedAt: isoOrNull(published ?? parsed.publishedTime ?? null),
    language: declaredLang ?? parsed.lang?.split(/[-_]/)[0] ?? FRANC_TO_ISO1[detected] ?? null,
    text,
    excerpt: parsed.excerpt?.trim() || null,
    wordCount,
  };
}
