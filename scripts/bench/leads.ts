/**
 * Leads scenarios for `npm run bench`:
 *   leads.validate           contacts validated per second, MX cache warm (no DNS query at all)
 *   leads.crawl.custom_urls  pages per second of a custom-URL job (workflow leadsJob on the stack's
 *                            Temporal, a worker in this process) on the replica
 *   leads.maps.browser       map listing pages rendered per second in Chromium, with the peak memory of
 *                            this process plus the browser's processes
 */
import { readdirSync, readFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { bindActivities } from '../../activities/engine/bind';
import { BrowserPool } from '../../activities/engine/browser';
import { createLeadsFetcher } from '../../activities/leads';
import { mapsBrowserActivities } from '../../activities/leads/sources/maps';
import { createMxChecker, validateLeadsBatch } from '../../activities/leads/validate';
import { loadCoreConfig, loadFetchConfig, loadLeadsConfig } from '../../schema/config';
import { startLeadsReplica } from '../../tests/replicas/leads/index';
import type { LeadsJobResult } from '../../workflows/leads';
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

/** RSS of this process and all its descendants (Chromium's processes), from /proc. */
function treeRssMb(root = process.pid): number {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  let kb = 0;
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    while (p && p !== root && p !== 1) p = parent.get(p);
    if (p !== root) continue;
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return kb / 1024;
}

const RENDERS = 30;

const mapsScenario: Scenario = {
  produces: ['leads.maps.browser'],
  description: `${RENDERS} map listing pages (18 listings each, 2 scrolls) rendered by one Chromium, 2 at a time`,
  async run() {
    const core = loadCoreConfig();
    const replica = await startLeadsReplica({ dnsPort: 0 });
    const pool = new BrowserPool(core.browser.chromiumPath);
    const { renderMapsListings } = bindActivities({ pool }, mapsBrowserActivities);
    let peakMb = treeRssMb();
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, treeRssMb());
    }, 100);
    const pageMs: number[] = [];
    try {
      // The first render pays for Chromium's start: not part of the steady rate.
      await new MockActivityEnvironment().run(() => renderMapsListings({ url: `${replica.url}/maps?q=e`, maxResults: 100 }));
      let next = 0;
      const m = await measure(() =>
        Promise.all(
          [0, 1].map(async () => {
            while (next < RENDERS) {
              next++;
              const t = performance.now();
              const r = (await new MockActivityEnvironment().run(() => renderMapsListings({ url: `${replica.url}/maps?q=e`, maxResults: 100 }))) as Awaited<ReturnType<typeof renderMapsListings>>;
              pageMs.push(performance.now() - t);
              if (r.listings.length !== replica.businesses.length || !r.reachedEnd) throw new Error(`leads.maps: ${r.listings.length} listings, end ${r.reachedEnd}`);
            }
          }),
        ),
      );
      peakMb = Math.max(peakMb, treeRssMb());
      const result: BenchResult = {
        value: round(RENDERS / (m.ms / 1000), 2),
        unit: 'pages/s',
        peakRssMb: round(peakMb, 1),
        ...latencySummary(pageMs),
        params: {
          renders: RENDERS,
          concurrency: 2,
          listingsPerPage: replica.businesses.length,
          scrollsPerPage: 2,
          peakRssOf: 'this process + its Chromium processes (/proc VmRSS, sampled every 100 ms)',
          nodeOnlyPeakRssMb: m.peakRssMb,
          browser: core.browser.chromiumPath,
          wallMs: round(m.ms, 0),
        },
      };
      return { 'leads.maps.browser': result };
    } finally {
      clearInterval(sampler);
      await Promise.allSettled([pool.close(), replica.close()]);
    }
  },
};

export const leadsScenarios: Scenario[] = [validateScenario, crawlScenario, mapsScenario];
