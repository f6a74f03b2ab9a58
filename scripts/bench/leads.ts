/**
 * Leads scenarios for `npm run bench`:
 *   leads.validate           contacts validated per second, MX cache warm (no DNS query at all)
 *   leads.crawl.custom_urls  pages per second of a custom-URL job (workflow leadsJob on the stack's
 *                            Temporal, a worker in this process) on the replica
 *   leads.maps.browser       map listing pages rendered per second in Chromium (the browser pool, in a
 *                            process of its own), with the peak memory of that process plus the browser's;
 *                            baseline: plain Playwright on the same pages in the same run
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createLeadsFetcher } from '../../activities/leads';
import { createMxChecker, validateLeadsBatch } from '../../activities/leads/validate';
import { loadCoreConfig, loadFetchConfig, loadLeadsConfig } from '../../schema/config';
import { MapsListingItemSchema } from '../../schema/leads/items';
import { startLeadsReplica } from '../../tests/replicas/leads/index';
import type { LeadsJobResult } from '../../workflows/leads';
import { BROWSER_WORKER_NODE_FLAGS } from '../../workers/browser-flags';
import { createMoissonWorker } from '../../workers/create';
import { latencySummary, measure, round, throwawayPostgres, withDeadline, type BenchResult, type Scenario } from './support';

const CONTACTS = 20_000;
const DOMAINS = 200;

const validateScenario: Scenario = {
  produces: ['leads.validate'],
  description: `${CONTACTS} scraped contacts over ${DOMAINS} domains validated in batches of 500, MX answers cached`,
  async run(ctx) {
    const pg = await throwawayPostgres(ctx, 'leads_validate');
    try {
      await pg.sql`insert into leads.jobs (id, name, source_type, config, workflow_id) values ('bench', 'bench', 'custom_urls', '{}'::jsonb, 'leads-job-bench')`;
      await pg.sql`
        insert into leads.mx_cache (domain, verdict, hosts, expires_at)
        select 'domaine' || d || '.fr', case when d % 20 = 0 then 'none' else 'ok' end, '["mx1.example.net"]'::jsonb, now() + interval '7 days'
          from generate_series(1, ${DOMAINS}) d`;
      await pg.sql`
        insert into leads.scraped_contacts (job_id, dedup_key, email, domain, source_url, hints, status)
        select 'bench', e, e, split_part(e, '@', 2), 'http://x.example/contact', 'restaurant menu chef', 'new'
          from (select case when i % 50 = 0 then 'noreply' || i else 'client' || i end || '@' ||
                       case when i % 97 = 0 then 'yopmail.com' else 'domaine' || (1 + i % ${DOMAINS}) || '.fr' end as e
                  from generate_series(1, ${CONTACTS}) i) s`;
      // A DNS server nobody listens on: any lookup would fail the run instead of hiding in the figure.
      const config = loadLeadsConfig({ LEADS_DNS_SERVERS: '127.0.0.1:9' });
      const deps = { sql: pg.sql, config, mx: createMxChecker(pg.sql, config) };
      const env = new MockActivityEnvironment();
      const batchMs: number[] = [];
      const m = await measure(async () => {
        let total = 0;
        let deferred = 0;
        for (;;) {
          const t = performance.now();
          const r = (await env.run(() => validateLeadsBatch(deps, { limit: 500 }))) as Awaited<ReturnType<typeof validateLeadsBatch>>;
          if (r.claimed === 0) break;
          batchMs.push(performance.now() - t);
          total += r.claimed;
          deferred += r.deferred;
        }
        return { total, deferred };
      });
      if (m.result.total !== CONTACTS || m.result.deferred > 0) throw new Error(`leads.validate: ${JSON.stringify(m.result)} (expected ${CONTACTS} validated, none deferred)`);
      const [counts] = await pg.sql<{ valid: number; invalid: number; duplicate: number }[]>`
        select count(*) filter (where status = 'valid')::int as valid, count(*) filter (where status = 'invalid')::int as invalid,
               count(*) filter (where status = 'duplicate')::int as duplicate from leads.scraped_contacts`;
      return {
        'leads.validate': {
          value: round(CONTACTS / (m.ms / 1000), 1),
          unit: 'contacts/s',
          peakRssMb: m.peakRssMb,
          ...latencySummary(batchMs),
          params: { contacts: CONTACTS, domains: DOMAINS, batch: 500, mxCache: 'warm (every domain cached)', latencyOf: 'one validateLeadsBatch of 500', wallMs: round(m.ms, 0), counts },
        },
      };
    } finally {
      await pg.drop();
    }
  },
};

const crawlScenario: Scenario = {
  produces: ['leads.crawl.custom_urls'],
  description: 'a custom-URL job (60 sites, depth 2) on the leads replica, through Temporal',
  async run(ctx) {
    const core = loadCoreConfig();
    const pg = await throwawayPostgres(ctx, 'leads_crawl');
    const replica = await startLeadsReplica({ businesses: 60, dnsPort: 0 });
    const env = {
      LEADS_SSRF_ALLOW: `127.0.0.1:${new URL(replica.url).port}`,
      FETCH_POLITENESS: 'off',
      LEADS_CRAWL_CONCURRENCY: '8',
      LEADS_BATCH_PAGES: '40',
    };
    const config = loadLeadsConfig(env);
    const fetcher = createLeadsFetcher(loadFetchConfig(env), config);
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // Installed already by another scenario of this run.
    }
    const native = await NativeConnection.connect({ address: core.temporal.address });
    const connection = await Connection.connect({ address: core.temporal.address });
    const client = new Client({ connection, namespace: core.temporal.namespace });
    const taskQueue = `bench-leads-${process.pid}`;
    try {
      const worker = await createMoissonWorker({
        connection: native,
        namespace: core.temporal.namespace,
        taskQueue,
        deps: { sql: pg.sql, db: pg.db, mongo: undefined as never, leads: { fetcher, config } },
      });
      const urls = replica.businesses.map((b) => replica.siteUrl(b));
      const jobId = `bench-${process.pid}-${Date.now()}`;
      await pg.sql`insert into leads.jobs (id, name, source_type, config, workflow_id)
                   values (${jobId}, 'bench', 'custom_urls', ${JSON.stringify({ urls, maxDepth: 2 })}::jsonb, ${`leads-job-${jobId}`})`;
      const m = await worker.runUntil(() =>
        measure(() =>
          withDeadline(
            client.workflow.execute('leadsJob', { taskQueue, workflowId: `leads-job-${jobId}`, args: [{ jobId }] }) as Promise<LeadsJobResult>,
            600_000,
            'the custom-URL job',
          ),
        ),
      );
      const pages = m.result.counts.pagesDone;
      if (pages !== urls.length * 7 || m.result.counts.errors > 0) throw new Error(`leads.crawl: ${JSON.stringify(m.result.counts)} (expected ${urls.length * 7} pages, no error)`);
      return {
        'leads.crawl.custom_urls': {
          value: round(pages / (m.ms / 1000), 1),
          unit: 'pages/s',
          peakRssMb: m.peakRssMb,
          params: {
            sites: urls.length,
            depth: 2,
            pages,
            contacts: m.result.counts.contactsFound,
            concurrency: config.crawlConcurrency,
            batchPages: config.batchPages,
            politeness: 'off (our own replica); SSRF guard and robots.txt on',
            wallMs: round(m.ms, 0),
            path: 'workflow leadsJob on the stack Temporal → crawlLeadsBatch → fetcher → replica; rows to PostgreSQL',
          },
        },
      };
    } finally {
      await Promise.allSettled([fetcher.close(), replica.close(), native.close(), connection.close()]);
      await pg.drop();
    }
  },
};

/** A process and its descendants (Chromium's processes), read from /proc/<pid>/task/<tid>/children. */
function descendants(root: number): number[] {
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // Gone meanwhile.
    }
    // Chromium starts its children from a launcher thread: every thread's children count.
    for (const tid of tasks) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) todo.push(Number(c));
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return out;
}

/** What a process of the tree is: the root (node), a Chromium process by its --type (and utility sub-type), or other. */
function processKind(pid: number, root: number): string {
  if (pid === root) return 'node';
  // Chromium rewrites its command line into one space-separated string.
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
  const exe = args[0] ?? '';
  const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length);
  if (type === 'utility') return `utility ${args.find((a) => a.startsWith('--utility-sub-type='))?.split('.').pop() ?? ''}`.trim();
  if (type) return type;
  return /chrom/.test(exe) ? 'browser' : (exe.split('/').pop() ?? 'other');
}

/**
 * Summed VmRSS (shared pages counted in every process, as the issue's 1.8 GB was) and PSS of a process tree, MB,
 * with the RSS of each kind of process (and how many) to say where the memory is.
 */
function treeMemoryMb(root: number): { rss: number; pss: number; byKind: Record<string, { rssMb: number; anonMb: number; processes: number }> } {
  let rss = 0;
  let pss = 0;
  const byKind: Record<string, { rssMb: number; anonMb: number; processes: number }> = {};
  for (const pid of descendants(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const processRss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      rss += processRss;
      pss += Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      const kind = (byKind[processKind(pid, root)] ??= { rssMb: 0, anonMb: 0, processes: 0 });
      kind.rssMb += processRss / 1024;
      kind.anonMb += Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      kind.processes++;
    } catch {
      // Gone meanwhile.
    }
  }
  for (const k of Object.values(byKind)) Object.assign(k, { rssMb: round(k.rssMb, 1), anonMb: round(k.anonMb, 1) });
  return { rss: rss / 1024, pss: pss / 1024, byKind };
}

const RENDERS = 30;
const CONCURRENCY = 2;

const RenderOutput = z.object({
  wallMs: z.number(),
  pageMs: z.array(z.number()),
  pages: z.array(z.object({ listings: z.array(MapsListingItemSchema), reachedEnd: z.boolean(), scrolls: z.number() })),
  stats: z.record(z.string(), z.unknown()),
});

/**
 * Runs one side in its own process (scripts/bench/maps-render.ts) and samples its tree's memory every 100 ms.
 * Ours runs with the browser worker's Node flags, as every launcher of that worker gives them; the plain
 * Playwright script with Node's defaults.
 */
async function renderSide(side: 'moisson' | 'playwright', url: string, chromiumPath: string) {
  const nodeFlags = side === 'moisson' ? BROWSER_WORKER_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', fileURLToPath(new URL('./maps-render.ts', import.meta.url)), JSON.stringify({ side, url, renders: RENDERS, concurrency: CONCURRENCY, chromiumPath })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const peak = { rss: 0, pss: 0, byKind: {} as ReturnType<typeof treeMemoryMb>['byKind'] };
  const sample = () => {
    const m = treeMemoryMb(child.pid!);
    if (m.rss > peak.rss) Object.assign(peak, { rss: m.rss, byKind: m.byKind });
    peak.pss = Math.max(peak.pss, m.pss);
  };
  const sampler = setInterval(sample, 100);
  try {
    const code = await withDeadline(new Promise<number | null>((resolve) => child.on('exit', resolve)), 600_000, `the ${side} maps renders`);
    if (code !== 0) throw new Error(`leads.maps (${side}): exit ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  } finally {
    clearInterval(sampler);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  return { ...RenderOutput.parse(JSON.parse(stdout.trim().split('\n').pop() ?? '')), peakRssMb: round(peak.rss, 1), peakPssMb: round(peak.pss, 1), peakByProcess: peak.byKind, nodeFlags };
}

const mapsScenario: Scenario = {
  produces: ['leads.maps.browser'],
  description: `${RENDERS} map listing pages (18 listings each, 2 scrolls) rendered by one Chromium, ${CONCURRENCY} at a time; plain Playwright on the same pages`,
  async run(ctx) {
    const core = loadCoreConfig();
    const replica = await startLeadsReplica({ dnsPort: 0 });
    const url = `${replica.url}/maps?q=e`;
    try {
      const expected = JSON.stringify(replica.businesses.map((b) => b.name).sort());
      const check = (side: string, pages: z.infer<typeof RenderOutput>['pages']) => {
        for (const p of pages) {
          if (p.listings.length !== replica.businesses.length || !p.reachedEnd || JSON.stringify(p.listings.map((l) => l.name).sort()) !== expected) {
            throw new Error(`leads.maps (${side}): ${p.listings.length} listings, end ${p.reachedEnd} (expected the replica's ${replica.businesses.length})`);
          }
        }
      };
      const ours = await renderSide('moisson', url, core.browser.chromiumPath);
      check('moisson', ours.pages);
      const value = round(RENDERS / (ours.wallMs / 1000), 2);
      const result: BenchResult = {
        value,
        unit: 'pages/s',
        peakRssMb: ours.peakRssMb,
        ...latencySummary(ours.pageMs),
        params: {
          renders: RENDERS,
          concurrency: CONCURRENCY,
          listingsPerPage: replica.businesses.length,
          scrollsPerPage: ours.pages[0]!.scrolls,
          peakRssOf: 'the rendering process (its own, as a browser worker) + its Chromium processes: summed VmRSS (shared pages counted in each process), sampled every 100 ms; the bench and the replica are not in it; peakByProcess: at that sample, RSS and anonymous RSS by kind of process (node: the rendering process; the others: Chromium by --type; beyond the anonymous part, mostly the pages of the Chromium binary, counted in each of its processes)',
          peakPssMb: ours.peakPssMb,
          peakByProcess: ours.peakByProcess,
          nodeFlags: ours.nodeFlags.join(' ') || 'none',
          pool: ours.stats,
          blocked: 'images, fonts, media, trackers (context.route)',
          browser: core.browser.chromiumPath,
          wallMs: round(ours.wallMs, 0),
          loadAverage: loadavg().map((x) => round(x, 2)),
        },
      };
      if (!ctx.skipBaseline) {
        ctx.log('  baseline: plain Playwright, a fresh context per page, nothing blocked');
        const peer = await renderSide('playwright', url, core.browser.chromiumPath);
        check('playwright', peer.pages);
        const same = ours.pages.every((p, i) => JSON.stringify(p.listings) === JSON.stringify(peer.pages[i]!.listings));
        if (!same) throw new Error('leads.maps: the pool and plain Playwright read different listings from the same pages');
        result.baseline = round(RENDERS / (peer.wallMs / 1000), 2);
        result.baselineName = 'plain Playwright on the same Chromium: a fresh context per page, nothing blocked, its own waits (scripts/bench/maps-render.ts)';
        result.ratio = round(value / result.baseline, 2);
        Object.assign(result.params, {
          baselinePeakRssMb: peer.peakRssMb,
          baselinePeakPssMb: peer.peakPssMb,
          baselinePeakByProcess: peer.peakByProcess,
          baselineLatency: latencySummary(peer.pageMs),
          baselineStats: peer.stats,
          baselineWallMs: round(peer.wallMs, 0),
          sameListings: true,
          loadAverageAfter: loadavg().map((x) => round(x, 2)),
        });
      }
      return { 'leads.maps.browser': result };
    } finally {
      await replica.close();
    }
  },
};

export const leadsScenarios: Scenario[] = [validateScenario, crawlScenario, mapsScenario];
