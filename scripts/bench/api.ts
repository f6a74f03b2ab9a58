/**
 * The REST API under concurrent load on a realistic data set (`--rows` consultations, 100,000 by
 * default: the portal replica's model loaded through the pipeline's loaders, tests/api/dataset.ts, cloned
 * from its cached template). The API runs as `npm run api` does, in its own process; autocannon (from
 * this process) keeps HTTP_LOAD.connections requests in flight for HTTP_LOAD.durationS per endpoint and reports requests/s
 * and latency percentiles. Side by side in the same run, the same requests go to a bare node:http +
 * postgres.js server issuing the API's exact SQL (scripts/bench/api-bare.ts): `baseline` is its
 * requests/s, `ratio` the API's over it, and `params.bare` its latencies. The machine's load average is
 * recorded, since both share it. The export is measured apart: one full CSV of every consultation,
 * rows/s and the server's peak RSS while it streams. The `.cold` results hammer a second API process
 * whose response cache is off (API_RESPONSE_CACHE_MB=0) with the same requests: what a query costs the
 * first time it is asked, beside the bare handler again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import { cachedDatasetDatabase, DATASET_NOW, DATASET_TODAY } from '../../tests/api/dataset';
import { describePostgres, httpLoad, httpLoadResult, round, seededRandom, withDeadline, type BenchContext, type BenchResult, type Scenario } from './support';

/** The API's port; the bare peer and the cold API take the next two. BENCH_API_PORT moves all three. */
const PORT = Number(process.env.BENCH_API_PORT ?? 18_090);
const BARE_PORT = PORT + 1;
/** The API with its response cache off: every request is a query never asked before (the cold path). */
const COLD_PORT = PORT + 2;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Words of most objects, the search's worst case: each ranks tens of thousands of matches for a page of 20. */
const COMMON_SEARCHES = ['travaux', 'fourniture', 'entretien'];
const SEARCHES = ['route', 'équipements médicaux', 'construction école', 'nettoyage des locaux', 'matériel informatique', 'assainissement', 'gardiennage', 'fournitures de bureau'];

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The API (`npm run api`) or its bare peer as a child process on `port`; `env` adds to the stack's environment. */
export async function startServer(databaseUrl: string, proofDir: string, bare = false, opts: { port?: number; env?: Record<string, string> } = {}): Promise<ChildProcess> {
  const port = opts.port ?? (bare ? BARE_PORT : PORT);
  // A server left on the port (another run's) would answer the readiness probe and take the load.
  const taken = await fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
  if (taken) throw new Error(`port ${port} is already served by another process: stop it, or move the bench's ports with BENCH_API_PORT`);
  const child = spawn(process.execPath, ['--import', 'tsx', bare ? 'scripts/bench/api-bare.ts' : 'api/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PROOF_STORE_DIR: proofDir,
      API_PORT: String(port),
      BARE_PORT: String(port),
      BARE_NOW: DATASET_NOW.toISOString(),
      API_HOST: '127.0.0.1',
      API_RATE_LIMIT_PER_MINUTE: '100000000',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await withDeadline(
    (async () => {
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}${bare ? '/api/v1/stats' : '/docs/json'}`);
          if (res.ok) return;
        } catch {
          // not up yet
        }
        if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    })(),
    60_000,
    'starting the API',
  );
  return child;
}

/** Stops a server this bench started (SIGTERM, then waits for its exit). */
export async function stopServer(child: ChildProcess | undefined): Promise<void> {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

interface Load {
  requests: { path: string }[];
}

const hammer = (name: string, load: Load, port = PORT) => httpLoad(name, load.requests.map((r) => r.path), port);
const toResult = (r: autocannon.Result, bare: autocannon.Result | undefined, params: Record<string, unknown>) =>
  httpLoadResult(r, bare, 'bare node:http + postgres.js, same SQL', params);

const apiScenario: Scenario = {
  produces: [
    'api.list',
    'api.list.cold',
    'api.detail',
    'api.detail.cold',
    'api.search',
    'api.search.cold',
    'api.search_common',
    'api.search_common.cold',
    'api.stats',
    'api.attributions',
    'api.pv',
    'api.export',
  ],
  description:
    'REST API under concurrent load (autocannon) on the consultations data set, beside a bare handler issuing the same SQL: list, detail, search, search for common words (each also cold: response cache off), stats, attributions, PV, full CSV export',
  async run(ctx: BenchContext) {
    const data = await cachedDatasetDatabase(ctx.databaseUrl, `${ctx.namePrefix}_api`, { consultations: ctx.rows, log: ctx.log });
    const unregister = ctx.onCleanup(() => data.drop());
    let server: ChildProcess | undefined;
    let bareServer: ChildProcess | undefined;
    let coldServer: ChildProcess | undefined;
    try {
      const random = seededRandom(7);
      const keys = await data.sql<{ org: string; ref: string }[]>`
        select org_acronyme as org, ref_consultation as ref from pmmp.consultations tablesample bernoulli (2) repeatable (7) limit 2000`;
      const orgs = await data.sql<{ org: string }[]>`select distinct org_acronyme as org from pmmp.consultations limit 200`;
      const backend = await describePostgres(data.sql);
      const commonMatches: Record<string, number> = {};
      for (const q of COMMON_SEARCHES) {
        const [m] = await data.sql<{ n: number }[]>`
          select count(*)::int as n from pmmp.consultations where search @@ websearch_to_tsquery('pmmp.moisson_fr'::regconfig, ${q})`;
        commonMatches[q] = m!.n;
      }
      await data.close();
      server = await startServer(data.url, data.proofDir);
      bareServer = ctx.skipBaseline ? undefined : await startServer(data.url, data.proofDir, true);
      const results: Record<string, BenchResult> = {};
      const wantsCold = apiScenario.produces.some((k) => k.endsWith('.cold') && ctx.wants(k));
      if (wantsCold) coldServer = await startServer(data.url, data.proofDir, false, { port: COLD_PORT, env: { API_RESPONSE_CACHE_MB: '0' } });
      const both = async (name: string, load: Load, port = PORT) => {
        const api = await hammer(name, load, port);
        const bare = bareServer ? await hammer(`${name} (bare)`, load, BARE_PORT) : undefined;
        return [api, bare] as const;
      };
      /** The same load on the API without its cache (`<key>.cold`), beside the bare handler again. */
      const cold = async (key: string, load: Load, params: Record<string, unknown>) => {
        if (!ctx.wants(`${key}.cold`)) return;
        ctx.log(`  ${key.slice(4)}, cold…`);
        results[`${key}.cold`] = toResult(...(await both(`${key}.cold`, load, COLD_PORT)), { ...params, cache: 'off (API_RESPONSE_CACHE_MB=0): every request runs its SQL' });
      };
      const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
      const common = { consultations: ctx.rows, backend, today: DATASET_TODAY };

      if (ctx.wants('api.list') || ctx.wants('api.list.cold')) {
        const filters = ['', 'type_marche=travaux', 'statut=en_cours', 'date_debut=2025-01-01&date_fin=2025-12-31', 'sort=-montant', 'montant_min=1000000&sort=date_limite'];
        const requests = Array.from({ length: 500 }, () => {
          const f = pick(filters);
          const org = random() < 0.3 ? `organisme=${pick(orgs).org}&` : '';
          return { path: `/api/v1/consultations?${org}${f}&limit=50` };
        });
        const params = { ...common, mix: 'no filter, kind, statut, year, amount sort, deadline sort; 30% by organisation; 50 rows a page' };
        if (ctx.wants('api.list')) {
          ctx.log('  list…');
          results['api.list'] = toResult(...(await both('list', { requests })), params);
        }
        await cold('api.list', { requests }, params);
      }
      if (ctx.wants('api.detail') || ctx.wants('api.detail.cold')) {
        const requests = Array.from({ length: 2000 }, () => {
          const k = pick(keys);
          return { path: `/api/v1/consultations/${k.org}/${k.ref}` };
        });
        const params = { ...common, mix: '2,000 random consultations with lots, notices, attributions and bids' };
        if (ctx.wants('api.detail')) {
          ctx.log('  detail…');
          results['api.detail'] = toResult(...(await both('detail', { requests })), params);
        }
        await cold('api.detail', { requests }, params);
      }
      if (ctx.wants('api.search') || ctx.wants('api.search.cold')) {
        const requests = Array.from({ length: 200 }, () => ({ path: `/api/v1/consultations/search?q=${encodeURIComponent(pick(SEARCHES))}&limit=20` }));
        const params = { ...common, mix: `${SEARCHES.length} French queries, ranked, 20 hits with highlights` };
        if (ctx.wants('api.search')) {
          ctx.log('  search…');
          results['api.search'] = toResult(...(await both('search', { requests })), params);
        }
        await cold('api.search', { requests }, params);
      }
      if (ctx.wants('api.search_common') || ctx.wants('api.search_common.cold')) {
        // `wants` matches by prefix: `--only api.search` runs both searches.
        const requests = COMMON_SEARCHES.map((q) => ({ path: `/api/v1/consultations/search?q=${encodeURIComponent(q)}&limit=20` }));
        const params = { ...common, matches: commonMatches, mix: `${COMMON_SEARCHES.join(', ')}: each ranks every match for 20 hits with highlights` };
        if (ctx.wants('api.search_common')) {
          ctx.log('  search (common words)…');
          results['api.search_common'] = toResult(...(await both('search_common', { requests })), params);
        }
        await cold('api.search_common', { requests }, params);
      }
      if (ctx.wants('api.stats')) {
        ctx.log('  stats…');
        results['api.stats'] = toResult(...(await both('stats', { requests: [{ path: '/api/v1/stats' }] })), {
          ...common,
          mix: 'all months; the API serves it from its cache (emptied on each refresh of the views), the bare handler runs the SQL',
        });
      }
      if (ctx.wants('api.attributions')) {
        const filters = ['', 'sort=-montant', 'statut=infructueux', 'date_debut=2026-01-01&date_fin=2026-06-30', 'montant_min=1000000'];
        const requests = Array.from({ length: 500 }, () => {
          const org = random() < 0.3 ? `organisme=${pick(orgs).org}&` : '';
          return { path: `/api/v1/attributions?${org}${pick(filters)}&limit=50` };
        });
        ctx.log('  attributions…');
        results['api.attributions'] = toResult(...(await both('attributions', { requests })), { ...common, mix: 'no filter, amount sort, statut, half-year, amount floor; 30% by organisation; 50 rows a page' });
      }
      if (ctx.wants('api.pv')) {
        const filters = ['', 'lu=true', 'lu=false', 'date_debut=2026-01-01&date_fin=2026-06-30'];
        const requests = Array.from({ length: 500 }, () => {
          const org = random() < 0.3 ? `organisme=${pick(orgs).org}&` : '';
          return { path: `/api/v1/pv?${org}${pick(filters)}&limit=50` };
        });
        ctx.log('  pv…');
        results['api.pv'] = toResult(...(await both('pv', { requests })), { ...common, mix: 'no filter, read, unread, half-year; 30% by organisation; 50 rows a page' });
      }
      if (ctx.wants('api.export')) {
        ctx.log('  export…');
        const pid = server.pid!;
        const before = rssMb(pid);
        let peak = before;
        const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
        const started = performance.now();
        let rows = -1;
        let bytes = 0;
        try {
          const res = await fetch(`http://127.0.0.1:${PORT}/api/v1/export/csv`, { headers: { 'accept-encoding': 'identity' } });
          if (!res.ok) throw new Error(`export answered ${res.status}`);
          for await (const chunk of res.body!) {
            bytes += chunk.length;
            for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows += 1;
          }
        } finally {
          clearInterval(timer);
        }
        const ms = performance.now() - started;
        if (rows !== ctx.rows) throw new Error(`export gave ${rows} rows, expected ${ctx.rows}`);
        results['api.export'] = {
          value: round(rows / (ms / 1000), 0),
          unit: 'rows/s',
          peakRssMb: round(peak, 1),
          params: { ...common, format: 'csv', bytes, wallMs: round(ms, 0), serverRssBeforeMb: round(before, 1), note: 'peakRssMb is the API process while it streams every row' },
        };
      }
      return results;
    } finally {
      for (const child of [server, bareServer, coldServer]) await stopServer(child);
      unregister();
      await data.drop();
    }
  },
};

export const apiScenarios: Scenario[] = [apiScenario];
