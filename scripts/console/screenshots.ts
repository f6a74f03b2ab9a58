/**
 * `npm run console:screenshots`: one PNG per console tab in docs/console/<tab>.png, taken by Debian's
 * Chromium (CHROMIUM_PATH) on the data of the running local stack (`npm run stack:up`; the demo fills it).
 * It builds the console if needed and starts its own API in this process, on a free port, with the stack's
 * settings and a one-time console password, so it needs neither the demo's API nor its password.
 * The tabs are the ones the page's menu lists: a new tab gets its screenshot without changing this script.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright';
import { buildApp } from '../../api/app';
import { createApiRuntime } from '../../api/runtime';
import { loadCoreConfig } from '../../schema/config';
import { readStackEnv } from '../stack/services';
import { ensureConsoleBuilt } from './build';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'docs', 'console');
const log = (line: string) => console.log(`screenshots: ${line}`);

/**
 * What a tab needs beyond opening it to show what it is for; answers whether to take the whole page.
 * The review tab opens a cohort so its grid shows: the one with the most suggestions waiting for review,
 * or, when every one was decided (the demo applies them all), the largest, whose grid then lists them all.
 */
const prepare: Record<string, (page: Page) => Promise<boolean>> = {
  review: async (page) => {
    const res = await page.request.get(new URL('../api/v1/consolidation/cohorts?limit=100', page.url()).href);
    if (!res.ok()) throw new Error(`GET /api/v1/consolidation/cohorts answered ${res.status()}`);
    const { items } = (await res.json()) as { items: { id: number; total: number; suggestions: Record<string, number> }[] };
    const waiting = (c: (typeof items)[number]) => c.suggestions.AVALIDER ?? 0;
    const cohort = [...items].sort((a, b) => waiting(b) - waiting(a) || b.total - a.total)[0];
    if (!cohort) return false;
    await page.getByTestId(`cohort-${cohort.id}`).click();
    await page.getByTestId('review-row').first().waitFor({ timeout: 15_000 });
    await page.getByTestId('cohort-fields').waitFor({ timeout: 15_000 });
    return true;
  },
};

const password = randomBytes(18).toString('base64url');
const env = { ...readStackEnv(), ...process.env, MOISSON_CONSOLE_PASSWORD: password };
await ensureConsoleBuilt(log);
const runtime = createApiRuntime(env);
const app = await buildApp(runtime.ctx, { logger: false });
const browser = await chromium.launch({
  executablePath: loadCoreConfig(env).browser.chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
});
try {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the API has no address');
  const base = `http://127.0.0.1:${address.port}/console/`;
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(base);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const nav = page.locator('nav a[href^="#/"]');
  await nav.first().waitFor();
  const tabs = (await nav.evaluateAll((links) => links.map((a) => a.getAttribute('href')))).map((h) => String(h).replace(/^#\//, ''));
  mkdirSync(outDir, { recursive: true });
  for (const tab of tabs) {
    await page.goto(`${base}#/${tab}`);
    // The tabs fetch on open and some poll: wait for the first answers, then for the loaders to go.
    await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => undefined);
    await page.locator('.mantine-Loader-root').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
    const fullPage = (await prepare[tab]?.(page)) ?? false;
    await page.waitForTimeout(500);
    const file = join(outDir, `${tab}.png`);
    if (fullPage) {
      // Playwright's fullPage capture keeps the first viewport's fixed elements (the navigation column stops
      // at 900 px): a viewport as tall as the page lays the page out as a reader would see it.
      const height = await page.evaluate<number>('document.documentElement.scrollHeight');
      await page.setViewportSize({ width: 1440, height: Math.min(Math.max(height, 900), 4_000) });
      await page.waitForTimeout(300);
    }
    await page.screenshot({ path: file });
    if (fullPage) await page.setViewportSize({ width: 1440, height: 900 });
    log(`${tab} → docs/console/${tab}.png`);
  }
} finally {
  await browser.close();
  await app.close();
  await runtime.close();
}
