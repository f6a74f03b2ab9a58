import type { Logger } from 'pino';
import { ConfigError } from '../schema/config';

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
