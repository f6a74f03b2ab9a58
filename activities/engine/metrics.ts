/**
 * The platform's own measures, through the OpenTelemetry API: without a meter provider installed
 * (tests, scripts) they cost nothing; the worker installs one that Prometheus scrapes.
 */
import { metrics } from '@opentelemetry/api';

const meter = metrics.getMeter('moisson');

export const httpRequests = meter.createCounter('moisson_http_requests', {
  description: 'HTTP requests sent to sources, by host and status (or error kind)',
});

export const items = meter.createCounter('moisson_items', {
  description: 'Items by pipeline, kind and result (scraped, saved, rejected)',
});

export const runDuration = meter.createHistogram('moisson_run_duration_seconds', {
  description: 'Duration of pipeline runs, by pipeline and outcome',
  unit: 's',
});

export const pipelineErrors = meter.createCounter('moisson_errors', {
  description: 'Errors by pipeline and error type',
});

export const rateLimitWait = meter.createHistogram('moisson_rate_limit_wait_seconds', {
  description: 'Time a source asked us to wait (Retry-After), by host',
  unit: 's',
});
