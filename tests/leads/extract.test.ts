/**
 * Extraction and the SSRF guard on their own: the pages of the replica (each way of hiding an email
 * a site uses), a few hand-written snippets, and addresses of every range.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createFetcher } from '../../activities/engine/fetcher';
import { canonicalUrl, decodeCfEmail, emailsInText, extractArticle, extractContacts, normalizePhone, socialOf, urlFingerprint } from '../../activities/leads/extract';
import { parseResultPage } from '../../activities/leads/sources/search';
import { createSsrfGuard, refusedRange, SsrfRefusedError } from '../../activities/leads/ssrf';
import { categorize, isDisposable, isRole, namesFromEmail, syntaxProblem } from '../../activities/leads/validate';
import { parseRdap } from '../../activities/leads/whois';
import { startLeadsReplica, type LeadsReplica } from '../replicas/leads/index';

let replica: LeadsReplica;
before(async () => {
  replica = await startLeadsReplica({ dnsPort: 0 });
});
after(() => replica.close());

const page = async (path: string) => (await fetch(`${replica.url}${path}`)).text();

describe('extraction', () => {
  test('every obfuscation of the replica sites gives the address back, nothing more', async () => {
    for (const b of replica.businesses) {
      const url = `${replica.siteUrl(b)}contact`;
      const found = extractContacts(await page(new URL(url).pathname), url, 'FR');
      assert.deepEqual(found.emails.sort(), b.contactEmails.map((e) => e.email).sort(), `${b.slug}: ${b.contactEmails.map((e) => e.how).join(', ')}`);
      assert.deepEqual(found.phones, [b.phoneE164]);
      assert.equal(found.socials.facebook, b.socials.facebook, 'the share button is not the profile');
    }
  });

  test('spelled-out addresses, entities, Cloudflare and image names', () => {
    assert.deepEqual(emailsInText('écrire à jean.dupont [at] exemple [dot] fr ou info(at)exemple(dot)com'), ['jean.dupont@exemple.fr', 'info@exemple.com']);
    assert.deepEqual(emailsInText('contact AT atelier DOT fr'), ['contact@atelier.fr']);
    assert.equal(decodeCfEmail('42212d2c3623213602273a232f322e276c2c2736'), 'contact@example.net');
    const html = '<p>&#99;&#64;&#120;&#46;&#102;&#114;</p><img src="logo@2x.png"><p>logo@2x.png</p>';
    assert.deepEqual(extractContacts(html, 'https://x.fr/', 'FR').emails, ['c@x.fr']);
  });

  test('phones in national and international forms become E.164; socials keep the profile only', () => {
    assert.equal(normalizePhone('01 42 72 10 30', 'FR'), '+33142721030');
    assert.equal(normalizePhone('tel:+212 522-123456', 'FR'), '+212522123456');
    assert.equal(normalizePhone('12', 'FR'), undefined);
    assert.deepEqual(socialOf('https://www.linkedin.com/company/acme/'), ['linkedin', 'https://www.linkedin.com/company/acme']);
    assert.equal(socialOf('https://www.facebook.com/sharer/sharer.php?u=x'), undefined);
  });

  test('URL fingerprints ignore fragments, tracking parameters, parameter order and a trailing slash', () => {
    assert.equal(canonicalUrl('HTTPS://Example.com/a/?b=2&a=1&utm_source=x#top'), 'https://example.com/a?a=1&b=2');
    assert.equal(urlFingerprint('https://example.com/a?a=1&b=2'), urlFingerprint('https://example.com/a/?b=2&a=1&fbclid=zz'));
    assert.notEqual(urlFingerprint('https://example.com/a'), urlFingerprint('https://example.com/b'));
  });

  test('result pages: results, next page; a page that is not one says so', async () => {
    const html = await page('/search?q=boulangerie');
    const r = parseResultPage(html, `${replica.url}/search?q=boulangerie`);
    assert.equal(r.results.length, replica.businesses.filter((b) => b.keywords.includes('boulangerie')).length);
    assert.ok(r.results[0]!.url.startsWith(`${replica.url}/sites/`));
    assert.equal(r.next, undefined);
    const many = parseResultPage(await page('/search?q=e'), `${replica.url}/search?q=e`);
    assert.equal(many.results.length, 10);
    assert.equal(many.next, `${replica.url}/search?q=e&first=11`);
    assert.throws(() => parseResultPage('<html><body>Are you a robot?</body></html>', 'https://www.bing.com/search?q=x'), /not a result page/);
  });

  test('articles: title without the site name, author, date, language; index pages are not articles', async () => {
    const post = replica.posts[2]!;
    const a = extractArticle(await page(`/blog/${post.slug}`))!;
    assert.deepEqual([a.title, a.author, a.publishedAt, a.language], [post.title, post.author, post.publishedAt, 'en']);
    assert.ok(a.wordCount > 150);
    assert.equal(extractArticle(await page('/blog/tag/prospection')), undefined);
  });

  test('RDAP domain answers', () => {
    const r = parseRdap('x.fr', {
      objectClassName: 'domain',
      events: [{ eventAction: 'registration', eventDate: '2015-01-02T00:00:00Z' }],
      entities: [{ roles: ['registrar'], vcardArray: ['vcard', [['fn', {}, 'text', 'Gandi SAS']]] }],
      nameservers: [{ ldhName: 'NS1.GANDI.NET' }],
    });
    assert.deepEqual([r.registrar, r.registeredAt, r.nameservers], ['Gandi SAS', '2015-01-02T00:00:00Z', ['ns1.gandi.net']]);
    assert.throws(() => parseRdap('x.fr', { errorCode: 404 }), /not a domain object/);
  });
});

describe('validation rules', () => {
  test('syntax, roles, disposable domains, names, categories', () => {
    assert.equal(syntaxProblem('claire.martin@boulangerie-martin.fr'), undefined);
    for (const bad of ['a..b@x.fr', '.a@x.fr', 'a@x', 'a@-x.fr', 'a b@x.fr', `${'a'.repeat(65)}@x.fr`]) assert.ok(syntaxProblem(bad), bad);
    assert.ok(isRole('noreply', ['abuse']));
    assert.ok(isRole('postmaster+x', ['postmaster']));
    assert.ok(!isRole('contact', ['abuse', 'postmaster']));
    assert.ok(isDisposable('yopmail.com') && isDisposable('mail.yopmail.com') && !isDisposable('orange.fr'));
    assert.deepEqual(namesFromEmail('claire.martin'), { first: 'Claire', last: 'Martin' });
    assert.deepEqual(namesFromEmail('contact'), { first: null, last: null });
    assert.deepEqual(categorize('Plombier à Lyon, dépannage et rénovation', { building: ['plombier', 'rénovation'], restaurant: ['menu'] }), { category: 'building', scores: { building: 2 } });
    assert.equal(categorize('nothing here', { building: ['plombier'] }).category, 'general');
  });
});

describe('SSRF guard', () => {
  test('address ranges', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fc00::1', '0.0.0.0', '::ffff:127.0.0.1', '100.64.0.1']) {
      assert.ok(refusedRange(ip), ip);
    }
    for (const ip of ['93.184.216.34', '2606:4700:4700::1111']) assert.equal(refusedRange(ip), undefined, ip);
  });

  test('names resolving to loopback are refused; allowed host:port and CIDRs pass', async () => {
    const guard = createSsrfGuard(['127.0.0.1:4105', '10.9.0.0/16']);
    await assert.rejects(guard.check(new URL('http://localhost:4105/')), SsrfRefusedError);
    await assert.rejects(guard.check(new URL('http://127.0.0.1:4106/')), /loopback/);
    await assert.rejects(guard.check(new URL('http://[::ffff:169.254.169.254]/')), /linkLocal/);
    await guard.check(new URL('http://127.0.0.1:4105/sites/x'));
    await guard.check(new URL('http://10.9.1.2/'));
    await assert.rejects(guard.check(new URL('http://10.8.1.2/')), /private/);
  });

  test('the fetcher refuses a redirect to a refused target, and refuses at connect time too', async () => {
    const port = new URL(replica.url).port;
    const guard = createSsrfGuard([`127.0.0.1:${port}`]);
    const fetcher = createFetcher({ politeness: false, robots: false, guard: (u) => guard.check(u), lookup: guard.lookup });
    try {
      const ok = await fetcher.get(`${replica.url}/blog/`);
      assert.equal(ok.status, 200);
      await assert.rejects(fetcher.get(`${replica.url}/redirect?to=${encodeURIComponent(`http://localhost:${port}/blog/`)}`), SsrfRefusedError);
      // Without the pre-check, the connection itself is refused by the lookup.
      const raw = createFetcher({ politeness: false, robots: false, lookup: guard.lookup, breaker: false });
      await assert.rejects(raw.get(`http://localhost:${port}/blog/`), /refusing to connect to localhost/);
      await raw.close();
    } finally {
      await fetcher.close();
    }
  });
});

describe('leads configuration', () => {
  test('every bad leads variable is reported at once; secrets never printed', async () => {
    const { checkAllConfig, loadLeadsConfig, redactConfig } = await import('../../schema/config');
    const issues = checkAllConfig({
      METALPRICEAPI_KEY: 'k',
      LEADS_ROUTING: '{"default": {"platform": "x"}}',
      LEADS_CATEGORIES: 'not json',
      LEADS_SSRF_ALLOW: '10.0.0.0/8,nonsense',
      LEADS_PROXIES: 'socks5://p:1080',
      MAILWIZZ_API_VERSION: '1',
      MAILWIZZ_PUBLIC_KEY: 'pub',
      LEADS_DEFAULT_COUNTRY: 'france',
    });
    assert.deepEqual(issues.map((i) => i.variable).sort(), ['LEADS_CATEGORIES', 'LEADS_DEFAULT_COUNTRY', 'LEADS_PROXIES', 'LEADS_ROUTING', 'LEADS_SSRF_ALLOW', 'MAILWIZZ_PRIVATE_KEY']);
    const config = loadLeadsConfig({ MAILWIZZ_API_KEY: 'very-secret', LEADS_PROXIES: 'http://user:hunter2@proxy.example:3128' });
    const printed = JSON.stringify(redactConfig(config));
    assert.ok(!printed.includes('very-secret') && !printed.includes('hunter2'), printed);
  });
});
