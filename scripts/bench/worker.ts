/**
 * `worker.memory.*`: the resident memory of the worker process (`workers/main.ts`) started exactly as the
 * local stack starts it (scripts/stack/services.ts: the worker built ahead of the current sources run with
 * workerNodeArgs, WORKER_ENV and the workflow bundle of the current sources), beside the way it was started
 * before, in the same run: `--import tsx workers/main.ts` from source with default V8 and glibc settings,
 * bundling the workflows with webpack at start.
 *
 * Each worker polls a task queue of its own on the stack's Temporal and works on throwaway databases, so it
 * never takes the stack worker's tasks. Measured: RSS once it polls and has been idle IDLE_SECONDS
 * (`worker.memory.idle`), then RSS idle again IDLE_SECONDS after one `pricesDaily` run on the stack's
 * prices replica (`worker.memory.afterRun`), then RSS idle IDLE_SECONDS after every other pipeline ran once
 * in the same process, as `npm run demo` runs them, idle IDLE_AFTER_ALL_SECONDS (scripts/bench/worker-pipelines.ts; `worker.memory.afterAll`):
 * the honest idle figure of a worker that serves every pipeline. `peakRssMb` is the worker's own VmHWM;
 * each sample also splits the RSS (smaps_rollup: anonymous vs file-backed) and the V8 heap and external
 * memory the worker's /metrics report. Lower is better: ratio < 1 means less memory than the baseline. The
 * two workers run one after the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadCoreConfig } from '../../schema/config';
import type { pricesDaily } from '../../workflows/prices';
import { projectRoot } from '../stack/paths';
import { stackEnvironment, WORKER_ENV, workerNodeArgs } from '../stack/services';
import { ensureWorkerBuild } from '../stack/worker-build';
import { ensureWorkflowBundle } from '../stack/workflow-bundle';
import { runEveryPipeline, type PipelineRun } from './worker-pipelines';
import { round, throwawayMongo, throwawayPostgres, withDeadline, type BenchContext, type BenchResult, type Scenario } from './support';

/** Long enough for the worker's idle collection (workers/idle-gc.ts checks every 10 s) and V8's own. */
const IDLE_SECONDS = 30;
/**
 * After every pipeline: the state an idle worker settles in. The idle collection checks every 10 s and the
 * threads return their pages after their own collection: at 30 s a reading may land before or after it.
 */
const IDLE_AFTER_ALL_SECONDS = 60;

/** A port whose next one is free too (the worker's /metrics and Temporal core's own): fixed ones collide with other stacks on the machine. */
async function freePortPair(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((ok) => {
      const server = createServer().once('error', () => ok(false));
      server.listen(port, '127.0.0.1', () => server.close(() => ok(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await free(port)) && (await free(port + 1))) return port;
  }
  throw new Error('no two consecutive free ports between 20000 and 40000 for the worker\'s metrics');
}

interface Variant {
  name: 'stack' | 'webpack';
  args: readonly string[];
  env: Record<string, string>;
}

interface Sample {
  rssMb: number;
  hwmMb: number;
  /** Where the RSS is: anonymous (heaps, malloc, thread stacks) vs file-backed (code, mapped files); the V8 heap and external. */
  split?: Record<string, number>;
}

const kbField = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMb: round(kbField(status, 'VmRSS') / 1024, 1), hwmMb: round(kbField(status, 'VmHWM') / 1024, 1) };
}

/** smaps_rollup's split of the RSS, the thread count, and the heap figures of the worker's /metrics. */
async function memorySplit(pid: number, metricsPort: number): Promise<Record<string, number>> {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (kb: number) => round(kb / 1024, 1);
  const split: Record<string, number> = {
    anonymousMb: mb(kbField(rollup, 'Anonymous')),
    fileMb: mb(kbField(status, 'RssFile')),
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
  };
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    for (const [name, key] of [
      ['nodejs_heap_size_used_bytes', 'heapUsedMb'],
      ['nodejs_heap_size_total_bytes', 'heapTotalMb'],
      ['nodejs_external_memory_bytes', 'externalMb'],
    ] as const) {
      const v = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1];
      if (v !== undefined) split[key] = round(Number(v) / 2 ** 20, 1);
    }
  } catch {
    // A worker without its metrics server still has its smaps figures.
  }
  return split;
}

/** The median of a few readings a second apart: one reading can land on a GC or a poll's allocation. */
async function settledSample(pid: number, metricsPort: number): Promise<Sample> {
  const readings: Sample[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(sample(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const rss = readings.map((r) => r.rssMb).sort((a, b) => a - b)[2]!;
  return { rssMb: rss, hwmMb: Math.max(...readings.map((r) => r.hwmMb)), split: await memorySplit(pid, metricsPort) };
}

const idle = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

interface VariantResult {
  afterStart: Sample;
  afterRun: Sample;
  afterAll: Sample;
  pipelines: PipelineRun[];
  startSeconds: number;
  runSeconds: number;
  cpuSecondsOfRun: number;
  loadAverage: number[];
}

function cpuSeconds(pid: number): number {
  // utime + stime, fields 14 and 15 of /proc/<pid>/stat (after the command's parenthesised name).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function runVariant(ctx: BenchContext, v: Variant, client: Client): Promise<VariantResult> {
  const pg = await throwawayPostgres(ctx, `worker_${v.name}`);
  const archive = await throwawayMongo(ctx, `worker_${v.name}`);
  const taskQueue = `${ctx.namePrefix}-worker-${v.name}`;
  const metricsPort = await freePortPair();
  const exportDir = mkdtempSync(join(tmpdir(), `moisson-bench-worker-${v.name}-`));
  const url = new URL(ctx.mongoUrl);
  url.pathname = `/${archive.name}`;
  const env = {
    ...process.env,
    ...stackEnvironment(),
    ...v.env,
    DATABASE_URL: pg.url,
    MONGO_URL: url.toString(),
    MOISSON_TASK_QUEUE: taskQueue,
    METRICS_PORT: String(metricsPort),
    // The weekly export's files, away from the stack's.
    CONSOLIDATION_EXPORT_DIR: exportDir,
    LOG_LEVEL: 'info',
  };
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...v.args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-20_000)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-20_000)));
  const stop = async () => {
    unregister();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await withDeadline(exited, 30_000, `stopping the ${v.name} worker`).catch(() => child.kill('SIGKILL'));
    }
  };
  const unregister = ctx.onCleanup(stop);
  try {
    await withDeadline(
      new Promise<void>((ok, fail) => {
        const timer = setInterval(() => {
          if (log.includes(`polling task queue '${taskQueue}'`)) ok();
        }, 200);
        child.once('exit', (code) => {
          clearInterval(timer);
          fail(new Error(`the ${v.name} worker exited with code ${String(code)} before polling:\n${log.slice(-3000)}`));
        });
      }),
      300_000,
      `starting the ${v.name} worker`,
    );
    const startSeconds = round((performance.now() - started) / 1000, 1);
    const pid = child.pid!;
    await idle(IDLE_SECONDS);
    const afterStart = await settledSample(pid, metricsPort);
    ctx.log(`${v.name}: polling after ${startSeconds} s, idle RSS ${afterStart.rssMb} MB (peak ${afterStart.hwmMb} MB)`);

    const cpuBefore = cpuSeconds(pid);
    const t = performance.now();
    const result = await withDeadline(
      client.workflow.execute<typeof pricesDaily>('pricesDaily', { taskQueue, workflowId: `${taskQueue}-prices`, args: [{}] }),
      600_000,
      `pricesDaily on the ${v.name} worker`,
    );
    const runSeconds = round((performance.now() - t) / 1000, 1);
    const cpuSecondsOfRun = round(cpuSeconds(pid) - cpuBefore, 2);
    ctx.log(`${v.name}: pricesDaily ${result.outcome} (${result.counts.saved} quotes saved) in ${runSeconds} s (${cpuSecondsOfRun} s of CPU)`);
    await idle(IDLE_SECONDS);
    const afterRun = await settledSample(pid, metricsPort);
    ctx.log(`${v.name}: idle RSS after the run ${afterRun.rssMb} MB (peak ${afterRun.hwmMb} MB) ${JSON.stringify(afterRun.split)}`);
    ctx.log(`${v.name}: every other pipeline once, as npm run demo runs them`);
    const pipelines = await runEveryPipeline({ client, taskQueue, databaseUrl: pg.url, log: ctx.log });
    await idle(IDLE_AFTER_ALL_SECONDS);
    const afterAll = await settledSample(pid, metricsPort);
    ctx.log(`${v.name}: idle RSS after every pipeline ${afterAll.rssMb} MB (peak ${afterAll.hwmMb} MB) ${JSON.stringify(afterAll.split)}`);
    return { afterStart, afterRun, afterAll, pipelines, startSeconds, runSeconds, cpuSecondsOfRun, loadAverage: loadavg().map((x) => round(x, 2)) };
  } finally {
    await stop();
    await Promise.allSettled([pg.drop(), archive.drop(), rm(exportDir, { recursive: true, force: true })]);
  }
}

const workerMemory: Scenario = {
  produces: ['worker.memory.idle', 'worker.memory.afterRun', 'worker.memory.afterAll'],
  description: `RSS of the worker started as the stack starts it (built ahead, prebuilt workflow bundle, V8/glibc settings), idle after start, after one pricesDaily run and after every pipeline, against webpack at start with default settings`,
  async run(ctx) {
    const t = performance.now();
    const bundle = await ensureWorkflowBundle(ctx.log);
    const bundleSeconds = round((performance.now() - t) / 1000, 1);
    const built = performance.now();
    const entry = await ensureWorkerBuild(ctx.log);
    const buildSeconds = round((performance.now() - built) / 1000, 1);
    const variants: Variant[] = [
      { name: 'stack', args: workerNodeArgs(entry), env: { ...WORKER_ENV, MOISSON_WORKFLOW_BUNDLE: bundle } },
      // The stack's worker before: no bundle (webpack at start), V8's and glibc's defaults.
      { name: 'webpack', args: ['--import', 'tsx', 'workers/main.ts'], env: {} },
    ];
    const connection = await Connection.connect({ address: loadCoreConfig().temporal.address });
    try {
      const client = new Client({ connection });
      const measured: Partial<Record<Variant['name'], VariantResult>> = {};
      for (const v of variants) {
        if (v.name === 'webpack' && ctx.skipBaseline) continue;
        measured[v.name] = await runVariant(ctx, v, client);
      }
      const stack = measured.stack!;
      const base = measured.webpack;
      const params = {
        worker: {
          command: `node ${workerNodeArgs('.data/worker-build/<sources hash>/main.js').join(' ')}`,
          env: { ...WORKER_ENV, MOISSON_WORKFLOW_BUNDLE: '.data/workflow-bundle/workflows-<sources hash>.js' },
          bundleSeconds: `${bundleSeconds} (0 when the bundle of these sources already existed)`,
          buildSeconds: `${buildSeconds} (0 when the build of these sources already existed)`,
        },
        baseline: base ? { command: 'node --import tsx workers/main.ts', env: 'no MOISSON_WORKFLOW_BUNDLE: webpack at start' } : 'skipped (--skip-baseline)',
        idleSeconds: IDLE_SECONDS,
        idleSecondsAfterAll: IDLE_AFTER_ALL_SECONDS,
        run: 'pricesDaily with default input (today, every asset, archive on) on the stack prices replica, throwaway databases',
        afterAll: 'then pmmpDaily (a day 30 days back), a leads search job + leadsValidate + leadsSyncMailwizz, apisyncRun full + incremental, consolidation ingest ×3 + apply + cluster + apply + enrich ban (+ apply) + export, on the stack replicas',
        measured: { stack, ...(base ? { webpack: base } : {}) },
        nodeVersion: process.version,
        loadAverage: loadavg().map((x) => round(x, 2)),
      };
      const result = (value: number, baseline: number | undefined, peak: number): BenchResult => ({
        value,
        unit: 'MB RSS',
        ...(baseline === undefined ? {} : { baseline, baselineName: 'webpack at start, default V8/glibc settings', ratio: round(value / baseline, 3) }),
        peakRssMb: peak,
        params,
      });
      return {
        'worker.memory.idle': result(stack.afterStart.rssMb, base?.afterStart.rssMb, stack.afterStart.hwmMb),
        'worker.memory.afterRun': result(stack.afterRun.rssMb, base?.afterRun.rssMb, stack.afterRun.hwmMb),
        'worker.memory.afterAll': result(stack.afterAll.rssMb, base?.afterAll.rssMb, stack.afterAll.hwmMb),
      };
    } finally {
      await connection.close();
    }
  },
};

export const workerScenarios: Scenario[] = [workerMemory];
