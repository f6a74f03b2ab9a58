import { Context } from '@temporalio/activity';

/**
 * Runs `fn` heartbeating on a timer as well as when it reports progress: a single slow call (a
 * database under load, a long OCR page) must not look like a dead worker. The timer repeats the last
 * progress reported, so a retry still resumes from the newest cursor. The SDK throttles the calls.
 */
export async function withHeartbeat<T, D = unknown>(fn: (progress: (details: D) => void) => Promise<T>, intervalMs = 5_000): Promise<T> {
  const ctx = Context.current();
  let last: D | undefined;
  const timer = setInterval(() => ctx.heartbeat(last), intervalMs);
  try {
    return await fn((details) => {
      last = details;
      ctx.heartbeat(details);
    });
  } finally {
    clearInterval(timer);
  }
}
