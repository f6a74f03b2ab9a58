/**
 * What both worker processes set up before they connect: the Temporal SDK's runtime (its logs through
 * ours, its Prometheus metrics on loopback at the metrics port + 1), OpenTelemetry, and the one /metrics
 * endpoint serving ours and the SDK's. A port another process holds exits 3 naming the setting that moves
 * it (`listenOrExit`).
 */
import type { Server } from 'node:http';
import { Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import { temporalLogging } from './logging';
import { listenOrExit } from './startup';
import { setupTelemetry, startMetricsServer, type Telemetry } from './telemetry';

export interface WorkerRuntimeOptions {
  serviceName: string;
  otlpEndpoint?: string;
  metricsHost: string;
  metricsPort: number;
  /** The environment variable `metricsPort` comes from. */
  setting: string;
}

export async function startWorkerRuntime(log: Logger, o: WorkerRuntimeOptions): Promise<{ telemetry: Telemetry; metricsServer: Server }> {
  const coreMetricsAddress = `127.0.0.1:${o.metricsPort + 1}`;
  const logging = temporalLogging(log);
  await listenOrExit(log, { endpoint: "the Temporal SDK's metrics", address: coreMetricsAddress, setting: o.setting }, () =>
    Runtime.install({
      logger: logging.logger,
      telemetryOptions: { ...logging.telemetryOptions, metrics: { prometheus: { bindAddress: coreMetricsAddress } } },
    }),
  );
  const telemetry = setupTelemetry({ serviceName: o.serviceName, otlpEndpoint: o.otlpEndpoint });
  const metricsServer = await listenOrExit(log, { endpoint: 'the metrics endpoint', address: `${o.metricsHost}:${o.metricsPort}`, setting: o.setting }, () =>
    startMetricsServer(telemetry, o.metricsPort, `http://${coreMetricsAddress}/metrics`, o.metricsHost),
  );
  log.info(`metrics on http://${o.metricsHost}:${o.metricsPort}/metrics`);
  return { telemetry, metricsServer };
}
