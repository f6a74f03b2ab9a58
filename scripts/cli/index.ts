/**
 * `moisson`: the command line. It starts and watches workflows through the Temporal client and never
 * does a pipeline's work itself. Exit codes follow the seed systems: 0 success, 1 partial, 2 failure,
 * 3 configuration error (bad settings or a bad invocation).
 */
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { checkAllConfig, ConfigError, loadCoreConfig, type CoreConfig } from '../../schema/config';
import { ASSET_CODES } from '../../schema/prices/assets';
import type { ProbePageResult } from '../../activities/engine/browser';
import type { PricesArchiveResult, PricesDailyResult } from '../../workflows/prices';
import { applySchedules, SCHEDULES } from '../schedules';

export const EXIT = { success: 0, partial: 1, failure: 2, config_error: 3 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new InvalidArgumentError('expected a date as YYYY-MM-DD');
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function assetList(value: string): string[] {
  const codes = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const unknown = codes.filter((c) => !(ASSET_CODES as string[]).includes(c));
  if (unknown.length) throw new InvalidArgumentError(`unknown asset(s) ${unknown.join(', ')}; known: ${ASSET_CODES.join(', ')}`);
  return codes;
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

function config(): CoreConfig {
  try {
    return loadCoreConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.config_error);
    throw err;
  }
}

async function connect(cfg: CoreConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: cfg.temporal.address, connectTimeout: '5s' });
    return new Client({ connection, namespace: cfg.temporal.namespace });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${cfg.temporal.address} (${(err as Error).message}). Start the local stack with \`npm run stack:up\`, or set TEMPORAL_ADDRESS.`,
      EXIT.failure,
    );
  }
}

function uiLink(cfg: CoreConfig, workflowId: string): string {
  return `${cfg.temporal.uiUrl}/namespaces/${encodeURIComponent(cfg.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

async function closeClient(client: Client): Promise<void> {
  await client.connection.close();
}

export function exitCodeForDaily(result: PricesDailyResult): number {
  const code = EXIT[result.outcome];
  // Prices saved but not archived (or not verified) is not a clean run.
  if (code === EXIT.success && result.archive && result.archive.status !== 'success') return EXIT.partial;
  return code;
}

export function printDaily(result: PricesDailyResult): void {
  console.log(`outcome: ${result.outcome}   date: ${result.date}   run: ${result.runId}`);
  if (result.configIssues?.length) {
    console.log('configuration problems:');
    for (const i of result.configIssues) console.log(`  - ${i.variable}: ${i.message}`);
    return;
  }
  const c = result.counts;
  console.log(`assets: ${c.saved}/${c.requested} saved (${c.inserted} new, ${c.updated} changed, ${c.unchanged} unchanged, ${c.rejected} rejected)`);
  for (const [asset, a] of Object.entries(result.assets)) {
    console.log(`  ${asset.padEnd(5)} ${a.status.padEnd(8)} ${(a.source ?? '').padEnd(14)} ${a.reason ?? ''}`.trimEnd());
  }
  for (const s of result.sources.filter((x) => x.status === 'failed')) console.log(`  source ${s.source} (${s.assetClass}) failed: ${s.error}`);
  if (result.archive) printArchive(result.archive);
}

function printArchive(a: PricesArchiveResult | { status: 'failure'; error: string }): void {
  if ('error' in a) {
    console.log(`archive: failure: ${a.error}`);
    return;
  }
  const counts = a.counts ? ` (${a.counts.pgRows} rows: ${a.counts.inserted} inserted, ${a.counts.updated} updated, ${a.counts.unchanged} unchanged, ${a.counts.deleted} deleted)` : '';
  console.log(`archive ${a.window.from}..${a.window.to}: ${a.status}${counts}`);
  if (a.verify) {
    const v = a.verify;
    console.log(`  verify: ${v.ok ? 'ok' : 'MISMATCH'} — PostgreSQL ${v.pgCount}, MongoDB ${v.mongoCount}, missing ${v.missing}, extra ${v.extra}, differing ${v.mismatched}`);
    for (const s of v.samples) console.log(`    ${s.asset} ${s.date}: ${s.problem}`);
  }
}

async function waitForResult<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`the workflow failed: ${err.cause?.message ?? err.message}`, EXIT.failure);
    throw err;
  }
}

export function buildProgram(): Command {
  const program = new Command('moisson').description('moisson: durable data extraction on Temporal').exitOverride();
  const prices = program.command('prices').description('daily prices in MRU (FX, crypto, metals) and their MongoDB archive');

  prices
    .command('run')
    .description('start the daily prices run (workflow pricesDaily)')
    .option('--date <YYYY-MM-DD>', 'the day to fetch (default: today, UTC)', isoDate)
    .option('--assets <codes>', `comma-separated asset codes (default: all: ${ASSET_CODES.join(',')})`, assetList)
    .option('--no-archive', 'do not archive to MongoDB afterwards')
    .option('--archive-days <n>', 'archive window in days (default: PRICES_ARCHIVE_DAYS, 7)', positiveInt)
    .option('--sync', 'wait for the result and exit 0/1/2/3 for success/partial/failure/config error')
    .action(async (opts: { date?: string; assets?: string[]; archive: boolean; archiveDays?: number; sync?: boolean }) => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        const date = opts.date ?? todayUtc();
        const workflowId = `prices-daily-${date}`;
        const args = [{ date, assets: opts.assets, archive: opts.archive, archiveDays: opts.archiveDays }] as const;
        let handle;
        try {
          handle = await client.workflow.start('pricesDaily', { taskQueue: cfg.temporal.taskQueue, workflowId, args: [...args] });
          console.log(`started ${workflowId}`);
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          handle = client.workflow.getHandle(workflowId);
          console.log(`${workflowId} is already running; ${opts.sync ? 'waiting for it' : 'not starting another'}`);
        }
        console.log(`  ${uiLink(cfg, workflowId)}`);
        if (!opts.sync) return;
        const result = await waitForResult(handle.result() as Promise<PricesDailyResult>);
        printDaily(result);
        process.exitCode = exitCodeForDaily(result);
      } finally {
        await closeClient(client);
      }
    });

  prices
    .command('archive')
    .description('archive the last N days of prices from PostgreSQL to MongoDB (workflow pricesArchive)')
    .option('--date <YYYY-MM-DD>', 'last day of the window (default: today, UTC)', isoDate)
    .option('--days <n>', 'window length in days (default: PRICES_ARCHIVE_DAYS, 7)', positiveInt)
    .option('--verify', 'compare both sides after archiving')
    .option('--verify-only', 'only compare both sides; write nothing')
    .action(async (opts: { date?: string; days?: number; verify?: boolean; verifyOnly?: boolean }) => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        const endDate = opts.date ?? todayUtc();
        const workflowId = `prices-archive-${endDate}-${opts.verifyOnly ? 'verify' : 'manual'}-${Date.now()}`;
        const handle = await client.workflow.start('pricesArchive', {
          taskQueue: cfg.temporal.taskQueue,
          workflowId,
          args: [{ endDate, days: opts.days, verify: Boolean(opts.verify), verifyOnly: Boolean(opts.verifyOnly) }],
        });
        console.log(`started ${workflowId}\n  ${uiLink(cfg, workflowId)}`);
        const result = await waitForResult(handle.result() as Promise<PricesArchiveResult>);
        printArchive(result);
        process.exitCode = result.status === 'success' ? EXIT.success : EXIT.failure;
      } finally {
        await closeClient(client);
      }
    });

  const schedules = program.command('schedules').description('Temporal Schedules of the pipelines');
  schedules
    .command('apply')
    .description('create or update every schedule so the server matches the code (safe to repeat)')
    .option('--dry-run', 'say what would change, change nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        for (const o of await applySchedules(client, cfg.temporal.taskQueue, SCHEDULES, { dryRun: opts.dryRun })) {
          console.log(`${o.scheduleId}: ${opts.dryRun && o.change !== 'created' ? 'would be updated if it differs' : o.change}`);
        }
      } finally {
        await closeClient(client);
      }
    });
  schedules
    .command('list')
    .description('list the schedules on the server')
    .action(async () => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        for await (const s of client.schedule.list()) {
          const next = s.info.nextActionTimes[0]?.toISOString() ?? '-';
          console.log(`${s.scheduleId.padEnd(24)} ${s.state.paused ? 'paused' : 'active'}  next ${next}`);
        }
      } finally {
        await closeClient(client);
      }
    });

  program
    .command('doctor')
    .description('check the platform through its real queues: a page rendered by the browser worker')
    .option('--url <url>', 'the page to render (default: the Temporal Web UI)')
    .action(async (opts: { url?: string }) => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        const url = opts.url ?? cfg.temporal.uiUrl;
        const workflowId = `doctor-browser-${Date.now()}`;
        const probe = (await waitForResult(
          client.workflow.execute('browserProbe', {
            taskQueue: cfg.temporal.taskQueue,
            workflowId,
            args: [{ url, taskQueue: cfg.temporal.browserTaskQueue }],
            workflowExecutionTimeout: '3 minutes',
          }),
        )) as ProbePageResult;
        console.log(`queue ${cfg.temporal.taskQueue}: ok (workflow ${workflowId})`);
        console.log(`queue ${cfg.temporal.browserTaskQueue}: ok — Chromium rendered ${probe.finalUrl} (HTTP ${probe.status}, "${probe.title}", ${probe.bytes} bytes, ${probe.links} links) in ${probe.durationMs} ms`);
      } finally {
        await closeClient(client);
      }
    });

  program
    .command('config')
    .command('check')
    .description('check every setting of every section and report all problems at once')
    .action(() => {
      const issues = checkAllConfig();
      if (issues.length === 0) {
        console.log('configuration ok');
        return;
      }
      for (const i of issues) console.log(`${i.variable}: ${i.message}`);
      process.exitCode = EXIT.config_error;
    });

  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.config_error;
      return;
    }
    if (err instanceof CliError) {
      console.error(`moisson: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    console.error(`moisson: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = EXIT.failure;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
