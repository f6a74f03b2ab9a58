/**
 * The consolidation routes over HTTP (in-process inject), on a real Temporal dev server with a worker
 * running the real workflows against the sources replica: a signed ingest run, cohorts and suggestions
 * read back, decisions on one, many and "all except", the state guard as 409, an apply run, the status,
 * bad input named, a duplicate run as 409. Every response is checked against the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { z } from 'zod';
import { createProofStore } from '../../activities/engine/proofs';
import { buildApp } from '../../api/app';
import { SuggestionPageSchema } from '../../api/consolidation/routes';
import { signRequest } from '../../api/auth';
import type { ApiContext, ZodApp } from '../../api/context';
import { loadApiConfig } from '../../schema/config';
import { createMoissonWorker } from '../../workers/create';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { startEntreprisesReplica, type EntreprisesReplica } from '../replicas/consolidation/entreprises/index';
import { consolidationWorkerEnv } from '../replicas/consolidation/worker-env';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';
import { Contract } from './contract';

const SECRET = 'test-secret-consolidation-0123456789';
const taskQueue = `consolidation-api-${process.pid}`;
let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
let registry: EntreprisesReplica;
let exportDir: string;
let worker: Worker;
let running: Promise<void>;
let app: ZodApp;
let contract: Contract;
let clock = Date.now();

function signed(body: unknown, secret = SECRET) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const ts = String(Math.floor((clock += 1000) / 1000));
  return { payload: raw, headers: { 'content-type': 'application/json', 'x-timestamp': ts, 'x-signature': signRequest(secret, ts, raw) } };
}
const post = (url: string, body: unknown, s = signed(body)) => contract.inject(app, { method: 'POST', url, payload: s.payload, headers: s.headers });
const get = (url: string) => contract.inject(app, { method: 'GET', url });

interface RunStatus {
  status: string;
  result?: unknown;
  failure?: string;
  root_cause?: { type: string; message: string; activity?: string };
}

async function finished(workflowId: string): Promise<RunStatus> {
  for (let i = 0; i < 600; i++) {
    const res = await get(`/api/v1/consolidation/runs/${workflowId}`);
    assert.equal(res.statusCode, 200, res.body);
    const run = res.json<RunStatus>();
    if (run.status !== 'running') return run;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${workflowId} never finished`);
}

before(async () => {
  [db, archive, temporal, replica, registry, exportDir] = await Promise.all([
    createTestDatabase(),
    createTestArchive(),
    startTemporal(),
    startConsolidationReplica({ worldSize: 200 }),
    startEntreprisesReplica({ ratePerSecond: 0 }),
    mkdtemp(join(tmpdir(), 'moisson-cons-api-exports-')),
  ]);
  worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: consolidationWorkerEnv(replica, registry, exportDir) },
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
  const ctx: ApiContext = {
    config: loadApiConfig({ API_HMAC_SECRET: SECRET, API_RATE_LIMIT_PER_MINUTE: '100000' }),
    db,
    proofs: createProofStore({ db: db.db, dir: '/nonexistent-proof-store' }),
    temporal: () => Promise.resolve(temporal.client),
    temporalTaskQueue: taskQueue,
    temporalUiUrl: 'http://127.0.0.1:8233',
    temporalNamespace: temporal.namespace ?? 'default',
    now: () => new Date('2026-12-05T10:00:00Z'),
    health: {},
  };
  app = await buildApp(ctx, { logger: false, signatureClock: () => clock });
  contract = await Contract.of(app);
});

after(async () => {
  await app?.close();
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled([replica?.close(), registry?.close(), temporal?.teardown(), db?.drop(), archive?.drop(), exportDir ? rm(exportDir, { recursive: true, force: true }) : undefined]);
});

interface Cohort {
  id: number;
  type_action: string;
  statut: string;
  metadata: Record<string, unknown>;
  total: number;
  suggestions: Record<string, number>;
  links: Record<string, string>;
}
interface Suggestion {
  id: number;
  statut: string;
  cle: string;
}

describe('consolidation over HTTP', () => {
  test('ingest → review (one, many, all except) → apply, with the guard and the logs', async () => {
    const started = await post('/api/v1/consolidation/runs', { kind: 'ingest', input: { source: 'refashion' } });
    assert.equal(started.statusCode, 202, started.body);
    assert.equal(started.json<{ workflow_id: string }>().workflow_id, 'consolidation-ingest-refashion');
    const ingest = await finished('consolidation-ingest-refashion');
    assert.equal(ingest.status, 'completed', ingest.failure);

    const cohorts = await get('/api/v1/consolidation/cohorts?source_code=refashion');
    assert.equal(cohorts.statusCode, 200, cohorts.body);
    const [ajout] = cohorts.json<{ items: Cohort[] }>().items;
    assert.equal(ajout!.type_action, 'SOURCE_AJOUT');
    assert.ok(ajout!.total > 20);
    assert.deepEqual(ajout!.suggestions, { AVALIDER: ajout!.total });
    const detail = await get(ajout!.links.self!);
    assert.equal(detail.statusCode, 200, detail.body);
    assert.equal(detail.json<{ champs: Record<string, number> }>().champs.nom, ajout!.total);

    // Pages by keyset, then the filter by status.
    const page1 = await get(`/api/v1/consolidation/cohorts/${ajout!.id}/suggestions?limit=10`);
    assert.equal(page1.statusCode, 200, page1.body);
    const p1 = page1.json<{ items: Suggestion[]; next_cursor: string; total: number }>();
    assert.equal(p1.items.length, 10);
    assert.equal(p1.total, ajout!.total);
    // The page is checked by ajv and not copied through zod (api/contract-serializer.ts): the JSON is still
    // zod's, byte for byte (keys in the schema's order, none it would drop), on the pipeline's own rows.
    assert.equal(page1.body, JSON.stringify(z.encode(SuggestionPageSchema, page1.json())));
    const page2 = await get(`/api/v1/consolidation/cohorts/${ajout!.id}/suggestions?limit=10&cursor=${p1.next_cursor}`);
    const p2 = page2.json<{ items: Suggestion[] }>();
    assert.ok(p2.items[0]!.id > p1.items.at(-1)!.id);

    // One: accepted; again → 409; rejected back; unsigned → 401.
    const [first, second, third] = p1.items;
    const one = await post(`/api/v1/consolidation/suggestions/${first!.id}/accept`, { par: 'alice' });
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.json<{ changed: number }>().changed, 1);
    const twice = await post(`/api/v1/consolidation/suggestions/${first!.id}/accept`, { par: 'alice' });
    assert.equal(twice.statusCode, 409, twice.body);
    assert.match(twice.json<{ message: string }>().message, /is ATRAITER/);
    const unsigned = await contract.inject(app, { method: 'POST', url: `/api/v1/consolidation/suggestions/${second!.id}/accept`, payload: { par: 'mallory' } });
    assert.equal(unsigned.statusCode, 401, unsigned.body);
    const missing = await post('/api/v1/consolidation/suggestions/999999999/reject', { par: 'alice' });
    assert.equal(missing.statusCode, 404, missing.body);

    // Many by ids: one of them is refused with its status.
    const many = await post('/api/v1/consolidation/suggestions/reject', { par: 'bob', raison: 'doublons', ids: [first!.id, second!.id] });
    assert.equal(many.statusCode, 200, many.body);
    assert.deepEqual(many.json<{ changed: number; refused: unknown[] }>().changed, 2);

    // All the cohort's waiting suggestions except one.
    const all = await post('/api/v1/consolidation/suggestions/accept', { par: 'alice', filter: { cohorte_id: ajout!.id, statut: ['AVALIDER'] }, except: [third!.id] });
    assert.equal(all.statusCode, 200, all.body);
    assert.equal(all.json<{ changed: number }>().changed, ajout!.total - 3);

    const history = await get(`/api/v1/consolidation/suggestions/${first!.id}`);
    assert.equal(history.statusCode, 200, history.body);
    const h = history.json<{ statut: string; logs: { fonction: string; auteur: string }[] }>();
    assert.equal(h.statut, 'REJETEE');
    assert.deepEqual(h.logs.filter((l) => l.fonction.startsWith('revue.')).map((l) => [l.fonction, l.auteur]), [
      ['revue.accept', 'alice'],
      ['revue.reject', 'bob'],
    ]);

    // Bad input names the field.
    const bad = await get(`/api/v1/consolidation/cohorts/${ajout!.id}/suggestions?statut=PEUTETRE`);
    assert.equal(bad.statusCode, 400, bad.body);
    assert.ok(bad.json<{ issues: { field: string }[] }>().issues.some((i) => i.field.startsWith('statut')), bad.body);
    const badBody = await post('/api/v1/consolidation/suggestions/accept', { par: 'alice', filter: { cohorte_id: 'x' } });
    assert.equal(badBody.statusCode, 400, badBody.body);

    // Apply: every accepted suggestion becomes an acteur.
    const apply = await post('/api/v1/consolidation/runs', { kind: 'apply' });
    assert.equal(apply.statusCode, 202, apply.body);
    const applied = await finished('consolidation-apply');
    assert.equal(applied.status, 'completed', applied.failure);
    assert.deepEqual(applied.result, { succes: ajout!.total - 3, erreur: 0, skipped: 0 });
    const status = await get('/api/v1/consolidation/status');
    assert.equal(status.statusCode, 200, status.body);
    const s = status.json<{ acteurs: Record<string, number>; suggestions: Record<string, number>; sources: { code: string; acteurs: number }[] }>();
    assert.equal(s.acteurs.ACTIF, ajout!.total - 3);
    assert.deepEqual(s.suggestions, { AVALIDER: 1, REJETEE: 2, SUCCES: ajout!.total - 3 });
    assert.deepEqual(s.sources.find((x) => x.code === 'refashion')?.acteurs, ajout!.total - 3);

    // The cohort follows its suggestions: one still waits for a decision, so it is not closed; rejecting it closes it.
    const cohortOf = async () => (await get(ajout!.links.self!)).json<Cohort>();
    assert.equal((await cohortOf()).statut, 'AVALIDER');
    const last = await post(`/api/v1/consolidation/suggestions/${third!.id}/reject`, { par: 'alice' });
    assert.equal(last.statusCode, 200, last.body);
    const closed = await cohortOf();
    assert.equal(closed.statut, 'SUCCES');
    assert.deepEqual(closed.metadata.bilan, { succes: ajout!.total - 3, erreur: 0, rejetee: 3 });

    // Cluster: a bad config is refused naming the field; without one, every imported acteur type with the defaults.
    const badConfig = await post('/api/v1/consolidation/runs', { kind: 'cluster', input: { label: 'bad', config: { selection: {} } } });
    assert.equal(badConfig.statusCode, 400, badConfig.body);
    assert.ok(badConfig.json<{ issues: { field: string }[] }>().issues.some((i) => i.field === 'input.config.selection.acteurTypes'), badConfig.body);
    const cluster = await post('/api/v1/consolidation/runs', { kind: 'cluster', input: { label: 'api-test' } });
    assert.equal(cluster.statusCode, 202, cluster.body);
    assert.equal(cluster.json<{ workflow_id: string }>().workflow_id, 'consolidation-cluster-api-test');
    const clustered = await finished('consolidation-cluster-api-test');
    assert.equal(clustered.status, 'completed', clustered.failure);
    assert.equal((clustered.result as { label: string }).label, 'api-test');

    const listed = await get('/api/v1/consolidation/runs');
    assert.equal(listed.statusCode, 200, listed.body);
  });

  test('run starts: bad input named, a run still going is a conflict, export defaults to the ISO week', async () => {
    const bad = await post('/api/v1/consolidation/runs', { kind: 'ingest', input: { source: 'Not A Code' } });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.deepEqual(bad.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), ['input.source']);
    const unknownKind = await post('/api/v1/consolidation/runs', { kind: 'teleport' });
    assert.equal(unknownKind.statusCode, 400, unknownKind.body);

    // A workflow type this worker may not register yet still gets its deterministic id and the 409.
    const first = await post('/api/v1/consolidation/runs', { kind: 'export' });
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.json<{ workflow_id: string }>().workflow_id, 'consolidation-export-2026-W49');
    const handle = temporal.client.workflow.getHandle('consolidation-export-2026-W49');
    if ((await handle.describe()).status.name === 'RUNNING') {
      const again = await post('/api/v1/consolidation/runs', { kind: 'export', input: { semaine: '2026-W49' } });
      assert.equal(again.statusCode, 409, again.body);
      await handle.terminate('test done');
    }
    const notOurs = await get('/api/v1/consolidation/runs/nobody-knows-this');
    assert.equal(notOurs.statusCode, 404, notOurs.body);
  });

  test('enrich, sirene-load, publish, stats, export and cleanup runs; a failed run names its root cause; statistics; exports listed and downloaded', async () => {
    // Before any SIRENE stock: the run fails at once, and its status says why and where.
    const early = await post('/api/v1/consolidation/runs', { kind: 'enrich', input: { kind: 'sirene-closed' } });
    assert.equal(early.statusCode, 202, early.body);
    assert.equal(early.json<{ workflow_id: string }>().workflow_id, 'consolidation-enrich-sirene-closed');
    const failed = await finished('consolidation-enrich-sirene-closed');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.root_cause?.type, 'NotAvailableError');
    assert.equal(failed.root_cause?.activity, 'consolidationEnrichCheck');
    assert.match(failed.root_cause?.message ?? '', /no SIRENE stock loaded yet/);
    assert.match(failed.failure ?? '', /^NotAvailableError: no SIRENE stock loaded yet.* \(in activity consolidationEnrichCheck\)$/);

    const badKind = await post('/api/v1/consolidation/runs', { kind: 'enrich', input: { kind: 'moon' } });
    assert.equal(badKind.statusCode, 400, badKind.body);
    assert.deepEqual(badKind.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), ['input.kind']);
    const carried = await post('/api/v1/consolidation/runs', { kind: 'enrich', input: { kind: 'ban', state: { after: '' } } });
    assert.equal(carried.statusCode, 400, carried.body);
    const badWeek = await post('/api/v1/consolidation/runs', { kind: 'stats', input: { semaine: '2026-49' } });
    assert.equal(badWeek.statusCode, 400, badWeek.body);
    assert.deepEqual(badWeek.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), ['input.semaine']);

    const runTo = async (kind: string, input: Record<string, unknown>, workflowId: string) => {
      const res = await post('/api/v1/consolidation/runs', { kind, input });
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(res.json<{ workflow_id: string }>().workflow_id, workflowId);
      const run = await finished(workflowId);
      assert.equal(run.status, 'completed', run.failure);
      return run.result as Record<string, unknown>;
    };
    const load = await runTo('sirene-load', {}, 'consolidation-sirene-load');
    assert.equal(load.rows, 99);
    const enriched = await runTo('enrich', { kind: 'sirene-closed', pageSize: 50 }, 'consolidation-enrich-sirene-closed');
    assert.equal(enriched.kind, 'sirene-closed');
    assert.ok((enriched.actors as number) > 0, JSON.stringify(enriched));
    const published = await runTo('publish', {}, 'consolidation-publish');
    assert.ok(typeof published === 'object');

    const none = await get('/api/v1/consolidation/stats');
    assert.equal(none.statusCode, 404, none.body);
    const stats = await runTo('stats', {}, 'consolidation-stats-2026-W49');
    assert.equal(stats.semaine, '2026-W49');
    const read = await get('/api/v1/consolidation/stats');
    assert.equal(read.statusCode, 200, read.body);
    const r = read.json<{ semaine: string; semaines: string[]; sources: { source_code: string; acteurs: number; affiches_opendata: number }[] }>();
    assert.equal(r.semaine, '2026-W49');
    assert.deepEqual(r.semaines, ['2026-W49']);
    assert.equal(r.sources.at(-1)!.source_code, '*');
    assert.equal(r.sources.at(-1)!.acteurs, stats.acteurs);
    assert.ok(r.sources.some((x) => x.source_code === 'refashion'));
    assert.equal((await get('/api/v1/consolidation/stats?semaine=2026-W48')).statusCode, 404);
    const badStats = await get('/api/v1/consolidation/stats?semaine=49');
    assert.equal(badStats.statusCode, 400, badStats.body);
    assert.deepEqual(badStats.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), ['semaine']);

    const exported = await runTo('export', { semaine: '2026-W49' }, 'consolidation-export-2026-W49');
    const files = exported.files as { format: string; rows: number; sha256: string }[];
    const listed = await get('/api/v1/consolidation/exports');
    assert.equal(listed.statusCode, 200, listed.body);
    const items = listed.json<{ items: { semaine: string; format: string; lignes: number; sha256: string; links: { download: string } }[] }>().items;
    assert.deepEqual(items.map((e) => [e.semaine, e.format, e.lignes, e.sha256]), files.map((f) => ['2026-W49', f.format, f.rows, f.sha256]));
    assert.ok(items[0]!.lignes > 0, 'the openly licensed sources have displayed acteurs');

    const csv = await get('/api/v1/consolidation/exports/latest/csv');
    assert.equal(csv.statusCode, 200, csv.body);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.equal(csv.headers['x-export-week'], '2026-W49');
    assert.equal(Number(csv.headers['x-row-count']), items[0]!.lignes);
    assert.equal(csv.headers['x-sha256'], createHash('sha256').update(csv.rawPayload).digest('hex'));
    assert.equal(csv.body.trimEnd().split('\n').length, items[0]!.lignes + 1, 'header and one line per row');
    const geojson = await get(items[1]!.links.download);
    assert.equal(geojson.statusCode, 200, geojson.body);
    assert.match(String(geojson.headers['content-type']), /^application\/geo\+json/);
    assert.equal(geojson.headers['x-sha256'], items[1]!.sha256);
    assert.equal(geojson.json<{ features: unknown[] }>().features.length, Number(geojson.headers['x-row-count']));
    assert.equal((await get('/api/v1/consolidation/exports/2026-W01/csv')).statusCode, 404);
    const badFormat = await get('/api/v1/consolidation/exports/latest/xml');
    assert.equal(badFormat.statusCode, 400, badFormat.body);
    assert.deepEqual(badFormat.json<{ issues: { field: string }[] }>().issues.map((i) => i.field), ['format']);

    const cleaned = await runTo('cleanup', {}, 'consolidation-cleanup');
    assert.deepEqual(Object.keys(cleaned).sort(), ['cohortes', 'logs', 'suggestions']);
  });

  test('contract: every consolidation operation was exercised', () => {
    const ops = contract.operations().filter((op) => op.includes('/consolidation/'));
    assert.equal(ops.length, 15);
    assert.deepEqual(ops.filter((op) => !contract.seen.has(op)), []);
  });
});
