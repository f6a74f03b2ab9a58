/**
 * OpenTelemetry for a worker process: traces (workflow → activity, exported over OTLP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set) and one Prometheus endpoint that serves our metrics together
 * with the Temporal SDK's own.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { Resource } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type * as TemporalTracing from '@temporalio/interceptors-opentelemetry';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import { traceUndiciRequests } from '../activities/engine/tracing';
import { registerProcessMetrics } from './process-metrics';

// The OTLP exporter and the SDK's tracing plugin are loaded only when traces go somewhere (~8 MB of RSS
// that a process exporting no traces need not hold); both packages ship CommonJS, so setup stays synchronous.
const requireCjs = createRequire(import.meta.url);
const otlpHttp = () => requireCjs('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
const temporalTracing = () => requireCjs('@temporalio/interceptors-opentelemetry') as typeof TemporalTracing;

export interface Telemetry {
  resource: Resource;
  spanProcessor: SpanProcessor | undefined;
  /** Temporal worker plugin wiring the tracing interceptors (absent when traces go nowhere). */
  plugins: TemporalTracing.OpenTelemetryPlugin[];
  /** Prometheus text of our own metrics. */
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * The one metrics pipeline of moisson's processes: an OpenTelemetry meter provider read by the Prometheus
 * exporter, its text served by the process's own `/metrics` (the exporter's server is not started),
 * with the process's CPU, memory and event loop (process-metrics.ts).
 */
export function prometheusMeterProvider(resource: Resource): { meterProvider: MeterProvider; scrape(): Promise<string> } {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  registerProcessMetrics(meterProvider);
  const serializer = new PrometheusSerializer();
  return {
    meterProvider,
    async scrape() {
      const { resourceMetrics } = await prometheus.collect();
      return serializer.serialize(resourceMetrics);
    },
  };
}

export function setupTelemetry(opts: { serviceName: string; otlpEndpoint?: string; spanExporter?: SpanExporter }): Telemetry {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: opts.serviceName });
  const exporter = opts.spanExporter ?? (opts.otlpEndpoint ? new (otlpHttp().OTLPTraceExporter)({ url: `${opts.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }) : undefined);
  // A test's in-memory exporter wants spans at once; a real collector wants them batched.
  const spanProcessor = exporter ? (opts.spanExporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)) : undefined;
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors: spanProcessor ? [spanProcessor] : [] });
  tracerProvider.register();
  traceUndiciRequests();

  const { meterProvider, scrape } = prometheusMeterProvider(resource);
  metrics.setGlobalMeterProvider(meterProvider);

  return {
    resource,
    spanProcessor,
    plugins: spanProcessor ? [new (temporalTracing().OpenTelemetryPlugin)({ resource, spanProcessor })] : [],
    scrape,
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/** `/metrics`: our metrics, then the Temporal SDK's (scraped from its loopback endpoint) when it has one. */
export function startMetricsServer(telemetry: Telemetry, port: number, coreMetricsUrl?: string, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    void (async () => {
      try {
        let body = await telemetry.scrape();
        if (coreMetricsUrl) {
          const core = await fetch(coreMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).catch(() => '');
          body += `\n# Temporal SDK metrics\n${core}`;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(err)}\n`);
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
