/**
 * One log stream: what the Temporal runtime logs (the SDK, our workflows and activities) comes out as
 * pino JSON lines, and an activity's line carries the workflow id, run id and activity type.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pricesDaily } from '../../workflows/prices';
import { createLogger, temporalLogging } from '../../workers/logging';
import { createPricesWorld, type PricesWorld } from '../prices/harness';
import { installTestRuntime } from '../support/services';

const lines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let world: PricesWorld;
before(async () => {
  installTestRuntime(temporalLogging(createLogger('moisson-worker', { level: 'debug', destination: capture })));
  world = await createPricesWorld();
});
after(async () => {
  await world?.close();
});

test("the runtime's log lines are pino JSON, and an activity's line names its workflow, run and activity", async () => {
  world.today = '2026-05-04';
  const workflowId = `logging-${Date.now()}`;
  const handle = await world.withWorker(() =>
    world.temporal.client.workflow.start(pricesDaily, { taskQueue: world.taskQueue, workflowId, args: [{ date: world.today, archive: false }] }).then(async (h) => {
      await h.result();
      return h;
    }),
  );
  const activityLine = lines.find((l) => l.activityType === 'fetchPriceQuotes' && l.workflowId === workflowId);
  assert.ok(activityLine, `no line from the fetchPriceQuotes activity of ${workflowId} among ${lines.length}`);
  assert.equal(activityLine.workflowRunId, handle.firstExecutionRunId);
  assert.equal(activityLine.name, 'moisson-worker');
  assert.equal(activityLine.source, 'temporal');
  assert.equal(typeof activityLine.msg, 'string');
  assert.equal(typeof activityLine.level, 'number');
  const workflowLine = lines.find((l) => l.workflowId === workflowId && l.workflowType === 'pricesDaily' && l.activityType === undefined);
  assert.ok(workflowLine, 'the workflow logs through the same stream');
});
