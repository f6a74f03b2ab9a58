/**
 * Legacy (PRADO) result list: `entreprise.EntrepriseAdvancedSearch` consultations, and the
 * notice lists (annonceType 4/5/6), which render the same `table.table-results` template.
 * Reference page: samples/pmmp/html/legacy-results-list.html (page 2 of 317, 10 rows).
 */
import type { CheerioAPI } from 'cheerio';
import type { AnyNode, Element } from 'domhandler';

import { ConsultationListItemSchema, type ConsultationListItem } from '../../../schema/pmmp/items';
import {
  PORTAL_BASE_URL,
  elementsUnder,
  isElement,
  isInlineHidden,
  isRequestRejectedPage,
  keyFromUrl,
  linesOf,
  loadHtml,
  loadListHtml,
  ownText,
  readPostbackForm,
  rejectedSupportId,
  resolvePortalUrl,
  textOf,
  type ConsultationKey,
  type ParseContext,
  type PostbackForm,
} from './dom';
import { PageShapeError, RequestRejectedError } from './errors';
import { cleanValue, parseCasablancaDate, parseCasablancaDay, parseInteger } from './fr';
import { ProblemLog, readField, validateRow, type ParseProblem } from './problems';

export interface ResultListPagination {
  /** "Nombre de résultats". */
  totalResults: number;
  /** 1-based page shown; 1 on an empty result. */
  currentPage: number;
  /** Page count shown next to the page number; 0 on an empty result. */
  pageCount: number;
  /** Selected value of the page-size select (10/20/50/100/500), when the page shows it. */
  pageSize: number | null;
  hasNextPage: boolean;
}

export interface ResultListPage {
  items: ConsultationListItem[];
  problems: ParseProblem[];
  pagination: ResultListPagination;
  /** What the next postback must send back (set PRADO_POSTBACK_TARGET and the page size on it). */
  form: PostbackForm;
}

/** Left out of a cell's visible value: tooltips repeat (or complete) it and are read on purpose; `<strong>` is the label. */
const isBubble = (el: Element): boolean => /\binfo-(?:bulle|suite)\b/.test(el.attribs['class'] ?? '') || el.name === 'strong';

function canonicalDetailUrl(key: ConsultationKey, baseUrl: string): string {
  const q = `?page=entreprise.EntrepriseDetailConsultation&refConsultation=${encodeURIComponent(key.refConsultation)}&orgAcronyme=${encodeURIComponent(key.orgAcronyme)}`;
  return new URL(q, baseUrl).toString();
}

/** Whether a node is shown: neither it nor an ancestor up to `stop` is `display:none`. */
function shownWithin(el: Element, stop: Element): boolean {
  let cur: Element | null = el;
  while (cur && cur !== stop) {
    if (isInlineHidden(cur)) return false;
    const parent: AnyNode | null = cur.parent;
    cur = parent && 'attribs' in parent ? parent : null;
  }
  return true;
}

const hasClass = (el: Element, name: string): boolean => (el.attribs['class'] ?? '').split(/\s+/).includes(name);
const idEndsWith = (el: Element, suffix: string): boolean => el.attribs['id']?.endsWith(suffix) ?? false;
/** The first element (in document order) whose id ends with `suffix`, as a node list for the text helpers. */
const byIdSuffix = (els: readonly Element[], suffix: string): Element[] => {
  const el = els.find((e) => idEndsWith(e, suffix));
  return el ? [el] : [];
};

/**
 * One row, read from one walk of each of its cells (a 100-row page is 1.5 MB: a selector engine's
 * subtree scan per field cost more than parsing the row). The lookups keep the selectors' rules: a
 * field is the first match in document order within its cell, the whole row when the cell is missing.
 */
function parseRow(tr: Element, index: number, baseUrl: string, log: ProblemLog): ConsultationListItem | null {
  const cellOf = (headers: string): Element => tr.children.find((c): c is Element => isElement(c) && c.name === 'td' && c.attribs['headers'] === headers) ?? tr;
  const rowEls = elementsUnder(tr);
  const refCell = cellOf('cons_ref');
  const titleCell = cellOf('cons_intitule');
  const placeCell = cellOf('cons_lieuExe');
  const dateCell = cellOf('cons_dateEnd');
  const refEls = refCell === tr ? rowEls : elementsUnder(refCell);
  const titleEls = titleCell === tr ? rowEls : elementsUnder(titleCell);
  const placeEls = placeCell === tr ? rowEls : elementsUnder(placeCell);
  const dateEls = dateCell === tr ? rowEls : elementsUnder(dateCell);
  const link = (part: string) => rowEls.find((e) => e.name === 'a' && (e.attribs['href']?.includes(part) ?? false));

  const detailLink =
    link('page=entreprise.EntrepriseDetailConsultation')?.attribs['href'] ?? link('EntrepriseDetailsConsultation')?.attribs['href'] ?? null;
  const detailHref = resolvePortalUrl(detailLink, baseUrl);

  // The hidden inputs carry the natural key; the buyer's reference is not unique.
  const hidden = (field: string) =>
    rowEls.find((e) => e.name === 'input' && ((e.attribs['name']?.endsWith(`$${field}`) ?? false) || idEndsWith(e, `_${field}`)))?.attribs['value'];
  const refCons = cleanValue(hidden('refCons'));
  const orgCons = cleanValue(hidden('orgCons'));
  const fromLink = keyFromUrl(detailHref, baseUrl);
  const orgAcronyme = orgCons ?? fromLink?.orgAcronyme ?? null;
  const refConsultation = refCons ?? fromLink?.refConsultation ?? null;

  const referenceEl = titleEls.find((e) => idEndsWith(e, '_reference') || (e.name === 'span' && hasClass(e, 'ref')));
  const reference = cleanValue(textOf(referenceEl ? [referenceEl] : []));
  const where = {
    row: index,
    ref: orgAcronyme && refConsultation ? `${orgAcronyme}/${refConsultation}` : reference,
  };

  const procedureCodeEl = refEls.find((e) => hasClass(e, 'line-info-bulle'));
  const procedureCode = cleanValue(ownText(procedureCodeEl ? [procedureCodeEl] : []));
  const procedure = cleanValue(textOf(byIdSuffix(refEls, '_panelBlocTypesProc')));
  const category = cleanValue(textOf(byIdSuffix(refEls, '_panelBlocCategorie')));

  // "Publié le" has no id: it is the bare dd/mm/yyyy div under the category.
  const publishedRaw =
    refEls
      .filter((e) => e.name === 'div')
      .map((d) => cleanValue(ownText([d])))
      .find((t) => t !== null && /^\d{1,2}\/\d{1,2}\/\d{4}$/.test(t)) ?? null;
  const publishedOn = readField(publishedRaw, parseCasablancaDay, 'publishedOn', 'a dd/mm/yyyy date', where, log);

  // The tooltip holds the whole object; the visible line may be cut with "...".
  const object =
    cleanValue(textOf(byIdSuffix(titleEls, '_infosBullesObjet'))) ??
    cleanValue(textOf(byIdSuffix(titleEls, '_panelBlocObjet'), { skip: isBubble }));
  const buyer = cleanValue(textOf(byIdSuffix(titleEls, '_panelBlocDenomination'), { skip: isBubble }));

  // Same for places: the visible block shows the first ones, the bubble lists them all.
  const executionPlace =
    cleanValue(textOf(byIdSuffix(placeEls, '_infosLieuExecution'))) ??
    cleanValue(
      linesOf(byIdSuffix(placeEls, '_panelBlocLieuxExec'), {
        skip: (el) => /\bbloc-info-bulle\b/.test(el.attribs['class'] ?? ''),
      }).join(', '),
    );

  // Notice lists show the kind of notice in the first span of this cell (hidden and empty on
  // consultation lists, as in legacy-results-list.html).
  const kindEl = placeEls.find((e) => e.name === 'span' && e.parent !== null && isElement(e.parent) && idEndsWith(e.parent, '_lieuxExecution'));
  const annonceType = cleanValue(textOf(kindEl ? [kindEl] : []));

  let lotsUrl: string | null = null;
  const lotsLink = link('PopUpDetailLots');
  if (lotsLink) {
    const imgs = elementsUnder(lotsLink).filter((e) => e.name === 'img');
    // The link exists on every row; its picto is only displayed when the consultation has lots.
    const visible = shownWithin(lotsLink, tr) && (imgs.length === 0 || imgs.some((i) => !isInlineHidden(i)));
    if (visible) lotsUrl = resolvePortalUrl(lotsLink.attribs['href'], baseUrl);
  }

  // Two `.cloture-line` blocks exist; the one in the `display:none` wrapper is the notice variant.
  const deadlineEl = dateEls.find((el) => hasClass(el, 'cloture-line') && shownWithin(el, dateCell));
  const deadlineRaw = deadlineEl ? cleanValue(textOf([deadlineEl], { skip: isBubble })) : null;
  const deadline = readField(deadlineRaw, parseCasablancaDate, 'deadline', 'a dd/mm/yyyy HH:MM date', where, log);

  const detailUrl =
    detailHref ?? (orgAcronyme && refConsultation ? canonicalDetailUrl({ orgAcronyme, refConsultation }, baseUrl) : null);

  return validateRow(
    ConsultationListItemSchema,
    {
      orgAcronyme,
      refConsultation,
      reference,
      procedureCode,
      procedure,
      category,
      object,
      buyer,
      executionPlace,
      annonceType,
      publishedOn,
      deadline,
      detailUrl,
      lotsUrl,
    },
    where,
    log,
  );
}

/**
 * Parse one page of a legacy result list. Throws `RequestRejectedError` on the WAF page and
 * `PageShapeError` when the result table (or the form state needed to page on) is missing;
 * a search with no result is a valid, empty page.
 */
export function parseResultList(html: string, ctx: ParseContext = {}): ResultListPage {
  let fast: ResultListPage | undefined;
  try {
    fast = parseResultListFast(html, ctx);
  } catch (err) {
    if (!(err instanceof PageShapeError)) throw err;
  }
  // A page without rows or refused is read again the browser's way (parse5): the refusal, or the empty
  // result, is then the one parse5's tree gives, whatever htmlparser2 made of the page.
  return fast && fast.items.length > 0 ? fast : parseResultListParse5(html, ctx);
}

/** The list read from htmlparser2's tree only (`loadListHtml`), no second reading: what the equivalence test checks. */
export function parseResultListFast(html: string, ctx: ParseContext = {}): ResultListPage {
  if (isRequestRejectedPage(html)) throw new RequestRejectedError('list', rejectedSupportId(html));
  return readResultList(loadListHtml(html), ctx);
}

/**
 * The list read from parse5's tree, the reference `parseResultList` is checked against (tests/pmmp/
 * parsers.test.ts) and its reader of pages without rows.
 */
export function parseResultListParse5(html: string, ctx: ParseContext = {}): ResultListPage {
  if (isRequestRejectedPage(html)) throw new RequestRejectedError('list', rejectedSupportId(html));
  return readResultList(loadHtml(html), ctx);
}

function readResultList($: CheerioAPI, ctx: ParseContext): ResultListPage {
  const baseUrl = ctx.baseUrl ?? PORTAL_BASE_URL;

  // One walk of the page for its landmarks, instead of a whole-page selector scan each.
  const page = elementsUnder($.root()[0]!);
  const form = readPostbackForm($, baseUrl, page);
  const table = page.find((e) => e.name === 'table' && hasClass(e, 'table-results'));
  const totalEl = byIdSuffix(page, '_nombreElement');
  const total = totalEl.length ? parseInteger(textOf(totalEl)) : null;
  // Reading the whole body is only worth it when there is no row to show.
  const saysEmpty = (): boolean => total === 0 || /Aucun r[ée]sultat/i.test(textOf($('body'), { skipHidden: true }));

  const missing: string[] = [];
  if (!form) missing.push('PRADO_PAGESTATE');
  if (!table && !saysEmpty()) missing.push('table.table-results');
  if (missing.length || !form) throw new PageShapeError('list', missing);

  const rows = table ? elementsUnder(table).filter((tr) => tr.name === 'tr' && tr.children.some((c) => isElement(c) && c.name === 'td')) : [];

  if (rows.length === 0) {
    if (!saysEmpty()) throw new PageShapeError('list', ['table.table-results rows'], `the page announces ${total ?? '?'} results`);
    return {
      items: [],
      problems: [],
      pagination: { totalResults: 0, currentPage: 1, pageCount: 0, pageSize: readPageSize(page), hasNextPage: false },
      form,
    };
  }
  if (total === null) throw new PageShapeError('list', ['nombreElement (result count)']);

  const log = new ProblemLog();
  const items: ConsultationListItem[] = [];
  rows.forEach((tr, i) => {
    const item = parseRow(tr, i, baseUrl, log);
    if (item) items.push(item);
  });

  const pageInput = page.find((e) => e.name === 'input' && ((e.attribs['name']?.endsWith('$numPageTop') ?? false) || idEndsWith(e, '_numPageTop')));
  let currentPage = parseInteger(pageInput?.attribs['value']);
  let pageCount = parseInteger(textOf(byIdSuffix(page, '_nombrePageTop')));
  if (currentPage === null || pageCount === null) {
    // Without the pager a page is only complete when it shows every result.
    if (rows.length < total) throw new PageShapeError('list', ['numPageTop', 'nombrePageTop']);
    currentPage = 1;
    pageCount = 1;
  }

  return {
    items,
    problems: log.problems,
    pagination: { totalResults: total, currentPage, pageCount, pageSize: readPageSize(page), hasNextPage: currentPage < pageCount },
    form,
  };
}

function readPageSize(page: readonly Element[]): number | null {
  const select = page.find((e) => e.name === 'select' && ((e.attribs['name']?.endsWith('$listePageSizeTop') ?? false) || idEndsWith(e, '_listePageSizeTop')));
  if (!select) return null;
  const options = elementsUnder(select).filter((e) => e.name === 'option');
  const option = options.findLast((o) => o.attribs['selected'] !== undefined) ?? options[0];
  if (!option) return null;
  return parseInteger(option.attribs['value'] ?? ownText([option]));
}
