/**
 * Determinism guard: recorded histories of pricesDaily and pricesArchive must replay against the
 * current workflow code. A change that would break running workflows fails here, not in production.
 * `RECORD_HISTORIES=1 npm test -- tests/prices/replay.test.ts` records them anew (on purpose only).
 * scheduledRun-*.json, the trigger a Schedule starts, is recorded by tests/run-identity.test.ts the same way.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { pricesDaily } from '../../workflows/prices';
import { workflowBundle } from '../support/services';
import { createPricesWorld, type PricesWorld } from './harness';

const historiesDir = new URL('./histories/', import.meta.url);
let world: PricesWorld;

before(async () => {
  world = await createPricesWorld();
});
after(async () => {
  await world?.close();
});

type Recorded = { workflowId: string; history: Awaited<ReturnType<ReturnType<PricesWorld['temporal']['client']['workflow']['getHandle']>['fetchHistory']>> };

async function record(name: string, date: string, prepare: () => void): Promise<{ daily: Recorded; archive: Recorded }> {
  world.today = date;
  prepare();
  try {
    const workflowId = `replay-${name}-${Date.now()}`;
    await world.withWorker(() => world.temporal.client.workflow.execute(pricesDaily, { taskQueue: world.taskQueue, workflowId, args: [{ date }] }));
    const fetch = async (id: string): Promise<Recorded> => ({ workflowId: id, history: await world.temporal.client.workflow.getHandle(id).fetchHistory() });
    return { daily: await fetch(workflowId), archive: await fetch(`${workflowId}-archive`) };
  } finally {
    world.replica.clearFaults();
  }
}

describe('replay', () => {
  test('a fresh run of each shape replays against the current code', async () => {
    const runs = {
      success: await record('success', '2026-04-01', () => {}),
      partial: await record('partial', '2026-04-02', () => world.replica.setFault('metalpriceapi', { kind: 'status', status: 500 })),
    };
    const bundle = await workflowBundle();
    for (const [name, recorded] of Object.entries(runs)) {
      for (const [kind, { workflowId, history }] of [['pricesDaily', recorded.daily], ['pricesArchive', recorded.archive]] as const) {
        await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
        if (process.env.RECORD_HISTORIES === '1') {
          // The history in Temporal's own JSON form (as `temporal workflow show --output json` writes it).
          const json = JSON.parse(historyToJSON(history)) as unknown;
          writeFileSync(new URL(`${kind}-${name}.json`, historiesDir), `${JSON.stringify({ workflowId, history: json }, null, 1)}\n`);
        }
      }
    }
  });

  test('the committed histories replay against the current code', async () => {
    const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 4, `expected recorded histories in ${historiesDir.pathname}`);
    const bundle = await workflowBundle();
    for (const file of files) {
      const { workflowId, history } = JSON.parse(readFileSync(new URL(file, historiesDir), 'utf8')) as { workflowId: string; history: unknown };
      await Worker.runReplayHistory({ workflowBundle: bundle }, historyFromJSON(history), workflowId);
    }
  });
});
