/**
 * The one place where "can retrying help?" becomes Temporal's retry decision: every activity of every
 * worker runs through this interceptor, which turns the error vocabulary (activities/engine/errors.ts)
 * into ApplicationFailures — non-retryable for a `StopError`, with the server's delay for a
 * `RateLimitedError`, retried with backoff for a `TransientError` — typed by the error's class name.
 * Workflows keep no lists of error types: they only read `failure.type` to report it.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { toActivityFailure } from '../activities/engine/errors';

export const errorVocabularyInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
  },
});
