/**
 * Runs the Pennylane replica as its own process (the stack, the demo and the bench start it this way):
 *
 *   node --import tsx tests/replicas/pennylane/main.ts [--port N] [--host H] [--rows N] [--token T]
 *
 * Port: --port, else PENNYLANE_REPLICA_PORT, else 4103. --rows seeds every resource with N records
 * (default 2000; millions are fine: records are computed on demand). The accepted token is --token, else
 * PENNYLANE_REPLICA_TOKEN, else `replica-pennylane-token`. Knobs over HTTP: POST /__replica/mutate
 * {"resource","insert"?,"update"?,"delete"?}, /__replica/grow {"resource","name","afterRequests"?},
 * /__replica/faults {"fault","times"?,"pathPrefix"?} or {"clear":true}; GET /__replica/requests.
 */
import { DEFAULT_TOKEN, RESOURCES, startPennylaneReplica } from './index';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function fail(message: string): never {
  process.stderr.write(`pennylane replica: ${message}\n`);
  process.exit(2);
}

const port = Number(option('port') ?? process.env.PENNYLANE_REPLICA_PORT ?? '4103');
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`not a port: ${String(option('port'))}`);
const rows = Number(option('rows') ?? process.env.PENNYLANE_REPLICA_ROWS ?? '2000');
if (!Number.isInteger(rows) || rows < 0) fail(`--rows must be a whole number, not ${String(option('rows'))}`);
const token = option('token') ?? process.env.PENNYLANE_REPLICA_TOKEN ?? DEFAULT_TOKEN;

try {
  const replica = await startPennylaneReplica({
    port,
    host: option('host') ?? '127.0.0.1',
    tokens: [token],
    sizes: Object.fromEntries(RESOURCES.map((r) => [r, rows])),
  });
  process.stdout.write(`pennylane replica listening on ${replica.baseUrl} (${rows} records per resource)\n`);
  const stop = () => {
    replica.close().then(
      () => process.exit(0),
      (e: unknown) => fail(`could not close cleanly: ${String(e)}`),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
