/**
 * The leads read routes (/api/v1/leads/contacts…, /api/v1/leads/articles…) on what real leads jobs collected
 * from the leads replica, and the console's sign-in: sessions, their expiry, CSRF tokens on writes, sessions
 * standing in for read keys, and the built page served at /console/. Every response is checked against the
 * OpenAPI document.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import { createLeadsWorld, type LeadsWorld } from '../leads/harness';
import { collectLeads, CONSOLE_PASSWORD, consoleApiContext } from '../console/world';
import { Contract } from './contract';

let world: LeadsWorld;
let app: ZodApp;
let contract: Contract;
let clock = Date.now();

before(async () => {
  world = await createLeadsWorld();
  await collectLeads(world);
  app = await buildApp(consoleApiContext(world), { logger: false, consoleClock: () => clock });
  contract = await Contract.of(app);
});

after(async () => {
  await app?.close();
  await world?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => contract.inject(app, { method: 'GET', url, headers });

interface Contact {
  id: number;
  jobId: string;
  email: string | null;
  domain: string | null;
  validation: string;
  category: string | null;
  listUid: string | null;
  sourceUrl: string;
}

async function allContacts(query: string): Promise<Contact[]> {
  const out: Contact[] = [];
  let cursor: string | null = null;
  do {
    const res = await get(`/api/v1/leads/contacts?limit=3${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ items: Contact[]; page: { next_cursor: string | null } }>();
    out.push(...body.items);
    cursor = body.page.next_cursor;
  } while (cursor);
  return out;
}

describe('leads contacts and articles', () => {
  test('stats count each stage as the tables do', async () => {
    const res = await get('/api/v1/leads/contacts/stats');
    assert.equal(res.statusCode, 200, res.body);
    const stats = res.json<{ scraped: number; validated: number; sent: number; byValidation: Record<string, number>; categories: { value: string; count: number }[] }>();
    const [db] = await world.db.sql<{ scraped: number; validated: number; valid: number }[]>`
      select (select count(*)::int from leads.scraped_contacts) as scraped, (select count(*)::int from leads.validated_contacts) as validated,
             (select count(*)::int from leads.scraped_contacts where status = 'valid') as valid`;
    assert.ok(db!.scraped > 5 && db!.validated > 0, `the jobs collected contacts (${db!.scraped} scraped, ${db!.validated} validated)`);
    assert.deepEqual([stats.scraped, stats.validated, stats.sent, stats.byValidation.valid], [db!.scraped, db!.validated, 0, db!.valid]);
    assert.equal(stats.categories.reduce((n, c) => n + c.count, 0), db!.validated);
  });

  test('the list pages by cursor over every contact, newest first, and each filter selects what the tables say', async () => {
    const all = await allContacts('');
    const ids = await world.db.sql<{ id: number }[]>`select id::int from leads.scraped_contacts order by id desc`;
    assert.deepEqual(all.map((c) => c.id), ids.map((r) => r.id));

    const [one] = await world.db.sql<{ domain: string; category: string; list_uid: string }[]>`
      select s.domain, v.category, v.list_uid from leads.validated_contacts v join leads.scraped_contacts s on s.id = v.scraped_contact_id order by v.id limit 1`;
    const byDomain = await allContacts(`&domain=${one!.domain.toUpperCase()}`);
    assert.ok(byDomain.length > 0 && byDomain.every((c) => c.domain === one!.domain));
    const expectedDomain = await world.db.sql`select id from leads.scraped_contacts where domain = ${one!.domain}`;
    assert.equal(byDomain.length, expectedDomain.length);

    const filtered = await allContacts(`&category=${one!.category}&list=${one!.list_uid}&validation=valid&stage=validated`);
    const expected = await world.db.sql<{ id: number }[]>`
      select s.id::int from leads.scraped_contacts s join leads.validated_contacts v on v.scraped_contact_id = s.id
       where v.category = ${one!.category} and v.list_uid = ${one!.list_uid} and s.status = 'valid' order by s.id desc`;
    assert.ok(expected.length > 0);
    assert.deepEqual(filtered.map((c) => c.id), expected.map((r) => r.id));

    const word = one!.domain.split('.')[0]!.slice(2, 8);
    const searched = await allContacts(`&q=${encodeURIComponent(word.toUpperCase())}`);
    assert.ok(searched.length > 0 && searched.every((c) => `${c.email} ${c.domain}`.toLowerCase().includes(word)), `search ${word}`);
    assert.equal((await allContacts('&stage=sent')).length, 0, 'nothing was synced to MailWizz yet');

    const bad = await get('/api/v1/leads/contacts?validation=maybe&colour=red');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json<{ issues: { field: string }[] }>().issues.map((i) => i.field).sort(), ['colour', 'validation']);
  });

  test('a contact tells where it was found, with its archived page once the proof store has it', async () => {
    const [c] = await allContacts('&stage=validated');
    const first = await get(`/api/v1/leads/contacts/${c!.id}`);
    assert.equal(first.statusCode, 200, first.body);
    const detail = first.json<{ sourceUrl: string; job: { id: string; sourceType: string }; validated: { category: string } | null; proof: unknown }>();
    const [job] = await world.db.sql<{ source_type: string }[]>`select source_type from leads.jobs where id = ${c!.jobId}`;
    assert.deepEqual(detail.job, { ...detail.job, id: c!.jobId, sourceType: job!.source_type });
    assert.equal(detail.sourceUrl, c!.sourceUrl);
    assert.equal(detail.validated?.category, c!.category);
    assert.equal(detail.proof, null);
    const page = await fetch(c!.sourceUrl).then((r) => r.text());
    const { proofId } = await consoleApiContext(world).proofs.put({ url: c!.sourceUrl, body: Buffer.from(page), fetchedAt: new Date(), contentType: 'text/html', kind: 'leads.page' });
    const withProof = (await get(`/api/v1/leads/contacts/${c!.id}`)).json<{ proof: { proofId: string; href: string } }>();
    assert.equal(withProof.proof.proofId, proofId);
    assert.equal(withProof.proof.href, `/api/v1/proofs/${proofId}`);
    assert.equal((await get('/api/v1/leads/contacts/999999999')).statusCode, 404);
  });

  test('the CSV export holds exactly the filtered contacts', async () => {
    const listed = await allContacts('&validation=valid');
    const res = await get('/api/v1/leads/contacts/export/csv?validation=valid');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="contacts-\d{4}-\d{2}-\d{2}\.csv"/);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((r) => Number(r.id)), listed.map((c) => c.id));
    assert.ok(rows.every((r) => r.validation === 'valid' && r.email));
  });

  test('articles: list, facets, filters, detail with the text, CSV and JSON Lines exports', async () => {
    const [count] = await world.db.sql<{ n: number }[]>`select count(*)::int as n from leads.articles`;
    assert.ok(count!.n > 0, 'the blog job stored articles');
    const facets = (await get('/api/v1/leads/articles/facets')).json<{ total: number; languages: { value: string; count: number }[]; domains: { value: string }[] }>();
    assert.equal(facets.total, count!.n);
    assert.deepEqual(facets.domains.map((d) => d.value), ['127.0.0.1']);
    const lang = facets.languages[0]!;
    const list = await get(`/api/v1/leads/articles?language=${lang.value}&domain=127.0.0.1&limit=500`);
    assert.equal(list.statusCode, 200, list.body);
    const items = list.json<{ items: { id: number; title: string; language: string }[] }>().items;
    assert.equal(items.length, lang.count);
    const titled = items[0]!;
    const byTitle = (await get(`/api/v1/leads/articles?q=${encodeURIComponent(titled.title.slice(0, 12))}`)).json<{ items: { id: number }[] }>().items;
    assert.ok(byTitle.some((a) => a.id === titled.id));
    const detail = await get(`/api/v1/leads/articles/${titled.id}`);
    assert.equal(detail.statusCode, 200);
    const [text] = await world.db.sql<{ text: string }[]>`select text from leads.articles where id = ${titled.id}`;
    assert.equal(detail.json<{ text: string }>().text, text!.text);
    const jsonl = await get(`/api/v1/leads/articles/export/jsonl?language=${lang.value}`);
    const lines = jsonl.body.trim().split('\n').map((l) => JSON.parse(l) as { id: number; text: string });
    assert.deepEqual(lines.map((l) => l.id), items.map((a) => a.id));
    const csv = parse((await get('/api/v1/leads/articles/export/csv')).body, { columns: true }) as Record<string, string>[];
    assert.equal(csv.length, count!.n);
    assert.equal((await get('/api/v1/leads/articles/999999999')).statusCode, 404);
  });
});

function cookieOf(res: { headers: Record<string, unknown> }): string {
  return String(res.headers['set-cookie']).split(';')[0]!;
}

async function signIn(password = CONSOLE_PASSWORD, on = app) {
  return on.inject({ method: 'POST', url: '/api/v1/console/session', payload: { password } });
}

describe('console sign-in', () => {
  test('a wrong password is refused; the right one opens a session (HttpOnly, SameSite=Strict cookie) with its CSRF token', async () => {
    const wrong = await signIn('not-the-password');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json<{ message: string }>().message, 'wrong password');
    assert.equal(wrong.headers['set-cookie'], undefined);
    const ok = await signIn();
    contract.check('POST', '/api/v1/console/session', ok);
    assert.equal(ok.statusCode, 201);
    assert.match(String(ok.headers['set-cookie']), /^moisson_console=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=600$/);
    const session = await get('/api/v1/console/session', { cookie: cookieOf(ok) });
    assert.deepEqual(session.json(), { signInEnabled: true, signedIn: true, csrfToken: ok.json<{ csrfToken: string }>().csrfToken, expiresAt: ok.json<{ expiresAt: string }>().expiresAt });
    assert.equal((await get('/api/v1/console/session')).json<{ signedIn: boolean }>().signedIn, false);
    const config = await get('/api/v1/console/config', { cookie: cookieOf(ok) });
    assert.equal(config.json<{ temporalUiUrl: string }>().temporalUiUrl, 'http://127.0.0.1:8233');
  });

  test('a console write needs the session and its CSRF token; an expired session is refused; sign-out ends it', async () => {
    const ok = await signIn();
    const cookie = cookieOf(ok);
    const csrf = ok.json<{ csrfToken: string }>().csrfToken;
    const pause = (headers: Record<string, string>) => contract.inject(app, { method: 'POST', url: '/api/v1/scraping/jobs/sites/pause', headers });
    const noToken = await pause({ cookie });
    assert.equal(noToken.statusCode, 401);
    assert.match(noToken.body, /X-CSRF-Token: missing/);
    assert.match((await pause({ cookie, 'x-csrf-token': `${csrf}x` })).body, /X-CSRF-Token: does not match/);
    assert.match((await pause({ 'x-csrf-token': csrf })).body, /X-Timestamp: missing/, 'a token without the cookie is no credential');
    // Authenticated: the job's own rule answers (it is over, so it cannot be paused).
    const authorised = await pause({ cookie, 'x-csrf-token': csrf });
    assert.equal(authorised.statusCode, 409, authorised.body);

    clock += 601_000;
    const expired = await pause({ cookie, 'x-csrf-token': csrf });
    assert.equal(expired.statusCode, 401);
    assert.match(expired.body, /missing or expired/);
    assert.equal((await get('/api/v1/console/session', { cookie })).json<{ signedIn: boolean }>().signedIn, false);

    const again = await signIn();
    const c2 = cookieOf(again);
    const t2 = again.json<{ csrfToken: string }>().csrfToken;
    assert.equal((await contract.inject(app, { method: 'DELETE', url: '/api/v1/console/session', headers: { cookie: c2 } })).statusCode, 401, 'sign-out needs the token too');
    const out = await contract.inject(app, { method: 'DELETE', url: '/api/v1/console/session', headers: { cookie: c2, 'x-csrf-token': t2 } });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
    assert.equal((await pause({ cookie: c2, 'x-csrf-token': t2 })).statusCode, 401);
  });

  test('with read keys, a session stands in for the key; without a password, sign-in is disabled', async () => {
    const keyed = await buildApp(consoleApiContext(world, { readKeys: ['reader-key'] }), { logger: false });
    try {
      assert.equal((await keyed.inject({ url: '/api/v1/leads/contacts/stats' })).statusCode, 401);
      assert.equal((await keyed.inject({ url: '/api/v1/leads/contacts/stats', headers: { 'x-api-key': 'reader-key' } })).statusCode, 200);
      assert.equal((await keyed.inject({ url: '/api/v1/console/session' })).statusCode, 200, 'the page may always ask whether it is signed in');
      const s = await signIn(CONSOLE_PASSWORD, keyed);
      assert.equal((await keyed.inject({ url: '/api/v1/leads/contacts/stats', headers: { cookie: cookieOf(s) } })).statusCode, 200);
      assert.equal((await keyed.inject({ url: '/api/v1/leads/contacts/stats', headers: { cookie: 'moisson_console=forged' } })).statusCode, 401);
    } finally {
      await keyed.close();
    }
    const closed = await buildApp(consoleApiContext(world, { consolePassword: undefined }), { logger: false });
    try {
      assert.deepEqual((await closed.inject({ url: '/api/v1/console/session' })).json(), {
        signInEnabled: false,
        signedIn: false,
        message: 'console sign-in is disabled: set MOISSON_CONSOLE_PASSWORD on the API server',
      });
      const refused = await signIn(CONSOLE_PASSWORD, closed);
      assert.equal(refused.statusCode, 403);
      assert.match(refused.body, /MOISSON_CONSOLE_PASSWORD/);
    } finally {
      await closed.close();
    }
  });

  test('the built page is served at /console/ (hashed assets cached for good, any other path gets the page); unbuilt, 503 says how to build it', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'moisson-console-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    const served = await buildApp(consoleApiContext(world), { logger: false, consoleDir: dist });
    try {
      const redirect = await served.inject({ url: '/console' });
      assert.deepEqual([redirect.statusCode, redirect.headers.location], [302, '/console/']);
      for (const url of ['/console/', '/console/jobs/deep/link']) {
        const page = await served.inject({ url });
        assert.equal(page.statusCode, 200, url);
        assert.equal(page.body, '<!doctype html><title>console</title>');
        assert.equal(page.headers['cache-control'], 'no-cache');
      }
      const asset = await served.inject({ url: '/console/assets/index-abc123.js' });
      assert.deepEqual([asset.statusCode, asset.headers['cache-control']], [200, 'public, max-age=31536000, immutable']);
      assert.equal((await served.inject({ url: '/console/assets/index-gone.js' })).statusCode, 404);
    } finally {
      await served.close();
    }
    const unbuilt = await buildApp(consoleApiContext(world), { logger: false, consoleDir: join(dist, 'nothing') });
    try {
      const res = await unbuilt.inject({ url: '/console/' });
      assert.equal(res.statusCode, 503);
      assert.match(res.body, /npm run console:build/);
    } finally {
      await unbuilt.close();
    }
  });
});

test('contract: every leads data and console operation was exercised, every response matched it', () => {
  // The blacklist and WHOIS routes are the console data tabs', checked in console-data.test.ts.
  const ops = contract.operations().filter((op) => (op.includes('/leads/') || op.includes('/console/')) && !op.includes('/leads/blacklist') && !op.includes('/leads/whois'));
  assert.ok(ops.length >= 12, ops.join(', '));
  assert.deepEqual(ops.filter((op) => !contract.seen.has(op)), []);
});
