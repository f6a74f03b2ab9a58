/**
 * A worker as its own process, so a test can SIGKILL it while it applies suggestions:
 *   node --import tsx tests/consolidation/worker-process.ts
 * Reads TEMPORAL_ADDRESS, DATABASE_URL, CONSOLIDATION_TEST_TASK_QUEUE and CONSOLIDATION_TEST_CLAIM_DELAY_MS
 * (a pause after each claim, to be killed in); prints "polling" once it polls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connectPostgres } from '../../activities/engine/db';
import { createMoissonWorker } from '../../workers/create';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const pg = connectPostgres(process.env.DATABASE_URL!);
const delay = Number(process.env.CONSOLIDATION_TEST_CLAIM_DELAY_MS ?? 0);
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await createMoissonWorker({
  connection,
  namespace: 'default',
  taskQueue: process.env.CONSOLIDATION_TEST_TASK_QUEUE!,
  deps: { sql: pg.sql, db: pg.db, mongo: undefined as never, consolidation: { afterClaim: () => sleep(delay) } },
});
process.stdout.write('polling\n');
await worker.run();
await Promise.allSettled([pg.close(), connection.close()]);
