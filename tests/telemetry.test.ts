/**
 * The worker's OpenTelemetry wiring, on a real run: spans for the workflow and its activities (through
 * the SDK's interceptors), and our counters and the process's own metrics on the Prometheus endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Server } from 'node:http';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { InvalidInputError, NotAvailableError, RateLimitedError, ResponseShapeError, TransientError } from '../activities/engine/errors';
import { REJECTION_REASONS, rejectionReasonOf, type RejectionReason } from '../activities/engine/runs';
import { NotAPdfError, ToolTimeoutError } from '../activities/pmmp/awards/errors';
import { PageShapeError } from '../activities/pmmp/parse/errors';
import { pricesDaily } from '../workflows/prices';
import { setupTelemetry, startMetricsServer, type Telemetry } from '../workers/telemetry';
import { createPricesWorld, type PricesWorld } from './prices/harness';
import { assertProcessMetrics, seriesValue } from './support/metrics';

let world: PricesWorld;
let telemetry: Telemetry;
let server: Server;
const spans = new InMemorySpanExporter();

before(async () => {
  telemetry = setupTelemetry({ serviceName: 'moisson-test', spanExporter: spans });
  server = await startMetricsServer(telemetry, 0);
  world = await createPricesWorld();
});
after(async () => {
  server?.close();
  await world?.close();
  await telemetry?.shutdown();
});

test('a run is traced from workflow to activities and counted on /metrics', async () => {
  world.today = '2026-05-04';
  const result = await world.withWorker(
    () => world.temporal.client.workflow.execute(pricesDaily, { taskQueue: world.taskQueue, workflowId: `otel-${Date.now()}`, args: [{ date: world.today, archive: false }] }),
    {},
    telemetry.plugins,
  );
  assert.equal(result.outcome, 'success');
  await telemetry.spanProcessor?.forceFlush();
  const names = spans.getFinishedSpans().map((s) => s.name);
  assert.ok(names.includes('RunWorkflow:pricesDaily'), `workflow span missing in ${names.join(', ')}`);
  assert.ok(names.includes('RunActivity:fetchPriceQuotes'), `activity span missing in ${names.join(', ')}`);
  const workflowSpan = spans.getFinishedSpans().find((s) => s.name === 'RunWorkflow:pricesDaily')!;
  const activitySpan = spans.getFinishedSpans().find((s) => s.name === 'RunActivity:fetchPriceQuotes')!;
  assert.equal(activitySpan.spanContext().traceId, workflowSpan.spanContext().traceId, 'activity spans belong to the workflow trace');

  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const body = await (await fetch(`http://127.0.0.1:${address.port}/metrics`)).text();
  assert.match(body, /moisson_items_total\{pipeline="prices",kind="quote",result="saved"\} 7/);
  assert.match(body, /moisson_http_requests_total\{host="127\.0\.0\.1:\d+",status="200"\} \d+/);
  assert.match(body, /moisson_run_duration_seconds_count\{pipeline="prices",outcome="success"\} 1/);
  assertProcessMetrics(body);
});

test('rejected items are counted by a closed reason code, not by their free-text reason', async () => {
  world.today = '2026-05-05';
  world.replica.setFault('coingecko', { kind: 'negative', asset: 'BTC' });
  world.replica.setFault('fawaz', { kind: 'status', status: 500 });
  try {
    const result = await world.withWorker(
      () => world.temporal.client.workflow.execute(pricesDaily, { taskQueue: world.taskQueue, workflowId: `otel-rejected-${Date.now()}`, args: [{ date: world.today, archive: false }] }),
      {},
      telemetry.plugins,
    );
    assert.equal(result.outcome, 'partial');
  } finally {
    world.replica.clearFaults();
  }
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const body = await (await fetch(`http://127.0.0.1:${address.port}/metrics`)).text();
  assert.equal(seriesValue(body, 'moisson_items_total', { pipeline: 'prices', kind: 'quote', result: 'rejected', reason: 'invalid_field' }), 1, body);
  const rejectedLines = body.split('\n').filter((l) => l.startsWith('moisson_items_total{') && l.includes('result="rejected"'));
  assert.ok(rejectedLines.length > 0 && rejectedLines.every((l) => /reason="[a-z_]+"/.test(l)), rejectedLines.join('\n'));
});

test("a rejected document's reason code follows its error's type in the vocabulary", () => {
  const cases: [unknown, RejectionReason][] = [
    [new PageShapeError('detail', ['#titre']), 'shape_changed'],
    [new ResponseShapeError('the portal changed'), 'shape_changed'],
    [new TransientError('server', 'answered 503'), 'fetch_failed'],
    [new RateLimitedError('429', 1000), 'fetch_failed'],
    [new NotAvailableError('404'), 'fetch_failed'],
    [new ToolTimeoutError('pdftotext', 1000), 'unreadable_document'],
    [new NotAPdfError('html', '<html>'), 'unreadable_document'],
    [new InvalidInputError('a bad value'), 'invalid_field'],
    [new Error('anything else a parser throws'), 'unreadable_document'],
  ];
  for (const [err, code] of cases) {
    assert.equal(rejectionReasonOf(err), code, (err as Error).name);
    assert.ok(REJECTION_REASONS.includes(code));
  }
});
