/**
 * The SQL behind the procurement endpoints. Every value is a bound parameter (postgres.js tagged
 * templates); only constants of this file are ever spliced as SQL text. Every list is bounded by a
 * LIMIT, and every filter or sort has an index (drizzle/0006_pmmp_api_search.sql,
 * 0015_pmmp_api_award_state.sql, 0026_pmmp_api_org_search.sql, 0021_pmmp_api_open_list.sql), so no request scans without bound.
 */
import type postgres from 'postgres';
import { keysetPage, type Page, type SortColumn } from '../pagination';
import type { AttributionQuery, ConsultationFilters, ConsultationListQuery, ConsultationSearchQuery, PvQuery } from './schemas';

type Sql = postgres.Sql;
type Fragment = postgres.Fragment;

export const SEARCH_CONFIG = 'pmmp.moisson_fr';

/** LIKE pattern of a user's text: its own % and _ are literal. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Casablanca's calendar day as a range of instants: deadlines are compared in the portal's time zone. */
const dayStart = (sql: Sql, day: string) => sql`(${day}::date::timestamp at time zone 'Africa/Casablanca')`;
const dayEnd = (sql: Sql, day: string) => sql`((${day}::date + 1)::timestamp at time zone 'Africa/Casablanca')`;

/**
 * A consultation's status. The outcome of its lots (an award on some lot, or every lot with a result
 * unsuccessful, read from the latest word on each lot) is stored on the row, `award_outcome`, and kept
 * by triggers on attributions and notices (drizzle/0015_pmmp_api_award_state.sql); only the deadline
 * depends on the clock.
 */
export function statutExpr(sql: Sql, now: string): Fragment {
  return sql`coalesce(c.award_outcome, case when c.deadline > ${now}::timestamptz then 'en_cours' else 'cloturee' end)`;
}

/** An organisation: its acronym exactly, or part of its buyer's name (the stored fold, trigram-indexed). */
function organisationMatch(sql: Sql, acronym: Fragment, organisme: string): Fragment {
  return sql`(lower(${acronym}) = lower(${organisme}) or c.buyer_fold like pmmp.fold(${containsPattern(organisme)}))`;
}

/**
 * The keys of an organisation's consultations, as a set the planner can build first through indexes (a
 * few hundred rows) and then probe, where an `or` across two tables would make it walk every row of the
 * list in sort order: the consultations matching by acronym or buyer name, and `byAcronym` (the rows of
 * the listed table itself with that acronym, for rows whose consultation is not stored).
 */
function organisationConsultations(sql: Sql, organisme: string, byAcronym: Fragment): Fragment {
  return sql`select c.org_acronyme, c.ref_consultation from pmmp.consultations c where ${organisationMatch(sql, sql`c.org_acronyme`, organisme)}
    union ${byAcronym}`;
}

/**
 * How a list finds an organisation's rows. An organisation is its acronym or part of a buyer's name; when
 * the text names no buyer outside that acronym (an acronym, the usual case), its rows are exactly those
 * of the acronym, and `acronym` lets a list walk its (lower(acronym), sort column, key) index in order:
 * a page costs its 50 rows whether the organisation has 10 or 13,000 (drizzle/0026_pmmp_api_org_search.sql).
 * Otherwise (`buyers`), the key set of its consultations is built and probed. Deciding in the query
 * instead (`acronym = … or key in (…)`) leaves the planner guessing half the rows match: it walks
 * the whole sort index for a rare or unknown organisation.
 */
export type OrganisationScope = 'acronym' | 'buyers';

export async function organisationScope(sql: Sql, organisme: string): Promise<OrganisationScope> {
  const [row] = await sql<{ other: boolean }[]>`
    select exists (select 1 from pmmp.consultations c
                   where c.buyer_fold like pmmp.fold(${containsPattern(organisme)}) and lower(c.org_acronyme) <> lower(${organisme})) as other`;
  return row?.other ? 'buyers' : 'acronym';
}

/**
 * How the filters read. `scope` (the organisation's, from organisationScope; 'buyers' when unknown) and
 * `openByPublication` (the list walks publication order, newest first: see `statut=en_cours` below)
 * change only the plan, never the rows.
 */
export function consultationWhere(sql: Sql, f: ConsultationFilters, now: string, opts: { scope?: OrganisationScope; openByPublication?: boolean } = {}): Fragment[] {
  const where: Fragment[] = [];
  if (f.type_marche) where.push(sql`c.market_kind = ${f.type_marche}`);
  if (f.organisme && opts.scope === 'acronym') {
    // The text names no buyer outside this acronym: the same rows, through the (lower(acronym), sort) indexes.
    where.push(sql`lower(c.org_acronyme) = lower(${f.organisme})`);
  } else if (f.organisme) {
    where.push(organisationMatch(sql, sql`c.org_acronyme`, f.organisme));
  }
  if (f.date_debut) where.push(sql`c.published_on >= ${f.date_debut}::date`);
  if (f.date_fin) where.push(sql`c.published_on <= ${f.date_fin}::date`);
  if (f.date_limite_debut) where.push(sql`c.deadline >= ${dayStart(sql, f.date_limite_debut)}`);
  if (f.date_limite_fin) where.push(sql`c.deadline < ${dayEnd(sql, f.date_limite_fin)}`);
  if (f.montant_min) where.push(sql`c.estimation_ttc >= ${f.montant_min}::numeric`);
  if (f.montant_max) where.push(sql`c.estimation_ttc <= ${f.montant_max}::numeric`);
  switch (f.statut) {
    case 'attribuee':
    case 'infructueux':
      where.push(sql`c.award_outcome = ${f.statut}`);
      break;
    case 'en_cours':
      if (opts.openByPublication) {
        // Open consultations are the recently published ones: walking the open ones newest first
        // (drizzle/0021_pmmp_api_open_list.sql) finds a page in ~50 rows. Against `c.deadline > now`,
        // the planner, which takes deadline and publication for independent, would rather read every
        // open deadline through the deadline index and sort them all (1,377 rows on the bench's 100k);
        // the same test on an expression that index cannot serve leaves it the walk. Same rows.
        where.push(sql`c.award_outcome is null and (case when c.award_outcome is null then c.deadline end) > ${now}::timestamptz`);
      } else {
        where.push(sql`c.award_outcome is null and c.deadline > ${now}::timestamptz`);
      }
      break;
    case 'cloturee':
      where.push(sql`c.award_outcome is null and (c.deadline <= ${now}::timestamptz or c.deadline is null)`);
      break;
    default:
      break;
  }
  return where;
}

function summaryColumns(sql: Sql, now: string): Fragment {
  return sql`c.org_acronyme, c.ref_consultation, c.reference, c.object, c.buyer, c.procedure, c.category, c.market_kind,
    c.execution_place, c.published_on, to_json(c.deadline) #>> '{}' as deadline, c.estimation_ttc, c.lot_count,
    ${statutExpr(sql, now)} as statut`;
}

export interface ConsultationRow {
  org_acronyme: string;
  ref_consultation: string;
  reference: string | null;
  object: string | null;
  buyer: string | null;
  procedure: string | null;
  category: string | null;
  market_kind: 'travaux' | 'fournitures' | 'services' | null;
  execution_place: string | null;
  published_on: string | null;
  deadline: string | null;
  estimation_ttc: string | null;
  lot_count: number | null;
  statut: 'en_cours' | 'cloturee' | 'attribuee' | 'infructueux';
}

const CONSULTATION_SORT_COLUMNS = {
  date_publication: (sql: Sql): SortColumn => ({ expr: sql`c.published_on`, type: 'date' }),
  date_limite: (sql: Sql): SortColumn => ({ expr: sql`c.deadline`, type: 'timestamptz' }),
  montant: (sql: Sql): SortColumn => ({ expr: sql`c.estimation_ttc`, type: 'numeric' }),
} as const;

export async function listConsultations(sql: Sql, q: ConsultationListQuery, now: string): Promise<Page<ConsultationRow>> {
  const desc = q.sort.startsWith('-');
  const sortName = q.sort.replace(/^-/, '') as keyof typeof CONSULTATION_SORT_COLUMNS;
  const column = CONSULTATION_SORT_COLUMNS[sortName](sql);
  const scope = q.organisme ? await organisationScope(sql, q.organisme) : 'buyers';
  // Newest first only: oldest first, the walk would read the long-closed rows without an outcome first.
  const where = consultationWhere(sql, q, now, { scope, openByPublication: sortName === 'date_publication' && desc });
  if (q.statut === 'en_cours' && where.length === 1 && sortName === 'date_publication' && !desc) {
    // Open consultations oldest first: the page's keys come from every open consultation's key and day
    // (a few thousand per 100k: a range of the open-deadline index of
    // drizzle/0024_pmmp_api_open_deadline.sql, read without the rows) sorted by publication, then the
    // page's rows are read by key. The keys are read behind a fence (`offset 0`) with no order to keep,
    // so no statistics make the planner walk an index in publication order, which starts at the
    // long-closed consultations without an outcome (16k buffers here, ten times that at 1M).
    const keys = await keysetPage<{ org_acronyme: string; ref_consultation: string }>({
      sql,
      select: sql`select k.org_acronyme, k.ref_consultation`,
      from: sql`(select c.org_acronyme, c.ref_consultation, c.published_on from pmmp.consultations c where ${where[0]!} offset 0) k`,
      where: [],
      sortName: q.sort,
      sort: { expr: sql`k.published_on`, type: 'date' },
      dir: 'asc',
      keys: [sql`k.org_acronyme`, sql`k.ref_consultation`],
      limit: q.limit,
      cursor: q.cursor,
      offset: q.offset,
    });
    const rows = keys.rows.length
      ? await sql<ConsultationRow[]>`
          select ${summaryColumns(sql, now)}
          from unnest(${keys.rows.map((k) => k.org_acronyme)}::text[], ${keys.rows.map((k) => k.ref_consultation)}::text[]) with ordinality p(org_acronyme, ref_consultation, n)
          join pmmp.consultations c on c.org_acronyme = p.org_acronyme and c.ref_consultation = p.ref_consultation
          order by p.n`
      : [];
    return { ...keys, rows };
  }
  return keysetPage<ConsultationRow & Record<string, unknown>>({
    sql,
    select: sql`select ${summaryColumns(sql, now)}`,
    from: sql`pmmp.consultations c`,
    where,
    sortName: q.sort,
    sort: column,
    dir: desc ? 'desc' : 'asc',
    keys: [sql`c.org_acronyme`, sql`c.ref_consultation`],
    limit: q.limit,
    cursor: q.cursor,
    offset: q.offset,
  });
}

export interface SearchRow extends ConsultationRow {
  rank: number;
  hl_object: string | null;
  hl_buyer: string | null;
  hl_reference: string | null;
}

/**
 * What the words give PostgreSQL to search for: `none` (stop words alone), `one_word` (one lexeme: its
 * ranking is stored, read in rank order below), `words` otherwise (every match is ranked).
 */
export type SearchShape = 'none' | 'one_word' | 'words';

export async function searchShape(sql: Sql, q: string): Promise<SearchShape> {
  const [row] = await sql<{ n: number }[]>`select numnode(websearch_to_tsquery(${SEARCH_CONFIG}::regconfig, ${q})) as n`;
  if (!row || row.n === 0) return 'none';
  return row.n === 1 ? 'one_word' : 'words';
}

export async function searchConsultations(sql: Sql, q: ConsultationSearchQuery, now: string, shape: SearchShape = 'words'): Promise<{ rows: SearchRow[]; hasMore: boolean }> {
  const where = consultationWhere(sql, q, now);
  const offset = q.offset ?? 0;
  const tsquery = sql`websearch_to_tsquery(${SEARCH_CONFIG}::regconfig, ${q.q})`;
  // Filters, when asked, read their columns on the consultation of each match.
  const filtered = (match: Fragment) =>
    where.length
      ? sql`join pmmp.consultations c on c.org_acronyme = s.org_acronyme and c.ref_consultation = s.ref_consultation
            where ${match} and ${where.reduce((acc, p) => sql`${acc} and ${p}`)}`
      : sql`where ${match}`;
  const page = (hits: Fragment) => {
    const options = 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "';
    // The page's rows alone are joined back for their columns, status and headlines.
    return sql<SearchRow[]>`
      with ${hits}
      select ${summaryColumns(sql, now)}, h.rank::float8 as rank,
             ts_headline(${SEARCH_CONFIG}::regconfig, c.object, ${tsquery}, ${options}) as hl_object,
             ts_headline(${SEARCH_CONFIG}::regconfig, c.buyer, ${tsquery}, ${options}) as hl_buyer,
             ts_headline(${SEARCH_CONFIG}::regconfig, c.reference, ${tsquery}, ${options}) as hl_reference
      from hits h
      join pmmp.consultations c on c.org_acronyme = h.org_acronyme and c.ref_consultation = h.ref_consultation
      order by h.rank desc, h.published_on desc nulls last, h.org_acronyme, h.ref_consultation`;
  };
  const done = (rows: SearchRow[]) => ({ rows: rows.slice(0, q.limit), hasMore: rows.length > q.limit });

  if (shape === 'one_word' && where.length === 0) {
    // One word: its rank on every consultation is stored, indexed in the search's order
    // (drizzle/0023_pmmp_search_lexeme_rank.sql), so the page is the index's next rows, however many
    // consultations hold the word. `published_key` is the day with null as -infinity: the same order.
    // Not with filters: the rows they keep can be far apart along the word's rank order.
    return done(
      await page(sql`hits as (
        select l.org_acronyme, l.ref_consultation, l.published_key as published_on, l.rank
        from pmmp.consultation_search_lexemes l
        where l.lexeme = (select (tsvector_to_array(querytree(${tsquery})::tsvector))[1])
        order by l.rank desc, l.published_key desc, l.org_acronyme, l.ref_consultation
        offset ${offset} limit ${q.limit + 1}
      )`),
    );
  }
  // Keys first, on the narrow side table (key, day, tsvector: drizzle/0026_pmmp_api_org_search.sql):
  // ranking a common word reads every match, and its pages there are a fraction of the consultations'.
  return done(
    await page(sql`hits as (
      select s.org_acronyme, s.ref_consultation, s.published_on, ts_rank_cd(s.search, ${tsquery}, 1) as rank
      from pmmp.consultation_search s ${filtered(sql`s.search @@ ${tsquery}`)}
      order by rank desc, s.published_on desc nulls last, s.org_acronyme, s.ref_consultation
      offset ${offset} limit ${q.limit + 1}
    )`),
  );
}

export interface DetailLot {
  lot_number: number;
  object: string | null;
  category: string | null;
  description: string | null;
  estimation_ttc: string | null;
  caution_provisoire: string | null;
  qualifications: string[];
  agrements: string[];
}

export interface DetailNotice {
  id_avis: string;
  kind: string;
  label: string | null;
  url: string;
  published_on: string | null;
  proof_id: string | null;
  text_method: string | null;
  parsed_at: string | null;
}

/** An attribution as a consultation's detail shows it: its consultation is the page's, and whether it is the lot's latest word. */
export type DetailAttribution = Omit<AttributionRow, 'org_acronyme' | 'ref_consultation'> & { latest: boolean };

export interface DetailBid {
  id_avis: string;
  lot_key: string;
  bidder: string;
  is_groupement: boolean;
  members: string[];
  amount: string | null;
  amount_verified: string | null;
  eliminated: boolean;
  elimination_reason: string | null;
  retained: boolean;
}

export interface ConsultationDetailRow extends ConsultationRow {
  procedure_code: string | null;
  passation_mode: string | null;
  caution_provisoire: string | null;
  opening_place: string | null;
  withdrawal_address: string | null;
  submission_address: string | null;
  variant_allowed: boolean | null;
  reserved_small_business: boolean | null;
  site_visits: { at: string | null; place: string | null }[];
  qualifications: string[];
  agrements: string[];
  activity_domains: string[];
  allotted: boolean | null;
  detail_url: string | null;
  first_seen_at: string;
  updated_at: string;
  lots: DetailLot[];
  notices: DetailNotice[];
  attributions: DetailAttribution[];
  bids: DetailBid[];
}

/**
 * One consultation with its lots, notices, attributions and bids, in one statement: each list is a
 * JSON array built by PostgreSQL (one round trip and one plan instead of five, and the pool's connections
 * free for other requests). Values keep the form the row-by-row reads gave: numerics as their exact text,
 * days as YYYY-MM-DD, instants as to_json writes them in the session's time zone.
 */
export async function consultationDetail(sql: Sql, org: string, ref: string, now: string): Promise<ConsultationDetailRow | undefined> {
  const [row] = await sql<ConsultationDetailRow[]>`
    select ${summaryColumns(sql, now)}, c.procedure_code, c.passation_mode, c.caution_provisoire, c.opening_place,
           c.withdrawal_address, c.submission_address, c.variant_allowed, c.reserved_small_business, c.site_visits,
           c.qualifications, c.agrements, c.activity_domains, c.allotted, c.detail_url,
           to_json(c.first_seen_at) #>> '{}' as first_seen_at, to_json(c.updated_at) #>> '{}' as updated_at,
           (select coalesce(json_agg(json_build_object(
                     'lot_number', l.lot_number, 'object', l.object, 'category', l.category, 'description', l.description,
                     'estimation_ttc', l.estimation_ttc::text, 'caution_provisoire', l.caution_provisoire::text,
                     'qualifications', l.qualifications, 'agrements', l.agrements) order by l.lot_number), '[]')
            from pmmp.lots l where l.org_acronyme = c.org_acronyme and l.ref_consultation = c.ref_consultation) as lots,
           (select coalesce(json_agg(json_build_object(
                     'id_avis', n.id_avis, 'kind', n.kind, 'label', n.label, 'url', n.url, 'published_on', n.published_on,
                     'proof_id', n.proof_id, 'text_method', n.text_method, 'parsed_at', n.parsed_at) order by n.published_on nulls last, n.id_avis), '[]')
            from pmmp.notices n where n.org_acronyme = c.org_acronyme and n.ref_consultation = c.ref_consultation) as notices,
           (select coalesce(json_agg(json_build_object(
                     'id_avis', a.id_avis, 'lot_key', a.lot_key, 'status', a.status, 'winner', a.winner,
                     'winner_is_groupement', a.winner_is_groupement, 'winner_members', a.winner_members,
                     'amount', a.amount::text, 'amount_min', a.amount_min::text, 'bidder_count', a.bidder_count,
                     'opening_date', a.opening_date, 'low_confidence', a.low_confidence, 'proof_id', a.proof_id,
                     'notice_kind', n.kind, 'notice_published_on', n.published_on, 'latest', a.latest)
                     order by a.lot_key, n.published_on nulls last, a.id_avis), '[]')
            from pmmp.attributions a
            join pmmp.notices n on n.org_acronyme = a.org_acronyme and n.ref_consultation = a.ref_consultation and n.id_avis = a.id_avis
            where a.org_acronyme = c.org_acronyme and a.ref_consultation = c.ref_consultation) as attributions,
           (select coalesce(json_agg(json_build_object(
                     'id_avis', b.id_avis, 'lot_key', b.lot_key, 'bidder', b.bidder, 'is_groupement', b.is_groupement,
                     'members', b.members, 'amount', b.amount::text, 'amount_verified', b.amount_verified::text,
                     'eliminated', b.eliminated, 'elimination_reason', b.elimination_reason, 'retained', b.retained)
                     order by b.lot_key, b.id_avis, b.amount nulls last, b.bidder_key), '[]')
            from pmmp.bids b where b.org_acronyme = c.org_acronyme and b.ref_consultation = c.ref_consultation) as bids
    from pmmp.consultations c
    where c.org_acronyme = ${org} and c.ref_consultation = ${ref}`;
  return row;
}

export interface PvRow {
  org_acronyme: string;
  ref_consultation: string;
  id_avis: string;
  reference: string | null;
  object: string | null;
  buyer: string | null;
  label: string | null;
  url: string;
  published_on: string | null;
  proof_id: string | null;
  parsed_at: string | null;
  lots_with_result: number;
}

export async function listPv(sql: Sql, q: PvQuery): Promise<Page<PvRow>> {
  const where: Fragment[] = [sql`n.kind = 'extrait_pv'`];
  if (q.organisme && (await organisationScope(sql, q.organisme)) === 'acronym') {
    where.push(sql`lower(n.org_acronyme) = lower(${q.organisme})`);
  } else if (q.organisme) {
    where.push(sql`(n.org_acronyme, n.ref_consultation) in (${organisationConsultations(sql, q.organisme, sql`
      select n2.org_acronyme, n2.ref_consultation from pmmp.notices n2 where lower(n2.org_acronyme) = lower(${q.organisme})`)})`);
  }
  if (q.date_debut) where.push(sql`n.published_on >= ${q.date_debut}::date`);
  if (q.date_fin) where.push(sql`n.published_on <= ${q.date_fin}::date`);
  if (q.lu === 'true') where.push(sql`n.parsed_at is not null`);
  if (q.lu === 'false') where.push(sql`n.parsed_at is null`);
  return keysetPage<PvRow & Record<string, unknown>>({
    sql,
    select: sql`select n.org_acronyme, n.ref_consultation, n.id_avis, c.reference, c.object, c.buyer, n.label, n.url, n.published_on,
      n.proof_id, to_json(n.parsed_at) #>> '{}' as parsed_at,
      (select count(*)::int from pmmp.attributions a
        where a.org_acronyme = n.org_acronyme and a.ref_consultation = n.ref_consultation and a.id_avis = n.id_avis) as lots_with_result`,
    from: sql`pmmp.notices n left join pmmp.consultations c using (org_acronyme, ref_consultation)`,
    where,
    sortName: '-date',
    sort: { expr: sql`n.published_on`, type: 'date' },
    dir: 'desc',
    keys: [sql`n.org_acronyme`, sql`n.ref_consultation`, sql`n.id_avis`],
    limit: q.limit,
    cursor: q.cursor,
    offset: q.offset,
  });
}

export interface AttributionRow {
  org_acronyme: string;
  ref_consultation: string;
  id_avis: string;
  lot_key: string;
  status: string;
  winner: string | null;
  winner_is_groupement: boolean | null;
  winner_members: string[];
  amount: string | null;
  amount_min: string | null;
  bidder_count: number | null;
  opening_date: string | null;
  low_confidence: boolean;
  proof_id: string | null;
  notice_kind: string;
  notice_published_on: string | null;
}

export function attributionWhere(sql: Sql, q: Omit<AttributionQuery, 'sort' | 'limit' | 'cursor' | 'offset'>, scope: OrganisationScope = 'buyers'): Fragment[] {
  // The latest word on each lot only: the flag kept by triggers (drizzle/0015_pmmp_api_award_state.sql).
  const where: Fragment[] = [sql`a.latest`];
  if (q.entreprise) where.push(sql`pmmp.fold(a.winner) like pmmp.fold(${containsPattern(q.entreprise)})`);
  if (q.montant_min) where.push(sql`a.amount >= ${q.montant_min}::numeric`);
  if (q.montant_max) where.push(sql`a.amount <= ${q.montant_max}::numeric`);
  if (q.organisme && scope === 'acronym') {
    where.push(sql`lower(a.org_acronyme) = lower(${q.organisme})`);
  } else if (q.organisme) {
    where.push(sql`(a.org_acronyme, a.ref_consultation) in (${organisationConsultations(sql, q.organisme, sql`
      select a2.org_acronyme, a2.ref_consultation from pmmp.attributions a2 where a2.latest and lower(a2.org_acronyme) = lower(${q.organisme})`)})`);
  }
  if (q.date_debut) where.push(sql`a.notice_published_on >= ${q.date_debut}::date`);
  if (q.date_fin) where.push(sql`a.notice_published_on <= ${q.date_fin}::date`);
  if (q.statut) where.push(sql`a.status = ${q.statut}`);
  return where;
}

/**
 * The notice's kind is read for the page's rows only (a subquery on its key): joining notices on three
 * columns makes the planner expect one row and sort every lot instead of walking the sort's index.
 */
export const ATTRIBUTION_COLUMNS = (sql: Sql) => sql`a.org_acronyme, a.ref_consultation, a.id_avis, a.lot_key, a.status, a.winner,
  a.winner_is_groupement, a.winner_members, a.amount, a.amount_min, a.bidder_count, a.opening_date, a.low_confidence, a.proof_id,
  (select n.kind from pmmp.notices n
    where n.org_acronyme = a.org_acronyme and n.ref_consultation = a.ref_consultation and n.id_avis = a.id_avis) as notice_kind,
  a.notice_published_on`;

export async function listAttributions(sql: Sql, q: AttributionQuery): Promise<Page<AttributionRow>> {
  const desc = q.sort.startsWith('-');
  const scope = q.organisme ? await organisationScope(sql, q.organisme) : 'buyers';
  // The notice's day is stored on the attribution (kept by the award-state triggers): one index per sort.
  const sort: SortColumn = q.sort.endsWith('montant') ? { expr: sql`a.amount`, type: 'numeric' } : { expr: sql`a.notice_published_on`, type: 'date' };
  return keysetPage<AttributionRow & Record<string, unknown>>({
    sql,
    select: sql`select ${ATTRIBUTION_COLUMNS(sql)}`,
    from: sql`pmmp.attributions a`,
    where: attributionWhere(sql, q, scope),
    sortName: q.sort,
    sort,
    dir: desc ? 'desc' : 'asc',
    keys: [sql`a.org_acronyme`, sql`a.ref_consultation`, sql`a.lot_key`],
    limit: q.limit,
    cursor: q.cursor,
    offset: q.offset,
  });
}

/** Streams rows a batch at a time (a server-side cursor): memory stays flat whatever the table size. */
export function exportConsultations(sql: Sql, f: ConsultationFilters, now: string, batch = 1000): AsyncIterable<ConsultationRow[]> {
  const where = consultationWhere(sql, f, now).reduce((acc, p) => sql`${acc} and ${p}`, sql`true`);
  return sql<ConsultationRow[]>`
    select ${summaryColumns(sql, now)}, c.procedure_code, c.passation_mode, c.caution_provisoire, c.detail_url
    from pmmp.consultations c
    where ${where}
    order by c.org_acronyme, c.ref_consultation`.cursor(batch);
}

export function exportAttributions(sql: Sql, f: Omit<AttributionQuery, 'sort' | 'limit' | 'cursor' | 'offset'>, batch = 1000): AsyncIterable<AttributionRow[]> {
  const where = attributionWhere(sql, f).reduce((acc, p) => sql`${acc} and ${p}`);
  return sql<AttributionRow[]>`
    select ${ATTRIBUTION_COLUMNS(sql)}
    from pmmp.attributions a
    where ${where}
    order by a.org_acronyme, a.ref_consultation, a.lot_key`.cursor(batch);
}
