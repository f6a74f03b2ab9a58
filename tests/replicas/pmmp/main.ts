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
import { replicaProcess } from '../process';
import { startPortalReplica, type PortalKnobsInput } from './index';

const cli = replicaProcess('pmmp replica');
const port = cli.port('PMMP_REPLICA_PORT', 4102);

let knobs: PortalKnobsInput | undefined;
const knobsText = cli.option('knobs') ?? process.env.PMMP_REPLICA_KNOBS;
if (knobsText) {
  try {
    knobs = JSON.parse(knobsText) as PortalKnobsInput;
  } catch (e) {
    cli.fail(`--knobs is not JSON: ${String(e)}`);
  }
}

const consultations = cli.count('consultations', cli.option('consultations') ?? process.env.PMMP_REPLICA_CONSULTATIONS);
const bdcResults = cli.count('bdc-results', cli.option('bdc-results'));
const today = cli.option('today') ?? process.env.PMMP_REPLICA_TODAY;
const seed = cli.option('seed') ?? process.env.PMMP_REPLICA_SEED;

await cli.serve(() =>
  startPortalReplica({
    port,
    host: cli.option('host') ?? '127.0.0.1',
    ...(seed ? { seed } : {}),
    ...(today ? { today } : {}),
    ...(consultations !== undefined ? { consultations } : {}),
    ...(bdcResults !== undefined ? { bdcResults } : {}),
    ...(knobs ? { knobs } : {}),
  }),
);
