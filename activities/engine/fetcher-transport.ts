/**
 * The connection pool behind a fetcher. Node's global fetch takes its connect timeout from undici's
 * Agent (10 s by default, and 300 s limits on headers and body that would cut a long total timeout
 * short). `undici` is not a direct dependency, so the Agent class is taken from the global
 * dispatcher Node installs; where that is not available we fall back to the defaults.
 * With `undici` (the major Node bundles, 6.x for Node 20) as a dependency this becomes `new Agent(…)`.
 */
import type { LookupFunction } from 'node:net';
import { fetch as undiciFetch, ProxyAgent } from 'undici';

interface Dispatcher {
  close(): Promise<void>;
}

type AgentClass = new (opts: Record<string, unknown>) => Dispatcher;

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

function agentClass(): AgentClass | undefined {
  // Reading a lazy fetch global makes Node load its bundled undici, which installs the dispatcher.
  void globalThis.Headers;
  const current = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  const ctor = (current as { constructor?: unknown } | undefined)?.constructor;
  if (typeof ctor !== 'function' || ctor.name !== 'Agent') return undefined;
  const proto = (ctor as { prototype?: Record<string, unknown> }).prototype;
  return typeof proto?.dispatch === 'function' && typeof proto.close === 'function' ? (ctor as AgentClass) : undefined;
}

export interface Transport {
  /** To pass as `dispatcher` in fetch's init; undefined means Node's global one. */
  readonly dispatcher: Dispatcher | undefined;
  /** True when connectMs is enforced (otherwise undici's 10 s default applies). */
  readonly connectTimeoutApplied: boolean;
  close(): Promise<void>;
}

export interface TransportOptions {
  connectMs: number;
  /**
   * Resolves host names for every connection (net.connect's `lookup`): a guard placed here checks the
   * address actually connected to, which a check before the request cannot (DNS rebinding).
   */
  lookup?: LookupFunction;
}

export function createTransport(opts: TransportOptions): Transport {
  const Agent = agentClass();
  if (!Agent) return { dispatcher: undefined, connectTimeoutApplied: false, close: async () => undefined };
  // Every request carries our own total timeout (an AbortSignal, with a clear message), which may be
  // longer than undici's 300 s: its header and body timers are switched off (0) so they never fire first.
  const connect = { timeout: opts.connectMs, ...(opts.lookup ? { lookup: opts.lookup } : {}) };
  const dispatcher = new Agent({ connect, headersTimeout: 0, bodyTimeout: 0 });
  return { dispatcher, connectTimeoutApplied: true, close: () => dispatcher.close() };
}

/**
 * Requests through forward proxies (HTTP CONNECT tunnels), one pool per proxy, rotated per request.
 * undici's own fetch goes with its ProxyAgent: Node's bundled fetch may be another undici version.
 */
export interface ProxyRotation {
  next(): { fetch: typeof fetch; dispatcher: unknown; proxy: string };
  close(): Promise<void>;
}

export function createProxyRotation(proxies: readonly string[], opts: TransportOptions): ProxyRotation | undefined {
  if (proxies.length === 0) return undefined;
  const agents = proxies.map(
    (uri) =>
      new ProxyAgent({
        uri,
        connect: { timeout: opts.connectMs, ...(opts.lookup ? { lookup: opts.lookup } : {}) },
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
  );
  let i = 0;
  return {
    next() {
      const index = i++ % agents.length;
      return { fetch: undiciFetch as unknown as typeof fetch, dispatcher: agents[index], proxy: redactProxy(proxies[index]!) };
    },
    close: async () => {
      await Promise.allSettled(agents.map((a) => a.close()));
    },
  };
}

function redactProxy(uri: string): string {
  const u = new URL(uri);
  return `${u.protocol}//${u.host}`;
}
