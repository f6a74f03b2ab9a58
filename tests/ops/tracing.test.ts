/**
 * Trace spans below the activity, read from an in-memory exporter: the engine fetcher's HTTP requests
 * and the PostgreSQL statements of a real leads whois run (real Temporal, the RDAP replica, the test
 * database) are children of the activity's span; a failed statement is marked failed; a transaction's
 * statements are its children; parameters never reach an attribute.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { sql as drizzleSql } from 'drizzle-orm';
import { setupTelemetry, type Telemetry } from '../../workers/telemetry';
import type { LeadsWhoisResult } from '../../workflows/leads';
import { createLeadsWorld, type LeadsWorld } from '../leads/harness';
import { recordHistories } from '../support/histories';

let world: LeadsWorld;
let telemetry: Telemetry;
const spans = new InMemorySpanExporter();

before(async () => {
  telemetry = setupTelemetry({ serviceName: 'moisson-test', spanExporter: spans });
  world = await createLeadsWorld();
});
after(async () => {
  await world?.close();
  await telemetry?.shutdown();
});

const finished = () => spans.getFinishedSpans();
const childrenOf = (parent: ReadableSpan) => finished().filter((s) => s.parentSpanId === parent.spanContext().spanId);

test("an activity's HTTP requests and SQL statements are spans under the activity's span", async () => {
  const domain = world.replica.businesses.find((b) => !b.domain.startsWith('ancien-'))!.domain;
  const workflowId = `tracing-${Date.now()}`;
  const result = (await world.withWorker(
    () => world.temporal.client.workflow.execute('leadsWhois', { taskQueue: world.taskQueue, workflowId, args: [{ domain }] }),
    { plugins: telemetry.plugins },
  )) as LeadsWhoisResult;
  assert.equal(result.registrar, 'OVH SAS');
  await recordHistories(world.temporal.client, new URL('../leads/histories/', import.meta.url), 'domain', workflowId);
  await telemetry.spanProcessor?.forceFlush();

  const activity = finished().find((s) => s.name === 'RunActivity:lookupDomainWhois');
  assert.ok(activity, `no activity span among ${finished().map((s) => s.name).join(', ')}`);
  const children = childrenOf(activity);
  const http = children.find((s) => s.attributes['http.request.method'] === 'GET' && String(s.attributes['url.full']).includes(`/rdap/domain/${domain}`));
  assert.ok(http, `no HTTP span under the activity: ${children.map((s) => `${s.name} ${JSON.stringify(s.attributes)}`).join('; ')}`);
  assert.equal(http.name, 'GET');
  assert.equal(http.attributes['http.response.status_code'], 200);
  assert.equal(http.attributes['server.address'], '127.0.0.1');
  assert.equal(http.status.code, SpanStatusCode.UNSET);

  const statements = children.filter((s) => s.attributes['db.system.name'] === 'postgresql');
  const read = statements.find((s) => s.name === 'SELECT' && String(s.attributes['db.query.text']).includes('leads.whois_cache'));
  const write = statements.find((s) => s.name === 'INSERT' && String(s.attributes['db.query.text']).includes('leads.whois_cache'));
  assert.ok(read, `no SELECT span on leads.whois_cache: ${statements.map((s) => s.attributes['db.query.text']).join(' | ')}`);
  assert.ok(write, 'no INSERT span on leads.whois_cache');
  assert.match(String(read.attributes['db.query.text']), /domain = \$1/, 'placeholders, not values');
  assert.ok(!statements.some((s) => JSON.stringify(s.attributes).includes(domain)), 'no parameter (the domain) in any statement attribute');
  // The spans are in time order inside the activity: the cache is read, then the request goes out, then the answer is stored.
  const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
  assert.ok(start(read) <= start(http) && start(http) <= start(write));
});

test('a failed statement is a failed span; a transaction holds its statements; drizzle queries are traced too', async () => {
  spans.reset();
  const parent = trace.getTracer('test').startSpan('test-parent');
  await context.with(trace.setSpan(context.active(), parent), async () => {
    await assert.rejects(world.db.sql`select 1 / ${0}::int as boom`);
    await world.db.sql.begin(async (tx) => {
      await tx`select 1 as one`;
      await tx`select 2 as two`;
    });
    await world.db.db.execute(drizzleSql`select ${'drizzle'}::text as via`);
  });
  parent.end();
  await telemetry.spanProcessor?.forceFlush();

  const failed = finished().find((s) => String(s.attributes['db.query.text']).startsWith('select 1 / $1'));
  assert.ok(failed);
  assert.equal(failed.status.code, SpanStatusCode.ERROR);
  assert.match(failed.status.message ?? '', /division by zero/);
  assert.equal(failed.parentSpanId, parent.spanContext().spanId);

  const transaction = finished().find((s) => s.name === 'postgresql transaction');
  assert.ok(transaction);
  assert.equal(transaction.parentSpanId, parent.spanContext().spanId);
  assert.deepEqual(childrenOf(transaction).map((s) => s.attributes['db.query.text']).sort(), ['select 1 as one', 'select 2 as two']);

  const viaDrizzle = finished().find((s) => String(s.attributes['db.query.text']).includes('as via'));
  assert.ok(viaDrizzle, 'drizzle goes through sql.unsafe, which is traced');
  assert.equal(viaDrizzle.parentSpanId, parent.spanContext().spanId);
});
