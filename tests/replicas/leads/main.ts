/**
 * Runs the leads replica as its own process (`npm run stack:up` starts it this way):
 *
 *   node --import tsx tests/replicas/leads/main.ts [--port N] [--host H]
 *
 * HTTP on the port (default LEADS_REPLICA_PORT or 4105), and the DNS server on the same port number
 * in UDP. Knobs over HTTP: POST /__replica/latency {"ms"}, POST /__replica/faults {"pathPrefix","status","times"?}.
 */
import { startLeadsReplica } from './index';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const port = Number(option('port') ?? process.env.LEADS_REPLICA_PORT ?? '4105');
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`leads replica: not a port: ${String(port)}\n`);
  process.exit(2);
}
const replica = await startLeadsReplica({ port, host: option('host') ?? '127.0.0.1' });
process.stdout.write(`leads replica listening on ${replica.url} (DNS on udp ${replica.dnsServer})\n`);
const stop = () => void replica.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
