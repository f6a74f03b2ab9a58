/**
 * Recorded workflow histories, the determinism guard of every pipeline: a history recorded from a real
 * run (on a test's private Temporal server) must replay against the current workflow code, or a change
 * would break the runs in flight when it is deployed. The tests that run a pipeline's workflows record
 * them under `tests/<pipeline>/histories/` when RECORD_HISTORIES=1 (on purpose only, then review the
 * diff); `tests/<pipeline>/replay.test.ts` replays what is committed there.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './services';

type History = temporal.api.history.v1.IHistory;

export const recordingHistories = process.env.RECORD_HISTORIES === '1';

function workflowTypeOf(history: History): string {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
}

/**
 * With RECORD_HISTORIES=1, writes the history of a closed run, and of every child workflow it started
 * (recursively: a daily run's stream windows, a backfill's months), as `<workflowType>-<name>.json`; a
 * child's name gets the end of its workflow id (`consultations`, `month-2026-01`), so the file names stay
 * the same from one recording to the next (`children: false` leaves them out). Does nothing otherwise.
 */
export async function recordHistories(client: Client, historiesDir: URL, name: string, workflowId: string, runId?: string, options = { children: true }): Promise<void> {
  if (!recordingHistories) return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  writeFileSync(
    new URL(`${workflowTypeOf(history)}-${name}.json`, historiesDir),
    // Temporal's own JSON form (as `temporal workflow show --output json` writes it).
    `${JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) as unknown }, null, 1)}\n`,
  );
  for (const event of options.children ? (history.events ?? []) : []) {
    const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (!child?.workflowId) continue;
    const tail = child.workflowId.slice(child.workflowId.lastIndexOf('/') + 1);
    await recordHistories(client, historiesDir, `${name}-${tail}`, child.workflowId, child.runId ?? undefined);
  }
}

/**
 * Replays every committed history of `historiesDir` against the current workflow bundle. Returns the
 * workflow types replayed, and the replays that failed (a nondeterminism names the command that moved).
 */
export async function replayCommittedHistories(historiesDir: URL): Promise<{ types: Set<string>; failures: string[] }> {
  const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));
  const types = new Set<string>();
  const recorded = files.map((file) => {
    const { workflowId, history: json } = JSON.parse(readFileSync(new URL(file, historiesDir), 'utf8')) as { workflowId: string; history: unknown };
    const history = historyFromJSON(json);
    types.add(workflowTypeOf(history));
    return { file, workflowId, history };
  });
  const failures: string[] = [];
  const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, recorded);
  for await (const result of results) {
    const files = recorded.filter((r) => r.workflowId === result.workflowId).map((r) => r.file);
    if (result.error) failures.push(`${files.join(' or ')} (${result.workflowId}): ${result.error.message}`);
  }
  return { types, failures };
}
