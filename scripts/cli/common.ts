/** What every `moisson` command shares: exit codes, typed failures, the stack's environment, the Temporal connection. */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { InvalidArgumentError } from 'commander';
import { describeCause, RunControl, RunFailedError, RunInputError, rootCause, type RunHandle } from '../../control/runs';
import { temporalDataConverter } from '../../control/payload-codec';
import { ConfigError, loadCoreConfig, loadPayloadCodecConfig, type CoreConfig, type PayloadCodecConfig } from '../../schema/config';
import { calendarDay, type RawInputOf, type ResultOf, type WorkflowContract } from '../../workflows/contracts';
import { formatCounts, formatSeconds, showProgressUntil } from './progress';

export const EXIT = { success: 0, partial: 1, failure: 2, config_error: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * A service the command needs cannot be reached. Every such outage reads the same and exits the same
 * (2, a failure: nothing is wrong with what was asked, it cannot be done now).
 */
export class ServiceUnreachableError extends CliError {
  constructor(
    readonly service: 'PostgreSQL' | 'Temporal' | 'MongoDB',
    where: string,
    reason: string,
    variable: string,
  ) {
    super(`cannot reach ${service} at ${where} (${reason}). Start the local stack with \`npm run stack:up\`, or set ${variable}.`, EXIT.failure);
  }
}

/** The network errors of a connection that never was (postgres.js, the MongoDB driver and Node use these codes). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']);

/** A URL as it may be shown: no credentials. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

/**
 * The outage behind an error, if it is one: a PostgreSQL connection refused, MongoDB not answering,
 * Temporal gone mid-command. Anything else is left to the caller.
 */
export function unreachableService(err: unknown, env: NodeJS.ProcessEnv = process.env): ServiceUnreachableError | undefined {
  if (err instanceof ServiceUnreachableError) return err;
  const e = err as { code?: unknown; name?: string; message?: string; cause?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (e?.name === 'MongoServerSelectionError' || e?.name === 'MongoNetworkError') {
    return new ServiceUnreachableError('MongoDB', redactUrl(env.MONGO_URL ?? 'MONGO_URL'), e.name, 'MONGO_URL');
  }
  // gRPC UNAVAILABLE (14): the Temporal server went away after the connection was made.
  if (e?.name === 'ServiceError' && /UNAVAILABLE|14 /.test(String((e.cause as { message?: string })?.message ?? e.message))) {
    return new ServiceUnreachableError('Temporal', env.TEMPORAL_ADDRESS ?? 'localhost:7233', 'UNAVAILABLE', 'TEMPORAL_ADDRESS');
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    return new ServiceUnreachableError('PostgreSQL', redactUrl(env.DATABASE_URL ?? 'DATABASE_URL'), code, 'DATABASE_URL');
  }
  // postgres.js wraps nothing, but an AggregateError (several addresses tried) carries the codes inside.
  if (err instanceof AggregateError && err.errors.some((x) => UNREACHABLE_CODES.has((x as { code?: string }).code ?? ''))) {
    return new ServiceUnreachableError('PostgreSQL', redactUrl(env.DATABASE_URL ?? 'DATABASE_URL'), (err.errors[0] as { code: string }).code, 'DATABASE_URL');
  }
  return undefined;
}

const PROJECT_ROOT = new URL('../../', import.meta.url);

/**
 * The local stack's environment (`.data/stack.env`, written by `npm run stack:up`) under what the shell
 * sets: a variable set explicitly always wins. `MOISSON_ENV_FILE` names another file; empty, none.
 * Returns the file read, if any.
 */
export function loadStackEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.MOISSON_ENV_FILE ?? new URL('.data/stack.env', PROJECT_ROOT).pathname;
  if (!file || !existsSync(file)) return undefined;
  for (const [key, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) {
    if (env[key] === undefined) env[key] = value;
  }
  return file;
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

function configured<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.config_error);
    throw err;
  }
}

export function config(): CoreConfig {
  return configured(() => loadCoreConfig());
}

/** The keys of the payload codec: a client without them could not read what the workers encrypt. */
function codecConfig(): PayloadCodecConfig {
  return configured(() => loadPayloadCodecConfig());
}

export async function connect(cfg: CoreConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: cfg.temporal.address, connectTimeout: '5s' });
    return new Client({ connection, namespace: cfg.temporal.namespace, dataConverter: temporalDataConverter(codecConfig()) });
  } catch (err) {
    throw new ServiceUnreachableError('Temporal', cfg.temporal.address, (err as Error).message, 'TEMPORAL_ADDRESS');
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
      throw new CliError(`the workflow failed: ${describeCause(rootCause(err))}`, EXIT.failure);
    }
    if (err instanceof RunFailedError) throw new CliError(`${err.workflowId} failed: ${err.message}`, EXIT.failure);
    throw err;
  }
}

/** Every number of a result, flattened (`counts.inserted`, `streams.0.counts.loaded` summed by name). */
export function resultCounts(result: unknown): Record<string, number> {
  const total: Record<string, number> = {};
  const walk = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'number' && Number.isFinite(x)) total[k] = (total[k] ?? 0) + x;
      else walk(x, depth + 1);
    }
  };
  walk(result, 0);
  return total;
}

/** The closing line of a waited-for run: how long, and its counts (as a crawler prints its stats). */
export function printSummary(workflowId: string, result: unknown, elapsedMs: number): void {
  const counts = formatCounts(resultCounts(result));
  console.log(`finished ${workflowId} in ${formatSeconds(elapsedMs)}${counts ? `: ${counts}` : ''}`);
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
    const started = Date.now();
    const result = await waitForResult(showProgressUntil(control, run.workflowId, c.workflowType, control.result(run.handle as RunHandle<C>)));
    printSummary(run.workflowId, result, Date.now() - started);
    return result;
  } finally {
    await closeClient(client);
  }
}
