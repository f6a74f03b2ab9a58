/**
 * The demo after `stack up`: migrations, the workers, the schedules, one run of each pipeline against
 * the local replicas (prices with its archive, pmmp, leads, the Pennylane sync full then incremental, a
 * consolidation round: ingest, accept, apply, cluster, accept, apply),
 * and where to look at what happened.
 */
import { Client, Connection } from '@temporalio/client';
import { connectMongo, connectPostgres } from '../activities/engine/db';
import { loadCoreConfig, loadPayloadCodecConfig } from '../schema/config';
import { temporalDataConverter } from '../control/payload-codec';
import { RunControl } from '../control/runs';
import { pricesDailyContract } from '../workflows/prices/contract';
import { exitCodeForDaily, main, printDaily } from './cli';
import { demoApisync } from './demo/apisync';
import { demoConsolidation } from './demo/consolidation';
import { migrateDatabase } from './db/migrate';
import { applySchedules } from '../control/schedules';
import { apiService, browserWorkerService, readStackEnv, stackEnvironment, workerService } from './stack/services';

Object.assign(process.env, { ...readStackEnv(), ...process.env });
const cfg = loadCoreConfig();
const say = (line = '') => console.log(line);

await migrateDatabase(cfg.databaseUrl);
say('demo: database migrated');
// Restarted, not reused: a worker left from an earlier checkout would run yesterday's code.
for (const worker of [workerService(), browserWorkerService(), apiService()]) {
  await worker.stop();
  await worker.start((line) => say(`demo: ${line}`));
}

const connection = await Connection.connect({ address: cfg.temporal.address });
const client = new Client({ connection, namespace: cfg.temporal.namespace, dataConverter: temporalDataConverter(loadPayloadCodecConfig()) });
for (const o of await applySchedules(client, cfg.temporal.taskQueue)) say(`demo: schedule ${o.scheduleId} ${o.change}`);

const control = new RunControl(client, cfg.temporal.taskQueue);
const pricesRun = await control.start(pricesDailyContract, {});
const workflowId = pricesRun.workflowId;
say(`demo: running ${workflowId} (prices from the local replicas of open.er-api, fawazahmed0, CoinGecko, MetalpriceAPI)`);
const result = await control.result(pricesRun.handle);
say();
printDaily(result);
await connection.close();
say();
say('demo: checking the browser queue (npx moisson doctor)');
await main(['node', 'moisson', 'doctor']);
say();
// A day a month back: its consultations are closed, so the replica has published their notices too.
const pmmpDay = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
say(`demo: the daily procurement run for ${pmmpDay} against the local replica of marchespublics.gov.ma (consultations, notices, /bdc/, award documents)`);
await main(['node', 'moisson', 'pmmp', 'daily', '--day', pmmpDay, '--sync']);
say();
say('demo: a leads job on the local replicas: search results for "boulangerie", the sites and their contact pages; then validation and the MailWizz sync');
const leadsJobId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
await main(['node', 'moisson', 'leads', 'job', 'create', '--type', 'search', '--id', leadsJobId, '--query', 'boulangerie', '--refetch', '--wait']);
await main(['node', 'moisson', 'leads', 'validate', '--sync']);
await main(['node', 'moisson', 'leads', 'sync', '--sync']);
say();
// The worker started above has the stack's environment: PENNYLANE_API_URL is the replica's.
await demoApisync({ databaseUrl: cfg.databaseUrl, pennylaneApiUrl: process.env.PENNYLANE_API_URL ?? '' }, say);
say();
const clusterLabel = `demo-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`;
const consolidation = await demoConsolidation({ databaseUrl: cfg.databaseUrl, label: clusterLabel, moisson: (args) => main(['node', 'moisson', ...args]) }, say);

const pg = connectPostgres(cfg.databaseUrl, { max: 1 });
const mongo = await connectMongo(cfg.mongoUrl);
const [counts] = await pg.sql<{ quotes: number; runs: number; rejected: number; consultations: number; proofs: number; notices: number; attributions: number; bdc: number; contacts: number; validated: number; apisync: number }[]>`
  select (select count(*) from prices.quotes)::int as quotes, (select count(*) from etl.runs)::int as runs,
         (select coalesce(sum(row_count), 0) from apisync.sync_state where source = 'pennylane')::int as apisync,
         (select count(*) from leads.scraped_contacts)::int as contacts, (select count(*) from leads.validated_contacts)::int as validated,
         (select count(*) from etl.rejected_records)::int as rejected,
         (select count(*) from pmmp.consultations)::int as consultations, (select count(*) from etl.proofs)::int as proofs,
         (select count(*) from pmmp.notices where proof_id is not null)::int as notices,
         (select count(*) from pmmp.attributions)::int as attributions, (select count(*) from pmmp.bdc_results)::int as bdc`;
const archived = await mongo.db.collection('prices').countDocuments();
await Promise.all([pg.close(), mongo.close()]);

const ui = `${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/workflows`;
say(`
Where to look
  Temporal Web UI      ${ui}/${workflowId}   (and ${workflowId}-archive, the archive child)
                       ${ui}/pmmp-daily-${pmmpDay}   (its children: /consultations, /notices-*, /bdc, /documents)
                       ${ui}/apisync-pennylane   (the last apisync run: one activity per stream)
                       ${ui}/consolidation-ingest-refashion   (and -ecosystem, -cma_reparacteur; ${ui}/consolidation-cluster-${clusterLabel},
                       ${ui}/consolidation-enrich-ban, ${ui}/consolidation-export-${consolidation.round.export[0]?.semaine ?? 'current'})
  Schedules            ${cfg.temporal.uiUrl}/namespaces/${cfg.temporal.namespace}/schedules
  PostgreSQL           ${counts!.quotes} rows in prices.quotes, ${counts!.runs} runs in etl.runs, ${counts!.rejected} rejected records
                       ${counts!.consultations} consultations, ${counts!.notices} notice documents read, ${counts!.attributions} attributions,
                       ${counts!.bdc} /bdc/ results in pmmp.*, ${counts!.proofs} pages and documents kept in etl.proofs
                       ${counts!.contacts} scraped contacts in leads.scraped_contacts, ${counts!.validated} in leads.validated_contacts
                       ${counts!.apisync} Pennylane rows in apisync.pennylane_* (state in apisync.sync_state, logs in etl.etl_logs)
                       ${consolidation.acteurs.ACTIF ?? 0} active acteurs in consolidation.acteurs, ${consolidation.revisions} in consolidation.revision_acteurs (clusters),
                       suggestions ${Object.entries(consolidation.suggestions).map(([k, n]) => `${k} ${n}`).join(', ')} in consolidation.suggestions (decisions in suggestion_logs)
                       psql postgres://moisson:moisson@127.0.0.1:55432/moisson
  Open-data export     ${process.env.CONSOLIDATION_EXPORT_DIR ?? '.data/exports/consolidation'}/   (${consolidation.round.export.map((e) => `${e.format} ${e.lignes} rows`).join(', ') || 'not written'}; npx moisson consolidation exports | download latest csv)
  MongoDB (FerretDB)   ${archived} documents in moisson.prices   (${cfg.mongoUrl})
  Worker metrics       http://127.0.0.1:${cfg.metricsPort}/metrics
  Console              http://127.0.0.1:${process.env.API_PORT ?? 8090}/console/   (sign in with MOISSON_CONSOLE_PASSWORD; this stack's: ${stackEnvironment().MOISSON_CONSOLE_PASSWORD})
  REST API             http://127.0.0.1:${process.env.API_PORT ?? 8090}/docs   (curl http://127.0.0.1:${process.env.API_PORT ?? 8090}/api/v1/consultations?limit=5)
                       http://127.0.0.1:${process.env.API_PORT ?? 8090}/api/v1/consolidation/cohorts   (…/cohorts/{id}/suggestions, …/status, …/runs, …/stats, …/exports/latest/csv)
Next
  npx moisson prices run --sync          run again (changes nothing the same day)
  npx moisson prices archive --verify    re-archive the window and compare both sides
  npx moisson doctor                     check both task queues (the browser one renders a page)
  npx moisson pmmp daily --day D --sync            the daily procurement run for another day
  npx moisson pmmp backfill --from YYYY-MM --to YYYY-MM --sync   whole months, resumable
  npx moisson pmmp reparse --sync                  the current parsers over the stored pages and documents
  npx moisson leads job create --type custom_urls --url URL --depth 2 --wait   a scraping job (pause/resume/cancel/status by id)
  npx moisson apisync run --mode incremental --sync   the Pennylane change feeds since the watermarks (the schedule does it every 10 min)
  npx moisson apisync status [--json]              each stream's watermark, rows, last run, pending cursor; the run lease
  npx moisson consolidation suggestions list [--cohort ID]   cohorts with their MODIF/SUP/AJOUT counts, or one cohort's suggestions
  npx moisson consolidation suggestions accept|reject IDS | --all --cohort ID [--except IDS]   review (the apply Schedule runs every 5 min)
  npx moisson consolidation ingest SOURCE --sync | cluster --sync | apply --sync | status
  npx moisson consolidation enrich ban|sirene-closed --sync | sirene-load --sync | stats --compute --sync | run ID   (a failed run: its root cause)
  npm run console:screenshots            one PNG per console tab in docs/console/
  npm run stack:status | npm run stack:down`);
// The worst of the steps: the doctor and the pmmp run set their own exit codes through main().
process.exitCode = Math.max(Number(process.exitCode ?? 0), exitCodeForDaily(result));
