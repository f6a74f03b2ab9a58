/** `moisson apisync …`: the SaaS API sync (Pennylane). */
import { Option, type Command } from 'commander';
import { SOURCE_NAMES } from '../../activities/apisync/sources/index';
import { connectPostgres } from '../../activities/engine/db';
import { apisyncStatus, type ApisyncStatus } from '../../control/apisync-status';
import { apisyncRunContract, type ApisyncRunResult } from '../../workflows/apisync/contract';
import { CliError, config, EXIT, redactUrl, startOrAttach, unreachableService } from './common';

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
        `  ${c.requests} requests in ${(r.durationMs / 1000).toFixed(1)} s${r.rateLimited ? `, ${r.rateLimited} × 429` : ''}${r.resumed ? ', resumed' : ''}${r.attempt > 1 ? `, on attempt ${r.attempt}` : ''}`,
    );
    if (r.fallbackReason) console.log(`  ${''.padEnd(18)} (${r.fallbackReason})`);
    if (r.columnsAdded.length) console.log(`  ${''.padEnd(18)} new columns: ${r.columnsAdded.join(', ')}`);
  }
}

/** `2026-11-23T13:29:06.019001Z` → `2026-11-23 13:29:06Z`: a table cell, not a cursor (the JSON keeps full precision). */
const when = (v: string | null): string => (v ? v.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export function printApisyncStatus(s: ApisyncStatus): void {
  const lease = s.lease;
  const leaseText = !lease
    ? 'never taken'
    : lease.state === 'held'
      ? `held by ${lease.workflowId} (run ${lease.workflowRunId}) since ${when(lease.acquiredAt)}, renewed until ${when(lease.expiresAt)}`
      : lease.state === 'expired'
        ? `expired: ${lease.workflowId} (run ${lease.workflowRunId}) stopped renewing it at ${when(lease.expiresAt)}; the next run takes it over`
        : `free (last held by ${lease.workflowId})`;
  console.log(`source: ${s.source}   lease: ${leaseText}`);
  const r = s.newestRun;
  console.log(r ? `newest run: ${r.runId} ${r.mode} ${r.status}, started ${when(r.startedAt)}${r.finishedAt ? `, finished ${when(r.finishedAt)}` : ''} (workflow ${r.workflowId})` : 'newest run: none yet');
  console.log('');
  const rows = s.streams.map((x) => [
    x.stream + (x.declared ? '' : ' (undeclared)'),
    x.lastStatus ?? (x.synced ? '-' : 'never'),
    x.lastMode ?? '-',
    x.rowCount === null ? '-' : String(x.rowCount),
    x.watermark ?? '-',
    when(x.lastFullAt),
    x.lastLog ? `${x.lastLog.status} ${x.lastLog.mode ?? ''} ${x.lastLog.loaded}/${x.lastLog.extracted}${x.lastLog.durationMs === null ? '' : ` in ${(x.lastLog.durationMs / 1000).toFixed(1)} s`}`.replace(/ +/g, ' ') : '-',
    x.pending ? `${x.pending.mode}${x.pending.runRunning ? '' : ' (stale)'}` : '-',
  ]);
  const head = ['stream', 'status', 'mode', 'rows', 'watermark', 'last full', 'last log (loaded/extracted)', 'pending'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(head));
  for (const row of rows) console.log(line(row));
  for (const x of s.streams) {
    if (x.pending) {
      const c = x.pending.counts;
      console.log(
        `pending ${x.stream}: ${x.pending.mode} run ${x.pending.runId}${x.pending.runRunning ? ' (running)' : ' (its run is over: the next attempt of that run would resume, a new run starts afresh)'}, ` +
          `${x.pending.position === null ? 'no page committed yet' : `resumes at ${x.pending.position}`}; so far ${c.pages ?? 0} pages, ${c.loaded ?? 0} loaded, ${c.deleted ?? 0} deleted`,
      );
      if (x.pending.fallbackReason) console.log(`  (${x.pending.fallbackReason})`);
    }
  }
  for (const x of s.streams) if (x.lastError) console.log(`error ${x.stream}: ${x.lastError}`);
}

/**
 * The database behind DATABASE_URL cannot be used. Down or unreachable: the same outage message as every
 * command (exit 2); reachable but refusing us or without the tables: a setting to fix (exit 3).
 */
function databaseProblem(err: unknown, url: string): CliError | undefined {
  const down = unreachableService(err, { ...process.env, DATABASE_URL: url });
  if (down) return down;
  const e = err as { code?: string; message?: string };
  const where = redactUrl(url);
  if (['28P01', '28000', '3D000'].includes(e.code ?? '')) {
    return new CliError(`cannot use the database at ${where} (${e.code}: ${e.message}). Start the local stack with \`npm run stack:up\`, or set DATABASE_URL.`, EXIT.config_error);
  }
  if (e.code === '3F000' || e.code === '42P01') {
    return new CliError(`the database at ${where} has no apisync tables (${e.message}): run the migrations (\`npm run db:migrate\`)`, EXIT.config_error);
  }
  return undefined;
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
      const input = { source: opts.source, mode: opts.mode, ...(opts.streams ? { streams: opts.streams } : {}) };
      const result = await startOrAttach(apisyncRunContract, input, { sync: !!opts.sync, note: opts.mode, flags: { source: '--source', mode: '--mode', streams: '--streams' } });
      if (!result) return;
      printApisync(result);
      process.exitCode = exitCodeForApisync(result);
    });
  apisync
    .command('status')
    .description("each stream's watermark, last mode and full, rows, last status and error, pending cursor; the newest run and the run lease (from PostgreSQL)")
    .addOption(new Option('--source <name>', 'the API').choices(SOURCE_NAMES).default('pennylane'))
    .option('--json', 'print the status as JSON')
    .action(async (opts: { source: string; json?: boolean }) => {
      const cfg = config();
      const pg = connectPostgres(cfg.databaseUrl, { max: 1 });
      try {
        const status = await apisyncStatus(pg.sql, opts.source);
        if (opts.json) console.log(JSON.stringify(status, null, 2));
        else printApisyncStatus(status);
      } catch (err) {
        throw databaseProblem(err, cfg.databaseUrl) ?? err;
      } finally {
        await pg.close().catch(() => {});
      }
    });
}
