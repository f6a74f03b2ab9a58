/**
 * A worker process for the apisync tests that need real processes (two of them sharing one rate limit;
 * one killed with SIGKILL mid-stream): the apisync activities only, on the test's Temporal server,
 * database and task queue, settings from the environment like the real worker. Prints `polling` when it
 * polls and `start <stream>` as each stream activity begins.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { bindApisyncActivities } from '../../activities/apisync';
import { connectPostgres } from '../../activities/engine/db';

const name = process.env.APISYNC_TEST_WORKER_NAME ?? 'worker';
const pg = connectPostgres(process.env.DATABASE_URL!, { max: 8 });
await pg.sql`select 1`;
const activities = bindApisyncActivities({ sql: pg.sql, db: pg.db });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await Worker.create({
  connection,
  taskQueue: process.env.MOISSON_TASK_QUEUE!,
  activities: {
    ...activities,
    syncApisyncStream: (input: Parameters<typeof activities.syncApisyncStream>[0]) => {
      process.stdout.write(`start ${input.stream}\n`);
      return activities.syncApisyncStream(input);
    },
  },
  maxConcurrentActivityTaskExecutions: Number(process.env.APISYNC_TEST_WORKER_SLOTS ?? 3),
});
process.stdout.write(`${name} polling ${process.env.MOISSON_TASK_QUEUE}\n`);
await worker.run();
await connection.close();
await pg.close();
