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
