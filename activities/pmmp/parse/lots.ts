/**
 * Lots popup `commun.PopUpDetailLots&orgAccronyme=X&refConsultation=N` (note the portal's
 * double-c `orgAccronyme` in this URL). For an allotted consultation the detail page leaves the
 * amounts empty: this popup is their only source.
 *
 * No capture of this popup is among the samples. The markup read here is the one several
 * public scrapers of the portal agree on: per lot a header `span.blue.bold` "Lot N :" in an
 * `intitule` block followed by `content-bloc` siblings (title, then labelled category and
 * description), and ids `…repeaterLots_ctl<i>_…` for the estimation referential
 * (`…_panelReferentielZoneText` with its `_titre`), `…_cautionProvisoire`, `…_qualification`,
 * `…_agrements`. tests/pmmp/fixtures/lots-popup.inferred.html is built from that description.
 */
import { contains, type Cheerio, type CheerioAPI } from 'cheerio';
import type { AnyNode, Element } from 'domhandler';

import { LotItemSchema, type LotItem } from '../../../schema/pmmp/items';
import {
  PORTAL_BASE_URL,
  isRequestRejectedPage,
  keyFromUrl,
  indexIdsAfter,
  loadHtmlFast,
  readPostbackForm,
  rejectedSupportId,
  textOf,
  type ConsultationKey,
  type ParseContext,
} from './dom';
import { PageShapeError, RequestRejectedError } from './errors';
import { cleanValue, foldLabel, parseFrenchAmount } from './fr';
import { ProblemLog, readField, validateRow, type ParseProblem } from './problems';

export interface LotsContext extends ParseContext {
  key?: ConsultationKey;
}

export interface LotsPage {
  /** The consultation the popup belongs to (from its form action, else the context). */
  key: ConsultationKey | null;
  lots: LotItem[];
  problems: ParseProblem[];
}

const LOT_HEADER = /^Lot\s*(?:n\s*[°o]\s*)?(\d+)\s*:?$/i;
const REPEATER = /repeaterLots_ctl(\d+)_/;
const isBubble = (el: Element): boolean => /\binfo-bulle\b/.test(el.attribs['class'] ?? '');

function hasClass(el: Element, fragment: string): boolean {
  return (el.attribs['class'] ?? '').split(/\s+/).some((c) => c.includes(fragment));
}

function nextElement(el: Element): Element | null {
  let n: AnyNode | null = el.nextSibling;
  while (n && !('attribs' in n)) n = n.nextSibling;
  return n;
}

/** Title, category and description: the `content-bloc` siblings that follow a lot header. */
function readHeaderBlock($: CheerioAPI, header: Element): { object: string | null; category: string | null; description: string | null } {
  const block = $(header).closest('[class*="intitule"]')[0] ?? header.parent;
  const out = { object: null as string | null, category: null as string | null, description: null as string | null };
  if (!block || !('attribs' in block)) return out;
  const unlabelled: (string | null)[] = [];
  let label: string | null = null;
  for (let el = nextElement(block); el; el = nextElement(el)) {
    const $el = $(el);
    // The lot's id-bearing panels (estimation, caution…) or the next lot end the header block.
    if (REPEATER.test(el.attribs['id'] ?? '') || $el.find('[id*="repeaterLots_ctl"]').length) break;
    if ($el.find('span.blue.bold').toArray().some((s) => LOT_HEADER.test(textOf([s])))) break;
    if (hasClass(el, 'intitule')) {
      label = foldLabel(textOf([el]));
      continue;
    }
    if (!hasClass(el, 'content-bloc')) continue;
    const $inner = $el.children('.d-flex').first();
    const value = cleanValue(textOf($inner.length ? $inner : $el, { skip: isBubble }));
    if (label?.startsWith('categorie')) out.category = value;
    else if (label?.startsWith('description')) out.description = value;
    else if (label?.startsWith('objet') || label?.startsWith('intitule')) out.object = value;
    else unlabelled.push(value);
    label = null;
  }
  // Without labels the order is title, category, description.
  const [first, second, third] = unlabelled;
  out.object ??= first ?? null;
  out.category ??= second ?? null;
  out.description ??= third ?? null;
  return out;
}

function listItems($: CheerioAPI, el: Cheerio<Element>): string[] {
  if (!el.length) return [];
  const items = el
    .find('li')
    .toArray()
    .map((li) => cleanValue(textOf([li])))
    .filter((t): t is string => t !== null);
  if (items.length) return items;
  const whole = cleanValue(textOf(el, { skip: isBubble }));
  return whole ? [whole] : [];
}

export function parseLots(html: string, ctx: LotsContext = {}): LotsPage {
  if (isRequestRejectedPage(html)) throw new RequestRejectedError('lots', rejectedSupportId(html));
  const baseUrl = ctx.baseUrl ?? PORTAL_BASE_URL;
  const $ = loadHtmlFast(html);

  const all = $('*').toArray();
  const position = new Map<AnyNode, number>(all.map((el, i) => [el, i]));

  // Repeater indices in document order, each with the first element that carries it.
  const firstOf = new Map<number, Element>();
  for (const el of $('[id*="repeaterLots_ctl"]').toArray()) {
    const m = REPEATER.exec(el.attribs['id'] ?? '');
    if (m && !firstOf.has(Number(m[1]))) firstOf.set(Number(m[1]), el);
  }
  if (firstOf.size === 0) throw new PageShapeError('lots', ['[id*="repeaterLots_ctl"]']);

  const headers = $('span.blue.bold, .intitule-bloc span, [class*="intitule"] > span')
    .toArray()
    .filter((s, i, arr) => arr.indexOf(s) === i && LOT_HEADER.test(textOf([s])));

  const form = readPostbackForm($, baseUrl);
  const key = keyFromUrl(form?.action ?? $('form').first().attr('action'), baseUrl) ?? ctx.key ?? null;

  // Lot fields by what follows `repeaterLots_ctl` in their id (`<index>_<field>`): one walk, no suffix scans.
  const byRepeater = indexIdsAfter($.root(), 'repeaterLots_ctl');
  const log = new ProblemLog();
  const lots: LotItem[] = [];
  const seenNumbers = new Set<number>();
  for (const [index, firstEl] of firstOf) {
    const pos = position.get(firstEl) ?? 0;
    // The header either precedes the lot's first id-bearing element or sits inside it (a wrapper panel).
    const header =
      headers.find((h) => contains(firstEl, h)) ?? headers.filter((h) => (position.get(h) ?? Infinity) < pos).pop() ?? null;
    const where = { row: index, ref: `lot ctl${index}` };
    let lotNumber = header ? Number(LOT_HEADER.exec(textOf([header]))?.[1]) : NaN;
    if (!Number.isSafeInteger(lotNumber) || lotNumber <= 0 || seenNumbers.has(lotNumber)) {
      // The repeater index is 0-based and follows the lot order; use it rather than lose the lot.
      log.add({ ...where, field: 'lotNumber', message: 'no "Lot N :" header for this lot; numbered from its position', raw: header ? textOf([header]) : null });
      lotNumber = index + 1;
    }
    seenNumbers.add(lotNumber);
    where.ref = `lot ${lotNumber}`;

    const scoped = (suffix: string): Cheerio<Element> => {
      const el = byRepeater.get(`${index}_${suffix}`);
      return el ? $(el) : $([] as Element[]);
    };
    let estimationRaw: string | null = null;
    const panels = [...byRepeater].filter(([rest]) => rest.startsWith(`${index}_`) && rest.endsWith('_panelReferentielZoneText')).map(([, el]) => el);
    for (const panel of panels) {
      const $p = $(panel);
      if (!/estimation/i.test(textOf($p.find('[id$="_titre"]').first()))) continue;
      estimationRaw = cleanValue(textOf($p.find('[id$="_labelReferentielZoneText"]').first()));
      break;
    }

    const head = header ? readHeaderBlock($, header) : { object: null, category: null, description: null };
    const item = validateRow(
      LotItemSchema,
      {
        lotNumber,
        object: head.object,
        category: head.category,
        description: head.description,
        estimationTtc: readField(estimationRaw, parseFrenchAmount, 'estimationTtc', 'a French amount', where, log),
        cautionProvisoire: readField(
          cleanValue(textOf(scoped('cautionProvisoire'))),
          parseFrenchAmount,
          'cautionProvisoire',
          'a French amount',
          where,
          log,
        ),
        qualifications: listItems($, scoped('qualification')),
        agrements: listItems($, scoped('agrements')),
      },
      where,
      log,
    );
    if (item) lots.push(item);
  }

  return { key, lots, problems: log.problems };
}
