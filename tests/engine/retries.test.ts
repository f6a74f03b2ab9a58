/**
 * Retries are visible on the metrics endpoint: an attempt after the first is counted with its outcome,
 * a first attempt is not; activities in flight are counted while they run.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { retryMetrics } from '../../workers/retries';
import { setupTelemetry } from '../../workers/telemetry';

const telemetry = setupTelemetry({ serviceName: 'moisson-retries-test' });
after(() => telemetry.shutdown());

function run(attempt: number, fn: () => Promise<string>): Promise<string> {
  const env = new MockActivityEnvironment({ attempt, activityType: 'fetchSomething', workflowType: 'someWorkflow' }, { interceptors: [retryMetrics] });
  return env.run(fn);
}

function retried(text: string, outcome: string, attempt: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('moisson_activity_retried') && l.includes(`outcome="${outcome}"`) && l.includes(`attempt="${attempt}"`) && l.includes('activity="fetchSomething"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('an activity that succeeded on a later attempt is counted; a first attempt is not', async () => {
  assert.equal(await run(1, async () => 'first'), 'first');
  assert.equal(retried(await telemetry.scrape(), 'succeeded', '1'), 0);
  assert.equal(await run(3, async () => 'third'), 'third');
  await assert.rejects(run(2, () => Promise.reject(new Error('still down'))), /still down/);
  const text = await telemetry.scrape();
  assert.equal(retried(text, 'succeeded', '3'), 1, text);
  assert.equal(retried(text, 'failed', '2'), 1, text);
  assert.match(text, /workflow="someWorkflow"/);
});

function running(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('moisson_activities_running') && l.includes('activity_type="fetchSomething"'));
  return line ? Number(line.split(' ').pop()) : undefined;
}

test('an activity in flight is counted as running, and no longer once it ended either way', async () => {
  let seenWhileRunning: number | undefined;
  await run(1, async () => {
    seenWhileRunning = running(await telemetry.scrape());
    return 'done';
  });
  await assert.rejects(run(1, () => Promise.reject(new Error('down'))), /down/);
  assert.equal(seenWhileRunning, 1);
  assert.equal(running(await telemetry.scrape()), 0);
});
