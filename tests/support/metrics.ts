/**
 * Reading one series off a Prometheus text scrape, for tests that check a code path records its metric.
 */
import assert from 'node:assert/strict';
import { setupTelemetry, type Telemetry } from '../../workers/telemetry';

/** The sum of the samples of `name` whose labels include every given label (0 when none). */
export function seriesValue(scrape: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of scrape.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

let shared: Telemetry | undefined;

/** One meter provider per test process, installed before the code under test makes its instruments. */
export function testTelemetry(): Telemetry {
  shared ??= setupTelemetry({ serviceName: 'moisson-test' });
  return shared;
}

/** The value of `name`, which must be on the page. */
function sample(body: string, name: string): number {
  assert.match(body, new RegExp(`^${name}[{ ]`, 'm'), `${name} is not on /metrics`);
  return seriesValue(body, name);
}

/** Checks a `/metrics` text carries this process's own health (workers/process-metrics.ts), with sane values. */
export function assertProcessMetrics(body: string): void {
  assert.match(body, /# TYPE process_cpu_seconds_total counter/);
  assert.ok(sample(body, 'process_cpu_seconds_total') > 0, 'the process has used CPU');
  assert.ok(sample(body, 'process_cpu_user_seconds_total') > 0);
  // This test runs in the process it scrapes: the figures are its own.
  const rss = sample(body, 'process_resident_memory_bytes');
  assert.ok(rss > 10e6 && rss < 16e9, `resident memory ${rss}`);
  assert.ok(Math.abs(sample(body, 'process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 5, 'start time is this process’s');
  assert.ok(sample(body, 'nodejs_heap_size_used_bytes') > 1e6);
  assert.ok(sample(body, 'nodejs_heap_size_total_bytes') >= sample(body, 'nodejs_heap_size_used_bytes'));
  assert.ok(sample(body, 'process_open_fds') > 0);
  assert.ok(sample(body, 'nodejs_eventloop_lag_p99_seconds') >= 0);
}
