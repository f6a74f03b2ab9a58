/** The dependency checks /health and /api/v1/health/dependencies share: each bounded in time, a failure is a state, not an exception. */
import type { HealthCheck } from '../context';

export const CHECK_TIMEOUT_MS = 3_000;

export interface DependencyState {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs `work` within the timeout and says how it went and how long it took. */
export async function timed<T>(name: string, work: () => Promise<T>, ms = CHECK_TIMEOUT_MS): Promise<DependencyState & { value?: T }> {
  const started = performance.now();
  try {
    const value = await withTimeout(work(), ms, `${name} did not answer within ${ms / 1000} s`);
    return { status: 'up', latency_ms: Math.round(performance.now() - started), value };
  } catch (err) {
    return { status: 'down', latency_ms: Math.round(performance.now() - started), error: (err as Error).message };
  }
}

/** Every check at once: `[name, state]` in the order given. */
export async function checkDependencies(health: Record<string, HealthCheck>): Promise<[string, DependencyState][]> {
  return Promise.all(
    Object.entries(health).map(async ([name, check]): Promise<[string, DependencyState]> => {
      const { value: _value, ...state } = await timed(name, check);
      return [name, state];
    }),
  );
}
