/**
 * Runs the recherche-entreprises replica as its own process (the stack and the demo start it this way):
 *
 *   node --import tsx tests/replicas/consolidation/entreprises/main.ts [--port N] [--host H] [--rate N]
 *
 * Port: --port, else ENTREPRISES_REPLICA_PORT, else 4112. --rate is the per-client limit in requests per
 * second (default 7, the public service's; 0 turns it off).
 */
import { replicaProcess } from '../../process';
import { startEntreprisesReplica } from './index';

const cli = replicaProcess('entreprises replica');
const port = cli.port('ENTREPRISES_REPLICA_PORT', 4112);
const rate = cli.count('rate', cli.option('rate')) ?? 7;

await cli.serve(async () => {
  const replica = await startEntreprisesReplica({ port, host: cli.option('host') ?? '127.0.0.1', ratePerSecond: rate });
  return { url: replica.url, close: () => replica.close(), note: `(${rate} requests/s per client)` };
});
