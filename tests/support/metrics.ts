/**
 * Reading one series off a Prometheus text scrape, for tests that check a code path records its metric.
 */
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
