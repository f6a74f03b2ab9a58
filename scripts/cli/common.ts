/** What every `moisson` command shares: exit codes, typed failures, the Temporal connection. */
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { InvalidArgumentError } from 'commander';
import { ConfigError, loadCoreConfig, type CoreConfig } from '../../schema/config';
import { executionTimeout } from '../../workflows/timeouts';

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
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new InvalidArgumentError('expected a date as YYYY-MM-DD');
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
    if (err instanceof WorkflowFailedError) throw new CliError(`the workflow failed: ${err.cause?.message ?? err.message}`, EXIT.failure);
    throw err;
  }
}

/**
 * Starts a workflow, or attaches to the run already going under that id (a second start is not an
 * error), prints where to see it, and with `sync` waits for its result.
 */
export async function startOrAttach<T>(workflowType: string, workflowId: string, args: unknown[], opts: { sync: boolean; note?: string }): Promise<T | undefined> {
  const cfg = config();
  const client = await connect(cfg);
  try {
    let handle;
    try {
      handle = await client.workflow.start(workflowType, { taskQueue: cfg.temporal.taskQueue, workflowId, args, ...executionTimeout(workflowType) });
      console.log(`started ${workflowId}${opts.note ? ` (${opts.note})` : ''}`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = client.workflow.getHandle(workflowId);
      console.log(`${workflowId} is already running; ${opts.sync ? 'waiting for it' : 'not starting another'}`);
    }
    console.log(`  ${uiLink(cfg, workflowId)}`);
    if (!opts.sync) return undefined;
    return (await waitForResult(handle.result())) as T;
  } finally {
    await closeClient(client);
  }
}
