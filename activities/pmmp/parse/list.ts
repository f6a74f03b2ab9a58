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
  isInlineHidden,
  isRequestRejectedPage,
  keyFromUrl,
  linesOf,
  loadHtml,
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

function parseRow($: CheerioAPI, tr: Element, index: number, baseUrl: string, log: ProblemLog): ConsultationListItem | null {
  const $tr = $(tr);
  const cell = (headers: string) => {
    const td = $tr.children(`td[headers="${headers}"]`).first();
    return td.length ? td : $tr;
  };
  const refCell = cell('cons_ref');
  const titleCell = cell('cons_intitule');
  const placeCell = cell('cons_lieuExe');
  const dateCell = cell('cons_dateEnd');

  const detailLink =
    $tr.find('a[href*="page=entreprise.EntrepriseDetailConsultation"]').first().attr('href') ??
    $tr.find('a[href*="EntrepriseDetailsConsultation"]').first().attr('href') ??
    null;
  const detailHref = resolvePortalUrl(detailLink, baseUrl);

  // The hidden inputs carry the natural key; the buyer's reference is not unique.
  const refCons = cleanValue($tr.find('input[name$="$refCons"], input[id$="_refCons"]').first().attr('value'));
  const orgCons = cleanValue($tr.find('input[name$="$orgCons"], input[id$="_orgCons"]').first().attr('value'));
  const fromLink = keyFromUrl(detailHref, baseUrl);
  const orgAcronyme = orgCons ?? fromLink?.orgAcronyme ?? null;
  const refConsultation = refCons ?? fromLink?.refConsultation ?? null;

  const reference = cleanValue(textOf(titleCell.find('[id$="_reference"], span.ref').first()));
  const where = {
    row: index,
    ref: orgAcronyme && refConsultation ? `${orgAcronyme}/${refConsultation}` : reference,
  };

  const procedureCode = cleanValue(ownText(refCell.find('.line-info-bulle').first()));
  const procedure = cleanValue(textOf(refCell.find('[id$="_panelBlocTypesProc"]').first()));
  const categoryEl = refCell.find('[id$="_panelBlocCategorie"]').first();
  const category = cleanValue(textOf(categoryEl));

  // "Publié le" has no id: it is the bare dd/mm/yyyy div under the category.
  const publishedRaw =
    refCell
      .find('div')
      .toArray()
      .map((d) => cleanValue(ownText([d])))
      .find((t) => t !== null && /^\d{1,2}\/\d{1,2}\/\d{4}$/.test(t)) ?? null;
  const publishedOn = readField(publishedRaw, parseCasablancaDay, 'publishedOn', 'a dd/mm/yyyy date', where, log);

  // The tooltip holds the whole object; the visible line may be cut with "...".
  const objectBubble = titleCell.find('[id$="_infosBullesObjet"]').first();
  const object =
    cleanValue(textOf(objectBubble)) ??
    cleanValue(textOf(titleCell.find('[id$="_panelBlocObjet"]').first(), { skip: isBubble }));
  const buyer = cleanValue(textOf(titleCell.find('[id$="_panelBlocDenomination"]').first(), { skip: isBubble }));

  // Same for places: the visible block shows the first ones, the bubble lists them all.
  const placesBubble = placeCell.find('[id$="_infosLieuExecution"]').first();
  const executionPlace =
    cleanValue(textOf(placesBubble)) ??
    cleanValue(
      linesOf(placeCell.find('[id$="_panelBlocLieuxExec"]').first(), {
        skip: (el) => /\bbloc-info-bulle\b/.test(el.attribs['class'] ?? ''),
      }).join(', '),
    );

  // Notice lists show the kind of notice in the first span of this cell (hidden and empty on
  // consultation lists, as in legacy-results-list.html).
  const annonceType = cleanValue(textOf(placeCell.find('[id$="_lieuxExecution"] > span').first()));

  let lotsUrl: string | null = null;
  const lotsLink = $tr.find('a[href*="PopUpDetailLots"]').first();
  if (lotsLink.length) {
    const link = lotsLink[0];
    const imgs = lotsLink.find('img').toArray();
    // The link exists on every row; its picto is only displayed when the consultation has lots.
    const visible = link !== undefined && shownWithin(link, tr) && (imgs.length === 0 || imgs.some((i) => !isInlineHidden(i)));
    if (visible) lotsUrl = resolvePortalUrl(lotsLink.attr('href'), baseUrl);
  }

  // Two `.cloture-line` blocks exist; the one in the `display:none` wrapper is the notice variant.
  const deadlineEl = dateCell
    .find('.cloture-line')
    .toArray()
    .find((el) => shownWithin(el, dateCell[0] ?? tr));
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
  if (isRequestRejectedPage(html)) throw new RequestRejectedError('list', rejectedSupportId(html));
  const baseUrl = ctx.baseUrl ?? PORTAL_BASE_URL;
  const $ = loadHtml(html);

  const form = readPostbackForm($, baseUrl);
  const table = $('table.table-results').first();
  const totalEl = $('[id$="_nombreElement"]').first();
  const total = totalEl.length ? parseInteger(textOf(totalEl)) : null;
  // Reading the whole body is only worth it when there is no row to show.
  const saysEmpty = (): boolean => total === 0 || /Aucun r[ée]sultat/i.test(textOf($('body'), { skipHidden: true }));

  const missing: string[] = [];
  if (!form) missing.push('PRADO_PAGESTATE');
  if (!table.length && !saysEmpty()) missing.push('table.table-results');
  if (missing.length || !form) throw new PageShapeError('list', missing);

  const rows = table.length ? table.find('tr').filter((_, tr) => $(tr).children('td').length > 0).toArray() : [];

  if (rows.length === 0) {
    if (!saysEmpty()) throw new PageShapeError('list', ['table.table-results rows'], `the page announces ${total ?? '?'} results`);
    return {
      items: [],
      problems: [],
      pagination: { totalResults: 0, currentPage: 1, pageCount: 0, pageSize: readPageSize($), hasNextPage: false },
      form,
    };
  }
  if (total === null) throw new PageShapeError('list', ['nombreElement (result count)']);

  const log = new ProblemLog();
  const items: ConsultationListItem[] = [];
  rows.forEach((tr, i) => {
    const item = parseRow($, tr, i, baseUrl, log);
    if (item) items.push(item);
  });

  let currentPage = parseInteger($('input[name$="$numPageTop"], input[id$="_numPageTop"]').first().attr('value'));
  let pageCount = parseInteger(textOf($('[id$="_nombrePageTop"]').first()));
  if (currentPage === null || pageCount === null) {
    // Without the pager a page is only complete when it shows every result.
    if (rows.length < total) throw new PageShapeError('list', ['numPageTop', 'nombrePageTop']);
    currentPage = 1;
    pageCount = 1;
  }

  return {
    items,
    problems: log.problems,
    pagination: { totalResults: total, currentPage, pageCount, pageSize: readPageSize($), hasNextPage: currentPage < pageCount },
    form,
  };
}

function readPageSize($: CheerioAPI): number | null {
  const select = $('select[name$="$listePageSizeTop"], select[id$="_listePageSizeTop"]').first();
  if (!select.length) return null;
  const selected = select.find('option[selected]').last();
  const option = selected.length ? selected : select.find('option').first();
  return parseInteger(option.attr('value') ?? option.text());
}
