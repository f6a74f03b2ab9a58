/**
 * The API on a leads test world (tests/leads/harness.ts): its database, Temporal and queues, a console
 * password, a proof store in a temporary directory, and a clock for the console sessions that tests move.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProofStore } from '../../activities/engine/proofs';
import { createJob, workflowIdFor } from '../../control/leads-jobs';
import { leadsValidate } from '../../workflows/leads';
import type { ApiContext } from '../../api/context';
import { loadApiConfig, type ApiConfig } from '../../schema/config';
import type { LeadsWorld } from '../leads/harness';

export const CONSOLE_PASSWORD = 'console-test-password';
export const HMAC_SECRET = 'console-test-secret-0123456789';

export function consoleApiContext(world: LeadsWorld, config: Partial<ApiConfig> = {}): ApiContext {
  return {
    config: {
      ...loadApiConfig({ API_HMAC_SECRET: HMAC_SECRET, API_RATE_LIMIT_PER_MINUTE: '100000', MOISSON_CONSOLE_PASSWORD: CONSOLE_PASSWORD, MOISSON_CONSOLE_SESSION_TTL_S: '600' }),
      ...config,
    },
    db: world.db,
    proofs: createProofStore({ db: world.db.db, dir: mkdtempSync(join(tmpdir(), 'moisson-console-proofs-')) }),
    temporal: () => Promise.resolve(world.temporal.client),
    temporalTaskQueue: world.taskQueue,
    temporalBrowserTaskQueue: world.browserTaskQueue,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: world.temporal.namespace ?? 'default',
    now: () => new Date(),
    health: {},
  };
}

/** Runs the leads jobs the console tests read: a custom-URL crawl of three replica sites, a blog, then validation. */
export async function collectLeads(world: LeadsWorld): Promise<void> {
  await world.withWorker(async () => {
    const sites = world.replica.businesses.slice(0, 3);
    await createJob(world.jobControl(), { id: 'sites', sourceType: 'custom_urls', config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 1 } });
    await createJob(world.jobControl(), { id: 'blog', sourceType: 'blog', config: { urls: [`${world.replica.url}/blog/`], maxArticles: 100 } });
    for (const id of ['sites', 'blog']) await world.temporal.client.workflow.getHandle(workflowIdFor(id)).result();
    await world.temporal.client.workflow.execute(leadsValidate, { taskQueue: world.taskQueue, workflowId: 'console-validate', args: [{}] });
  });
}
