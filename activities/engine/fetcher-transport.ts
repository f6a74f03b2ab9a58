/**
 * The connection pool behind a fetcher. Node's global fetch takes its connect timeout from undici's
 * Agent (10 s by default, and 300 s limits on headers and body that would cut a long total timeout
 * short). `undici` is not a direct dependency, so the Agent class is taken from the global
 * dispatcher Node installs; where that is not available we fall back to the defaults.
 * With `undici` (the major Node bundles, 6.x for Node 20) as a dependency this becomes `new Agent(…)`.
 */

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

export function createTransport(opts: { connectMs: number }): Transport {
  const Agent = agentClass();
  if (!Agent) return { dispatcher: undefined, connectTimeoutApplied: false, close: async () => undefined };
  // Every request carries our own total timeout (an AbortSignal, with a clear message), which may be
  // longer than undici's 300 s: its header and body timers are switched off (0) so they never fire first.
  const dispatcher = new Agent({ connect: { timeout: opts.connectMs }, headersTimeout: 0, bodyTimeout: 0 });
  return { dispatcher, connectTimeoutApplied: true, close: () => dispatcher.close() };
}
