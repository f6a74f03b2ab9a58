/**
 * Determinism guard of the pmmp workflows: the committed histories under ./histories/, recorded from real
 * runs, must replay against the current workflow code, and every pmmp workflow type of the catalog has one.
 * Regenerate them on purpose only (then review the diff): the tests that run those workflows record them
 * (the daily run with its stream windows and notice documents, the backfill over two runs with its months,
 * the reparse of pages, a notice batch and the reparse of notices):
 *   RECORD_HISTORIES=1 npm test -- tests/pmmp/{daily,backfill,notices}.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKFLOW_TYPES } from '../../workflows/catalog';
import { replayCommittedHistories } from '../support/histories';

test('every pmmp workflow type has a recorded history, and every recorded history replays against the current code', async () => {
  const { types, failures } = await replayCommittedHistories(new URL('./histories/', import.meta.url));
  assert.deepEqual(failures, []);
  assert.deepEqual(WORKFLOW_TYPES.filter((t) => t.startsWith('pmmp') && !types.has(t)), [], 'workflow types without a recorded history');
});
