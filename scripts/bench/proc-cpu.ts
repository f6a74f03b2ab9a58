/**
 * CPU time read from /proc, in a module of its own: the bench's threads (pmmp-parse-thread.ts) read their own
 * without loading support.ts's database and load-generator modules.
 */
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process (or `thread-self`: the calling thread) has used so far; `children`: its children that ended and were waited for. */
export function cpuSeconds(pid: number | 'self' | 'thread-self' | `${number}/task/${number}`, which: 'own' | 'children' = 'own'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14-17 of stat, in clock ticks (100 per second on Linux).
    const at = which === 'own' ? 11 : 13;
    return (Number(fields[at]) + Number(fields[at + 1])) / 100;
  } catch {
    return 0;
  }
}
