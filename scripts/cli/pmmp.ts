/** `moisson pmmp …`: the public-procurement pipeline. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { extractNoticeText, parseAward } from '../../activities/pmmp/awards';
import { PageShapeError, parsers, RequestRejectedError, type PmmpParserName } from '../../activities/pmmp/parse';
import { MoissonError } from '../../activities/engine/errors';
import { AWARD_PARSER_VERSION } from '../../activities/pmmp/notices';
import { pmmpConsultationsWindowContract, pmmpBackfillContract, pmmpDailyContract, pmmpReparseContract } from '../../workflows/pmmp/contract';
import { CliError, EXIT, isoDate, positiveInt, startOrAttach } from './common';

function isoMonth(value: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError('expected a month YYYY-MM');
  return value;
}

const exitOf = (status: string): number => (status === 'success' ? EXIT.success : status === 'failure' ? EXIT.failure : EXIT.partial);

const PAGE_KINDS = [...(Object.keys(parsers) as PmmpParserName[]), 'award'] as const;
type ParseKind = (typeof PAGE_KINDS)[number];

/** A notice: a PDF goes through its text layer (or OCR when it has none), a text file straight to the parser. */
async function parseAwardFile(file: string, bytes: Buffer): Promise<unknown> {
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
    const text = bytes.toString('utf8');
    // What the portal sends instead of a notice (an error or firewall page) is not a notice's text.
    if (/^\s*</.test(text)) throw new CliError(`${file} is an HTML page, not a notice PDF or its text`, EXIT.failure);
    return { method: 'text-file', award: parseAward(text) };
  }
  const text = await extractNoticeText(bytes, { onProgress: (page, pages) => process.stderr.write(`${file}: page ${page}/${pages}\r`) });
  process.stderr.write('\n');
  return { method: text.method, ocrPages: text.ocrPages, confidence: text.confidence, award: parseAward(text.text) };
}

export interface CrawlWindowResult {
  pages: number;
  listed: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export function registerPmmpCommands(program: Command): void {
  const pmmp = program.command('pmmp').description('public procurement: marchespublics.gov.ma');

  pmmp
    .command('crawl')
    .description('crawl the consultations published in a window, with their details and lots (workflow pmmpConsultationsWindow)')
    .requiredOption('--from <YYYY-MM-DD>', 'first publication day', isoDate)
    .requiredOption('--to <YYYY-MM-DD>', 'last publication day', isoDate)
    .option('--page-size <n>', 'rows per list page: 10, 20, 50, 100 or 500', (v) => {
      if (!['10', '20', '50', '100', '500'].includes(v)) throw new InvalidArgumentError('the portal offers 10, 20, 50, 100 or 500');
      return Number(v);
    })
    .option('--sync', 'wait for the result (exit 0 when nothing was rejected, 1 otherwise)')
    .action(async (opts: { from: string; to: string; pageSize?: number; sync?: boolean }) => {
      if (opts.from > opts.to) throw new CliError(`--from ${opts.from} is after --to ${opts.to}`, EXIT.config_error);
      const input = { from: opts.from, to: opts.to, pageSize: opts.pageSize as 10 | 20 | 50 | 100 | 500 | undefined };
      const r = await startOrAttach(pmmpConsultationsWindowContract, input, { sync: !!opts.sync, flags: { from: '--from', to: '--to', pageSize: '--page-size' } });
      if (!r) return;
      console.log(`${r.listed} consultations listed on ${r.pages} pages: ${r.inserted} new, ${r.updated} changed, ${r.unchanged} unchanged, ${r.rejected} rejected`);
      process.exitCode = r.rejected > 0 ? EXIT.partial : EXIT.success;
    });

  pmmp
    .command('daily')
    .description("run the daily extraction now (workflow pmmpDaily): consultations, notice lists, /bdc/, award documents, analysis")
    .option('--day <YYYY-MM-DD>', 'the day to extract (default: yesterday in Casablanca)', isoDate)
    .option('--max-documents <n>', 'download at most n notice documents in this run', positiveInt)
    .option('--sync', 'wait for the result (exit 0 success, 1 partial, 2 failure)')
    .action(async (opts: { day?: string; maxDocuments?: number; sync?: boolean }) => {
      const r = await startOrAttach(pmmpDailyContract, { day: opts.day, maxDocuments: opts.maxDocuments }, { sync: !!opts.sync, flags: { day: '--day', maxDocuments: '--max-documents' } });
      if (!r) return;
      for (const s of r.streams) console.log(`  ${s.stream.padEnd(20)} ${s.status}${s.error ? `: ${s.error}` : ''}`);
      const c = r.consultations;
      if (c) console.log(`  consultations ${r.day}: ${c.listed} listed, ${c.inserted} new, ${c.updated} changed, ${c.unchanged} unchanged (as recorded for the run)`);
      console.log(`${r.day}: ${r.status}; ${r.noticesPending} notice documents still queued; rejected ${JSON.stringify(r.rejected)}`);
      process.exitCode = exitOf(r.status);
    });

  pmmp
    .command('backfill')
    .description('crawl whole months of the portal (workflow pmmpBackfill): resumable, a few months at once')
    .requiredOption('--from <YYYY-MM>', 'first month', isoMonth)
    .requiredOption('--to <YYYY-MM>', 'last month', isoMonth)
    .option('--concurrency <n>', 'months crawled at once (1-6, default 2)', positiveInt)
    .option('--no-documents', 'leave the notice documents queued')
    .option('--sync', 'wait for the result (exit 0 success, 1 partial, 2 failure)')
    .action(async (opts: { from: string; to: string; concurrency?: number; documents: boolean; sync?: boolean }) => {
      if (opts.from > opts.to) throw new CliError(`--from ${opts.from} is after --to ${opts.to}`, EXIT.config_error);
      if (opts.concurrency !== undefined && opts.concurrency > 6) throw new CliError('--concurrency is at most 6: the portal is one host', EXIT.config_error);
      const r = await startOrAttach(pmmpBackfillContract, { from: opts.from, to: opts.to, concurrency: opts.concurrency, documents: opts.documents }, {
        sync: !!opts.sync,
        flags: { from: '--from', to: '--to', concurrency: '--concurrency' },
      });
      if (!r) return;
      const c = r.counts;
      console.log(`${r.months} months: ${c.listed} consultations (${c.inserted} new, ${c.updated} changed, ${c.unchanged} unchanged), ${c.bdc} /bdc/ results, ${c.rejected} rejected`);
      for (const f of r.failedMonths) console.log(`  ${f.month} failed: ${f.error}`);
      console.log(`status ${r.status}; ${r.noticesPending} notice documents still queued`);
      process.exitCode = exitOf(r.status);
    });

  pmmp
    .command('reparse')
    .description('re-read stored notice documents with the current award parser (workflow pmmpReparse): no portal request')
    .option('--parser-version <v>', `rewrite notices read by any other version (default: the current one, ${AWARD_PARSER_VERSION})`)
    .option('--reextract <what>', 'extract the text again from the stored PDF: none, text-layer or all (OCR again)', 'none')
    .option('--batch-size <n>', 'rows per activity', positiveInt, 200)
    .option('--kind <kind...>', 'what to reparse: consultations, bdc, notices (default: all three)')
    .option('--from <YYYY-MM-DD>', 'consultations published from this day', isoDate)
    .option('--to <YYYY-MM-DD>', 'consultations published up to this day', isoDate)
    .option('--sync', 'wait for the result')
    .action(async (opts: { parserVersion?: string; reextract: string; batchSize: number; kind?: string[]; from?: string; to?: string; sync?: boolean }) => {
      if (!['none', 'text-layer', 'all'].includes(opts.reextract)) throw new CliError(`--reextract must be none, text-layer or all, not '${opts.reextract}'`, EXIT.config_error);
      const unknown = (opts.kind ?? []).filter((k) => !['consultations', 'bdc', 'notices'].includes(k));
      if (unknown.length) throw new CliError(`--kind ${unknown.join(', ')}: the kinds are consultations, bdc and notices`, EXIT.config_error);
      if (opts.from && opts.to && opts.from > opts.to) throw new CliError(`--from ${opts.from} is after --to ${opts.to}`, EXIT.config_error);
      const parserVersion = opts.parserVersion ?? AWARD_PARSER_VERSION;
      const scope = opts.kind ?? ['consultations', 'bdc', 'notices'];
      const input = { scope: scope as ('consultations' | 'bdc' | 'notices')[], parserVersion, batchSize: opts.batchSize, reextract: opts.reextract as 'none' | 'text-layer' | 'all', from: opts.from ?? null, to: opts.to ?? null };
      const r = await startOrAttach(pmmpReparseContract, input, { sync: !!opts.sync, flags: { from: '--from', to: '--to', scope: '--kind', batchSize: '--batch-size' } });
      if (!r) return;
      const c = r.consultations;
      console.log(`consultations: ${c.consultations} reparsed, ${c.updated} changed, ${c.unchanged} unchanged, ${c.rejected} rejected`);
      console.log(`/bdc/: ${r.bdc.pages} pages, ${r.bdc.cards} cards, ${r.bdc.updated} changed, ${r.bdc.unchanged} unchanged, ${r.bdc.rejected} rejected`);
      console.log(`notices: ${r.notices} reparsed (${r.reextracted} extracted again), ${r.attributions} attributions, ${r.bids} bids, ${r.rejected} rejected`);
      process.exitCode = r.rejected + c.rejected + r.bdc.rejected > 0 ? EXIT.partial : EXIT.success;
    });

  pmmp
    .command('parse')
    .description('print what a parser extracts from a saved page (like `scrapy parse`): the way to debug a page that broke')
    .argument('<file>', 'a saved page')
    .addOption(new Option('--as <kind>', 'which parser (award: a notice PDF, or its text)').choices(PAGE_KINDS).makeOptionMandatory())
    .action(async (file: string, opts: { as: ParseKind }) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.config_error);
      }
      try {
        const parsed = opts.as === 'award' ? await parseAwardFile(file, bytes) : parsers[opts.as](bytes.toString('utf8'));
        console.log(JSON.stringify(parsed, null, 2));
      } catch (err) {
        if (err instanceof MoissonError) throw new CliError(`${file}: ${err.message}`, EXIT.failure);
        if (err instanceof PageShapeError) {
          throw new CliError(`${file} is not a ${opts.as} page as the parser knows it: missing ${err.missing.join(', ')}`, EXIT.failure);
        }
        if (err instanceof RequestRejectedError) throw new CliError(`${file} is the portal's firewall page, not a ${opts.as} page: ${err.message}`, EXIT.failure);
        throw err;
      }
    });
}
