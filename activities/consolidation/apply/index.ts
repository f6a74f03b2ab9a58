/**
 * Applying accepted suggestions, QFDMOD's way: a suggestion is claimed (ATRAITER → ENCOURS, committed),
 * then its changes run in `order` in their own transaction that also sets SUCCES; a failure rolls the
 * changes back and sets ERREUR with `metadata.error`. A suggestion left ENCOURS by a crash is never
 * picked up again by itself (a person looks at it): its changes were either committed with SUCCES or
 * not at all, so nothing is ever applied twice. The suggestion's cohort follows it in the same
 * transaction (suggestions/cohorts.ts): the last one applied or failed closes the cohort.
 */
import { Context } from '@temporalio/activity';
import type { Sql, TransactionSql } from 'postgres';
import { ACTEUR_FIELDS, ChangesSchema, type Change } from '../../../schema/consolidation/items';
import { items } from '../../engine/metrics';
import { followCohorts } from '../suggestions/cohorts';

/** A change whose precondition does not hold (the message says which). */
export class ChangePreconditionError extends Error {
  constructor(
    readonly modelName: string,
    message: string,
  ) {
    super(`${modelName}: ${message}`);
    this.name = 'ChangePreconditionError';
  }
}

const FIELDS = new Set<string>(ACTEUR_FIELDS);
type Tx = TransactionSql;
type Data = Record<string, unknown>;

function columnsOf(data: Data): string[] {
  const cols = Object.keys(data);
  for (const c of cols) if (!FIELDS.has(c)) throw new ChangePreconditionError('data', `unknown field ${c}`);
  return cols;
}

async function exists(tx: Tx, table: 'acteurs' | 'revision_acteurs', id: string): Promise<boolean> {
  const rows = await tx.unsafe(`select 1 from consolidation.${table} where identifiant_unique = $1`, [id]);
  return rows.length > 0;
}

/** Writes `data` onto a row through jsonb_populate_record, so every column keeps its own type. */
async function insertRow(tx: Tx, table: 'acteurs' | 'revision_acteurs', id: string, data: Data, extra: Data = {}): Promise<void> {
  const all = { ...data, ...extra, identifiant_unique: id };
  const cols = ['identifiant_unique', ...columnsOf(data), ...Object.keys(extra)].map((c) => `"${c}"`).join(', ');
  await tx.unsafe(`insert into consolidation.${table} (${cols}) select ${cols} from jsonb_populate_record(null::consolidation.${table}, $1::jsonb)`, [JSON.stringify(all)]);
}

async function updateRow(tx: Tx, table: 'acteurs' | 'revision_acteurs', id: string, data: Data, extra: Data = {}): Promise<void> {
  const cols = [...columnsOf(data), ...Object.keys(extra)];
  if (cols.length === 0) return;
  const list = cols.map((c) => `"${c}"`).join(', ');
  await tx.unsafe(
    `update consolidation.${table} set (${list}, modifie_le) = (select ${list}, now() from jsonb_populate_record(null::consolidation.${table}, $1::jsonb)) where identifiant_unique = $2`,
    [JSON.stringify({ ...data, ...extra }), id],
  );
}

/** A revision row for an acteur, created empty (the overlay falls back to the imported values). */
async function ensureRevision(tx: Tx, id: string): Promise<void> {
  await tx.unsafe(`insert into consolidation.revision_acteurs (identifiant_unique) values ($1) on conflict (identifiant_unique) do nothing`, [id]);
}

/** A parent without children is removed (QFDMOD deletes it once its children move away). */
async function dropChildlessParent(tx: Tx, parentId: string | null): Promise<void> {
  if (!parentId) return;
  await tx.unsafe(
    `delete from consolidation.revision_acteurs p where p.identifiant_unique = $1 and p.est_parent
       and not exists (select 1 from consolidation.revision_acteurs c where c.parent_id = p.identifiant_unique)`,
    [parentId],
  );
}

async function applyChange(tx: Tx, change: Change): Promise<void> {
  const p = change.model_params as { id: string; data?: Data };
  const fail = (message: string) => new ChangePreconditionError(change.model_name, message);
  switch (change.model_name) {
    case 'source_acteur_create':
      if (await exists(tx, 'acteurs', p.id)) throw fail(`acteur ${p.id} already exists`);
      return insertRow(tx, 'acteurs', p.id, p.data!);
    case 'source_acteur_update':
      if (!(await exists(tx, 'acteurs', p.id))) throw fail(`acteur ${p.id} does not exist`);
      return updateRow(tx, 'acteurs', p.id, p.data!);
    case 'source_acteur_delete':
      if (!(await exists(tx, 'acteurs', p.id))) throw fail(`acteur ${p.id} does not exist`);
      return updateRow(tx, 'acteurs', p.id, { statut: 'SUPPRIME' });
    case 'acteur_create_as_parent':
      if ((await exists(tx, 'acteurs', p.id)) || (await exists(tx, 'revision_acteurs', p.id))) throw fail(`${p.id} already exists`);
      return insertRow(tx, 'revision_acteurs', p.id, p.data!, { est_parent: true });
    case 'acteur_keep_as_parent':
      if (!(await exists(tx, 'revision_acteurs', p.id))) throw fail(`parent ${p.id} has no revision`);
      return updateRow(tx, 'revision_acteurs', p.id, p.data!, { est_parent: true });
    case 'acteur_update_parent_id': {
      if (!(await exists(tx, 'acteurs', p.id))) throw fail(`acteur ${p.id} does not exist`);
      const parentId = (p.data as { parent_id: string }).parent_id;
      if (!(await exists(tx, 'revision_acteurs', parentId))) throw fail(`parent ${parentId} does not exist in revision`);
      const [before] = await tx.unsafe<{ parent_id: string | null }[]>(`select parent_id from consolidation.revision_acteurs where identifiant_unique = $1`, [p.id]);
      await ensureRevision(tx, p.id);
      await tx.unsafe(`update consolidation.revision_acteurs set parent_id = $1, modifie_le = now() where identifiant_unique = $2`, [parentId, p.id]);
      if (before?.parent_id && before.parent_id !== parentId) await dropChildlessParent(tx, before.parent_id);
      return;
    }
    case 'acteur_verify_in_revision': {
      const [row] = await tx.unsafe<{ parent_id: string | null }[]>(`select parent_id from consolidation.revision_acteurs where identifiant_unique = $1`, [p.id]);
      const parentId = (p.data as { parent_id: string }).parent_id;
      if (!row) throw fail(`acteur ${p.id} has no revision`);
      if (row.parent_id !== parentId) throw fail(`acteur ${p.id} points to ${row.parent_id ?? 'no parent'}, not ${parentId}`);
      return;
    }
    case 'acteur_delete_as_parent': {
      if (!(await exists(tx, 'revision_acteurs', p.id))) return;
      const [children] = await tx.unsafe<{ n: number }[]>(
        `select count(*)::int as n from consolidation.revision_acteurs r left join consolidation.acteurs a using (identifiant_unique)
          where r.parent_id = $1 and coalesce(r.statut, a.statut, 'ACTIF') = 'ACTIF'`,
        [p.id],
      );
      if (children!.n > 0) throw fail(`parent ${p.id} still has ${children!.n} active child(ren)`);
      await tx.unsafe(`update consolidation.revision_acteurs set parent_id = null where parent_id = $1`, [p.id]);
      await tx.unsafe(`delete from consolidation.revision_acteurs where identifiant_unique = $1`, [p.id]);
      return;
    }
    case 'acteur_update_data':
    case 'acteur_update_statut':
      if (!(await exists(tx, 'acteurs', p.id)) && !(await exists(tx, 'revision_acteurs', p.id))) throw fail(`acteur ${p.id} does not exist`);
      await ensureRevision(tx, p.id);
      return updateRow(tx, 'revision_acteurs', p.id, p.data!);
  }
}

export type ApplyOutcome = 'SUCCES' | 'ERREUR' | 'skipped';

/** Applies one suggestion if it is ATRAITER; anything else is left as it is. */
export async function applySuggestion(sql: Sql, id: number, hooks: { afterClaim?: (id: number) => Promise<void> } = {}): Promise<ApplyOutcome> {
  const claimed = await sql<{ changes: unknown; cohorte_id: string }[]>`update consolidation.suggestions set statut = 'ENCOURS', updated_at = now() where id = ${id} and statut = 'ATRAITER' returning changes, cohorte_id`;
  if (claimed.length === 0) return 'skipped';
  const { changes: raw, cohorte_id: cohortId } = claimed[0]!;
  await hooks.afterClaim?.(id);
  try {
    await sql.begin(async (tx) => {
      const changes = [...ChangesSchema.parse(raw)].sort((a, b) => a.order - b.order);
      for (const change of changes) await applyChange(tx, change);
      await tx`update consolidation.suggestions set statut = 'SUCCES', updated_at = now() where id = ${id}`;
      await followCohorts(tx, [cohortId]);
    });
    return 'SUCCES';
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await sql.begin(async (tx) => {
      await tx`update consolidation.suggestions set statut = 'ERREUR', updated_at = now(), metadata = metadata || ${JSON.stringify({ error: message })}::jsonb where id = ${id}`;
      await followCohorts(tx, [cohortId]);
    });
    return 'ERREUR';
  }
}

export interface ApplyBatchResult {
  succes: number;
  erreur: number;
  skipped: number;
  /** More ATRAITER suggestions are waiting. */
  more: boolean;
}

export interface ApplyDeps {
  sql: Sql;
  /** Test hook: runs between a suggestion's claim (ENCOURS) and its changes. */
  afterClaim?: (id: number) => Promise<void>;
}

/** Applies up to `limit` ATRAITER suggestions, oldest first, one transaction each. */
export async function consolidationApplyBatch(deps: ApplyDeps, input: { limit?: number } = {}): Promise<ApplyBatchResult> {
  const limit = Math.min(Math.max(input.limit ?? 200, 1), 1000);
  const ids = await deps.sql<{ id: number }[]>`select id from consolidation.suggestions where statut = 'ATRAITER' order by cohorte_id, id limit ${limit + 1}`;
  const result: ApplyBatchResult = { succes: 0, erreur: 0, skipped: 0, more: ids.length > limit };
  for (const { id } of ids.slice(0, limit)) {
    const outcome = await applySuggestion(deps.sql, Number(id), deps.afterClaim ? { afterClaim: deps.afterClaim } : {});
    if (outcome === 'SUCCES') result.succes++;
    else if (outcome === 'ERREUR') result.erreur++;
    else result.skipped++;
    // Each suggestion once committed: applied (its changes stored in the acteurs) or failed; one another
    // worker took is not counted here.
    if (outcome !== 'skipped') items().add(1, { pipeline: 'consolidation', kind: 'suggestion', result: outcome === 'SUCCES' ? 'saved' : 'failed' });
    try {
      Context.current().heartbeat(result);
    } catch {
      // Called outside an activity (tests).
    }
  }
  return result;
}

/** The apply activity, as the worker registers it (see `bindActivities`). */
export const consolidationApplyActivities = { consolidationApplyBatch };
