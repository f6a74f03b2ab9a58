/**
 * pmmp page parsers on the real saved pages of tests/fixtures/samples/pmmp/ (see its README for the
 * origin of each file). Run: node --import tsx --test tests/pmmp/parsers.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { load } from 'cheerio';

import {
  ConsultationDetailItemSchema,
  PageShapeError,
  RequestRejectedError,
  collectFormFields,
  isRequestRejectedPage,
  normalizeSpace,
  parseBdcResults,
  parseCasablancaDate,
  parseCasablancaDay,
  parseConsultationDetail,
  parseFrenchAmount,
  parseLots,
  parseResultList,
  parseResultListFast,
  parseResultListParse5,
  parsers,
  scanDetailPage,
  scrubContacts,
  type DetailContext,
  type ParseContext,
  type ResultListPage,
} from '../../activities/pmmp/parse/index';
import { createFetcher } from '../../activities/engine/fetcher';
import { createProofStore } from '../../activities/engine/proofs';
import { createTestDatabase } from '../support/services';
import { inlineParsers, type PageParsers } from '../../activities/pmmp/parse-pool';
import { PortalClient } from '../../activities/pmmp/portal';
import { startPortalReplica } from '../replicas/pmmp/index';

const SAMPLES = new URL('../fixtures/samples/pmmp/', import.meta.url);
const sample = (path: string): string => readFileSync(new URL(path, SAMPLES), 'utf8');
const fixture = (path: string): string => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');

const LIST_HTML = sample('html/legacy-results-list.html');
const DETAIL_HTML = sample('html/legacy-consultation-detail.excerpt.html');
const FORM_HTML = sample('html/legacy-advanced-search-form.excerpt.html');
const BDC_HTML = sample('html/bdc-result-cards.snippet.html');
const LOTS_HTML = fixture('lots-popup.inferred.html');

/** Apply a cheerio edit to a page and give the HTML back. */
function edit(html: string, change: ($: ReturnType<typeof load>) => void): string {
  const $ = load(html);
  change($);
  return $.html();
}

function assertShapeError(fn: () => unknown, kind: string, missing: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PageShapeError, `expected PageShapeError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.deepEqual(err.missing, missing);
    return true;
  });
}

// The F5 BIG-IP ASM block page in its standard wording (no capture of the portal's own copy).
const WAF_HTML =
  "<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. Please consult with your administrator.<br><br>Your support ID is: 14412207186329581620<br><br><a href='javascript:history.back();'>[Go Back]</a></body></html>";

describe('fr: amounts', () => {
  const cases: [string, string | null][] = [
    ['48 516 000,00', '48516000.00'], // legacy-consultation-detail.excerpt.html, estimation
    ['752 000,00 MAD ', '752000.00'], // same page, caution provisoire (trailing space)
    ['0,00 MAD ', '0.00'], // same page, prix d'acquisition des plans
    ['1\u00a0227\u00a0400,00', '1227400.00'], // NBSP separators
    ['395\u202f448,00', '395448.00'], // U+202F narrow NBSP
    ['15 600,00 MAD', '15600.00'], // bdc-result-cards.snippet.html
    ['30 000,00 DH', '30000.00'],
    ['1 250 000,50 MAD TTC', '1250000.50'],
    ['2 163 600,00 Dhs TTC', '2163600.00'],
    ['48 516 000,00 @@@@', '48516000.00'],
    ['@@@@', null], // a notice's empty estimation, bubble text only
    ['-', null],
    ['', null],
    ['  ', null],
    ['1.450.200,00', '1450200.00'],
    ['314304.00', '314304.00'],
    ['650.153', '650153.00'],
    ['12 345 678 901 234 567,89', '12345678901234567.89'], // beyond float precision, kept exact
    ['1 234,567', '1234.567'],
    ['Non', null],
    ['12 34,00', null],
    ['1,234,56', null],
    ['sur demande', null],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${String(expected)}`, () => {
      assert.equal(parseFrenchAmount(input), expected);
    });
  }
  it('never returns a float', () => {
    assert.equal(typeof parseFrenchAmount('1 000,10'), 'string');
  });
});

describe('fr: dates in Africa/Casablanca', () => {
  it('autumn deadline of the list page is +01:00', () => {
    assert.equal(parseCasablancaDate('30/10/2025 11:00'), '2025-10-30T11:00:00+01:00');
  });
  it('summer date is +01:00', () => {
    assert.equal(parseCasablancaDate('15/07/2025 09:30'), '2025-07-15T09:30:00+01:00');
  });
  it('Ramadan 2025 date is +00:00', () => {
    assert.equal(parseCasablancaDate('10/03/2025 10:00'), '2025-03-10T10:00:00+00:00');
  });
  it('Ramadan 2026 date is +00:00', () => {
    assert.equal(parseCasablancaDate('01/03/2026 10:00'), '2026-03-01T10:00:00+00:00');
  });
  it('follows the switches at 03:00 (23 Feb 2025) and 02:00 (6 Apr 2025)', () => {
    assert.equal(parseCasablancaDate('23/02/2025 01:30'), '2025-02-23T01:30:00+01:00');
    assert.equal(parseCasablancaDate('23/02/2025 03:30'), '2025-02-23T03:30:00+00:00');
    assert.equal(parseCasablancaDate('06/04/2025 01:30'), '2025-04-06T01:30:00+00:00');
    assert.equal(parseCasablancaDate('06/04/2025 03:30'), '2025-04-06T03:30:00+01:00');
  });
  it('accepts NBSP, "à", "10h00" and a date alone (midnight)', () => {
    assert.equal(parseCasablancaDate('30/10/2025\u00a011:00'), '2025-10-30T11:00:00+01:00');
    assert.equal(parseCasablancaDate('11/11/2026 à 10h00'), '2026-11-11T10:00:00+01:00');
    assert.equal(parseCasablancaDate('01/08/2025'), '2025-08-01T00:00:00+01:00');
  });
  it('rejects impossible or absent dates', () => {
    for (const bad of ['31/02/2025 10:00', '30/10/2025 24:00', '30/10/2025 11:60', '2025-10-30', '-', '', 'demain']) {
      assert.equal(parseCasablancaDate(bad), null, bad);
    }
  });
  it('day variant gives YYYY-MM-DD', () => {
    assert.equal(parseCasablancaDay('01/08/2025'), '2025-08-01');
    assert.equal(parseCasablancaDay('30/10/2025 11:00'), '2025-10-30');
    assert.equal(parseCasablancaDay('32/01/2025'), null);
  });
});

describe('fr: text', () => {
  it('normalizes every kind of space', () => {
    assert.equal(normalizeSpace(' a\u00a0b\u202fc\n\t d\u200b '), 'a b c d');
  });
  it('gives what its regular expressions give, when it skips them for a clean value or not', () => {
    const reference = (t: string) =>
      t
        .normalize('NFC')
        .replace(/[\u200b-\u200d\u2060]/gu, '')
        .replace(/[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]+/gu, ' ')
        .trim();
    // Every character either removes, each in every position, beside clean text and decomposed accents.
    const special = ['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u200b', '\u200c', '\u200d', '\u2060'];
    const texts = ['', 'Appel d’offres ouvert', 'Fourniture de équipements', 'Re\u0301fe\u0301rence', '12/2026/ESEFO', 'a b', 'a  b', 'ع ر ب'];
    for (const s of special) texts.push(s, `${s}a`, `a${s}`, `a${s}b`, `a ${s}b`, `é${s}${s}è`, `${s}Re\u0301f${s}`);
    for (const t of texts) assert.equal(normalizeSpace(t), reference(t), JSON.stringify(t));
  });
  it('scrubs phones, emails and a contact-person clause, not amounts or dates', () => {
    assert.equal(
      scrubContacts('Bureau 12 - TEL : 05 23 31 06 98/99 – Télécopieur : (212) 05 22 43 31 12, x.y@onee.ma'),
      'Bureau 12 - TEL : [contact retiré] – Télécopieur : [contact retiré], [contact retiré]',
    );
    assert.equal(scrubContacts('Le 17/11/2025 10:00 au siège, caution 20 000,00 MAD'), 'Le 17/11/2025 10:00 au siège, caution 20 000,00 MAD');
    assert.equal(scrubContacts('Siège. Personne à contacter : M. X, 0661234567'), 'Siège. [contact retiré]');
  });
});

describe('WAF page', () => {
  it('is recognised, and the list page is not', () => {
    assert.equal(isRequestRejectedPage(WAF_HTML), true);
    assert.equal(isRequestRejectedPage(LIST_HTML), false);
  });
  it('makes every parser throw RequestRejectedError with the support ID', () => {
    for (const name of ['list', 'detail', 'lots', 'bdc-results'] as const) {
      assert.throws(
        () => parsers[name](WAF_HTML),
        (err: unknown) => err instanceof RequestRejectedError && err.supportId === '14412207186329581620' && err.kind === name,
      );
    }
  });
});

describe('parseResultList (html/legacy-results-list.html)', () => {
  const page = parseResultList(LIST_HTML);

  it('reads the page info: 3169 results, page 2 of 317, 10 per page', () => {
    assert.deepEqual(page.pagination, { totalResults: 3169, currentPage: 2, pageCount: 317, pageSize: 10, hasNextPage: true });
    assert.equal(page.items.length, 10);
    assert.deepEqual(page.problems, []);
  });

  it('gives every row its natural key from the hidden refCons / orgCons inputs', () => {
    assert.deepEqual(
      page.items.map((i) => `${i.orgAcronyme}/${i.refConsultation}`),
      ['l1f/920841', 'o8p/915904', 'o8p/920393', 'o8p/920424', 'o8p/920577', 'o8p/920628', 'o8p/920649', 'o8p/923795', 'd4q/927163', 'd4q/927333'],
    );
  });

  it('reads row 1 exactly', () => {
    assert.deepEqual(page.items[0], {
      orgAcronyme: 'l1f',
      refConsultation: '920841',
      reference: '03/2025',
      procedureCode: 'AOO',
      procedure: "Appel d'offres ouvert",
      category: 'Services',
      object: 'CONTRAT DE GESTION DELEGUEE DU SERVICE PUBLIC DE TRANSPORT EN COMMUN PAR AUTOBUS DANS LE PERIMETRE DE L’ECI ACHAMAL AL GHARBI',
      buyer: 'ETABLISSEMENT DE COOPERATAION INTERCOMMUNALE CHAMAL AL GHARBI',
      executionPlace: 'MDIQ-FNIDEQ, TETOUAN',
      annonceType: null,
      publishedOn: '2025-08-01',
      deadline: '2025-10-30T11:00:00+01:00',
      detailUrl: 'https://www.marchespublics.gov.ma/index.php?page=entreprise.EntrepriseDetailConsultation&refConsultation=920841&orgAcronyme=l1f',
      lotsUrl: null,
    });
  });

  it('decodes entities in objects (row 2, "&amp;")', () => {
    assert.equal(
      page.items[1]?.object,
      'Fourniture, installation et mise en service des équipements radiophare omnidirectionnel (VOR) Doppler & mesureur de distance (DME) pour l’aéroport de Casablanca Mohammed V (piste 35L)',
    );
    assert.equal(page.items[1]?.reference, '128/25/AOO/ONDA');
    assert.equal(page.items[1]?.deadline, '2025-10-30T10:00:00+01:00');
  });

  it('reads all places from the tooltip when the cell shows only the first ones (row 4)', () => {
    // The cell shows "NADOR<br /> DRIOUCH<br />", the bubble "NADOR, DRIOUCH, ESSAOUIRA".
    assert.equal(page.items[3]?.executionPlace, 'NADOR, DRIOUCH, ESSAOUIRA');
  });

  it('reads another procedure and publication date (row 8, concours architectural)', () => {
    const row = page.items[7];
    assert.equal(row?.procedureCode, 'CONCA');
    assert.equal(row?.procedure, 'Concours Architectural');
    assert.equal(row?.category, 'Services');
    assert.equal(row?.publishedOn, '2025-09-09');
    assert.equal(row?.buyer, "DIRECTION REGIONALE DE L'AGENCE NATIONALE DES EQUIPEMENTS PUBLICS DU CENTRE OUEST");
  });

  it('reads the last row', () => {
    assert.deepEqual(
      { ...page.items[9] },
      {
        orgAcronyme: 'd4q',
        refConsultation: '927333',
        reference: 'DXG/GN4128524',
        procedureCode: 'AOO',
        procedure: "Appel d'offres ouvert",
        category: 'Fournitures',
        object: 'FOURNITURE DES FILTRES D’AIR DE SURALIMENTATION AUTONETTOYANTS ASC POUR LA CENTRALE CD TAN-TAN',
        buyer: "OFFICE NATIONALE DE L'ELECTRICITE ET DE L'EAU POTABLE - BRANCHE ELECTRICITE",
        executionPlace: 'TAN-TAN',
        annonceType: null,
        publishedOn: '2025-09-02',
        deadline: '2025-10-30T09:00:00+01:00',
        detailUrl: 'https://www.marchespublics.gov.ma/index.php?page=entreprise.EntrepriseDetailConsultation&refConsultation=927333&orgAcronyme=d4q',
        lotsUrl: null,
      },
    );
  });

  it('keeps the form state a postback must resend', () => {
    const { form } = page;
    assert.equal(form.action, 'https://www.marchespublics.gov.ma/index.php?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons&keyWord=');
    assert.equal(form.pageState, 'Very_Big_b64_Encoded_data'); // the sample's author replaced the real state
    assert.deepEqual(form.fields[0], { name: 'PRADO_PAGESTATE', value: 'Very_Big_b64_Encoded_data' });
    const byName = new Map(form.fields.map((f) => [f.name, f.value]));
    assert.equal(byName.get('PRADO_POSTBACK_TARGET'), '');
    assert.equal(byName.get('ctl0$CONTENU_PAGE$resultSearch$listePageSizeTop'), '10');
    assert.equal(byName.get('ctl0$CONTENU_PAGE$resultSearch$numPageTop'), '2');
    assert.equal(byName.get('ctl0$CONTENU_PAGE$resultSearch$tableauResultSearch$ctl1$refCons'), '920841');
    assert.equal(byName.get('ctl0$CONTENU_PAGE$resultSearch$tableauResultSearch$ctl10$orgCons'), 'd4q');
    // Buttons and unchecked boxes are not sent.
    for (const absent of [
      'ctl0$CONTENU_PAGE$resultSearch$DefaultButtonTop',
      'ctl0$CONTENU_PAGE$afficherMonPanier',
      'ctl0$menuGaucheEntreprise$imageOk',
      'ctl0$CONTENU_PAGE$resultSearch$tableauResultSearch$ctl0$selectAll',
      'ctl0$CONTENU_PAGE$resultSearch$tableauResultSearch$ctl1$annonceSelection',
    ]) {
      assert.equal(byName.has(absent), false, absent);
    }
    assert.equal(form.fields.length, 28);
  });

  it('throws PageShapeError naming table.table-results when the table is gone', () => {
    const broken = edit(LIST_HTML, ($) => $('table.table-results').remove());
    assertShapeError(() => parseResultList(broken), 'list', ['table.table-results']);
  });

  it('throws PageShapeError naming the page state when the PRADO form is gone', () => {
    const broken = edit(LIST_HTML, ($) => $('#PRADO_PAGESTATE').remove());
    assertShapeError(() => parseResultList(broken), 'list', ['PRADO_PAGESTATE']);
  });

  it('throws when the table lost its rows while the page announces results', () => {
    const broken = edit(LIST_HTML, ($) => $('table.table-results tr').has('td').remove());
    assertShapeError(() => parseResultList(broken), 'list', ['table.table-results rows']);
  });

  it('returns an empty valid page for a search with no result', () => {
    const empty = edit(LIST_HTML, ($) => {
      $('table.table-results').remove();
      $('#ctl0_CONTENU_PAGE_resultSearch_nombreElement').text('0');
    });
    const result = parseResultList(empty);
    assert.deepEqual(result.items, []);
    assert.equal(result.pagination.totalResults, 0);
    assert.equal(result.pagination.hasNextPage, false);
  });

  it('reports a bad field as a row problem and keeps the row and the page', () => {
    const html = edit(LIST_HTML, ($) => {
      $('table.table-results tr').has('td').first().find('.cloture-line').first().html('31/02/2025<br>11:00');
    });
    const result = parseResultList(html);
    assert.equal(result.items.length, 10);
    assert.equal(result.items[0]?.deadline, null);
    assert.deepEqual(result.problems, [
      { row: 0, ref: 'l1f/920841', field: 'deadline', message: 'expected a dd/mm/yyyy HH:MM date', raw: '31/02/2025 11:00' },
    ]);
  });

  it('drops a row without natural key, and says so', () => {
    const html = edit(LIST_HTML, ($) => {
      const row = $('table.table-results tr').has('td').eq(2);
      row.find('input[type="hidden"]').remove();
      row.find('a[href*="EntrepriseDetail"]').remove();
    });
    const result = parseResultList(html);
    assert.equal(result.items.length, 9);
    assert.ok(!result.items.some((i) => i.refConsultation === '920393'));
    assert.ok(result.problems.some((p) => p.row === 2 && p.field === 'row'));
    assert.ok(result.problems.some((p) => p.row === 2 && p.field === 'orgAcronyme'));
  });
});

describe('form state of the advanced search (html/legacy-advanced-search-form.excerpt.html)', () => {
  const $ = load(FORM_HTML);
  const fields = collectFormFields($, $('form').first());
  const byName = new Map(fields.map((f) => [f.name, f.value]));
  const P = 'ctl0$CONTENU_PAGE$AdvancedSearch$';

  it('sends checked radios, selected (or first) options and inputs', () => {
    assert.equal(byName.get(`${P}type_rechercheEntite`), 'floue');
    assert.equal(byName.get(`${P}rechercheFloue`), `${P}floue`);
    assert.equal(byName.get(`${P}dateMiseEnLigneCalculeStart`), '23/03/2026');
    assert.equal(byName.get(`${P}categorie`), '0');
    assert.equal(fields.filter((f) => f.name === `${P}considerationsEnvironnementales`).length, 1);
  });
  it('leaves out textareas, buttons, disabled fields and empty selects', () => {
    for (const absent of [
      `${P}domaineActivite$idsDomaines`,
      `${P}qualification$libelleQualif`,
      `${P}lancerRecherche`,
      `${P}annonceType`,
      `${P}entityPurchaseNames`,
      'ctl0$CONTENU_PAGE$buttonRefresh',
    ]) {
      assert.equal(byName.has(absent), false, absent);
    }
  });
});

describe('parseConsultationDetail (html/legacy-consultation-detail.excerpt.html)', () => {
  const { item, problems } = parseConsultationDetail(DETAIL_HTML);

  it('reads the recap block exactly', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(item, {
      orgAcronyme: 'g3h',
      refConsultation: '1034700',
      reference: '074/2026/AS',
      object:
        'Travaux d’assainissement liquide du POLE URBAIN KSAR SGHIR/KSAR MAJAZ (Province Fahs Anjra). Lot : STATION D’EPURATION (AO OUVERT INTERNATIONAL)',
      buyer: 'M6 / SRM-TTA - SOCIETE REGIONALE MULTISERVICES TANGER- TETOUAN-AL HOCEIMA SA',
      annonceType: 'Annonce de consultation',
      procedure: "Appel d'offres ouvert",
      passationMode: 'Sur offre de prix',
      category: 'Travaux',
      executionPlace: 'FAHS-ANJRA',
      deadline: '2026-11-11T10:00:00+01:00',
      estimationTtc: '48516000.00',
      cautionProvisoire: '752000.00',
      planPrice: '0.00',
      openingPlace:
        'Dans les bureaux de la Société Régionale Multiservices Tanger-Tétouan-Al Hoceima S.A «SRM-TTA » sis à l’Immeuble View Tower, Résidence Tanger City Center, Avenue d’Espagne- Tanger',
      withdrawalAddress:
        'Le dossier d’appel d’offres peut être retiré au bureau des marchés au siège de la SRM-TTA sis à l’Immeuble View Tower, Résidence Tanger City Center, Avenue d’Espagne-Tanger; il peut être également téléchargé à partir du portail des marchés de l’État www.marchéspublics.gov.ma.',
      submissionAddress:
        'Les concurrents peuvent : - Soit déposer contre récépissé leurs plis dans le bureau d’ordre de la SRM-TTA sis à l’Immeuble View Tower, Résidence Tanger City Center, Avenue d’Espagne-Tanger. - Soit les envoyer par courrier recommandé avec accusé de réception au bureau précité. - Soit les remettre au président de la commission d’appel d’offres au début de la séance et avant l’ouverture des plis. - Soit les soumettre électroniquement au niveau du portail des marchés publics www.marchespublics.gov.ma.',
      variantAllowed: false,
      reservedForSmallBusiness: false,
      siteVisits: [
        {
          at: '2026-10-20T10:00:00+01:00',
          place: 'Point de rassemblement pour la visite des lieux : Siège de l’Agence de la SRM-TTA au centre de Ksar Sghir. [contact retiré]',
        },
      ],
      qualifications: [],
      agrements: [],
      activityDomains: [
        'Travaux / Travaux d’assainissement, d’eau potable et de réseaux divers / Ouvrages d\'assainissement',
        'Travaux / Travaux d’assainissement, d’eau potable et de réseaux divers / Pose de conduites d\'assainissement',
        "Travaux / Construction d'ouvrages d'art / Ouvrages d'art en béton armé ou compacté au rouleau, en acier et maçonnerie",
        'Travaux / Travaux d’installation / Travaux d’installation de matériel et équipements hydro-électromécaniques, électroniques, électromécaniques et similaires',
      ],
      allotted: false,
      lotCount: null,
      lotsUrl: null,
      noticeDocuments: [],
    });
  });

  it('keeps personal contacts out', () => {
    const json = JSON.stringify(item);
    for (const leak of ['PERSON NAME', 'EMAIL REMOVED', 'PHONE REMOVED', 'FAX REMOVED', 'NAME AND PHONE']) {
      assert.equal(json.includes(leak), false, leak);
    }
    assert.equal(ConsultationDetailItemSchema.safeParse({ ...item, email: 'x@y.ma' }).success, false);
  });

  it('throws PageShapeError naming #recap-consultation when the block is gone', () => {
    const broken = edit(DETAIL_HTML, ($) => $('#recap-consultation').remove());
    assertShapeError(() => parseConsultationDetail(broken), 'detail', ['#recap-consultation']);
  });

  it('throws PageShapeError naming the fields when reference and object are gone', () => {
    const broken = edit(DETAIL_HTML, ($) => {
      $('#recap-consultation div.line').has('[id$="_reference"]').remove();
      $('#recap-consultation div.line').has('[id$="_objet"]').remove();
    });
    assertShapeError(() => parseConsultationDetail(broken), 'detail', [
      'idEntrepriseConsultationSummary_reference',
      'idEntrepriseConsultationSummary_objet',
    ]);
  });

  it('falls back to the div.line labels when the ids change', () => {
    const renamed = edit(DETAIL_HTML, ($) => {
      $('#recap-consultation [id*="idEntrepriseConsultationSummary"]').each((_, el) => {
        $(el).attr('id', ($(el).attr('id') ?? '').replace('idEntrepriseConsultationSummary', 'summaryV2'));
      });
    });
    assert.equal(load(renamed)('[id*="idEntrepriseConsultationSummary"]').length, 0);
    const fromLabels = parseConsultationDetail(renamed);
    assert.deepEqual(fromLabels.problems, []);
    assert.deepEqual(fromLabels.item, item);
  });

  it('reads an amount glued to @@@@ and a notice whose estimation is only the bubble', () => {
    const glued = edit(DETAIL_HTML, ($) => $('[id$="_labelReferentielZoneText"]').text('48 516 000,00 @@@@'));
    assert.equal(parseConsultationDetail(glued).item.estimationTtc, '48516000.00');
    const notice = edit(DETAIL_HTML, ($) => {
      $('[id$="_labelReferentielZoneText"]').text('');
      $('[id$="_cautionProvisoire"]').text('');
    });
    const parsed = parseConsultationDetail(notice);
    assert.equal(parsed.item.estimationTtc, null);
    assert.equal(parsed.item.cautionProvisoire, null);
    assert.deepEqual(parsed.problems, []);
  });

  it('reports an unreadable amount as a problem and still returns the item', () => {
    const html = edit(DETAIL_HTML, ($) => $('[id$="idEntrepriseConsultationSummary_cautionProvisoire"]').text('selon CPS'));
    const parsed = parseConsultationDetail(html);
    assert.equal(parsed.item.cautionProvisoire, null);
    assert.equal(parsed.item.estimationTtc, '48516000.00');
    assert.deepEqual(parsed.problems, [
      { row: null, ref: 'g3h/1034700', field: 'cautionProvisoire', message: 'expected a French amount', raw: 'selon CPS' },
    ]);
  });

  it('reads an allotted consultation: lot count and lots popup', () => {
    const html = edit(DETAIL_HTML, ($) => {
      $('[id$="_nbrLots"]').text('3');
      $('[id$="_linkDetailLots"]')
        .attr('href', "javascript:popUp('index.php?page=commun.PopUpDetailLots&orgAccronyme=g3h&refConsultation=1034700&lang=','yes')")
        .text('Détail des lots');
      $('[id$="_panelConsultationNonAlotti"]').attr('style', 'display:none;');
    });
    const parsed = parseConsultationDetail(html).item;
    assert.equal(parsed.allotted, true);
    assert.equal(parsed.lotCount, 3);
    assert.equal(parsed.lotsUrl, 'https://www.marchespublics.gov.ma/index.php?page=commun.PopUpDetailLots&orgAccronyme=g3h&refConsultation=1034700&lang=');
  });

  it('lists published notice documents with a real idAvis only', () => {
    const html = edit(DETAIL_HTML, ($) => {
      $('a[href*="EntrepriseDownloadAvisJAL"]')
        .first()
        .after('<a title="Extrait de PV - 716,79 Ko" href="index.php?page=entreprise.EntrepriseDownloadAvisJAL&refConsultation=1034700&orgAcronyme=g3h&idAvis=532542">PV</a>');
    });
    assert.deepEqual(parseConsultationDetail(html).item.noticeDocuments, [
      {
        idAvis: '532542',
        url: 'https://www.marchespublics.gov.ma/index.php?page=entreprise.EntrepriseDownloadAvisJAL&refConsultation=1034700&orgAcronyme=g3h&idAvis=532542',
        label: 'Extrait de PV - 716,79 Ko',
      },
    ]);
  });
});

interface DetailRecord {
  date_limite: string;
  ref: string;
  objet: string;
  entite_publique: string;
  type_procedure: string;
  categorie: string;
  lieu_execution: string;
  estimation_ttc: string | null;
  caution_provisoire: string;
  lieu_ouverture_plis: string;
  adresse_retrait_dossiers: string;
  adresse_depot_offres: string;
  variante_autorisee: string;
  visites_lieux: string | null;
  refConsultation: string;
  orgAcronyme: string;
}

/**
 * Morocco's UTC+0 periods around Ramadan as announced (and encoded in tzdata), by calendar day,
 * written out here so the offsets are checked against something other than luxon.
 */
function expectedOffset(year: number, month: number, day: number): string {
  const d = year * 10000 + month * 100 + day;
  assert.ok(year === 2025 || year === 2026, `no oracle for ${year}`);
  const utc0 = (d >= 20250223 && d <= 20250405) || (d >= 20260215 && d <= 20260321);
  return utc0 ? '+00:00' : '+01:00';
}

function expectedIso(text: string): string {
  const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/.exec(text);
  assert.ok(m, text);
  const [, dd, mm, yyyy, hh, mi] = m;
  return `${yyyy}-${mm}-${dd}T${hh}:${mi}:00${expectedOffset(Number(yyyy), Number(mm), Number(dd))}`;
}

/** "20 000,00 MAD" → "20000.00", by plain string surgery. */
function expectedAmount(text: string | null): string | null {
  if (text === null || text.trim() === '') return null;
  return text.replace(/MAD/g, '').replace(/\s/g, '').replace(',', '.');
}

/** Put one record's values into the real detail page, the way the portal renders them. */
function detailPageFor(rec: DetailRecord): string {
  return edit(DETAIL_HTML, ($) => {
    const set = (suffix: string, text: string): void => {
      const el = $(`[id$="idEntrepriseConsultationSummary_${suffix}"]`);
      assert.equal(el.length, 1, suffix);
      el.text(text);
    };
    $('form').attr('action', `/?page=entreprise.EntrepriseDetailsConsultation&refConsultation=${rec.refConsultation}&orgAcronyme=${rec.orgAcronyme}&code=&retraits`);
    set('dateHeureLimiteRemisePlis', rec.date_limite);
    set('reference', rec.ref);
    set('objet', rec.objet);
    set('entiteAchat', rec.entite_publique);
    const [type, mode] = rec.type_procedure.split(' | ');
    set('typeProcedure', type ?? '');
    set('modePassation', mode ? ` | ${mode}` : '');
    set('categoriePrincipale', rec.categorie);
    set('lieuxExecutions', rec.lieu_execution);
    const estimation = $('[id$="idEntrepriseConsultationSummary_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_labelReferentielZoneText"]');
    if (rec.estimation_ttc === null) estimation.closest('[id$="_panelReferentielZoneText"]').remove();
    else estimation.text(rec.estimation_ttc);
    set('cautionProvisoire', `${rec.caution_provisoire} `);
    set('lieuOuverturePlis', rec.lieu_ouverture_plis);
    set('adresseRetraitDossiers', rec.adresse_retrait_dossiers);
    set('adresseDepotOffres', rec.adresse_depot_offres);
    set('varianteValeur', rec.variante_autorisee);
    const visits = $('[id$="idEntrepriseConsultationSummary_panelRepeaterVisitesLieux"]');
    if (rec.visites_lieux === null) {
      // Markup of a page without visit (pmmp-veille fixtures/live/detail/d4q__1040952.html).
      visits.replaceWith('<div id="ctl0_CONTENU_PAGE_idEntrepriseConsultationSummary_panelPasVisitelieu" class="content-bloc bloc-500">- </div>');
    } else {
      const parts = rec.visites_lieux.split(/(\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}) , /).slice(1);
      const list = $('<ul class="default-list"></ul>');
      for (let i = 0; i < parts.length; i += 2) {
        const li = $('<li></li>');
        li.append($(`<span id="ctl0_CONTENU_PAGE_idEntrepriseConsultationSummary_repeaterVisitesLieux_ctl${i / 2 + 1}_dateVisites"></span>`).text(parts[i] ?? ''));
        li.append(',&nbsp;');
        li.append($(`<span id="ctl0_CONTENU_PAGE_idEntrepriseConsultationSummary_repeaterVisitesLieux_ctl${i / 2 + 1}_adresseVisites"></span>`).text(parts[i + 1] ?? ''));
        list.append(li);
      }
      visits.empty().append(list);
    }
  });
}

describe('detail parser against the 608 real records (consultations-detail-records.jsonl)', () => {
  const records = sample('consultations-detail-records.jsonl')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DetailRecord);

  it('has the 608 records', () => {
    assert.equal(records.length, 608);
  });

  it('normalizes every record amount exactly, without floats', () => {
    for (const rec of records) {
      assert.equal(parseFrenchAmount(rec.estimation_ttc), expectedAmount(rec.estimation_ttc), rec.estimation_ttc ?? 'null');
      assert.equal(parseFrenchAmount(rec.caution_provisoire), expectedAmount(rec.caution_provisoire), rec.caution_provisoire);
    }
  });

  it('gives every record deadline its Casablanca offset', () => {
    for (const rec of records) assert.equal(parseCasablancaDate(rec.date_limite), expectedIso(rec.date_limite), rec.date_limite);
  });

  it('reads each record back from the real page markup', () => {
    for (const rec of records) {
      const label = `${rec.orgAcronyme}/${rec.refConsultation}`;
      const { item, problems } = parseConsultationDetail(detailPageFor(rec));
      assert.deepEqual(problems, [], label);
      assert.equal(item.orgAcronyme, rec.orgAcronyme, label);
      assert.equal(item.refConsultation, rec.refConsultation, label);
      assert.equal(item.reference, normalizeSpace(rec.ref), label);
      assert.equal(item.object, normalizeSpace(rec.objet), label);
      assert.equal(item.buyer, normalizeSpace(rec.entite_publique), label);
      assert.equal([item.procedure, item.passationMode].filter(Boolean).join(' | '), rec.type_procedure, label);
      assert.equal(item.category, rec.categorie, label);
      assert.equal(item.executionPlace, rec.lieu_execution, label);
      assert.equal(item.deadline, expectedIso(rec.date_limite), label);
      assert.equal(item.estimationTtc, expectedAmount(rec.estimation_ttc), label);
      assert.equal(item.cautionProvisoire, expectedAmount(rec.caution_provisoire), label);
      assert.equal(item.openingPlace, scrubContacts(normalizeSpace(rec.lieu_ouverture_plis) || null), label);
      assert.equal(item.withdrawalAddress, scrubContacts(normalizeSpace(rec.adresse_retrait_dossiers) || null), label);
      assert.equal(item.submissionAddress, scrubContacts(normalizeSpace(rec.adresse_depot_offres) || null), label);
      assert.equal(item.variantAllowed, rec.variante_autorisee === '' ? null : rec.variante_autorisee === 'Oui', label);
      const visits = rec.visites_lieux ? rec.visites_lieux.split(/(\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}) , /).slice(1) : [];
      assert.deepEqual(
        item.siteVisits.map((v) => v.at),
        visits.filter((_, i) => i % 2 === 0).map(expectedIso),
        label,
      );
    }
  });

  it('keeps phone numbers of the records out of the addresses', () => {
    const withPhone = records.find((r) => r.lieu_ouverture_plis.includes('05 23 31 06 98'));
    assert.ok(withPhone);
    const { item } = parseConsultationDetail(detailPageFor(withPhone));
    assert.equal(item.openingPlace?.includes('05 23 31 06 98'), false);
    assert.ok(item.openingPlace?.startsWith("ONEE/Branche Electricité Bureaux d'ordre de la Direction Exploitation Mohammedia"));
  });
});

describe('parseLots (fixtures/lots-popup.inferred.html, markup inferred from public scrapers)', () => {
  const page = parseLots(LOTS_HTML);

  it('reads the consultation key from the popup form action', () => {
    assert.deepEqual(page.key, { orgAcronyme: 'q9t', refConsultation: '1014491' });
  });

  it('reads every lot', () => {
    assert.deepEqual(page.problems, []);
    assert.deepEqual(page.lots, [
      {
        lotNumber: 1,
        object: "Travaux d'aménagement de la voirie – tranche 1",
        category: 'Travaux',
        description: 'Chaussée, trottoirs et assainissement pluvial',
        estimationTtc: '1611758.40',
        cautionProvisoire: '30000.00',
        qualifications: ['Secteur B / B2 - Travaux de voirie / Classe 3'],
        agrements: [],
      },
      {
        lotNumber: 2,
        object: 'Éclairage public – tranche 1',
        category: 'Travaux',
        description: null,
        estimationTtc: '395448.00',
        cautionProvisoire: '8000.00',
        qualifications: [],
        agrements: ['Agrément D - Électricité'],
      },
      {
        lotNumber: 3,
        object: 'Signalisation horizontale et verticale',
        category: 'Fournitures',
        description: null,
        estimationTtc: null,
        cautionProvisoire: null,
        qualifications: [],
        agrements: [],
      },
    ]);
  });

  it('throws PageShapeError when no lot panel is left', () => {
    const broken = edit(LOTS_HTML, ($) => $('[id*="repeaterLots_ctl"]').remove());
    assertShapeError(() => parseLots(broken), 'lots', ['[id*="repeaterLots_ctl"]']);
  });

  it('reads the same lots when each lot is wrapped in its own repeater panel', () => {
    const wrapped = LOTS_HTML.replace(/<!--Debut Lot (\d)-->/g, (_, n: string) => `<div id="ctl0_CONTENU_PAGE_repeaterLots_ctl${Number(n) - 1}_panelLot">`).replace(
      /<!--Fin Lot \d-->/g,
      '</div>',
    );
    assert.notEqual(wrapped, LOTS_HTML);
    assert.deepEqual(parseLots(wrapped), page);
  });

  it('numbers a lot from its position when its header is missing, and says so', () => {
    const html = edit(LOTS_HTML, ($) => $('span.blue.bold').eq(1).text('Lot :'));
    const result = parseLots(html);
    assert.deepEqual(
      result.lots.map((l) => l.lotNumber),
      [1, 2, 3],
    );
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0]?.field, 'lotNumber');
  });
});

describe('parseBdcResults (html/bdc-result-cards.snippet.html)', () => {
  const page = parseBdcResults(BDC_HTML);

  it('reads the awarded card', () => {
    assert.deepEqual(page.items[0], {
      reference: 'BCN18/2026',
      object: 'Réalisation des essais de contrôle de la qualité',
      buyer: 'DELEGUE DU MINISTERE DES AFFAIRES CULTURELLES ERRACHIDIA',
      resultPublishedAt: '2026-10-01T13:11:00+01:00',
      deadline: null,
      bidCount: 6,
      outcome: 'attribue',
      winner: 'LABO-EST',
      amountTtc: '15600.00',
      detailUrl: null,
    });
  });

  it('reads the "infructueux" card (the snippet\'s simplified second card)', () => {
    assert.deepEqual(page.items[1], {
      reference: '07/2026',
      object: 'Achat de fournitures',
      buyer: 'COMMUNE X',
      resultPublishedAt: '2026-09-30T09:05:00+01:00',
      deadline: null,
      bidCount: null,
      outcome: 'infructueux',
      winner: null,
      amountTtc: null,
      detailUrl: null,
    });
    assert.deepEqual(page.problems, []);
    assert.equal(page.totalResults, null);
  });

  it('reads the live page variant (rightSubCard--top, font-bold values, result count)', () => {
    // Shape read by public scrapers of /bdc/entreprise/consultation/resultat; not a capture.
    const html = `<div class="mt-4 py-3 content__subBox"><div class="content__resultat">Nombre de résultats : 1</div>
      <div class="entreprise__card"><div class="entreprise__middleSubCard">
        <a class="font-bold table__links" href="/bdc/entreprise/consultation/show/412345">Référence : 12/BC/2026</a>
        <div class="truncate_fullWidth table__links" data-bs-toggle="tooltip" data-bs-title="Achat de pneus pour véhicules de service">
          <span class="font-bold">Objet :</span> Achat de pneus pour véh…</div>
        <div class="table__links"><span>Acheteur :</span> COMMUNE DE SETTAT</div>
        <div class="table__links"><span>Date de publication du résultat :</span> 03/03/2026 10:15</div></div>
      <div class="entreprise__rightSubCard--top">
        <span>Nombre de devis reçus : <span class="font-bold">3</span></span>
        <span>Entreprise attributaire : <span class="font-bold">STE PNEU PLUS SARL</span></span>
        <span>Montant TTC : <span class="font-bold">48\u202f360,00 MAD</span></span></div></div></div>`;
    const result = parseBdcResults(html);
    assert.equal(result.totalResults, 1);
    assert.deepEqual(result.items, [
      {
        reference: '12/BC/2026',
        object: 'Achat de pneus pour véhicules de service',
        buyer: 'COMMUNE DE SETTAT',
        resultPublishedAt: '2026-03-03T10:15:00+00:00', // Ramadan 2026
        deadline: null,
        bidCount: 3,
        outcome: 'attribue',
        winner: 'STE PNEU PLUS SARL',
        amountTtc: '48360.00',
        detailUrl: 'https://www.marchespublics.gov.ma/bdc/entreprise/consultation/show/412345',
      },
    ]);
  });

  it('throws PageShapeError when there is neither card nor result count', () => {
    const broken = edit(BDC_HTML, ($) => $('.entreprise__card').remove());
    assertShapeError(() => parseBdcResults(broken), 'bdc-results', ['.entreprise__card', '.content__resultat']);
  });

  it('returns an empty valid page when the count says 0', () => {
    const empty = parseBdcResults('<div class="content__subBox"><div class="content__resultat">Nombre de résultats : 0</div></div>');
    assert.deepEqual(empty, { items: [], problems: [], totalResults: 0 });
  });

  it('reports bad fields per card and drops a card without reference', () => {
    const html = edit(BDC_HTML, ($) => {
      $('.entreprise__card').first().find('span span').last().text('quinze mille');
      $('.entreprise__card').last().find('.entreprise__middleSubCard > div').first().remove();
    });
    const result = parseBdcResults(html);
    assert.equal(result.items.length, 1);
    assert.equal(result.items[0]?.amountTtc, null);
    assert.deepEqual(
      result.problems.map((p) => [p.row, p.field]),
      [
        [0, 'amountTtc'],
        [1, 'reference'],
        [1, 'row'],
      ],
    );
  });
});

describe('registry', () => {
  it('has one parser per page kind', () => {
    assert.deepEqual(Object.keys(parsers).sort(), ['bdc-results', 'detail', 'list', 'lots']);
    const list = parsers.list(LIST_HTML) as { items: unknown[] };
    assert.equal(list.items.length, 10);
  });
});

/**
 * `parseConsultationDetail` scans the page's start tags and builds nodes only for `#recap-consultation`
 * and the notice links (`scanDetailPage`), else tokenizes the whole page building only those
 * (`noScan`); the whole-page tree (`wholePage`) is the reference: all three must read every sample page
 * the same, down to the error a page is refused with.
 */
describe('detail parser: the scanned and the partial tree read every page as the whole-page tree', () => {
  const reading = (html: string, ctx: DetailContext) => {
    try {
      return parseConsultationDetail(html, ctx);
    } catch (err) {
      return { refused: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  };
  let scanned = 0;
  const assertSame = (html: string, label: string, ctx: DetailContext = {}) => {
    const whole = reading(html, { ...ctx, wholePage: true });
    assert.deepEqual(reading(html, ctx), whole, label);
    assert.deepEqual(reading(html, { ...ctx, noScan: true }), whole, `${label} (noScan)`);
    if (scanDetailPage(html)) scanned++;
  };

  it('on the sample page and its edited variants (labels only, no recap, no reference, notices, allotment)', () => {
    const variants: [string, string][] = [
      ['sample', DETAIL_HTML],
      ['no recap', edit(DETAIL_HTML, ($) => $('#recap-consultation').remove())],
      ['no reference, no object', edit(DETAIL_HTML, ($) => $('[id$="_reference"], [id$="_objet"]').remove())],
      ['ids renamed', edit(DETAIL_HTML, ($) => $('[id*="idEntrepriseConsultationSummary_"]').each((_, el) => void $(el).attr('id', `x${$(el).attr('id') ?? ''}`.replace('Summary_', 'Resume_'))))],
      ['glued amount', edit(DETAIL_HTML, ($) => $('[id$="_labelReferentielZoneText"]').text('48 516 000,00 @@@@'))],
      ['notice links in and out of the recap', edit(DETAIL_HTML, ($) => {
        $('#recap-consultation').append('<a href="index.php?page=entreprise.EntrepriseDownloadAvisJAL&idAvis=77&refConsultation=1&orgAcronyme=x">Avis <b>77</b></a>');
        $('body').prepend('<p><a title="Extrait de PV" href="index.php?page=entreprise.EntrepriseDownloadAvisJAL&idAvis=78">PV<div id="recap-consultation">leurre</div></a>');
      })],
      ['no form, key from links only', edit(DETAIL_HTML, ($) => $('form').removeAttr('action'))],
    ];
    for (const [label, html] of variants) assertSame(html, label);
  });

  it('leaves to the tokenizer the pages a scan could misread, and reads them the same', () => {
    const recapAt = DETAIL_HTML.indexOf('<div class="form-bloc recap-infos-consultation" id="recap-consultation">');
    assert.ok(recapAt > 0);
    const insideRecap = (extra: string) => DETAIL_HTML.replace('<div class="content">', `<div class="content">${extra}`);
    const refused: [string, string][] = [
      // A `</span>` in the recap closes a span opened around it: the whole-page tree ends the recap there.
      ['end tag closing an element around the recap', `${DETAIL_HTML.slice(0, recapAt)}<span>${insideRecap('<b>x</span>y').slice(recapAt)}`],
      ['svg before the recap', DETAIL_HTML.replace('<body', '<svg><path d="m0"/></svg><body')],
      ['CDATA section', DETAIL_HTML.replace('<body', '<![CDATA[ x ]]><body')],
      ['comment left open', `${DETAIL_HTML}<!-- cut`],
      ['end tag in a notice link closing an element around it', DETAIL_HTML.replace(/(<a[^>]*EntrepriseDownloadAvisJAL[^>]*>)/, '$1<b>Avis</b></b>')],
    ];
    for (const [label, html] of refused) {
      assert.notEqual(html, DETAIL_HTML, label);
      assert.equal(scanDetailPage(html), null, label);
      assertSame(html, label);
    }
    assert.ok(scanDetailPage(DETAIL_HTML));
  });

  it('on the pages of the 608 real records', () => {
    const records = sample('consultations-detail-records.jsonl')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as DetailRecord);
    const scannedBefore = scanned;
    for (const rec of records) assertSame(detailPageFor(rec), `${rec.orgAcronyme}/${rec.refConsultation}`);
    assert.equal(scanned - scannedBefore, records.length, 'pages read by the scan');
  });

  it('on detail pages of the portal replica, generated and real, with and without a changed shape', async () => {
    const replica = await startPortalReplica({ seed: 7, today: '2026-11-20', consultations: 1_500 });
    try {
      const all = replica.oracle.consultations();
      const picked = [...all.filter((c) => c.source === 'real').slice(0, 40), ...all.filter((c) => c.source === 'generated').filter((_, i) => i % 15 === 0)];
      assert.ok(picked.length >= 100, `${picked.length} pages`);
      const scannedBefore = scanned;
      for (const [i, c] of picked.entries()) {
        replica.setKnobs({ shapeChanged: i % 10 === 9 ? 'detail' : null });
        const url = `${replica.url}/index.php?page=entreprise.EntrepriseDetailConsultation&refConsultation=${c.refConsultation}&orgAcronyme=${c.orgAcronyme}`;
        const res = await fetch(url);
        assert.equal(res.status, 200, url);
        const key = { orgAcronyme: c.orgAcronyme, refConsultation: c.refConsultation };
        assertSame(await res.text(), `${c.orgAcronyme}/${c.refConsultation}`, { baseUrl: `${replica.url}/index.php`, key });
      }
      // The scan did the reading (it refuses nothing the portal serves), not its fallback.
      assert.equal(scanned - scannedBefore, picked.length, 'pages read by the scan');
    } finally {
      await replica.close();
    }
  });
});

/**
 * `parseResultList` reads the list from htmlparser2's tree with the end-tag scope rule (`loadListHtml`);
 * parse5's tree (`parseResultListParse5`) is the reference: both must read every list page the same,
 * down to the error a page is refused with. `parseResultListFast` is the htmlparser2 reading alone (no
 * second reading by parse5), so a page it misread cannot pass here.
 */
describe('list parser: htmlparser2 with the scope rule reads every list page as parse5', () => {
  const reading = (parse: typeof parseResultList, html: string, ctx: ParseContext) => {
    try {
      return parse(html, ctx);
    } catch (err) {
      return { refused: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  };
  const assertSame = (html: string, label: string, ctx: ParseContext = {}): ResultListPage | { refused: string } => {
    const reference = reading(parseResultListParse5, html, ctx);
    assert.deepEqual(reading(parseResultListFast, html, ctx), reference, label);
    assert.deepEqual(reading(parseResultList, html, ctx), reference, label);
    return reference;
  };

  it('on the sample page and its edited variants', () => {
    const variants: [string, string][] = [
      ['sample', LIST_HTML],
      ['no table', edit(LIST_HTML, ($) => $('table.table-results').remove())],
      ['no rows', edit(LIST_HTML, ($) => $('table.table-results tr').has('td').remove())],
      ['bad deadline', edit(LIST_HTML, ($) => $('table.table-results tr').has('td').first().find('.cloture-line').first().html('31/02/2025<br>11:00'))],
      // The stray `</div>` after the row's cells, written before a row and inside a cell too.
      ['more stray end tags', LIST_HTML.replace(/(<tr class="[^"]*">)/g, '</div></span>$1').replace(/(<td class="col-90" headers="cons_ref">)/g, '$1</div></td></p>')],
      ['no pager', edit(LIST_HTML, ($) => $('[id$="_numPageTop"], [id$="_nombrePageTop"]').remove())],
    ];
    for (const [label, html] of variants) assertSame(html, label);
    // The stray `</div>` (the portal's markup) is what closed htmlparser2's table after the first row.
    assert.equal(load(LIST_HTML, { xml: { xmlMode: false, decodeEntities: true } })('table.table-results tr').length, 3);
    assert.equal((assertSame(LIST_HTML, 'sample') as ResultListPage).items.length, 10);
  });

  it('on the list pages of the portal replica: a window at 100 rows, notice lists, a changed shape', async () => {
    const [replica, db, proofDir] = await Promise.all([
      startPortalReplica({ seed: 42, today: '2026-11-20', consultations: 20_000 }),
      createTestDatabase(),
      mkdtemp(join(tmpdir(), 'moisson-pmmp-list-proofs-')),
    ]);
    const fetcher = createFetcher({ politeness: false, robots: false });
    try {
      const pages: string[] = [];
      // The pages as the crawl gets them (search, page size, next): the client hands each to its parsers.
      const recording: PageParsers = { ...inlineParsers, list: async (html, ctx) => (pages.push(html), inlineParsers.list(html, ctx)) };
      const proofs = createProofStore({ db: db.db, dir: proofDir });
      const client = new PortalClient({ fetcher, proofs, baseUrl: `${replica.url}/index.php`, parsers: recording });
      const window = await client.openSearch({ kind: 'searchAnnCons', from: '2026-03-01', to: '2026-04-30', pageSize: 100 });
      while (window.current.list.pagination.hasNextPage) await window.next();
      for (const kind of ['AvisAttribution', 'AvisExtraitPV', 'AvisRapportAchevement'] as const) await (await client.openSearch({ kind, pageSize: 100 })).next();
      const shown = pages.length;
      replica.setKnobs({ shapeChanged: 'list' });
      const changed = await (await fetch(`${replica.url}/index.php?page=entreprise.EntrepriseAdvancedSearch&AvisAttribution`)).text();
      let rows = 0;
      for (const [i, html] of [...pages, changed].entries()) {
        const read = assertSame(html, `list page ${i}`, { baseUrl: `${replica.url}/index.php` });
        if ('items' in read) rows += read.items.length;
      }
      assert.ok(shown >= 18, `${shown} list pages`);
      assert.ok(rows >= 1_085 + 600, `${rows} rows`);
    } finally {
      await fetcher.close();
      await Promise.allSettled([replica.close(), db.drop(), rm(proofDir, { recursive: true, force: true })]);
    }
  });
});
