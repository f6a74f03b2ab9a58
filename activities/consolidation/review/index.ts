/**
 * Reviewing suggestions, as a service of plain functions over the database (no Temporal): the API and
 * the CLI both call these. A reviewer reads the cohorts with their per-column counts, pages through a
 * cohort's suggestions with filters, and decides: accept (→ ATRAITER, which the apply Schedule picks
 * up) or reject (→ REJETEE), for one suggestion, a list of ids, or everything a filter matches except
 * some ids — the last in one statement, so 50k suggestions cost one round trip, as QFDMOD's reviewers
 * asked for (PR #3016: "all filtered" with exclusions, cohorts of ~50k).
 *
 * The guard is in the statement itself: a decision only moves suggestions that are still waiting for
 * one (AVALIDER), a rejected one back to accepted, or an accepted one to rejected before the apply
 * claims it. ENCOURS, SUCCES and ERREUR are never touched (the apply's claim and the decision lock the
 * same row, so one of them wins cleanly). Every moved suggestion gets an INFO log naming who decided,
 * and all logs of one decision share its `identifiant_execution` (`revue-<uuid>`). The cohorts of the
 * moved suggestions follow them in the same transaction (suggestions/cohorts.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Fragment, Sql } from 'postgres';
import { z } from 'zod';
import { CHANGE_MODEL_NAMES } from '../../../schema/consolidation/items';
import { followCohorts } from '../suggestions/cohorts';
import { COHORTE_STATUTS, COHORTE_TYPES, SUGGESTION_STATUTS, type SuggestionStatut } from '../../../schema/consolidation/tables';

export interface ReviewDb {
  sql: Sql;
}

// ---------------------------------------------------------------- errors

export interface ReviewIssue {
  field: string;
  problem: string;
}

/** The input does not say a valid thing to do (each field and its problem named). */
export class ReviewInputError extends Error {
  override readonly name = 'ReviewInputError';
  constructor(readonly issues: ReviewIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.problem}`).join('; '));
  }
}

export class ReviewNotFoundError extends Error {
  override readonly name = 'ReviewNotFoundError';
}

/** A suggestion is not in a state this decision can move it from. */
export class ReviewStateError extends Error {
  override readonly name = 'ReviewStateError';
  constructor(
    message: string,
    readonly refused: { id: number; statut: SuggestionStatut }[],
  ) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  throw new ReviewInputError(parsed.error.issues.map((i) => ({ field: i.path.length ? i.path.map(String).join('.') : '(input)', problem: i.message })));
}

// ---------------------------------------------------------------- schemas (shared with the API and the CLI)

const id = z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be positive');
const limit = (max: number, def: number) =>
  z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(def);
const cursor = z.string().regex(/^\d{1,18}$/, 'must be the next_cursor of the previous page');
/** A query string gives one value or several (`?statut=A&statut=B`, or `A,B`). */
const listOf = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(item).min(1, 'must name at least one value'));

export const CohortListInputSchema = z.strictObject({
  type_action: z.enum(COHORTE_TYPES).optional().describe('only cohorts of this action type'),
  source_code: z.string().regex(/^[a-z0-9_]+$/, 'must be a source code such as refashion').optional(),
  statut: z.enum(COHORTE_STATUTS).optional(),
  limit: limit(200, 50),
  cursor: cursor.optional().describe('next_cursor of the previous page (newest first)'),
});
export type CohortListInput = z.input<typeof CohortListInputSchema>;

export const SuggestionFilterSchema = z.strictObject({
  cohorte_id: id.describe('the cohort'),
  statut: listOf(z.enum(SUGGESTION_STATUTS)).optional().describe('one status or several'),
  cle: z.string().min(1).max(200).optional().describe('the acteur (or cluster) key starts with this'),
  champ: z
    .string()
    .regex(/^[a-z_]{1,60}$/, 'must be a field name such as code_postal')
    .optional()
    .describe('only suggestions whose changes set this field'),
  modele: z.enum(CHANGE_MODEL_NAMES).optional().describe('only suggestions holding a change of this model'),
});
export type SuggestionFilter = z.output<typeof SuggestionFilterSchema>;

export const SuggestionListInputSchema = SuggestionFilterSchema.extend({
  limit: limit(1000, 100),
  cursor: cursor.optional().describe('next_cursor of the previous page (id order)'),
  offset: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(10_000_000, 'must be at most 10000000')
    .optional()
    .describe('rows to skip instead of a cursor: a virtual-scrolled grid jumps to any page (costs a scan of the rows skipped)'),
  count: z.enum(['true', 'false']).default('true').describe('false: `total` is null and not counted (the later pages of a grid that counted once)'),
});
export type SuggestionListInput = z.input<typeof SuggestionListInputSchema>;

export const DECISIONS = ['accept', 'reject'] as const;
export type Decision = (typeof DECISIONS)[number];

const reviewer = z.string().trim().min(1, 'must name who decides').max(120);
const raison = z.string().trim().min(1).max(500).optional().describe('why (kept in the log)');
const ids = z.array(id).min(1, 'must hold at least one id').max(10_000, 'must hold at most 10000 ids (use a filter with except)');

/** One of: `ids` (these suggestions), or `filter` with `except` (everything the filter matches but these). */
export const DecisionByIdsSchema = z.strictObject({ decision: z.enum(DECISIONS), par: reviewer, raison, ids });
export const DecisionByFilterSchema = z.strictObject({
  decision: z.enum(DECISIONS),
  par: reviewer,
  raison,
  filter: SuggestionFilterSchema,
  except: z.array(id).max(100_000, 'must hold at most 100000 ids').default([]).describe('ids the decision leaves as they are'),
});
export const DecisionInputSchema = z.union([DecisionByIdsSchema, DecisionByFilterSchema]);
export type DecisionInput = z.input<typeof DecisionInputSchema>;

/** The branch the input means (`filter` present or not), so errors name that branch's fields. */
function parseDecision(input: unknown): z.output<typeof DecisionInputSchema> {
  const byFilter = typeof input === 'object' && input !== null && 'filter' in input;
  return byFilter ? parse(DecisionByFilterSchema, input) : parse(DecisionByIdsSchema, input);
}

/** What each decision moves from and to. */
export const TRANSITIONS: Record<Decision, { from: SuggestionStatut[]; to: SuggestionStatut }> = {
  accept: { from: ['AVALIDER', 'REJETEE'], to: 'ATRAITER' },
  reject: { from: ['AVALIDER', 'ATRAITER'], to: 'REJETEE' },
};

// ---------------------------------------------------------------- reads

/** `{column: [MODIF, SUP, AJOUT]}`, as the diff counted them (source modification cohorts). */
export type ColumnCounts = Record<string, [number, number, number]>;

export interface CohortView {
  id: number;
  identifiant_action: string;
  identifiant_execution: string;
  type_action: string;
  statut: string;
  source_code: string | null;
  /** The per-column MODIF / SUP / AJOUT counts of the diff (empty for other cohort types). */
  colonnes: ColumnCounts;
  /** Suggestions per status. */
  suggestions: Partial<Record<SuggestionStatut, number>>;
  total: number;
  /** `bilan` ({succes, erreur, rejetee}) once the cohort is SUCCES: a partly failed cohort says so. */
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface CohortDetail extends CohortView {
  /** Suggestions whose changes set each field (every cohort type). */
  champs: Record<string, number>;
}

interface CohortRow {
  id: string | number;
  identifiant_action: string;
  identifiant_execution: string;
  type_action: string;
  statut: string;
  source_code: string | null;
  metadata: Record<string, unknown>;
  counts: Record<string, number> | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function columnCounts(metadata: Record<string, unknown>): ColumnCounts {
  const raw = metadata.colonnes;
  if (!raw || typeof raw !== 'object') return {};
  const out: ColumnCounts = {};
  for (const [col, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v) && v.length === 3 && v.every((n) => typeof n === 'number')) out[col] = v as [number, number, number];
  }
  return out;
}

function toCohort(r: CohortRow): CohortView {
  const counts = (r.counts ?? {}) as Partial<Record<SuggestionStatut, number>>;
  return {
    id: Number(r.id),
    identifiant_action: r.identifiant_action,
    identifiant_execution: r.identifiant_execution,
    type_action: r.type_action,
    statut: r.statut,
    source_code: r.source_code,
    colonnes: columnCounts(r.metadata),
    suggestions: counts,
    total: Object.values(counts).reduce((a, n) => a + (n ?? 0), 0),
    metadata: r.metadata,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

function and(sql: Sql, parts: Fragment[]): Fragment {
  return parts.length === 0 ? sql`true` : parts.reduce((acc, p) => sql`${acc} and ${p}`);
}

const cohortSelect = (sql: Sql) => sql`
  c.id, c.identifiant_action, c.identifiant_execution, c.type_action, c.statut, c.source_code, c.metadata, c.created_at, c.updated_at,
  (select jsonb_object_agg(statut, n) from (select s.statut, count(*)::int as n from consolidation.suggestions s where s.cohorte_id = c.id group by s.statut) k) as counts`;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Cohorts, newest first, with their per-column counts and their suggestions per status. */
export async function listCohorts(db: ReviewDb, input: CohortListInput = {}): Promise<Page<CohortView>> {
  const q = parse(CohortListInputSchema, input);
  const { sql } = db;
  const where: Fragment[] = [];
  if (q.type_action) where.push(sql`c.type_action = ${q.type_action}`);
  if (q.source_code) where.push(sql`c.source_code = ${q.source_code}`);
  if (q.statut) where.push(sql`c.statut = ${q.statut}`);
  if (q.cursor) where.push(sql`c.id < ${q.cursor}::bigint`);
  const rows = await sql<CohortRow[]>`select ${cohortSelect(sql)} from consolidation.suggestion_cohortes c where ${and(sql, where)} order by c.id desc limit ${q.limit + 1}`;
  const page = rows.slice(0, q.limit).map(toCohort);
  return { items: page, next_cursor: rows.length > q.limit ? String(page.at(-1)!.id) : null };
}

export async function getCohort(db: ReviewDb, cohortId: number): Promise<CohortDetail> {
  const cid = parse(id, cohortId);
  const { sql } = db;
  const [row] = await sql<CohortRow[]>`select ${cohortSelect(sql)} from consolidation.suggestion_cohortes c where c.id = ${cid}`;
  if (!row) throw new ReviewNotFoundError(`no cohort ${cid}`);
  // Each suggestion's fields made distinct within the row (a few keys), not across the cohort: a
  // global count(distinct id) sorted 50k rows per field and took seconds.
  const fields = await sql<{ champ: string; n: number }[]>`
    select f.champ, count(*)::int as n
      from consolidation.suggestions s
      cross join lateral (
        select distinct k from jsonb_array_elements(s.changes) ch,
               jsonb_object_keys(case when jsonb_typeof(ch->'model_params'->'data') = 'object' then ch->'model_params'->'data' else '{}'::jsonb end) as k
      ) as f(champ)
     where s.cohorte_id = ${cid}
     group by f.champ order by f.champ`;
  return { ...toCohort(row), champs: Object.fromEntries(fields.map((f) => [f.champ, f.n])) };
}

export interface SuggestionView {
  id: number;
  cohorte_id: number;
  cle: string;
  statut: SuggestionStatut;
  contexte: Record<string, unknown> | null;
  changes: unknown[];
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

interface SuggestionRow {
  id: string | number;
  cohorte_id: string | number;
  cle: string;
  statut: SuggestionStatut;
  contexte: Record<string, unknown> | null;
  changes: unknown[];
  metadata: Record<string, unknown>;
  created_at: Date | string;
  updated_at: Date | string;
}

const toSuggestion = (r: SuggestionRow): SuggestionView => ({
  id: Number(r.id),
  cohorte_id: Number(r.cohorte_id),
  cle: r.cle,
  statut: r.statut,
  contexte: r.contexte,
  changes: r.changes,
  metadata: r.metadata,
  created_at: iso(r.created_at),
  updated_at: iso(r.updated_at),
});

/** The WHERE clause of a filter, on `consolidation.suggestions s`. */
function filterWhere(sql: Sql, f: SuggestionFilter): Fragment[] {
  const where: Fragment[] = [sql`s.cohorte_id = ${f.cohorte_id}`];
  if (f.statut) where.push(sql`s.statut = any(${f.statut}::text[])`);
  // A prefix as a range, so that `%` or `_` in a key mean themselves.
  if (f.cle) where.push(sql`s.cle >= ${f.cle} and s.cle < ${f.cle + '\u{10FFFF}'}`);
  if (f.champ) {
    where.push(sql`exists (select 1 from jsonb_array_elements(s.changes) ch where jsonb_typeof(ch->'model_params'->'data') = 'object' and ch->'model_params'->'data' ? ${f.champ})`);
  }
  if (f.modele) where.push(sql`s.changes @> ${JSON.stringify([{ model_name: f.modele }])}::jsonb`);
  return where;
}

async function requireCohort(db: ReviewDb, cohortId: number): Promise<void> {
  const [row] = await db.sql`select 1 from consolidation.suggestion_cohortes where id = ${cohortId}`;
  if (!row) throw new ReviewNotFoundError(`no cohort ${cohortId}`);
}

/** A cohort's suggestions in id order, filtered, by pages (keyset on id: page 500 costs what page 1 costs). */
export async function listSuggestions(db: ReviewDb, input: SuggestionListInput): Promise<Page<SuggestionView> & { total: number | null }> {
  const q = parse(SuggestionListInputSchema, input);
  // Checked here, not refined in the schema: the API derives its query string from it with omit().
  if (q.cursor !== undefined && q.offset !== undefined) throw new ReviewInputError([{ field: 'offset', problem: 'cursor and offset exclude each other: give one' }]);
  const { sql } = db;
  await requireCohort(db, q.cohorte_id);
  const where = filterWhere(sql, q);
  const pageWhere = q.cursor ? [...where, sql`s.id > ${q.cursor}::bigint`] : where;
  const skip = q.offset ? sql`offset ${q.offset}` : sql``;
  const [rows, counted] = await Promise.all([
    sql<SuggestionRow[]>`select s.id, s.cohorte_id, s.cle, s.statut, s.contexte, s.changes, s.metadata, s.created_at, s.updated_at
      from consolidation.suggestions s where ${and(sql, pageWhere)} order by s.id limit ${q.limit + 1} ${skip}`,
    q.count === 'true' ? sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestions s where ${and(sql, where)}` : Promise.resolve(null),
  ]);
  const page = rows.slice(0, q.limit).map(toSuggestion);
  return { items: page, next_cursor: rows.length > q.limit ? String(page.at(-1)!.id) : null, total: counted ? counted[0]!.n : null };
}

export interface SuggestionLogView {
  niveau: string;
  fonction: string;
  message: string;
  auteur: string | null;
  identifiant_execution: string;
  created_at: string;
}

/** One suggestion with its history (decisions and what the pipeline logged about it). */
export async function getSuggestion(db: ReviewDb, suggestionId: number): Promise<SuggestionView & { logs: SuggestionLogView[] }> {
  const sid = parse(id, suggestionId);
  const { sql } = db;
  const [row] = await sql<SuggestionRow[]>`select id, cohorte_id, cle, statut, contexte, changes, metadata, created_at, updated_at from consolidation.suggestions s where s.id = ${sid}`;
  if (!row) throw new ReviewNotFoundError(`no suggestion ${sid}`);
  const logs = await sql<(Omit<SuggestionLogView, 'created_at'> & { created_at: Date })[]>`
    select niveau, fonction, message, auteur, identifiant_execution, created_at from consolidation.suggestion_logs where suggestion_id = ${sid} order by id`;
  return { ...toSuggestion(row), logs: logs.map((l) => ({ ...l, created_at: iso(l.created_at) })) };
}

// ---------------------------------------------------------------- decisions

export interface DecisionResult {
  /** Groups the logs of this decision (`identifiant_execution` of its INFO logs). */
  decision_id: string;
  decision: Decision;
  statut: SuggestionStatut;
  /** Suggestions moved. */
  changed: number;
  /** Named or matching suggestions in a state this decision does not move (left as they were). */
  refused_total: number;
  /** The first 100 of them. */
  refused: { id: number; statut: SuggestionStatut }[];
  /** Named ids that do not exist. */
  missing: number[];
}

/**
 * Accepts or rejects suggestions in one statement: the matching rows are locked, moved if their
 * status allows, and logged, or nothing is. With a filter, `refused` counts (and lists at most 100 of)
 * the matching suggestions that were in another state.
 */
export async function decide(db: ReviewDb, input: DecisionInput): Promise<DecisionResult> {
  const d = parseDecision(input);
  const { sql } = db;
  const { from, to } = TRANSITIONS[d.decision];
  const decisionId = `revue-${randomUUID()}`;
  let selector: Fragment;
  if ('ids' in d) {
    selector = sql`s.id = any(${d.ids}::bigint[])`;
  } else {
    await requireCohort(db, d.filter.cohorte_id);
    const where = filterWhere(sql, d.filter);
    if (d.except.length) where.push(sql`s.id <> all(${d.except}::bigint[])`);
    selector = and(sql, where);
  }
  const message = `${d.decision === 'accept' ? 'acceptée' : 'rejetée'} par ${d.par}${d.raison ? ` : ${d.raison}` : ''}`;
  const decidedAt = new Date().toISOString();
  const named = 'ids' in d;
  type Row = { changed: number; refused_total: number; refused: { id: number; statut: SuggestionStatut }[] | null; found: string[] | null; cohorts: string[] | null };
  // The decision and the cohorts it moves (suggestions/cohorts.ts) commit together.
  const result = await sql.begin(async (tx) => {
    const [row] = await tx<Row[]>`
    with target as (
      select s.id, s.statut from consolidation.suggestions s where ${selector} for update
    ), changed as (
      update consolidation.suggestions s
         set statut = ${to}, updated_at = now(),
             metadata = s.metadata || jsonb_build_object('revue', jsonb_build_object('decision', ${d.decision}::text, 'par', ${d.par}::text, 'le', ${decidedAt}::text, 'decision_id', ${decisionId}::text))
        from target t
       where s.id = t.id and t.statut = any(${from}::text[])
      returning s.id, s.cohorte_id, s.cle, t.statut as avant
    ), logged as (
      insert into consolidation.suggestion_logs
        (cohorte_id, suggestion_id, identifiant_execution, identifiant_unique, niveau, fonction, origine_colonnes, origine_valeurs, destination_colonnes, message, auteur)
      select c.cohorte_id, c.id, ${decisionId}, c.cle, 'INFO', ${`revue.${d.decision}`}, '{statut}', jsonb_build_array(c.avant), '{statut}', ${message}, ${d.par}
        from changed c
      returning 1
    )
    select (select count(*)::int from changed) as changed,
           (select count(*)::int from logged) as logged,
           (select count(*)::int from target where not (statut = any(${from}::text[]))) as refused_total,
           (select jsonb_agg(jsonb_build_object('id', t.id, 'statut', t.statut) order by t.id)
              from (select id, statut from target where not (statut = any(${from}::text[])) order by id limit 100) t) as refused,
           case when ${named}::boolean then (select array_agg(id::text) from target) end as found,
           (select array_agg(distinct cohorte_id::text) from changed) as cohorts`;
    await followCohorts(tx, row!.cohorts ?? []);
    return row!;
  });
  const refused = (result.refused ?? []).map((r) => ({ id: Number(r.id), statut: r.statut }));
  let missing: number[] = [];
  if ('ids' in d) {
    const found = new Set((result.found ?? []).map(Number));
    missing = [...new Set(d.ids)].filter((i) => !found.has(i));
  }
  return { decision_id: decisionId, decision: d.decision, statut: to, changed: result.changed, refused_total: result.refused_total, refused, missing };
}

/** One suggestion: a state it cannot be moved from is an error (409 in the API), not a silent no-op. */
export async function decideOne(db: ReviewDb, input: { id: number; decision: Decision; par: string; raison?: string }): Promise<DecisionResult> {
  const result = await decide(db, { ids: [input.id], decision: input.decision, par: input.par, ...(input.raison ? { raison: input.raison } : {}) });
  if (result.missing.length) throw new ReviewNotFoundError(`no suggestion ${input.id}`);
  if (result.refused.length) {
    const r = result.refused[0]!;
    throw new ReviewStateError(
      `suggestion ${r.id} is ${r.statut}: only ${TRANSITIONS[input.decision].from.join(' or ')} can be ${input.decision === 'accept' ? 'accepted' : 'rejected'}`,
      result.refused,
    );
  }
  return result;
}
