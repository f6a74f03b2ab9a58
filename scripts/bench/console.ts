/**
 * The operator console's routes as the page calls them (session cookie, CSRF token on writes), under
 * concurrent load (autocannon, as the api.* scenarios), on the API bench's data set (`--rows`
 * consultations, 100,000 by default, tests/api/dataset.ts) plus a consolidation cohort of 50,000
 * suggestions (tests/console/data-seed.ts). Side by side in the same run, the same requests go to the bare
 * node:http peer (scripts/bench/api-bare.ts: the same SQL, or the same review functions, without the
 * framework, auth and schemas): `baseline` is its requests/s.
 *
 * - console.procurement.search / .detail: the Procurement tab's search (50 hits, filters) and a
 *   consultation's drawer.
 * - console.review.first_page / .next_pages / .count / .cohort: the review grid's first page (what it asks
 *   now: no count), pages at random offsets (a scroll or a jump), the filtered counts, the cohort's
 *   per-field counts. `params.previous` is the first page as the grid asked it before (page and count in
 *   one request).
 * - console.review.bulk: "all filtered except these" accepted / rejected over 50k suggestions, one
 *   request at a time (suggestions moved per second; p50/p99 of the requests).
 * - console.review.first_rows: the grid in the Debian Chromium: from the click on the cohort to the first
 *   rows; params: to the count, to the last row after a jump to the end, and the frame times of a scroll
 *   sweep through every row.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type autocannon from 'autocannon';
import { chromium } from 'playwright';
import { cachedDatasetDatabase, DATASET_TODAY } from '../../tests/api/dataset';
import { seedConsoleData } from '../../tests/console/data-seed';
import { loadCoreConfig } from '../../schema/config';
import { ensureConsoleBuilt } from '../console/build';
import { startServer, stopServer } from './api';
import { describePostgres, httpLoad, httpLoadResult, latencySummary, percentile, round, seededRandom, type BenchContext, type BenchResult, type Scenario } from './support';

// Not the api.* ports: another bench may run beside this one.
const PORT = 18_094;
const BARE_PORT = 18_095;
const SUGGESTIONS = 50_000;
const PAGE = 1000;
const BROWSER_RUNS = 7;
const BULK_RUNS = 4;
const EXCEPT = 100;

const SEARCHES = ['route', 'équipements médicaux', 'construction école', 'nettoyage des locaux', 'matériel informatique', 'assainissement', 'travaux', 'fourniture'];

interface Session {
  cookie: string;
  csrf: string;
}

async function signIn(password: string): Promise<Session> {
  const res = await fetch(`http://127.0.0.1:${PORT}/api/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  if (res.status !== 201) throw new Error(`console sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, csrf: csrfToken };
}

const hammer = httpLoad;
const toResult = (r: autocannon.Result, bare: autocannon.Result | undefined, params: Record<string, unknown>) =>
  httpLoadResult(r, bare, 'bare node:http + postgres.js, same SQL / review functions', params);

/** Accepts then rejects everything the filter matches except `except`, `runs` times in turn; each moves the same rows. */
async function bulk(port: number, cohortId: number, except: number[], runs: number, session?: Session): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const decision = i % 2 === 0 ? 'accept' : 'reject';
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/consolidation/suggestions/${decision}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : {}) },
      body: JSON.stringify({ par: 'bench', filter: { cohorte_id: cohortId }, except }),
    });
    const body = (await res.json()) as { changed?: number };
    ms.push(performance.now() - started);
    if (!res.ok || body.changed !== SUGGESTIONS - except.length) throw new Error(`bulk ${decision} on port ${port} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return ms;
}

/** The review grid in Chromium: click to first rows, to the count, to the last row after a jump, and a scroll sweep's frames. */
async function browserRuns(ctx: BenchContext, password: string, cohortId: number, lastId: number) {
  await ensureConsoleBuilt(ctx.log);
  const browser = await chromium.launch({
    executablePath: loadCoreConfig().browser.chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  const firstRows: number[] = [];
  const counted: number[] = [];
  const toEnd: number[] = [];
  let frames: number[] = [];
  let loadingFrames = 0;
  try {
    for (let run = 0; run < BROWSER_RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
      try {
        const page = await context.newPage();
        const res = await page.request.post(`http://127.0.0.1:${PORT}/api/v1/console/session`, { data: { password } });
        if (res.status() !== 201) throw new Error(`console sign-in answered ${res.status()}`);
        await page.goto(`http://127.0.0.1:${PORT}/console/#/review`);
        const cohort = page.getByTestId(`cohort-${cohortId}`);
        await cohort.waitFor({ timeout: 60_000 });
        // The count as the page writes it (grouped in the browser's language: console/src/format.ts), read before the clock starts.
        const total = await page.evaluate((n) => new Intl.NumberFormat((globalThis as unknown as { navigator: { language: string } }).navigator.language).format(n), SUGGESTIONS);
        const started = performance.now();
        await cohort.click();
        await page.getByTestId('review-row').first().waitFor({ timeout: 60_000 });
        firstRows.push(performance.now() - started);
        await page.getByTestId('review-total').getByText(`${total} suggestions match`).waitFor({ timeout: 60_000 });
        counted.push(performance.now() - started);
        const viewport = page.getByTestId('review-scroll').locator('.mantine-ScrollArea-viewport');
        const jumped = performance.now();
        await viewport.evaluate((el) => el.scrollTo(0, el.scrollHeight));
        await page.locator(`[data-testid="review-row"][data-id="${lastId}"]`).waitFor({ timeout: 60_000 });
        toEnd.push(performance.now() - jumped);
        if (run === BROWSER_RUNS - 1) {
          // A sweep from the top to the end, 4,000 px (≈110 rows) a frame: the frame times, and how many
          // frames showed a row still loading.
          await viewport.evaluate((el) => el.scrollTo(0, 0));
          const sweep = await viewport.evaluate(async (el) => {
            const times: number[] = [];
            let loading = 0;
            let last = performance.now();
            while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
              el.scrollTop += 4000;
              // (The page's own global: this tsconfig has no DOM library. No named function in here: tsx
              // would wrap it in a helper the page does not have.)
              await new Promise<void>((r) => (globalThis as unknown as { requestAnimationFrame: (cb: () => void) => void }).requestAnimationFrame(() => r()));
              const now = performance.now();
              times.push(now - last);
              last = now;
              if (el.textContent?.includes('loading…')) loading += 1;
            }
            return { times, loading };
          });
          frames = sweep.times;
          loadingFrames = sweep.loading;
        }
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  return { firstRows, counted, toEnd, frames, loadingFrames };
}

const consoleScenario: Scenario = {
  produces: [
    'console.procurement.search',
    'console.procurement.detail',
    'console.review.first_page',
    'console.review.next_pages',
    'console.review.count',
    'console.review.cohort',
    'console.review.bulk',
    'console.review.first_rows',
  ],
  description: `the console's Procurement and review routes as the page calls them (autocannon, beside the bare handler), on the consultations data set and ${SUGGESTIONS.toLocaleString('en-US')} suggestions; the review grid in Chromium`,
  async run(ctx: BenchContext) {
    const data = await cachedDatasetDatabase(ctx.databaseUrl, `${ctx.namePrefix}_console`, { consultations: ctx.rows, log: ctx.log });
    const unregister = ctx.onCleanup(() => data.drop());
    let server: ChildProcess | undefined;
    let bareServer: ChildProcess | undefined;
    try {
      const random = seededRandom(17);
      const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
      // `--only console.review.first_rows` wants the review data too: ask per key, not by the family's prefix.
      const wantsReview = ['first_page', 'next_pages', 'count', 'cohort', 'first_rows', 'bulk'].some((k) => ctx.wants(`console.review.${k}`));
      const seeded = wantsReview ? await seedConsoleData(data.sql, { suggestions: SUGGESTIONS, today: DATASET_TODAY }) : undefined;
      await data.sql`analyze consolidation.suggestions`;
      const keys = await data.sql<{ org: string; ref: string }[]>`
        select org_acronyme as org, ref_consultation as ref from pmmp.consultations tablesample bernoulli (2) repeatable (7) limit 2000`;
      const orgs = await data.sql<{ org: string }[]>`select distinct org_acronyme as org from pmmp.consultations limit 200`;
      const backend = await describePostgres(data.sql);
      const [last] = seeded ? await data.sql<{ id: string }[]>`select max(id)::text as id from consolidation.suggestions where cohorte_id = ${seeded.cohortId}` : [];
      const exceptIds = seeded ? (await data.sql<{ id: string }[]>`select id::text from consolidation.suggestions where cohorte_id = ${seeded.cohortId} order by id limit ${EXCEPT}`).map((r) => Number(r.id)) : [];
      await data.close();

      const password = randomBytes(18).toString('base64url');
      server = await startServer(data.url, data.proofDir, false, { port: PORT, env: { MOISSON_CONSOLE_PASSWORD: password } });
      bareServer = ctx.skipBaseline ? undefined : await startServer(data.url, data.proofDir, true, { port: BARE_PORT });
      const session = await signIn(password);
      const both = async (name: string, paths: string[]) => {
        const api = await hammer(name, paths, PORT, session.cookie);
        const bare = bareServer ? await hammer(`${name} (bare)`, paths, BARE_PORT) : undefined;
        return [api, bare] as const;
      };
      const common = { consultations: ctx.rows, backend, today: DATASET_TODAY };
      const results: Record<string, BenchResult> = {};

      if (ctx.wants('console.procurement.search')) {
        // The tab's form: words, sometimes a status, a kind or a buyer; 50 hits a page.
        const paths = Array.from({ length: 300 }, () => {
          const extra = [random() < 0.2 ? 'statut=en_cours' : '', random() < 0.2 ? 'type_marche=travaux' : '', random() < 0.2 ? `organisme=${pick(orgs).org}` : ''].filter(Boolean);
          return `/api/v1/consultations/search?${[...extra, `q=${encodeURIComponent(pick(SEARCHES))}`, 'limit=50'].join('&')}`;
        });
        ctx.log('  procurement search…');
        results['console.procurement.search'] = toResult(...(await both('procurement search', paths)), {
          ...common,
          mix: `${SEARCHES.length} French queries (common words included), 20% each with a status, a kind, a buyer; 50 hits with highlights; session cookie`,
        });
      }
      if (ctx.wants('console.procurement.detail')) {
        const paths = Array.from({ length: 2000 }, () => {
          const k = pick(keys);
          return `/api/v1/consultations/${encodeURIComponent(k.org)}/${encodeURIComponent(k.ref)}`;
        });
        ctx.log('  procurement detail…');
        results['console.procurement.detail'] = toResult(...(await both('procurement detail', paths)), { ...common, mix: '2,000 random consultations: lots, notices, awards with confidence, proofs; session cookie' });
      }

      if (seeded) {
        const base = `/api/v1/consolidation/cohorts/${seeded.cohortId}/suggestions`;
        // The grid's filters: its default (waiting), a field, a key prefix, none.
        const filters = ['statut=AVALIDER', 'statut=AVALIDER&champ=ville', 'statut=AVALIDER&cle=acteur-01', 'champ=code_postal'];
        const review = { ...common, suggestions: SUGGESTIONS, filters, page: PAGE };
        if (ctx.wants('console.review.first_page')) {
          ctx.log('  review first page…');
          const paths = filters.map((f) => `${base}?${f}&limit=${PAGE}&count=false`);
          const [api, bare] = await both('review first page', paths);
          const previous = await hammer('review first page (previous: with the count)', filters.map((f) => `${base}?${f}&limit=${PAGE}`), PORT, session.cookie);
          results['console.review.first_page'] = toResult(api, bare, {
            ...review,
            previous: { route: 'page and count in one request, as the grid asked before', requestsPerS: round(previous.requests.average, 1), p50Ms: previous.latency.p50, p99Ms: previous.latency.p99 },
          });
        }
        if (ctx.wants('console.review.next_pages')) {
          ctx.log('  review next pages…');
          const paths = Array.from({ length: 400 }, () => `${base}?statut=AVALIDER&limit=${PAGE}&offset=${PAGE * (1 + Math.floor(random() * (SUGGESTIONS / PAGE - 1)))}&count=false`);
          results['console.review.next_pages'] = toResult(...(await both('review next pages', paths)), { ...review, mix: 'pages 2–50 of the waiting suggestions at random offsets (a scroll or a jump), no count' });
        }
        if (ctx.wants('console.review.count')) {
          ctx.log('  review counts…');
          results['console.review.count'] = toResult(...(await both('review counts', filters.map((f) => `${base}?${f}&limit=1`))), { ...review, mix: 'the count of each filter (limit=1)' });
        }
        if (ctx.wants('console.review.cohort')) {
          ctx.log('  review cohort…');
          results['console.review.cohort'] = toResult(...(await both('review cohort', [`/api/v1/consolidation/cohorts/${seeded.cohortId}`])), { ...review, mix: "the cohort with its per-field counts (a pass over every suggestion's changes)" });
        }
        if (ctx.wants('console.review.first_rows')) {
          ctx.log('  review grid in Chromium…');
          const b = await browserRuns(ctx, password, seeded.cohortId, Number(last!.id));
          const firstRows = latencySummary(b.firstRows);
          results['console.review.first_rows'] = {
            value: round(percentile(b.firstRows, 50)!, 0),
            unit: 'ms to first rows (median)',
            ...firstRows,
            params: {
              ...review,
              runs: BROWSER_RUNS,
              measured: 'Debian Chromium, headless, via playwright: from the click on the cohort to the first row of the grid (playwright polling included)',
              toCount: latencySummary(b.counted),
              toLastRowAfterJump: latencySummary(b.toEnd),
              sweep: { frames: b.frames.length, pxPerFrame: 4000, ...latencySummary(b.frames), framesWithRowsLoading: b.loadingFrames },
              loadAverage: loadavg().map((x) => round(x, 2)),
            },
          };
        }
        if (ctx.wants('console.review.bulk')) {
          ctx.log('  review bulk decisions…');
          const api = await bulk(PORT, seeded.cohortId, exceptIds, BULK_RUNS, session);
          const bare = bareServer ? await bulk(BARE_PORT, seeded.cohortId, exceptIds, BULK_RUNS) : undefined;
          const moved = SUGGESTIONS - EXCEPT;
          const value = round(moved / (percentile(api, 50)! / 1000), 0);
          const baseline = bare ? round(moved / (percentile(bare, 50)! / 1000), 0) : undefined;
          results['console.review.bulk'] = {
            value,
            unit: 'suggestions/s',
            ...latencySummary(api),
            ...(baseline ? { baseline, baselineName: 'decide() called by the bare handler', ratio: round(value / baseline, 2) } : {}),
            params: {
              ...review,
              runs: BULK_RUNS,
              mix: `accept then reject, in turn, everything in the cohort except ${EXCEPT} ids: ${moved} suggestions moved and logged per request, one request at a time`,
              ...(bare ? { bare: latencySummary(bare) } : {}),
              loadAverage: loadavg().map((x) => round(x, 2)),
            },
          };
        }
      }
      return results;
    } finally {
      await stopServer(server);
      await stopServer(bareServer);
      unregister();
      await data.drop();
    }
  },
};

export const consoleScenarios: Scenario[] = [consoleScenario];
