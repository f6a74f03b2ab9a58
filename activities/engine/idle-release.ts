/**
 * A large CommonJS library (or what is built from it) held only while it is in use. Loaded on the first
 * call, it is let go after `quietMs` without one: the value is dropped and the package's modules leave the
 * loader's cache, so a worker that fell idle after a consolidation round or a leads validation does not
 * keep opening_hours' holiday tables or mailchecker's 55k domains (~10 MB of heap together) for the rest
 * of its life. The next call loads it again (a few tens of ms), as the first one did. What was let go is
 * garbage, not heap growth: the worker's idle collection asks `takeReleased` too (workers/idle-gc.ts).
 */
import { createRequire } from 'node:module';

type CjsModule = NodeJS.Module & { parent?: NodeJS.Module | null };

let releasedSinceAsked = 0;

/** How many libraries were let go since the last call (the idle collection's cue: there is garbage to collect). */
export function takeReleased(): number {
  const n = releasedSinceAsked;
  releasedSinceAsked = 0;
  return n;
}

export interface IdleReleased<T> {
  /** The value, loaded if it is not held; each call starts the quiet period again. */
  get(): T;
  /** Whether it is held now (tests). */
  readonly held: boolean;
  /** Lets it go now (tests, and a process that stops). */
  release(): void;
}

/**
 * `packageName`'s modules are the ones removed from the cache: those under its own directory, not the
 * packages it requires (other modules may share them).
 */
export function idleReleased<T>(packageName: string, build: (exports: unknown) => T, opts: { quietMs?: number } = {}): IdleReleased<T> {
  const requireCjs = createRequire(import.meta.url);
  const quietMs = opts.quietMs ?? 30_000;
  let value: T | undefined;
  let held = false;
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!held) return;
    value = undefined;
    held = false;
    forgetPackage(requireCjs, packageName);
    releasedSinceAsked++;
  };
  return {
    get() {
      if (!held) {
        value = build(requireCjs(packageName));
        held = true;
      }
      clearTimeout(timer);
      timer = setTimeout(release, quietMs);
      // A released library must not keep the process up.
      timer.unref();
      return value as T;
    },
    get held() {
      return held;
    },
    release,
  };
}

/** Removes the package's modules from the CommonJS cache and from the children lists that hold them. */
function forgetPackage(requireCjs: NodeJS.Require, packageName: string): void {
  const entry = requireCjs.resolve(packageName);
  const marker = `/node_modules/${packageName}/`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) return;
  const root = entry.slice(0, at + marker.length);
  const cache = requireCjs.cache as Record<string, CjsModule | undefined>;
  const gone = new Set<NodeJS.Module>();
  for (const [path, mod] of Object.entries(cache)) {
    if (mod && path.startsWith(root)) {
      gone.add(mod);
      delete cache[path];
    }
  }
  // The requiring module (createRequire's, or another package's) lists what it loaded: that list would keep them.
  for (const mod of Object.values(cache)) {
    if (mod?.children.some((c) => gone.has(c))) mod.children = mod.children.filter((c) => !gone.has(c));
  }
  for (const mod of gone) {
    const parent = (mod as CjsModule).parent;
    if (parent && !gone.has(parent)) parent.children = parent.children.filter((c) => !gone.has(c));
  }
}
