/**
 * A pipeline's settings are read per call, not at start-up: a bad setting must fail that pipeline's runs
 * (a ConfigurationError, never retried), not stop a worker that serves every other pipeline too.
 */
import { ConfigError } from '../../schema/config';
import { ConfigurationError } from './errors';

type Env = Record<string, string | undefined>;

/** `load(env)`, its ConfigError turned into the activities' ConfigurationError with the same issues. */
export function pipelineConfig<T>(load: (env?: Env) => T, env?: Env): T {
  try {
    return load(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigurationError(err.message, { issues: err.issues });
    throw err;
  }
}
