/**
 * The businesses, sites and blog posts the leads replica serves: deterministic, so tests and the
 * bench know exactly which contacts each source must yield (the oracle functions at the bottom).
 */

export type Obfuscation = 'mailto' | 'at-dot' | 'paren' | 'entities' | 'cloudflare' | 'reversed' | 'plain';

export interface Business {
  slug: string;
  name: string;
  category: string;
  /** Words a search or a listing shows about it. */
  keywords: string[];
  city: string;
  address: string;
  domain: string;
  /** National format, as sites print it. */
  phone: string;
  /** E.164, what extraction must give. */
  phoneE164: string;
  /** Emails on the contact page (with how each one is written) and on a depth-2 page. */
  contactEmails: { email: string; how: Obfuscation }[];
  deepEmail: string;
  socials: Record<string, string>;
  rating: number;
}

const CATEGORIES: { category: string; trade: string; keywords: string[] }[] = [
  { category: 'restaurant', trade: 'Boulangerie', keywords: ['boulangerie', 'pain', 'viennoiseries'] },
  { category: 'restaurant', trade: 'Restaurant', keywords: ['restaurant', 'menu', 'chef', 'cuisine'] },
  { category: 'hotel', trade: 'Hôtel', keywords: ['hôtel', 'chambres', 'réservation'] },
  { category: 'health', trade: 'Cabinet dentaire', keywords: ['dentiste', 'soins', 'santé'] },
  { category: 'legal', trade: 'Cabinet d’avocats', keywords: ['avocat', 'juridique', 'conseil'] },
  { category: 'building', trade: 'Plomberie', keywords: ['plombier', 'dépannage', 'rénovation'] },
];
const FAMILY = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefebvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux'];
const FIRST = ['claire', 'julien', 'sophie', 'nicolas', 'camille', 'antoine', 'lea', 'hugo', 'emma', 'louis', 'chloe', 'paul'];
const CITIES: { city: string; street: string; postcode: string; area: string }[] = [
  { city: 'Paris', street: 'rue de Rivoli', postcode: '75004', area: '1 42 72' },
  { city: 'Lyon', street: 'rue de la République', postcode: '69002', area: '4 78 42' },
  { city: 'Nantes', street: 'rue Crébillon', postcode: '44000', area: '2 40 48' },
];
const OBFUSCATIONS: Obfuscation[] = ['mailto', 'at-dot', 'paren', 'entities', 'cloudflare', 'reversed', 'plain'];

function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[’']/g, '-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Special cases, by index, that validation must sort out. */
export const SPECIAL = {
  /** A throwaway address next to the real one. */
  disposable: 2,
  /** A no-reply address next to the real one. */
  noReply: 3,
  /** A domain that no longer exists (no MX, NXDOMAIN). */
  deadDomain: 4,
  /** A malformed address (two dots in a row). */
  malformed: 5,
} as const;

export function buildBusinesses(count = 18): Business[] {
  const out: Business[] = [];
  for (let i = 0; i < count; i++) {
    const cat = CATEGORIES[i % CATEGORIES.length]!;
    const family = FAMILY[i % FAMILY.length]!;
    const place = CITIES[Math.floor(i / CATEGORIES.length) % CITIES.length]!;
    // Past 18 the trade/family/city triples repeat: a number keeps names, slugs and domains distinct.
    const round = Math.floor(i / 18);
    const name = `${cat.trade} ${family}${round ? ` ${round + 1}` : ''}`;
    const slug = ascii(`${cat.trade}-${family}-${place.city}${round ? `-${round + 1}` : ''}`);
    const domain = i === SPECIAL.deadDomain ? `ancien-${ascii(family)}-${i}.fr` : `${ascii(`${cat.trade}-${family}${round ? `-${round + 1}` : ''}`)}.fr`;
    const n = String(10 + i).padStart(2, '0');
    const phone = `0${place.area} ${n} ${String(30 + i).padStart(2, '0')}`;
    const first = FIRST[i % FIRST.length]!;
    const contactEmails: Business['contactEmails'] = [
      { email: `contact@${domain}`, how: OBFUSCATIONS[i % OBFUSCATIONS.length]! },
      { email: `${first}.${ascii(family)}@${domain}`, how: OBFUSCATIONS[(i + 3) % OBFUSCATIONS.length]! },
    ];
    if (i === SPECIAL.disposable) contactEmails.push({ email: `${first}.${ascii(family)}@yopmail.com`, how: 'plain' });
    if (i === SPECIAL.noReply) contactEmails.push({ email: `noreply@${domain}`, how: 'mailto' });
    if (i === SPECIAL.malformed) contactEmails.push({ email: `${first}..${ascii(family)}@${domain}`, how: 'plain' });
    out.push({
      slug,
      name,
      category: cat.category,
      keywords: cat.keywords,
      city: place.city,
      address: `${10 + i} ${place.street}, ${place.postcode} ${place.city}`,
      domain,
      phone,
      phoneE164: `+33${phone.slice(1).replace(/\s/g, '')}`,
      contactEmails,
      deepEmail: `devis@${domain}`,
      socials: { facebook: `https://www.facebook.com/${slug}`, instagram: `https://www.instagram.com/${slug.replace(/-/g, '')}` },
      rating: 3.5 + ((i * 7) % 15) / 10,
    });
  }
  return out;
}

export interface BlogPost {
  slug: string;
  title: string;
  author: string;
  authorEmail: string | undefined;
  publishedAt: string;
  lang: 'fr' | 'en';
  paragraphs: string[];
}

const FR_SENTENCES = [
  'Les artisans de quartier restent le cœur de la vie économique locale, et leur présence en ligne change la manière dont les clients les trouvent.',
  'Une boutique qui répond vite aux messages gagne la confiance de ses clients bien avant la première visite.',
  'Nous avons interrogé une vingtaine de commerçants sur leurs habitudes de prospection et sur les outils qu’ils utilisent chaque semaine.',
  'La plupart reconnaissent que la tenue d’un fichier de contacts propre demande plus de temps qu’ils ne l’imaginaient au départ.',
  'Les adresses invalides, les doublons et les domaines expirés coûtent cher lorsqu’une campagne part vers des boîtes qui n’existent plus.',
  'Un envoi progressif, quelques dizaines de messages par jour au début, protège la réputation du domaine expéditeur.',
];
const EN_SENTENCES = [
  'Small businesses that publish clear contact details are contacted far more often than those hiding behind a form.',
  'We looked at how local shops describe their services and how quickly they answer a first message.',
  'A clean list of contacts, without duplicates or dead domains, is the first condition of a healthy newsletter.',
  'Warming up a sending domain slowly, a few dozen messages a day at first, keeps it out of spam folders.',
  'Most owners told us they would rather receive one relevant offer than ten generic ones.',
  'Reading the bounce reports every week is the simplest way to spot a domain that stopped accepting mail.',
];

export function buildBlogPosts(count = 12): BlogPost[] {
  const posts: BlogPost[] = [];
  for (let i = 0; i < count; i++) {
    const lang = i % 3 === 2 ? 'en' : 'fr';
    const sentences = lang === 'fr' ? FR_SENTENCES : EN_SENTENCES;
    const paragraphs: string[] = [];
    for (let p = 0; p < 5; p++) paragraphs.push([0, 1, 2, 3].map((k) => sentences[(i + p + k) % sentences.length]).join(' '));
    const first = FIRST[(i + 5) % FIRST.length]!;
    const family = FAMILY[(i + 7) % FAMILY.length]!;
    const day = String(1 + ((i * 3) % 27)).padStart(2, '0');
    posts.push({
      slug: `article-${i + 1}-${lang === 'fr' ? 'prospection-locale' : 'local-outreach'}`,
      title: lang === 'fr' ? `Prospection locale, épisode ${i + 1}` : `Local outreach, part ${i + 1}`,
      author: `${first[0]!.toUpperCase()}${first.slice(1)} ${family}`,
      authorEmail: i % 4 === 0 ? `${first}.${ascii(family)}@journal-des-artisans.fr` : undefined,
      publishedAt: `2026-0${1 + (i % 9)}-${day}T08:30:00.000Z`,
      lang,
      paragraphs,
    });
  }
  return posts;
}

/** Blog posts per index page. */
export const BLOG_PAGE_SIZE = 5;

/** The emails a site yields when crawled to `depth` (home at 0; contact, about, services at 1; service pages at 2). */
export function siteEmails(b: Business, depth: number): string[] {
  const emails = new Set<string>();
  if (depth >= 1) for (const e of b.contactEmails) emails.add(e.email);
  // The home page's footer repeats the first address: the same contact twice on one job.
  emails.add(b.contactEmails[0]!.email);
  if (depth >= 2) emails.add(b.deepEmail);
  return [...emails].sort();
}

/** Pages of a site up to `depth`. */
export function sitePageCount(depth: number): number {
  return depth <= 0 ? 1 : depth === 1 ? 4 : 7;
}

/** Domains the DNS replica answers for, and how. */
export function dnsZone(businesses: Business[]): Map<string, { mx: string[] } | 'nxdomain' | 'nomx'> {
  const zone = new Map<string, { mx: string[] } | 'nxdomain' | 'nomx'>();
  for (const b of businesses) zone.set(b.domain, b.domain.startsWith('ancien-') ? 'nxdomain' : { mx: [`mx1.${b.domain}`, `mx2.${b.domain}`] });
  for (const d of ['yopmail.com', 'gmail.com', 'journal-des-artisans.fr', 'orange.fr']) zone.set(d, { mx: [`mx.${d}`] });
  zone.set('sans-mx.fr', 'nomx');
  return zone;
}

/** What the maps app lists for a query: every term found in the keywords, the city or the category. */
export function mapsMatches(b: Business, q: string): boolean {
  const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
  return terms.every((t) => [...b.keywords, b.city.toLowerCase(), b.category].some((w) => w.toLowerCase().includes(t)));
}
