/**
 * A worker of the leads test world as its own process, so a test can SIGKILL it mid-job:
 *   node --import tsx tests/leads/worker-process.ts
 * Reads TEMPORAL_ADDRESS, DATABASE_URL, LEADS_TEST_TASK_QUEUE, LEADS_TEST_PAGE_DELAY_MS and the
 * LEADS_/FETCH_ settings from its environment; prints "polling" once it polls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { connectPostgres } from '../../activities/engine/db';
import { createLeadsFetcher } from '../../activities/leads';
import { loadFetchConfig, loadLeadsConfig } from '../../schema/config';
import { createMoissonWorker } from '../../workers/create';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const pg = connectPostgres(process.env.DATABASE_URL!);
const config = loadLeadsConfig();
const fetcher = createLeadsFetcher(loadFetchConfig(), config);
const delay = Number(process.env.LEADS_TEST_PAGE_DELAY_MS ?? 0);
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await createMoissonWorker({
  connection,
  namespace: 'default',
  taskQueue: process.env.LEADS_TEST_TASK_QUEUE!,
  deps: { sql: pg.sql, db: pg.db, mongo: undefined as never, leads: { fetcher, config, onPage: () => sleep(delay) } },
});
process.stdout.write('polling\n');
await worker.run();
await Promise.allSettled([fetcher.close(), pg.close(), connection.close()]);
