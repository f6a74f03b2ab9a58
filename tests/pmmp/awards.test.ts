import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../activities/engine/errors';
import { awardRows } from '../../activities/pmmp/awards-store';
import {
  ACCURACY_FIELDS,
  AwardNoticeItemSchema,
  ExtractionAbortedError,
  MissingBinaryError,
  NotAPdfError,
  ToolTimeoutError,
  evaluateGroundTruth,
  extractNoticeText,
  findAmounts,
  findDates,
  formatAccuracyReport,
  parseAmount,
  parseAward,
  parseDate,
  type AwardNotice,
} from '../../activities/pmmp/awards';
import { encodePgm, parsePgm, rotateClockwise } from '../../activities/pmmp/awards/pgm';
import { runTool } from '../../activities/pmmp/awards/tools';
import { COMPANIONS, OCR_TEXT_DIR, PDF_DIR, groundTruthText, loadGroundTruth, sampleNoticeText } from './awards-helpers';

async function parsedSample(pdf: string): Promise<AwardNotice> {
  return parseAward((await sampleNoticeText(pdf)).text);
}

async function parsedOcrText(file: string, companion = false): Promise<AwardNotice> {
  return parseAward(await readFile(join(companion ? COMPANIONS : OCR_TEXT_DIR, file), 'utf8'));
}

describe('amounts', () => {
  it('reads French formats into exact decimal strings', () => {
    assert.equal(parseAmount('1 234 567,89'), '1234567.89');
    assert.equal(parseAmount('1\u00a0234\u00a0567,89 DH'), '1234567.89');
    assert.equal(parseAmount('1\u202f234\u202f567,89 MAD TTC'), '1234567.89');
    assert.equal(parseAmount('2.825.280,00 MAD'), '2825280.00');
    assert.equal(parseAmount('985 284.00'), '985284.00');
    assert.equal(parseAmount('95.040.40'), '95040.40');
    assert.equal(parseAmount('1,451,520,00 MAD'), '1451520.00');
    assert.equal(parseAmount('660 024,00dh'), '660024.00');
    assert.equal(parseAmount('27.000.000 Dirhams'), '27000000.00');
    // Amounts beyond float precision stay exact.
    assert.equal(parseAmount('12 345 678 901 234,56 DH'), '12345678901234.56');
  });

  it('tolerates OCR damage and says so', () => {
    const [fixed] = findAmounts('2OO.160,00 DHS TTC');
    assert.equal(fixed?.value, '200160.00');
    assert.ok(fixed?.notes.length);
    assert.equal(parseAmount('2.379 .696,00 MAD'), '2379696.00');
    assert.equal(parseAmount('550.880 ,00 MAD'), '550880.00');
    const [regrouped] = findAmounts('STE STS ATLAS | 6158 253.60 DHS TTC');
    assert.equal(regrouped?.value, '6158253.60');
    assert.ok(regrouped?.notes.includes('irregular digit grouping'));
  });

  it('does not take dates, journal numbers, percentages or garbage for amounts', () => {
    assert.deepEqual(findAmounts('le 13.08.2026 à 10h00'), []);
    assert.deepEqual(findAmounts('Le Matin N° 18 340 du 21/10/2025'), []);
    assert.deepEqual(findAmounts("proposition d'honoraire de 4.2 %"), []);
    assert.deepEqual(findAmounts('STE TARFAS LASIAD | 5048 0 |'), []);
    assert.equal(parseAmount('é50.880,00 MAD'), null);
  });
});

describe('dates', () => {
  it('reads numeric, French and Arabic dates as YYYY-MM-DD', () => {
    assert.equal(parseDate('13/08/2026'), '2026-08-13');
    assert.equal(parseDate('Date d’ouverture des plis : 05-08-2026.'), '2026-08-05');
    assert.equal(parseDate('Le Jeudi 13 Août 2026 à 11h00'), '2026-08-13');
    assert.equal(parseDate('le 1er mars 2025'), '2025-03-01');
    assert.equal(parseDate('بتاريخ 18 دجنبر 2025'), '2025-12-18');
  });

  it('repairs scanner OCR of dates and refuses impossible ones', () => {
    assert.equal(parseDate('o4t08t2026 à'), '2026-08-04');
    assert.equal(parseDate('Le t3-08-2026 à 11h00'), '2026-08-13');
    assert.equal(parseDate('16/06/2096'), null);
    assert.equal(parseDate('31/02/2026'), null);
    assert.deepEqual(findDates('N°01/2026/CRRAR').map((d) => d.iso), []);
  });
});

describe('extractNoticeText', () => {
  it('refuses an HTML error page with a typed error', async () => {
    const html = Buffer.from('<!DOCTYPE html><html><body>Erreur 500</body></html>');
    await assert.rejects(extractNoticeText(html), (err: unknown) => err instanceof NotAPdfError && err.detectedAs === 'html');
    await assert.rejects(extractNoticeText(Buffer.alloc(0)), NotAPdfError);
  });

  it('names the Debian package of a missing binary', async () => {
    await assert.rejects(
      runTool('pdftotext', ['-v'], { timeoutMs: 5_000, env: { PATH: '/nonexistent' } }),
      (err: unknown) => err instanceof MissingBinaryError && err.binary === 'pdftotext' && err.debianPackage === 'poppler-utils',
    );
    await assert.rejects(
      runTool('tesseract', ['--version'], { timeoutMs: 5_000, env: { PATH: '/nonexistent' } }),
      (err: unknown) => err instanceof MissingBinaryError && /apt-get install tesseract-ocr/.test(err.message),
    );
  });

  it('fails the way the shared error vocabulary says', () => {
    const notPdf = toActivityFailure(new NotAPdfError('html', '<html>')) as ApplicationFailure;
    assert.equal(notPdf.type, 'NotAPdfError');
    assert.equal(notPdf.nonRetryable, true);
    const missing = toActivityFailure(new MissingBinaryError('tesseract')) as ApplicationFailure;
    assert.equal(missing.nonRetryable, true);
    const timeout = toActivityFailure(new ToolTimeoutError('tesseract', 1_000)) as ApplicationFailure;
    assert.equal(timeout.nonRetryable, false);
  });

  it('reads a Word-made notice from its text layer without OCR', async () => {
    const r = await extractNoticeText(join(PDF_DIR, 'resultat-215aec79.pdf'));
    assert.equal(r.method, 'text-layer');
    assert.deepEqual(r.ocrPages, []);
    assert.equal(r.pages, 1);
    assert.match(r.text, /GT-RIF SARL\s+758 640,00 DH TTC/);
  });

  it('really OCRs a scanned page with tesseract, reporting progress and cleaning up', async () => {
    const tmpRoot = await mkdtemp(join(tmpdir(), 'awards-test-'));
    const progress: Array<[number, number]> = [];
    const started = performance.now();
    try {
      const r = await extractNoticeText(join(PDF_DIR, 'resultat-a15a66bc.pdf'), {
        tmpRoot,
        onProgress: (page, pages) => progress.push([page, pages]),
      });
      console.log(`OCR of resultat-a15a66bc (1 page): ${Math.round(performance.now() - started)} ms, confidence ${r.confidence}`);
      assert.equal(r.method, 'ocr');
      assert.deepEqual(r.ocrPages, [1]);
      assert.equal(r.pageDetails[0]?.decision, 'no-text-layer');
      assert.ok((r.confidence ?? 0) > 50);
      assert.deepEqual(progress, [[1, 1]]);
      const notice = parseAward(r.text);
      assert.equal(notice.reference, '07/DGPC/2026');
      assert.equal(notice.lots[0]?.winners[0]?.name, 'STE ESSORTEX');
      assert.equal(notice.lots[0]?.winners[0]?.amount, '5418840.00');
      assert.deepEqual(await readdir(tmpRoot), [], 'temporary files removed');
    } finally {
      await rm(tmpRoot, { recursive: true, force: true });
    }
  });

  it('turns a sideways scan upright before reading it', async () => {
    const r = await extractNoticeText(join(PDF_DIR, 'resultat-06d2a690.pdf'));
    assert.equal(r.pageDetails[0]?.rotation, 90);
    const notice = parseAward(r.text);
    assert.equal(notice.lots[0]?.winners[0]?.name, 'STE KING SYSTEMS');
    assert.equal(notice.lots[0]?.winners[0]?.amount, '843616.16');
  });

  it('re-OCRs scans that carry a scanner OCR layer', async () => {
    const r = await sampleNoticeText('pv-f884eb9f.pdf');
    assert.deepEqual(
      r.pageDetails.map((p) => p.decision),
      ['scanner-ocr-layer', 'scanner-ocr-layer'],
    );
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(extractNoticeText(join(PDF_DIR, 'pv-fe00d4da.pdf'), { signal: controller.signal }), ExtractionAbortedError);
  });
});

describe('pgm rotation', () => {
  it('rotates clockwise and back', () => {
    const img = { width: 3, height: 2, pixels: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const r90 = rotateClockwise(img, 90);
    assert.deepEqual([r90.width, r90.height, [...r90.pixels]], [2, 3, [4, 1, 5, 2, 6, 3]]);
    assert.deepEqual([...rotateClockwise(r90, 270).pixels], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...parsePgm(encodePgm(img)).pixels], [1, 2, 3, 4, 5, 6]);
  });
});

describe('parseAward on native notices', () => {
  it('resultat-329b929d: two lots in a results table', async () => {
    const n = await parsedSample('resultat-329b929d.pdf');
    assert.equal(n.kind, 'resultat_definitif');
    assert.equal(n.reference, '01/2026/CRRAR');
    assert.equal(n.buyer, 'Chef de Centre Régional de la Recherche Agronomique de Rabat');
    assert.equal(n.openingDate, '2026-08-11');
    assert.equal(n.commissionEndDate, '2026-08-13');
    assert.equal(n.documentDate, '2026-08-13');
    assert.deepEqual(
      n.lots.map((l) => [l.lotNumber, l.status, l.winners[0]?.name, l.winners[0]?.amount]),
      [
        ['1', 'attribue', 'STE SOTADOS', '1676376.36'],
        ['2', 'attribue', 'SMD TRAV', '706440.00'],
      ],
    );
  });

  it('resultat-e53cb45d: an unsuccessful lot among awarded ones, a name wrapped around its amount', async () => {
    const n = await parsedSample('resultat-e53cb45d.pdf');
    assert.deepEqual(
      n.lots.map((l) => [l.lotNumber, l.status, l.winners[0]?.name ?? null, l.winners[0]?.amount ?? null]),
      [
        ['1', 'infructueux', null, null],
        ['2', 'attribue', 'AMIFLUID', '51300.00'],
        ['3', 'attribue', 'OUSSY OUMY SARL AU', '51948.00'],
        ['4', 'attribue', 'OUSSY OUMY SARL AU', '24063.60'],
      ],
    );
  });

  it('pv-25c18389: infructueux, no bidder list', async () => {
    const n = await parsedSample('pv-25c18389.pdf');
    assert.equal(n.reference, '30/AOO/AASLM/2026');
    assert.equal(n.buyer, "AGENCE POUR L'AMENAGEMENT DU SITE DE LA LAGUNE DE MARCHICA");
    assert.equal(n.openingDate, '2026-08-13');
    assert.equal(n.lots.length, 1);
    assert.equal(n.lots[0]?.status, 'infructueux');
    assert.equal(n.lots[0]?.bidderCount, null);
    assert.deepEqual(n.lots[0]?.winners, []);
  });
});

describe('parseAward on scanned notices (cached OCR of the sample PDFs)', () => {
  it('pv-7bba7ebe: seven bidders, the winner spelled from the bid table', async () => {
    const n = await parsedSample('pv-7bba7ebe.pdf');
    assert.equal(n.reference, '18/2026/C.I');
    assert.equal(n.buyer, "la Commune d'Inezgane");
    assert.equal(n.openingDate, '2026-07-21');
    assert.equal(n.commissionEndDate, '2026-08-05');
    const lot = n.lots[0]!;
    assert.equal(lot.bidderCount, 7);
    assert.equal(lot.winners[0]?.name, 'STE ISTRADA TRAVAUX');
    assert.equal(lot.winners[0]?.amount, '662400.00');
    assert.equal(lot.bidders.find((b) => /OLIA/.test(b.bidder))?.amount, '660024.00');
  });

  it('pv-ae989116: the only offer judged excessive', async () => {
    const n = await parsedSample('pv-ae989116.pdf');
    assert.equal(n.reference, '03/2026');
    const lot = n.lots[0]!;
    assert.equal(lot.status, 'offre_excessive');
    assert.deepEqual(lot.winners, []);
    assert.equal(lot.bidderCount, 1);
    const bid = lot.bidders[0]!;
    assert.equal(bid.amount, '6617033.88');
    assert.equal(bid.amountVerified, '6786173.88');
    assert.equal(bid.eliminated, true);
    assert.match(bid.eliminationReason ?? '', /excessive/);
  });

  it('resultat-33fbfad7: a sideways results table won by a groupement', async () => {
    const n = await parsedSample('resultat-33fbfad7.pdf');
    assert.equal(n.reference, '53/DGPC/2026');
    assert.equal(n.openingDate, '2026-07-23');
    assert.equal(n.commissionEndDate, '2026-08-13');
    const w = n.lots[0]?.winners[0];
    assert.equal(w?.name, 'GROUPEMENT BEST ATLAS ENGINEERING ET STANFORD ENGINNERING');
    assert.equal(w?.isGroupement, true);
    assert.equal(w?.amount, '175500.00');
  });

  it('pv-ec6310d6: a handwritten date and lightly printed amounts are left null, with warnings', async () => {
    const n = await parsedSample('pv-ec6310d6.pdf');
    assert.equal(n.reference, '10008767');
    assert.equal(n.commissionEndDate, null);
    assert.ok(n.warnings.some((w) => w.field === 'commissionEndDate' && w.code === 'not_found'));
    assert.equal(n.confidence.commissionEndDate, 0);
  });
});

describe('parseAward on OCR text', () => {
  it('ocr-text/pv-27: three lots, winners placed by their bids', async () => {
    const n = await parsedOcrText('pv-27.txt');
    assert.equal(n.reference, '35/2026/TGR');
    assert.equal(n.openingDate, '2026-07-31');
    assert.equal(n.commissionEndDate, '2026-08-13');
    assert.deepEqual(
      n.lots.map((l) => [l.lotNumber, l.winners[0]?.name, l.winners[0]?.amount, l.bidderCount]),
      [
        ['1', 'Société SALSABILES SERVICES GROUPE', '1932217.20', 5],
        ['2', 'Société UNI PROTECT SERVICE', '2027530.73', 7],
        ['3', 'Société SERVICES NEW JH1', '1159603.94', 6],
      ],
    );
  });

  it('ocr-text/pv-14: eight lots, three without offers, winners from the justifications', async () => {
    const n = await parsedOcrText('pv-14.txt');
    assert.deepEqual(
      n.lots.map((l) => [l.lotNumber, l.status, l.winners[0]?.amount ?? null]),
      [
        ['1', 'attribue', '22200.00'],
        ['2', 'attribue', '26500.00'],
        ['3', 'infructueux', null],
        ['4', 'attribue', '46700.00'],
        ['5', 'infructueux', null],
        ['6', 'infructueux', null],
        ['7', 'attribue', '45200.00'],
        ['8', 'attribue', '15200.00'],
      ],
    );
  });

  it('ocr-text/pv-24: winners given in words and digits, eliminated bidders with reasons', async () => {
    const n = await parsedOcrText('pv-24.txt');
    assert.equal(n.openingDate, '2025-11-14');
    const [lot1, lot2] = n.lots;
    assert.equal(lot1?.winners[0]?.amount, '9262904.40');
    assert.equal(lot2?.winners[0]?.name, 'STE BOUKABOUS');
    assert.equal(lot2?.winners[0]?.amount, '4994508.00');
    assert.equal(lot2?.bidderCount, 26);
    const ejym = lot2?.bidders.find((b) => /EJYM/.test(b.bidder));
    assert.equal(ejym?.eliminated, true);
    assert.match(ejym?.eliminationReason ?? '', /Quantité n°13/);
  });

  it('ocr-text companion pv-12: a later decision replaces the first retained bidder', async () => {
    const n = await parsedOcrText('pv-12.txt', true);
    assert.equal(n.lots[0]?.winners[0]?.name, 'Société WICKEY ATTRACTION SARL');
    assert.equal(n.lots[0]?.winners[0]?.amount, '274920.00');
  });

  it('Arabic-only and cancelled notices', async () => {
    assert.equal((await parsedOcrText('pv-07.txt')).lots[0]?.status, 'annule');
    const cnss = await parsedOcrText('pv-16.txt', true);
    assert.equal(cnss.lots[0]?.status, 'annule');
    assert.deepEqual(cnss.lots[0]?.winners, []);
  });

  it('never invents: an empty text gives nulls and warnings', () => {
    const n = parseAward('');
    assert.equal(n.reference, null);
    assert.equal(n.buyer, null);
    assert.equal(n.openingDate, null);
    assert.equal(n.lots[0]?.status, 'inconnu');
    assert.ok(n.warnings.length >= 3);
    AwardNoticeItemSchema.parse(n);
  });
});

/** Warnings that say the parser is unsure of the lots. */
const unsure = (n: AwardNotice): string[] =>
  n.warnings.filter((w) => w.field === 'lots' && (w.code === 'ambiguous' || w.code === 'inconsistent')).map((w) => w.message);

/** An extrait in the wording of pv-f884eb9f and pv-fe00d4da; `body` is what follows the header. */
function extrait(body: string, object = 'Travaux de construction d’une piste.'): string {
  return [
    'ROYAUME DU MAROC',
    'EXTRAIT DE PROCES VERBAL',
    "Appel d'offres ouvert N° 120/2025/DAH",
    `OBJET : ${object}`,
    "Maître d'ouvrage : DIRECTION DES AMENAGEMENTS HYDRAULIQUES",
    "Date d'ouverture des plis : 04/12/2025 à 14h00",
    '',
    body,
    '',
    '                                   Fait à RABAT, le 05/12/2025',
  ].join('\n');
}

describe('parseAward rules', () => {
  it('a bids table headed "CONCURRENTS | MONTANTS" is not a results table, even just above the retained bidder', async () => {
    const n = parseAward(
      extrait(
        [
          'Liste des concurrents ayant déposé leurs plis :',
          '   - MEDISAHA SA',
          '   - SIGMA ELEC SNC',
          "Montant des actes d'engagement des concurrents :",
          '  CONCURRENTS                        MONTANTS DES ACTES D’ENGAGEMENT',
          '  MEDISAHA SA 7 659 917,23 DH TTC',
          '  SIGMA ELEC SNC 6 820 274,46 DH TTC',
          'Concurrent retenu :',
          '  SIGMA ELEC SNC       6 820 274,46 DH TTC',
        ].join('\n'),
      ),
    );
    assert.deepEqual(unsure(n), []);
    assert.equal(n.lots.length, 1);
    assert.deepEqual(n.lots[0]?.winners.map((w) => [w.name, w.amount]), [['SIGMA ELEC SNC', '6820274.46']]);
    assert.deepEqual(n.lots[0]?.bidders.map((b) => [b.bidder, b.amount]), [['MEDISAHA SA', '7659917.23'], ['SIGMA ELEC SNC', '6820274.46']]);
    // The same header under "Concurrent retenu :" is the retained bidder's table (pv-f884eb9f).
    const real = await parsedSample('pv-f884eb9f.pdf');
    assert.deepEqual(real.lots[0]?.winners.map((w) => [w.name, w.amount]), [['PREMIUM TELECOM & Customer Services', '200160.00']]);
  });

  it('lots named inside the object sentence are not lots of the notice; a lot line under the object is', async () => {
    const titled = parseAward(extrait('Concurrent retenu :\n  CONSEIL ATLAS SARL   28 536 137,00 DH TTC', 'LOT 4 : Travaux des collecteurs de renforcement en tranchée.'));
    assert.deepEqual(titled.lots.map((l) => [l.lotNumber, l.winners[0]?.name]), [[null, 'CONSEIL ATLAS SARL']]);
    const listed = parseAward(
      extrait(
        'Concurrent retenu :\n  STE INFRA-TRAVAUX SA          819 452,84 DH TTC',
        [
          'L’infogérance des audits techniques de sécurité, en trois lots séparés : • Lot 1 : Infogérance du',
          'périmètre 1; • Lot 2 : Infogérance du périmètre 2; •',
          'Lot 3 : Infogérance du périmètre 3.',
        ].join('\n'),
      ),
    );
    assert.deepEqual(listed.lots.map((l) => [l.lotNumber, l.winners[0]?.amount]), [[null, '819452.84']]);
    assert.deepEqual(unsure(listed), []);
    // ONEE prints the lot of the extract on its own line under the object (pv-2cfcb754, pv-d33824df).
    assert.deepEqual((await parsedSample('pv-2cfcb754.pdf')).lots.map((l) => l.lotNumber), ['1']);
    assert.deepEqual((await parsedSample('pv-d33824df.pdf')).lots.map((l) => l.lotNumber), ['2']);
  });

  it('reads a notice written lot by lot: each block its bidders, winner and outcome', () => {
    const n = parseAward(
      extrait(
        [
          'Lot n° 1 : Construction d’une station de pompage',
          '',
          'Liste des concurrents ayant déposé leurs plis :',
          '   - TRAVAUX ISTIQAMA SA',
          '   - ATLASTAFI SARL',
          "Liste des concurrents écartés à l'issue de l'examen des dossiers administratif et technique :",
          '   NEANT',
          "Montant des actes d'engagement des concurrents :",
          '  CONCURRENTS                        MONTANTS DES ACTES D’ENGAGEMENT',
          '  TRAVAUX ISTIQAMA SA 168 536,14 DH TTC',
          '  ATLASTAFI SARL 176 584,03 DH TTC',
          'Concurrent retenu :',
          '  TRAVAUX ISTIQAMA SA            168 536,14 DH TTC',
          '',
          'Lot n° 2 : Renforcement du réseau d’eau potable',
          '',
          'Liste des concurrents ayant déposé leurs plis :',
          '   - ATLASTAFI SARL',
          '   - TRAVAUX ISTIQAMA SA',
          "Liste des concurrents écartés à l'issue de l'examen des dossiers administratif et technique :",
          '   - TRAVAUX ISTIQAMA SA',
          "Montant des actes d'engagement des concurrents :",
          '  CONCURRENTS                        MONTANTS DES ACTES D’ENGAGEMENT',
          '  ATLASTAFI SARL 1 589 250,42 DH TTC',
          "La commission déclare l'appel d'offres infructueux : offres jugées excessives.",
          '',
          'Lot n° 3 : Éclairage public',
          '',
          'Liste des concurrents ayant déposé leurs plis :',
          '   NEANT',
          "La commission déclare l'appel d'offres infructueux.",
        ].join('\n'),
      ),
    );
    assert.deepEqual(unsure(n), []);
    assert.deepEqual(
      n.lots.map((l) => [l.lotNumber, l.status, l.winners[0]?.name ?? null, l.bidderCount, l.bidders.map((b) => [b.bidder, b.amount, b.eliminated])]),
      [
        ['1', 'attribue', 'TRAVAUX ISTIQAMA SA', 2, [['TRAVAUX ISTIQAMA SA', '168536.14', false], ['ATLASTAFI SARL', '176584.03', false]]],
        ['2', 'offre_excessive', null, 2, [['ATLASTAFI SARL', '1589250.42', false], ['TRAVAUX ISTIQAMA SA', null, true]]],
        ['3', 'infructueux', null, 0, []],
      ],
    );
  });

  it('reads "|"-ruled results tables cell by cell, wrapped rows included', () => {
    const table = (rows: string[]): AwardNotice =>
      parseAward(
        [
          "RESULTATS DEFINITIFS DE L'APPEL D'OFFRES OUVERT",
          'N° : 01/2026/SRMCS',
          "Maître d'ouvrage : SOCIETE REGIONALE MULTISERVICES.",
          "Objet de l'appel d'offres : Fourniture de pièces de rechange.",
          '',
          "Date et heure d'ouverture des plis | Date d'achèvement des travaux de la commission | Lot | Concurrent retenu | Montant",
          "de l'offre retenue",
          ...rows,
          '',
          "        Cachet du Maître d'Ouvrage",
        ].join('\n'),
      );
    const lots = table([
      '06/04/2026 à 09h00 | 13/04/2026 | 1 | INFRUCTUEUX | Infructueux',
      '06/04/2026 à 09h00 | 13/04/2026 | 2 | GROUPEMENT STE HORIZON-GREEN SARL / SOCIETE MAGHREB HYDRO SARL | 5',
      '248 077,97 DH TTC',
      '06/04/2026 à 09h00 | 13/04/2026 | 3 | GROUPEMENT STE ANFA-TAFILALET SARL / SOCIETE ANFA EQUIPEMENT SARL AU',
      '| 25 315 592,22 DH TTC',
    ]);
    assert.deepEqual(unsure(lots), []);
    assert.deepEqual(
      lots.lots.map((l) => [l.lotNumber, l.status, l.winners[0]?.name ?? null, l.winners[0]?.amount ?? null, l.winners[0]?.isGroupement ?? null]),
      [
        ['1', 'infructueux', null, null, null],
        ['2', 'attribue', 'GROUPEMENT STE HORIZON-GREEN SARL / SOCIETE MAGHREB HYDRO SARL', '5248077.97', true],
        ['3', 'attribue', 'GROUPEMENT STE ANFA-TAFILALET SARL / SOCIETE ANFA EQUIPEMENT SARL AU', '25315592.22', true],
      ],
    );
    assert.equal(lots.openingDate, '2026-04-06');
    assert.equal(lots.commissionEndDate, '2026-04-13');
    // "-" in the lot column: a single-lot consultation.
    const single = table(['03/12/2025 à 15h00 | 03/12/2025 | - | INFOEQUI SA | 762 478,45 DH TTC']);
    assert.deepEqual(single.lots.map((l) => [l.lotNumber, l.winners[0]?.name, l.winners[0]?.amount]), [[null, 'INFOEQUI SA', '762478.45']]);
  });

  it('keeps alike names of one list apart and matches each bid, elimination and winner to its own spelling', () => {
    const n = parseAward(
      extrait(
        [
          'Liste des concurrents ayant déposé leurs plis :',
          '   - STE ANFA-SIGMA SARL',
          '   - ANFA SIGMA SARL',
          '   - CEDRE CONSTRUCTION SA',
          '   - HYDRO CONSTRUCTION SARL',
          "Liste des concurrents écartés à l'issue de l'examen des dossiers administratif et technique :",
          '   - CEDRE CONSTRUCTION SA',
          "Montant des actes d'engagement des concurrents :",
          '  CONCURRENTS                        MONTANTS DES ACTES D’ENGAGEMENT',
          '  STE ANFA-SIGMA SARL 55 416 442,91 DH TTC',
          '  ANFA SIGMA SARL 42 231 580,17 DH TTC',
          '  HYDRO CONSTRUCTION SARL 45 657 246,20 DH TTC',
          'Concurrent retenu :',
          '  ANFA SIGMA SARL         42 231 580,17 DH TTC',
        ].join('\n'),
      ),
    );
    const lot = n.lots[0]!;
    assert.equal(lot.bidderCount, 4);
    assert.deepEqual(
      lot.bidders.map((b) => [b.bidder, b.amount, b.eliminated]),
      [
        ['STE ANFA-SIGMA SARL', '55416442.91', false],
        ['ANFA SIGMA SARL', '42231580.17', false],
        ['HYDRO CONSTRUCTION SARL', '45657246.20', false],
        ['CEDRE CONSTRUCTION SA', null, true],
      ],
    );
    assert.deepEqual(lot.winners.map((w) => [w.name, w.amount]), [['ANFA SIGMA SARL', '42231580.17']]);
    const rows = awardRows({ orgAcronyme: 'o8p', refConsultation: '1', idAvis: '1' }, n, 'proof');
    assert.deepEqual(rows.bids.filter((b) => b.retained).map((b) => b.bidder), ['ANFA SIGMA SARL']);
  });

  it('names the winner as the deposit list spells it, its bid found by spelling then by amount', async () => {
    const n = parseAward(
      extrait(
        [
          'Liste des concurrents ayant déposé leurs plis :',
          '   - TRAVAUXNOUR SARL AU',
          '   - SOCIETE TRAVAUX NOUR SARL AU',
          '   - GROUPEMENT STE DISTRIBUTION-CONSTRUCTION SARL / SOCIETE OMEGA MAGHREB',
          '   SARL AU',
          "Montant des actes d'engagement des concurrents :",
          '  CONCURRENTS                        MONTANTS DES ACTES D’ENGAGEMENT',
          '  TRAVAUXNOUR SARL AU 69 239 490,35 DH TTC',
          '  SOCIETE TRAVAUX NOUR SARL AU 76 448 137,84 DH TTC',
          '  GROUPEMENT STE DISTRIBUTION-CONSTRUCTION SARL / SOCIETE OMEGA MAGHREB',
          '  SARL AU 114 243,26 DH TTC',
          'Concurrent retenu :',
          '  TRAVAUXNOUR SARL AU          69 239 490,35 DH TTC',
        ].join('\n'),
      ),
    );
    const lot = n.lots[0]!;
    assert.deepEqual(lot.winners.map((w) => [w.name, w.amount]), [['TRAVAUXNOUR SARL AU', '69239490.35']]);
    // A legal form alone on the amount's line ends the name above it.
    assert.deepEqual(
      lot.bidders.map((b) => [b.bidder, b.amount]),
      [
        ['TRAVAUXNOUR SARL AU', '69239490.35'],
        ['SOCIETE TRAVAUX NOUR SARL AU', '76448137.84'],
        ['GROUPEMENT STE DISTRIBUTION-CONSTRUCTION SARL / SOCIETE OMEGA MAGHREB SARL AU', '114243.26'],
      ],
    );
    // ocr-text/pv-19: "ILA MAROCAINE ..." retained with the verified amount of "LA MAROCAINE ...".
    const real = await parsedOcrText('pv-19.txt');
    assert.equal(real.lots[0]?.winners[0]?.name, "LA MAROCAINE D'ASSAINISSEMENT ET D'ENVIRONNEMENT");
  });

  it('reads "N° AOO N°03/2026/X" as the reference after the prefix', () => {
    assert.equal(parseAward("Appel d'offres ouvert N° AOO N°03/2026/DPETLAH").reference, '03/2026/DPETLAH');
    assert.equal(parseAward("Appel d'offres ouvert N° AON 12/2026").reference, '12/2026');
    // ONCF numbers its consultations with five digits.
    assert.equal(parseAward("Appel d'offres ouvert N° 52561/C2/PM").reference, '52561/C2/PM');
  });

  it('reads a letter code whose first letter OCR took for 1 or 0, and says so', async () => {
    const n = await parsedOcrText('pv-15.txt');
    assert.equal(n.reference, '03/IG/2024');
    assert.ok(n.warnings.some((w) => w.field === 'reference' && w.code === 'ocr_correction'));
    const clean = parseAward("Appel d'offres N° 12/2026/IGR");
    assert.equal(clean.reference, '12/2026/IGR');
    assert.deepEqual(clean.warnings.filter((w) => w.field === 'reference'), []);
    assert.equal(parseAward('AO N° 10/2026/DR2/C').reference, '10/2026/DR2/C');
  });

  it('pv-c1d8f75a: a MIN line without a name and its MAX line are one framework winner', async () => {
    const n = await parsedSample('pv-c1d8f75a.pdf');
    const lot = n.lots.find((l) => l.reference === 'E/141/26');
    assert.deepEqual(lot?.winners.map((w) => [w.name, w.amountMin, w.amount]), [['KAZINOV', '8767200.00', '20304000.00']]);
  });

  it('pv-ec6310d6: list dashes printed at the line end, and a list closed by "NEANT" on its heading', async () => {
    const n = await parsedSample('pv-ec6310d6.pdf');
    assert.equal(n.lots[0]?.bidderCount, 2);
    // "- Liste des concurrents écartés : NEANT" then "- 511 INDUS POMPES" (the retained bidder,
    // its heading lost by OCR): nobody is eliminated.
    assert.deepEqual(n.lots[0]?.bidders.filter((b) => b.eliminated), []);
  });
});

describe('accuracy over the ground truth', () => {
  it('stays above the floor, per field and per kind of text', async () => {
    const truth = await loadGroundTruth();
    const { report, parsed } = await evaluateGroundTruth(truth, groundTruthText);
    for (const [name, notice] of Object.entries(parsed)) {
      assert.doesNotThrow(() => AwardNoticeItemSchema.parse(notice), name);
    }
    console.log(`award parsing accuracy over ${report.documents} documents:\n${formatAccuracyReport(report)}`);
    const heldOut = await evaluateGroundTruth(truth, groundTruthText, (_n, d) => d.heldOut === true);
    console.log(`held-out documents (${heldOut.report.documents}): ${((heldOut.report.total.accuracy ?? 0) * 100).toFixed(1)}%`);

    assert.ok(report.documents >= 47);
    // Floors a little under the figures measured when this test was written (see the report
    // printed above); a parser change that loses fields fails here.
    assert.ok(report.total.accuracy! >= 0.89, `overall ${report.total.accuracy}`);
    assert.ok(report.totalByKind.native.accuracy! >= 0.98, `native ${report.totalByKind.native.accuracy}`);
    assert.ok(report.totalByKind.scan.accuracy! >= 0.78, `scan ${report.totalByKind.scan.accuracy}`);
    assert.ok(report.totalByKind['ocr-text'].accuracy! >= 0.94, `ocr-text ${report.totalByKind['ocr-text'].accuracy}`);
    const floors: Record<(typeof ACCURACY_FIELDS)[number], number> = {
      reference: 0.95,
      buyer: 0.88,
      openingDate: 0.93,
      commissionEndDate: 0.93,
      lotCount: 0.95,
      status: 0.85,
      winner: 0.83,
      amount: 0.84,
      bidderCount: 0.82,
    };
    for (const f of ACCURACY_FIELDS) assert.ok(report.overall[f].accuracy! >= floors[f], `${f}: ${report.overall[f].accuracy}`);
  });
});
