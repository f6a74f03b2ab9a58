/**
 * Runs the prices replica as its own process (the demo and `npm run stack:up` start it this way):
 *
 *   node --import tsx tests/replicas/prices/main.ts [--port N] [--host H] [--today YYYY-MM-DD]
 *
 * Port: --port, else PRICES_REPLICA_PORT, else 4101. --today (or PRICES_REPLICA_TODAY) pins the
 * replica's date, for a demo or a benchmark that must see the same prices on every run.
 * Faults are set over HTTP: POST /__replica/faults {"source","fault","times"?}.
 */
import { startPricesReplica } from './index';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function fail(message: string): never {
  process.stderr.write(`prices replica: ${message}\n`);
  process.exit(2);
}

const portText = option('port') ?? process.env.PRICES_REPLICA_PORT ?? '4101';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`not a port: ${JSON.stringify(portText)}`);

const today = option('today') ?? process.env.PRICES_REPLICA_TODAY;
const host = option('host') ?? '127.0.0.1';

try {
  const replica = await startPricesReplica({ port, host, ...(today ? { today } : {}) });
  process.stdout.write(`prices replica listening on ${replica.url}\n`);
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
