/**
 * The browser worker process (`npm run worker:browser`): the `moisson-browser` task queue, Playwright
 * activities on Debian's Chromium, one browser for the whole process.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { BrowserPool } from '../activities/engine/browser';
import { temporalDataConverter } from '../control/payload-codec';
import { loadCoreConfig, loadPayloadCodecConfig, logLevelOf } from '../schema/config';
import { createBrowserWorker } from './create-browser';
import { createLogger, temporalLogging } from './logging';
import { configOrExit, listenOrExit } from './startup';
import { setupTelemetry, startMetricsServer } from './telemetry';

const log = createLogger('moisson-browser-worker', { level: logLevelOf() });

async function main(): Promise<void> {
  const config = configOrExit(log, () => loadCoreConfig());
  const codecConfig = configOrExit(log, () => loadPayloadCodecConfig());
  // As the main worker: the Temporal SDK's metrics on a loopback port next to ours, served within our /metrics.
  const coreMetricsAddress = `127.0.0.1:${config.browserMetricsPort + 1}`;
  const logging = temporalLogging(log);
  await listenOrExit(log, { endpoint: "the Temporal SDK's metrics", address: coreMetricsAddress, setting: 'BROWSER_METRICS_PORT' }, () =>
    Runtime.install({
      logger: logging.logger,
      telemetryOptions: { ...logging.telemetryOptions, metrics: { prometheus: { bindAddress: coreMetricsAddress } } },
    }),
  );
  const telemetry = setupTelemetry({ serviceName: `${config.otel.serviceName}-browser`, otlpEndpoint: config.otel.otlpEndpoint });
  const metricsServer = await listenOrExit(log, { endpoint: 'the metrics endpoint', address: `${config.metricsHost}:${config.browserMetricsPort}`, setting: 'BROWSER_METRICS_PORT' }, () =>
    startMetricsServer(telemetry, config.browserMetricsPort, `http://${coreMetricsAddress}/metrics`, config.metricsHost),
  );
  log.info(`metrics on http://${config.metricsHost}:${config.browserMetricsPort}/metrics`);
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
