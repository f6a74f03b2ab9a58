/**
 * The platform's own measures, through the OpenTelemetry API. Instruments are resolved against the
 * meter provider in force when they are used: the metrics API has no proxy, so an instrument made at
 * import time, before the worker installs its provider, would stay a no-op for ever.
 */
import { metrics, type Meter, type MeterProvider } from '@opentelemetry/api';

function instrument<T>(make: (meter: Meter) => T): () => T {
  let provider: MeterProvider | undefined;
  let made: T | undefined;
  return () => {
    const current = metrics.getMeterProvider();
    if (current !== provider || made === undefined) {
      provider = current;
      made = make(current.getMeter('moisson'));
    }
    return made;
  };
}

export const httpRequests = instrument((m) =>
  m.createCounter('moisson_http_requests', { description: 'HTTP requests sent to sources, by host and status (or error kind)' }),
);

export const items = instrument((m) => m.createCounter('moisson_items', { description: 'Items by pipeline, kind and result (scraped, saved, rejected)' }));

export const runDuration = instrument((m) =>
  m.createHistogram('moisson_run_duration_seconds', { description: 'Duration of pipeline runs, by pipeline and outcome', unit: 's' }),
);

export const pipelineErrors = instrument((m) => m.createCounter('moisson_errors', { description: 'Errors by pipeline and error type' }));

export const rateLimitWait = instrument((m) =>
  m.createHistogram('moisson_rate_limit_wait_seconds', { description: 'Time a source asked us to wait (Retry-After), by host', unit: 's' }),
);

export const activityRetries = instrument((m) =>
  m.createCounter('moisson_activity_retried', {
    description: 'Activity attempts after the first, by activity type, workflow type and how the attempt ended (succeeded, failed)',
  }),
);
