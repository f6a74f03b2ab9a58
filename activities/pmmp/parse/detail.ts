/**
 * Legacy consultation detail page (`entreprise.EntrepriseDetailConsultation`), block
 * `#recap-consultation`. Reference page: samples/pmmp/html/legacy-consultation-detail.excerpt.html.
 *
 * Fields are found by the id suffix `idEntrepriseConsultationSummary_<field>` (the `ctl0_…`
 * prefix depends on where PRADO nests the control), then by their visible label in a
 * `div.line` (label element → `.content-bloc`) when an id is missing.
 * The "Contact administratif" block (a person's name, email, phone, fax) is never read.
 */
import type { Cheerio, CheerioAPI } from 'cheerio';
import type { AnyNode, Document, Element } from 'domhandler';

import { ConsultationDetailItemSchema, type ConsultationDetailItem } from '../../../schema/pmmp/items';
import {
  PORTAL_BASE_URL,
  isElement,
  isInlineHidden,
  isRequestRejectedPage,
  keyFromUrl,
  indexIdsAfter,
  linesOf,
  loadHtmlFast,
  loadNodes,
  parsePartial,
  findAll,
  findFirst,
  hasClass,
  rejectedSupportId,
  resolvePortalUrl,
  textOf,
  type ConsultationKey,
  type ParseContext,
} from './dom';
import { PageShapeError, RequestRejectedError } from './errors';
import { isForeignTag, parseElementAt, parseTag, scanStartTags, tagNameIs, type StartTag } from './scan';
import { cleanValue, foldLabel, parseCasablancaDate, parseFrenchAmount, parseInteger, parseOuiNon, scrubContacts } from './fr';
import { ProblemLog, readField, validateRow, type ParseProblem } from './problems';

export interface DetailContext extends ParseContext {
  /** Key of the URL that was fetched; used when the page itself does not show it. */
  key?: ConsultationKey;
  /**
   * Build the whole page's tree, not only the parts read (the reference reading, slower): the tests
   * check that both give the same result on every sample page.
   */
  wholePage?: boolean;
  /** Tokenize the whole page (`readPage`) instead of scanning it (`scanDetailPage`): the tests' second reference. */
  noScan?: boolean;
}

export interface ConsultationDetailPage {
  item: ConsultationDetailItem;
  problems: ParseProblem[];
}

const SUMMARY = 'idEntrepriseConsultationSummary_';

const isBubble = (el: Element): boolean => /\binfo-bulle\b/.test(el.attribs['class'] ?? '');
const isLi = (el: Element): boolean => el.name === 'li';

/** Folded labels of the `div.line` blocks, each with its value element. */
type LabelIndex = { label: string; value: Cheerio<Element> }[];

function indexLabels($: CheerioAPI, recap: Cheerio<Element>): LabelIndex {
  const index: LabelIndex = [];
  // recap.find('div.line'), then '[class*="intitule"]' and '.content-bloc' in each, walked by hand.
  for (const line of findAll(recap[0]!, (el) => el.name === 'div' && hasClass(el, 'line'))) {
    const labelEl = findFirst(line, (el) => el.attribs['class']?.includes('intitule') ?? false);
    const value = findFirst(line, (el) => hasClass(el, 'content-bloc'));
    if (!labelEl || !value) continue;
    const label = foldLabel(textOf([labelEl], { skipHidden: true }));
    if (label) index.push({ label, value: $(value) });
  }
  return index;
}

class DetailReader {
  /** Summary elements by what follows `idEntrepriseConsultationSummary_` in their id. */
  readonly ids: Map<string, Element>;
  private labelIndex: LabelIndex | undefined;

  constructor(
    private readonly $: CheerioAPI,
    private readonly recap: Cheerio<Element>,
  ) {
    this.ids = indexIdsAfter(recap, SUMMARY);
  }

  /** The summary element whose id ends with `idEntrepriseConsultationSummary_<field>`. */
  byId(field: string): Cheerio<Element> | null {
    const el = this.ids.get(field);
    return el ? this.$(el) : null;
  }

  /** The value element: by id suffix (when `field` is given), else by a label starting with one of `labels`. */
  element(field: string | null, labels: string[] = []): Cheerio<Element> | null {
    if (field !== null) {
      const byId = this.byId(field);
      if (byId) return byId;
    }
    if (labels.length === 0) return null;
    // Labels are the fallback for pages missing an id: indexed on first need only.
    this.labelIndex ??= indexLabels(this.$, this.recap);
    const folded = labels.map(foldLabel);
    const hit = this.labelIndex.find((l) => folded.some((f) => l.label === f || l.label.startsWith(`${f} `)));
    return hit ? hit.value : null;
  }

  text(field: string | null, labels: string[] = []): string | null {
    const el = this.element(field, labels);
    return el ? cleanValue(textOf(el, { skip: isBubble })) : null;
  }

  /** `<li>` items of a list value; a plain text value counts as one item. */
  list(field: string | null, labels: string[] = []): string[] {
    const el = this.element(field, labels);
    if (!el) return [];
    // el.find('li') without compiling a selector per field and page.
    const items = el
      .toArray()
      .flatMap((root) => findAll(root, isLi))
      .map((li) => cleanValue(textOf([li])))
      .filter((t): t is string => t !== null);
    if (items.length) return items;
    const whole = cleanValue(textOf(el, { skip: isBubble }));
    return whole ? [whole] : [];
  }

  /**
   * Atexo "referential" widgets (estimation, reserved-to-SMEs flag, …) are repeaters whose
   * rows carry their own title; pick the row by title, not by position.
   */
  referential(kind: 'idReferentielZoneText' | 'idRefRadio', title: RegExp, valueSuffix: string): string | null {
    const panelEnd = `_panel${kind === 'idRefRadio' ? 'ReferentielRadio' : 'ReferentielZoneText'}`;
    const panels = [...this.ids].filter(([rest]) => rest.startsWith(`${kind}_`) && rest.endsWith(panelEnd)).map(([, el]) => el);
    for (const panel of panels) {
      const titleEl = findFirst(panel, (el) => el.attribs['id']?.endsWith('_titre') ?? false);
      const t = textOf(titleEl ? [titleEl] : []);
      if (!title.test(t)) continue;
      const valueEl = findFirst(panel, (el) => el.attribs['id']?.endsWith(valueSuffix) ?? false);
      return cleanValue(textOf(valueEl ? [valueEl] : []));
    }
    return null;
  }
}

/**
 * What the parser needs from the whole page, found in one walk instead of a selector scan each:
 * `#recap-consultation`, the first form's action, and the links that carry a key or a notice.
 */
interface PageLandmarks {
  recap: Element | undefined;
  formAction: string | undefined;
  keyHrefs: string[];
  noticeLinks: Element[];
}

/** A link tag's source that may hold a consultation key or a notice link (decoded or not: letters are never escaped by name). */
const isLandmarkLink = (source: string): boolean => source.includes('refConsultation') || source.includes('EntrepriseDownloadAvisJAL');
const isNoticeLink = (name: string, attribs: Record<string, string>): boolean => name === 'a' && (attribs['href']?.includes('EntrepriseDownloadAvisJAL') ?? false);

/** The landmarks of a page read whole (`loadHtmlFast`): the reference reading, see `DetailContext.wholePage`. */
function landmarks(root: Document): PageLandmarks {
  const found: PageLandmarks = { recap: undefined, formAction: undefined, keyHrefs: [], noticeLinks: [] };
  let form: Element | undefined;
  const stack: AnyNode[] = [];
  for (let i = root.children.length - 1; i >= 0; i--) stack.push(root.children[i]!);
  while (stack.length) {
    const node = stack.pop()!;
    if (!isElement(node)) continue;
    if (node.name === 'a') {
      const href = node.attribs['href'];
      if (href?.includes('refConsultation=')) found.keyHrefs.push(href);
      if (isNoticeLink(node.name, node.attribs)) found.noticeLinks.push(node);
    } else if (node.name === 'form') form ??= node;
    if (found.recap === undefined && node.attribs['id'] === 'recap-consultation') found.recap = node;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  found.formAction = form?.attribs['action'];
  return found;
}

/**
 * The page read once, only `#recap-consultation` and the notice links built as nodes (a third of the
 * page, the rest is menus and scripts); the same landmarks as `landmarks` over the whole tree, in the
 * same document order.
 */
function readPage(html: string): { $: CheerioAPI; page: PageLandmarks } {
  const found: PageLandmarks = { recap: undefined, formAction: undefined, keyHrefs: [], noticeLinks: [] };
  let formSeen = false;
  const $ = parsePartial(html, {
    keep: (name, attribs) => (found.recap === undefined && attribs['id'] === 'recap-consultation') || isNoticeLink(name, attribs),
    see(name, attribs, built) {
      if (name === 'a') {
        const href = attribs['href'];
        if (href?.includes('refConsultation=')) found.keyHrefs.push(href);
        if (built && isNoticeLink(name, attribs)) found.noticeLinks.push(built);
      } else if (name === 'form' && !formSeen) {
        formSeen = true;
        found.formAction = attribs['action'];
      }
      if (found.recap === undefined && attribs['id'] === 'recap-consultation') found.recap = built ?? undefined;
    },
  });
  return { $, page: found };
}

/**
 * Cheerio for the scanned reading: the reader only wraps nodes it already holds (`$(el)`), which needs no
 * document, so one instance serves every page (loading one per page cost ~5% of the parse).
 */
const WRAP = loadNodes([]);

/** The next occurrence of `text` in `html` at or after each position asked, asked in increasing order. */
function nextOccurrence(html: string, text: string): (from: number) => number {
  let at = html.indexOf(text);
  return (from) => {
    while (at !== -1 && at < from) at = html.indexOf(text, from);
    return at;
  };
}

/**
 * The landmarks of `readPage` found by scanning the page's start tags (`scanStartTags`) instead of
 * tokenizing it: only the tags that can be a landmark are parsed (the first form, tags holding "recap"
 * or a numeric character reference, which could spell anything, and links holding "refConsultation" or
 * "EntrepriseDownloadAvisJAL"), then `#recap-consultation` and the notice links are built from their
 * start tag on. Null when the page holds what the scan or an element parsed alone may read differently
 * from `readPage`: the caller reads it with `readPage`.
 */
export function scanDetailPage(html: string): { $: CheerioAPI; page: PageLandmarks } | null {
  const nextRecap = nextOccurrence(html, 'recap');
  const nextCharRef = nextOccurrence(html, '&#');
  const found: PageLandmarks = { recap: undefined, formAction: undefined, keyHrefs: [], noticeLinks: [] };
  let recapTag: StartTag | undefined;
  let formSeen = false;
  let refused = false;
  const scanned = scanStartTags(html, (start, nameEnd, end) => {
    if (refused) return;
    // A foreign element (svg, math) changes how the elements under it parse.
    if (isForeignTag(html, start, nameEnd)) refused = true;
    const isLink = tagNameIs(html, start + 1, nameEnd, 'a');
    const isForm = !formSeen && tagNameIs(html, start + 1, nameEnd, 'form');
    // No closure per tag: tsx (esbuild keepNames) would name each one, at a cost.
    const recapAt = recapTag === undefined ? nextRecap(start) : -1;
    const charRefAt = nextCharRef(start);
    const marked =
      (recapAt !== -1 && recapAt < end) ||
      (charRefAt !== -1 && charRefAt < end) ||
      (isLink && isLandmarkLink(html.slice(start, end)));
    if (!marked && !isForm) return;
    const tag: StartTag = { name: html.slice(start + 1, nameEnd).toLowerCase(), start, end };
    const attribs = parseTag(html, tag);
    if (isForm) {
      formSeen = true;
      found.formAction = attribs['action'];
    }
    if (tag.name === 'a') {
      const href = attribs['href'];
      if (href?.includes('refConsultation=')) found.keyHrefs.push(href);
      if (isNoticeLink(tag.name, attribs)) {
        const link = parseElementAt(html, tag);
        if (link) found.noticeLinks.push(link);
        else refused = true;
      }
    }
    if (recapTag === undefined && attribs['id'] === 'recap-consultation') recapTag = tag;
  });
  if (!scanned || refused) return null;
  if (recapTag) {
    found.recap = parseElementAt(html, recapTag) ?? undefined;
    if (!found.recap) return null;
  }
  return { $: WRAP, page: found };
}

function pageKey(page: PageLandmarks, baseUrl: string): ConsultationKey | null {
  const candidates: (string | undefined)[] = [page.formAction, ...page.keyHrefs];
  for (const href of candidates) {
    const key = keyFromUrl(resolvePortalUrl(href, baseUrl), baseUrl);
    if (key) return key;
  }
  return null;
}

export function parseConsultationDetail(html: string, ctx: DetailContext = {}): ConsultationDetailPage {
  if (isRequestRejectedPage(html)) throw new RequestRejectedError('detail', rejectedSupportId(html));
  const baseUrl = ctx.baseUrl ?? PORTAL_BASE_URL;
  let $: CheerioAPI;
  let page: PageLandmarks;
  if (ctx.wholePage) {
    $ = loadHtmlFast(html);
    page = landmarks($.root()[0]!);
  } else ({ $, page } = (ctx.noScan ? null : scanDetailPage(html)) ?? readPage(html));
  if (!page.recap) throw new PageShapeError('detail', ['#recap-consultation']);
  const recap = $(page.recap);

  const r = new DetailReader($, recap);
  const log = new ProblemLog();

  const reference = r.text('reference', ['reference']);
  const object = r.text('objet', ['objet']);
  const missing: string[] = [];
  if (!r.element('reference', ['reference'])) missing.push(`${SUMMARY}reference`);
  if (!r.element('objet', ['objet'])) missing.push(`${SUMMARY}objet`);
  if (missing.length) throw new PageShapeError('detail', missing);

  const found = pageKey(page, baseUrl);
  const key = found ?? ctx.key ?? null;
  if (!key) throw new PageShapeError('detail', ['consultation key (refConsultation/orgAcronyme in the form action or links)']);
  const where = { row: null, ref: `${key.orgAcronyme}/${key.refConsultation}` };
  if (found && ctx.key && (found.orgAcronyme !== ctx.key.orgAcronyme || found.refConsultation !== ctx.key.refConsultation)) {
    log.add({ ...where, field: 'key', message: `page shows ${found.orgAcronyme}/${found.refConsultation}, fetched as ${ctx.key.orgAcronyme}/${ctx.key.refConsultation}`, raw: null });
  }

  // With an id, type and mode are two spans; read by label they come as "type | mode".
  let procedure = r.text('typeProcedure');
  let passationMode = r.text('modePassation');
  if (procedure === null && passationMode === null) {
    const both = r.text(null, ['procedure', 'type de procedure']);
    if (both) [procedure, passationMode] = splitProcedure(both);
  }
  passationMode = passationMode ? cleanValue(passationMode.replace(/^\s*\|\s*/, '')) : null;

  const estimationRaw =
    r.referential('idReferentielZoneText', /estimation/i, '_labelReferentielZoneText') ??
    r.text(null, ['estimation']);
  const smallBusiness =
    r.referential('idRefRadio', /\b(?:TPE|PME)\b/i, '_labelReferentielRadio') ??
    r.text(null, ['reserve a la tpe', 'reserve aux tpe', 'reserve a la pme', 'reserve aux pme']);

  const visitsPanel = r.element('panelVisitesLieux', ['visites des lieux']);
  const siteVisits = visitsPanel ? readVisits(visitsPanel, where, log) : [];

  // Allotment: "-" and no link when the consultation is a single lot.
  const lotsLink = r.byId('linkDetailLots') ?? $([]);
  const lotsUrl = resolvePortalUrl(lotsLink.attr('href') ?? lotsLink.attr('onclick'), baseUrl);
  const lotCountRaw = r.text('nbrLots', ['allotissement']);
  const lotCount = lotCountRaw && /\d/.test(lotCountRaw) ? parseInteger(lotCountRaw) : null;
  const notAllottedPanel = r.byId('panelConsultationNonAlotti') ?? $([]);
  const allotted =
    (lotCount !== null && lotCount > 0) || lotsUrl !== null || (notAllottedPanel.length > 0 && isInlineHidden(notAllottedPanel[0] as Element));

  const candidate = {
    orgAcronyme: key.orgAcronyme,
    refConsultation: key.refConsultation,
    reference,
    object,
    buyer: r.text('entiteAchat', ['acheteur public', 'entite publique', 'organisme']),
    annonceType: r.text('annonce', ['type d annonce']),
    procedure,
    passationMode,
    category: r.text('categoriePrincipale', ['categorie principale', 'categorie']),
    executionPlace: r.text('lieuxExecutions', ['lieu d execution', 'lieux d execution']),
    deadline: readField(
      r.text('dateHeureLimiteRemisePlis', ['date et heure limite de remise des plis', 'date limite de remise des plis']),
      parseCasablancaDate,
      'deadline',
      'a dd/mm/yyyy HH:MM date',
      where,
      log,
    ),
    estimationTtc: readField(cleanValue(estimationRaw), parseFrenchAmount, 'estimationTtc', 'a French amount', where, log),
    cautionProvisoire: readField(
      r.text('cautionProvisoire', ['caution provisoire']),
      parseFrenchAmount,
      'cautionProvisoire',
      'a French amount',
      where,
      log,
    ),
    planPrice: readField(
      r.text('prixAcquisitionPlan', ['prix d acquisition des plans']),
      parseFrenchAmount,
      'planPrice',
      'a French amount',
      where,
      log,
    ),
    openingPlace: scrubContacts(r.text('lieuOuverturePlis', ['lieu d ouverture des plis'])),
    withdrawalAddress: scrubContacts(r.text('adresseRetraitDossiers', ['adresse de retrait des dossiers'])),
    submissionAddress: scrubContacts(r.text('adresseDepotOffres', ['adresse de depot des offres'])),
    variantAllowed: readField(r.text('varianteValeur', ['variante']), parseOuiNon, 'variantAllowed', 'Oui or Non', where, log),
    reservedForSmallBusiness: readField(smallBusiness, parseOuiNon, 'reservedForSmallBusiness', 'Oui or Non', where, log),
    siteVisits,
    qualifications: r.list('qualification', ['qualifications', 'qualification']),
    agrements: r.list('agrements', ['agrements']),
    activityDomains: r.list('domainesActivite', ['domaines d activite']),
    allotted,
    lotCount,
    lotsUrl,
    noticeDocuments: readNoticeDocuments(page.noticeLinks, baseUrl),
  };

  const item = validateRow(ConsultationDetailItemSchema, candidate, where, log);
  if (!item) {
    const fields = log.problems.filter((p) => p.field !== 'row').map((p) => p.field);
    throw new PageShapeError('detail', fields.length ? fields : ['required fields']);
  }
  return { item, problems: log.problems };
}

function splitProcedure(text: string): [string | null, string | null] {
  const i = text.indexOf('|');
  if (i < 0) return [cleanValue(text), null];
  return [cleanValue(text.slice(0, i)), cleanValue(text.slice(i + 1))];
}

/**
 * Visits are `<li>` pairs of spans `…_dateVisites` / `…_adresseVisites`; with no visit the
 * panel holds a bare "-". The address is free text and may name a contact person, hence the scrub.
 */
function readVisits(
  panel: Cheerio<AnyNode>,
  where: { row: number | null; ref: string | null },
  log: ProblemLog,
): { at: string | null; place: string | null }[] {
  const visits: { at: string | null; place: string | null }[] = [];
  // The selectors' rules (`li`, then the first `[id$=…]` under it) walked by hand: no selector compiled per page.
  const idEnds = (suffix: string) => (el: Element) => el.attribs['id']?.endsWith(suffix) ?? false;
  panel.toArray().flatMap((root) => findAll(root, isLi)).forEach((li, i) => {
    const dateEl = findFirst(li, idEnds('_dateVisites'));
    const placeEl = findFirst(li, idEnds('_adresseVisites'));
    let dateRaw: string | null;
    let place: string | null;
    if (dateEl || placeEl) {
      dateRaw = cleanValue(textOf(dateEl ? [dateEl] : []));
      place = scrubContacts(cleanValue(textOf(placeEl ? [placeEl] : [])));
    } else {
      const [first, ...rest] = linesOf([li]).join(' ').split(',');
      dateRaw = cleanValue(first);
      place = scrubContacts(cleanValue(rest.join(',')));
    }
    const at = readField(dateRaw, parseCasablancaDate, `siteVisits.${i}.at`, 'a dd/mm/yyyy HH:MM date', where, log);
    if (at !== null || place !== null) visits.push({ at, place });
  });
  return visits;
}

/** Links to published notices; an empty `idAvis=` means "none yet" and is skipped. */
function readNoticeDocuments(links: Element[], baseUrl: string): { idAvis: string; url: string; label: string | null }[] {
  const docs = new Map<string, { idAvis: string; url: string; label: string | null }>();
  for (const a of links) {
    const url = resolvePortalUrl(a.attribs['href'], baseUrl);
    if (!url) continue;
    const idAvis = new URL(url).searchParams.get('idAvis') ?? '';
    if (!/^\d+$/.test(idAvis) || docs.has(idAvis)) continue;
    const label = cleanValue(a.attribs['title']) ?? cleanValue(textOf([a]));
    docs.set(idAvis, { idAvis, url, label });
  }
  return [...docs.values()];
}
