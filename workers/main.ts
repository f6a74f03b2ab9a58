/**
 * The worker process (`npm run worker`): the `moisson` task queue (workflows, HTTP, databases).
 * Configuration problems are reported all at once and stop the process before it connects anywhere; so
 * does a database that lacks migrations (exit 3, with the missing ones and the command that applies them).
 */
import { metrics } from '@opentelemetry/api';
import { NativeConnection } from '@temporalio/worker';
import { connectMongo, connectPostgres } from '../activities/engine/db';
import { createFetcher } from '../activities/engine/fetcher';
import { createProofStore } from '../activities/engine/proofs';
import { createLeadsFetcher } from '../activities/leads/fetcher';
import { temporalDataConverter } from '../control/payload-codec';
import { ConfigError, loadApisyncConfig, loadCoreConfig, loadFetchConfig, loadLeadsConfig, loadPayloadCodecConfig, loadPmmpConfig, loadPricesConfig, logLevelOf, redactConfig } from '../schema/config';
import { createMoissonWorker } from './create';
import { collectWhenIdle } from './idle-gc';
import { createLogger } from './logging';
import { postgresQueueCounts, registerQueueDepthGauges } from './queue-depth';
import { startWorkerRuntime } from './runtime';
import { configOrExit, migrationsOrExit } from './startup';

const log = createLogger('moisson-worker', { level: logLevelOf() });

async function main(): Promise<void> {
  const config = configOrExit(log, () => loadCoreConfig());
  for (const load of [loadPricesConfig, loadApisyncConfig]) {
    try {
      load();
    } catch (err) {
      // Not fatal: that pipeline's runs will end with outcome config_error and these same words.
      if (err instanceof ConfigError) log.warn(err.message);
      else throw err;
    }
  }
  log.info({ config: redactConfig(config) }, 'starting');
  await migrationsOrExit(log, config.databaseUrl);

  const { telemetry, metricsServer } = await startWorkerRuntime(log, {
    serviceName: config.otel.serviceName,
    otlpEndpoint: config.otel.otlpEndpoint,
    metricsHost: config.metricsHost,
    metricsPort: config.metricsPort,
    setting: 'METRICS_PORT',
  });

  // Crawl settings are read at start-up: the fetcher's per-host politeness must be one per process (and,
  // with FETCH_POLITENESS_SCOPE=fleet, one for all processes through the database).
  const fetchConfig = configOrExit(log, () => loadFetchConfig());
  const pmmpConfig = configOrExit(log, () => loadPmmpConfig());
  const leadsConfig = configOrExit(log, () => loadLeadsConfig());
  const codecConfig = configOrExit(log, () => loadPayloadCodecConfig());
  const pg = connectPostgres(config.databaseUrl);
  // Work waiting (notice downloads, suggestions to review or apply), counted from PostgreSQL at scrape time.
  registerQueueDepthGauges(metrics.getMeter('moisson'), postgresQueueCounts(pg.sql));
  const mongo = await connectMongo(config.mongoUrl);
  // One politeness budget per host for every worker process (FETCH_POLITENESS_SCOPE=fleet, the default).
  const fetcher = createFetcher({ ...fetchConfig, ...(fetchConfig.politenessScope === 'fleet' ? { fleetBudget: pg.sql } : {}) });
  const leadsFetcher = createLeadsFetcher(fetchConfig, leadsConfig);
  const proofs = createProofStore({ db: pg.db, dir: fetchConfig.proofStoreDir });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createMoissonWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deps: {
        sql: pg.sql,
        db: pg.db,
        mongo: mongo.db,
        crawl: { fetcher, proofs, pmmpPortalUrl: pmmpConfig.portalUrl },
        leads: { fetcher: leadsFetcher, config: leadsConfig },
      },
      plugins: telemetry.plugins,
      dataConverter: temporalDataConverter(codecConfig),
      // Bundling at start loads webpack and keeps ~180 MB more RSS for the life of the process.
      workflowBundle: config.workflowBundlePath ? { codePath: config.workflowBundlePath } : undefined,
    });
    log.info(
      codecConfig.keys.length > 0 ? `payloads encrypted with key '${codecConfig.keys[0]!.id}' (${codecConfig.keys.length} key(s) for decryption)` : 'payloads unencrypted (no MOISSON_PAYLOAD_KEYS)',
    );
    log.info(`polling task queue '${config.temporal.taskQueue}' on ${config.temporal.address} (namespace ${config.temporal.namespace})`);
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const idleGc = collectWhenIdle(worker, {
      onCollect: (freed, threads) =>
        log.debug(`idle: garbage collected (${mb(freed)} MB of heap freed; threads: ${threads.map((t) => `${t.thread.trim()} ${mb(t.usedBefore - t.usedAfter)} MB`).join(', ') || 'none'})`),
      onThreadsError: (err) => log.warn({ err }, 'idle: the worker threads were not collected'),
      onError: (err) => log.warn({ err }, 'idle: the main thread was not collected'),
    });
    // run() resolves after SIGINT/SIGTERM once in-flight tasks are done.
    try {
      await worker.run();
    } finally {
      idleGc.stop();
    }
  } finally {
    await connection.close();
    await Promise.allSettled([fetcher.close(), leadsFetcher.close(), pg.close(), mongo.close(), telemetry.shutdown()]);
    metricsServer.close();
  }
}

main().catch((err: unknown) => {
  log.fatal({ err }, 'worker stopped');
  process.exit(1);
});
