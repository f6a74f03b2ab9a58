/**
 * The console's only way to the data: the REST API, same origin, with the session cookie. Reads are
 * `apiGet`; writes are `apiWrite`, which adds the session's CSRF token (X-CSRF-Token) that the API demands
 * of every console write. No secret lives in the page: the cookie is HttpOnly and the token is per session.
 */

/** An API error as the API words it: `{error, message, issues?}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: { in: string; field: string; problem: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

let csrfToken: string | undefined;

/** Set on sign-in and on every session check (the token lives in memory only). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Listeners told when the API answers 401 (the session expired): the app shows the sign-in page again. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

async function asError(res: Response): Promise<ApiError> {
  let body: { error?: string; message?: string; issues?: ApiError['issues'] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  if (res.status === 401) for (const l of unauthorizedListeners) l();
  return new ApiError(res.status, body.error ?? `http_${res.status}`, body.message ?? `${res.status} ${res.statusText}`, body.issues ?? []);
}

export async function apiGet<T>(path: string, query: Query = {}, init: { signal?: AbortSignal } = {}): Promise<T> {
  const res = await fetch(withQuery(path, query), { credentials: 'same-origin', headers: { accept: 'application/json' }, signal: init.signal });
  if (!res.ok) throw await asError(res);
  return (await res.json()) as T;
}

export async function apiWrite<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await asError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** The message to show for any failure: the API's own words when it gave some. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const details = err.issues.map((i) => `${i.field}: ${i.problem}`).join('; ');
    return details && !err.message.includes(details) ? `${err.message} (${details})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

// ---- the console's own endpoints

export interface SessionState {
  signInEnabled: boolean;
  signedIn: boolean;
  csrfToken?: string;
  expiresAt?: string;
  message?: string;
}

export interface ConsoleConfig {
  temporalUiUrl: string;
  temporalNamespace: string;
  sessionExpiresAt: string | null;
}

export async function fetchSession(): Promise<SessionState> {
  const s = await apiGet<SessionState>('/api/v1/console/session');
  setCsrfToken(s.csrfToken);
  return s;
}

export async function signIn(password: string): Promise<SessionState> {
  const res = await fetch('/api/v1/console/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ password }),
  });
  if (!res.ok) {
    // a wrong password is a 401 too, but it is not an expired session
    let body: { error?: string; message?: string } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // keep the status
    }
    throw new ApiError(res.status, body.error ?? `http_${res.status}`, body.message ?? res.statusText);
  }
  const s = (await res.json()) as SessionState;
  setCsrfToken(s.csrfToken);
  return s;
}

export async function signOut(): Promise<void> {
  await apiWrite<void>('DELETE', '/api/v1/console/session');
  setCsrfToken(undefined);
}
