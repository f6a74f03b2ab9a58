/**
 * The PRADO session client of marchespublics.gov.ma's legacy interface, over the engine's fetcher.
 *
 * A search is one stateful form: every postback must carry the newest PRADO_PAGESTATE of the same
 * PHP session, and the server moves on even when our copy of its answer is lost (a truncated body),
 * so a search can only be resumed by a new search in a new session plus a "go to page N" postback.
 * Every page fetched goes to the proof store before it is parsed, so a row can always point to
 * the bytes it was read from, including pages that failed to parse.
 */
import type { FetchResponse, FetchSession, Fetcher } from '../engine/fetcher';
import { InvalidInputError, MoissonError, RateLimitedError, ResponseShapeError, TransientError } from '../engine/errors';
import type { ProofStore } from '../engine/proofs';
import { inlineParsers, type PageParsers } from './parse-pool';
import {
  PageShapeError,
  RequestRejectedError,
  isRequestRejectedPage,
  loadHtml,
  readPostbackForm,
  rejectedSupportId,
  type PmmpPageKind,
  type PostbackForm,
  type ResultListPage,
} from './parse/index';

/**
 * `searchAnnCons`: the advanced search with a publication window; `AllCons`: every consultation;
 * the notice lists (extraits de PV, résultats définitifs, rapports d'achèvement), newest notice first,
 * which ignore date windows on the portal.
 */
export type ConsultationSearchKind = 'searchAnnCons' | 'AllCons' | NoticeListKind;
export type NoticeListKind = 'AvisExtraitPV' | 'AvisAttribution' | 'AvisRapportAchevement';
export const NOTICE_LISTS: Record<NoticeListKind, 5 | 4 | 6> = { AvisExtraitPV: 5, AvisAttribution: 4, AvisRapportAchevement: 6 };
export function isNoticeList(kind: ConsultationSearchKind): kind is NoticeListKind {
  return kind in NOTICE_LISTS;
}

export const PAGE_SIZES = [10, 20, 50, 100, 500] as const;
export type PortalPageSize = (typeof PAGE_SIZES)[number];
/** 500 rows weigh ~8 MB a page on the portal and its postbacks are slow: 100 is the safer default. */
export const DEFAULT_PAGE_SIZE: PortalPageSize = 100;

const RESULTS = 'ctl0$CONTENU_PAGE$resultSearch$';
const ADVANCED = 'ctl0$CONTENU_PAGE$AdvancedSearch$';
const NEXT_PAGE = 'PagerTop$ctl2';

/**
 * The WAF answered instead of the portal. Hammering it makes things worse, so this is a "retry
 * later" with a long delay, not a stop: the rules that tripped are the portal's, not a bug of ours.
 */
export class PortalRequestRejectedError extends RateLimitedError {
  constructor(kind: PmmpPageKind, supportId: string | null, url: string, retryAfterMs: number) {
    super(new RequestRejectedError(kind, supportId).message, retryAfterMs, { url, kind, supportId });
  }
}

/**
 * HTTP 400 "Page state is corrupted": the session no longer knows our page state (expired, another
 * search started in it, or an answer we never fully received moved it on). Retryable: a new search
 * and a jump to the page get back to the same place.
 */
export class PageStateLostError extends MoissonError {
  readonly retry = 'retry' as const;
}

export interface PortalClientOptions {
  fetcher: Fetcher;
  proofs: ProofStore;
  /** The portal's `index.php` (`https://www.marchespublics.gov.ma/index.php`, or a replica's). */
  baseUrl: string;
  /** Postbacks of big lists are slow on the portal. */
  timeoutMs?: number;
  /** Wait announced for a WAF rejection (the WAF gives none). */
  rejectedRetryAfterMs?: number;
  signal?: AbortSignal;
  /** Where list pages are parsed (default: on this thread). */
  parsers?: PageParsers;
}

export interface StoredPage {
  response: FetchResponse;
  html: string;
  proofId: string;
}

/**
 * A list page once read: its proof and what was parsed from it. The bytes and the text (1.5 MB and 3 MB on
 * a 100-row page) are not kept: the crawl holds up to three list pages at once (the open search's, the one
 * being read, the next one prefetched) and only needs their rows, form and proof id.
 */
export interface ListPage {
  proofId: string;
  /** Where the page was read from (after redirects). */
  url: string;
  list: ResultListPage;
}

export interface SearchSpec {
  kind: ConsultationSearchKind;
  /** Publication window, calendar days `YYYY-MM-DD`, both included (advanced search only). */
  from?: string;
  to?: string;
  pageSize: PortalPageSize;
}

/** Portal pages end with `</html>`; a body cut short with a Content-Length that matches it does not. */
function assertComplete(html: string, url: string, kind: PmmpPageKind): void {
  if (!/<\/html>\s*$/i.test(html.slice(-256))) {
    throw new TransientError('truncated', `the ${kind} page ${url} ends before </html>`, { url, kind });
  }
}

function frenchDay(isoDay: string): string {
  const [y, m, d] = isoDay.split('-');
  return `${d}/${m}/${y}`;
}

/** A calendar day `YYYY-MM-DD` that exists. */
export function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

export function nextIsoDay(isoDay: string): string {
  const t = new Date(`${isoDay}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}

/** Field names vary by where PRADO nests a control: match the suffix, fall back to the known name. */
function nameEndingWith(form: PostbackForm, suffix: string, fallback: string): string {
  return form.fields.find((f) => f.name.endsWith(suffix))?.name ?? fallback;
}

function postbackFields(form: PostbackForm, changes: Record<string, string>): [string, string][] {
  const out: [string, string][] = [];
  const pending = new Map(Object.entries(changes));
  for (const f of form.fields) {
    if (f.name === 'PRADO_POSTBACK_TARGET') continue;
    if (pending.has(f.name)) {
      out.push([f.name, pending.get(f.name) as string]);
      pending.delete(f.name);
    } else {
      out.push([f.name, f.value]);
    }
  }
  for (const [k, v] of pending) out.push([k, v]);
  return out;
}

export class PortalClient {
  private readonly opts: PortalClientOptions;

  constructor(opts: PortalClientOptions) {
    this.opts = opts;
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  /** The /bdc/ purchase-order results beside the legacy `index.php`. */
  get bdcResultsUrl(): string {
    return new URL('/bdc/entreprise/consultation/resultat', this.opts.baseUrl).toString();
  }

  private request(): { timeoutMs?: number; signal?: AbortSignal } {
    return { ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}), ...(this.opts.signal ? { signal: this.opts.signal } : {}) };
  }

  /** Stores the bytes first (proof of what was seen, even a WAF page), then classifies. */
  private async keep(response: FetchResponse, kind: PmmpPageKind, proofKind: string): Promise<StoredPage> {
    const { proofId } = await this.opts.proofs.put({ ...response, kind: proofKind });
    const html = response.text();
    if (isRequestRejectedPage(html)) {
      throw new PortalRequestRejectedError(kind, rejectedSupportId(html), response.url, this.opts.rejectedRetryAfterMs ?? 10 * 60_000);
    }
    assertComplete(html, response.url, kind);
    return { response, html, proofId };
  }

  /** A GET outside any search (detail, lots popup, a /bdc/ results page): any session will do. */
  async getPage(session: FetchSession, url: string, kind: 'detail' | 'lots' | 'bdc-results'): Promise<StoredPage> {
    const response = await session.get(url, this.request());
    return this.keep(response, kind, `pmmp.${kind}`);
  }

  /** A postback of a result list; a 400 means the session lost our state. */
  async postList(session: FetchSession, form: PostbackForm, fields: [string, string][]): Promise<ListPage> {
    const response = await session.post(form.action, fields, { ...this.request(), accept: [400] });
    if (response.status === 400) {
      const corrupted = /page state is corrupted/i.test(response.text());
      throw new PageStateLostError(`${response.url} refused our page state (400${corrupted ? ', "Page state is corrupted."' : ''})`, {
        url: response.url,
        status: 400,
      });
    }
    return this.readList(response);
  }

  private async readList(response: FetchResponse): Promise<ListPage> {
    const stored = await this.keep(response, 'list', 'pmmp.list');
    try {
      const list = await (this.opts.parsers ?? inlineParsers).list(stored.html, { baseUrl: this.opts.baseUrl });
      return { proofId: stored.proofId, url: response.url, list };
    } catch (err) {
      if (err instanceof PageShapeError) throw new ResponseShapeError(err.message, { url: response.url, missing: err.missing, proofId: stored.proofId });
      throw err;
    }
  }

  /**
   * Opens a search in a new session and brings it to `page` with `pageSize` rows. Page 1 costs the
   * search plus one page-size postback; any later page costs the same (PRADO applies the size first,
   * then the "go to page" of the same postback).
   */
  async openSearch(spec: SearchSpec, page = 1): Promise<PortalSearch> {
    const session = this.opts.fetcher.session();
    let first: ListPage;
    if (spec.kind !== 'searchAnnCons') {
      const response = await session.get(`${this.opts.baseUrl}?page=entreprise.EntrepriseAdvancedSearch&${spec.kind}`, this.request());
      first = await this.readList(response);
    } else {
      if (!spec.from || !spec.to) throw new InvalidInputError('the advanced search needs a publication window (from, to)');
      first = await this.launchAdvancedSearch(session, spec.from, spec.to);
    }
    const search = new PortalSearch(this, session, first);
    const size = first.list.pagination.pageSize;
    if (page > 1) await search.jump(page, spec.pageSize);
    else if (size !== spec.pageSize && first.list.pagination.totalResults > Math.min(size ?? 10, spec.pageSize)) await search.resize(spec.pageSize);
    return search;
  }

  private async launchAdvancedSearch(session: FetchSession, from: string, to: string): Promise<ListPage> {
    const url = `${this.opts.baseUrl}?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons`;
    const formPage = await session.get(url, this.request());
    const stored = await this.keep(formPage, 'list', 'pmmp.search-form');
    const form = readPostbackForm(loadHtml(stored.html), this.opts.baseUrl);
    const publishedStart = form?.fields.find((f) => f.name.endsWith('$dateMiseEnLigneCalculeStart'))?.name;
    if (!form || !publishedStart) {
      throw new ResponseShapeError(`the advanced search form at ${formPage.url} has no publication window (dateMiseEnLigneCalculeStart)`, {
        url: formPage.url,
        proofId: stored.proofId,
      });
    }
    const prefix = publishedStart.slice(0, -'dateMiseEnLigneCalculeStart'.length) || ADVANCED;
    // The deadline window defaults to today → +6 months, which would hide closed consultations.
    // The end bound is midnight of the end day, so the day after `to` keeps `to`'s publications in.
    return this.postList(session, form, [
      ...postbackFields(form, {
        [`${prefix}dateMiseEnLigneStart`]: '',
        [`${prefix}dateMiseEnLigneEnd`]: '',
        [`${prefix}dateMiseEnLigneCalculeStart`]: frenchDay(from),
        [`${prefix}dateMiseEnLigneCalculeEnd`]: frenchDay(nextIsoDay(to)),
      }),
      [`${prefix}lancerRecherche`, 'Lancer la recherche'],
    ]);
  }
}

/** One open search: the newest page and its form; moving on replaces both. */
export class PortalSearch {
  constructor(
    private readonly client: PortalClient,
    private readonly session: FetchSession,
    public current: ListPage,
  ) {}

  private postback(target: string, changes: Record<string, string>): Promise<ListPage> {
    const form = this.current.list.form;
    const fields = postbackFields(form, changes);
    fields.push(['PRADO_POSTBACK_TARGET', target]);
    return this.client.postList(this.session, form, fields);
  }

  private sizeField(): string {
    return nameEndingWith(this.current.list.form, '$listePageSizeTop', `${RESULTS}listePageSizeTop`);
  }

  private resultsPrefix(): string {
    const size = this.sizeField();
    return size.slice(0, -'listePageSizeTop'.length);
  }

  async resize(pageSize: PortalPageSize): Promise<ListPage> {
    const field = this.sizeField();
    this.current = await this.postback(field, { [field]: String(pageSize) });
    return this.current;
  }

  /** "Go to page": the page-number box and its default button, with the size in the same postback. */
  async jump(page: number, pageSize: PortalPageSize): Promise<ListPage> {
    const prefix = this.resultsPrefix();
    const numPage = nameEndingWith(this.current.list.form, '$numPageTop', `${prefix}numPageTop`);
    this.current = await this.postback(`${prefix}DefaultButtonTop`, { [this.sizeField()]: String(pageSize), [numPage]: String(page) });
    return this.current;
  }

  async next(): Promise<ListPage> {
    this.current = await this.postback(`${this.resultsPrefix()}${NEXT_PAGE}`, {});
    return this.current;
  }
}
