/**
 * Determinism guard of the apisync workflows: the committed histories under ./histories/, recorded from real
 * runs, must replay against the current workflow code, and every apisync workflow type of the catalog has one.
 * Regenerate them on purpose only (then review the diff): the tests that run those workflows record them
 * (a full run, then an incremental one):
 *   RECORD_HISTORIES=1 npm test -- tests/apisync/sync.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKFLOW_TYPES } from '../../workflows/catalog';
import { replayCommittedHistories } from '../support/histories';

test('every apisync workflow type has a recorded history, and every recorded history replays against the current code', async () => {
  const { types, failures } = await replayCommittedHistories(new URL('./histories/', import.meta.url));
  assert.deepEqual(failures, []);
  assert.deepEqual(WORKFLOW_TYPES.filter((t) => t.startsWith('apisync') && !types.has(t)), [], 'workflow types without a recorded history');
});
