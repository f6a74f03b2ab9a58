/**
 * The error vocabulary shared by every pipeline, grouped by what happens next:
 * - retry: `TransientError` (network, timeout, 5xx, truncated body): Temporal retries with backoff;
 * - retry later: `RateLimitedError`: retried after the server's own delay;
 * - stop: `StopError` and its kinds: retrying cannot help, the activity fails non-retryably.
 * `toActivityFailure` turns them into Temporal's ApplicationFailure with the class name as its type;
 * the workers apply it to every activity (workers/errors.ts), so the error itself decides whether
 * Temporal retries it: no workflow keeps a list of non-retryable type names.
 */
import { ApplicationFailure } from '@temporalio/common';

export abstract class MoissonError extends Error {
  abstract readonly retry: 'retry' | 'retry-later' | 'stop';
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type TransientKind = 'network' | 'timeout' | 'server' | 'truncated';

export class TransientError extends MoissonError {
  readonly retry = 'retry' as const;
  constructor(
    readonly kind: TransientKind,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { kind, ...details });
  }
}

export class RateLimitedError extends MoissonError {
  readonly retry = 'retry-later' as const;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    details: Record<string, unknown> = {},
  ) {
    super(message, { retryAfterMs, ...details });
  }
}

export abstract class StopError extends MoissonError {
  readonly retry = 'stop' as const;
}

/** The settings are wrong: nothing will work until a person changes them. */
export class ConfigurationError extends StopError {}
/** Credentials refused (401/403 from an API that uses them). */
export class AuthError extends StopError {}
/** The request itself is wrong (unknown asset, bad date, 4xx other than auth/429). */
export class InvalidInputError extends StopError {}
/** A well-formed response whose shape is not the one we know: the service changed. */
export class ResponseShapeError extends StopError {}
/** The resource does not exist (404), or does not have what was asked (e.g. a date a source does not serve). */
export class NotAvailableError extends StopError {}
/** robots.txt forbids the URL. */
export class RobotsDisallowedError extends StopError {}

/**
 * For activities: our errors become ApplicationFailures Temporal understands; anything else is left
 * as is (an unknown error is retried, which is the safe default for I/O).
 */
export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof MoissonError)) return err;
  const details = [err.details];
  if (err instanceof RateLimitedError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, details, nextRetryDelay: err.retryAfterMs });
  }
  return ApplicationFailure.create({ message: err.message, type: err.name, details, nonRetryable: err.retry === 'stop' });
}

/** Wraps an activity so that the vocabulary above reaches Temporal as typed failures. */
export function activity<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toActivityFailure(err);
    }
  };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The PostgreSQL error under a failed statement (drizzle wraps it in a DrizzleQueryError whose message
 * carries the whole query and its parameters), or undefined when the failure is not the database's.
 */
export function databaseError(err: unknown): (Error & { code: string }) | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.name === 'PostgresError' && 'code' in e && typeof e.code === 'string') return e as Error & { code: string };
  }
  return undefined;
}

/**
 * A value the database refuses (SQLSTATE class 22 data exception, 23 integrity constraint): the row is
 * at fault, not the connection or the statement, so it is reported and the others are kept.
 */
export function refusedValue(err: unknown): (Error & { code: string }) | undefined {
  const e = databaseError(err);
  return e && /^2[23]/.test(e.code) ? e : undefined;
}
