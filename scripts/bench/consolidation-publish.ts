/**
 * The consolidation data path, measured on throwaway databases:
 * - `consolidation.ingest`: rows/s of one source's ingestion (download from the sources replica →
 *   normalise → validate → diff against the stored acteurs → cohorts and suggestions written), the
 *   production activity run under a mock activity context;
 * - `consolidation.apply`: suggestions/s applied by the production batch activity (each suggestion
 *   claimed, then its changes and SUCCES in their own transaction, as QFDMOD does) for the cohort the
 *   ingestion just wrote, all accepted;
 * - `consolidation.export`: rows/s of the open-data export (CSV then GeoJSON, cursor-streamed, read back
 *   and counted) over `--rows` displayed acteurs, against, in the same run, the naive way: every row
 *   read into memory, the whole file built as one string, then written. Peak RSS is compared too: the
 *   naive export holds every row and the whole file at once, the streamed one a cursor batch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'csv-stringify/sync';
import { consolidationApplyBatch } from '../../activities/consolidation/apply';
import { consolidationIngestSource, type IngestResult } from '../../activities/consolidation/ingest';
import { EXPORT_COLUMNS, exportOpenData } from '../../activities/consolidation/publish';
import { EXPORT_SELECT, feature, type ExportRow } from '../../activities/consolidation/publish/export';
import { loadConsolidationIngestConfig } from '../../schema/config';
import { startConsolidationReplica } from '../../tests/replicas/consolidation/index';
import { backendsCpuSince, measure, postgresBackendsCpu, round, throwawayPostgres, type BenchContext, type BenchResult, type Scenario } from './support';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
const load = () => loadavg().map((x) => round(x, 2));

/** Places in the replica's world: refashion publishes a share of them (with in-source duplicates). */
const WORLD = 40_000;
const SOURCE = 'refashion';

const ingestApplyScenario: Scenario = {
  produces: ['consolidation.ingest', 'consolidation.apply'],
  description: `ingesting the ${SOURCE} source from the replica (world of ${WORLD.toLocaleString('en-US')} places), then applying every suggestion it wrote`,
  async run(ctx: BenchContext): Promise<Record<string, BenchResult>> {
    const loadBefore = load();
    const db = await throwawayPostgres(ctx, 'cons_ingest');
    const replica = await startConsolidationReplica({ worldSize: WORLD });
    try {
      const config = loadConsolidationIngestConfig({ CONSOLIDATION_ENDPOINT_REWRITES: replica.rewrites, CONSOLIDATION_HTTP_TIMEOUT_MS: '60000' });
      const env = new MockActivityEnvironment({}, { logger: quiet });
      const ingest = await measure(() => env.run(() => consolidationIngestSource({ sql: db.sql, config }, { source: SOURCE })) as Promise<IngestResult>);
      const { rows, acteurs, cohorts } = ingest.result;
      const suggestions = cohorts.reduce((n, c) => n + c.suggestions, 0);
      ctx.log(`  ingested ${rows} rows → ${acteurs} acteurs, ${suggestions} suggestions in ${round(ingest.ms / 1000, 1)} s`);
      const results: Record<string, BenchResult> = {};
      if (ctx.wants('consolidation.ingest')) {
        results['consolidation.ingest'] = {
          value: round(rows / (ingest.ms / 1000), 0),
          unit: 'source rows/s (download → normalise → validate → diff → suggestions)',
          peakRssMb: ingest.peakRssMb,
          params: { source: SOURCE, replicaWorld: WORLD, rows, acteurs, suggestions, dropped: ingest.result.dropped, warnings: ingest.result.warnings, wallMs: round(ingest.ms, 0), loadAverageBefore: loadBefore, loadAverageAfter: load() },
        };
      }
      if (ctx.wants('consolidation.apply')) {
        await db.sql`update consolidation.suggestions set statut = 'ATRAITER' where statut = 'AVALIDER'`;
        const applyLoad = load();
        const backends0 = await postgresBackendsCpu(db.sql);
        const cpu0 = process.cpuUsage();
        const apply = await measure(async () => {
          const totals = { succes: 0, erreur: 0 };
          for (;;) {
            const batch = await consolidationApplyBatch({ sql: db.sql }, { limit: 1000 });
            totals.succes += batch.succes;
            totals.erreur += batch.erreur;
            if (!batch.more) return totals;
          }
        });
        const benchCpuS = (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(cpu0));
        const backends1 = await postgresBackendsCpu(db.sql);
        if (apply.result.erreur > 0 || apply.result.succes !== suggestions) throw new Error(`consolidation.apply: ${apply.result.succes} applied, ${apply.result.erreur} in error, ${suggestions} expected`);
        ctx.log(`  applied ${apply.result.succes} suggestions in ${round(apply.ms / 1000, 1)} s`);
        results['consolidation.apply'] = {
          value: round(apply.result.succes / (apply.ms / 1000), 0),
          unit: 'suggestions/s (claim, then changes + SUCCES in one transaction each)',
          peakRssMb: apply.peakRssMb,
          params: {
            suggestions: apply.result.succes,
            changeModel: 'source_acteur_create',
            batch: 1000,
            wallMs: round(apply.ms, 0),
            ...applyCost(apply.ms / 1000, benchCpuS, backends1.size > 0 ? backendsCpuSince(backends0, backends1) : undefined, apply.result.succes),
            loadAverageBefore: applyLoad,
            loadAverageAfter: load(),
          },
        };
      }
      return results;
    } finally {
      await replica.close();
      await db.drop();
    }
  },
};

/**
 * Where a suggestion's time goes (ms each). Its statements run one after the other on one connection, so
 * the wall time is the bench process's CPU, then the PostgreSQL backend's, then waits: each of the two
 * commits waits for its WAL flush (fdatasync, 0.27 ms on the idle local disk, 1.8 ms while others write:
 * pg_test_fsync, 2026-12-07) and, on a loaded machine, both processes wait for a core. The rate follows
 * the waits, the CPU much less: two commits of the code are compared on a shared machine by their CPU.
 * The backends' CPU is only known with a server on this machine.
 */
function applyCost(wallS: number, benchCpuS: number, postgresCpuS: number | undefined, n: number): Record<string, number> {
  const each = (s: number) => round((s * 1000) / n, 3);
  if (postgresCpuS === undefined) return { benchCpuMsPerSuggestion: each(benchCpuS) };
  return { benchCpuMsPerSuggestion: each(benchCpuS), postgresCpuMsPerSuggestion: each(postgresCpuS), waitMsPerSuggestion: each(wallS - benchCpuS - postgresCpuS) };
}

/** `n` displayed open-data acteurs with realistic field sizes, written by the database itself. */
async function seedDisplayed(sql: ThrowawaySql, n: number): Promise<void> {
  await sql.unsafe(
    `insert into consolidation.acteurs_affiches (perimetre, identifiant_unique, uuid, nom, adresse, code_postal, ville, latitude, longitude, siret, siren, telephone, url,
       acteur_type_code, public_accueilli, label_codes, acteur_service_codes, proposition_service_codes, sources, source_codes, est_parent, nombre_enfants, modifie_le)
     select 'opendata', 'refashion_' || i, 'uuid' || lpad(i::text, 18, '0'), 'Ressourcerie "La Boucle" n°' || i, i || ' rue de la République, bâtiment ' || (i % 7),
            lpad((i % 95000 + 1000)::text, 5, '0'), 'Ville ' || (i % 3000), 43 + (i % 5000) / 1000.0, 1 + (i % 6000) / 1000.0,
            lpad(i::text, 14, '0'), lpad(i::text, 9, '0'), '01' || lpad(i::text, 8, '0'), 'https://example.org/' || i, 'ess', 'Particuliers',
            array['ess', 'reparacteur'], array['service_de_reparation', 'structure_de_collecte'],
            '[{"action": "donner", "sous_categories": ["vetement", "linge", "chaussures"]}, {"action": "reparer", "sous_categories": ["vetement"]}]'::jsonb,
            jsonb_build_array(jsonb_build_object('source_code', 'refashion', 'identifiant_externe', i::text)), array['refashion'], false, 0, now()
       from generate_series(1, $1::int) i`,
    [n],
  );
}
type ThrowawaySql = Awaited<ReturnType<typeof throwawayPostgres>>['sql'];

/** The naive export: all rows in memory, the whole file as one string, one write. */
async function naiveExport(sql: ThrowawaySql, path: string, format: 'csv' | 'geojson'): Promise<number> {
  const rows = await sql.unsafe<ExportRow[]>(EXPORT_SELECT);
  const text =
    format === 'csv'
      ? stringify(rows, { header: true, columns: [...EXPORT_COLUMNS], cast: { boolean: (b) => (b ? 'true' : 'false') } })
      : `{"type":"FeatureCollection","features":[\n${rows.map(feature).join(',\n')}\n]}\n`;
  writeFileSync(path, text);
  return rows.length;
}

const exportScenario: Scenario = {
  produces: ['consolidation.export'],
  description: 'the weekly open-data export (CSV + GeoJSON, streamed and counted) over --rows displayed acteurs; naive in-memory export side by side',
  async run(ctx: BenchContext): Promise<Record<string, BenchResult>> {
    const n = ctx.rows;
    const db = await throwawayPostgres(ctx, 'cons_export');
    const dir = mkdtempSync(join(tmpdir(), 'moisson-bench-export-'));
    try {
      await seedDisplayed(db.sql, n);
      const loadBefore = load();
      const rssBeforeMb = round(process.memoryUsage.rss() / 2 ** 20, 1);
      const streamed = await measure(async () => {
        const csv = await exportOpenData(db.sql, { dir, semaine: '2026-W49', format: 'csv' });
        const geojson = await exportOpenData(db.sql, { dir, semaine: '2026-W49', format: 'geojson' });
        return { csv, geojson };
      });
      if (streamed.result.csv.rows !== n || streamed.result.geojson.rows !== n) throw new Error(`consolidation.export: ${streamed.result.csv.rows} / ${streamed.result.geojson.rows} rows exported, ${n} expected`);
      ctx.log(`  streamed export of ${n} rows ×2 formats in ${round(streamed.ms / 1000, 1)} s, peak RSS ${streamed.peakRssMb} MB`);
      let naive: Awaited<ReturnType<typeof measure<number>>> | undefined;
      if (!ctx.skipBaseline) {
        naive = await measure(async () => (await naiveExport(db.sql, join(dir, 'naive.csv'), 'csv')) + (await naiveExport(db.sql, join(dir, 'naive.geojson'), 'geojson')));
        ctx.log(`  naive export in ${round(naive.ms / 1000, 1)} s, peak RSS ${naive.peakRssMb} MB`);
      }
      const rate = (2 * n) / (streamed.ms / 1000);
      const baseRate = naive ? naive.result / (naive.ms / 1000) : undefined;
      return {
        'consolidation.export': {
          value: round(rate, 0),
          unit: 'rows/s written (CSV + GeoJSON, each read back and counted)',
          ...(baseRate === undefined ? {} : { baseline: round(baseRate, 0), baselineName: 'naive: all rows in memory, one string, one write (no read-back check)', ratio: round(rate / baseRate, 3) }),
          peakRssMb: streamed.peakRssMb,
          params: {
            rows: n,
            csvBytes: streamed.result.csv.bytes,
            geojsonBytes: streamed.result.geojson.bytes,
            wallMs: round(streamed.ms, 0),
            cursorBatchRows: 2000,
            rssBeforeMb,
            ...(naive ? { baselinePeakRssMb: naive.peakRssMb, baselineWallMs: round(naive.ms, 0), peakRssRatio: round(streamed.peakRssMb / naive.peakRssMb, 3) } : {}),
            loadAverageBefore: loadBefore,
            loadAverageAfter: load(),
          },
        },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  },
};

export const consolidationPublishScenarios: Scenario[] = [ingestApplyScenario, exportScenario];
