/**
 * One leads test world: its own database, a real Temporal dev server, the leads replica (sites,
 * search, maps, blog, RDAP, DNS) and the MailWizz replica; workers built with the world's settings.
 */
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { BrowserPool } from '../../activities/engine/browser';
import { createLeadsFetcher, type LeadsDeps } from '../../activities/leads';
import type { LeadsJobControlDeps } from '../../control/leads-jobs';
import { loadCoreConfig, loadFetchConfig, loadLeadsConfig, type LeadsConfig } from '../../schema/config';
import { createBrowserWorker, createMoissonWorker } from '../../workers/create';
import { startLeadsReplica, type LeadsReplica, type LeadsReplicaOptions } from '../replicas/leads/index';
import { DEFAULT_MAILWIZZ_KEYS, startMailwizzReplica, type MailwizzReplica } from '../replicas/mailwizz/index';
import { createTestDatabase, startTemporal, workflowBundle, type TestDatabase } from '../support/services';

export const ROUTING = {
  default: { platform: 'general', listUid: 'general-list', template: 'welcome', tags: ['lead'] },
  categories: {
    restaurant: { platform: 'food', listUid: 'restaurants-list', template: 'food-intro', tags: ['lead', 'food'] },
    hotel: { platform: 'travel', listUid: 'hotels-list', template: 'travel-intro', tags: ['lead', 'travel'] },
    health: { platform: 'health', listUid: 'health-list', template: 'health-intro', tags: ['lead', 'health'] },
    legal: { platform: 'legal', listUid: 'legal-list', template: 'legal-intro', tags: ['lead', 'legal'] },
    building: { platform: 'trades', listUid: 'building-list', template: 'trades-intro', tags: ['lead', 'trades'] },
  },
};

export interface LeadsWorld {
  db: TestDatabase;
  temporal: TestWorkflowEnvironment;
  replica: LeadsReplica;
  mailwizz: MailwizzReplica;
  taskQueue: string;
  browserTaskQueue: string;
  env(overrides?: Record<string, string>): Record<string, string>;
  config(overrides?: Record<string, string>): LeadsConfig;
  jobControl(): LeadsJobControlDeps;
  /** Runs `fn` while a worker with these settings polls the world's queue (and the browser queue if asked). */
  withWorker<T>(fn: () => Promise<T>, opts?: { env?: Record<string, string>; browser?: boolean; deps?: Partial<LeadsDeps>; dataConverter?: WorkerOptions['dataConverter']; plugins?: WorkerOptions['plugins'] }): Promise<T>;
  close(): Promise<void>;
}

export async function createLeadsWorld(replicaOptions: LeadsReplicaOptions = {}): Promise<LeadsWorld> {
  const [db, temporal, replica, mailwizz] = await Promise.all([createTestDatabase(), startTemporal(), startLeadsReplica(replicaOptions), startMailwizzReplica()]);
  const suffix = randomBytes(3).toString('hex');
  const world: LeadsWorld = {
    db,
    temporal,
    replica,
    mailwizz,
    taskQueue: `leads-test-${suffix}`,
    browserTaskQueue: `leads-browser-test-${suffix}`,
    env(overrides = {}) {
      return {
        LEADS_SEARCH_URL: `${replica.url}/search`,
        LEADS_MAPS_URL: `${replica.url}/maps`,
        LEADS_RDAP_URL: `${replica.url}/rdap`,
        LEADS_DNS_SERVERS: replica.dnsServer,
        LEADS_SSRF_ALLOW: `127.0.0.1:${new URL(replica.url).port}`,
        LEADS_CRAWL_CONCURRENCY: '4',
        LEADS_BATCH_PAGES: '10',
        LEADS_ROUTING: JSON.stringify(ROUTING),
        MAILWIZZ_URL: mailwizz.apiUrl,
        MAILWIZZ_API_KEY: DEFAULT_MAILWIZZ_KEYS.apiKey,
        MAILWIZZ_RETRY_DELAY_S: '0',
        MAILWIZZ_DAILY_QUOTA: '1000',
        FETCH_POLITENESS: 'off',
        ...overrides,
      };
    },
    config(overrides = {}) {
      return loadLeadsConfig(world.env(overrides));
    },
    jobControl() {
      return { client: temporal.client, sql: db.sql, taskQueue: world.taskQueue, browserTaskQueue: world.browserTaskQueue };
    },
    async withWorker(fn, opts = {}) {
      const env = world.env(opts.env);
      const config = loadLeadsConfig(env);
      const fetcher = createLeadsFetcher(loadFetchConfig(env), config);
      const workers: Worker[] = [
        await createMoissonWorker({
          connection: temporal.nativeConnection,
          namespace: temporal.namespace ?? 'default',
          taskQueue: world.taskQueue,
          deps: { sql: db.sql, db: db.db, mongo: undefined as never, leads: { fetcher, config, ...opts.deps } },
          workflowBundle: await workflowBundle(),
          dataConverter: opts.dataConverter,
          plugins: opts.plugins,
        }),
      ];
      const pool = opts.browser ? new BrowserPool(loadCoreConfig({}).browser.chromiumPath) : undefined;
      if (pool) {
        workers.push(
          await createBrowserWorker({ connection: temporal.nativeConnection, namespace: temporal.namespace ?? 'default', taskQueue: world.browserTaskQueue, pool, concurrency: 2 }),
        );
      }
      try {
        if (workers.length === 1) return await workers[0]!.runUntil(fn);
        return await workers[0]!.runUntil(() => workers[1]!.runUntil(fn));
      } finally {
        await fetcher.close();
        await pool?.close();
      }
    },
    async close() {
      await Promise.allSettled([replica.close(), mailwizz.close(), temporal.teardown(), db.drop()]);
    },
  };
  return world;
}

/** Polls `check` until it returns a value (not a timing assertion: the test's own timeout bounds it). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, everyMs = 100): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
