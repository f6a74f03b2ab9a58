/** `moisson pmmp …`: the public-procurement pipeline. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { extractNoticeText, parseAward } from '../../activities/pmmp/awards';
import { PageShapeError, parsers, RequestRejectedError, type PmmpParserName } from '../../activities/pmmp/parse';
import { MoissonError } from '../../activities/engine/errors';
import { CliError, closeClient, config, connect, EXIT, isoDate, uiLink, waitForResult } from './common';

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
      const cfg = config();
      const client = await connect(cfg);
      try {
        const workflowId = `pmmp-consultations-${opts.from}-${opts.to}`;
        const handle = await client.workflow.start('pmmpConsultationsWindow', {
          taskQueue: cfg.temporal.taskQueue,
          workflowId,
          args: [{ from: opts.from, to: opts.to, pageSize: opts.pageSize }],
        });
        console.log(`started ${workflowId}\n  ${uiLink(cfg, workflowId)}`);
        if (!opts.sync) return;
        const r = (await waitForResult(handle.result())) as CrawlWindowResult;
        console.log(`${r.listed} consultations listed on ${r.pages} pages: ${r.inserted} new, ${r.updated} changed, ${r.unchanged} unchanged, ${r.rejected} rejected`);
        process.exitCode = r.rejected > 0 ? EXIT.partial : EXIT.success;
      } finally {
        await closeClient(client);
      }
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
