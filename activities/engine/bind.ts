/**
 * Activities are plain functions of `(deps, input)`: what they need is an argument, not a closure, so
 * each can be called and tested alone. The worker closes over the deps once, here, under the names the
 * workflows proxy (the activity types of their histories).
 */
import { activity } from './errors';

/** The activities of a map of `(deps, input)` functions, as a worker registers and a workflow proxies them. */
export type BoundActivities<F> = {
  // The parameters after `deps` as they are: an activity without input (or with a default) is called with none.
  [K in keyof F]: F[K] extends (deps: never, ...input: infer I) => Promise<infer R> ? (...input: I) => Promise<R> : never;
};

/** Each function of `fns` with `deps` given, under its key; errors leave in the shared vocabulary (see `activity`). */
export function bindActivities<D, F extends Record<string, (deps: D, input: never) => Promise<unknown>>>(deps: D, fns: F): BoundActivities<F> {
  const bound: Record<string, (input: never) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(fns)) bound[name] = activity((input: never) => fn(deps, input));
  return bound as BoundActivities<F>;
}
