/**
 * The console's data tabs in the Debian Chromium against the real stack: the API (in-process, listening)
 * serves the built console and reads a clone of the API data set (2,000 consultations with notices, awards
 * and proofs) plus the rows of tests/console/data-seed.ts; Temporal is a dev server with the Schedules
 * applied. A consultation is found by a French word and opened (lots, notices, awards with their
 * confidence, a proof page that answers); suggestions are accepted with "all filtered except these" and
 * one rejected by its row, and the database says so; every tab shows the rows the database holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Page } from 'playwright';
import { createProofStore } from '../../activities/engine/proofs';
import { buildApp } from '../../api/app';
import type { ApiContext, ZodApp } from '../../api/context';
import { applySchedules, SCHEDULES } from '../../control/schedules';
import { ensureConsoleBuilt } from '../../scripts/console/build';
import { LOCAL_STACK, loadApiConfig, loadCoreConfig } from '../../schema/config';
import { cachedDatasetDatabase, DATASET_NOW, DATASET_TODAY, type DatasetDatabase } from '../api/dataset';
import { startTemporal, uniqueName } from '../support/services';
import { seedConsoleData, type Seeded } from './data-seed';
import { CONSOLE_PASSWORD as PASSWORD } from './world';

// The password the console's other tests sign in with (tests/console/world.ts).
const taskQueue = `console-data-ui-${process.pid}`;
let data: DatasetDatabase;
let seeded: Seeded;
let temporal: TestWorkflowEnvironment;
let app: ZodApp;
let origin: string;
let browser: Browser;

before(async () => {
  await ensureConsoleBuilt(() => undefined);
  [data, temporal] = await Promise.all([
    cachedDatasetDatabase(process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl, uniqueName('moisson_test_console_data'), { consultations: 2_000 }),
    startTemporal(),
  ]);
  seeded = await seedConsoleData(data.sql, { suggestions: 3_000, today: DATASET_TODAY });
  await applySchedules(temporal.client, taskQueue);
  const ctx: ApiContext = {
    config: loadApiConfig({ API_RATE_LIMIT_PER_MINUTE: '100000', MOISSON_CONSOLE_PASSWORD: PASSWORD }),
    db: data,
    proofs: createProofStore({ db: data.db, dir: data.proofDir }),
    temporal: () => Promise.resolve(temporal.client),
    temporalTaskQueue: taskQueue,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: temporal.namespace ?? 'default',
    now: () => DATASET_NOW,
    health: {
      postgresql: async () => {
        await data.sql`select 1`;
      },
      temporal: async () => {
        await temporal.client.workflowService.getSystemInfo({});
      },
    },
  };
  app = await buildApp(ctx, { logger: false });
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: loadCoreConfig().browser.chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'] });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await Promise.allSettled([temporal?.teardown(), data?.drop()]);
});

/** A signed-in page on a tab: the session cookie comes from the console's own sign-in endpoint. */
async function openTab(tab: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  const page = await context.newPage();
  const res = await page.request.post(`${origin}/api/v1/console/session`, { data: { password: PASSWORD } });
  assert.equal(res.status(), 201, await res.text());
  await page.goto(`${origin}/console/#/${tab}`);
  return page;
}

/**
 * A number as the page writes it: the console formats with Intl in the browser's language
 * (console/src/format.ts), so the expected text is formatted by the same browser, not assumed to be en-US.
 */
async function asPage(page: Page, n: number, options: Intl.NumberFormatOptions = {}): Promise<string> {
  // (the browser's `navigator`, reached through globalThis: this file is compiled without the DOM's types)
  return page.evaluate(([v, o]) => new Intl.NumberFormat((globalThis as unknown as { navigator: { language: string } }).navigator.language, o).format(v), [n, options] as const);
}

/** Every badge in `scope` shows its whole label (Mantine's Badge cuts its text to fit a narrow column otherwise). */
async function assertBadgesWhole(page: Page, testId: string): Promise<void> {
  const cut = await page.getByTestId(testId).locator('.mantine-Badge-label').evaluateAll((els) => els.filter((el) => el.scrollWidth > el.clientWidth).map((el) => el.textContent));
  assert.deepEqual(cut, [], `badges cut in ${testId}`);
}

async function close(page: Page): Promise<void> {
  await page.context().close();
}

describe('Procurement', () => {
  test('a consultation found by a French word, opened with its lots, notices, awards and proof pages', async () => {
    // A consultation whose notice document is archived and read, with an award.
    const [target] = await data.sql<{ org: string; ref: string; object: string }[]>`
      select c.org_acronyme as org, c.ref_consultation as ref, c.object
        from pmmp.consultations c
       where exists (select 1 from pmmp.notices n where n.org_acronyme = c.org_acronyme and n.ref_consultation = c.ref_consultation and n.proof_id is not null
                       and exists (select 1 from etl.proofs p where p.proof_id = n.proof_id))
         and exists (select 1 from pmmp.attributions a where a.org_acronyme = c.org_acronyme and a.ref_consultation = c.ref_consultation)
       order by c.first_seen_at limit 1`;
    assert.ok(target, 'the data set holds a consultation with an archived notice and an award');
    // Its longest word with an accent when there is one: the search folds accents and plurals.
    const words = target.object.split(/[^\p{L}]+/u).filter((w) => w.length >= 6);
    const word = words.sort((a, b) => Number(/[À-ÿ]/.test(b)) - Number(/[À-ÿ]/.test(a)) || b.length - a.length)[0]!;
    const page = await openTab('procurement');
    try {
      await page.getByTestId('procurement-q').fill(word.toLowerCase());
      await page.getByLabel('Buyer').fill(target.org);
      await page.getByTestId('procurement-search').click();
      const row = page.getByTestId('consultations').locator('tbody tr').filter({ hasText: target.object.slice(0, 30) }).first();
      await row.waitFor({ timeout: 20_000 });
      assert.ok((await page.getByTestId('consultations').locator('mark').count()) > 0, 'the matched words are marked');
      // Statuts in the procurement's words, whole (they were cut to "EN_…" in a narrow column).
      const statuts = await page.getByTestId('consultations').locator('.mantine-Badge-label').allInnerTexts();
      assert.ok(statuts.length > 0 && statuts.every((t) => ['en cours', 'clôturée', 'attribuée', 'infructueux'].includes(t.trim())), statuts.join(', '));
      await assertBadgesWhole(page, 'consultations');
      await row.click();
      const detail = page.getByTestId('consultation-detail');
      await detail.waitFor({ timeout: 20_000 });
      assert.equal((await detail.getByRole('heading').first().innerText()).trim(), target.object.trim());
      const [counts] = await data.sql<{ lots: number; notices: number; awards: number; low: number }[]>`
        select (select count(*)::int from pmmp.lots where org_acronyme = ${target.org} and ref_consultation = ${target.ref}) as lots,
               (select count(*)::int from pmmp.notices where org_acronyme = ${target.org} and ref_consultation = ${target.ref}) as notices,
               (select count(*)::int from pmmp.attributions where org_acronyme = ${target.org} and ref_consultation = ${target.ref}) as awards,
               (select count(*)::int from pmmp.attributions where org_acronyme = ${target.org} and ref_consultation = ${target.ref} and low_confidence) as low`;
      assert.equal(await page.getByTestId('consultation-lots').locator('tbody tr').count(), counts!.lots);
      assert.equal(await page.getByTestId('consultation-notices').locator('tbody tr').count(), counts!.notices);
      const awards = page.getByTestId('consultation-awards');
      assert.equal(await awards.locator('tbody tr').count(), counts!.awards);
      assert.equal(await awards.getByText('low: check the proof').count(), counts!.low);
      assert.equal(await awards.getByText('read with confidence').count(), counts!.awards - counts!.low);
      const proof = page.getByTestId('consultation-notices').getByRole('link', { name: 'proof' }).first();
      const href = await proof.getAttribute('href');
      assert.match(href ?? '', /^\/api\/v1\/proofs\/[0-9a-f]{64}$/);
      const res = await page.request.get(`${origin}${href}`);
      assert.equal(res.status(), 200, 'the proof page answers');
    } finally {
      await close(page);
    }
  });

  test('buyer and winner statistics drawn as charts', async () => {
    const page = await openTab('procurement');
    try {
      for (const chart of ['buyers-chart', 'winners-chart']) {
        await page.getByTestId(chart).locator('.recharts-bar-rectangle').first().waitFor({ timeout: 20_000 });
      }
      // One bar per buyer and series (consultations, lots awarded), one per winner, as the statistics views rank them.
      const [views] = await data.sql<{ buyers: number; winners: number }[]>`
        select least(10, (select count(*)::int from pmmp.top_buyers)) as buyers, least(10, (select count(*)::int from pmmp.top_winners)) as winners`;
      assert.ok(views!.buyers > 0 && views!.winners > 0, 'the data set has buyers and winners');
      assert.equal(await page.getByTestId('buyers-chart').locator('.recharts-bar-rectangle').count(), 2 * views!.buyers);
      assert.equal(await page.getByTestId('winners-chart').locator('.recharts-bar-rectangle').count(), views!.winners);
    } finally {
      await close(page);
    }
  });
});

describe('Consolidation review', () => {
  test('the grid scrolls through every suggestion of the filter, loading pages as it goes', async () => {
    // Enrichments keep their evidence in metadata (activities/consolidation/enrich): a BAN match on the
    // first suggestion, a SIRENE closure with its replacement on the second.
    const [a, b] = await data.sql<{ id: string }[]>`select id::text from consolidation.suggestions where cohorte_id = ${seeded.cohortId} order by id limit 2`;
    const ban = { source: 'ban', label: '1 Rue de la République 69002 Lyon', score: 0.934, ratio: 0.81 };
    const sirene = { source: 'sirene', siret: '12345678900011', dateFermeture: '2024-03-01', replacement: { siret: '12345678900029', nom: 'BOULANGERIE DU PARC' } };
    await data.sql`update consolidation.suggestions set metadata = metadata || ${JSON.stringify({ evidence: ban })}::jsonb where id = ${a!.id}`;
    await data.sql`update consolidation.suggestions set metadata = metadata || ${JSON.stringify({ evidence: sirene })}::jsonb where id = ${b!.id}`;
    const page = await openTab('review');
    try {
      const asked: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/suggestions?')) asked.push(new URL(r.url()).search);
      });
      await page.getByTestId(`cohort-${seeded.cohortId}`).click();
      await page.getByTestId('review-statut').waitFor();
      const scroll = page.getByTestId('review-scroll').locator('.mantine-ScrollArea-viewport');
      await page.getByTestId('review-row').first().waitFor();
      const rendered = await page.getByTestId('review-row').count();
      // A correction reads "value when suggested → value proposed", with the suggestion's reason beside it.
      const first = page.locator('[data-testid="review-row"][data-id]').first();
      await first.getByText(/^code_postal: 69001 → \d{5}$/).waitFor();
      await first.getByText(/^corrigé par la source \d+$/).waitFor();
      // Under the reason, what the evidence adds; a suggestion without evidence shows its reason alone.
      assert.equal(await first.getByTestId('review-evidence').innerText(), 'BAN : 1 Rue de la République 69002 Lyon (score 0.93)');
      const second = page.locator(`[data-testid="review-row"][data-id="${b!.id}"]`);
      assert.match(await second.getByTestId('review-evidence').innerText(), /^SIRENE : fermé le .*2024.*, remplacé par BOULANGERIE DU PARC$/);
      const third = page.locator('[data-testid="review-row"][data-id]').nth(2);
      await third.getByText(/^corrigé par la source \d+$/).waitFor();
      assert.equal(await third.getByTestId('review-evidence').count(), 0);
      assert.ok(rendered < 100, `only the visible rows are in the page (${rendered})`);
      // The first page and the count went out together, the page without a count.
      assert.ok(asked.some((q) => q.includes('limit=1000') && q.includes('count=false') && !q.includes('offset')), asked.join(' '));
      assert.ok(asked.some((q) => /[?&]limit=1(&|$)/.test(q)), asked.join(' '));
      // The grid's default filter: the waiting ones (all of them: this test runs before any decision).
      const [last] = await data.sql<{ id: string; n: number }[]>`
        select max(id)::text as id, count(*)::int as n from consolidation.suggestions where cohorte_id = ${seeded.cohortId} and statut = 'AVALIDER'`;
      await page.getByTestId('review-total').getByText(`${await asPage(page, last!.n)} suggestions match`).waitFor();
      await scroll.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.locator(`[data-testid="review-row"][data-id="${last!.id}"]`).waitFor({ timeout: 30_000 });
      // A jump to the end fetched the last page by its offset, not the pages before it.
      const lastPage = Math.floor((last!.n - 1) / 1000) * 1000;
      assert.ok(asked.some((q) => q.includes(`offset=${lastPage}`)), asked.join(' '));
      assert.ok(lastPage >= 2000, 'a page lies between the first and the last');
      assert.ok(!asked.some((q) => q.includes('offset=1000&')), `the middle page was not fetched: ${asked.join(' ')}`);
    } finally {
      await close(page);
    }
  });

  test('"all filtered except these" accepts the rest in the database; one row rejected by its button', async () => {
    const page = await openTab('review');
    try {
      await page.getByTestId(`cohort-${seeded.cohortId}`).click();
      const fields = page.getByTestId('cohort-fields');
      await fields.waitFor();
      assert.match(await fields.innerText(), new RegExp(`ville\\s+${await asPage(page, seeded.ville)}`));
      assert.match(await fields.innerText(), new RegExp(`code_postal\\s+${await asPage(page, seeded.codePostal)}`));
      await page.getByTestId('review-total').getByText(`${await asPage(page, seeded.codePostal + seeded.ville)} suggestions match`).waitFor();
      // Statuts in words, never the code: the waiting ones read "à valider".
      await page.getByTestId('review-row').first().getByText('à valider', { exact: true }).waitFor();

      await page.getByTestId('review-champ').click();
      await page.getByRole('option', { name: 'ville', exact: true }).click();
      await page.getByTestId('review-total').getByText(`${await asPage(page, seeded.ville)} suggestions match`).waitFor();
      const rows = page.getByTestId('review-row');
      await rows.first().waitFor();
      const excepted = [Number(await rows.nth(0).getAttribute('data-id')), Number(await rows.nth(1).getAttribute('data-id'))];
      for (const id of excepted) await page.getByLabel(`except ${id}`, { exact: true }).check();
      await page.getByTestId('accept-all').click();
      await page.getByTestId('review-result').getByText(`accept: ${await asPage(page, seeded.ville - 2)} changed`).waitFor({ timeout: 20_000 });

      const byStatut = await data.sql<{ statut: string; n: number }[]>`
        select statut, count(*)::int as n from consolidation.suggestions where cohorte_id = ${seeded.cohortId} and changes @> '[{"model_params": {"data": {}}}]' and exists (
          select 1 from jsonb_array_elements(changes) ch where ch->'model_params'->'data' ? 'ville') group by statut order by statut`;
      assert.deepEqual(byStatut.map((r) => ({ ...r })), [{ statut: 'ATRAITER', n: seeded.ville - 2 }, { statut: 'AVALIDER', n: 2 }]);
      const left = await data.sql<{ id: string }[]>`select id from consolidation.suggestions where cohorte_id = ${seeded.cohortId} and statut = 'AVALIDER' and exists (
          select 1 from jsonb_array_elements(changes) ch where ch->'model_params'->'data' ? 'ville') order by id`;
      assert.deepEqual(left.map((r) => Number(r.id)), excepted.sort((a, b) => a - b), 'the excepted rows are left waiting');
      const [logs] = await data.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestion_logs where cohorte_id = ${seeded.cohortId} and auteur = 'console' and fonction = 'revue.accept'`;
      assert.equal(logs!.n, seeded.ville - 2, 'each decision logged under the reviewer');
      // The filter still shows waiting ville suggestions: the two excepted.
      await page.getByTestId('review-total').getByText('2 suggestions match').waitFor();

      await page.getByLabel(`reject ${excepted[0]}`, { exact: true }).click();
      await page.getByTestId('review-result').getByText('reject: 1 changed').waitFor({ timeout: 20_000 });
      const [one] = await data.sql<{ statut: string }[]>`select statut from consolidation.suggestions where id = ${excepted[0]!}`;
      assert.equal(one!.statut, 'REJETEE');
    } finally {
      await close(page);
    }
  });
});

describe('every data tab shows what the database holds', () => {
  test('Prices: latest quotes and a history chart', async () => {
    const page = await openTab('prices');
    try {
      const latest = page.getByTestId('prices-latest');
      await latest.locator('tbody tr').filter({ hasText: 'XAU' }).waitFor();
      const [usd] = await data.sql<{ price: string }[]>`select price_mru::text as price from prices.quotes where asset_code = 'USD' order by quote_date desc limit 1`;
      // An exchange rate to 4 decimals with the locale's grouping, the stored value whole on hover.
      const usdRow = latest.locator('tbody tr').filter({ hasText: 'USD' });
      assert.ok((await usdRow.innerText()).includes(await asPage(page, Number(usd!.price), { minimumFractionDigits: 4, maximumFractionDigits: 4 })), await usdRow.innerText());
      assert.equal(await usdRow.locator(`td[title="${usd!.price}"]`).count(), 1);
      await latest.locator('tbody tr').filter({ hasText: 'XAU' }).click();
      await page.getByTestId('prices-history').locator('.recharts-line-curve').waitFor({ state: 'attached' });
      await page.getByText('30 days').waitFor();
    } finally {
      await close(page);
    }
  });

  test('API sync: streams with their state and watermark, the last runs, the rate limit', async () => {
    const page = await openTab('apisync');
    try {
      const streams = page.getByTestId('apisync-streams-pennylane');
      const customers = streams.locator('tbody tr').filter({ hasText: 'customers' }).first();
      await customers.waitFor();
      assert.ok((await customers.innerText()).includes(await asPage(page, 1180)), await customers.innerText());
      await assertBadgesWhole(page, 'apisync-streams-pennylane');
      assert.match(await streams.locator('tbody tr').filter({ hasText: 'supplier_invoices' }).innerText(), /HTTP 503 from the API/);
      assert.match(await page.getByTestId('apisync-runs').innerText(), /pennylane\s+incremental\s+success\s+118\s+150\s+2\s+1/i);
      assert.match(await page.getByTestId('apisync-rate-limits').innerText(), /app\.pennylane\.com\s+7\s+7\s+23/);
    } finally {
      await close(page);
    }
  });

  test('Stats: volumes, MailWizz outcomes, blacklist, WHOIS', async () => {
    const page = await openTab('stats');
    try {
      // A line of zeros has no height: attached, not visible.
      await page.getByTestId('volumes-chart').locator('.recharts-line-curve').first().waitFor({ state: 'attached' });
      await page.getByTestId('mailwizz-chart').locator('.recharts-bar-rectangle').first().waitFor({ state: 'attached' });
      const [v] = await data.sql<{ scraped: number }[]>`select count(*)::int as scraped from leads.scraped_contacts where created_at > ${DATASET_TODAY}::date - 29`;
      assert.match(await page.getByTestId('volume-totals').innerText(), new RegExp(`Contacts scraped\\s+${v!.scraped}`));
      const blacklist = await page.getByTestId('blacklist').locator('tbody tr').allInnerTexts();
      assert.match(blacklist[0]!, /plainte\.example/);
      assert.match(blacklist[1]!, new RegExp(`rebonds\\.example\\s+40\\s+22\\s+${(await asPage(page, 0.55, { style: 'percent', minimumFractionDigits: 1 })).replace('.', '\\.')}`));
      await page.getByTestId('whois-latest').getByText('seed.fr').waitFor();
      assert.match(await page.getByTestId('whois-figures').innerText(), /cached\s+3\s+found\s+2/);
    } finally {
      await close(page);
    }
  });

  test('Health: dependencies up, queues, the Schedules with their next runs', async () => {
    const page = await openTab('health');
    try {
      await page.getByTestId('dependency-postgresql').getByText('up').waitFor();
      await page.getByTestId('dependency-temporal').getByText('up').waitFor();
      assert.match(await page.getByTestId('task-queues').innerText(), new RegExp(`${taskQueue}\\s+main\\s+up`, 'i'));
      const schedules = page.getByTestId('schedules');
      await schedules.locator('tbody tr').nth(SCHEDULES.length - 1).waitFor({ timeout: 20_000 });
      assert.equal(await schedules.locator('tbody tr').count(), SCHEDULES.length);
      assert.equal(await schedules.getByText('not applied').count(), 0);
      assert.equal(await schedules.getByText('active').count(), SCHEDULES.length);
      await assertBadgesWhole(page, 'schedules');
    } finally {
      await close(page);
    }
  });
});
