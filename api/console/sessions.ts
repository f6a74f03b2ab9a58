/**
 * The operator console's sign-in: one password from the environment (MOISSON_CONSOLE_PASSWORD), compared in
 * constant time, and server-side sessions named by a random cookie. A session carries its own CSRF token,
 * which the page sends back in `X-CSRF-Token` on every write: the cookie alone (which a browser attaches to
 * any request to this origin) never authorises a write. See api/auth.ts for how writes are authenticated.
 *
 * Sessions live in this process's memory, like the signature replay memory: an API restart signs everyone
 * out, and several API instances need sticky routing (or sign-in on each).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, forbidden, unauthorized } from '../errors';

export const SESSION_COOKIE = 'moisson_console';
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSession {
  csrfToken: string;
  expiresAt: number;
}

export interface ConsoleSessionsOptions {
  password: string | undefined;
  ttlMs: number;
  now?: () => number;
  /** Most sessions at once; beyond, the oldest are signed out. */
  maxSessions?: number;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly now: () => number;
  private readonly passwordDigest: Buffer | undefined;

  constructor(private readonly opts: ConsoleSessionsOptions) {
    this.now = opts.now ?? Date.now;
    this.passwordDigest = opts.password === undefined ? undefined : sha256(opts.password);
  }

  get enabled(): boolean {
    return this.passwordDigest !== undefined;
  }

  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  /**
   * A new session when the password is right. Both sides are hashed first so the comparison takes the same
   * time whatever the length or content of the guess.
   */
  signIn(password: string): { id: string; session: ConsoleSession } {
    if (!this.passwordDigest) throw forbidden('console sign-in is disabled: the server has no MOISSON_CONSOLE_PASSWORD');
    if (!timingSafeEqual(sha256(password), this.passwordDigest)) throw new ApiError(401, 'unauthorized', 'wrong password', [{ in: 'body', field: 'password', problem: 'wrong password' }]);
    this.forgetExpired();
    const id = randomBytes(32).toString('base64url');
    const session = { csrfToken: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.opts.ttlMs };
    this.sessions.set(id, session);
    while (this.sessions.size > (this.opts.maxSessions ?? 10_000)) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    return { id, session };
  }

  /** The live session the request's cookie names, if any (an expired one is forgotten). */
  of(req: FastifyRequest): { id: string; session: ConsoleSession } | undefined {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { id, session };
  }

  /** Throws unless the request has a live session and its CSRF token in `X-CSRF-Token`. */
  verifyWrite(req: FastifyRequest): void {
    const found = this.of(req);
    if (!found) throw unauthorized('Cookie', 'the console session is missing or expired: sign in again');
    const given = req.headers[CSRF_HEADER];
    const token = Array.isArray(given) ? given[0] : given;
    if (!token) throw unauthorized('X-CSRF-Token', 'missing: a console write must carry the session\'s CSRF token');
    if (!timingSafeEqual(sha256(token), sha256(found.session.csrfToken))) throw unauthorized('X-CSRF-Token', 'does not match the session');
  }

  signOut(req: FastifyRequest): void {
    const found = this.of(req);
    if (found) this.sessions.delete(found.id);
  }

  setCookie(req: FastifyRequest, reply: FastifyReply, id: string): void {
    reply.header('set-cookie', cookie(req, id, Math.floor(this.opts.ttlMs / 1000)));
  }

  clearCookie(req: FastifyRequest, reply: FastifyReply): void {
    reply.header('set-cookie', cookie(req, '', 0));
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

function cookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  // Secure only over HTTPS (behind a TLS proxy with API_TRUST_PROXY): on plain http://127.0.0.1 a Secure cookie would never come back.
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
