import type { Logger } from 'pino';
import { ConfigError } from '../schema/config';
import { assertMigrated, MissingMigrationsError } from '../scripts/db/migrate';

/** A worker with bad settings says all of them and exits 3 (configuration error) before connecting anywhere. */
export function configOrExit<T>(log: Logger, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal(err.message);
      process.exit(3);
    }
    throw err;
  }
}

/** Where a process that is not a pino logger (the API, before its app exists) says it. */
export interface StartupLog {
  fatal(message: string): void;
  warn(message: string): void;
}

/**
 * A process started on a database that lacks committed migrations says which ones and how to apply
 * them, and exits 3 (configuration error) before it starts anything, rather than failing later on a
 * relation that does not exist. A database that cannot be reached is not refused: the worker's activities
 * retry until it is back and the API's /health reports it, as they did before this check.
 */
export async function migrationsOrExit(log: StartupLog, databaseUrl: string): Promise<void> {
  try {
    await assertMigrated(databaseUrl);
  } catch (err) {
    if (err instanceof MissingMigrationsError) {
      log.fatal(err.message);
      process.exit(3);
    }
    log.warn(`could not check the database's migrations at start (${err instanceof Error ? err.message : String(err)}): starting anyway`);
  }
}

/**
 * A listening port the process could not take says which address and which setting moves it, and exits 3
 * (configuration error). The Temporal SDK's exporter throws "Address already in use" without an address,
 * and the worker's own endpoint would end in a stack trace: neither told an operator that the SDK's port is
 * the setting's port + 1.
 */
export async function listenOrExit<T>(log: StartupLog, what: { endpoint: string; address: string; setting: string }, start: () => T | Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EADDRINUSE' || (err instanceof Error && /address already in use/i.test(err.message))) {
      log.fatal(
        `${what.endpoint} cannot listen on ${what.address}: another process holds that port. Set ${what.setting} to a free port whose next one is free too (the worker serves its metrics on ${what.setting} and the Temporal SDK's on ${what.setting} + 1)`,
      );
      process.exit(3);
    }
    throw err;
  }
}
