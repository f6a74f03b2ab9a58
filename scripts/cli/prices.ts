/** `moisson prices …`: the daily prices run and its MongoDB archive. */
import { InvalidArgumentError, type Command } from 'commander';
import { ASSET_CODES } from '../../schema/prices/assets';
import { pricesArchiveContract, pricesDailyContract, type PricesArchiveResult, type PricesDailyResult } from '../../workflows/prices/contract';
import { EXIT, isoDate, positiveInt, startOrAttach } from './common';

export function assetList(value: string): string[] {
  const codes = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const unknown = codes.filter((c) => !(ASSET_CODES as string[]).includes(c));
  if (unknown.length) throw new InvalidArgumentError(`unknown asset(s) ${unknown.join(', ')}; known: ${ASSET_CODES.join(', ')}`);
  return codes;
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



export function registerPricesCommands(program: Command): void {
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
      const input = { date: opts.date, assets: opts.assets, archive: opts.archive, archiveDays: opts.archiveDays };
      const result = await startOrAttach(pricesDailyContract, input, { sync: !!opts.sync, flags: { date: '--date', assets: '--assets', archiveDays: '--archive-days' } });
      if (!result) return;
      printDaily(result);
      process.exitCode = exitCodeForDaily(result);
    });

  prices
    .command('archive')
    .description('archive the last N days of prices from PostgreSQL to MongoDB (workflow pricesArchive)')
    .option('--date <YYYY-MM-DD>', 'last day of the window (default: today, UTC)', isoDate)
    .option('--days <n>', 'window length in days (default: PRICES_ARCHIVE_DAYS, 7)', positiveInt)
    .option('--verify', 'compare both sides after archiving')
    .option('--verify-only', 'only compare both sides; write nothing')
    .action(async (opts: { date?: string; days?: number; verify?: boolean; verifyOnly?: boolean }) => {
      const input = { endDate: opts.date, days: opts.days, verify: Boolean(opts.verify), verifyOnly: Boolean(opts.verifyOnly) };
      const result = (await startOrAttach(pricesArchiveContract, input, { sync: true, flags: { endDate: '--date', days: '--days' } }))!;
      printArchive(result);
      process.exitCode = result.status === 'success' ? EXIT.success : EXIT.failure;
    });
}
