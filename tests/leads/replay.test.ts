/**
 * Determinism guard of the leads workflows: the committed histories under ./histories/, recorded from real
 * runs, must replay against the current workflow code, and every leads workflow type of the catalog has one.
 * Regenerate them on purpose only (then review the diff): the tests that run those workflows record them
 * (leadsJob paused, resumed and continued as new, leadsValidate, leadsSyncMailwizz, and leadsWhois in the
 * tracing test):
 *   RECORD_HISTORIES=1 npm test -- tests/leads/{long-job,validate-sync}.test.ts tests/ops/tracing.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKFLOW_TYPES } from '../../workflows/catalog';
import { replayCommittedHistories } from '../support/histories';

test('every leads workflow type has a recorded history, and every recorded history replays against the current code', async () => {
  const { types, failures } = await replayCommittedHistories(new URL('./histories/', import.meta.url));
  assert.deepEqual(failures, []);
  assert.deepEqual(WORKFLOW_TYPES.filter((t) => t.startsWith('leads') && !types.has(t)), [], 'workflow types without a recorded history');
});
