/**
 * Runs the MailWizz replica as its own process (`npm run stack:up` starts it this way):
 *
 *   node --import tsx tests/replicas/mailwizz/main.ts [--port N] [--host H] [--version 1|2]
 *
 * Keys: DEFAULT_MAILWIZZ_KEYS (2.x `replica-mailwizz-key`; 1.x `replica-public-key` / `replica-private-key`).
 * Knobs over HTTP: POST /__replica/faults {"kind","status"?,"on"?,"times"?}, DELETE /__replica/faults,
 * POST /__replica/version {"version"}, POST /__replica/latency {"ms"}.
 */
import { startMailwizzReplica } from './index';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const port = Number(option('port') ?? process.env.MAILWIZZ_REPLICA_PORT ?? '4104');
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`mailwizz replica: not a port: ${String(port)}\n`);
  process.exit(2);
}
const replica = await startMailwizzReplica({ port, host: option('host') ?? '127.0.0.1', version: option('version') === '1' ? 1 : 2 });
process.stdout.write(`mailwizz replica (API ${replica.version}.x) listening on ${replica.apiUrl}\n`);
const stop = () => void replica.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
