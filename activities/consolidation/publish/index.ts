/**
 * Publishing the consolidated acteurs: the displayed set (`displayed.ts`), the weekly statistics
 * (QFDMOD's `marts/stats`: imported vs revised acteurs, SIRET/SIREN coverage, displayed counts, kept per
 * ISO week so the history stacks up), the weekly open-data export (`export.ts`) and the cleanup of old
 * logs and of suggestions done with. Every activity is idempotent: statistics upsert on (week, source),
 * the export overwrites its week's files, the cleanup deletes what is past its retention.
 */
import { Context } from '@temporalio/activity';
import type { Sql } from 'postgres';
import { z } from 'zod';
import { loadConsolidationPublishConfig, type ConsolidationPublishConfig } from '../../../schema/config';
import { InvalidInputError } from '../../engine/errors';
import { pipelineConfig } from '../../engine/pipeline-config';
import { publishDisplayed, type PublishResult } from './displayed';
import { EXPORT_FORMATS, exportOpenData, type ExportFileResult } from './export';

export { publishDisplayed, type PublishResult } from './displayed';
export { exportOpenData, ExportCountMismatchError, EXPORT_COLUMNS, type ExportFileResult, type ExportFormat } from './export';

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (tests, the bench): nothing to report to.
  }
}

const semaineSchema = z.string().regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'semaine must be an ISO week like 2026-W49');

export interface StatsResult {
  semaine: string;
  sources: number;
  acteurs: number;
  affichesCarte: number;
  affichesOpendata: number;
}

/** One source's row of a week's statistics (`source_code` '*': all sources). */
export interface StatsRow {
  source_code: string;
  acteurs: number;
  acteurs_actifs: number;
  revisions: number;
  parents: number;
  enfants: number;
  affiches_carte: number;
  affiches_opendata: number;
  avec_siret: number;
  avec_siren: number;
  suggestions_en_attente: number;
}

/** The week's statistics, one row per source and one for all ('*'), computed in one snapshot. */
export async function computeWeeklyStats(sql: Sql, semaine: string): Promise<StatsResult> {
  return sql.begin('isolation level repeatable read', async (tx) => {
    const rows = await tx.unsafe<StatsRow[]>(
      `with imported as (
         select coalesce(source_code, '*') as source_code, count(*)::int as acteurs, (count(*) filter (where statut = 'ACTIF'))::int as acteurs_actifs,
                (count(*) filter (where revision_existe))::int as revisions, (count(*) filter (where parent_id is not null))::int as enfants,
                (count(*) filter (where siret <> ''))::int as avec_siret, (count(*) filter (where siren <> ''))::int as avec_siren
           from consolidation.vue_acteurs where acteur_existe group by grouping sets ((source_code), ())),
       parents as (select '*'::text as source_code, count(*)::int as parents from consolidation.vue_acteurs where est_parent),
       displayed as (
         select src as source_code, (count(*) filter (where perimetre = 'carte'))::int as carte, (count(*) filter (where perimetre = 'opendata'))::int as opendata
           from consolidation.acteurs_affiches, unnest(source_codes) src group by src
         union all
         select '*', (count(*) filter (where perimetre = 'carte'))::int, (count(*) filter (where perimetre = 'opendata'))::int from consolidation.acteurs_affiches),
       pending as (
         select coalesce(c.source_code, '*') as source_code, count(*)::int as n
           from consolidation.suggestions s join consolidation.suggestion_cohortes c on c.id = s.cohorte_id
          where s.statut in ('AVALIDER', 'ATRAITER') group by grouping sets ((c.source_code), ()))
       select i.source_code, i.acteurs, i.acteurs_actifs, i.revisions, coalesce(p.parents, 0) as parents, i.enfants,
              coalesce(d.carte, 0) as affiches_carte, coalesce(d.opendata, 0) as affiches_opendata, i.avec_siret, i.avec_siren,
              coalesce(q.n, 0) as suggestions_en_attente
         from imported i
         left join parents p using (source_code)
         left join displayed d using (source_code)
         left join pending q using (source_code)`,
    );
    // An empty database still gets its '*' row: the history has no holes.
    if (!rows.some((r) => r.source_code === '*')) {
      rows.push({ source_code: '*', acteurs: 0, acteurs_actifs: 0, revisions: 0, parents: 0, enfants: 0, affiches_carte: 0, affiches_opendata: 0, avec_siret: 0, avec_siren: 0, suggestions_en_attente: 0 });
    }
    await tx.unsafe(
      `insert into consolidation.statistiques_hebdo (semaine, source_code, acteurs, acteurs_actifs, revisions, parents, enfants, affiches_carte, affiches_opendata, avec_siret, avec_siren, suggestions_en_attente, calcule_le)
       select $1, x.source_code, x.acteurs, x.acteurs_actifs, x.revisions, x.parents, x.enfants, x.affiches_carte, x.affiches_opendata, x.avec_siret, x.avec_siren, x.suggestions_en_attente, now()
         from jsonb_to_recordset($2::jsonb) as x(source_code text, acteurs int, acteurs_actifs int, revisions int, parents int, enfants int, affiches_carte int, affiches_opendata int, avec_siret int, avec_siren int, suggestions_en_attente int)
       on conflict (semaine, source_code) do update set acteurs = excluded.acteurs, acteurs_actifs = excluded.acteurs_actifs, revisions = excluded.revisions, parents = excluded.parents,
         enfants = excluded.enfants, affiches_carte = excluded.affiches_carte, affiches_opendata = excluded.affiches_opendata, avec_siret = excluded.avec_siret,
         avec_siren = excluded.avec_siren, suggestions_en_attente = excluded.suggestions_en_attente, calcule_le = now()`,
      [semaine, JSON.stringify(rows)],
    );
    const all = rows.find((r) => r.source_code === '*')!;
    return { semaine, sources: rows.length - 1, acteurs: all.acteurs, affichesCarte: all.affiches_carte, affichesOpendata: all.affiches_opendata };
  });
}

export interface CleanupResult {
  logs: number;
  suggestions: number;
  cohortes: number;
}

/**
 * Deletes normalisation logs older than their retention, suggestions done with (SUCCES, REJETEE) older
 * than theirs, then the cohorts of that age left empty. Suggestions still waiting, in error or left
 * ENCOURS by a crash are kept whatever their age: a person has to look at them. In batches, so no
 * statement holds its locks long.
 */
export async function cleanupOld(sql: Sql, retention: { logDays: number; suggestionDays: number }, batch = 10_000): Promise<CleanupResult> {
  const result: CleanupResult = { logs: 0, suggestions: 0, cohortes: 0 };
  for (;;) {
    const { count } = await sql`delete from consolidation.suggestion_logs where id in (
      select id from consolidation.suggestion_logs where created_at < now() - make_interval(days => ${retention.logDays}) limit ${batch})`;
    result.logs += count;
    heartbeat(result);
    if (count < batch) break;
  }
  for (;;) {
    const { count } = await sql`delete from consolidation.suggestions where id in (
      select id from consolidation.suggestions where statut in ('SUCCES', 'REJETEE') and updated_at < now() - make_interval(days => ${retention.suggestionDays}) limit ${batch})`;
    result.suggestions += count;
    heartbeat(result);
    if (count < batch) break;
  }
  const { count } = await sql`delete from consolidation.suggestion_cohortes c where c.created_at < now() - make_interval(days => ${retention.suggestionDays})
    and not exists (select 1 from consolidation.suggestions s where s.cohorte_id = c.id)`;
  result.cohortes = count;
  return result;
}

export interface PublishDeps {
  sql: Sql;
  env?: Record<string, string | undefined>;
}

const publishConfig = (deps: PublishDeps): ConsolidationPublishConfig => pipelineConfig(loadConsolidationPublishConfig, deps.env);

function checkSemaine(semaine: unknown): string {
  const parsed = semaineSchema.safeParse(semaine);
  if (!parsed.success) throw new InvalidInputError(`semaine: ${parsed.error.issues[0]!.message} (got ${JSON.stringify(semaine)})`, { semaine });
  return parsed.data;
}

export async function consolidationPublishRefresh(deps: PublishDeps): Promise<PublishResult> {
  return publishDisplayed(deps.sql, (phase) => heartbeat({ phase }));
}

export async function consolidationStatsCompute(deps: PublishDeps, input: { semaine: string }): Promise<StatsResult> {
  return computeWeeklyStats(deps.sql, checkSemaine(input.semaine));
}

export async function consolidationExportFile(deps: PublishDeps, input: { semaine: string; format: string }): Promise<ExportFileResult> {
  const semaine = checkSemaine(input.semaine);
  const format = z.enum(EXPORT_FORMATS).safeParse(input.format);
  if (!format.success) throw new InvalidInputError(`format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(input.format)}`, { format: input.format });
  return exportOpenData(deps.sql, { dir: publishConfig(deps).exportDir, semaine, format: format.data, onProgress: (rows) => heartbeat({ rows }) });
}

export async function consolidationCleanupRun(deps: PublishDeps): Promise<CleanupResult> {
  const c = publishConfig(deps);
  return cleanupOld(deps.sql, { logDays: c.logRetentionDays, suggestionDays: c.suggestionRetentionDays });
}

/** The publishing activities, as the worker registers them (see `bindActivities`). */
export const consolidationPublishActivities = { consolidationPublishRefresh, consolidationStatsCompute, consolidationExportFile, consolidationCleanupRun };
