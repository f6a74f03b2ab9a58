/**
 * The operator console in Debian's Chromium (Playwright, no downloaded browser) against the API on a leads
 * test world: a real Temporal dev server and a worker running leads jobs on the leads replica. Sign-in
 * (a wrong password refused), a job created from the form, paused, resumed and seen finishing; contacts
 * filtered and exported as CSV (the file's rows checked against the tables); an article opened; a domain
 * looked up from the WHOIS tab; a write without the CSRF token refused; an expired session sent back to
 * the sign-in page.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import { loadCoreConfig } from '../../schema/config';
import { ensureConsoleBuilt } from '../../scripts/console/build';
import { createLeadsWorld, type LeadsWorld } from '../leads/harness';
import { collectLeads, CONSOLE_PASSWORD, consoleApiContext } from './world';

let world: LeadsWorld;
let app: ZodApp;
let browser: Browser;
let base: string;
let clock = Date.now();

before(async () => {
  await ensureConsoleBuilt(() => undefined);
  world = await createLeadsWorld();
  await collectLeads(world);
  app = await buildApp(consoleApiContext(world), { logger: false, consoleClock: () => clock });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  base = `http://127.0.0.1:${address.port}`;
  browser = await chromium.launch({
    executablePath: loadCoreConfig().browser.chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await world?.close();
});

async function signedIn(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  await page.goto(`${base}/console/`);
  await page.getByRole('textbox', { name: 'Password' }).fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Scraping jobs' }).waitFor();
  return page;
}

/** Polls what the page shows until it holds (the page fetches and renders asynchronously), 30 s at most. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the page never showed what was expected');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the operator console', () => {
  test('a wrong password is refused', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/console/`);
      await page.getByRole('textbox', { name: 'Password' }).fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'wrong password' }).waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Scraping jobs' }).count(), 0);
      assert.deepEqual(await page.context().cookies(), []);
    } finally {
      await page.close();
    }
  });

  test('a job created from the form is paused, resumed and seen finishing', async () => {
    const sites = world.replica.businesses.slice(6, 12);
    world.replica.setLatency(300);
    try {
      await world.withWorker(
        async () => {
          const page = await signedIn();
          await page.getByRole('button', { name: 'New job' }).click();
          await page.getByRole('textbox', { name: 'URLs' }).fill(sites.map((b) => world.replica.siteUrl(b)).join('\n'));
          await page.getByRole('textbox', { name: 'Id' }).fill('console-e2e');
          await page.getByRole('textbox', { name: 'Max depth' }).fill('2');
          await page.getByRole('checkbox', { name: 'Refetch pages already scraped' }).check();
          await page.getByRole('button', { name: 'Create and start' }).click();
          const row = page.locator('tr[data-job-id="console-e2e"]');
          await row.waitFor();
          await page.locator('tr[data-job-id="console-e2e"][data-status="running"]').waitFor({ timeout: 60_000 });
          const [job] = await world.db.sql<{ source_type: string; config: { urls: string[]; maxDepth: number; refetch: boolean } }[]>`select source_type, config from leads.jobs where id = 'console-e2e'`;
          assert.equal(job!.source_type, 'custom_urls');
          assert.deepEqual([job!.config.urls.length, job!.config.maxDepth, job!.config.refetch], [sites.length, 2, true]);
          assert.equal(await row.getByRole('link', { name: 'Temporal' }).getAttribute('href'), `http://127.0.0.1:8233/namespaces/${world.temporal.namespace ?? 'default'}/workflows/leads-job-console-e2e`);

          await row.getByRole('button', { name: 'Pause' }).click();
          await page.locator('tr[data-job-id="console-e2e"][data-status="paused"]').waitFor({ timeout: 60_000 });
          const [paused] = await world.db.sql<{ status: string }[]>`select status from leads.jobs where id = 'console-e2e'`;
          assert.equal(paused!.status, 'paused');

          world.replica.setLatency(0);
          await row.getByRole('button', { name: 'Resume' }).click();
          await page.locator('tr[data-job-id="console-e2e"][data-status="completed"]').waitFor({ timeout: 120_000 });
          const [done] = await world.db.sql<{ status: string; pages_done: number; contacts_found: number }[]>`select status, pages_done, contacts_found from leads.jobs where id = 'console-e2e'`;
          assert.equal(done!.status, 'completed');
          assert.ok(done!.pages_done > sites.length && done!.contacts_found > 0);
          await row.getByText(`${done!.pages_done} done · 0 queued`).waitFor();
          const signals = ((await world.temporal.client.workflow.getHandle('leads-job-console-e2e').fetchHistory()).events ?? []).flatMap((e) => e.workflowExecutionSignaledEventAttributes?.signalName ?? []);
          assert.deepEqual(signals, ['pause', 'resume']);
          await page.close();
        },
        { env: { LEADS_BATCH_PAGES: '2', LEADS_CRAWL_CONCURRENCY: '2' } },
      );
    } finally {
      world.replica.setLatency(0);
    }
  });

  test('contacts: counts per stage, filters, the CSV export of the filter, a contact with where it was found', async () => {
    const page = await signedIn();
    try {
      await page.getByRole('link', { name: 'Contacts' }).click();
      const [counts] = await world.db.sql<{ scraped: number; validated: number }[]>`
        select (select count(*)::int from leads.scraped_contacts) as scraped, (select count(*)::int from leads.validated_contacts) as validated`;
      await page.getByTestId('count-scraped').filter({ hasText: String(counts!.scraped) }).waitFor();
      await page.getByTestId('count-validated').filter({ hasText: String(counts!.validated) }).waitFor();

      const [pick] = await world.db.sql<{ domain: string }[]>`select domain from leads.scraped_contacts where status = 'valid' group by domain order by count(*) desc, domain limit 1`;
      const expected = await world.db.sql<{ id: number; email: string }[]>`
        select id::int, email from leads.scraped_contacts where status = 'valid' and domain = ${pick!.domain} order by id desc`;
      assert.ok(expected.length > 0);
      await page.getByRole('combobox', { name: 'Validation' }).click();
      await page.getByRole('option', { name: 'valid', exact: true }).click();
      await page.getByRole('textbox', { name: 'Domain' }).fill(pick!.domain);
      const rows = page.getByTestId('contacts-table').locator('tr[data-row]');
      await until(async () => {
        const texts = await rows.allTextContents();
        return texts.length === expected.length && texts.every((t) => t.includes(pick!.domain));
      });
      assert.equal(await rows.count(), expected.length);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
      const file = await download.path();
      const csv = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
      assert.deepEqual(
        csv.map((r) => [Number(r.id), r.email, r.validation, r.domain]),
        expected.map((e) => [e.id, e.email, 'valid', pick!.domain]),
      );

      await rows.first().click();
      const detail = page.getByTestId('contact-detail');
      await detail.waitFor();
      const [first] = await world.db.sql<{ source_url: string; job_id: string }[]>`select source_url, job_id from leads.scraped_contacts where id = ${expected[0]!.id}`;
      await detail.getByRole('link', { name: first!.source_url }).waitFor();
      await detail.getByText(expected[0]!.email).first().waitFor();
      await detail.getByText(first!.job_id, { exact: false }).first().waitFor();
    } finally {
      await page.close();
    }
  });

  test('articles: filtered by language, one opened with its text', async () => {
    const page = await signedIn();
    try {
      await page.getByRole('link', { name: 'Articles' }).click();
      const [a] = await world.db.sql<{ id: number; title: string; language: string; text: string }[]>`select id::int, title, language, text from leads.articles order by id desc limit 1`;
      const [n] = await world.db.sql<{ n: number }[]>`select count(*)::int as n from leads.articles where language = ${a!.language}`;
      await page.getByRole('combobox', { name: 'Language' }).click();
      await page.getByRole('option', { name: `${a!.language} (${n!.n})` }).click();
      const rows = page.getByTestId('articles-table').locator('tr[data-row]');
      await until(async () => (await rows.count()) === Math.min(n!.n, 20));
      await rows.filter({ hasText: a!.title }).first().click();
      const detail = page.getByTestId('article-detail');
      await detail.getByRole('heading', { name: a!.title }).waitFor();
      await detail.getByText(a!.text.split(/\n{2,}/)[0]!.slice(0, 40)).first().waitFor();
    } finally {
      await page.close();
    }
  });

  test('WHOIS: a domain looked up from the tab (workflow leadsWhois on the RDAP replica), then found in the history', async () => {
    const domain = world.replica.businesses.find((b) => !b.domain.startsWith('ancien-'))!.domain;
    const gone = world.replica.businesses.find((b) => b.domain.startsWith('ancien-'))?.domain;
    await world.withWorker(async () => {
      const page = await signedIn();
      try {
        await page.getByRole('link', { name: 'WHOIS lookup' }).click();
        await page.getByTestId('whois-domain').fill(domain);
        await page.getByTestId('whois-lookup').click();
        const record = page.getByTestId('whois-record');
        await record.getByText('registered', { exact: true }).waitFor({ timeout: 60_000 });
        assert.equal(await page.getByTestId('whois-registrar').innerText(), 'OVH SAS');
        assert.match(await record.innerText(), /dns10\.ovh\.net/);
        const [cached] = await world.db.sql<{ registrar: string }[]>`select registrar from leads.whois_cache where domain = ${domain}`;
        assert.equal(cached?.registrar, 'OVH SAS', 'the lookup is cached where the pipeline caches it');
        await page.getByTestId('whois-history').locator('tbody tr').filter({ hasText: domain }).waitFor();
        // The same domain again: the cache answers.
        await page.getByTestId('whois-lookup').click();
        await record.getByText('from the cache').waitFor({ timeout: 60_000 });
        if (gone) {
          await page.getByTestId('whois-domain').fill(gone);
          await page.getByTestId('whois-lookup').click();
          await record.getByText('not registered').waitFor({ timeout: 60_000 });
        }
      } finally {
        await page.close();
      }
    });
  });

  test('a write without the CSRF token is refused; an expired session brings the sign-in page back', async () => {
    const page = await signedIn();
    try {
      const status = await page.evaluate(async () => (await fetch('/api/v1/scraping/jobs/console-e2e/pause', { method: 'POST' })).status);
      assert.equal(status, 401);
      const body = await page.evaluate(async () => (await fetch('/api/v1/scraping/jobs/console-e2e/pause', { method: 'POST' })).text());
      assert.match(body, /X-CSRF-Token: missing/);
      clock += 9 * 3600_000; // past MOISSON_CONSOLE_SESSION_TTL_S
      await page.reload();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Scraping jobs' }).count(), 0);
    } finally {
      await page.close();
    }
  });
});
