/**
 * The browser worker process (`npm run worker:browser`): the `moisson-browser` task queue, Playwright
 * activities on Debian's Chromium, one browser for the whole process.
 */
import { NativeConnection } from '@temporalio/worker';
import { BrowserPool } from '../activities/engine/browser';
import { temporalDataConverter } from '../control/payload-codec';
import { loadCoreConfig, loadPayloadCodecConfig, logLevelOf } from '../schema/config';
import { createBrowserWorker } from './create-browser';
import { createLogger } from './logging';
import { startWorkerRuntime } from './runtime';
import { configOrExit } from './startup';

const log = createLogger('moisson-browser-worker', { level: logLevelOf() });

async function main(): Promise<void> {
  const config = configOrExit(log, () => loadCoreConfig());
  const codecConfig = configOrExit(log, () => loadPayloadCodecConfig());
  const { telemetry, metricsServer } = await startWorkerRuntime(log, {
    serviceName: `${config.otel.serviceName}-browser`,
    otlpEndpoint: config.otel.otlpEndpoint,
    metricsHost: config.metricsHost,
    metricsPort: config.browserMetricsPort,
    setting: 'BROWSER_METRICS_PORT',
  });
  const pool = new BrowserPool(config.browser.chromiumPath);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createBrowserWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.browserTaskQueue,
      pool,
      concurrency: config.browser.concurrency,
      plugins: telemetry.plugins,
      dataConverter: temporalDataConverter(codecConfig),
    });
    log.info(`polling task queue '${config.temporal.browserTaskQueue}' with ${config.browser.concurrency} browser slot(s), Chromium ${config.browser.chromiumPath}`);
    await worker.run();
  } finally {
    metricsServer.close();
    await pool.close();
    await connection.close();
    await telemetry.shutdown();
  }
}

main().catch((err: unknown) => {
  log.fatal({ err }, 'browser worker stopped');
  process.exit(1);
});
