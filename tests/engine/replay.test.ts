/**
 * Determinism guard of the engine's own workflow, browserProbe (what `moisson doctor` runs through the
 * browser queue), and of the whole task queue: every workflow the worker registers has a recorded
 * history under some tests/<area>/histories/ (each area's replay test replays its own). The probe's
 * histories are recorded on purpose only, from the real runs of tests/engine/browser.test.ts:
 *   RECORD_HISTORIES=1 npm test -- tests/engine/browser.test.ts
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { replayCommittedHistories } from '../support/histories';

test('browserProbe has recorded histories, and they replay against the current code', async () => {
  const { types, failures } = await replayCommittedHistories(new URL('./histories/', import.meta.url));
  assert.deepEqual(failures, []);
  assert.deepEqual([...types], ['browserProbe']);
});

test('every workflow the task queue runs has a recorded history', async () => {
  const testsDir = new URL('../', import.meta.url);
  const recorded = new Set<string>();
  for (const area of readdirSync(testsDir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const dir = new URL(`${area.name}/histories/`, testsDir);
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const file of files) {
      const { history } = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { history: { events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[] } };
      const type = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (type) recorded.add(type);
    }
  }
  const registered = Object.keys(await import('../../workflows/index'));
  assert.deepEqual(registered.filter((t) => !recorded.has(t)), [], 'workflow types without a recorded history');
});
