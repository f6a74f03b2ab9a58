/**
 * The legacy advanced search: form fields → criteria → matching rows, in the portal's order.
 * Field names are the real form's (legacy-advanced-search-form.excerpt.html).
 */
import { frDate, parseFrDay, startOfDay, type LocalMs } from './clock';
import { type Consultation, type Notice, type NoticeType, type PortalModel } from './model';
import { type AnnonceType, type FormViewState, type SearchCriteria } from './prado';
import { fold } from './text';
import { CATEGORY_VALUE, PROCEDURES, type Category } from './vocab';

export const A = 'ctl0$CONTENU_PAGE$AdvancedSearch$';
export const R = 'ctl0$CONTENU_PAGE$resultSearch$';

export const DATE_FIELDS = ['dateMiseEnLigneStart', 'dateMiseEnLigneEnd', 'dateMiseEnLigneCalculeStart', 'dateMiseEnLigneCalculeEnd'] as const;

/** Fields of the form the replica reads back; the rest are posted and ignored, as unknown criteria. */
export const FORM_FIELDS = [
  'keywordSearch',
  'reference',
  'categorie',
  'procedureType',
  'annonceType',
  'organismesNames',
  'orgName',
  'rechercheFloue',
  ...DATE_FIELDS,
] as const;

const TYPE_OF_NOTICE: Record<number, NoticeType> = { 4: 'resultat', 5: 'pv', 6: 'achevement' };

export function emptyCriteria(types: AnnonceType[]): SearchCriteria {
  return {
    types,
    keyword: null,
    exact: false,
    reference: null,
    category: null,
    procedureValue: null,
    org: null,
    deadlineFrom: null,
    deadlineTo: null,
    publishedFrom: null,
    publishedTo: null,
    openOnly: false,
    impossible: false,
  };
}

/**
 * The unsubmitted form: deadline from today to six months ahead, publication over the last six
 * months (the excerpt shows 23/09/2026 → 23/03/2027 and 23/03/2026 → 23/09/2026 on 23/09/2026).
 */
export function defaultForm(entry: FormViewState['entry'], now: LocalMs): FormViewState {
  const today = startOfDay(now);
  const monthsFrom = (months: number) => {
    const d = new Date(today);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate());
  };
  return {
    view: 'form',
    entry,
    values: {
      [`${A}dateMiseEnLigneStart`]: frDate(today),
      [`${A}dateMiseEnLigneEnd`]: frDate(monthsFrom(6)),
      [`${A}dateMiseEnLigneCalculeStart`]: frDate(monthsFrom(-6)),
      [`${A}dateMiseEnLigneCalculeEnd`]: frDate(today),
      [`${A}annonceType`]: entry === 'searchAnnCons' ? '3' : '0',
    },
  };
}

/** The form's values after a postback: what was posted, else what the page showed. */
export function mergeForm(form: FormViewState, post: URLSearchParams): FormViewState {
  const values = { ...form.values };
  for (const f of FORM_FIELDS) {
    const name = `${A}${f}`;
    // A disabled select is not posted; searchAnnCons keeps its annonceType of 3.
    if (f === 'annonceType' && form.entry === 'searchAnnCons') continue;
    const v = post.get(name);
    if (v !== null) values[name] = v;
  }
  return { ...form, values };
}

export function invalidDates(form: FormViewState): string[] {
  return DATE_FIELDS.filter((f) => {
    const v = (form.values[`${A}${f}`] ?? '').trim();
    return v !== '' && parseFrDay(v) === null;
  });
}

export function criteriaOf(form: FormViewState, post: URLSearchParams, openOnly: boolean): SearchCriteria {
  const v = (f: string) => (form.values[`${A}${f}`] ?? '').trim();
  const type = Number(v('annonceType') || '0');
  const types: AnnonceType[] = type === 0 ? [3, 4, 5, 6] : [3, 4, 5, 6].includes(type) ? [type as AnnonceType] : [];
  const category = (Object.keys(CATEGORY_VALUE) as Category[]).find((c) => CATEGORY_VALUE[c] === v('categorie')) ?? null;
  // Posting the advanced form's textareas back with any text in them makes the portal find
  // nothing (award-extraction map of the portal, 2026-09-15): they read as a domain filter.
  const textarea = (name: string) => (post.get(`${A}${name}`) ?? '') !== '';
  return {
    ...emptyCriteria(types),
    keyword: v('keywordSearch') || null,
    exact: v('rechercheFloue') === `${A}exact`,
    reference: v('reference') || null,
    category,
    procedureValue: v('procedureType') && v('procedureType') !== '0' ? v('procedureType') : null,
    org: v('organismesNames') && v('organismesNames') !== '0' ? v('organismesNames') : null,
    deadlineFrom: parseFrDay(v('dateMiseEnLigneStart')),
    deadlineTo: parseFrDay(v('dateMiseEnLigneEnd')),
    publishedFrom: parseFrDay(v('dateMiseEnLigneCalculeStart')),
    publishedTo: parseFrDay(v('dateMiseEnLigneCalculeEnd')),
    openOnly,
    impossible: textarea('domaineActivite$idsDomaines') || textarea('qualification$libelleQualif'),
  };
}

const STOP_WORDS = new Set(['les', 'des', 'pour', 'avec', 'dans', 'une', 'aux', 'sur', 'par', 'est', 'the']);

/**
 * "Recherche approchée": any word of three letters or more outside linking words (the quick
 * search's help bubble in legacy-results-list.html); "exacte": the phrase itself.
 */
function keywordMatcher(keyword: string, exact: boolean): (text: string) => boolean {
  const k = fold(keyword).replace(/"/g, ' ').trim();
  if (exact || /^".*"$/.test(keyword.trim())) return (t) => t.includes(k.replace(/\s+/g, ' '));
  const words = k.split(/[^a-z0-9]+/).filter((w) => w.length >= 3 && !STOP_WORDS.has(w));
  if (words.length === 0) return () => true;
  return (t) => words.some((w) => t.includes(w));
}

export interface ResultItem {
  cons: Consultation;
  notice: Notice | null;
}

export interface SearchOptions {
  /** The portal ignores the date range on notice searches (see README.md); 'applied' filters on publication. */
  noticeDateFilter: 'ignored' | 'applied';
}

/**
 * Window on a date: from the start day's midnight to the end day's midnight, both included,
 * the way a SQL `date <= 'YYYY-MM-DD'` on a datetime column reads. Publications carry a time,
 * so the end day itself falls outside (a public scraper windows by publication with end + 1).
 */
function inWindow(lm: LocalMs, from: LocalMs | null, to: LocalMs | null): boolean {
  return (from === null || lm >= from) && (to === null || lm <= to);
}

export function runSearch(model: PortalModel, c: SearchCriteria, opts: SearchOptions): ResultItem[] {
  if (c.impossible) return [];
  const keyword = c.keyword ? keywordMatcher(c.keyword, c.exact) : null;
  const reference = c.reference ? fold(c.reference).trim() : null;
  const procedure = c.procedureValue ? PROCEDURES.findIndex((p) => p.value === c.procedureValue) : null;
  const consMatch = (x: Consultation): boolean =>
    (c.category === null || x.category === c.category) &&
    (procedure === null || x.procedure === procedure) &&
    (c.org === null || x.org === c.org) &&
    (reference === null || fold(x.reference).includes(reference)) &&
    (keyword === null || keyword(model.searchText(x)));

  const items: ResultItem[] = [];
  const consultations = c.types.includes(3);
  if (consultations) {
    for (const x of model.byDeadline) {
      if (x.published > model.now) continue;
      if (c.openOnly && x.deadline < model.now) continue;
      if (!inWindow(x.deadline, c.deadlineFrom, c.deadlineTo)) continue;
      if (!inWindow(x.published, c.publishedFrom, c.publishedTo)) continue;
      if (consMatch(x)) items.push({ cons: x, notice: null });
    }
  }
  const noticeTypes = c.types.filter((t) => t !== 3);
  for (const t of noticeTypes) {
    const type = TYPE_OF_NOTICE[t];
    if (!type) continue;
    for (const n of model.noticesByType[type]) {
      if (opts.noticeDateFilter === 'applied' && !inWindow(n.published, c.publishedFrom, c.publishedTo)) continue;
      if (consMatch(n.cons)) items.push({ cons: n.cons, notice: n });
    }
  }
  // One list mixing kinds is ordered by publication, newest first.
  if (consultations && noticeTypes.length) {
    const at = (i: ResultItem) => i.notice?.published ?? i.cons.published;
    items.sort((a, b) => at(b) - at(a));
  } else if (noticeTypes.length > 1) {
    items.sort((a, b) => (b.notice?.published ?? 0) - (a.notice?.published ?? 0));
  }
  return items;
}
