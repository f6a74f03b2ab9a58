/**
 * `moisson consolidation …`: runs of the consolidation pipeline (ingest, cluster, apply, enrich,
 * sirene-load, publish, stats, export, cleanup) through Temporal, the review of its suggestions, and what
 * publishing wrote (statistics, export files) on the database. The rules are in
 * activities/consolidation/{runs,review,publish/read} (shared with the API): this file reads arguments and prints.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { connectPostgres, type Database } from '../../activities/engine/db';
import {
  decide,
  getCohort,
  listCohorts,
  listSuggestions,
  ReviewInputError,
  ReviewNotFoundError,
  type Decision,
  type SuggestionFilter,
} from '../../activities/consolidation/review';
import { exportFile, listExports, PublishedInputError, PublishedNotFoundError, weeklyStats, type WeeklyStats } from '../../activities/consolidation/publish/read';
import {
  databaseStatus,
  describeRun,
  defaultClusterConfig,
  listRuns,
  RunAlreadyRunningError,
  RunInputError,
  RunNotFoundError,
  runResult,
  startRun,
  type ConsolidationRunKind,
} from '../../activities/consolidation/runs';
import { CliError, closeClient, config, connect, EXIT, positiveInt, uiLink, waitForResult } from './common';

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = connectPostgres(config().databaseUrl, { max: 2 });
  try {
    return await fn(db);
  } catch (err) {
    if (err instanceof ReviewInputError || err instanceof PublishedInputError) throw new CliError(err.message, EXIT.config_error);
    if (err instanceof ReviewNotFoundError || err instanceof PublishedNotFoundError) throw new CliError(err.message, EXIT.failure);
    throw err;
  } finally {
    await db.close();
  }
}

async function withRunErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RunInputError) throw new CliError(err.message, EXIT.config_error);
    throw err;
  }
}

/** Starts a run (or attaches to the one going under its id), prints where to see it, waits with --sync. */
async function run(kind: ConsolidationRunKind, input: Record<string, unknown>, sync: boolean): Promise<unknown> {
  const cfg = config();
  const client = await connect(cfg);
  try {
    let workflowId: string;
    try {
      const started = await startRun(client, cfg.temporal.taskQueue, kind, input);
      workflowId = started.workflowId;
      console.log(`started ${workflowId}`);
    } catch (err) {
      if (err instanceof RunInputError) throw new CliError(err.message, EXIT.config_error);
      if (!(err instanceof RunAlreadyRunningError)) throw err;
      workflowId = err.workflowId;
      console.log(`${workflowId} is already running; ${sync ? 'waiting for it' : 'not starting another'}`);
    }
    console.log(`  ${uiLink(cfg, workflowId)}`);
    if (!sync) return undefined;
    const result = await waitForResult(runResult(client, workflowId));
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await closeClient(client);
  }
}

const ids = (value: string, previous: number[] = []): number[] => [
  ...previous,
  ...value
    .split(',')
    .filter(Boolean)
    .map((v) => positiveInt(v)),
];

function jsonObject(value: string): Record<string, unknown> {
  const text = value.trim().startsWith('{') ? value : readFileSync(value, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`not JSON (inline or a file): ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object');
  return parsed as Record<string, unknown>;
}

interface FilterOptions {
  cohort?: number;
  statut?: string;
  cle?: string;
  champ?: string;
  modele?: string;
}

function filterOf(o: FilterOptions): SuggestionFilter {
  if (o.cohort === undefined) throw new CliError('--cohort is required with a filter', EXIT.config_error);
  return {
    cohorte_id: o.cohort,
    ...(o.statut ? { statut: o.statut.split(',') as SuggestionFilter['statut'] } : {}),
    ...(o.cle ? { cle: o.cle } : {}),
    ...(o.champ ? { champ: o.champ } : {}),
    ...(o.modele ? { modele: o.modele as SuggestionFilter['modele'] } : {}),
  };
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);

function printStats(stats: WeeklyStats): void {
  console.log(`statistics of ${stats.semaine} (computed ${stats.calcule_le})`);
  console.log(`${pad('source', 24)} ${pad('acteurs', 8)} ${pad('actifs', 8)} ${pad('revisions', 10)} ${pad('carte', 7)} ${pad('opendata', 9)} ${pad('siret', 7)} ${pad('siren', 7)} en attente`);
  for (const r of stats.sources) {
    const name = r.source_code === '*' ? 'all sources' : r.source_code;
    console.log(
      `${pad(name, 24)} ${pad(r.acteurs, 8)} ${pad(r.acteurs_actifs, 8)} ${pad(r.revisions, 10)} ${pad(r.affiches_carte, 7)} ${pad(r.affiches_opendata, 9)} ${pad(r.avec_siret, 7)} ${pad(r.avec_siren, 7)} ${r.suggestions_en_attente}`,
    );
  }
}

export function registerConsolidationCommands(program: Command): void {
  const cons = program.command('consolidation').description('open-data acteurs: ingest sources, review suggestions, apply, cluster, enrich, publish, export');

  cons
    .command('ingest <source>')
    .description('ingest one declared source (workflow consolidationIngest, id consolidation-ingest-<source>)')
    .option('--sync', 'wait for the run and print its cohorts')
    .action(async (source: string, o: { sync?: boolean }) => {
      await run('ingest', { source }, Boolean(o.sync));
    });

  cons
    .command('cluster')
    .description('cluster duplicates across sources into one CLUSTERING cohort (workflow consolidationCluster)')
    .option('--config <json|file>', 'clustering settings as JSON, inline or a file (default: QFDMOD\'s defaults over every acteur type imported)', jsonObject)
    .option('--label <label>', 'names the run: consolidation-cluster-<label>', 'manual')
    .option('--dry-run', 'cluster and count, write no cohort')
    .option('--sync', 'wait for the run')
    .action(async (o: { config?: Record<string, unknown>; label: string; dryRun?: boolean; sync?: boolean }) => {
      const clusterConfig = o.config ?? (await withDb((db) => withRunErrors(() => defaultClusterConfig(db.sql))));
      if (!o.config) console.log(`config: ${JSON.stringify(clusterConfig)}`);
      await run('cluster', { label: o.label, config: clusterConfig, ...(o.dryRun ? { dryRun: true } : {}) }, Boolean(o.sync));
    });

  cons
    .command('apply')
    .description('apply the accepted suggestions now (workflow consolidationApply, as the 5-minute Schedule does)')
    .option('--sync', 'wait for the run and print what it applied')
    .action(async (o: { sync?: boolean }) => {
      const result = (await run('apply', {}, Boolean(o.sync))) as { erreur?: number } | undefined;
      if (result?.erreur) process.exitCode = EXIT.partial;
    });

  cons
    .command('export')
    .description('the weekly open-data export (workflow consolidationExport, id consolidation-export-<ISO week>)')
    .option('--week <week>', 'ISO week such as 2026-W49 (default: this week)')
    .option('--sync', 'wait for the run')
    .action(async (o: { week?: string; sync?: boolean }) => {
      await run('export', o.week ? { semaine: o.week } : {}, Boolean(o.sync));
    });

  cons
    .command('enrich <kind>')
    .description('one enrichment kind over the active acteurs, as suggestions (workflow consolidationEnrich, id consolidation-enrich-<kind>): ban, sirene-closed')
    .option('--page-size <n>', 'acteurs per page (default: CONSOLIDATION_ENRICH_PAGE_SIZE)', positiveInt)
    .option('--sync', 'wait for the run and print its counts')
    .action(async (kind: string, o: { pageSize?: number; sync?: boolean }) => {
      await run('enrich', { kind, ...(o.pageSize ? { pageSize: o.pageSize } : {}) }, Boolean(o.sync));
    });

  const plainRuns: [ConsolidationRunKind, string][] = [
    ['sirene-load', "load INSEE's SIRENE establishment stock into PostgreSQL (workflow consolidationSireneLoad), for enrich sirene-closed"],
    ['publish', 'rebuild the displayed acteurs (map and open-data perimeters) now (workflow consolidationPublish)'],
    ['cleanup', 'delete logs and finished suggestions past their retention now (workflow consolidationCleanup)'],
  ];
  for (const [kind, description] of plainRuns) {
    cons
      .command(kind)
      .description(description)
      .option('--sync', 'wait for the run')
      .action(async (o: { sync?: boolean }) => {
        await run(kind, {}, Boolean(o.sync));
      });
  }

  cons
    .command('stats')
    .description("a week's statistics per source (the latest computed); --compute starts the run that computes them (workflow consolidationStats)")
    .option('--week <week>', 'ISO week such as 2026-W49')
    .option('--compute', 'compute the week (this week by default) instead of reading it')
    .option('--sync', 'with --compute: wait for the run, then print the statistics')
    .option('--json', 'print JSON')
    .action(async (o: { week?: string; compute?: boolean; sync?: boolean; json?: boolean }) => {
      let week = o.week;
      if (o.compute) {
        const result = (await run('stats', o.week ? { semaine: o.week } : {}, Boolean(o.sync))) as { semaine: string } | undefined;
        if (!result) return;
        week = result.semaine;
      } else if (o.sync) {
        throw new CliError('--sync goes with --compute', EXIT.config_error);
      }
      const stats = await withDb((db) => weeklyStats(db.sql, week ? { semaine: week } : {}));
      if (o.json) return void console.log(JSON.stringify(stats, null, 2));
      printStats(stats);
    });

  cons
    .command('exports')
    .description('the weekly open-data exports recorded, newest first')
    .option('--limit <n>', 'rows', positiveInt)
    .option('--json', 'print JSON')
    .action(async (o: { limit?: number; json?: boolean }) => {
      const items = await withDb((db) => listExports(db.sql, o.limit ? { limit: o.limit } : {}));
      if (o.json) return void console.log(JSON.stringify(items, null, 2));
      if (items.length === 0) console.log('no export yet: moisson consolidation export --sync');
      for (const e of items) console.log(`${pad(e.semaine, 9)} ${pad(e.format, 8)} ${pad(`${e.lignes} rows`, 12)} ${pad(`${e.octets} bytes`, 16)} sha256 ${e.sha256}  ${e.exporte_le}`);
    });

  cons
    .command('download <week> <format>')
    .description("one week's export file (week: 2026-W49 or latest; format: csv or geojson), its sha256 checked against the one recorded")
    .option('--out <file>', 'where to write it (default: acteurs-<week>.<format> here)')
    .action(async (week: string, format: string, o: { out?: string }) => {
      await withDb(async (db) => {
        const file = await exportFile(db.sql, { semaine: week, format: format as 'csv' });
        const out = o.out ?? file.filename;
        const part = `${out}.part`;
        const hash = createHash('sha256');
        const source = file.open();
        source.on('data', (chunk) => hash.update(chunk));
        await pipeline(source, createWriteStream(part));
        const sha256 = hash.digest('hex');
        if (sha256 !== file.sha256) {
          await rm(part, { force: true });
          throw new CliError(`the ${file.format} export of ${file.semaine} does not hash to what was recorded (${sha256}, recorded ${file.sha256}): not written`, EXIT.failure);
        }
        await rename(part, out);
        console.log(`${out}: ${file.semaine} ${file.format}, ${file.lignes} rows, ${file.octets} bytes, sha256 ${sha256} (as recorded)`);
      });
    });

  cons
    .command('run <workflowId>')
    .description('one run: its status, and its result or, once failed, its root cause (the innermost error and its activity)')
    .option('--json', 'print JSON')
    .action(async (workflowId: string, o: { json?: boolean }) => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        const view = await describeRun(client, workflowId).catch((err: unknown) => {
          if (err instanceof RunNotFoundError) throw new CliError(err.message, EXIT.failure);
          throw err;
        });
        if (o.json) console.log(JSON.stringify(view, null, 2));
        else {
          console.log(`${view.workflow_id} (${view.workflow_type}) ${view.status}, started ${view.started_at ?? '-'}${view.closed_at ? `, closed ${view.closed_at}` : ''}`);
          if (view.failure) console.log(`failed: ${view.failure}`);
          if (view.result !== undefined) console.log(JSON.stringify(view.result, null, 2));
          console.log(`  ${uiLink(cfg, view.workflow_id)}`);
        }
        if (view.status === 'failed' || view.status === 'terminated' || view.status === 'timed_out') process.exitCode = EXIT.failure;
      } finally {
        await closeClient(client);
      }
    });

  cons
    .command('status')
    .description('acteurs, cohorts and suggestions by status, sources, and the recent runs')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const status = await withDb((db) => databaseStatus(db.sql));
      const cfg = config();
      let runs: Awaited<ReturnType<typeof listRuns>> | string;
      try {
        const client = await connect(cfg);
        try {
          runs = await listRuns(client, 10);
        } finally {
          await closeClient(client);
        }
      } catch (err) {
        runs = `Temporal unreachable: ${(err as Error).message}`;
      }
      if (o.json) {
        console.log(JSON.stringify({ ...status, runs }, null, 2));
        return;
      }
      const line = (label: string, counts: Record<string, number>) =>
        console.log(`${pad(label, 12)} ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
      line('acteurs', status.acteurs);
      console.log(`${pad('revisions', 12)} ${status.revisions}`);
      line('cohorts', status.cohortes);
      line('suggestions', status.suggestions);
      for (const s of status.sources) console.log(`  source ${pad(s.code, 22)} ${pad(s.acteurs, 7)} acteurs  last ingested ${s.updated_at ?? '-'}`);
      if (typeof runs === 'string') console.log(runs);
      else for (const r of runs) console.log(`  run ${pad(r.workflow_id, 44)} ${pad(r.status, 10)} ${r.started_at ?? ''}`);
    });

  const sug = cons.command('suggestions').description('review suggestions: list cohorts and suggestions, accept or reject');

  sug
    .command('list')
    .description('without --cohort: the cohorts with their counts; with --cohort: its suggestions (filtered, paged)')
    .option('--cohort <id>', 'a cohort id', positiveInt)
    .option('--statut <list>', 'statuses, comma-separated (AVALIDER, ATRAITER, REJETEE, ENCOURS, SUCCES, ERREUR)')
    .option('--cle <prefix>', 'acteur key starts with')
    .option('--champ <field>', 'changes set this field')
    .option('--modele <model>', 'holds a change of this model')
    .option('--source <code>', 'cohorts of this source')
    .option('--limit <n>', 'rows per page', positiveInt)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .option('--json', 'print JSON')
    .action(async (o: FilterOptions & { source?: string; limit?: number; cursor?: string; json?: boolean }) => {
      await withDb(async (db) => {
        const paging = { ...(o.limit ? { limit: o.limit } : {}), ...(o.cursor ? { cursor: o.cursor } : {}) };
        if (o.cohort === undefined) {
          const page = await listCohorts(db, { ...(o.source ? { source_code: o.source } : {}), ...paging });
          if (o.json) return void console.log(JSON.stringify(page, null, 2));
          for (const c of page.items) {
            console.log(`cohort ${pad(c.id, 6)} ${pad(c.type_action, 20)} ${pad(c.source_code ?? '-', 20)} ${Object.entries(c.suggestions).map(([k, n]) => `${k} ${n}`).join(', ')}`);
            for (const [col, [m, s, a]] of Object.entries(c.colonnes)) console.log(`    ${pad(col, 28)} MODIF ${m}  SUP ${s}  AJOUT ${a}`);
          }
          if (page.next_cursor) console.log(`next page: --cursor ${page.next_cursor}`);
          return;
        }
        const [cohort, page] = await Promise.all([getCohort(db, o.cohort), listSuggestions(db, { ...filterOf(o), ...paging })]);
        if (o.json) return void console.log(JSON.stringify(page, null, 2));
        console.log(`cohort ${cohort.id} ${cohort.type_action} ${cohort.source_code ?? ''}: ${page.total} matching`);
        for (const s of page.items) {
          const fields = s.changes.flatMap((c) => Object.keys(((c as { model_params?: { data?: object } }).model_params?.data ?? {}) as object));
          console.log(`${pad(s.id, 10)} ${pad(s.statut, 9)} ${pad(s.cle, 40)} ${fields.join(',')}`);
        }
        if (page.next_cursor) console.log(`next page: --cursor ${page.next_cursor}`);
      });
    });

  for (const decision of ['accept', 'reject'] as const satisfies readonly Decision[]) {
    sug
      .command(`${decision} [ids...]`)
      .description(
        `${decision === 'accept' ? 'accept (→ ATRAITER)' : 'reject (→ REJETEE)'} suggestions: the ids given, or with --all every one the filter matches except --except`,
      )
      .option('--all', 'every suggestion the filter (--cohort, --statut, --cle, --champ, --modele) matches')
      .option('--except <ids>', 'ids left out of --all (comma-separated, repeatable)', ids)
      .option('--cohort <id>', 'a cohort id', positiveInt)
      .option('--statut <list>', 'statuses, comma-separated')
      .option('--cle <prefix>', 'acteur key starts with')
      .option('--champ <field>', 'changes set this field')
      .option('--modele <model>', 'holds a change of this model')
      .option('--by <who>', 'who decides (logged)', process.env.USER ?? userInfo().username)
      .option('--reason <text>', 'why (logged)')
      .action(async (given: string[], o: FilterOptions & { all?: boolean; except?: number[]; by: string; reason?: string }) => {
        const common = { decision, par: o.by, ...(o.reason ? { raison: o.reason } : {}) };
        if (o.all && given.length) throw new CliError('give ids or --all, not both', EXIT.config_error);
        if (!o.all && given.length === 0) throw new CliError('give suggestion ids, or --all --cohort <id> [filters] [--except ids]', EXIT.config_error);
        const input = o.all ? { ...common, filter: filterOf(o), except: o.except ?? [] } : { ...common, ids: given.flatMap((g) => ids(g)) };
        const result = await withDb((db) => decide(db, input));
        console.log(`${result.changed} suggestion(s) ${decision === 'accept' ? 'accepted (ATRAITER)' : 'rejected (REJETEE)'} by ${o.by}; decision ${result.decision_id}`);
        if (result.refused_total) {
          console.log(`${result.refused_total} left as they were (status): ${result.refused.map((r) => `${r.id} ${r.statut}`).join(', ')}${result.refused_total > result.refused.length ? ', …' : ''}`);
        }
        if (result.missing.length) console.log(`not found: ${result.missing.join(', ')}`);
        if (result.refused_total || result.missing.length) process.exitCode = EXIT.partial;
      });
  }
}
