/**
 * The API's metrics, on the OpenTelemetry pipeline the workers use (workers/telemetry.ts), in Prometheus
 * text on the API's `/metrics`. Each app has its own meter provider (not the global one): a test process
 * builds several apps, and each `/metrics` shows its own requests.
 */
import { Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { prometheusMeterProvider } from '../workers/telemetry';

export const API_METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ApiMetrics {
  /** One answered request: its duration, and a rejection when it is a 4xx. */
  answered(req: { method: string; route: string; status: number; seconds: number }): void;
  /** Reports a response cache's counts (api/response-cache.ts) under `cache`. */
  watchCache(cache: string, counts: Readonly<{ hits: number; misses: number; invalidations: number }>): void;
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

export function createApiMetrics(): ApiMetrics {
  const { meterProvider, scrape } = prometheusMeterProvider(new Resource({ [ATTR_SERVICE_NAME]: 'moisson-api' }));
  const meter = meterProvider.getMeter('moisson-api');
  // The names and labels the dashboards and alert rules query (deploy/): keep them.
  const duration = meter.createHistogram('moisson_api_request_duration_seconds', {
    description: 'API request duration by route and status',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  });
  const rejected = meter.createCounter('moisson_api_rejected_requests_total', { description: 'Requests answered 4xx, by route and status' });
  const caches = new Map<string, Readonly<{ hits: number; misses: number; invalidations: number }>>();
  meter
    .createObservableCounter('moisson_api_response_cache_lookups_total', { description: 'Response cache lookups by cache and result (hit, miss)' })
    .addCallback((o) => {
      for (const [cache, c] of caches) {
        o.observe(c.hits, { cache, result: 'hit' });
        o.observe(c.misses, { cache, result: 'miss' });
      }
    });
  meter
    .createObservableCounter('moisson_api_response_cache_invalidations_total', { description: 'Response caches emptied because the data changed' })
    .addCallback((o) => {
      for (const [cache, c] of caches) o.observe(c.invalidations, { cache });
    });
  return {
    watchCache(cache, counts) {
      caches.set(cache, counts);
    },
    answered({ method, route, status, seconds }) {
      duration.record(seconds, { method, route, status: String(status) });
      if (status >= 400 && status < 500) rejected.add(1, { route, status: String(status) });
    },
    scrape,
    shutdown: () => meterProvider.shutdown(),
  };
}
