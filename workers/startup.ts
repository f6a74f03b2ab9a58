import type { Logger } from 'pino';
import { ConfigError, loadCoreConfig, type CoreConfig } from '../schema/config';

/** A worker with bad settings says all of them and exits 3 (configuration error) before connecting anywhere. */
export function coreConfigOrExit(log: Logger): CoreConfig {
  try {
    return loadCoreConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal(err.message);
      process.exit(3);
    }
    throw err;
  }
}
