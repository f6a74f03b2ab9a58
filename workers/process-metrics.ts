/**
 * The process's own health on every `/metrics` (workers and API): CPU, memory, heap, open files, event
 * loop delay, under the names prom-client's default metrics used (`process_*`, `nodejs_*`), which
 * Node dashboards and the API's former `/metrics` knew. Observed at scrape time, on the meter provider
 * given (each API app has its own).
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';

const startTimeSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);

/** One event-loop delay sampler per process, shared by every provider; reset after each scrape. */
let loopDelay: IntervalHistogram | undefined;
const LOOP_RESOLUTION_MS = 20;
/** The sampler's timer fires every resolution: a sample is that interval plus the lag, so it is taken off. */
const lagSeconds = (nanoseconds: number) => Math.max(0, nanoseconds / 1e9 - LOOP_RESOLUTION_MS / 1e3);

function openFileDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined; // not Linux: the gauge is left out
  }
}

export function registerProcessMetrics(meterProvider: MeterProvider): void {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loopDelay.enable();
  }
  const delay = loopDelay;
  const meter = meterProvider.getMeter('moisson-process');
  const cpuUser = meter.createObservableCounter('process_cpu_user_seconds_total', { description: 'User CPU time spent by the process, in seconds' });
  const cpuSystem = meter.createObservableCounter('process_cpu_system_seconds_total', { description: 'System CPU time spent by the process, in seconds' });
  const cpu = meter.createObservableCounter('process_cpu_seconds_total', { description: 'User and system CPU time spent by the process, in seconds' });
  const rss = meter.createObservableGauge('process_resident_memory_bytes', { description: 'Resident memory of the process, in bytes' });
  const start = meter.createObservableGauge('process_start_time_seconds', { description: 'Start time of the process since the Unix epoch, in seconds' });
  const fds = meter.createObservableGauge('process_open_fds', { description: 'Open file descriptors of the process' });
  const heapUsed = meter.createObservableGauge('nodejs_heap_size_used_bytes', { description: 'V8 heap in use, in bytes' });
  const heapTotal = meter.createObservableGauge('nodejs_heap_size_total_bytes', { description: 'V8 heap allocated, in bytes' });
  const external = meter.createObservableGauge('nodejs_external_memory_bytes', { description: 'Memory of C++ objects bound to JavaScript objects, in bytes' });
  const lagMean = meter.createObservableGauge('nodejs_eventloop_lag_mean_seconds', { description: 'Mean event loop delay since the last scrape, in seconds' });
  const lagP99 = meter.createObservableGauge('nodejs_eventloop_lag_p99_seconds', { description: '99th percentile of the event loop delay since the last scrape, in seconds' });
  const lagMax = meter.createObservableGauge('nodejs_eventloop_lag_max_seconds', { description: 'Longest event loop delay since the last scrape, in seconds' });
  meter.addBatchObservableCallback(
    (result) => {
      const usage = process.cpuUsage();
      result.observe(cpuUser, usage.user / 1e6);
      result.observe(cpuSystem, usage.system / 1e6);
      result.observe(cpu, (usage.user + usage.system) / 1e6);
      const memory = process.memoryUsage();
      result.observe(rss, memory.rss);
      result.observe(heapUsed, memory.heapUsed);
      result.observe(heapTotal, memory.heapTotal);
      result.observe(external, memory.external);
      result.observe(start, startTimeSeconds);
      const open = openFileDescriptors();
      if (open !== undefined) result.observe(fds, open);
      // No sample yet only in the process's first resolution (20 ms): no delay measured, 0.
      const sampled = delay.count > 0;
      result.observe(lagMean, sampled ? lagSeconds(delay.mean) : 0);
      result.observe(lagP99, sampled ? lagSeconds(delay.percentile(99)) : 0);
      result.observe(lagMax, sampled ? lagSeconds(delay.max) : 0);
      delay.reset();
    },
    [cpuUser, cpuSystem, cpu, rss, start, fds, heapUsed, heapTotal, external, lagMean, lagP99, lagMax],
  );
}
