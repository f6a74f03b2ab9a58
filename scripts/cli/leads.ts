/** `moisson leads …`: scraping jobs (through api/leads/jobs, as the REST API), validation and the MailWizz sync. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { connectPostgres } from '../../activities/engine/db';
import {
  cancelJob,
  createJob,
  getJob,
  LeadsJobInputError,
  LeadsJobNotFoundError,
  LeadsJobStateError,
  listJobs,
  pauseJob,
  resumeJob,
  type LeadsJobControlDeps,
  type LeadsJobView,
} from '../../control/leads-jobs';
import { LEADS_SOURCE_TYPES } from '../../schema/leads/tables';
import type { LeadsJobResult } from '../../workflows/leads';
import { leadsSyncMailwizzContract, leadsValidateContract, leadsWhoisContract } from '../../workflows/leads/contract';
import { CliError, closeClient, config, connect, EXIT, positiveInt, startOrAttach, uiLink, waitForResult } from './common';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return n;
}

async function withControl<T>(fn: (deps: LeadsJobControlDeps) => Promise<T>): Promise<T> {
  const cfg = config();
  const client = await connect(cfg);
  const pg = connectPostgres(cfg.databaseUrl, { max: 2 });
  try {
    return await fn({ client, sql: pg.sql, taskQueue: cfg.temporal.taskQueue, browserTaskQueue: cfg.temporal.browserTaskQueue });
  } catch (err) {
    if (err instanceof LeadsJobInputError) throw new CliError(err.message, EXIT.config_error);
    if (err instanceof LeadsJobNotFoundError || err instanceof LeadsJobStateError) throw new CliError(err.message, EXIT.failure);
    throw err;
  } finally {
    await Promise.allSettled([closeClient(client), pg.close()]);
  }
}

function printJob(j: LeadsJobView & { live?: boolean }): void {
  console.log(`${j.id}  ${j.status}${j.live ? ' (live)' : ''}  ${j.sourceType}  "${j.name}"`);
  console.log(`  pages done ${j.pagesDone}, queued ${j.pagesQueued}; contacts ${j.contactsFound}; errors ${j.errors}${j.lastError ? ` (last: ${j.lastError})` : ''}`);
  console.log(`  created ${j.createdAt}${j.startedAt ? `, started ${j.startedAt}` : ''}${j.finishedAt ? `, finished ${j.finishedAt}` : ''}`);
}

export function registerLeadsCommands(program: Command): void {
  const leads = program.command('leads').description('lead scraping jobs, contact validation, MailWizz sync');
  const job = leads.command('job').description('scraping jobs (workflow leadsJob per job)');

  job
    .command('create')
    .description('create a scraping job and start it')
    .addOption(new Option('--type <type>', 'source type').choices([...LEADS_SOURCE_TYPES]).makeOptionMandatory())
    .option('--name <name>', 'a name for the job')
    .option('--id <id>', 'the job id (default: a new UUID); creating the same id again returns that job')
    .option('--query <q>', 'search or maps query (repeatable)', collect)
    .option('--url <url>', 'a URL to crawl or a blog index (repeatable)', collect)
    .option('--urls-file <file>', 'URLs, one a line')
    .option('--depth <n>', 'custom URLs: same-site depth; search/maps: contact-page depth', nonNegativeInt)
    .option('--pages-per-query <n>', 'search: result pages per query', positiveInt)
    .option('--max-results <n>', 'maps: listings per query', positiveInt)
    .option('--max-pages <n>', 'pages for the whole job', positiveInt)
    .option('--max-articles <n>', 'blog: articles', positiveInt)
    .option('--whois', 'look up the RDAP record of every contact domain')
    .option('--refetch', 'scrape pages again even when another job already has')
    .option('--config <json>', 'the source settings as JSON (merged over the options above)')
    .option('--wait', 'wait for the job to end (exit 0 completed, 1 cancelled, 2 failed)')
    .action(async (opts: Record<string, unknown>) => {
      const urls = [...((opts.url as string[] | undefined) ?? [])];
      if (opts.urlsFile) urls.push(...readFileSync(String(opts.urlsFile), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
      const type = String(opts.type);
      const settings: Record<string, unknown> = {};
      if (opts.query) settings.queries = opts.query;
      if (urls.length) settings.urls = urls;
      if (opts.depth !== undefined) settings[type === 'custom_urls' ? 'maxDepth' : 'followDepth'] = opts.depth;
      if (opts.pagesPerQuery) settings.pagesPerQuery = opts.pagesPerQuery;
      if (opts.maxResults) settings.maxResults = opts.maxResults;
      if (opts.maxPages) settings.maxPages = opts.maxPages;
      if (opts.maxArticles) settings.maxArticles = opts.maxArticles;
      if (opts.whois) settings.whois = true;
      if (opts.refetch) settings.refetch = true;
      if (opts.config) {
        try {
          Object.assign(settings, JSON.parse(String(opts.config)) as Record<string, unknown>);
        } catch {
          throw new CliError('--config is not JSON', EXIT.config_error);
        }
      }
      await withControl(async (deps) => {
        const created = await createJob(deps, { sourceType: type, config: settings, ...(opts.name ? { name: opts.name } : {}), ...(opts.id ? { id: opts.id } : {}) });
        const cfg = config();
        console.log(`job ${created.id} created (${created.sourceType}); workflow ${created.workflowId}\n  ${uiLink(cfg, created.workflowId)}`);
        if (!opts.wait) return;
        const r = (await waitForResult(deps.client.workflow.getHandle(created.workflowId).result())) as LeadsJobResult;
        console.log(`${r.status}: pages ${r.counts.pagesDone}, contacts ${r.counts.contactsFound}, errors ${r.counts.errors}`);
        if (r.status === 'cancelled') process.exitCode = EXIT.partial;
      });
    });

  job
    .command('list')
    .description('the jobs, newest first')
    .addOption(new Option('--status <status>').choices(['queued', 'running', 'paused', 'cancelled', 'completed', 'failed']))
    .option('--limit <n>', 'how many', positiveInt, 20)
    .action(async (opts: { status?: string; limit: number }) => {
      const cfg = config();
      const pg = connectPostgres(cfg.databaseUrl, { max: 1 });
      try {
        const { jobs, total } = await listJobs({ sql: pg.sql }, { status: opts.status, limit: opts.limit });
        for (const j of jobs) console.log(`${j.id.padEnd(38)} ${j.status.padEnd(10)} ${j.sourceType.padEnd(12)} pages ${j.pagesDone}/${j.pagesDone + j.pagesQueued}  contacts ${j.contactsFound}  ${j.name}`);
        console.log(`${jobs.length} of ${total}`);
      } finally {
        await pg.close();
      }
    });

  for (const [name, fn, verb] of [
    ['pause', pauseJob, 'pause requested'],
    ['resume', resumeJob, 'resume requested'],
    ['cancel', cancelJob, 'cancel requested'],
  ] as const) {
    job
      .command(`${name} <id>`)
      .description(`${name} a job (a signal to its workflow; it takes effect after the batch in flight)`)
      .action(async (id: string) => {
        await withControl(async (deps) => {
          const j = await fn(deps, id);
          console.log(`job ${j.id}: ${verb}`);
        });
      });
  }

  job
    .command('status <id>')
    .description("a job's state and counts (live from its workflow while it runs)")
    .action(async (id: string) => {
      await withControl(async (deps) => printJob(await getJob(deps, id)));
    });

  leads
    .command('whois <domain>')
    .description("a domain's registration data over RDAP (registrar, dates, name servers), cached (workflow leadsWhois)")
    .action(async (domain: string) => {
      if (!/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(domain)) throw new CliError(`'${domain}' is not a domain name`, EXIT.config_error);
      {
        const r = (await startOrAttach(leadsWhoisContract, { domain }, { sync: true }))!;
        if (!r.found) {
          console.log(`${r.domain}: not registered (RDAP 404)${r.cached ? ' (cached)' : ''}`);
          process.exitCode = EXIT.partial;
          return;
        }
        console.log(`${r.domain}${r.cached ? ' (cached)' : ''}\n  registrar ${r.registrar ?? '-'}\n  registered ${r.registeredAt ?? '-'}, expires ${r.expiresOn ?? '-'}`);
        console.log(`  name servers ${r.nameservers.join(', ') || '-'}\n  status ${r.status.join(', ') || '-'}`);
      }
    });

  leads
    .command('validate')
    .description('validate the new contacts now (workflow leadsValidate; the schedule runs it hourly)')
    .option('--sync', 'wait and print the counts')
    .action(async (opts: { sync?: boolean }) => {
      const r = await startOrAttach(leadsValidateContract, {}, { sync: !!opts.sync });
      if (!r) return;
      console.log(`claimed ${r.claimed}: valid ${r.valid}, invalid ${r.invalid} ${JSON.stringify(r.reasons)}, duplicate ${r.duplicate}, deferred ${r.deferred}`);
    });

  leads
    .command('sync')
    .description('push validated contacts to MailWizz now (workflow leadsSyncMailwizz; the schedule runs it hourly)')
    .option('--sync', 'wait and print the counts (exit 1 when some tries failed)')
    .action(async (opts: { sync?: boolean }) => {
      const r = await startOrAttach(leadsSyncMailwizzContract, {}, { sync: !!opts.sync });
      if (!r) return;
      console.log(`created ${r.created}, already there ${r.existing}, failed ${r.failed}, refused ${r.rejected}; quota ${r.quota}, left today ${r.quotaLeft}`);
      if (r.failed + r.rejected > 0) process.exitCode = EXIT.partial;
    });
}
