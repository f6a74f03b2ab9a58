/**
 * Runs the marchespublics.gov.ma replica as its own process (demo, benchmarks, a crawler under
 * development):
 *
 *   node --import tsx tests/replicas/pmmp/main.ts [--port N] [--host H] [--seed S] [--today YYYY-MM-DD]
 *        [--consultations N] [--bdc-results N] [--knobs JSON]
 *
 * Port: --port, else PMMP_REPLICA_PORT, else 4102. Prints one line
 * `pmmp replica listening on http://127.0.0.1:PORT` when ready; stops on SIGTERM or SIGINT.
 * Knobs and stats over HTTP: POST /__replica/knobs {…}, GET /__replica/stats; the oracle under
 * GET /__replica/oracle/{summary,consultations,notices,bdc}.
 */
import { startPortalReplica, type PortalKnobsInput } from './index';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function fail(message: string): never {
  process.stderr.write(`pmmp replica: ${message}\n`);
  process.exit(2);
}

function count(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

const portText = option('port') ?? process.env.PMMP_REPLICA_PORT ?? '4102';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`not a port: ${JSON.stringify(portText)}`);

let knobs: PortalKnobsInput | undefined;
const knobsText = option('knobs') ?? process.env.PMMP_REPLICA_KNOBS;
if (knobsText) {
  try {
    knobs = JSON.parse(knobsText) as PortalKnobsInput;
  } catch (e) {
    fail(`--knobs is not JSON: ${String(e)}`);
  }
}

const consultations = count('consultations', option('consultations') ?? process.env.PMMP_REPLICA_CONSULTATIONS);
const bdcResults = count('bdc-results', option('bdc-results'));
const today = option('today') ?? process.env.PMMP_REPLICA_TODAY;
const seed = option('seed') ?? process.env.PMMP_REPLICA_SEED;

try {
  const replica = await startPortalReplica({
    port,
    host: option('host') ?? '127.0.0.1',
    ...(seed ? { seed } : {}),
    ...(today ? { today } : {}),
    ...(consultations !== undefined ? { consultations } : {}),
    ...(bdcResults !== undefined ? { bdcResults } : {}),
    ...(knobs ? { knobs } : {}),
  });
  process.stdout.write(`pmmp replica listening on ${replica.url}\n`);
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
