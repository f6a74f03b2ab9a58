/**
 * What a waiting command shows: the run's progress (its contract's query, read as a meter) until it ends.
 * On a terminal, a live bar with the counts and an ETA where the total is known (cli-progress); in a log
 * or a pipe, one line each time the progress changes, so a long backfill or pmmp stream is never silent.
 * Progress goes to stderr, results to stdout.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { RunControl } from '../../control/runs';
import { contractOf } from '../../workflows/catalog';
import { meterOf, type RunMeter } from '../../workflows/contracts';

const POLL_MS = 1_000;

export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `extracting 3/6 streams (50%) · inserted 12, rejected 0` */
export function formatMeter(m: RunMeter): string {
  const parts: string[] = [];
  if (m.phase) parts.push(m.phase);
  if (m.done !== undefined) {
    const of = m.total !== undefined ? `/${m.total}` : '';
    const pct = m.total ? ` (${Math.floor((100 * m.done) / m.total)}%)` : '';
    parts.push(`${m.done}${of}${m.unit ? ` ${m.unit}` : ''}${pct}`);
  }
  const counts = formatCounts(m.counts);
  return [parts.join(' '), counts].filter(Boolean).join(' · ');
}

/** Estimated time left from the pace so far (undefined when the total is unknown or nothing is done yet). */
export function etaMs(m: RunMeter, elapsedMs: number, doneAtStart = 0): number | undefined {
  if (m.total === undefined || m.done === undefined) return undefined;
  const doneHere = m.done - doneAtStart;
  if (doneHere <= 0 || m.done >= m.total) return undefined;
  return ((m.total - m.done) * elapsedMs) / doneHere;
}

interface Display {
  update(m: RunMeter): void;
  stop(): void;
}

function lineDisplay(label: string): Display {
  let last = '';
  const started = Date.now();
  let doneAtStart: number | undefined;
  return {
    update(m) {
      doneAtStart ??= m.done ?? 0;
      const text = formatMeter(m);
      if (text === last) return;
      last = text;
      const eta = etaMs(m, Date.now() - started, doneAtStart);
      process.stderr.write(`${label}: ${text}${eta !== undefined ? ` · ETA ${formatSeconds(eta)}` : ''}\n`);
    },
    stop() {},
  };
}

function barDisplay(label: string): Display {
  const bar = new SingleBar(
    {
      format: `${label} {bar} {value}/{total} {unit} · ETA {eta_formatted} · {phase} {counts}`,
      etaBuffer: 20,
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  let started = false;
  let line = '';
  return {
    update(m) {
      if (m.total !== undefined && m.done !== undefined) {
        const payload = { phase: m.phase ?? '', counts: formatCounts(m.counts), unit: m.unit ?? '' };
        if (!started) {
          bar.start(m.total, m.done, payload);
          started = true;
        } else {
          bar.setTotal(m.total);
          bar.update(m.done, payload);
        }
        return;
      }
      // No total: no bar and no ETA, the phase and the counts on one line kept up to date.
      const text = `${label}: ${formatMeter(m)}`;
      if (text === line) return;
      line = text;
      process.stderr.write(`\r\x1b[2K${text}`);
    },
    stop() {
      if (started) bar.stop();
      else if (line) process.stderr.write('\n');
    },
  };
}

/**
 * Shows the progress of `workflowId` until `until` settles, and returns what it settled with. The
 * progress is read through the contract of the run's type; a run whose type has none shows nothing.
 */
export async function showProgressUntil<T>(control: RunControl, workflowId: string, workflowType: string, until: Promise<T>): Promise<T> {
  const c = contractOf(workflowType);
  if (!c?.progress) return until;
  const display = process.stderr.isTTY ? barDisplay(workflowId) : lineDisplay(workflowId);
  let settled = false;
  const finished = until.finally(() => {
    settled = true;
  });
  const poll = (async () => {
    while (!settled) {
      const progress = await control.progress(workflowId, workflowType);
      if (settled) break;
      if (progress !== null) display.update(meterOf(c, progress));
      await Promise.race([finished.catch(() => undefined), new Promise((r) => setTimeout(r, POLL_MS))]);
    }
  })();
  try {
    return await finished;
  } finally {
    await poll.catch(() => undefined);
    display.stop();
  }
}
