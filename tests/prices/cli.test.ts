/**
 * `moisson` as a user runs it: a real process against the test Temporal server, with a worker of the
 * test world serving the task queue. Exit codes 0/1/2/3 and idempotent schedules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applySchedules, SCHEDULES } from '../../control/schedules';
import { createPricesWorld, type PricesWorld } from './harness';
import { runMoisson, type CliResult } from '../support/cli';

let world: PricesWorld;

before(async () => {
  world = await createPricesWorld();
});
after(async () => {
  await world?.close();
});

function moisson(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runMoisson(args, { TEMPORAL_ADDRESS: world.temporal.address, MOISSON_TASK_QUEUE: world.taskQueue, ...env });
}

describe('moisson prices', () => {
  test('run --sync exits 0 on success and prints every asset', async () => {
    world.today = '2026-06-01';
    const res = await world.withWorker(() => moisson(['prices', 'run', '--sync', '--date', world.today]));
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /outcome: success/);
    assert.match(res.stdout, /XAU\s+saved\s+metalpriceapi/);
    assert.match(res.stdout, /verify: ok/);
  });

  test('run --sync exits 1 on a partial run', async () => {
    world.today = '2026-06-02';
    world.replica.setFault('metalpriceapi', { kind: 'status', status: 500 });
    try {
      const res = await world.withWorker(() => moisson(['prices', 'run', '--sync', '--date', world.today]));
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stdout, /outcome: partial/);
    } finally {
      world.replica.clearFaults();
    }
  });

  test('run --sync exits 2 when every source fails', async () => {
    world.today = '2026-06-03';
    for (const s of ['erapi', 'fawaz', 'coingecko', 'metalpriceapi'] as const) world.replica.setFault(s, { kind: 'status', status: 503 });
    try {
      const res = await world.withWorker(() => moisson(['prices', 'run', '--sync', '--date', world.today]));
      assert.equal(res.code, 2, res.stdout + res.stderr);
    } finally {
      world.replica.clearFaults();
    }
  });

  test('run --sync exits 3 on a configuration error, and on a bad invocation', async () => {
    world.today = '2026-06-04';
    const res = await world.withWorker(() => moisson(['prices', 'run', '--sync', '--date', world.today]), { PRICES_CRYPTO_SOURCES: 'coinmarketcap' });
    assert.equal(res.code, 3, res.stdout + res.stderr);
    assert.match(res.stdout, /PRICES_CRYPTO_SOURCES: unknown source 'coinmarketcap'/);
    const bad = await moisson(['prices', 'run', '--date', '2026-02-30x']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /--date <YYYY-MM-DD>' argument '2026-02-30x' is invalid\. expected a day of the calendar as YYYY-MM-DD/);
    const notADay = await moisson(['prices', 'run', '--date', '2026-02-30']);
    assert.equal(notADay.code, 3, 'refused at once, before anything starts');
    assert.match(notADay.stderr, /--date <YYYY-MM-DD>' argument '2026-02-30' is invalid\. .*is not a day of the calendar/);
  });

  test('archive --verify-only exits 2 when the archive differs from PostgreSQL', async () => {
    await world.archive.db.collection('prices').updateOne({ asset_code: 'USD', date: '2026-06-01' }, { $set: { source: 'tampered' } });
    const res = await world.withWorker(() => moisson(['prices', 'archive', '--verify-only', '--date', '2026-06-04']));
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stdout, /USD 2026-06-01: source: archive has "tampered"/);
    const fixed = await world.withWorker(() => moisson(['prices', 'archive', '--verify', '--date', '2026-06-04']));
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  });

  test('an unreachable Temporal is a failure (2) that says where it looked', async () => {
    const res = await moisson(['prices', 'run'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});

describe('schedules apply', () => {
  test('creates the schedules once, then finds nothing to change', async () => {
    const first = await applySchedules(world.temporal.client, world.taskQueue);
    assert.deepEqual(first, SCHEDULES.map((s) => ({ scheduleId: s.scheduleId, change: 'created' })));
    const second = await applySchedules(world.temporal.client, world.taskQueue);
    assert.deepEqual(second, SCHEDULES.map((s) => ({ scheduleId: s.scheduleId, change: 'unchanged' })));
    const desc = await world.temporal.client.schedule.getHandle('prices-daily').describe();
    assert.equal(desc.spec.timezone, 'Africa/Nouakchott');
    assert.equal(desc.policies.overlap, 'SKIP');
    assert.equal(desc.policies.catchupWindow, 86_400_000);
    assert.equal(desc.action.type === 'startWorkflow' && desc.action.workflowType, 'scheduledRun');
    assert.equal(desc.action.type === 'startWorkflow' && desc.action.workflowExecutionTimeout, 6 * 3_600_000, 'a scheduled run ends by its bound');
  });

  test('a schedule changed by hand is put back', async () => {
    const handle = world.temporal.client.schedule.getHandle('prices-daily');
    await handle.update((prev) => ({ ...prev, spec: { calendars: [{ hour: 3, minute: 15 }], timezone: 'UTC' } }));
    const res = await moisson(['schedules', 'apply']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /prices-daily: updated/);
    assert.equal((await handle.describe()).spec.timezone, 'Africa/Nouakchott');
  });
});
