/**
 * Activities whose module is imported on their first call, not at worker start: an idle worker need not
 * hold a pipeline it may never run (consolidation alone is ~25 MB of RSS once imported). The worker
 * registers the names at start (Temporal needs them then); the first call of any of them imports the
 * module and binds it once, later calls go straight to the bound functions.
 */

type AnyActivity = (...args: never[]) => Promise<unknown>;

/**
 * `names` must be every activity `load` binds: the compiler checks it against the bound object's type
 * (`AllNames`), and the first call checks it again against what was really bound, so a renamed or added
 * activity cannot silently go unregistered.
 */
export function lazyActivities<T extends Record<string, AnyActivity>>(
  pipeline: string,
  names: readonly (keyof T & string)[],
  load: () => Promise<T>,
): T {
  let loaded: Promise<T> | undefined;
  const bound = () =>
    (loaded ??= load().then((activities) => {
      const missing = Object.keys(activities).filter((k) => !names.includes(k));
      const absent = names.filter((k) => typeof activities[k] !== 'function');
      if (missing.length > 0 || absent.length > 0) {
        throw new Error(
          `the ${pipeline} activities registered at start differ from the ones its module binds: ` +
            [missing.length ? `not registered: ${missing.join(', ')}` : '', absent.length ? `not bound: ${absent.join(', ')}` : ''].filter(Boolean).join('; '),
        );
      }
      return activities;
    })).catch((err: unknown) => {
      // A failed import is retried at the next call (the activity's own retry policy applies).
      loaded = undefined;
      throw err;
    });
  const out: Record<string, AnyActivity> = {};
  for (const name of names as readonly string[]) {
    // A named function: the SDK and stack traces show the activity's name.
    out[name] = {
      [name]: async (...args: never[]) => {
        const activities = await bound();
        return activities[name]!(...args);
      },
    }[name]!;
  }
  return out as T;
}

/**
 * Compile-time proof that `Names` lists every key of T: `const ok: Covers<T, typeof NAMES> = true` fails
 * to compile, naming what is missing, when an activity is added to a pipeline but not to its list.
 */
export type Covers<T, Names extends readonly string[]> = [Exclude<keyof T & string, Names[number]>] extends [never] ? true : { missing: Exclude<keyof T & string, Names[number]> };
