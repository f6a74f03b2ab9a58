/**
 * The fetcher's own kinds of the shared error vocabulary (errors.ts): each one says what happens next
 * through the class it extends, and Temporal sees its class name as the failure type.
 */
import { RateLimitedError, StopError } from './errors';

/**
 * The site refuses us (403, or a 200 page that a pipeline's `classify` hook recognises as a WAF
 * rejection). Retrying at once would only make it worse; consecutive blocks open the host's breaker.
 */
export class BlockedError extends StopError {}

/**
 * Too many consecutive blocks from one host: the fetcher refuses to contact it until `retryAfterMs`
 * has passed. No request was sent.
 */
export class CircuitOpenError extends StopError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    details: Record<string, unknown> = {},
  ) {
    super(message, { retryAfterMs, ...details });
  }
}

/** The response is larger than the configured limit: a wrong URL or a runaway document, not a glitch. */
export class ResponseTooLargeError extends StopError {}

/**
 * robots.txt answered 5xx or could not be reached: RFC 9309 §2.3.1.3 says to assume a complete
 * disallow meanwhile, which is a "come back later", not a permanent refusal.
 */
export class RobotsUnavailableError extends RateLimitedError {}
