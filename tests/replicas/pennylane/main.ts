/**
 * Runs the Pennylane replica as its own process (the stack, the demo and the bench start it this way):
 *
 *   node --import tsx tests/replicas/pennylane/main.ts [--port N] [--host H] [--rows N] [--token T]
 *
 * Port: --port, else PENNYLANE_REPLICA_PORT, else 4103. --rows seeds every resource with N records
 * (default 2000; millions are fine: records are computed on demand). The accepted token is --token, else
 * PENNYLANE_REPLICA_TOKEN, else `replica-pennylane-token`. Knobs over HTTP: POST /__replica/mutate
 * {"resource","insert"?,"update"?,"delete"?}, /__replica/grow {"resource","name","afterRequests"?},
 * /__replica/faults {"fault","times"?,"pathPrefix"?,"skip"?} or {"clear":true}; GET /__replica/requests.
 */
import { replicaProcess } from '../process';
import { DEFAULT_TOKEN, RESOURCES, startPennylaneReplica } from './index';

const cli = replicaProcess('pennylane replica');
const port = cli.port('PENNYLANE_REPLICA_PORT', 4103);
const rows = cli.count('rows', cli.option('rows') ?? process.env.PENNYLANE_REPLICA_ROWS) ?? 2000;
const token = cli.option('token') ?? process.env.PENNYLANE_REPLICA_TOKEN ?? DEFAULT_TOKEN;

await cli.serve(async () => {
  const replica = await startPennylaneReplica({
    port,
    host: cli.option('host') ?? '127.0.0.1',
    tokens: [token],
    sizes: Object.fromEntries(RESOURCES.map((r) => [r, rows])),
  });
  return { url: replica.baseUrl, close: () => replica.close(), note: `(${rows} records per resource)` };
});
