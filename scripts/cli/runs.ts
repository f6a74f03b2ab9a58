/**
 * `moisson runs …`: the runs of every pipeline, whoever started them (this CLI, the API, a Schedule, the
 * Web UI), through the control layer: list, status (progress from the workflow's query), watch (live
 * progress until the run ends), cancel.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkRunFilter, RUN_STATUSES, RunControl, RunFilterError, type RunFilterName, RunFailedError, RunNotControlledError, RunNotRunningError, type RunView } from '../../control/runs';
import { contractOf } from '../../workflows/catalog';
import { meterOf, PIPELINES, type Pipeline } from '../../workflows/contracts';
import { CliError, closeClient, config, connect, EXIT, positiveInt, printSummary, uiLink } from './common';
import { formatMeter, showProgressUntil } from './progress';

async function withRuns<T>(fn: (control: RunControl, ui: (id: string) => string) => Promise<T>): Promise<T> {
  const cfg = config();
  const client = await connect(cfg);
  try {
    return await fn(new RunControl(client, cfg.temporal.taskQueue), (id) => uiLink(cfg, id));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no run ${err.workflowId} on this Temporal namespace`, EXIT.failure);
    if (err instanceof RunNotControlledError || err instanceof RunNotRunningError) throw new CliError(err.message, EXIT.failure);
    throw err;
  } finally {
    await closeClient(client);
  }
}

async function describeOrFail(control: RunControl, workflowId: string): Promise<RunView> {
  const run = await control.describe(workflowId);
  if (!run) throw new CliError(`${workflowId} is not a run of a moisson pipeline`, EXIT.failure);
  return run;
}

function progressText(run: RunView): string {
  if (run.progress === null) return '';
  const c = contractOf(run.workflowType);
  return c ? formatMeter(meterOf(c, run.progress)) : '';
}

/** A closed run's outcome: its result's counts, or its failure's root cause. */
async function printOutcome(control: RunControl, run: RunView): Promise<number> {
  const handle = control.client.workflow.getHandle(run.workflowId, run.runId);
  if (run.status === 'completed') {
    printSummary(run.workflowId, await handle.result(), run.closedAt && run.startedAt ? Date.parse(run.closedAt) - Date.parse(run.startedAt) : 0);
    return EXIT.success;
  }
  if (run.status === 'failed') {
    try {
      await control.result(handle);
    } catch (err) {
      if (err instanceof RunFailedError) {
        console.log(`failed: ${err.message}`);
        return EXIT.failure;
      }
      throw err;
    }
  }
  console.log(`${run.status}`);
  return run.status === 'cancelled' ? EXIT.partial : EXIT.failure;
}

/** A label filter checked as it is parsed: a value no run can carry is refused naming its flag. */
function filterValue(filter: RunFilterName): (value: string) => string {
  return (value) => {
    try {
      return checkRunFilter(filter, value);
    } catch (err) {
      if (err instanceof RunFilterError) throw new InvalidArgumentError('expected letters, digits and . _ - : @ only (at most 200), as runs are labelled');
      throw err;
    }
  };
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('runs of every pipeline, however they were started: list, status, watch, cancel');

  runs
    .command('list')
    .description('recent runs, newest first')
    .addOption(new Option('--pipeline <pipeline>', 'one pipeline').choices([...PIPELINES]))
    .addOption(new Option('--status <status>', 'one status').choices([...RUN_STATUSES]))
    .option('--period <period>', 'runs about this day or window (2026-11-20, 2026-01..2026-03, 2026-W49)', filterValue('period'))
    .option('--source <source>', 'runs reading this source (pennylane, marchespublics, a consolidation source code)', filterValue('source'))
    .option('--job <job-id>', 'runs of this leads job', filterValue('jobId'))
    .option('--limit <n>', 'how many (at most 1000)', (v) => {
      const n = positiveInt(v);
      if (n > 1000) throw new InvalidArgumentError('expected at most 1000');
      return n;
    }, 20)
    .option('--json', 'print the runs as JSON')
    .action(async (opts: { pipeline?: Pipeline; status?: (typeof RUN_STATUSES)[number]; period?: string; source?: string; job?: string; limit: number; json?: boolean }) => {
      await withRuns(async (control) => {
        const found = await control.list({ pipeline: opts.pipeline, status: opts.status, period: opts.period, source: opts.source, jobId: opts.job, limit: opts.limit });
        if (opts.json) {
          console.log(JSON.stringify(found, null, 2));
          return;
        }
        if (found.length === 0) {
          console.log('no runs');
          return;
        }
        const rows = found.map((r) => [r.workflowId, r.workflowType, r.status, r.startedAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '-', progressText(r)]);
        const head = ['workflow id', 'type', 'status', 'started', 'progress'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
        const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
        console.log(line(head));
        for (const row of rows) console.log(line(row));
      });
    });

  runs
    .command('status')
    .description("one run: its pipeline, status, times, progress (from the workflow's query) or outcome")
    .argument('<workflow-id>')
    .option('--json', 'print the run as JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      await withRuns(async (control, ui) => {
        const run = await describeOrFail(control, workflowId);
        if (opts.json) {
          console.log(JSON.stringify(run, null, 2));
          return;
        }
        console.log(`${run.workflowId}  ${run.workflowType} (${run.pipeline})  ${run.status}`);
        console.log(`  started ${run.startedAt ?? '-'}${run.closedAt ? `, closed ${run.closedAt}` : ''}`);
        console.log(`  ${ui(run.workflowId)}`);
        if (run.status === 'running') {
          const text = progressText(run);
          console.log(text ? `  progress: ${text}` : '  progress: not answering (no worker polling, or the run has no progress query)');
          return;
        }
        process.exitCode = await printOutcome(control, run);
      });
    });

  runs
    .command('watch')
    .description('follow a run live (a progress bar with counts, and an ETA where the total is known) until it ends')
    .argument('<workflow-id>')
    .action(async (workflowId: string) => {
      await withRuns(async (control) => {
        const run = await describeOrFail(control, workflowId);
        if (run.status === 'running') {
          const handle = control.client.workflow.getHandle(run.workflowId);
          await showProgressUntil(control, run.workflowId, run.workflowType, handle.result().catch(() => undefined));
        }
        process.exitCode = await printOutcome(control, await describeOrFail(control, workflowId));
      });
    });

  runs
    .command('cancel')
    .description('ask a running run to stop (it cancels its activities and children and ends Canceled)')
    .argument('<workflow-id>')
    .action(async (workflowId: string) => {
      await withRuns(async (control) => {
        const run = await control.cancel(workflowId);
        console.log(`cancellation requested for ${run.workflowId} (${run.workflowType})`);
      });
    });
}
