/**
 * A local replica of marchespublics.gov.ma for tests, the demo and benchmarks, on one plain
 * `node:http` server:
 *
 *   /index.php?page=entreprise.EntrepriseAdvancedSearch&…   legacy (PRADO) searches and lists, stateful
 *   /index.php?page=entreprise.EntrepriseDetailConsultation  consultation detail (also …DetailsConsultation)
 *   /index.php?page=commun.PopUpDetailLots                   lots popup
 *   /index.php?page=entreprise.EntrepriseDownloadAvisJAL     notice documents (PDF)
 *   /bdc/entreprise/consultation/resultat                    purchase-order results (also /bdc/entreprise/consultation/)
 *   /__replica/…                                             knobs, stats, oracle (not part of the portal)
 *
 * Markup comes from the real captures in samples/pmmp/html (see ./legacy-html.ts); data and
 * ground truth from ./model. Faults a crawler must survive (latency, 429, 5xx, truncated
 * bodies, a changed page shape, the WAF) are knobs, settable in-process or over HTTP, and
 * drawn from the seed in request order. What is inferred rather than observed: README.md.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

import { z } from 'zod';

import { bdcResultsPage } from './bdc-html';
import { frDate, frDateTime, frTime, instantOf, isoDay, offsetMinutes, parseIsoDay, startOfDay } from './clock';
import {
  baseScripts,
  detailBody,
  listBody,
  listScripts,
  loadChrome,
  lotsPage,
  missingConsultationBody,
  pageShell,
  plainErrorPage,
  pradoErrorPage,
  searchFormBlock,
  wafPage,
  type Chrome,
  type DetailView,
  type ListRow,
} from './legacy-html';
import { ANNONCE_LABEL, NOTICE_DOC_LABEL, PortalModel, type BdcResult, type Consultation, type PortalDataOptions, type PortalOracle } from './model';
import { noticePdf } from './notices';
import { PradoSessions, type AnnonceType, type FormViewState, type ResultsViewState, type Session, type ViewState } from './prado';
import { Rng, hash32 } from './rng';
import { A, R, criteriaOf, defaultForm, emptyCriteria, invalidDates, mergeForm, runSearch, type ResultItem } from './search';
import { fold, frAmount } from './text';
import { CATEGORY_VALUE, PROCEDURES, RESPONSE_PICTOS } from './vocab';

export { buildPortalOracle, type OracleConsultation, type OracleNotice, type OracleNoticeRow, type OracleBdcResult, type PortalOracle } from './model';

export const PAGE_KINDS = ['search-form', 'list', 'detail', 'lots', 'notice-pdf', 'bdc', 'other'] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

/**
 * Query strings the WAF rejects by default: quotes, angle brackets, path climbing, the usual
 * injection words (an F5 ASM signature set blocks such parameters; the exact rules are unknown).
 */
export const DEFAULT_WAF_PATTERN = String.raw`['"<>]|\.\./|union\s+select|<script|javascript:`;

const KindSchema = z.enum(PAGE_KINDS);

export const KnobsSchema = z.strictObject({
  /** Added before each answer: a fixed delay, or uniform in [min, max]. */
  latencyMs: z.union([z.number().min(0), z.strictObject({ min: z.number().min(0), max: z.number().min(0) })]),
  /** Share of requests answered 429 Too Many Requests (with Retry-After). */
  rate429: z.number().min(0).max(1),
  retryAfterSeconds: z.number().int().min(0),
  /** Share of requests answered 500, 502 or 503. */
  rate5xx: z.number().min(0).max(1),
  /** Share of answers cut short: a complete response with half a body, or a connection reset mid-body. */
  truncate: z
    .strictObject({ rate: z.number().min(0).max(1), kinds: z.array(KindSchema).optional(), mode: z.enum(['short-body', 'reset']).optional() })
    .nullable(),
  /** Page kinds served in a changed markup (no #recap-consultation, no table-results, …). */
  shapeChanged: z.array(KindSchema),
  /** Regular expression (source) tested on the decoded path and query; null turns the WAF off. */
  wafPattern: z.string().nullable(),
  /** User-Agents answered 403 (some sites reject non-browser agents); null: none. */
  blockUserAgents: z.string().nullable(),
  /** User-Agents answered 429 with Retry-After (one worker of a fleet being throttled); null: none. */
  rateLimitUserAgents: z.string().nullable(),
  /** /bdc/ drift: results published between two page requests, and unstable order within a day. */
  bdcDrift: z.strictObject({ newPerRequest: z.number().int().min(0), shuffleTies: z.boolean() }),
  /** How many past page states of a session stay valid (1: only the latest). */
  pageStateHistory: z.number().int().min(1),
  /** Size of the PRADO_PAGESTATE value (the portal's are 16-80 KB). */
  pageStateBytes: z.number().int().min(0).max(500_000),
  /** Date ranges on notice searches: ignored by the portal (observed), or applied on publication. */
  noticeDateFilter: z.enum(['ignored', 'applied']),
  /** Whether the advanced search of `searchAnnCons` only ever returns consultations still open. */
  searchAnnConsOpenOnly: z.boolean(),
});
export type PortalKnobs = z.infer<typeof KnobsSchema>;
export type PortalKnobsInput = Partial<Omit<PortalKnobs, 'shapeChanged' | 'bdcDrift'>> & {
  shapeChanged?: PageKind | PageKind[] | null;
  bdcDrift?: Partial<PortalKnobs['bdcDrift']>;
};

export const DEFAULT_KNOBS: PortalKnobs = {
  latencyMs: 0,
  rate429: 0,
  retryAfterSeconds: 30,
  rate5xx: 0,
  truncate: null,
  shapeChanged: [],
  wafPattern: DEFAULT_WAF_PATTERN,
  blockUserAgents: null,
  rateLimitUserAgents: null,
  bdcDrift: { newPerRequest: 0, shuffleTies: true },
  pageStateHistory: 1,
  pageStateBytes: 16_384,
  noticeDateFilter: 'ignored',
  searchAnnConsOpenOnly: false,
};

export interface PortalReplicaOptions extends PortalDataOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  knobs?: PortalKnobsInput;
  /** Idle time after which a PHP session is gone (php.ini session.gc_maxlifetime: 1440 s). */
  sessionTtlMs?: number;
}

export interface KindStats {
  requests: number;
  byStatus: Record<string, number>;
  bytes: number;
  faults: { rateLimited: number; serverError: number; truncated: number; waf: number; shapeChanged: number; blockedAgent: number };
}

export interface RequestLogEntry {
  at: string;
  /** When the request arrived (epoch ms), before its body was read: what a rate limit is measured on. */
  receivedAt: number;
  /** Its User-Agent (which worker of a fleet sent it). */
  agent: string;
  method: string;
  path: string;
  kind: PageKind;
  status: number;
  bytes: number;
  ms: number;
  fault: string | null;
}

export interface PortalStats {
  requests: number;
  byKind: Record<PageKind, KindStats>;
  /** Postbacks refused, by reason: missing state, corrupted, foreign (another session), stale, no session. */
  pageStateErrors: Record<string, number>;
  sessions: number;
  /** The last 1,000 requests, oldest first. */
  log: RequestLogEntry[];
}

export interface PortalReplica {
  url: string;
  oracle: PortalOracle;
  model: PortalModel;
  /** Merges into the current knobs (a null or [] clears one) and returns them. */
  setKnobs(knobs: PortalKnobsInput): PortalKnobs;
  knobs(): PortalKnobs;
  stats(): PortalStats;
  resetStats(): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: string | Buffer;
  contentType?: string;
  headers?: Record<string, string | string[]>;
  /** Fault a knob caused, for the stats. */
  fault?: string;
}

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const PORTAL_PAGES = new Set(['/', '/index.php']);

function json(status: number, body: unknown): Reply {
  return { status, body: JSON.stringify(body, null, 2), contentType: JSON_TYPE };
}

function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function normalizeKnobs(input: PortalKnobsInput, base: PortalKnobs): PortalKnobs {
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (k === 'shapeChanged') merged[k] = v === null ? [] : Array.isArray(v) ? v : [v];
    else if (k === 'bdcDrift') merged[k] = { ...base.bdcDrift, ...(v as object) };
    else if (v === null && (k === 'latencyMs' || k === 'rate429' || k === 'rate5xx')) merged[k] = 0;
    else merged[k] = v;
  }
  const parsed = KnobsSchema.parse(merged);
  if (parsed.wafPattern !== null) new RegExp(parsed.wafPattern, 'i');
  if (parsed.blockUserAgents !== null) new RegExp(parsed.blockUserAgents, 'i');
  if (parsed.rateLimitUserAgents !== null) new RegExp(parsed.rateLimitUserAgents, 'i');
  return parsed;
}

function emptyKindStats(): KindStats {
  return { requests: 0, byStatus: {}, bytes: 0, faults: { rateLimited: 0, serverError: 0, truncated: 0, waf: 0, shapeChanged: 0, blockedAgent: 0 } };
}

const NOTICE_BADGE: Record<number, { badge: string; alt: string }> = {
  5: { badge: 'picto-PV.gif', alt: 'Extrait de PV' },
  4: { badge: 'picto-avis-attribution.gif', alt: 'Résultat définitif' },
  6: { badge: 'picto-rapport-achevement.gif', alt: "Rapport d'achèvement" },
};
const NOTICE_TYPE_NUM = { pv: 5, resultat: 4, achevement: 6 } as const;

export async function startPortalReplica(opts: PortalReplicaOptions = {}): Promise<PortalReplica> {
  const host = opts.host ?? '127.0.0.1';
  const model = new PortalModel(opts);
  const chrome: Chrome = loadChrome(model.samplesDir);
  const initialKnobs = normalizeKnobs(opts.knobs ?? {}, DEFAULT_KNOBS);
  let knobs = initialKnobs;
  const sessions = new PradoSessions(model.seed, {
    history: () => knobs.pageStateHistory,
    stateBytes: () => knobs.pageStateBytes,
    ttlMs: opts.sessionTtlMs ?? 1_440_000,
  });
  const searchCache = new Map<string, ResultItem[]>();
  let requestCounter = 0;
  let stats = freshStats();

  function freshStats(): Omit<PortalStats, 'sessions'> {
    return {
      requests: 0,
      byKind: Object.fromEntries(PAGE_KINDS.map((k) => [k, emptyKindStats()])) as Record<PageKind, KindStats>,
      pageStateErrors: {},
      log: [],
    };
  }

  const nowEpoch = () => instantOf(model.now);
  const offsetSeconds = () => offsetMinutes(model.now) * 60;
  const shaped = (kind: PageKind) => knobs.shapeChanged.includes(kind);

  function search(criteria: ResultsViewState['criteria']): ResultItem[] {
    const key = JSON.stringify([criteria, knobs.noticeDateFilter]);
    let items = searchCache.get(key);
    if (!items) {
      items = runSearch(model, criteria, { noticeDateFilter: knobs.noticeDateFilter });
      searchCache.set(key, items);
      if (searchCache.size > 64) {
        const oldest = searchCache.keys().next().value;
        if (oldest !== undefined) searchCache.delete(oldest);
      }
    }
    return items;
  }

  function listRow(item: ResultItem): ListRow {
    const c = item.cons;
    const n = item.notice;
    const proc = PROCEDURES[c.procedure] ?? PROCEDURES[0];
    const type = n ? NOTICE_TYPE_NUM[n.type] : 3;
    const badge = NOTICE_BADGE[type];
    return {
      org: c.org,
      ref: c.ref,
      procedureCode: proc?.code ?? 'AOO',
      procedure: proc?.label ?? '',
      category: c.category,
      publishedDay: frDate(n ? n.published : c.published),
      reference: c.reference,
      object: c.object,
      buyerName: c.buyer.name,
      places: c.places,
      lotCount: c.lotCount,
      deadlineDay: frDate(c.deadline),
      deadlineTime: frTime(c.deadline),
      picto: RESPONSE_PICTOS[c.picto] ?? { src: 'reponse-elec-non.gif', text: '' },
      notice:
        n && badge
          ? { annonceLabel: ANNONCE_LABEL[type] ?? '', badge: badge.badge, badgeAlt: badge.alt, detail: `${badge.alt} - ${c.reference} - ${c.object}` }
          : null,
    };
  }

  function renderView(session: Session, view: ViewState, action: string, invalid: string[] = []): Reply {
    const pageState = sessions.issue(session, view);
    const shell = { action, pageState, nowEpochMs: nowEpoch(), offsetSeconds: offsetSeconds() };
    if (view.view === 'form') {
      const block = searchFormBlock(chrome, {
        values: view.values,
        annonceTypeEnabled: view.entry === 'AllAnn',
        invalidDates: invalid,
        shapeChanged: shaped('search-form'),
      });
      return {
        status: 200,
        body: pageShell(chrome, { ...shell, formId: 'ctl0_ctl4', searchBlock: block, body: '', scripts: baseScripts(chrome) }),
        fault: shaped('search-form') ? 'shape' : undefined,
      };
    }
    const items = search(view.criteria);
    const pageCount = Math.ceil(items.length / view.pageSize);
    const page = Math.min(Math.max(1, view.page), Math.max(1, pageCount));
    const rows = items.slice((page - 1) * view.pageSize, page * view.pageSize).map(listRow);
    const notices = view.criteria.types.length > 0 && !view.criteria.types.includes(3);
    const body = listBody(chrome, { total: items.length, page, pageCount, pageSize: view.pageSize, rows, notices, shapeChanged: shaped('list') });
    return {
      status: 200,
      body: pageShell(chrome, { ...shell, formId: 'ctl0_ctl2', body, scripts: listScripts(chrome, rows.length) }),
      fault: shaped('list') ? 'shape' : undefined,
    };
  }

  function results(criteria: ResultsViewState['criteria'], form: FormViewState | null): ResultsViewState {
    return { view: 'results', criteria, page: 1, pageSize: 10, form };
  }

  /** What a GET (or a POST that is no postback) of the search page shows. */
  function initialView(q: URLSearchParams): ViewState {
    const has = (flag: string) => q.has(flag);
    const notices: [string, AnnonceType][] = [
      ['AvisExtraitPV', 5],
      ['AvisAttribution', 4],
      ['AvisRapportAchevement', 6],
    ];
    for (const [flag, type] of notices) if (has(flag)) return results(emptyCriteria([type]), null);
    // Notices the replica does not model (informations, rapports de présentation, résiliations)
    // and cancelled consultations: valid lists, with nothing in them.
    if (has('AvisInformation') || has('AvisRapportPresentation') || has('AvisdecisionResiliation') || q.get('consAnnulee') === '1') {
      return results(emptyCriteria([]), null);
    }
    if (has('AllCons')) return results(emptyCriteria([3]), null);
    if (has('keyWord')) {
      const keyword = (q.get('keyWord') ?? '').trim();
      return results({ ...emptyCriteria([3]), keyword: keyword || null, openOnly: true }, null);
    }
    if (has('AllAnn')) return has('searchAnnCons') ? results(emptyCriteria([3, 4, 5, 6]), null) : defaultForm('AllAnn', model.now);
    return defaultForm('searchAnnCons', model.now);
  }

  function stateError(reason: string, setCookie: string[]): Reply {
    stats.pageStateErrors[reason] = (stats.pageStateErrors[reason] ?? 0) + 1;
    return {
      status: 400,
      body: pradoErrorPage(400, 'Bad Request', 'Page state is corrupted.', frDateTime(model.now).replace(/\//g, '-')),
      headers: setCookie.length ? { 'set-cookie': setCookie } : undefined,
      fault: `page-state-${reason}`,
    };
  }

  function advancedSearch(req: IncomingMessage, url: URL, body: string, session: Session, fresh: boolean, setCookie: string[], translated = false): Reply {
    const action = `${url.pathname}${url.search}`;
    const post = req.method === 'POST' ? new URLSearchParams(body) : null;
    const withCookie = (r: Reply): Reply => (setCookie.length ? { ...r, headers: { ...r.headers, 'set-cookie': setCookie } } : r);
    // PRADO treats a request as a postback when it carries the page state or a postback target.
    if (!post || (!post.has('PRADO_PAGESTATE') && !post.has('PRADO_POSTBACK_TARGET'))) {
      return withCookie(renderView(session, initialView(url.searchParams), action));
    }
    if (shaped('search-form') && !translated) {
      // The redesigned form's names stand for the old ones; the old ones mean nothing any more.
      const translated = new URLSearchParams();
      for (const [k, v] of post) {
        if (k.startsWith(A)) continue;
        translated.append(k.replace('ctl0$CONTENU_PAGE$RechercheAvancee$', A), v);
      }
      return advancedSearch(req, url, translated.toString(), session, fresh, setCookie, true);
    }
    if (fresh) return stateError('no-session', setCookie);
    const check = sessions.check(session, post.get('PRADO_PAGESTATE') ?? undefined);
    if (!check.ok) return stateError(check.reason, setCookie);
    const target = post.get('PRADO_POSTBACK_TARGET') ?? '';
    const view = check.view;

    if (view.view === 'form') {
      const form = mergeForm(view, post);
      const clicked = (name: string) => post.has(`${A}${name}`) || target === `${A}${name}`;
      if (clicked('boutonClear')) return renderView(session, defaultForm(view.entry, model.now), action);
      if (!clicked('lancerRecherche')) return renderView(session, form, action);
      const invalid = invalidDates(form);
      if (invalid.length) return renderView(session, form, action, invalid);
      const openOnly = view.entry === 'searchAnnCons' && knobs.searchAnnConsOpenOnly;
      return renderView(session, results(criteriaOf(form, post, openOnly), form), action);
    }

    // Results: the page-size select first (PRADO raises data-changed events before the
    // postback event), then the pager.
    let { page, pageSize } = view;
    for (const which of ['Top', 'Bottom']) {
      const posted = Number(post.get(`${R}listePageSize${which}`));
      if ([10, 20, 50, 100, 500].includes(posted) && posted !== pageSize) {
        pageSize = posted;
        page = 1;
        break;
      }
    }
    const total = search(view.criteria).length;
    const pageCount = Math.max(1, Math.ceil(total / pageSize));
    const pager = /^ctl0\$CONTENU_PAGE\$resultSearch\$Pager(?:Top|Bottom)\$ctl([0-3])$/.exec(target);
    if (pager) {
      const button = Number(pager[1]);
      page = button === 0 ? 1 : button === 1 ? page - 1 : button === 2 ? page + 1 : pageCount;
    } else if (target === `${R}DefaultButtonTop` || target === `${R}DefaultButtonBottom` || post.has(`${R}DefaultButtonTop`) || post.has(`${R}DefaultButtonBottom`)) {
      const which = target.endsWith('Bottom') || post.has(`${R}DefaultButtonBottom`) ? 'Bottom' : 'Top';
      const wanted = Number.parseInt(post.get(`${R}numPage${which}`) ?? '', 10);
      if (Number.isFinite(wanted)) page = wanted;
    } else if (target === `${R}ctl19` || target === `${R}ctl38`) {
      return renderView(session, view.form ?? defaultForm('searchAnnCons', model.now), action);
    } else if (target === `${R}ctl21` || target === `${R}ctl40`) {
      return renderView(session, defaultForm(view.form?.entry ?? 'searchAnnCons', model.now), action);
    }
    page = Math.min(Math.max(1, page), pageCount);
    return renderView(session, { ...view, page, pageSize }, action);
  }

  function detailView(c: Consultation): DetailView {
    const d = model.details(c);
    const proc = PROCEDURES[c.procedure] ?? PROCEDURES[0];
    const rec = c.real;
    return {
      org: c.org,
      ref: c.ref,
      deadline: frDateTime(c.deadline),
      picto: RESPONSE_PICTOS[c.picto] ?? { src: 'reponse-elec-non.gif', text: '' },
      reference: c.reference,
      object: c.object,
      buyer: c.buyer.full,
      annonce: ANNONCE_LABEL[3] ?? '',
      procedure: proc?.label ?? '',
      passationMode: c.passationMode,
      category: c.category,
      lotCount: c.lotCount,
      places: c.places,
      // Allotted: the amounts are per lot, in the popup; the panel stays with an empty value.
      estimation: c.lotCount > 0 ? '' : c.estimationCents === null ? null : frAmount(c.estimationCents),
      reservedSmall: d.reservedSmall,
      domains: d.domains,
      withdrawal: rec?.adresse_retrait_dossiers ?? c.buyer.withdrawal,
      submission: rec?.adresse_depot_offres ?? c.buyer.submission,
      opening: rec?.lieu_ouverture_plis ?? c.buyer.opening,
      planPrice: d.planPrice,
      caution: c.cautionCents === null ? '-' : `${frAmount(c.cautionCents)} MAD `,
      qualifications: d.qualifications,
      agrements: d.agrements,
      visits: d.visits,
      variant: d.variant,
      contact: d.contact,
      documents: c.notices.map((n) => {
        const kb = 40 + (hash32(n.idAvis) % 900);
        return { idAvis: n.idAvis, label: `${NOTICE_DOC_LABEL[n.type]} - ${kb},${String(hash32('kb', n.idAvis) % 100).padStart(2, '0')} Ko` };
      }),
      dceSize: d.dceSize,
      shapeChanged: shaped('detail'),
    };
  }

  function detail(url: URL, session: Session, setCookie: string[]): Reply {
    const q = url.searchParams;
    const c = model.byKey.get(`${q.get('orgAcronyme') ?? ''}/${q.get('refConsultation') ?? ''}`);
    const visible = c && c.published <= model.now ? c : undefined;
    const body = visible ? detailBody(detailView(visible)) : missingConsultationBody();
    const html = pageShell(chrome, {
      formId: 'ctl0_ctl4',
      action: `${url.pathname}${url.search}`,
      pageState: sessions.issueStatic(session, url.search),
      nowEpochMs: nowEpoch(),
      offsetSeconds: offsetSeconds(),
      body,
      scripts: baseScripts(chrome),
      clientScripts: 'prado,ajax,validator',
    });
    return { status: 200, body: html, headers: setCookie.length ? { 'set-cookie': setCookie } : undefined, fault: visible && shaped('detail') ? 'shape' : undefined };
  }

  function lots(url: URL, session: Session, setCookie: string[]): Reply {
    const q = url.searchParams;
    const org = q.get('orgAccronyme') ?? q.get('orgAcronyme') ?? '';
    const c = model.byKey.get(`${org}/${q.get('refConsultation') ?? ''}`);
    const d = c && c.published <= model.now ? model.details(c) : null;
    const html = lotsPage({
      action: `${url.pathname}${url.search}`,
      pageState: sessions.issueStatic(session, url.search),
      shapeChanged: shaped('lots'),
      lots: (d?.lots ?? []).map((l, i) => {
        // The inferred popup shows NBSP and U+202F separators next to plain spaces; so does this one.
        const sep = i % 3 === 0 ? '\u00a0' : i % 3 === 1 ? '\u202f' : ' ';
        return {
          number: l.number,
          title: l.title,
          category: l.category,
          description: l.description,
          estimation: l.estimationCents === null ? null : frAmount(l.estimationCents, sep),
          caution: l.cautionCents === null ? null : `${frAmount(l.cautionCents)} MAD `,
          qualifications: l.qualifications,
          agrements: l.agrements,
        };
      }),
    });
    return { status: 200, body: html, headers: setCookie.length ? { 'set-cookie': setCookie } : undefined, fault: shaped('lots') ? 'shape' : undefined };
  }

  function noticeDocument(url: URL, setCookie: string[]): Reply {
    const q = url.searchParams;
    const n = model.noticeById.get(q.get('idAvis') ?? '');
    const cookieHeader: Record<string, string | string[]> = setCookie.length ? { 'set-cookie': setCookie } : {};
    if (!n || n.cons.ref !== q.get('refConsultation') || n.cons.org !== q.get('orgAcronyme') || n.published > model.now) {
      return { status: 404, body: pradoErrorPage(404, 'Not Found', "Le document demandé n'existe pas.", frDateTime(model.now)), headers: cookieHeader };
    }
    if (shaped('notice-pdf')) {
      // Some notices answer a download form instead of the file (a public PV downloader skips
      // "not a PDF — form/HTML returned"); the shape knob serves that page for every notice.
      const html = pageShell(chrome, {
        formId: 'ctl0_ctl4',
        action: `${url.pathname}${url.search}`,
        pageState: '',
        nowEpochMs: nowEpoch(),
        offsetSeconds: offsetSeconds(),
        body: '<div class="main-part"><h2>Téléchargement</h2><p>Veuillez vous identifier pour télécharger ce document.</p></div>',
        scripts: baseScripts(chrome),
      });
      return { status: 200, body: html, headers: cookieHeader, fault: 'shape' };
    }
    const pdf = n.sample ? readFileSync(`${model.samplesDir}pdf/${n.sample}`) : noticePdf(model, n);
    const name = n.sample ?? `${n.type}_${n.cons.ref}_${n.idAvis}.pdf`;
    // Served as octet-stream: PDF-ness is only in the %PDF magic bytes (public PV downloader).
    return {
      status: 200,
      body: pdf,
      contentType: 'application/octet-stream',
      headers: { ...cookieHeader, 'content-disposition': `attachment; filename="${name}"` },
    };
  }

  function bdc(url: URL): Reply {
    const q = url.searchParams;
    const F = 'search_consultation_resultats';
    const field = (name: string) => (q.get(`${F}[${name}]`) ?? '').trim();
    const bound = [...q.keys()].some((k) => k.startsWith(`${F}[`)) || q.has('pageSize');
    const sizeRaw = field('pageSize') || (q.get('pageSize') ?? '').trim();
    let pageSize = 10;
    let items: BdcResult[];
    if (bound && !['10', '20', '30', '50'].includes(sizeRaw)) {
      // "pageSize must be on every request. Without it the form binds to nothing and the page
      // returns zero cards" (a public client of the live /bdc/ forms).
      items = [];
    } else {
      if (bound) pageSize = Number(sizeRaw);
      // Dates must be ISO; dd/mm/yyyy is accepted and ignored (same source).
      const from = parseIsoDay(field('dateLimitePublicationStart'));
      const to = parseIsoDay(field('dateLimitePublicationEnd'));
      const keyword = fold(field('keyword'));
      const reference = fold(field('reference'));
      const objet = fold(field('objet'));
      const cat = field('categorie') || field('naturePrestation');
      items = model.bdc.filter(
        (r) =>
          (from === null || startOfDay(r.published) >= from) &&
          (to === null || startOfDay(r.published) <= to) &&
          (!keyword || fold(`${r.reference} ${r.object} ${r.buyer} ${r.winner ?? ''}`).includes(keyword)) &&
          (!reference || fold(r.reference).includes(reference)) &&
          (!objet || fold(r.object).includes(objet)) &&
          (!cat || CATEGORY_VALUE[r.category] === cat || r.category === cat),
      );
      if (knobs.bdcDrift.shuffleTies) {
        // Sorted by day only: within a day the order changes from one request to the next, as
        // on the portal ("one sweep of the 16 pages returns 758 cards but only ~593 distinct").
        const rng = Rng.of(model.seed, 'bdc-order', requestCounter);
        const byDay = new Map<string, BdcResult[]>();
        for (const r of items) {
          const day = isoDay(r.published);
          const list = byDay.get(day) ?? [];
          list.push(r);
          byDay.set(day, list);
        }
        items = [...byDay.values()].flatMap((list) => rng.shuffle(list));
      }
    }
    const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);
    const params = new URLSearchParams(q);
    params.delete('page');
    const html = bdcResultsPage({
      total: items.length,
      page,
      pageSize,
      cards: items.slice((page - 1) * pageSize, page * pageSize),
      baseQuery: params.toString(),
      path: url.pathname,
      shapeChanged: shaped('bdc'),
    });
    if (knobs.bdcDrift.newPerRequest > 0) model.injectBdcResults(knobs.bdcDrift.newPerRequest);
    return { status: 200, body: html, fault: shaped('bdc') ? 'shape' : undefined };
  }

  function classify(url: URL): PageKind {
    if (url.pathname.startsWith('/bdc/')) return 'bdc';
    const page = url.searchParams.get('page') ?? '';
    if (page === 'entreprise.EntrepriseAdvancedSearch') return 'list';
    if (page === 'entreprise.EntrepriseDetailConsultation' || page === 'entreprise.EntrepriseDetailsConsultation') return 'detail';
    if (page === 'commun.PopUpDetailLots') return 'lots';
    if (page === 'entreprise.EntrepriseDownloadAvisJAL') return 'notice-pdf';
    return 'other';
  }

  function route(req: IncomingMessage, url: URL, body: string): { reply: Reply; kind?: PageKind } {
    const path = url.pathname;
    if (path === '/robots.txt') return { reply: { status: 302, body: '', headers: { location: '/' } } };
    if (/^\/bdc\/entreprise\/consultation\/?(resultat\/?)?$/.test(path)) return { reply: bdc(url) };
    if (!PORTAL_PAGES.has(path)) return { reply: { status: 404, body: plainErrorPage(404, 'Not Found').replace('The server is temporarily unable to service your request. Please try again later.', `The requested URL ${path} was not found on this server.`) } };

    // PHP starts a session on every page of the portal.
    const now = Date.now();
    let session = sessions.get(cookie(req, 'PHPSESSID'), now);
    const fresh = !session;
    const setCookie: string[] = [];
    if (!session) {
      session = sessions.newSession(now);
      setCookie.push(`PHPSESSID=${session.id}; path=/; HttpOnly`);
    }
    const page = url.searchParams.get('page');
    switch (page) {
      case 'entreprise.EntrepriseAdvancedSearch': {
        const reply = advancedSearch(req, url, body, session, fresh, setCookie);
        const isForm = reply.status === 200 && typeof reply.body === 'string' && /id="ctl0_CONTENU_PAGE_(AdvancedSearch|RechercheAvancee)_panelContent"/.test(reply.body);
        return { reply, kind: isForm ? 'search-form' : 'list' };
      }
      case 'entreprise.EntrepriseDetailConsultation':
      case 'entreprise.EntrepriseDetailsConsultation':
        return { reply: detail(url, session, setCookie) };
      case 'commun.PopUpDetailLots':
        return { reply: lots(url, session, setCookie) };
      case 'entreprise.EntrepriseDownloadAvisJAL':
        return { reply: noticeDocument(url, setCookie) };
      case null: {
        const html = pageShell(chrome, {
          formId: 'ctl0_ctl2',
          action: `${url.pathname}${url.search}`,
          pageState: sessions.issueStatic(session, 'home'),
          nowEpochMs: nowEpoch(),
          offsetSeconds: offsetSeconds(),
          body: '',
          scripts: baseScripts(chrome),
        });
        return { reply: { status: 200, body: html, headers: setCookie.length ? { 'set-cookie': setCookie } : undefined } };
      }
      default:
        // PRADO's answer for an unknown page: THttpException 404 (pageservice_page_unknown).
        return { reply: { status: 404, body: pradoErrorPage(404, 'Not Found', `Page '${page}' Not Found`, frDateTime(model.now)) } };
    }
  }

  function supportId(n: number): string {
    return `${hash32(model.seed, 'waf', n)}${hash32(model.seed, 'waf2', n)}`.padEnd(20, '7').slice(0, 20);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = Date.now();
    const body = req.method === 'POST' ? await readBody(req) : '';
    requestCounter += 1;
    const n = requestCounter;
    const rng = Rng.of(model.seed, 'request', n);
    const draw = { r429: rng.next(), r5xx: rng.next(), trunc: rng.next(), cut: rng.next(), latency: rng.next(), status: rng.next() };
    let kind = classify(url);
    let reply: Reply;
    let decoded: string;
    try {
      decoded = decodeURIComponent(`${url.pathname}${url.search}`.replace(/\+/g, ' '));
    } catch {
      decoded = `${url.pathname}${url.search}`;
    }
    const ua = req.headers['user-agent'] ?? '';
    if (knobs.wafPattern !== null && new RegExp(knobs.wafPattern, 'i').test(decoded)) {
      reply = { status: 200, body: wafPage(supportId(n)), fault: 'waf' };
    } else if (knobs.blockUserAgents !== null && new RegExp(knobs.blockUserAgents, 'i').test(ua)) {
      reply = { status: 403, body: plainErrorPage(403, 'Forbidden').replace(/<p>[\s\S]*<\/p>/, "<p>You don't have permission to access this resource.</p>"), fault: 'blocked-agent' };
    } else if (draw.r429 < knobs.rate429 || (knobs.rateLimitUserAgents !== null && new RegExp(knobs.rateLimitUserAgents, 'i').test(ua))) {
      reply = {
        status: 429,
        body: plainErrorPage(429, 'Too Many Requests'),
        headers: { 'retry-after': String(knobs.retryAfterSeconds) },
        fault: 'rate-limited',
      };
    } else if (draw.r5xx < knobs.rate5xx) {
      const status = draw.status < 0.5 ? 503 : draw.status < 0.8 ? 502 : 500;
      const title = status === 503 ? 'Service Unavailable' : status === 502 ? 'Bad Gateway' : 'Internal Server Error';
      reply = { status, body: plainErrorPage(status, title), fault: 'server-error' };
    } else {
      const lat = knobs.latencyMs;
      const delay = typeof lat === 'number' ? lat : lat.min + draw.latency * Math.max(0, lat.max - lat.min);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const routed = route(req, url, body);
      reply = routed.reply;
      if (routed.kind) kind = routed.kind;
    }

    const full = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
    let payload = full;
    let reset = false;
    const t = knobs.truncate;
    if (t && reply.status === 200 && !reply.fault && (!t.kinds || t.kinds.includes(kind)) && draw.trunc < t.rate && full.length > 64) {
      // Cut between a quarter and three quarters of the body: mid-page for HTML, mid-stream for a PDF.
      payload = full.subarray(0, Math.floor(full.length * (0.25 + draw.cut * 0.5)));
      reply = { ...reply, fault: 'truncated' };
      reset = t.mode === 'reset';
    }

    const headers: Record<string, string | string[] | number> = {
      'content-type': reply.contentType ?? HTML,
      // A reset announces the whole body and sends part of it: the client sees the connection drop.
      'content-length': reset ? full.length : payload.length,
      server: 'Apache',
      ...reply.headers,
    };
    res.writeHead(reply.status, headers);
    if (reset) {
      res.write(payload, () => res.destroy());
    } else {
      res.end(payload);
    }

    const ks = stats.byKind[kind];
    ks.requests += 1;
    ks.byStatus[String(reply.status)] = (ks.byStatus[String(reply.status)] ?? 0) + 1;
    ks.bytes += payload.length;
    switch (reply.fault) {
      case 'rate-limited':
        ks.faults.rateLimited += 1;
        break;
      case 'server-error':
        ks.faults.serverError += 1;
        break;
      case 'truncated':
        ks.faults.truncated += 1;
        break;
      case 'waf':
        ks.faults.waf += 1;
        break;
      case 'shape':
        ks.faults.shapeChanged += 1;
        break;
      case 'blocked-agent':
        ks.faults.blockedAgent += 1;
        break;
      default:
        break;
    }
    stats.requests += 1;
    stats.log.push({
      at: new Date().toISOString(),
      receivedAt: started,
      agent: ua,
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`.slice(0, 300),
      kind,
      status: reply.status,
      bytes: payload.length,
      ms: Date.now() - started,
      fault: reply.fault ?? null,
    });
    if (stats.log.length > 1_000) stats.log.splice(0, stats.log.length - 1_000);
  }

  const setKnobs = (input: PortalKnobsInput): PortalKnobs => {
    knobs = normalizeKnobs(input, knobs);
    searchCache.clear();
    return knobs;
  };
  const currentStats = (): PortalStats => ({ ...structuredClone(stats), sessions: sessions.size });

  async function control(req: IncomingMessage, url: URL): Promise<Reply> {
    const path = url.pathname;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (path === '/__replica/health') return json(200, { status: 'ok', today: model.today, now: model.isoNow, seed: model.seed });
    if (path === '/__replica/knobs') {
      if (method === 'GET') return json(200, knobs);
      if (method === 'DELETE') {
        knobs = initialKnobs;
        searchCache.clear();
        return json(200, knobs);
      }
      if (method !== 'POST') return json(405, { error: 'Method Not Allowed' });
      try {
        return json(200, setKnobs(JSON.parse((await readBody(req)) || '{}') as PortalKnobsInput));
      } catch (e) {
        return json(400, { error: 'Bad Request', message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (path === '/__replica/stats') return json(200, currentStats());
    if (path === '/__replica/stats/reset' && method === 'POST') {
      stats = freshStats();
      return json(200, { ok: true });
    }
    const filter = {
      ...(q.get('publishedFrom') ? { publishedFrom: q.get('publishedFrom') as string } : {}),
      ...(q.get('publishedTo') ? { publishedTo: q.get('publishedTo') as string } : {}),
    };
    const oracle = model.oracle;
    if (path === '/__replica/oracle/summary') return json(200, oracle.summary());
    if (path === '/__replica/oracle/consultations') return json(200, oracle.consultations({ ...filter, open: q.get('open') === 'true' }));
    if (path === '/__replica/oracle/notices') {
      const type = q.get('type');
      if (type !== 'pv' && type !== 'resultat' && type !== 'achevement') return json(400, { error: 'type must be pv, resultat or achevement' });
      return json(200, oracle.notices(type, filter));
    }
    if (path === '/__replica/oracle/bdc') return json(200, oracle.bdcResults(filter));
    return json(404, { error: 'Not Found', message: `no replica control route ${path}` });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    const fail = (e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = plainErrorPage(500, 'Internal Server Error').replace('</body>', `<!-- ${String(e).replace(/--/g, '- -')} --></body>`);
      res.writeHead(500, { 'content-type': HTML, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (url.pathname.startsWith('/__replica/')) {
      control(req, url).then((reply) => {
        const text = typeof reply.body === 'string' ? reply.body : reply.body.toString('utf8');
        res.writeHead(reply.status, { 'content-type': reply.contentType ?? JSON_TYPE, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }, fail);
      return;
    }
    serve(req, res, url).catch(fail);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    oracle: model.oracle,
    model,
    setKnobs,
    knobs: () => knobs,
    stats: currentStats,
    resetStats: () => {
      stats = freshStats();
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
