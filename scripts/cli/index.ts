/**
 * `moisson`: the command line. It starts and watches workflows through the Temporal client and never
 * does a pipeline's work itself. Exit codes follow the seed systems: 0 success, 1 partial, 2 failure,
 * 3 configuration error (bad settings or a bad invocation). One file per pipeline beside this one.
 */
import { Command, CommanderError } from 'commander';
import type { ProbePageResult } from '../../activities/engine/browser';
import { checkAllConfig, configReference } from '../../schema/config';
import { applySchedules, SCHEDULES } from '../../control/schedules';
import { registerSearchAttributes } from '../../control/search-attributes';
import { CliError, closeClient, config, connect, EXIT, loadStackEnv, unreachableService, waitForResult } from './common';
import { registerRunsCommands } from './runs';
import { registerApisyncCommands } from './apisync';
import { registerConsolidationCommands } from './consolidation';
import { registerLeadsCommands } from './leads';
import { registerPmmpCommands } from './pmmp';
import { registerPricesCommands } from './prices';

export { EXIT } from './common';
export { exitCodeForDaily, printDaily } from './prices';

export function buildProgram(): Command {
  const program = new Command('moisson').description('moisson: durable data extraction on Temporal').exitOverride();
  registerPricesCommands(program);
  registerPmmpCommands(program);
  registerApisyncCommands(program);
  registerLeadsCommands(program);
  registerConsolidationCommands(program);
  registerRunsCommands(program);

  const schedules = program.command('schedules').description('Temporal Schedules of the pipelines');
  schedules
    .command('apply')
    .description("create or update every schedule so the server matches the code, after registering the runs' search attributes (safe to repeat)")
    .option('--dry-run', 'say what would change, change nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      const cfg = config();
      const client = await connect(cfg);
      try {
        // A deployment's setup step (docker-compose.temporal.yml): the Schedules' runs set these attributes.
        if (!opts.dryRun) {
          const added = await registerSearchAttributes(client.connection, cfg.temporal.namespace);
          console.log(`search attributes: ${added.length ? `registered ${added.join(', ')}` : 'already registered'}`);
        }
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

  const configCommand = program.command('config').description('the settings read from the environment');
  configCommand
    .command('reference')
    .description("print every variable read, with its default and meaning (the README's table)")
    .action(() => console.log(configReference()));
  configCommand
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
    loadStackEnv();
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.config_error;
      return;
    }
    const known = err instanceof CliError ? err : unreachableService(err);
    if (known) {
      console.error(`moisson: ${known.message}`);
      process.exitCode = known.exitCode;
      return;
    }
    console.error(`moisson: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = EXIT.failure;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
