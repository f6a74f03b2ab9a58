/**
 * CPU time read from /proc, in a module of its own: the bench's threads (pmmp-parse-thread.ts) read their own
 * without loading support.ts's database and load-generator modules.
 */
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * CPU seconds each thread of this process has used so far, by thread id. Node names none of its threads
 * (the parse threads, V8's helpers that compile and mark, libuv's pool that runs zlib and file work all show
 * as `node`): a step's figures are told apart by size, see where they are reported.
 */
export function threadsCpuSeconds(): Map<number, number> {
  const out = new Map<number, number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const task of tasks) {
    const seconds = cpuSeconds(`${process.pid}/task/${Number(task)}`);
    if (seconds > 0) out.set(Number(task), seconds);
  }
  return out;
}
