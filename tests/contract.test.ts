/**
 * The contracts at the boundary: workflows started the way an operator would (the `temporal` CLI or the
 * Web UI: a raw start by type name with JSON-like input nothing checked) fail at once, for good, naming
 * the field; clients refuse the same inputs before starting anything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { RunControl, RunInputError } from '../control/runs';
import { contractOf, CONTRACTS } from '../workflows/catalog';
import { PIPELINES } from '../workflows/contracts';
import { pricesDailyContract } from '../workflows/prices/contract';
import { createPricesWorld, type PricesWorld } from './prices/harness';
import { workflowBundle } from './support/services';

let world: PricesWorld;

before(async () => {
  world = await createPricesWorld();
});
after(async () => {
  await world?.close();
});

/** A worker with the workflows only: what these runs do before their first activity is all that is tested. */
async function withWorkflowsOnly<T>(fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({ connection: world.temporal.nativeConnection, taskQueue: world.taskQueue, workflowBundle: await workflowBundle(), activities: {} });
  return worker.runUntil(fn);
}

async function failureOf(workflowType: string, arg: unknown): Promise<ApplicationFailure> {
  const workflowId = `operator-${workflowType}-${Math.random().toString(36).slice(2)}`;
  const handle = await world.temporal.client.workflow.start(workflowType, { taskQueue: world.taskQueue, workflowId, args: [arg] });
  const err = await handle.result().then(
    () => assert.fail(`${workflowType} ${JSON.stringify(arg)} succeeded`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, `cause: ${String(err.cause)}`);
  // One workflow task: parsed and failed at once, no activity scheduled, nothing retried.
  const history = await handle.fetchHistory();
  assert.ok(!history.events!.some((e) => e.activityTaskScheduledEventAttributes), 'no activity was scheduled');
  return err.cause;
}

describe('inputs are checked at the workflow boundary', () => {
  const cases: [string, unknown, RegExp][] = [
    ['pricesDaily', { date: '2026-11-20', assets: 'USD' }, /assets: .*array/i],
    ['leadsJob', {}, /jobId: /],
    ['pricesArchive', { endDate: '2026-11-20', days: -5 }, /days: must be at least 1 day/],
    ['pricesDaily', 'hello', /\(input\): .*object/i],
    ['pmmpBackfill', { from: '2026-13', to: '2026-01' }, /from: must be a month YYYY-MM/],
    ['pmmpDaily', { day: '2026-02-30' }, /day: is not a day of the calendar/],
    ['pmmpBackfill', { from: '2026-03', to: '2026-01' }, /to: must not be before from/],
    ['consolidationIngest', { source: '../etc' }, /source: must be a declared source code/],
    ['consolidationApply', { batchSize: 0 }, /batchSize: must be at least 1/],
  ];
  for (const [type, arg, field] of cases) {
    test(`${type} ${JSON.stringify(arg)} fails at once, non-retryably, naming the field`, async () => {
      const failure = await withWorkflowsOnly(() => failureOf(type, arg));
      assert.equal(failure.type, 'InvalidInputError');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, field);
      assert.match(failure.message, new RegExp(`^${type} input refused`));
      const [details] = failure.details as [{ outcome: string; issues: { field: string; problem: string }[] }];
      assert.equal(details.outcome, 'config_error');
      assert.ok(details.issues.length > 0);
    });
  }

  test('every workflow of the task queue but the engine probe and the Schedules\' trigger has a contract in the catalog', async () => {
    const exported = Object.keys(await import('../workflows/index')).filter((name) => !['browserProbe', 'scheduledRun'].includes(name));
    assert.deepEqual(exported.filter((name) => !contractOf(name)), []);
    assert.deepEqual([...new Set(Object.values(CONTRACTS).map((c) => c.pipeline))].sort(), [...PIPELINES].sort());
  });

  test('clients refuse the same inputs before starting anything', () => {
    const control = new RunControl(world.temporal.client, world.taskQueue);
    assert.throws(() => control.plan(pricesDailyContract, { date: '2026-02-30' }), (e: unknown) => e instanceof RunInputError && e.issues[0]!.field === 'date');
  });
});
