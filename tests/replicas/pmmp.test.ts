/**
 * The marchespublics.gov.ma replica over real HTTP, read with our own parsers
 * (activities/pmmp/parse): if they read the replica's pages, its markup is the portal's.
 * Run: node --import tsx --test tests/replicas/pmmp.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, beforeEach, describe, it } from 'node:test';

import {
  PageShapeError,
  RequestRejectedError,
  collectFormFields,
  loadHtml,
  parseBdcResults,
  parseConsultationDetail,
  parseLots,
  parseResultList,
  scrubContacts,
  type ResultListPage,
} from '../../activities/pmmp/parse/index';
import { DEFAULT_KNOBS, buildPortalOracle, startPortalReplica, type PortalReplica } from './pmmp/index';

const TODAY = '2026-11-20';
const SEED = 42;
const A = 'ctl0$CONTENU_PAGE$AdvancedSearch$';
const R = 'ctl0$CONTENU_PAGE$resultSearch$';
const NEXT = `${R}PagerTop$ctl2`;
const SAMPLES = new URL('../fixtures/samples/pmmp/', import.meta.url);

let replica: PortalReplica;
let base: string;

before(async () => {
  replica = await startPortalReplica({ today: TODAY, seed: SEED });
  base = `${replica.url}/index.php`;
});
after(() => replica.close());
beforeEach(() => {
  replica.setKnobs({ ...DEFAULT_KNOBS });
});

/** A browser-like client: one cookie jar, the form posted back whole. */
class Client {
  cookie: string | undefined;

  async request(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string }> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    const res = await fetch(url.startsWith('http') ? url : `${replica.url}${url}`, { ...init, headers, redirect: 'manual' });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  get(url: string) {
    return this.request(url);
  }

  post(url: string, fields: Iterable<readonly [string, string]>) {
    return this.request(url, {
      method: 'POST',
      body: new URLSearchParams([...fields].map(([k, v]): [string, string] => [k, v])),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** The result form posted back with a postback target and some fields changed. */
  async postback(page: ResultListPage, target: string, changes: Record<string, string> = {}): Promise<ResultListPage> {
    const fields = page.form.fields.map((f) => [f.name, f.name in changes ? (changes[f.name] as string) : f.value] as const);
    const res = await this.post(page.form.action, [...fields.filter(([n]) => n !== 'PRADO_POSTBACK_TARGET'), ['PRADO_POSTBACK_TARGET', target]]);
    assert.equal(res.status, 200, res.text.slice(0, 300));
    return parseResultList(res.text, { baseUrl: base });
  }
}

const key = (i: { orgAcronyme: string; refConsultation: string }) => `${i.orgAcronyme}/${i.refConsultation}`;

/** GET the advanced search, fill the publication window, launch: page 1 of the month. */
async function searchMonth(client: Client, from: string, to: string): Promise<ResultListPage> {
  const form = await client.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons');
  assert.equal(form.status, 200);
  const $ = loadHtml(form.text);
  const fields = new Map(collectFormFields($, $('form').first()).map((f) => [f.name, f.value]));
  assert.ok(fields.has('PRADO_PAGESTATE'));
  fields.set(`${A}dateMiseEnLigneStart`, '');
  fields.set(`${A}dateMiseEnLigneEnd`, '');
  fields.set(`${A}dateMiseEnLigneCalculeStart`, from);
  fields.set(`${A}dateMiseEnLigneCalculeEnd`, to);
  fields.set(`${A}lancerRecherche`, 'Lancer la recherche');
  const res = await client.post(`${base}?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons`, fields);
  assert.equal(res.status, 200);
  return parseResultList(res.text, { baseUrl: base });
}

describe('data and oracle', () => {
  it('holds the real records once each, and generated ones up to the volume', () => {
    const s = replica.oracle.summary();
    assert.equal(s.realRecordLines, 608);
    assert.equal(s.realConsultations, 498); // the 608 lines hold 498 distinct (orgAcronyme, refConsultation)
    assert.equal(s.consultations, 20_000);
    assert.equal(s.samplePdfNotices, 22);
    assert.ok(s.open > 300 && s.notices.pv > 10_000 && s.notices.resultat > 5_000 && s.notices.achevement > 500, JSON.stringify(s));
    assert.equal(s.lastPublished, TODAY);
  });

  it('serves the same pages, byte for byte, for the same seed and requests', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const twin = await startPortalReplica({ today: TODAY, seed: SEED, consultations: 2_000 });
      try {
        const client = new Client();
        const list = await client.request(`${twin.url}/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons`);
        const page = parseResultList(list.text, { baseUrl: `${twin.url}/index.php` });
        const next = await client.request(page.form.action, {
          method: 'POST',
          body: new URLSearchParams([...page.form.fields.map((f): [string, string] => [f.name, f.value]), ['PRADO_POSTBACK_TARGET', NEXT]]),
        });
        bodies.push(`${client.cookie ?? ''}\n${list.text}\n${next.text}`.replaceAll(twin.url, ''));
      } finally {
        await twin.close();
      }
    }
    assert.equal(bodies[0], bodies[1]);
  });

  it('is deterministic: the same seed and day give the same portal, another seed another one', () => {
    const a = buildPortalOracle({ today: TODAY, seed: SEED, consultations: 2_000 });
    const b = buildPortalOracle({ today: TODAY, seed: SEED, consultations: 2_000 });
    const c = buildPortalOracle({ today: TODAY, seed: SEED + 1, consultations: 2_000 });
    const month = { publishedFrom: '2026-06-01', publishedTo: '2026-06-30' };
    assert.deepEqual(a.consultations(month), b.consultations(month));
    assert.notDeepEqual(
      a.consultations(month).map(key),
      c.consultations(month).map(key),
    );
  });
});

describe('legacy search: a whole month through the PRADO form', () => {
  it('pages a month with the page state and finds every consultation of the oracle exactly once', async () => {
    const client = new Client();
    let page = await searchMonth(client, '01/09/2026', '01/10/2026');
    const expected = replica.oracle.consultations({ publishedFrom: '2026-09-01', publishedTo: '2026-09-30' });
    assert.ok(expected.length > 300, `a month holds ${expected.length}`);
    assert.equal(page.pagination.totalResults, expected.length);
    assert.deepEqual(page.problems, []);

    // Page size 50, chosen the way a browser does it: the select's own postback.
    page = await client.postback(page, `${R}listePageSizeTop`, { [`${R}listePageSizeTop`]: '50' });
    assert.equal(page.pagination.pageSize, 50);
    assert.equal(page.pagination.currentPage, 1);
    const seen: string[] = page.items.map(key);
    while (page.pagination.hasNextPage) {
      const previous: number = page.pagination.currentPage;
      page = await client.postback(page, NEXT);
      assert.equal(page.pagination.currentPage, previous + 1);
      assert.deepEqual(page.problems, []);
      seen.push(...page.items.map(key));
    }
    assert.equal(new Set(seen).size, seen.length, 'no consultation twice');
    // Same keys, in the portal's order: deadline newest first, then refConsultation.
    assert.deepEqual(seen, expected.map(key));
  });

  it('reads each row as the oracle has it', async () => {
    const client = new Client();
    const page = await searchMonth(client, '01/09/2026', '02/09/2026');
    const expected = new Map(replica.oracle.consultations({ publishedFrom: '2026-09-01', publishedTo: '2026-09-01' }).map((c) => [key(c), c]));
    assert.ok(page.items.length > 0);
    for (const item of page.items) {
      const o = expected.get(key(item));
      assert.ok(o, key(item));
      assert.equal(item.reference, o.reference);
      assert.equal(item.object, o.object);
      assert.equal(item.buyer, o.buyerName);
      assert.equal(item.procedure, o.procedure);
      assert.equal(item.procedureCode, o.procedureCode);
      assert.equal(item.category, o.category);
      assert.equal(item.executionPlace, o.executionPlace);
      assert.equal(item.publishedOn, o.publishedOn);
      assert.equal(item.deadline, o.deadline);
      assert.equal(item.lotsUrl !== null, o.allotted);
    }
  });

  it('GET of AllCons lists every consultation, sorted by deadline, and starts a PHP session', async () => {
    const client = new Client();
    const res = await client.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons');
    assert.match(res.headers.get('set-cookie') ?? '', /^PHPSESSID=[a-v0-9]{26}; path=\//);
    const page = parseResultList(res.text, { baseUrl: base });
    assert.deepEqual(page.pagination, { totalResults: 20_000, currentPage: 1, pageCount: 2_000, pageSize: 10, hasNextPage: true });
    const deadlines = page.items.map((i) => Date.parse(i.deadline ?? ''));
    assert.deepEqual(deadlines, [...deadlines].sort((a, b) => b - a));
    // The page state is opaque, zlib-like and of a real state's size.
    assert.match(page.form.pageState, /^eJ[A-Za-z0-9+/=]+$/);
    assert.ok(Math.abs(page.form.pageState.length - DEFAULT_KNOBS.pageStateBytes) < 2_000, String(page.form.pageState.length));
    assert.equal(page.form.fields.length, 28); // as on the real page 2 of legacy-results-list.html
  });

  it('changes page size, goes to the last page and to a page number', async () => {
    const client = new Client();
    let page = parseResultList((await client.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&AvisAttribution')).text, { baseUrl: base });
    const total = replica.oracle.notices('resultat').length;
    assert.equal(page.pagination.totalResults, total);
    page = await client.postback(page, `${R}listePageSizeTop`, { [`${R}listePageSizeTop`]: '100' });
    assert.equal(page.items.length, 100);
    page = await client.postback(page, `${R}PagerTop$ctl3`);
    assert.equal(page.pagination.currentPage, Math.ceil(total / 100));
    assert.equal(page.items.length, total % 100 || 100);
    assert.equal(page.pagination.hasNextPage, false);
    page = await client.postback(page, `${R}DefaultButtonTop`, { [`${R}numPageTop`]: '3' });
    assert.equal(page.pagination.currentPage, 3);
  });

  it('refuses a stale, foreign or missing page state and a postback without session', async () => {
    const client = new Client();
    const first = await searchMonth(client, '01/09/2026', '01/10/2026');
    const second = await client.postback(first, NEXT);
    assert.equal(second.pagination.currentPage, 2);

    const replay = await client.post(first.form.action, [
      ['PRADO_PAGESTATE', first.form.pageState],
      ['PRADO_POSTBACK_TARGET', NEXT],
    ]);
    assert.equal(replay.status, 400);
    assert.match(replay.text, /Page state is corrupted/);
    assert.throws(() => parseResultList(replay.text), PageShapeError);

    const other = new Client();
    await other.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons');
    const foreign = await other.post(second.form.action, [
      ['PRADO_PAGESTATE', second.form.pageState],
      ['PRADO_POSTBACK_TARGET', NEXT],
    ]);
    assert.equal(foreign.status, 400);

    const tampered = await client.post(second.form.action, [
      ['PRADO_PAGESTATE', `${second.form.pageState.slice(0, -8)}AAAAAAA=`],
      ['PRADO_POSTBACK_TARGET', NEXT],
    ]);
    assert.equal(tampered.status, 400);
    const missing = await client.post(second.form.action, [['PRADO_POSTBACK_TARGET', NEXT]]);
    assert.equal(missing.status, 400);

    const noCookie = new Client();
    const orphan = await noCookie.post(second.form.action, [
      ['PRADO_PAGESTATE', second.form.pageState],
      ['PRADO_POSTBACK_TARGET', NEXT],
    ]);
    assert.equal(orphan.status, 400);

    // Neither state nor target: not a postback, the page as on a first visit (here the form).
    const fresh = await client.post(second.form.action, [['foo', 'bar']]);
    assert.equal(fresh.status, 200);
    assert.match(fresh.text, /id="ctl0_CONTENU_PAGE_AdvancedSearch_panelContent"/);
    assert.doesNotMatch(fresh.text, /class="table-results"/);

    const stats = replica.stats().pageStateErrors;
    for (const reason of ['stale', 'foreign', 'corrupted', 'missing', 'no-session']) assert.ok((stats[reason] ?? 0) >= 1, `${reason}: ${JSON.stringify(stats)}`);
  });

  it('keeps older states valid when told to (PRADO session persister history)', async () => {
    replica.setKnobs({ pageStateHistory: 10 });
    const client = new Client();
    const first = await searchMonth(client, '01/09/2026', '01/10/2026');
    await client.postback(first, NEXT);
    const again = await client.postback(first, NEXT);
    assert.equal(again.pagination.currentPage, 2);
  });

  it('rejects a badly formatted date on the form, and finds nothing when textareas are posted back', async () => {
    const client = new Client();
    const form = await client.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons');
    const $ = loadHtml(form.text);
    const fields = new Map(collectFormFields($, $('form').first()).map((f) => [f.name, f.value]));
    fields.set(`${A}dateMiseEnLigneCalculeStart`, '2026-09-01');
    fields.set(`${A}lancerRecherche`, 'Lancer la recherche');
    const bad = await client.post(`${base}?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons`, fields);
    assert.match(bad.text, /id="ctl0_CONTENU_PAGE_AdvancedSearch_controlDateMiseEnLigneCalculeStart" style="color:red;"/);
    assert.doesNotMatch(bad.text, /table-results/);

    const $2 = loadHtml(bad.text);
    const again = new Map(collectFormFields($2, $2('form').first()).map((f) => [f.name, f.value]));
    again.set(`${A}dateMiseEnLigneCalculeStart`, '01/09/2026');
    again.set(`${A}domaineActivite$idsDomaines`, '\n');
    again.set(`${A}lancerRecherche`, 'Lancer la recherche');
    const empty = parseResultList((await client.post(`${base}?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons`, again)).text);
    assert.equal(empty.pagination.totalResults, 0);
  });
});

describe('notice lists (annonceType 5, 4, 6)', () => {
  it('lists extraits de PV newest first, with their annonce type and publication day', async () => {
    const client = new Client();
    const page = parseResultList((await client.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&AvisExtraitPV')).text, { baseUrl: base });
    const expected = replica.oracle.notices('pv');
    assert.equal(page.pagination.totalResults, expected.length);
    assert.deepEqual(
      page.items.map((i) => [key(i), i.annonceType, i.publishedOn, i.deadline]),
      expected.slice(0, 10).map((n) => [key(n), "Annonce d'extrait de PV", n.publishedOn, null]),
    );
  });

  it('ignores the date window on notice searches, unless the knob applies it', async () => {
    const run = async () => {
      const client = new Client();
      const form = await client.get('/index.php?page=entreprise.EntrepriseAdvancedSearch&AllAnn');
      const $ = loadHtml(form.text);
      const fields = new Map(collectFormFields($, $('form').first()).map((f) => [f.name, f.value]));
      fields.set(`${A}annonceType`, '6');
      fields.set(`${A}dateMiseEnLigneCalculeStart`, '01/09/2026');
      fields.set(`${A}dateMiseEnLigneCalculeEnd`, '01/10/2026');
      fields.set(`${A}lancerRecherche`, 'Lancer la recherche');
      return parseResultList((await client.post(`${base}?page=entreprise.EntrepriseAdvancedSearch&AllAnn`, fields)).text).pagination.totalResults;
    };
    assert.equal(await run(), replica.oracle.notices('achevement').length);
    replica.setKnobs({ noticeDateFilter: 'applied' });
    assert.equal(await run(), replica.oracle.notices('achevement', { publishedFrom: '2026-09-01', publishedTo: '2026-09-30' }).length);
  });
});

describe('detail, lots and notice documents', () => {
  it('serves a real record in the real detail markup', async () => {
    const real = replica.model.all
      .filter((c) => c.real?.visites_lieux)
      .map((c) => replica.oracle.consultation(c.org, c.ref))
      .find((c) => c !== undefined && c.notices.length > 0);
    assert.ok(real);
    const record = readFileSync(new URL('consultations-detail-records.jsonl', SAMPLES), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string | null>)
      .find((r) => r.refConsultation === real.refConsultation && r.orgAcronyme === real.orgAcronyme);
    assert.ok(record);
    const res = await new Client().get(real.detailUrl);
    const { item, problems } = parseConsultationDetail(res.text, { baseUrl: base });
    assert.deepEqual(problems, []);
    assert.equal(item.reference, record.ref);
    assert.equal(item.object, record.objet?.replace(/\s+/g, ' ').trim());
    assert.equal(item.buyer, record.entite_publique);
    assert.equal([item.procedure, item.passationMode].join(' | '), record.type_procedure);
    assert.equal(item.executionPlace, record.lieu_execution);
    assert.equal(item.deadline, real.deadline);
    assert.equal(item.estimationTtc, real.estimationTtc);
    assert.equal(item.cautionProvisoire, real.cautionProvisoire);
    assert.equal(item.openingPlace, scrubContacts(record.lieu_ouverture_plis?.replace(/\s+/g, ' ').trim() ?? null));
    assert.deepEqual(item.siteVisits.map((v) => v.at), real.siteVisits);
    assert.deepEqual(item.noticeDocuments.map((d) => d.idAvis), real.notices.map((n) => n.idAvis));
  });

  it('serves an allotted consultation: detail, then the lots popup, as the oracle has them', async () => {
    const c = replica.oracle.consultations({ publishedFrom: '2026-09-01', publishedTo: '2026-09-30' }).find((x) => x.allotted);
    assert.ok(c);
    const client = new Client();
    const { item } = parseConsultationDetail((await client.get(c.detailUrl)).text, { baseUrl: base });
    assert.equal(item.allotted, true);
    assert.equal(item.lotCount, c.lotCount);
    assert.equal(item.estimationTtc, null);
    assert.ok(item.lotsUrl);
    const popup = await client.get(new URL(item.lotsUrl).pathname + new URL(item.lotsUrl).search);
    const lots = parseLots(popup.text, { baseUrl: base });
    assert.deepEqual(lots.key, { orgAcronyme: c.orgAcronyme, refConsultation: c.refConsultation });
    assert.deepEqual(lots.problems, []);
    assert.deepEqual(lots.lots, c.lots);
  });

  it('serves a generated notice as a text PDF carrying the award, and a real sample byte for byte', async () => {
    const pv = replica.oracle.notices('pv').find((n) => n.document.kind === 'generated');
    assert.ok(pv);
    const res = await fetch(`${replica.url}${pv.url}`);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const pdf = Buffer.from(await res.arrayBuffer());
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(pdf.subarray(-7).toString('latin1'), /%%EOF\n$/);
    const text = pdf.toString('latin1');
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(text)?.[1]);
    assert.equal(text.slice(startxref, startxref + 4), 'xref');
    const award = replica.oracle.consultation(pv.orgAcronyme, pv.refConsultation)?.attributions?.[0];
    assert.ok(award);
    assert.ok(text.includes('EXTRAIT DE PROCES VERBAL'));
    if (award.winner) assert.ok(text.includes(`(${award.winner}`), award.winner);

    const sample = replica.oracle.notices('resultat').find((n) => n.document.kind === 'sample');
    assert.ok(sample && sample.document.kind === 'sample');
    const served = Buffer.from(await (await fetch(`${replica.url}${sample.url}`)).arrayBuffer());
    assert.deepEqual(served, readFileSync(new URL(`pdf/${sample.document.file}`, SAMPLES)));
    assert.equal(replica.oracle.consultation(sample.orgAcronyme, sample.refConsultation)?.attributions, null);
  });
});

describe('/bdc/ purchase-order results', () => {
  const url = (query: string) => `${replica.url}/bdc/entreprise/consultation/resultat?${query}`;
  const F = (name: string, value: string) => `search_consultation_resultats%5B${name}%5D=${encodeURIComponent(value)}`;

  it('answers one day in one page exactly as the oracle has it', async () => {
    const day = '2026-11-02';
    const expected = replica.oracle.bdcResults({ publishedFrom: day, publishedTo: day });
    assert.ok(expected.length > 0 && expected.length <= 50);
    const page = parseBdcResults(await (await fetch(url(`${F('dateLimitePublicationStart', day)}&${F('dateLimitePublicationEnd', day)}&${F('pageSize', '50')}&page=1`))).text());
    assert.deepEqual(page.problems, []);
    assert.equal(page.totalResults, expected.length);
    const got = page.items.map((i) => `${i.reference}|${i.buyer}|${i.resultPublishedAt}|${i.outcome}|${i.winner}|${i.amountTtc}`).sort();
    const want = expected.map((r) => `${r.reference}|${r.buyer}|${r.resultPublishedAt}|${r.outcome}|${r.winner}|${r.amountTtc}`).sort();
    assert.deepEqual(got, want);
  });

  it('returns no card without pageSize, and ignores dd/mm/yyyy dates', async () => {
    const none = parseBdcResults(await (await fetch(url(F('keyword', '')))).text());
    assert.equal(none.totalResults, 0);
    const ignored = parseBdcResults(await (await fetch(url(`${F('dateLimitePublicationStart', '02/11/2026')}&${F('pageSize', '10')}`))).text());
    assert.equal(ignored.totalResults, replica.oracle.bdcResults().length);
  });

  it('drifts: results published between two page requests push the list down', async () => {
    replica.setKnobs({ bdcDrift: { newPerRequest: 3, shuffleTies: false } });
    const page1 = parseBdcResults(await (await fetch(url(`${F('pageSize', '10')}&page=1`))).text());
    const page2 = parseBdcResults(await (await fetch(url(`${F('pageSize', '10')}&page=2`))).text());
    // The last three cards of page 1 come again at the top of page 2: a naive pager repeats them.
    assert.deepEqual(page2.items.slice(0, 3), page1.items.slice(7));
    assert.equal(page2.totalResults, (page1.totalResults ?? 0) + 3);
    assert.equal(replica.oracle.bdcResults().filter((r) => r.injected).length >= 6, true);
  });

  it('reorders a day from one request to the next (unstable ties), so pages skip and repeat', async () => {
    const day = replica.oracle.bdcResults().find((r) => !r.injected)?.resultPublishedAt.slice(0, 10) ?? TODAY;
    const q = url(`${F('dateLimitePublicationStart', day)}&${F('dateLimitePublicationEnd', day)}&${F('pageSize', '10')}&page=1`);
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++) orders.add(parseBdcResults(await (await fetch(q)).text()).items.map((x) => x.reference + x.buyer).join(','));
    assert.ok(orders.size > 1);
  });
});

describe('WAF', () => {
  it('answers a URL with a quote with the F5 "Request Rejected" page, status 200', async () => {
    const res = await fetch(`${base}?page=entreprise.EntrepriseAdvancedSearch&keyWord=l'eau`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /<title>Request Rejected<\/title>/);
    assert.throws(() => parseResultList(text), (e: unknown) => e instanceof RequestRejectedError && /^\d{20}$/.test(e.supportId ?? ''));
    assert.ok(replica.stats().byKind.list.faults.waf >= 1);
    const lots = await fetch(`${base}?page=commun.PopUpDetailLots&orgAccronyme=x&refConsultation=1<script>`);
    assert.match(await lots.text(), /Request Rejected/);
  });

  it('follows the configured pattern', async () => {
    replica.setKnobs({ wafPattern: 'forbidden-word' });
    const ok = await fetch(`${base}?page=entreprise.EntrepriseAdvancedSearch&keyWord=l'eau`);
    assert.doesNotMatch(await ok.text(), /Request Rejected/);
    const blocked = await fetch(`${base}?page=entreprise.EntrepriseAdvancedSearch&keyWord=forbidden-word`);
    assert.match(await blocked.text(), /Request Rejected/);
  });
});

describe('knobs', () => {
  const detailUrl = () => replica.oracle.consultations({ publishedFrom: '2026-10-01', publishedTo: '2026-10-01' })[0]?.detailUrl ?? '';

  it('adds latency', async () => {
    replica.setKnobs({ latencyMs: { min: 150, max: 200 } });
    const t0 = Date.now();
    await fetch(`${replica.url}${detailUrl()}`);
    assert.ok(Date.now() - t0 >= 150);
  });

  it('answers 429 with Retry-After, and 5xx', async () => {
    replica.setKnobs({ rate429: 1, retryAfterSeconds: 7 });
    const limited = await fetch(`${replica.url}${detailUrl()}`);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    replica.setKnobs({ rate429: 0, rate5xx: 1 });
    const failed = await fetch(`${replica.url}${detailUrl()}`);
    assert.ok([500, 502, 503].includes(failed.status));
    const byKind = replica.stats().byKind.detail;
    assert.ok(byKind.faults.rateLimited >= 1 && byKind.faults.serverError >= 1);
  });

  it('rejects chosen User-Agents with a 403', async () => {
    replica.setKnobs({ blockUserAgents: '^python-requests' });
    assert.equal((await fetch(`${replica.url}${detailUrl()}`, { headers: { 'user-agent': 'python-requests/2.32' } })).status, 403);
    assert.equal((await fetch(`${replica.url}${detailUrl()}`, { headers: { 'user-agent': 'moisson/0.1 (+contact@example.org)' } })).status, 200);
  });

  it('draws its faults from the seed: a rate gives a reproducible share', async () => {
    replica.setKnobs({ rate5xx: 0.5 });
    let failures = 0;
    for (let i = 0; i < 40; i++) if ((await fetch(`${replica.url}${detailUrl()}`)).status >= 500) failures += 1;
    assert.ok(failures > 8 && failures < 32, String(failures));
  });

  it('truncates bodies: HTML cut mid-page, PDF cut mid-stream, or the connection reset', async () => {
    replica.setKnobs({ truncate: { rate: 1, kinds: ['detail', 'notice-pdf'] } });
    const html = await (await fetch(`${replica.url}${detailUrl()}`)).text();
    assert.doesNotMatch(html, /<\/html>\s*$/);
    const pv = replica.oracle.notices('pv').find((n) => n.document.kind === 'generated');
    const pdf = Buffer.from(await (await fetch(`${replica.url}${pv?.url ?? ''}`)).arrayBuffer());
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(!pdf.toString('latin1').includes('%%EOF'));
    replica.setKnobs({ truncate: { rate: 1, kinds: ['detail'], mode: 'reset' } });
    await assert.rejects(async () => (await fetch(`${replica.url}${detailUrl()}`)).text());
    assert.ok(replica.stats().byKind.detail.faults.truncated >= 2);
  });

  it('changes the shape of one page kind', async () => {
    replica.setKnobs({ shapeChanged: 'detail' });
    const detail = await (await fetch(`${replica.url}${detailUrl()}`)).text();
    assert.throws(() => parseConsultationDetail(detail), (e: unknown) => e instanceof PageShapeError && e.missing.includes('#recap-consultation'));
    const list = await (await fetch(`${base}?page=entreprise.EntrepriseAdvancedSearch&AllCons`)).text();
    assert.doesNotThrow(() => parseResultList(list));
    replica.setKnobs({ shapeChanged: ['list', 'bdc'] });
    const changed = await (await fetch(`${base}?page=entreprise.EntrepriseAdvancedSearch&AllCons`)).text();
    assert.throws(() => parseResultList(changed), PageShapeError);
    const bdc = await (await fetch(`${replica.url}/bdc/entreprise/consultation/resultat?search_consultation_resultats%5BpageSize%5D=10`)).text();
    assert.throws(() => parseBdcResults(bdc), PageShapeError);
    // A redesigned search form: a client posting the old field names gets the form back, no list.
    replica.setKnobs({ shapeChanged: 'search-form' });
    const client = new Client();
    await assert.rejects(() => searchMonth(client, '01/09/2026', '01/10/2026'), PageShapeError);
    assert.ok(replica.stats().byKind['search-form'].faults.shapeChanged >= 1);
  });

  it('are set and read over HTTP, with per-kind counters and a request log', async () => {
    const set = await fetch(`${replica.url}/__replica/knobs`, { method: 'POST', body: JSON.stringify({ rate429: 1 }) });
    assert.equal(set.status, 200);
    assert.equal(((await set.json()) as { rate429: number }).rate429, 1);
    assert.equal((await fetch(`${base}?page=entreprise.EntrepriseAdvancedSearch&AllCons`)).status, 429);
    const bad = await fetch(`${replica.url}/__replica/knobs`, { method: 'POST', body: JSON.stringify({ rate429: 3 }) });
    assert.equal(bad.status, 400);
    await fetch(`${replica.url}/__replica/knobs`, { method: 'DELETE' });
    assert.equal(replica.knobs().rate429, 0);
    const stats = (await (await fetch(`${replica.url}/__replica/stats`)).json()) as ReturnType<PortalReplica['stats']>;
    assert.ok(stats.byKind.list.requests > 0 && (stats.byKind.list.byStatus['429'] ?? 0) >= 1);
    assert.ok(stats.byKind.detail.requests > 0 && stats.byKind['notice-pdf'].requests > 0 && stats.byKind.bdc.requests > 0);
    assert.equal(stats.log.at(-1)?.status, 429);
    const summary = (await (await fetch(`${replica.url}/__replica/oracle/summary`)).json()) as { consultations: number };
    assert.equal(summary.consultations, 20_000);
  });
});

describe('main.ts', () => {
  it('runs the replica as a process: one line on stdout, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/replicas/pmmp/main.ts', '--port', '0', '--consultations', '1000', '--today', TODAY], {
      cwd: new URL('../../', import.meta.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const m = /^pmmp replica listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(m, line);
    const health = (await (await fetch(`${m[1]}/__replica/health`)).json()) as { status: string; today: string };
    assert.deepEqual([health.status, health.today], ['ok', TODAY]);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
