/**
 * The read routes the console's API sync, Stats and Health tabs stand on, over HTTP (in-process inject)
 * against a real PostgreSQL and a real Temporal dev server: rows written where each pipeline writes them
 * come back in the daily volumes, the blacklist and WHOIS figures and the apisync streams; the health
 * route sees a real worker polling and the Schedules applied with their next runs, and answers 200 with
 * the reasons when its dependencies are down. Every response is checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createProofStore } from '../../activities/engine/proofs';
import { buildApp } from '../../api/app';
import type { ApiContext, ZodApp } from '../../api/context';
import { applySchedules, SCHEDULES } from '../../control/schedules';
import { loadApiConfig } from '../../schema/config';
import { createTestDatabase, startTemporal, type TestDatabase } from '../support/services';
import { Contract } from './contract';

const taskQueue = `console-data-${process.pid}`;
const NOW = new Date('2026-12-05T10:00:00Z');
let db: TestDatabase;
let temporal: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let app: ZodApp;
let contract: Contract;

const get = (url: string, a = app) => contract.inject(a, { method: 'GET', url });

function context(over: Partial<ApiContext> = {}): ApiContext {
  return {
    config: loadApiConfig({ API_RATE_LIMIT_PER_MINUTE: '100000' }),
    db,
    proofs: createProofStore({ db: db.db, dir: '/nonexistent-proof-store' }),
    temporal: () => Promise.resolve(temporal.client),
    temporalTaskQueue: taskQueue,
    temporalBrowserTaskQueue: `${taskQueue}-browser`,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: temporal.namespace ?? 'default',
    now: () => NOW,
    health: {
      postgresql: async () => {
        await db.sql`select 1`;
      },
      temporal: async () => {
        await temporal.client.workflowService.getSystemInfo({});
      },
    },
    ...over,
  };
}

before(async () => {
  [db, temporal] = await Promise.all([createTestDatabase(), startTemporal()]);
  // A worker serving only activities: it polls the activity side of the main queue.
  worker = await Worker.create({ connection: temporal.nativeConnection, namespace: temporal.namespace ?? 'default', taskQueue, activities: { noop: async () => undefined } });
  running = worker.run();
  app = await buildApp(context(), { logger: false });
  contract = await Contract.of(app);
});

after(async () => {
  await app?.close();
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled([temporal?.teardown(), db?.drop()]);
});

describe('GET /api/v1/stats/volumes', () => {
  before(async () => {
    const { sql } = db;
    await sql`insert into pmmp.consultations (org_acronyme, ref_consultation, object, first_seen_at) values
      ('ORG', '1', 'Travaux de voirie', '2026-12-05T08:00:00Z'), ('ORG', '2', 'Fourniture de bureau', '2026-12-05T09:00:00Z'), ('ORG', '3', 'Étude', '2026-12-03T09:00:00Z'),
      ('ORG', '4', 'Hors période', '2026-10-01T09:00:00Z')`;
    await sql`insert into leads.jobs (id, name, source_type, config, workflow_id) values ('job-1', 'test', 'custom_urls', '{}', 'leads-job-1')`;
    const scraped = await sql<{ id: string }[]>`insert into leads.scraped_contacts (job_id, dedup_key, email, source_url, status, created_at) values
      ('job-1', 'a@x.fr', 'a@x.fr', 'https://x.fr', 'valid', '2026-12-04T10:00:00Z'), ('job-1', 'b@x.fr', 'b@x.fr', 'https://x.fr', 'valid', '2026-12-04T11:00:00Z') returning id`;
    const validated = await sql<{ id: string }[]>`insert into leads.validated_contacts (email, scraped_contact_id, job_id, domain, category, platform, list_uid, template, validated_at) values
      ('a@x.fr', ${scraped[0]!.id}, 'job-1', 'x.fr', 'default', 'mailwizz', 'L1', 't', '2026-12-05T01:00:00Z') returning id`;
    await sql`insert into leads.sync_log (validated_contact_id, email, list_uid, attempt, outcome, created_at) values
      (${validated[0]!.id}, 'a@x.fr', 'L1', 1, 'failed', '2026-12-05T02:00:00Z'), (${validated[0]!.id}, 'a@x.fr', 'L1', 2, 'created', '2026-12-05T03:00:00Z')`;
    await sql`insert into prices.quotes (asset_code, quote_date, asset_class, price_mru, unit, source, source_timestamp, direction, source_value, source_currency, first_stored_at) values
      ('USD', '2026-12-05', 'fx', 39.9, 'MRU', 'test', now(), 'direct', 39.9, 'MRU', '2026-12-05T06:00:00Z')`;
    const [run] = await sql<{ id: string }[]>`insert into etl.runs (pipeline, kind, workflow_id, workflow_run_id, status, params, started_at, finished_at)
      values ('apisync', 'incremental', 'apisync-pennylane', 'r-1', 'success', '{"source":"pennylane"}', '2026-12-05T05:00:00Z', '2026-12-05T05:01:00Z') returning id`;
    await sql`insert into etl.etl_logs (run_id, pipeline, stream, status, extracted, loaded, rejected, duration_ms, created_at) values
      (${run!.id}, 'apisync', 'pennylane:customers', 'success', 12, 11, 1, 900, '2026-12-05T05:01:00Z'),
      (${run!.id}, 'apisync', 'pennylane:invoices', 'failure', 5, 0, 0, 300, '2026-12-05T05:01:00Z')`;
    const [cohort] = await sql<{ id: string }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action) values ('source_x', 'run-1', 'SOURCE_AJOUT') returning id`;
    await sql`insert into consolidation.suggestions (cohorte_id, cle, statut, changes, updated_at) values
      (${cohort!.id}, 'k1', 'SUCCES', '[]', '2026-12-04T12:00:00Z'), (${cohort!.id}, 'k2', 'SUCCES', '[]', '2026-12-04T13:00:00Z'), (${cohort!.id}, 'k3', 'AVALIDER', '[]', '2026-12-04T13:00:00Z')`;
  });

  test('every day of the range, each pipeline counted where it records its work', async () => {
    const res = await get('/api/v1/stats/volumes?days=7');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ from: string; to: string; days: { day: string; [k: string]: unknown }[] }>();
    assert.equal(body.from, '2026-11-29');
    assert.equal(body.to, '2026-12-05');
    assert.deepEqual(body.days.map((d) => d.day), ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05']);
    const day = (d: string) => body.days.find((x) => x.day === d)!;
    assert.deepEqual(day('2026-12-05'), {
      day: '2026-12-05',
      consultations: 2,
      contacts_scraped: 0,
      contacts_validated: 1,
      mailwizz: { created: 1, existing: 0, duplicate: 0, failed: 1, rejected: 0 },
      price_rows: 1,
      apisync_rows: 11,
      suggestions_applied: 0,
    });
    assert.equal(day('2026-12-04').contacts_scraped, 2);
    assert.equal(day('2026-12-04').suggestions_applied, 2);
    assert.equal(day('2026-12-03').consultations, 1);
    assert.equal(body.days.reduce((n, d) => n + (d.consultations as number), 0), 3, 'the October consultation is outside the range');
  });

  test('30 days by default; a bad range is a 400 naming the parameter', async () => {
    const res = await get('/api/v1/stats/volumes');
    assert.equal(res.json<{ days: unknown[] }>().days.length, 30);
    const bad = await get('/api/v1/stats/volumes?days=0');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /days/);
  });
});

describe('GET /api/v1/apisync/streams', () => {
  before(async () => {
    const { sql } = db;
    await sql`insert into apisync.sync_state (source, stream, watermark, last_mode, last_status, row_count, last_success_at) values
      ('pennylane', 'customers', '2026-12-05T05:00:00.123456Z', 'incremental', 'success', 11, '2026-12-05T05:01:00Z')`;
    await sql`insert into apisync.rate_limits (bucket, last_remaining, throttles) values ('api.pennylane.test:0123456789abcdef', 17, 2)`;
    await sql`insert into apisync.rate_limit_sends (bucket, sent_at) values ('api.pennylane.test:0123456789abcdef', now() - interval '10 seconds'),
      ('api.pennylane.test:0123456789abcdef', now() - interval '20 minutes')`;
  });

  test('per stream its state and last log, the runs with their totals, the budgets with their use', async () => {
    const res = await get('/api/v1/apisync/streams');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{
      sources: { source: string; streams: { stream: string; synced: boolean; watermark: string | null; rowCount: number | null; lastLog: { status: string; loaded: number } | null }[] }[];
      runs: { source: string; loaded: number; extracted: number; failedStreams: number }[];
      rateLimits: { host: string; sentLastMinute: number; sentLastHour: number; lastRemaining: number; throttles: number }[];
    }>();
    const pennylane = body.sources.find((s) => s.source === 'pennylane')!;
    const customers = pennylane.streams.find((s) => s.stream === 'customers')!;
    assert.equal(customers.synced, true);
    assert.equal(customers.watermark, '2026-12-05T05:00:00.123456Z');
    assert.equal(customers.rowCount, 11);
    assert.deepEqual({ status: customers.lastLog?.status, loaded: customers.lastLog?.loaded }, { status: 'success', loaded: 11 });
    const invoices = pennylane.streams.find((s) => s.stream === 'invoices')!;
    assert.equal(invoices.synced, false);
    assert.equal(invoices.lastLog?.status, 'failure');
    assert.deepEqual(body.runs.map((r) => ({ source: r.source, loaded: r.loaded, extracted: r.extracted, failed: r.failedStreams })), [{ source: 'pennylane', loaded: 11, extracted: 17, failed: 1 }]);
    assert.deepEqual(body.rateLimits.map((b) => ({ host: b.host, m: b.sentLastMinute, h: b.sentLastHour, r: b.lastRemaining, t: b.throttles })), [{ host: 'api.pennylane.test', m: 1, h: 2, r: 17, t: 2 }]);
  });
});

describe('GET /api/v1/leads/blacklist and /whois', () => {
  before(async () => {
    const { sql } = db;
    await sql`insert into leads.domain_blacklist (domain, sent, bounced, manual_reason) values
      ('bounces.fr', 10, 6, null), ('fine.fr', 20, 1, null), ('blocked.fr', 0, 0, 'plainte'), ('new_%.fr', 0, 0, null)`;
    await sql`insert into leads.whois_cache (domain, found, registrar, registered_at, fetched_at, expires_at) values
      ('a.fr', true, 'OVH', '2010-01-01T00:00:00Z', now() - interval '1 hour', now() + interval '1 day'),
      ('b.fr', true, 'OVH', null, now() - interval '2 hours', now() + interval '1 day'),
      ('c.fr', true, 'Gandi', null, now() - interval '3 days', now() - interval '1 day'),
      ('nx.fr', false, null, null, now() - interval '4 days', now() - interval '2 days')`;
  });

  test('blocked by hand first, then by bounce rate; totals; a domain filter taken literally', async () => {
    const res = await get('/api/v1/leads/blacklist');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ domains: number; manual: number; sent: number; bounced: number; items: { domain: string; bounce_rate: number | null }[] }>();
    assert.deepEqual({ d: body.domains, m: body.manual, s: body.sent, b: body.bounced }, { d: 4, m: 1, s: 30, b: 7 });
    assert.deepEqual(body.items.map((i) => i.domain), ['blocked.fr', 'bounces.fr', 'fine.fr', 'new_%.fr']);
    assert.equal(body.items[1]!.bounce_rate, 0.6);
    assert.equal(body.items[0]!.bounce_rate, null);
    const filtered = await get('/api/v1/leads/blacklist?domain=_%25');
    assert.deepEqual(filtered.json<{ items: { domain: string }[] }>().items.map((i) => i.domain), ['new_%.fr']);
  });

  test('WHOIS counts, registrars and the latest lookups first', async () => {
    const res = await get('/api/v1/leads/whois?limit=3');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ total: number; found: number; not_found: number; expired: number; last_24h: number; registrars: unknown[]; latest: { domain: string; registered_at: string | null }[] }>();
    assert.deepEqual({ t: body.total, f: body.found, n: body.not_found, e: body.expired, d: body.last_24h }, { t: 4, f: 3, n: 1, e: 2, d: 2 });
    assert.deepEqual(body.registrars, [{ registrar: 'OVH', domains: 2 }, { registrar: 'Gandi', domains: 1 }]);
    assert.deepEqual(body.latest.map((l) => l.domain), ['a.fr', 'b.fr', 'c.fr']);
    assert.equal(body.latest[0]!.registered_at, '2010-01-01T00:00:00.000Z');
  });
});

describe('POST /api/v1/leads/whois/lookup (the WHOIS tab)', () => {
  const PASSWORD = 'console-data-test-password';
  let signed: ZodApp;
  before(async () => {
    signed = await buildApp(context({ config: loadApiConfig({ API_RATE_LIMIT_PER_MINUTE: '100000', MOISSON_CONSOLE_PASSWORD: PASSWORD }) }), { logger: false });
  });
  after(async () => {
    await signed?.close();
  });

  test("a console write: refused without the session's CSRF token; a bad domain is a 400 naming it", async () => {
    const login = await signed.inject({ method: 'POST', url: '/api/v1/console/session', payload: { password: PASSWORD } });
    assert.equal(login.statusCode, 201, login.body);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const { csrfToken } = login.json<{ csrfToken: string }>();
    const url = '/api/v1/leads/whois/lookup';
    const noToken = await contract.inject(signed, { method: 'POST', url, headers: { cookie }, payload: { domain: 'example.fr' } });
    assert.equal(noToken.statusCode, 401, noToken.body);
    assert.match(noToken.body, /X-CSRF-Token: missing/);
    const bad = await contract.inject(signed, { method: 'POST', url, headers: { cookie, 'x-csrf-token': csrfToken }, payload: { domain: 'not a domain' } });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.body, /domain/);
    assert.match(bad.body, /must be a domain name/);
  });
});

describe("GET /api/v1/consolidation/cohorts/{id}/suggestions: the review grid's pages", () => {
  let cohort: number;
  before(async () => {
    const [c] = await db.sql<{ id: string }[]>`
      insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, source_code, metadata)
      values ('grid', 'grid-1', 'SOURCE_MODIFICATION', 'grid', '{}') returning id`;
    cohort = Number(c!.id);
    await db.sql`insert into consolidation.suggestions (cohorte_id, cle, statut, changes)
      select ${cohort}, 'k-' || lpad(i::text, 3, '0'), case when i % 5 = 0 then 'REJETEE' else 'AVALIDER' end, '[]'::jsonb from generate_series(1, 25) i`;
  });

  test('a page at any offset, without its count when asked; the count alone; cursor and offset exclude each other', async () => {
    const base = `/api/v1/consolidation/cohorts/${cohort}/suggestions?statut=AVALIDER`;
    type P = { items: { cle: string }[]; next_cursor: string | null; total: number | null };
    const all = (await get(`${base}&limit=1000`)).json<P>();
    assert.equal(all.total, 20);
    const third = await get(`${base}&limit=5&offset=10&count=false`);
    assert.equal(third.statusCode, 200, third.body);
    const page = third.json<P>();
    assert.deepEqual(page.items.map((s) => s.cle), all.items.slice(10, 15).map((s) => s.cle));
    assert.equal(page.total, null, 'count=false: not counted');
    assert.ok(page.next_cursor, 'more rows follow');
    const last = (await get(`${base}&limit=5&offset=15&count=false`)).json<P>();
    assert.deepEqual([last.items.length, last.next_cursor], [5, null]);
    const count = (await get(`${base}&limit=1`)).json<P>();
    assert.equal(count.total, 20);
    const both = await get(`${base}&limit=5&offset=5&cursor=1`);
    assert.equal(both.statusCode, 400, both.body);
    assert.match(both.body, /cursor and offset exclude each other/);
    const negative = await get(`${base}&offset=-1`);
    assert.equal(negative.statusCode, 400, negative.body);
    assert.match(negative.body, /offset/);
  });
});

describe('GET /api/v1/health/dependencies', () => {
  test('dependencies up, the worker seen polling, the applied Schedules with their next runs', async () => {
    await applySchedules(temporal.client, taskQueue);
    let body: {
      status: string;
      dependencies: { name: string; status: string; latency_ms: number }[];
      task_queues: { name: string; role: string; status: string; workflow_pollers: unknown[]; activity_pollers: { identity: string }[] }[];
      schedules: { status: string; items: { schedule_id: string; on_server: boolean; declared: boolean; next_runs: string[] }[] };
    };
    // The schedule list is read from Temporal's visibility store, which catches up within a moment.
    for (let i = 0; ; i++) {
      const res = await get('/api/v1/health/dependencies');
      assert.equal(res.statusCode, 200, res.body);
      body = res.json();
      if (body.schedules.items.every((s) => s.on_server) || i > 40) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.dependencies.map((d) => [d.name, d.status]), [['postgresql', 'up'], ['temporal', 'up']]);
    const main = body.task_queues.find((q) => q.role === 'main')!;
    assert.equal(main.name, taskQueue);
    assert.equal(main.status, 'up');
    assert.ok(main.activity_pollers.length >= 1, 'the activity worker polls the main queue');
    assert.equal(main.workflow_pollers.length, 0, 'no workflow worker runs in this test');
    const browser = body.task_queues.find((q) => q.role === 'browser')!;
    assert.deepEqual([browser.status, browser.activity_pollers.length], ['up', 0]);
    assert.equal(body.schedules.status, 'up');
    assert.deepEqual(body.schedules.items.map((s) => s.schedule_id).sort(), SCHEDULES.map((s) => s.scheduleId).sort());
    for (const s of body.schedules.items) {
      assert.ok(s.declared && s.on_server, s.schedule_id);
      assert.ok(s.next_runs.length > 0 && Date.parse(s.next_runs[0]!) > Date.now() - 60_000, `${s.schedule_id} has a next run`);
    }
  });

  test('dependencies down: 200, degraded, each named with its error, no stack', async () => {
    const down = await buildApp(
      context({
        temporal: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
        health: {
          postgresql: async () => {
            await db.sql`select 1`;
          },
          mongodb: () => Promise.reject(new Error('connection refused to 127.0.0.1:2')),
          temporal: () => new Promise(() => undefined),
        },
      }),
      { logger: false },
    );
    try {
      const res = await get('/api/v1/health/dependencies', down);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ status: string; dependencies: { name: string; status: string; error?: string }[]; task_queues: { status: string; error?: string }[]; schedules: { status: string; error?: string; items: unknown[] } }>();
      assert.equal(body.status, 'degraded');
      assert.deepEqual(body.dependencies.map((d) => [d.name, d.status]), [['postgresql', 'up'], ['mongodb', 'down'], ['temporal', 'down']]);
      assert.match(body.dependencies[1]!.error!, /connection refused/);
      assert.match(body.dependencies[2]!.error!, /did not answer within 3 s/);
      for (const q of body.task_queues) assert.deepEqual([q.status, q.error], ['down', 'connect ECONNREFUSED 127.0.0.1:1']);
      assert.deepEqual([body.schedules.status, body.schedules.items], ['down', []]);
      assert.doesNotMatch(res.body, /\bat .*\.ts:\d+/, 'no stack trace');
    } finally {
      await down.close();
    }
  });
});

/** The other contract tests leave these routes to this file (tests/api/data.test.ts, tests/api/leads-data.test.ts). */
const CONSOLE_DATA_ROUTES = ['/health/', '/apisync/', '/stats/volumes', '/leads/blacklist', '/leads/whois'];

test('contract: every console data route was exercised, every response matched it', () => {
  const ops = contract.operations().filter((op) => CONSOLE_DATA_ROUTES.some((part) => op.includes(part)));
  assert.equal(ops.length, 6, ops.join(', '));
  assert.deepEqual(ops.filter((op) => !contract.seen.has(op)), []);
});
