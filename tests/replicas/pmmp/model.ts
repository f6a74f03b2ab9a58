/**
 * The replica's portal data: the real consultation records of samples/pmmp/ (de-duplicated:
 * consultations-detail-records.jsonl holds 608 lines for 498 distinct consultations) plus
 * generated ones up to the configured volume, their lots, notices (extrait de PV, résultat
 * définitif, rapport d'achèvement), attributions, and /bdc/ purchase-order results.
 *
 * Only a skeleton per consultation is built at start-up (dates, key, buyer, list texts); lots,
 * attributions and notice documents are rebuilt on demand from (seed, index), so a large
 * portal starts in well under a second and costs a few hundred bytes per record.
 *
 * The oracle (`PortalModel.oracle`, or `buildPortalOracle`) gives the ground truth in the
 * normalized form of schema/pmmp/items.ts, so a test can check a crawl found everything once.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import {
  DAY_MS,
  MINUTE_MS,
  addDays,
  frDate,
  isoDateTime,
  isoDay,
  localMs,
  localOfInstant,
  parseFrDateTime,
  startOfDay,
  weekday,
  type LocalMs,
} from './clock';
import { Rng, hash32 } from './rng';
import { buyerCode, buyerDenomination, centsOf, decimalAmount, fold, squash } from './text';
import {
  AGREMENTS,
  BDC_OBJECTS,
  CATEGORIES,
  DOMAINS,
  PASSATION_MODES,
  PLACES,
  PROCEDURES,
  QUALIFICATIONS,
  RESPONSE_PICTOS,
  companyName,
  lotTitleFor,
  objectFor,
  type Category,
} from './vocab';

export type NoticeType = 'pv' | 'resultat' | 'achevement';
export const NOTICE_TYPES: readonly NoticeType[] = ['pv', 'resultat', 'achevement'];
/** Values of the advanced form's `annonceType` select (legacy-advanced-search-form.excerpt.html). */
export const ANNONCE_TYPE: Record<NoticeType, number> = { resultat: 4, pv: 5, achevement: 6 };
export const ANNONCE_LABEL: Record<number, string> = {
  3: 'Annonce de consultation',
  4: 'Annonce de résultat définitif',
  5: "Annonce d'extrait de PV",
  6: "Annonce de rapport d'achèvement",
};
/** Document labels, as the detail page's download links title them ("Extrait de PV - 716,79 Ko"). */
export const NOTICE_DOC_LABEL: Record<NoticeType, string> = {
  pv: 'Extrait de PV',
  resultat: 'Résultat définitif',
  achevement: "Rapport d'achèvement",
};

export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../fixtures/samples/pmmp/', import.meta.url));

export interface PortalDataOptions {
  /** Everything generated derives from it. Default 1. */
  seed?: number | string;
  /** Total consultations, real ones included (never fewer than the real ones). Default 20,000. */
  consultations?: number;
  /** The portal's current day, `YYYY-MM-DD` in Casablanca; "now" is 12:00 that day. Default: today. */
  today?: string;
  /** Years of history before `today`. Default 3. */
  years?: number;
  /** /bdc/ results over the last year. Default 4,000. */
  bdcResults?: number;
  /** Directory of samples/pmmp (records, PDFs, HTML). Default: tests/fixtures/samples/pmmp (a copy of the real samples kept in the repository). */
  samplesDir?: string;
}

interface RealRecord {
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

export interface Buyer {
  org: string;
  /** `MINISTRY / CODE - NAME`, as the detail page shows it. */
  full: string;
  /** `NAME`, as lists show it. */
  name: string;
  code: string;
  opening: string;
  withdrawal: string;
  submission: string;
  /** How this buyer numbers its consultations. */
  refStyle: number;
}

export interface Notice {
  type: NoticeType;
  idAvis: string;
  published: LocalMs;
  cons: Consultation;
  /** File name of a real sample PDF served for this notice, if any. */
  sample: string | null;
}

/** What every list, filter and sort needs; built for every consultation at start-up. */
export interface Consultation {
  /** Position in publication order; also the generator index of its details. */
  index: number;
  real: RealRecord | null;
  org: string;
  ref: string;
  refNum: number;
  published: LocalMs;
  deadline: LocalMs;
  category: Category;
  buyer: Buyer;
  procedure: number;
  passationMode: string;
  reference: string;
  object: string;
  places: string[];
  lotCount: number;
  picto: number;
  estimationCents: number | null;
  cautionCents: number | null;
  notices: Notice[];
}

export interface Lot {
  number: number;
  title: string;
  category: Category;
  description: string | null;
  estimationCents: number | null;
  cautionCents: number | null;
  qualifications: string[];
  agrements: string[];
}

export interface Bid {
  name: string;
  amountCents: number | null;
  /** `ecarte`: out after the administrative/technical review, no amount read. */
  status: 'retenu' | 'admis' | 'ecarte' | 'excessive';
}

export interface LotAward {
  lotNumber: number;
  status: 'attribue' | 'infructueux';
  winner: string | null;
  amountCents: number | null;
  bids: Bid[];
  reason: string | null;
}

export interface ConsultationDetails {
  planPrice: string;
  variant: 'Oui' | 'Non' | '';
  reservedSmall: 'Oui' | 'Non';
  visits: { at: string; place: string }[];
  qualifications: string[];
  agrements: string[];
  domains: string[];
  lots: Lot[];
  openingAt: LocalMs;
  commissionEnd: LocalMs;
  /** Per lot (lot 1 for a single-lot consultation); empty while no award notice is out. */
  awards: LotAward[];
  /** Achèvement: when the works ended and the final amount. */
  completion: { at: LocalMs; amountCents: number } | null;
  contact: { name: string; email: string; phone: string; fax: string };
  dceSize: string;
}

// ------------------------------------------------------------------------------------------
// Oracle types: normalized like schema/pmmp/items.ts (amounts '123.45', ISO dates with offset).
// ------------------------------------------------------------------------------------------

export interface OracleLot {
  lotNumber: number;
  object: string;
  category: string;
  description: string | null;
  estimationTtc: string | null;
  cautionProvisoire: string | null;
  qualifications: string[];
  agrements: string[];
}

export interface OracleNotice {
  type: NoticeType;
  annonceType: number;
  idAvis: string;
  publishedOn: string;
  publishedAt: string;
  /** Path and query on the replica. */
  url: string;
  /** A real sample PDF (its award text belongs to another tender) or a generated text PDF. */
  document: { kind: 'sample'; file: string; sha256: string } | { kind: 'generated' };
}

export interface OracleBid {
  name: string;
  amount: string | null;
  status: Bid['status'];
}

export interface OracleAttribution {
  lotNumber: number;
  status: 'attribue' | 'infructueux';
  winner: string | null;
  amount: string | null;
  bidderCount: number;
  bids: OracleBid[];
}

export interface OracleConsultation {
  orgAcronyme: string;
  refConsultation: string;
  source: 'real' | 'generated';
  reference: string;
  object: string;
  buyer: string;
  buyerName: string;
  procedure: string;
  procedureCode: string;
  passationMode: string;
  category: string;
  executionPlace: string;
  publishedOn: string;
  publishedAt: string;
  deadline: string;
  open: boolean;
  estimationTtc: string | null;
  cautionProvisoire: string | null;
  variantAllowed: boolean | null;
  reservedForSmallBusiness: boolean;
  siteVisits: string[];
  allotted: boolean;
  lotCount: number | null;
  lots: OracleLot[];
  notices: OracleNotice[];
  /** Null when an award notice is a real sample PDF of another tender (truth unknown). */
  attributions: OracleAttribution[] | null;
  /** Path and query of the detail page on the replica. */
  detailUrl: string;
}

export interface OracleNoticeRow extends OracleNotice {
  orgAcronyme: string;
  refConsultation: string;
  reference: string;
}

export interface OracleBdcResult {
  id: number;
  reference: string;
  object: string;
  buyer: string;
  category: string;
  resultPublishedAt: string;
  bidCount: number | null;
  outcome: 'attribue' | 'infructueux';
  winner: string | null;
  amountTtc: string | null;
  /** Appeared during the run (the drift knob). */
  injected: boolean;
}

export interface OracleFilter {
  /** Inclusive calendar days `YYYY-MM-DD` on the publication date. */
  publishedFrom?: string;
  publishedTo?: string;
  /** Only consultations whose deadline is after "now". */
  open?: boolean;
}

export interface PortalOracle {
  readonly today: string;
  /** The replica's "now", ISO with offset. */
  readonly now: string;
  summary(): OracleSummary;
  /** Consultations, in the order the portal lists them (deadline newest first, then refConsultation). */
  consultations(filter?: OracleFilter): OracleConsultation[];
  consultation(orgAcronyme: string, refConsultation: string): OracleConsultation | undefined;
  /** Notices of one type, in list order (publication newest first). */
  notices(type: NoticeType, filter?: Omit<OracleFilter, 'open'>): OracleNoticeRow[];
  /** /bdc/ results, newest first, injected ones included. */
  bdcResults(filter?: Omit<OracleFilter, 'open'>): OracleBdcResult[];
}

export interface OracleSummary {
  consultations: number;
  realConsultations: number;
  realRecordLines: number;
  open: number;
  allotted: number;
  notices: Record<NoticeType, number>;
  samplePdfNotices: number;
  bdcResults: number;
  firstPublished: string;
  lastPublished: string;
}

export interface BdcResult {
  id: number;
  reference: string;
  object: string;
  buyer: string;
  category: Category;
  published: LocalMs;
  bidCount: number | null;
  outcome: 'attribue' | 'infructueux';
  winner: string | null;
  amountCents: number | null;
  injected: boolean;
}

const PROCEDURE_WEIGHTS = PROCEDURES.map((p, i) => [i, p.weight] as const);

const CATEGORY_RANGE: Record<Category, [number, number]> = {
  Travaux: [300_000, 60_000_000],
  Fournitures: [60_000, 15_000_000],
  Services: [80_000, 8_000_000],
};

/** Real samples of the PDF folder, by kind. */
function samplePdfs(dir: string): { pv: string[]; resultat: string[] } {
  let files: string[] = [];
  try {
    files = readdirSync(`${dir}pdf`).sort();
  } catch {
    files = [];
  }
  return { pv: files.filter((f) => f.startsWith('pv-')), resultat: files.filter((f) => f.startsWith('resultat-')) };
}

function workingDay(lm: LocalMs): LocalMs {
  let d = lm;
  while (weekday(d) === 0 || weekday(d) === 6) d = addDays(d, 1);
  return d;
}

function roundCents(value: number, step: number): number {
  return Math.max(step, Math.round(value / step) * step) * 100;
}

export class PortalModel {
  readonly seed: string;
  readonly today: string;
  /** 12:00 of `today` in Casablanca. */
  readonly now: LocalMs;
  readonly samplesDir: string;
  readonly realRecordLines: number;
  readonly buyers: Buyer[];
  /** In publication order. */
  readonly all: Consultation[];
  /** Deadline newest first, then refConsultation ascending: the portal's list order (legacy-results-list.html). */
  readonly byDeadline: Consultation[];
  readonly byKey = new Map<string, Consultation>();
  readonly noticesByType: Record<NoticeType, Notice[]>;
  readonly noticeById = new Map<string, Notice>();
  readonly bdc: BdcResult[] = [];
  readonly samples: { pv: string[]; resultat: string[] };
  private readonly detailsCache = new Map<number, ConsultationDetails>();
  private readonly searchTexts: (string | undefined)[] = [];
  private readonly sampleHashes = new Map<string, string>();
  private bdcInjected = 0;

  constructor(opts: PortalDataOptions = {}) {
    this.seed = String(opts.seed ?? 1);
    this.samplesDir = (opts.samplesDir ?? DEFAULT_SAMPLES_DIR).replace(/\/?$/, '/');
    this.today = opts.today ?? isoDay(localOfInstant(Date.now()));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(this.today)) throw new Error(`today must be YYYY-MM-DD, got ${JSON.stringify(this.today)}`);
    const [ty, tm, td] = this.today.split('-').map(Number) as [number, number, number];
    this.now = localMs(ty, tm, td, 12, 0);
    const years = opts.years ?? 3;
    this.samples = samplePdfs(this.samplesDir);

    const lines = readFileSync(`${this.samplesDir}consultations-detail-records.jsonl`, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    this.realRecordLines = lines.length;
    const realByKey = new Map<string, RealRecord>();
    for (const line of lines) {
      const rec = JSON.parse(line) as RealRecord;
      const key = `${rec.orgAcronyme}/${rec.refConsultation}`;
      if (!realByKey.has(key)) realByKey.set(key, rec);
    }
    const reals = [...realByKey.values()];

    // Buyers: every (org, entité publique) of the real records, with the addresses they print.
    const buyerByKey = new Map<string, Buyer>();
    for (const rec of reals) {
      const k = `${rec.orgAcronyme}|${rec.entite_publique}`;
      if (buyerByKey.has(k)) continue;
      buyerByKey.set(k, {
        org: rec.orgAcronyme,
        full: squash(rec.entite_publique),
        name: buyerDenomination(squash(rec.entite_publique)),
        code: buyerCode(rec.entite_publique),
        opening: rec.lieu_ouverture_plis,
        withdrawal: rec.adresse_retrait_dossiers,
        submission: rec.adresse_depot_offres,
        refStyle: hash32(this.seed, 'style', k) % 4,
      });
    }
    this.buyers = [...buyerByKey.values()];

    const total = Math.max(opts.consultations ?? 20_000, reals.length);
    const firstDay = startOfDay(addDays(this.now, -Math.round(365.25 * years)));
    const span = Math.floor((startOfDay(this.now) - firstDay) / DAY_MS) + 1;
    const cons: Consultation[] = [];

    // Real records keep their own dates; they were open on 2025-10-27 (scraped_at), so they
    // were published before then.
    const scrapedAt = localMs(2025, 10, 27, 16, 0);
    for (const rec of reals) {
      const deadline = parseFrDateTime(rec.date_limite);
      if (deadline === null) continue;
      const rng = Rng.of(this.seed, 'real', rec.orgAcronyme, rec.refConsultation);
      const earliest = Math.min(scrapedAt, deadline) - rng.int(20, 50) * DAY_MS;
      const published = workingDay(startOfDay(earliest)) + (rng.int(8 * 60 + 30, 17 * 60 + 45) * MINUTE_MS);
      if (published > this.now) continue; // not yet published on this replica's "today"
      const [procLabel, mode] = rec.type_procedure.split(' | ');
      let procedure = PROCEDURES.findIndex((p) => p.label === procLabel);
      if (procedure < 0) procedure = 0;
      const buyer = buyerByKey.get(`${rec.orgAcronyme}|${rec.entite_publique}`) as Buyer;
      cons.push({
        index: 0,
        real: rec,
        org: rec.orgAcronyme,
        ref: rec.refConsultation,
        refNum: Number(rec.refConsultation),
        published,
        deadline,
        category: (CATEGORIES as readonly string[]).includes(rec.categorie) ? (rec.categorie as Category) : 'Services',
        buyer,
        procedure,
        passationMode: mode ?? PASSATION_MODES[0],
        reference: rec.ref,
        object: rec.objet,
        places: rec.lieu_execution.split(', ').map((p) => p.trim()).filter(Boolean),
        lotCount: 0,
        picto: rng.int(0, RESPONSE_PICTOS.length - 1),
        estimationCents: centsOf(rec.estimation_ttc),
        cautionCents: centsOf(rec.caution_provisoire),
        notices: [],
      });
    }
    const realRefs = new Set(cons.map((c) => c.refNum));

    // Generated skeletons, spread over working days of the window.
    const generated: { published: LocalMs; gi: number }[] = [];
    const nGen = total - cons.length;
    for (let gi = 0; gi < nGen; gi++) {
      const rng = Rng.of(this.seed, 'sk', gi);
      let day = workingDay(addDays(firstDay, Math.floor(rng.next() * span)));
      if (day > startOfDay(this.now)) day = startOfDay(this.now);
      let published = day + rng.int(8 * 60 + 30, 18 * 60) * MINUTE_MS;
      if (published > this.now) published = this.now - rng.int(1, 180) * MINUTE_MS;
      generated.push({ published, gi });
    }
    generated.sort((a, b) => a.published - b.published || a.gi - b.gi);

    // refConsultation grows with publication time, about ten ids per consultation shown (other
    // objects share the sequence); around October 2025 it reaches the real records' 900k-945k.
    const anchor = localMs(2025, 10, 1);
    const anchorPos = generated.findIndex((g) => g.published >= anchor);
    let next = 930_000 - 10 * (anchorPos < 0 ? generated.length : anchorPos);
    if (next < 100_000) next = 100_000;
    const refCounters = new Map<string, number>();
    for (const { published, gi } of generated) {
      const rng = Rng.of(this.seed, 'gen', gi);
      next += rng.int(1, 19);
      while (realRefs.has(next)) next += 1;
      const buyer = rng.pick(this.buyers);
      const category = rng.weighted<Category>([
        ['Travaux', 30],
        ['Fournitures', 37],
        ['Services', 33],
      ]);
      const procedure = rng.weighted(PROCEDURE_WEIGHTS);
      const nPlaces = rng.weighted<number>([
        [1, 80],
        [2, 14],
        [3, 6],
      ]);
      const places: string[] = [];
      while (places.length < nPlaces) {
        const p = rng.pick(PLACES);
        if (!places.includes(p)) places.push(p);
      }
      const year = new Date(published).getUTCFullYear();
      const counterKey = `${buyer.org}|${buyer.full}|${year}`;
      const n = (refCounters.get(counterKey) ?? 0) + 1;
      refCounters.set(counterKey, n);
      const deadlineDay = workingDay(addDays(startOfDay(published), rng.weighted<number>([
        [rng.int(10, 20), 2],
        [rng.int(21, 35), 6],
        [rng.int(36, 60), 2],
      ])));
      const deadline = deadlineDay + rng.pick([9 * 60, 9 * 60 + 30, 10 * 60, 10 * 60 + 30, 11 * 60, 12 * 60, 14 * 60, 15 * 60]) * MINUTE_MS;
      const [lo, hi] = CATEGORY_RANGE[category];
      const estimate = rng.logUniform(lo, hi);
      const estimationCents = rng.chance(0.83) ? roundCents(estimate, 100) + (rng.chance(0.2) ? rng.int(1, 99) : 0) : null;
      const cautionCents = roundCents(estimate * rng.pick([0.01, 0.015, 0.02]), 1000);
      const lotCount = category !== 'Services' && rng.chance(0.13) ? rng.int(2, 5) : category === 'Services' && rng.chance(0.05) ? 2 : 0;
      cons.push({
        index: 0,
        real: null,
        org: buyer.org,
        ref: String(next),
        refNum: next,
        published,
        deadline,
        category,
        buyer,
        procedure,
        passationMode: rng.chance(0.94) ? PASSATION_MODES[0] : PASSATION_MODES[1],
        reference: referenceFor(buyer, n, year, rng),
        object: objectFor(rng, category, places[0] ?? 'RABAT', buyer.name),
        places,
        lotCount,
        picto: rng.int(0, RESPONSE_PICTOS.length - 1),
        estimationCents: lotCount > 0 ? null : estimationCents,
        cautionCents: lotCount > 0 ? null : cautionCents,
        notices: [],
      });
    }

    cons.sort((a, b) => a.published - b.published || a.refNum - b.refNum);
    cons.forEach((c, i) => {
      c.index = i;
      this.byKey.set(`${c.org}/${c.ref}`, c);
    });
    this.all = cons;
    this.byDeadline = [...cons].sort((a, b) => b.deadline - a.deadline || a.refNum - b.refNum);

    // Notices of closed consultations, numbered (idAvis) in publication order.
    const notices: Notice[] = [];
    for (const c of cons) {
      if (c.deadline >= this.now) continue;
      const rng = Rng.of(this.seed, 'notices', c.org, c.ref);
      let pvAt: LocalMs | null = null;
      if (rng.chance(0.72)) {
        pvAt = workingDay(addDays(startOfDay(c.deadline), rng.int(2, 25))) + rng.int(9 * 60, 17 * 60) * MINUTE_MS;
        if (pvAt <= this.now) notices.push({ type: 'pv', idAvis: '', published: pvAt, cons: c, sample: null });
      }
      if (rng.chance(0.42)) {
        const from = pvAt ?? addDays(c.deadline, rng.int(4, 12));
        const at = workingDay(addDays(startOfDay(from), rng.int(3, 30))) + rng.int(9 * 60, 17 * 60) * MINUTE_MS;
        if (at <= this.now) notices.push({ type: 'resultat', idAvis: '', published: at, cons: c, sample: null });
      }
      if (rng.chance(0.1)) {
        const at = workingDay(addDays(startOfDay(c.deadline), rng.int(150, 500))) + rng.int(9 * 60, 17 * 60) * MINUTE_MS;
        if (at <= this.now) notices.push({ type: 'achevement', idAvis: '', published: at, cons: c, sample: null });
      }
    }
    notices.sort((a, b) => a.published - b.published || a.cons.refNum - b.cons.refNum || NOTICE_TYPES.indexOf(a.type) - NOTICE_TYPES.indexOf(b.type));
    let avis = 400_000;
    for (const n of notices) {
      avis += 1 + (hash32(this.seed, 'avis', n.cons.ref, n.type) % 7);
      n.idAvis = String(avis);
      n.cons.notices.push(n);
      this.noticeById.set(n.idAvis, n);
    }
    // The real PDFs go to the notices of real consultations (by refConsultation), then to the
    // oldest generated ones.
    for (const type of ['pv', 'resultat'] as const) {
      const files = [...this.samples[type]];
      const real = notices.filter((n) => n.type === type && n.cons.real).sort((a, b) => a.cons.refNum - b.cons.refNum);
      for (const n of [...real, ...notices.filter((n) => n.type === type && !n.cons.real).slice(0, files.length)]) {
        const file = files.shift();
        if (!file) break;
        n.sample = file;
      }
    }
    // `notices` is in publication order with increasing idAvis: newest first is its reverse.
    const byType = (t: NoticeType) => notices.filter((n) => n.type === t).reverse();
    this.noticesByType = { pv: byType('pv'), resultat: byType('resultat'), achevement: byType('achevement') };

    this.buildBdc(opts.bdcResults ?? 4_000);
  }

  get isoNow(): string {
    return isoDateTime(this.now);
  }

  /** Folded reference and object, for the keyword search; built the first time a search needs it. */
  searchText(c: Consultation): string {
    let t = this.searchTexts[c.index];
    if (t === undefined) {
      t = fold(`${c.reference} ${c.object}`);
      this.searchTexts[c.index] = t;
    }
    return t;
  }

  isOpen(c: Consultation): boolean {
    return c.deadline >= this.now;
  }

  // ----------------------------------------------------------------------------------------
  // Details, rebuilt on demand.
  // ----------------------------------------------------------------------------------------

  details(c: Consultation): ConsultationDetails {
    const cached = this.detailsCache.get(c.index);
    if (cached) {
      // Most recently used last, so the oldest entry is the first one to evict.
      this.detailsCache.delete(c.index);
      this.detailsCache.set(c.index, cached);
      return cached;
    }
    const d = this.buildDetails(c);
    this.detailsCache.set(c.index, d);
    if (this.detailsCache.size > 4_000) {
      const oldest = this.detailsCache.keys().next().value;
      if (oldest !== undefined) this.detailsCache.delete(oldest);
    }
    return d;
  }

  private buildDetails(c: Consultation): ConsultationDetails {
    const rng = Rng.of(this.seed, 'details', c.org, c.ref);
    const rec = c.real;
    const lots: Lot[] = [];
    for (let n = 1; n <= c.lotCount; n++) {
      const [lo, hi] = CATEGORY_RANGE[c.category];
      const est = rng.logUniform(lo / 3, hi / 3);
      lots.push({
        number: n,
        title: lotTitleFor(rng, c.category, n),
        category: c.category,
        description: rng.chance(0.5) ? `Lot n° ${n} : ${c.places[0] ?? ''} et environs` : null,
        estimationCents: rng.chance(0.9) ? roundCents(est, 100) : null,
        cautionCents: rng.chance(0.85) ? roundCents(est * 0.015, 1000) : null,
        qualifications: c.category === 'Travaux' && rng.chance(0.5) ? [rng.pick(QUALIFICATIONS)] : [],
        agrements: rng.chance(0.15) ? [rng.pick(AGREMENTS)] : [],
      });
    }
    let visits: { at: string; place: string }[] = [];
    if (rec?.visites_lieux) {
      const parts = rec.visites_lieux.split(/(\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}) , /).slice(1);
      for (let i = 0; i < parts.length; i += 2) visits.push({ at: parts[i] ?? '', place: parts[i + 1] ?? '' });
    } else if (!rec && rng.chance(0.15)) {
      const at = workingDay(addDays(startOfDay(c.deadline), -rng.int(6, 12))) + 10 * 60 * MINUTE_MS;
      visits = [{ at: `${frDate(at)} 10:00`, place: `Siège de ${c.buyer.name}, ${c.places[0] ?? ''}` }];
    }
    const openingAt = c.deadline;
    const commissionEnd = workingDay(addDays(startOfDay(openingAt), rng.int(0, 8))) + rng.int(11 * 60, 17 * 60) * MINUTE_MS;

    const awardNotice = c.notices.find((n) => n.type !== 'achevement');
    const awards = awardNotice ? this.buildAwards(c, lots) : [];
    const achevement = c.notices.find((n) => n.type === 'achevement');
    const retained = awards.filter((a) => a.amountCents !== null).reduce((s, a) => s + (a.amountCents ?? 0), 0);
    // Its own generator: whether an achèvement exists depends on "today", the rest must not.
    const rc = Rng.of(this.seed, 'completion', c.org, c.ref);
    const completion = achevement
      ? { at: startOfDay(achevement.published) - rc.int(10, 60) * DAY_MS, amountCents: Math.round((retained || (c.estimationCents ?? 100_000_00)) * (0.9 + rc.next() * 0.2)) }
      : null;
    const slug = c.buyer.code.toLowerCase();
    return {
      planPrice: rng.weighted<string>([
        ['-', 5],
        ['0,00 MAD ', 4],
        ['200,00 MAD ', 1],
      ]),
      variant: rec ? (rec.variante_autorisee as 'Oui' | 'Non' | '') : rng.weighted<'Oui' | 'Non' | ''>([
        ['Non', 92],
        ['Oui', 3],
        ['', 5],
      ]),
      reservedSmall: rng.chance(0.15) ? 'Oui' : 'Non',
      visits,
      qualifications: c.category === 'Travaux' && c.lotCount === 0 && rng.chance(0.4) ? [rng.pick(QUALIFICATIONS)] : [],
      agrements: c.lotCount === 0 && rng.chance(0.1) ? [rng.pick(AGREMENTS)] : [],
      domains: rng.chance(0.7) ? [rng.pick(DOMAINS[c.category])] : [],
      lots,
      openingAt,
      commissionEnd,
      awards,
      completion,
      // Placeholders: the replica prints a contact block, as the portal does, with nobody's data.
      contact: {
        name: 'Service des marchés',
        email: `marches@${slug}.example.ma`,
        phone: '05 37 00 00 00',
        fax: '05 37 00 00 01',
      },
      dceSize: `${rng.int(1, 140)},${String(rng.int(0, 99)).padStart(2, '0')} Mo`,
    };
  }

  private buildAwards(c: Consultation, lots: Lot[]): LotAward[] {
    const rng = Rng.of(this.seed, 'awards', c.org, c.ref);
    const units = lots.length ? lots.map((l) => ({ n: l.number, base: l.estimationCents })) : [{ n: 1, base: c.estimationCents }];
    const pool: string[] = [];
    const nPool = rng.int(3, 10);
    while (pool.length < nPool) {
      const name = rng.chance(0.05) ? `GROUPEMENT ${companyName(rng)} / ${companyName(rng)}` : companyName(rng);
      if (!pool.includes(name)) pool.push(name);
    }
    return units.map(({ n, base }) => {
      const [lo, hi] = CATEGORY_RANGE[c.category];
      const ref = base ?? roundCents(rng.logUniform(lo, hi) / (lots.length || 1), 100);
      const count = rng.weighted<number>([
        [0, 6],
        [1, 14],
        [2, 18],
        [3, 20],
        [4, 15],
        [5, 11],
        [6, 7],
        [7, 5],
        [8, 4],
      ]);
      const names = rng.shuffle([...pool]).slice(0, Math.min(count, pool.length));
      const bids: Bid[] = names.map((name) =>
        rng.chance(0.18)
          ? { name, amountCents: null, status: 'ecarte' as const }
          : { name, amountCents: Math.round(ref * (0.72 + rng.next() * 0.55)), status: 'admis' as const },
      );
      const admissible = bids.filter((b) => b.status === 'admis');
      if (admissible.length === 0) {
        return { lotNumber: n, status: 'infructueux' as const, winner: null, amountCents: null, bids, reason: count === 0 ? 'aucune offre' : 'aucune offre admissible' };
      }
      if (rng.chance(0.06)) {
        for (const b of admissible) b.status = 'excessive';
        return { lotNumber: n, status: 'infructueux' as const, winner: null, amountCents: null, bids, reason: 'offres jugées excessives' };
      }
      const best = admissible.reduce((a, b) => ((b.amountCents ?? Infinity) < (a.amountCents ?? Infinity) ? b : a));
      best.status = 'retenu';
      return { lotNumber: n, status: 'attribue' as const, winner: best.name, amountCents: best.amountCents, bids, reason: null };
    });
  }

  // ----------------------------------------------------------------------------------------
  // /bdc/ results.
  // ----------------------------------------------------------------------------------------

  private buildBdc(count: number): void {
    const first = startOfDay(addDays(this.now, -365));
    const items: BdcResult[] = [];
    for (let i = 0; i < count; i++) items.push(this.bdcResult(i, first + Math.floor(Rng.of(this.seed, 'bdc-day', i).next() * 366) * DAY_MS, false));
    items.sort((a, b) => b.published - a.published || b.id - a.id);
    this.bdc.push(...items);
  }

  private bdcResult(i: number, day: LocalMs, injected: boolean): BdcResult {
    const rng = Rng.of(this.seed, 'bdc', i);
    const d = workingDay(day);
    let published = d + rng.int(8 * 60 + 30, 17 * 60 + 30) * MINUTE_MS;
    if (!injected && published > this.now) published = this.now - rng.int(1, 200) * MINUTE_MS;
    const buyer = rng.pick(this.buyers);
    const category = rng.pick(CATEGORIES);
    const infructueux = rng.chance(0.15);
    const year = new Date(published).getUTCFullYear();
    const n = rng.int(1, 120);
    const reference = rng.weighted<string>([
      [`BCN${n}/${year}`, 3],
      [`${String(n).padStart(2, '0')}/${year}`, 3],
      [`BC ${n}/${year}/${buyer.code}`, 2],
      [`${n}/${buyer.code}/${year}`, 1],
    ]);
    return {
      id: 700_000 + i,
      reference,
      object: rng.pick(BDC_OBJECTS),
      buyer: buyer.name,
      category,
      published,
      bidCount: infructueux ? null : rng.int(1, 9),
      outcome: infructueux ? 'infructueux' : 'attribue',
      winner: infructueux ? null : companyName(rng),
      amountCents: infructueux ? null : roundCents(rng.logUniform(2_000, 250_000), 10) + rng.int(0, 1) * rng.int(1, 99),
      injected,
    };
  }

  /** New results published "now", on top of the list: the drift between two page requests. */
  injectBdcResults(count: number): BdcResult[] {
    const added: BdcResult[] = [];
    for (let k = 0; k < count; k++) {
      const i = 1_000_000 + this.bdcInjected++;
      const r = this.bdcResult(i, startOfDay(this.now), true);
      r.published = this.now + this.bdcInjected * MINUTE_MS;
      added.push(r);
    }
    this.bdc.unshift(...added.reverse());
    return added;
  }

  // ----------------------------------------------------------------------------------------
  // Oracle.
  // ----------------------------------------------------------------------------------------

  sampleSha256(file: string): string {
    let h = this.sampleHashes.get(file);
    if (!h) {
      h = createHash('sha256').update(readFileSync(`${this.samplesDir}pdf/${file}`)).digest('hex');
      this.sampleHashes.set(file, h);
    }
    return h;
  }

  noticeUrl(n: Notice): string {
    return `/index.php?page=entreprise.EntrepriseDownloadAvisJAL&refConsultation=${n.cons.ref}&orgAcronyme=${n.cons.org}&idAvis=${n.idAvis}`;
  }

  oracleNotice(n: Notice): OracleNotice {
    return {
      type: n.type,
      annonceType: ANNONCE_TYPE[n.type],
      idAvis: n.idAvis,
      publishedOn: isoDay(n.published),
      publishedAt: isoDateTime(n.published),
      url: this.noticeUrl(n),
      document: n.sample ? { kind: 'sample', file: n.sample, sha256: this.sampleSha256(n.sample) } : { kind: 'generated' },
    };
  }

  oracleConsultation(c: Consultation): OracleConsultation {
    const d = this.details(c);
    const proc = PROCEDURES[c.procedure] ?? PROCEDURES[0];
    const amount = (v: number | null) => (v === null ? null : decimalAmount(v));
    return {
      orgAcronyme: c.org,
      refConsultation: c.ref,
      source: c.real ? 'real' : 'generated',
      reference: squash(c.reference),
      object: squash(c.object),
      buyer: c.buyer.full,
      buyerName: c.buyer.name,
      procedure: proc?.label ?? '',
      procedureCode: proc?.code ?? '',
      passationMode: c.passationMode,
      category: c.category,
      executionPlace: c.places.join(', '),
      publishedOn: isoDay(c.published),
      publishedAt: isoDateTime(c.published),
      deadline: isoDateTime(c.deadline),
      open: this.isOpen(c),
      estimationTtc: amount(c.estimationCents),
      cautionProvisoire: amount(c.cautionCents),
      variantAllowed: d.variant === '' ? null : d.variant === 'Oui',
      reservedForSmallBusiness: d.reservedSmall === 'Oui',
      siteVisits: d.visits.map((v) => {
        const at = parseFrDateTime(v.at);
        return at === null ? v.at : isoDateTime(at);
      }),
      allotted: c.lotCount > 0,
      lotCount: c.lotCount > 0 ? c.lotCount : null,
      lots: d.lots.map((l) => ({
        lotNumber: l.number,
        object: l.title,
        category: l.category,
        description: l.description,
        estimationTtc: amount(l.estimationCents),
        cautionProvisoire: amount(l.cautionCents),
        qualifications: l.qualifications,
        agrements: l.agrements,
      })),
      notices: c.notices.map((n) => this.oracleNotice(n)),
      attributions: c.notices.some((n) => n.sample)
        ? null
        : d.awards.map((a) => ({
            lotNumber: a.lotNumber,
            status: a.status,
            winner: a.winner,
            amount: amount(a.amountCents),
            bidderCount: a.bids.length,
            bids: a.bids.map((b) => ({ name: b.name, amount: amount(b.amountCents), status: b.status })),
          })),
      detailUrl: `/index.php?page=entreprise.EntrepriseDetailConsultation&refConsultation=${c.ref}&orgAcronyme=${c.org}`,
    };
  }

  get oracle(): PortalOracle {
    const inWindow = (lm: LocalMs, f?: Omit<OracleFilter, 'open'>): boolean => {
      const day = isoDay(lm);
      return (!f?.publishedFrom || day >= f.publishedFrom) && (!f?.publishedTo || day <= f.publishedTo);
    };
    return {
      today: this.today,
      now: this.isoNow,
      summary: () => ({
        consultations: this.all.length,
        realConsultations: this.all.filter((c) => c.real).length,
        realRecordLines: this.realRecordLines,
        open: this.all.filter((c) => this.isOpen(c)).length,
        allotted: this.all.filter((c) => c.lotCount > 0).length,
        notices: { pv: this.noticesByType.pv.length, resultat: this.noticesByType.resultat.length, achevement: this.noticesByType.achevement.length },
        samplePdfNotices: [...this.noticeById.values()].filter((n) => n.sample).length,
        bdcResults: this.bdc.length,
        firstPublished: this.all[0] ? isoDay(this.all[0].published) : '',
        lastPublished: this.all.length ? isoDay((this.all[this.all.length - 1] as Consultation).published) : '',
      }),
      consultations: (f) =>
        this.byDeadline.filter((c) => inWindow(c.published, f) && (!f?.open || this.isOpen(c))).map((c) => this.oracleConsultation(c)),
      consultation: (org, ref) => {
        const c = this.byKey.get(`${org}/${ref}`);
        return c ? this.oracleConsultation(c) : undefined;
      },
      notices: (type, f) =>
        this.noticesByType[type]
          .filter((n) => inWindow(n.published, f))
          .map((n) => ({ ...this.oracleNotice(n), orgAcronyme: n.cons.org, refConsultation: n.cons.ref, reference: squash(n.cons.reference) })),
      bdcResults: (f) =>
        this.bdc
          .filter((r) => inWindow(r.published, f))
          .map((r) => ({
            id: r.id,
            reference: r.reference,
            object: r.object,
            buyer: r.buyer,
            category: r.category,
            resultPublishedAt: isoDateTime(r.published),
            bidCount: r.bidCount,
            outcome: r.outcome,
            winner: r.winner,
            amountTtc: r.amountCents === null ? null : decimalAmount(r.amountCents),
            injected: r.injected,
          })),
    };
  }
}

function referenceFor(buyer: Buyer, n: number, year: number, rng: Rng): string {
  const nn = String(n).padStart(2, '0');
  const yy = String(year % 100).padStart(2, '0');
  switch (buyer.refStyle) {
    case 0:
      return `${nn}/${year}/${buyer.code}`;
    case 1:
      return `${nn}/${buyer.code}/${year}`;
    case 2:
      // Communes number "03/2025" with no suffix: the same reference under many buyers.
      return `${nn}/${year}`;
    default:
      return rng.chance(0.5) ? `${n}/${yy}/AOO/${buyer.code}` : `AOO N°${nn}/${year}/${buyer.code}`;
  }
}

/** The ground truth without a server: the same data a replica with these options serves. */
export function buildPortalOracle(opts: PortalDataOptions = {}): PortalOracle {
  return new PortalModel(opts).oracle;
}
