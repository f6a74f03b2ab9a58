/** `moisson apisync …`: the SaaS API sync (Pennylane). */
import { Option, type Command } from 'commander';
import { SOURCE_NAMES } from '../../activities/apisync/sources/index';
import type { ApisyncRunResult } from '../../workflows/apisync';
import { EXIT, startOrAttach } from './common';

export function exitCodeForApisync(result: ApisyncRunResult): number {
  if (result.outcome === 'skipped') return EXIT.success;
  return EXIT[result.outcome];
}

export function printApisync(result: ApisyncRunResult): void {
  console.log(`outcome: ${result.outcome}   source: ${result.source}   mode: ${result.mode}   run: ${result.runId}`);
  if (result.error) console.log(`  ${result.error}`);
  for (const i of result.configIssues ?? []) console.log(`  - ${i.variable}: ${i.message}`);
  for (const s of result.streams) {
    if (!s.result) {
      console.log(`  ${s.stream.padEnd(18)} failure  ${s.error ?? ''}`);
      continue;
    }
    const r = s.result;
    const c = r.counts;
    console.log(
      `  ${s.stream.padEnd(18)} ${r.mode.padEnd(11)} ${String(c.loaded).padStart(8)} loaded ${String(c.deleted).padStart(5)} deleted ${String(c.rejected).padStart(4)} rejected` +
        `  ${c.requests} requests in ${(r.durationMs / 1000).toFixed(1)} s${r.rateLimited ? `, ${r.rateLimited} × 429` : ''}${r.resumed ? ', resumed' : ''}`,
    );
    if (r.fallbackReason) console.log(`  ${''.padEnd(18)} (${r.fallbackReason})`);
    if (r.columnsAdded.length) console.log(`  ${''.padEnd(18)} new columns: ${r.columnsAdded.join(', ')}`);
  }
}

export function registerApisyncCommands(program: Command): void {
  const apisync = program.command('apisync').description('SaaS API sync into PostgreSQL (apisync.* tables): Pennylane');
  apisync
    .command('run')
    .description('sync a source now (workflow apisyncRun, id apisync-<source>; one run per source at a time)')
    .addOption(new Option('--source <name>', 'the API').choices(SOURCE_NAMES).default('pennylane'))
    .addOption(new Option('--mode <mode>', 'full rebuilds every table; incremental applies the change feed since the watermark').choices(['full', 'incremental']).default('incremental'))
    .option('--streams <names>', 'comma-separated streams (default: all of the source)', (v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--sync', 'wait for the result and exit 0/1/2/3 for success/partial/failure/config error')
    .action(async (opts: { source: string; mode: 'full' | 'incremental'; streams?: string[]; sync?: boolean }) => {
      const args = [{ source: opts.source, mode: opts.mode, ...(opts.streams ? { streams: opts.streams } : {}) }];
      const result = await startOrAttach<ApisyncRunResult>('apisyncRun', `apisync-${opts.source}`, args, { sync: !!opts.sync, note: opts.mode });
      if (!result) return;
      printApisync(result);
      process.exitCode = exitCodeForApisync(result);
    });
}
