/**
 * Runs the BAN replica as its own process (the stack, the demo and the bench start it this way):
 *
 *   node --import tsx tests/replicas/consolidation/ban/main.ts [--port N] [--host H] [--rate N] [--latency-ms N]
 *
 * Port: --port, else BAN_REPLICA_PORT, else 4111. --rate is the per-client limit in requests per second
 * (default 50, the public service's; 0 turns it off).
 */
import { replicaProcess } from '../../process';
import { startBanReplica } from './index';

const cli = replicaProcess('ban replica');
const port = cli.port('BAN_REPLICA_PORT', 4111);
const rate = cli.count('rate', cli.option('rate')) ?? 50;
const latencyMs = cli.count('latency-ms', cli.option('latency-ms')) ?? 0;

await cli.serve(async () => {
  const replica = await startBanReplica({ port, host: cli.option('host') ?? '127.0.0.1', ratePerSecond: rate, latencyMs });
  return { url: replica.url, close: () => replica.close(), note: `(${rate} requests/s per client)` };
});
