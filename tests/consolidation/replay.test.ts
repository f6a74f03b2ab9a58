/**
 * Determinism guard of the consolidation workflows: the committed histories under ./histories/, recorded
 * from real runs, must replay against the current workflow code, and every consolidation workflow type of
 * the catalog has one.
 * Regenerate them on purpose only (then review the diff): the tests that run those workflows record them
 * (ingest and apply, cluster, enrich and the SIRENE stock load, publish, stats, export and cleanup):
 *   RECORD_HISTORIES=1 npm test -- tests/consolidation/{ingest,cluster-workflow,enrich-workflow,publish}.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKFLOW_TYPES } from '../../workflows/catalog';
import { replayCommittedHistories } from '../support/histories';

test('every consolidation workflow type has a recorded history, and every recorded history replays against the current code', async () => {
  const { types, failures } = await replayCommittedHistories(new URL('./histories/', import.meta.url));
  assert.deepEqual(failures, []);
  assert.deepEqual(WORKFLOW_TYPES.filter((t) => t.startsWith('consolidation') && !types.has(t)), [], 'workflow types without a recorded history');
});
