/**
 * Purchase-order results of the newer interface, `/bdc/entreprise/consultation/resultat`:
 * one `.entreprise__card` per result. Reference: samples/pmmp/html/bdc-result-cards.snippet.html
 * (an awarded card and an "infructueux" one, without the page around them).
 *
 * Cards are read by their visible labels ("Référence :", "Acheteur :", "Nombre de devis reçus :"…)
 * rather than by classes: the sample card carries no class on the right-hand spans, while public
 * scrapers of the live page read `.entreprise__rightSubCard--top` and `span.font-bold` values.
 * Around the cards the live page has a `.content__resultat` "Nombre de résultats : N" block
 * (same sources); it is the only page-level part read here.
 */
import type { CheerioAPI } from 'cheerio';
import type { Element } from 'domhandler';

import { BdcResultItemSchema, type BdcResultItem } from '../../../schema/pmmp/items';
import { isRequestRejectedPage, loadHtml, rejectedSupportId, resolvePortalUrl, textOf, type ParseContext } from './dom';
import { PageShapeError, RequestRejectedError } from './errors';
import { cleanValue, foldLabel, parseCasablancaDate, parseFrenchAmount, parseInteger } from './fr';
import { ProblemLog, readField, validateRow, type ParseProblem } from './problems';

export const BDC_RESULTS_URL = 'https://www.marchespublics.gov.ma/bdc/entreprise/consultation/resultat';

export interface BdcResultsPage {
  items: BdcResultItem[];
  problems: ParseProblem[];
  /** "Nombre de résultats", when the page shows it; null for a bare list of cards. */
  totalResults: number | null;
}

/** "Label : value" → [folded label, value]; the first colon splits (times contain colons too). */
function splitLabelled(text: string): [string, string] | null {
  const i = text.indexOf(':');
  if (i <= 0) return null;
  return [foldLabel(text.slice(0, i)), text.slice(i + 1)];
}

function parseCard($: CheerioAPI, card: Element, index: number, baseUrl: string, log: ProblemLog): BdcResultItem | null {
  const $card = $(card);
  const middle = $card.find('[class*="entreprise__middleSubCard"]').first();
  const right = $card.find('[class*="entreprise__rightSubCard"]').first();

  const fields: Record<string, string | null> = {};
  let objectTitle: string | null = null;
  for (const line of (middle.length ? middle : $card).children().toArray()) {
    const parts = splitLabelled(textOf([line]));
    if (!parts) continue;
    const [label, value] = parts;
    fields[label] = cleanValue(value);
    // The visible object may be truncated by CSS; the tooltip attribute holds it whole.
    if (label === 'objet') {
      const $l = $(line);
      objectTitle = cleanValue($l.attr('data-bs-title') ?? $l.attr('data-bs-original-title') ?? $l.attr('title'));
    }
  }
  const pick = (...prefixes: string[]): string | null => {
    for (const [label, value] of Object.entries(fields)) {
      if (prefixes.some((p) => label === p || label.startsWith(`${p} `))) return value;
    }
    return null;
  };

  const reference = pick('reference');
  const where = { row: index, ref: reference };

  // Right-hand side: "Nombre de devis reçus : 6", "Entreprise attributaire : X", "Montant TTC : …",
  // or a single "Avis d'achat infructueux".
  const rightText = textOf(right);
  const infructueux = /infructueu/i.test(rightText);
  const facts: Record<string, string | null> = {};
  for (const span of right.find('span, div, p, li').toArray()) {
    // Only the innermost "label : value" holders; a wrapper's text runs several facts together.
    if ($(span).find('span, div, p, li').toArray().some((c) => textOf([c]).includes(':'))) continue;
    const parts = splitLabelled(textOf([span]));
    if (!parts) continue;
    const [label, value] = parts;
    if (!(label in facts)) facts[label] = cleanValue(value);
  }
  const fact = (...prefixes: string[]): string | null => {
    for (const [label, value] of Object.entries(facts)) {
      if (prefixes.some((p) => label === p || label.startsWith(`${p} `) || label.endsWith(` ${p}`))) return value;
    }
    return null;
  };

  const bidCount = readField(fact('nombre de devis', 'nombre d offres'), parseInteger, 'bidCount', 'a number', where, log);
  const winner = infructueux ? null : fact('entreprise attributaire', 'attributaire');
  const amountTtc = infructueux
    ? null
    : readField(fact('montant ttc', 'montant'), parseFrenchAmount, 'amountTtc', 'a French amount', where, log);
  if (!infructueux && winner === null) {
    log.add({ ...where, field: 'winner', message: 'card is neither "infructueux" nor names a winner', raw: cleanValue(rightText) });
  }

  const link = $card.find('a[href*="/consultation/show/"]').first().attr('href');

  return validateRow(
    BdcResultItemSchema,
    {
      reference,
      object: objectTitle ?? pick('objet'),
      buyer: pick('acheteur'),
      resultPublishedAt: readField(
        pick('date de publication du resultat', 'date de publication'),
        parseCasablancaDate,
        'resultPublishedAt',
        'a dd/mm/yyyy HH:MM date',
        where,
        log,
      ),
      deadline: readField(pick('date limite'), parseCasablancaDate, 'deadline', 'a dd/mm/yyyy HH:MM date', where, log),
      bidCount,
      outcome: infructueux ? 'infructueux' : 'attribue',
      winner,
      amountTtc,
      detailUrl: resolvePortalUrl(link, baseUrl),
    },
    where,
    log,
  );
}

export function parseBdcResults(html: string, ctx: ParseContext = {}): BdcResultsPage {
  if (isRequestRejectedPage(html)) throw new RequestRejectedError('bdc-results', rejectedSupportId(html));
  const baseUrl = ctx.baseUrl ?? BDC_RESULTS_URL;
  const $ = loadHtml(html);

  const cards = $('.entreprise__card').toArray();
  const countEl = $('.content__resultat').first();
  const totalResults = countEl.length ? parseInteger(textOf(countEl)) : null;

  if (cards.length === 0) {
    const saysEmpty = totalResults === 0 || /Aucun r[ée]sultat/i.test(textOf($('body')));
    if (!saysEmpty) {
      throw new PageShapeError('bdc-results', countEl.length ? ['.entreprise__card'] : ['.entreprise__card', '.content__resultat']);
    }
    return { items: [], problems: [], totalResults: 0 };
  }

  const log = new ProblemLog();
  const items: BdcResultItem[] = [];
  cards.forEach((card, i) => {
    const item = parseCard($, card, i, baseUrl, log);
    if (item) items.push(item);
  });
  return { items, problems: log.problems, totalResults };
}
