/** What every `moisson` command shares: exit codes, typed failures, the Temporal connection. */
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { InvalidArgumentError } from 'commander';
import { RunControl, RunFailedError, RunInputError, rootCause, type RunHandle } from '../../control/runs';
import { ConfigError, loadCoreConfig, type CoreConfig } from '../../schema/config';
import { calendarDay, type RawInputOf, type ResultOf, type WorkflowContract } from '../../workflows/contracts';

export const EXIT = { success: 0, partial: 1, failure: 2, config_error: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function isoDate(value: string): string {
  const r = calendarDay.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`expected a day of the calendar as YYYY-MM-DD (${r.error.issues[0]!.message})`);
  return value;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}


export const todayUtc = () => new Date().toISOString().slice(0, 10);

export function config(): CoreConfig {
  try {
    return loadCoreConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.config_error);
    throw err;
  }
}

export async function connect(cfg: CoreConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: cfg.temporal.address, connectTimeout: '5s' });
    return new Client({ connection, namespace: cfg.temporal.namespace });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${cfg.temporal.address} (${(err as Error).message}). Start the local stack with \`npm run stack:up\`, or set TEMPORAL_ADDRESS.`,
      EXIT.failure,
    );
  }
}

export function uiLink(cfg: CoreConfig, workflowId: string): string {
  return `${cfg.temporal.uiUrl}/namespaces/${encodeURIComponent(cfg.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export async function closeClient(client: Client): Promise<void> {
  await client.connection.close();
}


export async function waitForResult<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = rootCause(err);
      throw new CliError(`the workflow failed: ${cause.type}: ${cause.message}`, EXIT.failure);
    }
    if (err instanceof RunFailedError) throw new CliError(`${err.workflowId} failed: ${err.message}`, EXIT.failure);
    throw err;
  }
}

/**
 * Starts a run through its contract (its input checked, its defaults explicit, its id the contract's),
 * or attaches to the run already going under that id (a second start is not an error), prints where to
 * see it, and with `sync` waits for its result. `flags` names the CLI flag of each input field, so a
 * refused input names what the user typed.
 */
export async function startOrAttach<C extends WorkflowContract>(
  c: C,
  input: RawInputOf<C>,
  opts: { sync: boolean; note?: string; flags?: Record<string, string> },
): Promise<ResultOf<C> | undefined> {
  const cfg = config();
  const client = await connect(cfg);
  try {
    const control = new RunControl(client, cfg.temporal.taskQueue);
    let run;
    try {
      run = await control.start(c, input);
    } catch (err) {
      if (err instanceof RunInputError) {
        throw new CliError(err.issues.map((i) => `${opts.flags?.[i.field.split('.')[0]!] ?? i.field}: ${i.problem}`).join('; '), EXIT.config_error);
      }
      throw err;
    }
    if (run.started) console.log(`started ${run.workflowId}${opts.note ? ` (${opts.note})` : ''}`);
    else console.log(`${run.workflowId} is already running; ${opts.sync ? 'waiting for it' : 'not starting another'}`);
    console.log(`  ${uiLink(cfg, run.workflowId)}`);
    if (!opts.sync) return undefined;
    return await waitForResult(control.result(run.handle as RunHandle<C>));
  } finally {
    await closeClient(client);
  }
}
