/**
 * The local replica of what the leads sources read, on one `node:http` server (README.md says what is
 * observed on the real services and what is inferred):
 *
 *   /search?q=&first=          a search engine's result pages (Bing's markup: li.b_algo, a.sb_pagN)
 *   /maps?q=                   a maps web app: an empty shell whose script loads listings from
 *   /maps/api/search?q=&page=  this JSON endpoint as the feed is scrolled (a browser is really needed)
 *   /sites/<slug>/…            small business websites: home, contact, about, services (+ 3 deeper pages),
 *                              emails written in the usual obfuscations
 *   /blog/, /blog/page/N, /blog/<slug>   a blog: paginated index and articles with author, date, lang
 *   /rdap/domain/<name>        RDAP (RFC 9083) answers for the model's domains
 *   /redirect?to=              a 302 anywhere (for the SSRF guard's redirect check)
 *
 * and a DNS server (UDP, same port number) answering MX queries for the model's domains.
 * Knobs: latency per request, failures on a path prefix; in-process or over HTTP (/__replica/…).
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { BLOG_PAGE_SIZE, buildBlogPosts, buildBusinesses, dnsZone, mapsMatches, type BlogPost, type Business, type Obfuscation } from './model';

export * from './model';

export interface LeadsReplicaOptions {
  port?: number;
  host?: string;
  /** UDP port of the DNS server; default: the HTTP port (0 = a free one). */
  dnsPort?: number;
  businesses?: number;
  posts?: number;
}

export interface LeadsReplicaFault {
  /** Requests whose path starts with this fail. */
  pathPrefix: string;
  status: number;
  /** How many requests are affected (default: all until cleared). */
  times?: number;
}

export interface LeadsReplica {
  url: string;
  dnsServer: string;
  businesses: Business[];
  posts: BlogPost[];
  siteUrl(b: Business): string;
  setLatency(ms: number): void;
  setFault(fault: LeadsReplicaFault): void;
  clearFaults(): void;
  /** Requests served, by path prefix (`/sites/x` counts under `/sites`). */
  requests(prefix?: string): number;
  /** DNS questions received. */
  dnsQueries(): number;
  close(): Promise<void>;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function page(title: string, body: string, lang = 'fr', head = ''): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${esc(title)}</title>${head}</head><body>${body}</body></html>`;
}

function cfEncode(email: string, key = 0x5a): string {
  return key.toString(16).padStart(2, '0') + [...email].map((c) => (c.charCodeAt(0) ^ key).toString(16).padStart(2, '0')).join('');
}

/** An email written the way one kind of site hides it from harvesters. */
export function writeEmail(email: string, how: Obfuscation): string {
  const [user, domain] = email.split('@') as [string, string];
  switch (how) {
    case 'mailto':
      return `<a href="mailto:${email}">Écrivez-nous</a>`;
    case 'at-dot':
      return `<span>${user} [at] ${domain.replace(/\./g, ' [dot] ')}</span>`;
    case 'paren':
      return `<span>${user}(at)${domain.replace(/\./g, '(dot)')}</span>`;
    case 'entities':
      return [...email].map((c) => `&#${c.charCodeAt(0)};`).join('');
    case 'cloudflare':
      return `<a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="${cfEncode(email)}">[email&#160;protected]</a>`;
    case 'reversed':
      return `<span style="unicode-bidi:bidi-override;direction:rtl">${esc([...email].reverse().join(''))}</span>`;
    case 'plain':
      return esc(email);
  }
}

function siteNav(b: Business): string {
  const base = `/sites/${b.slug}`;
  return `<nav><a href="${base}/">Accueil</a> <a href="${base}/contact">Contact</a> <a href="${base}/a-propos">À propos</a> <a href="${base}/services">Nos services</a></nav>`;
}

function siteFooter(b: Business): string {
  return `<footer><p>${esc(b.name)} — ${esc(b.address)}</p><p>${esc(b.contactEmails[0]!.email)}</p>
<p><a href="${b.socials.facebook}">Facebook</a> <a href="${b.socials.instagram}">Instagram</a> <a href="https://www.facebook.com/sharer/sharer.php?u=x">Partager</a></p></footer>`;
}

function sitePage(b: Business, path: string): string | undefined {
  const title = `${b.name} — ${b.city}`;
  const shell = (heading: string, content: string) => page(`${heading} | ${title}`, `${siteNav(b)}<main><h1>${esc(heading)}</h1>${content}</main>${siteFooter(b)}`);
  switch (path) {
    case '':
    case '/':
      return shell(b.name, `<p>${esc(b.name)} vous accueille à ${esc(b.city)} : ${b.keywords.map(esc).join(', ')}.</p><img src="/img/logo@2x.png" alt="">`);
    case '/contact':
      return shell(
        'Contact',
        `<p>Téléphone : <a href="tel:${b.phoneE164}">${esc(b.phone)}</a></p><address>${esc(b.address)}</address>` +
          b.contactEmails.map((e) => `<p>${writeEmail(e.email, e.how)}</p>`).join('') +
          `<p><a href="https://www.linkedin.com/company/${b.slug}">LinkedIn</a></p>`,
      );
    case '/a-propos':
      return shell('À propos', `<p>Depuis 1998, ${esc(b.name)} sert les habitants de ${esc(b.city)}. Appelez le ${esc(b.phone)}.</p>`);
    case '/services':
      return shell('Nos services', [1, 2, 3].map((i) => `<p><a href="/sites/${b.slug}/services/${i}">Service ${i}</a></p>`).join(''));
    case '/services/1':
    case '/services/3':
      return shell('Prestation', `<p>${b.keywords.map(esc).join(' · ')}</p>`);
    case '/services/2':
      return shell('Devis', `<p>Demandez un devis : ${writeEmail(b.deepEmail, 'at-dot')}</p>`);
    default:
      return undefined;
  }
}

function serp(businesses: Business[], origin: string, q: string, first: number): string {
  const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
  const hits = businesses.filter((b) => terms.every((t) => [...b.keywords, b.city.toLowerCase(), b.category, b.name.toLowerCase()].some((w) => w.toLowerCase().includes(t))));
  const start = Math.max(1, first);
  const pageHits = hits.slice(start - 1, start - 1 + 10);
  const items = pageHits
    .map(
      (b) =>
        `<li class="b_algo"><div class="b_tpcn"><cite>${esc(origin)}/sites/${b.slug}</cite></div><h2><a href="${origin}/sites/${b.slug}/" h="ID=SERP">${esc(b.name)} – ${esc(b.city)}</a></h2>` +
        `<div class="b_caption"><p>${esc(b.name)} à ${esc(b.city)} : ${b.keywords.map(esc).join(', ')}. ${esc(b.phone)}</p></div></li>`,
    )
    .join('');
  const next = start - 1 + 10 < hits.length ? `<li><a class="sb_pagN" href="/search?q=${encodeURIComponent(q)}&amp;first=${start + 10}" title="Page suivante">Suivant</a></li>` : '';
  return page(
    `${q} - Recherche`,
    `<div id="b_content"><span class="sb_count">${hits.length} résultats</span><ol id="b_results">${items || '<li class="b_no"><h1>Aucun résultat</h1></li>'}<li class="b_pag"><nav><ul>${next}</ul></nav></li></ol></div>`,
  );
}

const MAPS_PAGE = 8;

function mapsShell(q: string): string {
  // The listings exist only once the script has run: a plain HTTP fetch sees an empty feed.
  return page(
    `${q} - Maps`,
    `<div role="feed" aria-label="Résultats pour ${esc(q)}" id="feed" style="height:600px;overflow-y:auto"></div>
<script>
const q = ${JSON.stringify(q)};
const feed = document.getElementById('feed');
let next = 1, loading = false;
async function load() {
  if (loading || next === null) return;
  loading = true;
  const res = await fetch('/maps/api/search?q=' + encodeURIComponent(q) + '&page=' + next);
  const data = await res.json();
  for (const r of data.results) {
    const card = document.createElement('div');
    card.className = 'Nv2PK';
    card.setAttribute('role', 'article');
    card.setAttribute('aria-label', r.name);
    card.innerHTML = '<div class="qBF1Pd fontHeadlineSmall"></div><span class="MW4etd"></span><div class="W4Efsd addr"></div><span class="UsdlK"></span>' + (r.website ? '<a class="lcr4fd" data-value="Site Web"></a>' : '');
    card.querySelector('.qBF1Pd').textContent = r.name;
    card.querySelector('.MW4etd').textContent = String(r.rating).replace('.', ',');
    card.querySelector('.addr').textContent = r.category + ' · ' + r.address;
    card.querySelector('.UsdlK').textContent = r.phone;
    if (r.website) card.querySelector('.lcr4fd').href = r.website;
    card.style.height = '120px';
    feed.appendChild(card);
  }
  next = data.next;
  if (next === null) {
    const end = document.createElement('p');
    end.className = 'HlvSq';
    end.textContent = 'Vous êtes arrivé à la fin de la liste.';
    feed.appendChild(end);
  }
  loading = false;
}
feed.addEventListener('scroll', () => { if (feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 50) load(); });
setTimeout(load, 50);
</script>`,
  );
}

function blogIndex(posts: BlogPost[], pageNo: number): string | undefined {
  const pages = Math.ceil(posts.length / BLOG_PAGE_SIZE);
  if (pageNo < 1 || pageNo > pages) return undefined;
  const slice = posts.slice((pageNo - 1) * BLOG_PAGE_SIZE, pageNo * BLOG_PAGE_SIZE);
  const items = slice.map((p) => `<article class="post"><h2><a href="/blog/${p.slug}" rel="bookmark">${esc(p.title)}</a></h2><p>${esc(p.paragraphs[0]!.slice(0, 120))}…</p></article>`).join('');
  const nav = `${pageNo > 1 ? `<a rel="prev" href="${pageNo === 2 ? '/blog/' : `/blog/page/${pageNo - 1}`}">Précédent</a>` : ''} ${pageNo < pages ? `<a rel="next" href="/blog/page/${pageNo + 1}">Articles plus anciens</a>` : ''}`;
  return page('Le journal des artisans', `<header><a href="/blog/">Le journal des artisans</a> <a href="/blog/tag/prospection">#prospection</a></header><main>${items}</main><nav class="pagination">${nav}</nav>`);
}

function blogPost(p: BlogPost): string {
  const bio = p.authorEmail ? `<aside class="author-bio"><p>Écrire à l’auteur : ${writeEmail(p.authorEmail, 'at-dot')}</p></aside>` : '';
  const head = `<meta name="author" content="${esc(p.author)}"><meta property="article:published_time" content="${p.publishedAt}"><meta property="og:type" content="article">`;
  return page(
    `${p.title} – Le journal des artisans`,
    `<header><a href="/blog/">Le journal des artisans</a></header><main><article><h1>${esc(p.title)}</h1><p class="byline">Par <a rel="author" href="/blog/auteur">${esc(p.author)}</a>, <time datetime="${p.publishedAt}">${p.publishedAt.slice(0, 10)}</time></p>${p.paragraphs.map((x) => `<p>${esc(x)}</p>`).join('')}</article>${bio}</main><aside class="sidebar"><a href="/blog/">Accueil</a></aside>`,
    p.lang,
    head,
  );
}

function rdap(b: Business | undefined, domain: string, origin: string): { status: number; body: unknown } {
  if (!b || b.domain.startsWith('ancien-')) return { status: 404, body: { errorCode: 404, title: 'Not Found', description: [`${domain} is not registered`] } };
  const i = b.slug.length;
  return {
    status: 200,
    body: {
      rdapConformance: ['rdap_level_0', 'icann_rdap_response_profile_0'],
      objectClassName: 'domain',
      handle: `DOM${i}-FRNIC`,
      ldhName: b.domain,
      status: ['active'],
      events: [
        { eventAction: 'registration', eventDate: `20${10 + (i % 12)}-03-1${i % 9}T10:00:00Z` },
        { eventAction: 'expiration', eventDate: `2027-03-1${i % 9}T10:00:00Z` },
        { eventAction: 'last changed', eventDate: '2025-11-02T08:00:00Z' },
      ],
      entities: [
        {
          objectClassName: 'entity',
          handle: '1290',
          roles: ['registrar'],
          vcardArray: ['vcard', [['version', {}, 'text', '4.0'], ['fn', {}, 'text', 'OVH SAS']]],
        },
      ],
      nameservers: [
        { objectClassName: 'nameserver', ldhName: 'dns10.ovh.net' },
        { objectClassName: 'nameserver', ldhName: 'ns10.ovh.net' },
      ],
      links: [{ value: `${origin}/rdap/domain/${b.domain}`, rel: 'self', href: `${origin}/rdap/domain/${b.domain}`, type: 'application/rdap+json' }],
    },
  };
}

export async function startLeadsReplica(opts: LeadsReplicaOptions = {}): Promise<LeadsReplica> {
  const businesses = buildBusinesses(opts.businesses);
  const posts = buildBlogPosts(opts.posts);
  const bySlug = new Map(businesses.map((b) => [b.slug, b]));
  const byDomain = new Map(businesses.map((b) => [b.domain, b]));
  const bySlugPost = new Map(posts.map((p) => [p.slug, p]));
  let latencyMs = 0;
  let faults: (LeadsReplicaFault & { left: number })[] = [];
  const counts = new Map<string, number>();

  function reply(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8', headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers }).end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
    const url = new URL(req.url ?? '/', origin);
    const path = url.pathname;
    if (path.startsWith('/__replica/')) return control(req, res, url);
    const top = `/${path.split('/')[1] ?? ''}`;
    counts.set(top, (counts.get(top) ?? 0) + 1);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const fault = faults.find((f) => path.startsWith(f.pathPrefix) && f.left !== 0);
    if (fault) {
      fault.left--;
      return reply(res, fault.status, `<html><body><h1>${fault.status}</h1></body></html>`, 'text/html', fault.status === 429 ? { 'retry-after': '1' } : {});
    }
    if (path === '/robots.txt') return reply(res, 200, 'User-agent: *\nDisallow: /private/\n', 'text/plain');
    if (path === '/search') return reply(res, 200, serp(businesses, origin, url.searchParams.get('q') ?? '', Number(url.searchParams.get('first') ?? '1') || 1));
    if (path === '/maps') return reply(res, 200, mapsShell(url.searchParams.get('q') ?? ''));
    if (path === '/maps/api/search') {
      const q = url.searchParams.get('q') ?? '';
      const hits = businesses.filter((b) => mapsMatches(b, q));
      const pageNo = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
      const slice = hits.slice((pageNo - 1) * MAPS_PAGE, pageNo * MAPS_PAGE);
      const results = slice.map((b) => ({ name: b.name, address: b.address, phone: b.phone, website: `${origin}/sites/${b.slug}/`, category: b.keywords[0], rating: b.rating }));
      return reply(res, 200, JSON.stringify({ results, next: pageNo * MAPS_PAGE < hits.length ? pageNo + 1 : null }), 'application/json');
    }
    const site = /^\/sites\/([a-z0-9-]+)(\/.*)?$/.exec(path);
    if (site) {
      const b = bySlug.get(site[1]!);
      const html = b ? sitePage(b, (site[2] ?? '').replace(/\/$/, '') || '/') : undefined;
      return html ? reply(res, 200, html) : reply(res, 404, page('Introuvable', '<h1>404</h1>'));
    }
    if (path === '/blog' || path === '/blog/') return reply(res, 200, blogIndex(posts, 1)!);
    const blogPage = /^\/blog\/page\/(\d+)\/?$/.exec(path);
    if (blogPage) {
      const html = blogIndex(posts, Number(blogPage[1]));
      return html ? reply(res, 200, html) : reply(res, 404, page('Introuvable', '<h1>404</h1>'));
    }
    if (path === '/blog/tag/prospection') return reply(res, 200, page('#prospection', posts.slice(0, 3).map((p) => `<p><a href="/blog/${p.slug}">${esc(p.title)}</a></p>`).join('')));
    if (path === '/blog/auteur') return reply(res, 200, page('Auteurs', '<p>Nos auteurs.</p>'));
    const post = /^\/blog\/([a-z0-9-]+)\/?$/.exec(path);
    if (post && bySlugPost.has(post[1]!)) return reply(res, 200, blogPost(bySlugPost.get(post[1]!)!));
    const domain = /^\/rdap\/domain\/([^/]+)$/.exec(path);
    if (domain) {
      const name = decodeURIComponent(domain[1]!).toLowerCase();
      const r = rdap(byDomain.get(name), name, origin);
      return reply(res, r.status, JSON.stringify(r.body), 'application/rdap+json');
    }
    if (path === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
      return;
    }
    if (path === '/') return reply(res, 200, page('Replica', '<p><a href="/blog/">Blog</a> <a href="/search?q=boulangerie">Recherche</a></p>'));
    reply(res, 404, page('Not found', '<h1>404</h1>'));
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    if (url.pathname === '/__replica/latency') latencyMs = Number(body.ms ?? url.searchParams.get('ms') ?? 0);
    else if (url.pathname === '/__replica/faults' && req.method === 'DELETE') faults = [];
    else if (url.pathname === '/__replica/faults') api.setFault(body as unknown as LeadsReplicaFault);
    reply(res, 200, JSON.stringify({ latencyMs, faults, requests: Object.fromEntries(counts) }), 'application/json');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, String(err), 'text/plain');
      else res.destroy();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const dnsCount = { n: 0 };
  const dns = await startDnsServer(dnsZone(businesses), host, opts.dnsPort ?? port, dnsCount);
  const url = `http://${host}:${port}`;

  const api: LeadsReplica = {
    url,
    dnsServer: `${host}:${(dns.address() as AddressInfo).port}`,
    businesses,
    posts,
    siteUrl: (b) => `${url}/sites/${b.slug}/`,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setFault: (f) => {
      faults.push({ ...f, left: f.times ?? -1 });
    },
    clearFaults: () => {
      faults = [];
    },
    dnsQueries: () => dnsCount.n,
    requests: (prefix) => (prefix ? (counts.get(prefix) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0)),
    close: async () => {
      dns.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return api;
}

/** A small authoritative-style DNS server: MX answers, NXDOMAIN, or an empty answer (no MX). */
function startDnsServer(zone: ReturnType<typeof dnsZone>, host: string, port: number, count: { n: number }): Promise<Socket> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    count.n++;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    const entry = zone.get(name);
    const answers: dnsPacket.Answer[] = [];
    let rcode: 'NOERROR' | 'NXDOMAIN' = 'NOERROR';
    if (entry === undefined || entry === 'nxdomain') rcode = 'NXDOMAIN';
    else if (entry !== 'nomx' && question.type === 'MX') entry.mx.forEach((exchange, i) => answers.push({ type: 'MX', name: question.name, ttl: 3600, data: { preference: 10 * (i + 1), exchange } }));
    // dns-packet writes the response code from the low 4 bits of the flags (NXDOMAIN = 3).
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (rcode === 'NXDOMAIN' ? 3 : 0),
      questions: [question],
      answers,
    } as dnsPacket.Packet);
    socket.send(response, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve(socket));
  });
}
