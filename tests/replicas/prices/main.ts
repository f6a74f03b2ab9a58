/**
 * Runs the prices replica as its own process (the demo and `npm run stack:up` start it this way):
 *
 *   node --import tsx tests/replicas/prices/main.ts [--port N] [--host H] [--today YYYY-MM-DD]
 *
 * Port: --port, else PRICES_REPLICA_PORT, else 4101. --today (or PRICES_REPLICA_TODAY) pins the
 * replica's date, for a demo or a benchmark that must see the same prices on every run.
 * Faults are set over HTTP: POST /__replica/faults {"source","fault","times"?}.
 */
import { replicaProcess } from '../process';
import { startPricesReplica } from './index';

const cli = replicaProcess('prices replica');
const port = cli.port('PRICES_REPLICA_PORT', 4101);
const today = cli.option('today') ?? process.env.PRICES_REPLICA_TODAY;

await cli.serve(() => startPricesReplica({ port, host: cli.option('host') ?? '127.0.0.1', ...(today ? { today } : {}) }));
