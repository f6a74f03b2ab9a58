/**
 * Request authentication, as the seed service did it. Write requests are signed:
 * `X-Timestamp: <unix seconds>` and `X-Signature: <hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
 * (a `sha256=` prefix is accepted). The timestamp must be within the window either way, the comparison
 * is constant-time, and a signature is accepted once: it is remembered until it leaves the window.
 *
 * The replay memory is this process's (a bounded map, oldest evicted first): with several API
 * instances behind a balancer, a replay sent to another instance within the window would pass.
 * One instance, or sticky routing by client, keeps the guarantee.
 *
 * Read requests are open unless API_READ_KEYS lists keys; then `X-API-Key` must be one of them.
 *
 * The operator console (/console/, api/console/) writes without the HMAC secret, which must never reach a
 * browser. Its writes carry instead the console session cookie AND `X-CSRF-Token` equal to that session's
 * token. This keeps the signed-writes rule (no write without a credential the caller proved it holds):
 * - the session is the credential: it exists only after the console password (MOISSON_CONSOLE_PASSWORD) was
 *   given, is random (256 bits), HttpOnly (no script reads it), and expires (MOISSON_CONSOLE_SESSION_TTL_S);
 * - the CSRF token blocks cross-site writes: a browser attaches the cookie to any request to this origin
 *   (SameSite=Strict already stops other sites from sending it), but only the console's own page can read
 *   the token (from /api/v1/console/session, same origin, no CORS) and put it in a header;
 * - replay needs the cookie itself, which only the signed-in browser holds (and HTTPS in production).
 * A request that carries `X-Signature` is always checked as a signed request; one with a session cookie and
 * no signature is checked as a console write. With API_READ_KEYS set, a console session also satisfies reads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from './errors';

export interface SignatureOptions {
  secret: string | undefined;
  windowMs: number;
  now?: () => number;
  /** Most signatures remembered at once; beyond, the oldest are forgotten (and the window still holds them off by age). */
  maxRemembered?: number;
}

export function signRequest(secret: string, timestamp: string | number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

function constantTimeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  // Same length by construction (both checked as 64 hex digits); the guard keeps timingSafeEqual from throwing.
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SignatureVerifier {
  private readonly seen = new Map<string, number>();
  private readonly now: () => number;
  private readonly max: number;

  constructor(private readonly opts: SignatureOptions) {
    this.now = opts.now ?? Date.now;
    this.max = opts.maxRemembered ?? 100_000;
  }

  get enabled(): boolean {
    return this.opts.secret !== undefined;
  }

  /** Throws an ApiError naming the header and the problem; returns when the request is authentic and new. */
  verify(headers: FastifyRequest['headers'], rawBody: string): void {
    const secret = this.opts.secret;
    if (!secret) throw forbidden('write endpoints are disabled: the server has no API_HMAC_SECRET');
    const ts = single(headers['x-timestamp']);
    const sig = single(headers['x-signature'])?.replace(/^sha256=/i, '');
    if (ts === undefined) throw unauthorized('X-Timestamp', 'missing: unix time in seconds of the request');
    if (!/^\d{1,12}$/.test(ts)) throw unauthorized('X-Timestamp', 'must be unix time in whole seconds');
    if (sig === undefined) throw unauthorized('X-Signature', 'missing: hex HMAC-SHA256 of "<X-Timestamp>.<body>"');
    if (!HEX_SHA256.test(sig)) throw unauthorized('X-Signature', 'must be 64 hex digits (HMAC-SHA256)');
    const now = this.now();
    const skew = Math.abs(now - Number(ts) * 1000);
    if (skew > this.opts.windowMs) {
      throw unauthorized('X-Timestamp', `outside the ${this.opts.windowMs / 1000} s window (server time ${Math.floor(now / 1000)})`);
    }
    const expected = signRequest(secret, ts, rawBody);
    if (!constantTimeEqualHex(sig, expected)) throw unauthorized('X-Signature', 'does not match the timestamp and body');
    this.forgetExpired(now);
    const key = sig.toLowerCase();
    if (this.seen.has(key)) throw unauthorized('X-Signature', 'already used: a signed request is accepted once (sign again with a new timestamp)');
    this.seen.set(key, Number(ts) * 1000 + this.opts.windowMs);
    while (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
  }

  private forgetExpired(now: number): void {
    // Insertion order is close to expiry order (timestamps are near "now"); stop at the first live one.
    for (const [key, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(key);
    }
  }
}

export class ReadKeys {
  private readonly keys: Buffer[];
  constructor(keys: string[]) {
    this.keys = keys.map((k) => Buffer.from(k, 'utf8'));
  }
  get enabled(): boolean {
    return this.keys.length > 0;
  }
  verify(headers: FastifyRequest['headers']): void {
    if (!this.enabled) return;
    const given = single(headers['x-api-key']);
    if (given === undefined) throw unauthorized('X-API-Key', 'missing: this server requires an API key for reads');
    const g = Buffer.from(given, 'utf8');
    let ok = false;
    for (const k of this.keys) if (k.length === g.length && timingSafeEqual(k, g)) ok = true;
    if (!ok) throw unauthorized('X-API-Key', 'unknown key');
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
