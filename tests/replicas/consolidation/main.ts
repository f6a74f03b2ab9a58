/**
 * Runs the consolidation sources replica as its own process (the demo and tests start it this way):
 *
 *   node --import tsx tests/replicas/consolidation/main.ts [--port N] [--host H] [--world N] [--generation N]
 *
 * Port: --port, else CONSOLIDATION_REPLICA_PORT, else 4110. Point moisson at it with
 * CONSOLIDATION_ENDPOINT_REWRITES (printed on start). Knobs over HTTP: POST /__replica/generation,
 * POST /__replica/shape (see ./index).
 */
import { replicaProcess } from '../process';
import { startConsolidationReplica } from './index';

const cli = replicaProcess('consolidation replica');
const port = cli.port('CONSOLIDATION_REPLICA_PORT', 4110);
const worldSize = cli.count('world', cli.option('world'));
const generation = cli.count('generation', cli.option('generation'));

await cli.serve(async () => {
  const replica = await startConsolidationReplica({ port, host: cli.option('host') ?? '127.0.0.1', ...(worldSize ? { worldSize } : {}), ...(generation ? { generation } : {}) });
  return { url: replica.url, close: () => replica.close(), note: `(CONSOLIDATION_ENDPOINT_REWRITES=${replica.rewrites})` };
});
