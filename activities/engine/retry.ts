/**
 * Retrying one request inside an activity: a 5xx, a short body or a 429 with a short Retry-After costs
 * that request a few seconds, not the whole activity a Temporal retry (which backs off in minutes and
 * redoes everything since the last heartbeat). Anything longer, or repeated, goes to Temporal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimitedError, TransientError } from './errors';

export interface InlineRetryOptions {
  /** Tries in all, the first included (default 5). */
  attempts?: number;
  /** Retry-After waits up to this long are slept here; longer ones fail the activity (default 60 s). */
  maxInlineWaitMs?: number;
  signal?: AbortSignal;
  /** Called before each new try: a stateful client resets what the failed try left behind. */
  recover?: () => void;
  /** Errors retried besides transient faults and rate limits (a lost server-side state…). */
  alsoRetry?: (err: unknown) => boolean;
}

export async function withInlineRetries<T>(run: () => Promise<T>, opts: InlineRetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const maxInlineWaitMs = opts.maxInlineWaitMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const retryable = err instanceof TransientError || err instanceof RateLimitedError || (opts.alsoRetry?.(err) ?? false);
      if (!retryable || attempt >= attempts || opts.signal?.aborted) throw err;
      let waitMs = Math.min(10_000, 250 * 2 ** (attempt - 1));
      if (err instanceof RateLimitedError) {
        if (err.retryAfterMs > maxInlineWaitMs) throw err;
        waitMs = err.retryAfterMs + 50;
      }
      await sleep(waitMs, undefined, opts.signal ? { signal: opts.signal } : {});
      opts.recover?.();
    }
  }
}
