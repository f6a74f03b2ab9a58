/**
 * Trace spans below the activity, read from an in-memory exporter: the engine fetcher's HTTP requests
 * and the PostgreSQL statements of a real leads whois run (real Temporal, the RDAP replica, the test
 * database) are children of the activity's span; a failed statement is marked failed; a transaction's
 * statements are its children; parameters never reach an attribute. The clients that call fetch
 * themselves (MailWizz here, on its replica) and the archive's MongoDB commands (FerretDB) have their
 * spans too, under the caller's.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { sql as drizzleSql } from 'drizzle-orm';
import { MailwizzClient } from '../../activities/leads/mailwizz';
import { ensureArchiveIndexes, PRICES_COLLECTION, verifyWindow } from '../../activities/prices/archive';
import { setupTelemetry, type Telemetry } from '../../workers/telemetry';
import type { LeadsWhoisResult } from '../../workflows/leads';
import { createLeadsWorld, type LeadsWorld } from '../leads/harness';
import { recordHistories } from '../support/histories';
import { seriesValue } from '../support/metrics';
import { createTestArchive, type TestArchive } from '../support/services';

let world: LeadsWorld;
let archive: TestArchive;
let telemetry: Telemetry;
const spans = new InMemorySpanExporter();

before(async () => {
  telemetry = setupTelemetry({ serviceName: 'moisson-test', spanExporter: spans });
  world = await createLeadsWorld();
  archive = await createTestArchive();
});
after(async () => {
  await archive?.drop();
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
  // The fetcher's own span only: undici's request events add no second one for the same request.
  assert.equal(finished().filter((s) => String(s.attributes['url.full']).includes(`/rdap/domain/${domain}`)).length, 1, 'one span per request');

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

/** Runs `fn` under a parent span, as an activity's code runs under the activity's. */
async function underParent(fn: () => Promise<unknown>): Promise<ReadableSpan> {
  spans.reset();
  const parent = trace.getTracer('test').startSpan('test-parent');
  await context.with(trace.setSpan(context.active(), parent), fn);
  parent.end();
  await telemetry.spanProcessor?.forceFlush();
  return finished().find((s) => s.name === 'test-parent')!;
}

test("a client's own fetch calls (MailWizz) are HTTP spans under the caller's and counted; a refusal (MailWizz answers 400) is a failed span; secrets are masked", async () => {
  const email = 'mariem.sidi@exemple-nouakchott.mr';
  const good = new MailwizzClient(world.config().mailwizz);
  const bad = new MailwizzClient({ ...world.config().mailwizz, apiKey: 'wrong-key-0123456789' });
  const mailwizz = new URL(world.mailwizz.apiUrl);
  const counted = async (status: string) => seriesValue(await telemetry.scrape(), 'moisson_http_requests_total', { host: mailwizz.host, status });
  const [found404, refused400] = [await counted('404'), await counted('400')];
  const parent = await underParent(async () => {
    assert.equal(await good.searchByEmail('restaurants-list', email), undefined);
    await assert.rejects(bad.searchByEmail('restaurants-list', email));
  });
  const http = childrenOf(parent).filter((s) => s.attributes['http.request.method'] === 'GET');
  assert.equal(http.length, 2, `two requests, two spans: ${finished().map((s) => `${s.name} ${JSON.stringify(s.attributes)}`).join('; ')}`);
  for (const s of http) {
    assert.equal(s.name, 'GET');
    assert.equal(s.attributes['server.address'], mailwizz.hostname);
    assert.equal(s.attributes['server.port'], Number(mailwizz.port));
    assert.match(String(s.attributes['url.full']), /search-by-email/);
  }
  const [found, refused] = http.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  assert.equal(found!.attributes['http.response.status_code'], 404, 'the replica answers 404 for an unknown subscriber');
  assert.equal(refused!.attributes['http.response.status_code'], 400, 'MailWizz refuses a wrong key with a 400');
  assert.equal(refused!.status.code, SpanStatusCode.ERROR);
  assert.ok(!JSON.stringify(http.map((s) => s.attributes)).includes('wrong-key'), 'the API key (a header) is in no attribute');
  // Counted with the sources' requests too (the 429 and error-rate alerts read them).
  assert.equal((await counted('404')) - found404, 1);
  assert.equal((await counted('400')) - refused400, 1);
});

test("the archive's MongoDB commands are spans under the caller's, named by command and collection, without their documents", async () => {
  const parent = await underParent(async () => {
    await ensureArchiveIndexes(archive.db);
    await archive.db.collection(PRICES_COLLECTION).insertOne({ asset_code: 'USD', date: '2026-01-05', source: 'bcm', note: 'secret-note' });
    await verifyWindow(world.db.sql, archive.db, { from: '2026-01-01', to: '2026-01-10' });
    await assert.rejects(archive.db.command({ noSuchCommand: 1 }));
  });
  const mongo = childrenOf(parent).filter((s) => s.attributes['db.system.name'] === 'mongodb');
  const names = mongo.map((s) => s.name);
  assert.ok(names.includes(`createIndexes ${PRICES_COLLECTION}`), names.join(', '));
  assert.ok(names.includes(`insert ${PRICES_COLLECTION}`), names.join(', '));
  const find = mongo.find((s) => s.name === `find ${PRICES_COLLECTION}` || s.name === `aggregate ${PRICES_COLLECTION}`);
  assert.ok(find, `verifyWindow reads the archive: ${names.join(', ')}`);
  assert.equal(find.attributes['db.collection.name'], PRICES_COLLECTION);
  assert.equal(find.attributes['db.namespace'], archive.db.databaseName);
  assert.equal(find.status.code, SpanStatusCode.UNSET);
  const failed = mongo.find((s) => s.name === 'noSuchCommand');
  assert.equal(failed?.status.code, SpanStatusCode.ERROR);
  assert.ok(!JSON.stringify(mongo.map((s) => s.attributes)).includes('secret-note'), 'no document in any attribute');
  // verifyWindow's PostgreSQL statements sit beside them, under the same parent.
  assert.ok(childrenOf(parent).some((s) => s.attributes['db.system.name'] === 'postgresql'));
});
