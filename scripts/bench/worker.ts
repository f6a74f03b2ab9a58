/**
 * `worker.memory.*`: the resident memory of the worker process (`workers/main.ts`) started exactly as the
 * local stack starts it (scripts/stack/services.ts: WORKER_NODE_ARGS, WORKER_ENV and the workflow bundle
 * of the current sources), beside the way it was started before, in the same run: `--import tsx
 * workers/main.ts` with default V8 and glibc settings, bundling the workflows with webpack at start.
 *
 * Each worker polls a task queue of its own on the stack's Temporal and works on throwaway databases, so it
 * never takes the stack worker's tasks. Measured: RSS once it polls and has been idle IDLE_SECONDS
 * (`worker.memory.idle`), then RSS idle again IDLE_SECONDS after one `pricesDaily` run on the stack's
 * prices replica (`worker.memory.afterRun`); `peakRssMb` is the worker's own VmHWM. Lower is better:
 * ratio < 1 means less memory than the baseline. The two workers run one after the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { loadCoreConfig } from '../../schema/config';
import type { pricesDaily } from '../../workflows/prices';
import { projectRoot } from '../stack/paths';
import { stackEnvironment, WORKER_ENV, WORKER_NODE_ARGS } from '../stack/services';
import { ensureWorkflowBundle } from '../stack/workflow-bundle';
import { round, throwawayMongo, throwawayPostgres, withDeadline, type BenchContext, type BenchResult, type Scenario } from './support';

/** Long enough for the worker's idle collection (workers/idle-gc.ts checks every 10 s) and V8's own. */
const IDLE_SECONDS = 30;
const METRICS_PORTS = { stack: 19_464, webpack: 19_474 } as const;

interface Variant {
  name: keyof typeof METRICS_PORTS;
  args: readonly string[];
  env: Record<string, string>;
}

interface Sample {
  rssMb: number;
  hwmMb: number;
}

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMb: round(kb('VmRSS') / 1024, 1), hwmMb: round(kb('VmHWM') / 1024, 1) };
}

/** The median of a few readings a second apart: one reading can land on a GC or a poll's allocation. */
async function settledSample(pid: number): Promise<Sample> {
  const readings: Sample[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(sample(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const rss = readings.map((r) => r.rssMb).sort((a, b) => a - b)[2]!;
  return { rssMb: rss, hwmMb: Math.max(...readings.map((r) => r.hwmMb)) };
}

const idle = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

interface VariantResult {
  afterStart: Sample;
  afterRun: Sample;
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
  const url = new URL(ctx.mongoUrl);
  url.pathname = `/${archive.name}`;
  const env = {
    ...process.env,
    ...stackEnvironment(),
    ...v.env,
    DATABASE_URL: pg.url,
    MONGO_URL: url.toString(),
    MOISSON_TASK_QUEUE: taskQueue,
    METRICS_PORT: String(METRICS_PORTS[v.name]),
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
    const afterStart = await settledSample(pid);
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
    const afterRun = await settledSample(pid);
    ctx.log(`${v.name}: idle RSS after the run ${afterRun.rssMb} MB (peak ${afterRun.hwmMb} MB)`);
    return { afterStart, afterRun, startSeconds, runSeconds, cpuSecondsOfRun, loadAverage: loadavg().map((x) => round(x, 2)) };
  } finally {
    await stop();
    await Promise.allSettled([pg.drop(), archive.drop()]);
  }
}

const workerMemory: Scenario = {
  produces: ['worker.memory.idle', 'worker.memory.afterRun'],
  description: `RSS of the worker started as the stack starts it (prebuilt workflow bundle, V8/glibc settings), idle after start and after one pricesDaily run, against webpack at start with default settings`,
  async run(ctx) {
    const t = performance.now();
    const bundle = await ensureWorkflowBundle(ctx.log);
    const bundleSeconds = round((performance.now() - t) / 1000, 1);
    const variants: Variant[] = [
      { name: 'stack', args: WORKER_NODE_ARGS, env: { ...WORKER_ENV, MOISSON_WORKFLOW_BUNDLE: bundle } },
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
          command: `node ${WORKER_NODE_ARGS.join(' ')}`,
          env: { ...WORKER_ENV, MOISSON_WORKFLOW_BUNDLE: '.data/workflow-bundle/workflows-<sources hash>.js' },
          bundleSeconds: `${bundleSeconds} (0 when the bundle of these sources already existed)`,
        },
        baseline: base ? { command: 'node --import tsx workers/main.ts', env: 'no MOISSON_WORKFLOW_BUNDLE: webpack at start' } : 'skipped (--skip-baseline)',
        idleSeconds: IDLE_SECONDS,
        run: 'pricesDaily with default input (today, every asset, archive on) on the stack prices replica, throwaway databases',
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
      };
    } finally {
      await connection.close();
    }
  },
};

export const workerScenarios: Scenario[] = [workerMemory];
