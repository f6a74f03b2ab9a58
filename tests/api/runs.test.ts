/**
 * Run control and the API's guards on a real Temporal dev server with a worker running the real
 * pricesDaily workflow (against the prices replica): signed starts, duplicates, listing with status and
 * progress, cancellation; then signatures (missing, wrong, stale, replayed), read keys, rate limits and
 * /health naming what is down. Every response is checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../api/app';
import { signRequest } from '../../api/auth';
import type { ApiContext, ZodApp } from '../../api/context';
import type { ApiConfig } from '../../schema/config';
import { createPricesWorld, type PricesWorld } from '../prices/harness';
import { Contract } from './contract';
import { apiContextOf } from './prices-world';

const SECRET = 'test-secret-0123456789abcdef';
let world: PricesWorld;
let app: ZodApp;
let contract: Contract;
let clock = Date.now();

function context(overrides: Partial<ApiConfig> = {}, health?: ApiContext['health']): ApiContext {
  return apiContextOf(world, { secret: SECRET, now: () => new Date('2026-03-10T10:00:00Z'), config: overrides, health });
}

/** A fresh signature each time: the verifier's clock (shared) moves a second per signed request. */
function signed(body: unknown, at = (clock += 1000), secret = SECRET) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const ts = String(Math.floor(at / 1000));
  return { payload: raw, headers: { 'content-type': 'application/json', 'x-timestamp': ts, 'x-signature': signRequest(secret, ts, raw) } };
}

async function post(url: string, body: unknown, s = signed(body)) {
  return contract.inject(app, { method: 'POST', url, payload: s.payload, headers: s.headers });
}

interface Run {
  pipeline: string;
  workflow_id: string;
  status: string;
  progress: unknown;
}

async function runs(query = ''): Promise<Run[]> {
  const res = await contract.inject(app, { method: 'GET', url: `/api/v1/runs${query}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ items: Run[] }>().items;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`never happened: ${what}`);
}

before(async () => {
  world = await createPricesWorld();
  app = await buildApp(context(), { logger: false, signatureClock: () => clock });
  contract = await Contract.of(app);
});

after(async () => {
  await app?.close();
  await world?.close();
});

describe('run control', () => {
  test('a signed start runs the real workflow; a second start of the same run is a conflict; the list shows it completed', async () => {
    const started = await post('/api/v1/runs', { pipeline: 'prices', input: { date: '2026-03-10', archive: false } });
    assert.equal(started.statusCode, 202, started.body);
    const body = started.json<{ workflow_id: string; run_id: string; links: Record<string, string> }>();
    assert.equal(body.workflow_id, 'prices-daily-2026-03-10');
    assert.match(body.links.temporal_ui!, /workflows\/prices-daily-2026-03-10$/);

    // No worker yet: the run waits, running, and answers no progress.
    const again = await post('/api/v1/runs', { pipeline: 'prices', input: { date: '2026-03-10', archive: false } });
    assert.equal(again.statusCode, 409, again.body);
    const running = await eventually('the run is listed', async () => (await runs('?pipeline=prices&statut=running')).find((r) => r.workflow_id === body.workflow_id));
    assert.equal(running.status, 'running');

    await world.withWorker(() => world.temporal.client.workflow.getHandle(body.workflow_id).result());
    const done = await eventually('the run is listed completed', async () => (await runs('?pipeline=prices')).find((r) => r.workflow_id === body.workflow_id && r.status === 'completed'));
    assert.equal(done.pipeline, 'prices');
    const one = await contract.inject(app, { method: 'GET', url: `/api/v1/runs/${body.workflow_id}` });
    assert.equal(one.json<Run>().status, 'completed');
    const [quotes] = await world.db.sql<{ n: number }[]>`select count(*)::int as n from prices.quotes where quote_date = '2026-03-10'`;
    assert.equal(quotes!.n, 7, 'the run did the work');
  });

  test('cancel: a running run is cancelled, a closed one is a conflict, an unknown one is not found', async () => {
    const started = await post('/api/v1/runs', { pipeline: 'prices', input: { date: '2026-03-11' } });
    assert.equal(started.statusCode, 202, started.body);
    const id = 'prices-daily-2026-03-11';
    const cancel = await post(`/api/v1/runs/${id}/cancel`, undefined);
    assert.equal(cancel.statusCode, 202, cancel.body);
    assert.equal(cancel.json<{ status: string }>().status, 'cancel_requested');
    // The worker picks the run up and finds it cancelled.
    await world.withWorker(async () => {
      await eventually('the run is cancelled', async () => ((await world.temporal.client.workflow.getHandle(id).describe()).status.name === 'CANCELLED' ? true : undefined));
    });
    const listed = await eventually('listed cancelled', async () => (await runs('?statut=cancelled')).find((r) => r.workflow_id === id));
    assert.equal(listed.status, 'cancelled');
    assert.equal((await post(`/api/v1/runs/${id}/cancel`, undefined)).statusCode, 409);
    assert.equal((await post('/api/v1/runs/prices-daily-1999-01-01/cancel', undefined)).statusCode, 404);
    const unknown = await contract.inject(app, { method: 'GET', url: '/api/v1/runs/no-such-run' });
    assert.equal(unknown.statusCode, 404);
  });

  test('bad run requests name the field', async () => {
    const cases: [body: unknown, field: string][] = [
      [{ pipeline: 'nope' }, 'pipeline'],
      [{ pipeline: 'prices', input: { date: '2026-02-30x' } }, 'input.date'],
      [{ pipeline: 'prices', input: { colour: 'red' } }, 'input'],
      [{ pipeline: 'pmmp-backfill' }, 'input'],
      [{ pipeline: 'pmmp-backfill', input: { from: '2025-06', to: '2025-01' } }, 'input.to'],
      [{ pipeline: 'pmmp-daily', input: { day: 'today' } }, 'input.day'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/api/v1/runs', body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      const issues = res.json<{ issues: { field: string }[] }>().issues;
      assert.ok(issues.some((i) => i.field === field || i.field.startsWith(`${field}.`) || (field === 'input' && i.field.startsWith('input'))), `${JSON.stringify(body)}: ${res.body}`);
    }
    const notJson = await contract.inject(app, { method: 'POST', url: '/api/v1/runs', ...signedRaw('{"pipeline":') });
    assert.equal(notJson.statusCode, 400);
    const list = await contract.inject(app, { method: 'GET', url: '/api/v1/runs?limit=1000' });
    assert.equal(list.statusCode, 400);
  });
});

function signedRaw(raw: string) {
  const ts = String(Math.floor((clock += 1000) / 1000));
  return { payload: raw, headers: { 'content-type': 'application/json', 'x-timestamp': ts, 'x-signature': signRequest(SECRET, ts, raw) } };
}

describe('signatures', () => {
  const body = { pipeline: 'prices', input: { date: '2026-03-12' } };
  const expectUnauthorized = async (headers: Record<string, string>, payload: string, field: string, problem: RegExp) => {
    const res = await contract.inject(app, { method: 'POST', url: '/api/v1/runs', payload, headers: { 'content-type': 'application/json', ...headers } });
    assert.equal(res.statusCode, 401, res.body);
    const issue = res.json<{ issues: { field: string; problem: string }[] }>().issues[0]!;
    assert.equal(issue.field, field);
    assert.match(issue.problem, problem);
  };

  test('missing, malformed, wrong, stale and replayed signatures are refused', async () => {
    const s = signed(body);
    await expectUnauthorized({}, s.payload, 'X-Timestamp', /missing/);
    await expectUnauthorized({ 'x-timestamp': s.headers['x-timestamp'] }, s.payload, 'X-Signature', /missing/);
    await expectUnauthorized({ 'x-timestamp': 'yesterday', 'x-signature': s.headers['x-signature'] }, s.payload, 'X-Timestamp', /unix time/);
    await expectUnauthorized({ 'x-timestamp': s.headers['x-timestamp'], 'x-signature': 'abc' }, s.payload, 'X-Signature', /64 hex/);
    await expectUnauthorized(signed(body, clock, 'another-secret-0123456789').headers, s.payload, 'X-Signature', /does not match/);
    // The body was changed after signing.
    await expectUnauthorized(s.headers, JSON.stringify({ ...body, input: { date: '2026-03-13' } }), 'X-Signature', /does not match/);
    const stale = signed(body, clock - 301_000);
    await expectUnauthorized(stale.headers, stale.payload, 'X-Timestamp', /window/);
    const future = signed(body, clock + 301_000);
    await expectUnauthorized(future.headers, future.payload, 'X-Timestamp', /window/);

    const first = await post('/api/v1/runs', body, s);
    assert.equal(first.statusCode, 202, first.body);
    await expectUnauthorized(s.headers, s.payload, 'X-Signature', /already used/);
    // Later, once the signature has left the window, it is too old anyway.
    clock += 400_000;
    await expectUnauthorized(s.headers, s.payload, 'X-Timestamp', /window/);
    clock = Date.now();
    await world.temporal.client.workflow.getHandle('prices-daily-2026-03-12').terminate('test done');
  });

  test('without API_HMAC_SECRET every write is forbidden', async () => {
    const closed = await buildApp(context({ hmacSecret: undefined }), { logger: false });
    try {
      const s = signed(body);
      const res = await closed.inject({ method: 'POST', url: '/api/v1/runs', payload: s.payload, headers: s.headers });
      contract.check('POST', '/api/v1/runs', res);
      assert.equal(res.statusCode, 403);
      assert.match(res.body, /API_HMAC_SECRET/);
    } finally {
      await closed.close();
    }
  });
});

describe('read keys, rate limits, health', () => {
  test('with API_READ_KEYS, reads need a known X-API-Key', async () => {
    const keyed = await buildApp(context({ readKeys: ['k-one', 'k-two'] }), { logger: false });
    try {
      const none = await keyed.inject({ url: '/api/v1/prices/latest' });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json<{ issues: { field: string }[] }>().issues[0]!.field, 'X-API-Key');
      assert.equal((await keyed.inject({ url: '/api/v1/prices/latest', headers: { 'x-api-key': 'k-three' } })).statusCode, 401);
      assert.equal((await keyed.inject({ url: '/api/v1/prices/latest', headers: { 'x-api-key': 'k-two' } })).statusCode, 200);
      assert.equal((await keyed.inject({ url: '/health' })).statusCode, 200, 'health stays open');
    } finally {
      await keyed.close();
    }
  });

  test('each client has its own rate limit, answered 429 in JSON', async () => {
    const limited = await buildApp(context({ rateLimitPerMinute: 3 }), { logger: false });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await limited.inject({ url: '/api/v1/prices/latest', headers: { 'x-api-key': 'a' } })).statusCode, 200);
      const over = await limited.inject({ url: '/api/v1/prices/latest', headers: { 'x-api-key': 'a' } });
      contract.check('GET', '/api/v1/prices/latest', over);
      assert.equal(over.statusCode, 429);
      assert.equal(over.json<{ error: string }>().error, 'rate_limited');
      assert.equal((await limited.inject({ url: '/api/v1/prices/latest', headers: { 'x-api-key': 'b' } })).statusCode, 200, 'another client is not limited');
    } finally {
      await limited.close();
    }
  });

  test('/health says which dependency is down', async () => {
    const ok = await contract.inject(app, { method: 'GET', url: '/health' });
    assert.equal(ok.statusCode, 200, ok.body);
    const broken = await buildApp(
      context({}, {
        ...context().health,
        temporal: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      }),
      { logger: false },
    );
    try {
      const res = await broken.inject({ url: '/health' });
      contract.check('GET', '/health', res);
      assert.equal(res.statusCode, 503);
      const body = res.json<{ status: string; down: string[]; checks: Record<string, { status: string; error?: string }> }>();
      assert.deepEqual(body.down, ['temporal']);
      assert.equal(body.checks.postgresql!.status, 'up');
      assert.match(body.checks.temporal!.error!, /ECONNREFUSED/);
    } finally {
      await broken.close();
    }
  });

  test('scraping jobs: a signed create starts leadsJob; list and get show it; pause, resume and cancel signal it; bad input is a 4xx', async () => {
    const spec = { id: 'api-job-1', sourceType: 'custom_urls', config: { urls: ['https://example.com/'], maxDepth: 1 } };
    const created = await post('/api/v1/scraping/jobs', spec);
    assert.equal(created.statusCode, 201, created.body);
    const job = created.json<{ id: string; workflowId: string; status: string }>();
    assert.deepEqual([job.id, job.workflowId, job.status], ['api-job-1', 'leads-job-api-job-1', 'queued']);
    const handle = world.temporal.client.workflow.getHandle(job.workflowId);
    assert.equal((await handle.describe()).type, 'leadsJob');
    // The same create again is the same job, not a second one.
    assert.equal((await post('/api/v1/scraping/jobs', spec)).statusCode, 201);

    const list = await contract.inject(app, { method: 'GET', url: '/api/v1/scraping/jobs?status=queued&limit=10' });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id),
      ['api-job-1'],
    );
    const one = await contract.inject(app, { method: 'GET', url: '/api/v1/scraping/jobs/api-job-1' });
    assert.equal(one.statusCode, 200, one.body);

    for (const action of ['pause', 'resume', 'cancel']) {
      const r = await post(`/api/v1/scraping/jobs/api-job-1/${action}`, undefined);
      assert.equal(r.statusCode, 202, `${action}: ${r.body}`);
    }
    const signals: string[] = [];
    for (const e of (await handle.fetchHistory()).events ?? []) {
      const name = e.workflowExecutionSignaledEventAttributes?.signalName;
      if (name) signals.push(name);
    }
    assert.deepEqual(signals, ['pause', 'resume', 'cancel']);

    const bad = await post('/api/v1/scraping/jobs', { sourceType: 'telepathy', config: {} });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.body, /sourceType/);
    const unknown = await contract.inject(app, { method: 'GET', url: '/api/v1/scraping/jobs/no-such-job' });
    assert.equal(unknown.statusCode, 404);
    const unsigned = await contract.inject(app, { method: 'POST', url: '/api/v1/scraping/jobs/api-job-1/pause', payload: '', headers: { 'content-type': 'application/json' } });
    assert.ok(unsigned.statusCode === 401 || unsigned.statusCode === 403, `unsigned: ${unsigned.statusCode}`);
    await handle.terminate('test over');
  });

  test('contract: every run operation was exercised', () => {
    const ops = contract.operations().filter((op) => (op.includes('/runs') || op.includes('/scraping/')) && !op.includes('/consolidation/'));
    assert.deepEqual(ops.filter((op) => !contract.seen.has(op)), []);
  });
});
