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

/** Activities executing now, by task queue and type: an operator's "active crawls" and the stuck-spider alert. */
export const activitiesRunning = instrument((m) =>
  m.createUpDownCounter('moisson_activities_running', { description: 'Activities executing now, by task queue and activity type' }),
);

/** Rows the archive verify step found different between PostgreSQL and MongoDB. */
export const archiveVerifyMismatches = instrument((m) =>
  m.createCounter('moisson_archive_verify_mismatches', { description: 'Rows that differ between PostgreSQL and the MongoDB archive after a verify step, by collection' }),
);

/** A MailWizz sync that stopped because the day's quota was used up. */
export const mailwizzQuotaExhausted = instrument((m) =>
  m.createCounter('moisson_mailwizz_quota_exhausted', { description: 'MailWizz sync batches that found the daily quota used up while contacts were waiting' }),
);

/** The processed_at watermark an apisync stream committed last (seconds since the epoch). */
export const apisyncWatermark = instrument((m) =>
  m.createGauge('moisson_apisync_watermark_timestamp_seconds', { description: 'Last committed changelog watermark of an apisync stream, by source and stream', unit: 's' }),
);

/** Bytes of pages and documents written to the proof store. */
export const proofBytesWritten = instrument((m) =>
  m.createCounter('moisson_proof_bytes_written', { description: 'Bytes written to the proof store, by pipeline (bytes)' }),
);
