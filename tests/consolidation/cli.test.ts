/**
 * `moisson consolidation …` as a user runs it: a real process of bin/moisson.js against the stack's
 * PostgreSQL (a database of its own) and a test Temporal server whose worker runs the real workflows on
 * the sources replica. Ingest, list, accept one / all except, the guard's exit code, apply, status,
 * and bad invocations (exit 3).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createMoissonWorker } from '../../workers/create';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { startEntreprisesReplica, type EntreprisesReplica } from '../replicas/consolidation/entreprises/index';
import { consolidationWorkerEnv } from '../replicas/consolidation/worker-env';
import { runMoisson, type CliResult } from '../support/cli';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

const taskQueue = `consolidation-cli-${process.pid}`;
let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
let registry: EntreprisesReplica;
let dir: string;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  [db, archive, temporal, replica, registry, dir] = await Promise.all([
    createTestDatabase(),
    createTestArchive(),
    startTemporal(),
    startConsolidationReplica({ worldSize: 150 }),
    startEntreprisesReplica({ ratePerSecond: 0 }),
    mkdtemp(join(tmpdir(), 'moisson-cons-cli-')),
  ]);
  worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: consolidationWorkerEnv(replica, registry, join(dir, 'exports')) },
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled([replica?.close(), registry?.close(), temporal?.teardown(), db?.drop(), archive?.drop(), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

const moisson = (args: string[]): Promise<CliResult> =>
  runMoisson(['consolidation', ...args], { TEMPORAL_ADDRESS: temporal.address, MOISSON_TASK_QUEUE: taskQueue, DATABASE_URL: db.url, USER: 'cli-tester' });

describe('moisson consolidation', () => {
  test('ingest --sync, list, accept one and all except one, the guard, apply --sync, status', async () => {
    const ingest = await moisson(['ingest', 'ecosystem', '--sync']);
    assert.equal(ingest.code, 0, ingest.stdout + ingest.stderr);
    assert.match(ingest.stdout, /started consolidation-ingest-ecosystem/);
    const result = JSON.parse(ingest.stdout.slice(ingest.stdout.indexOf('{'))) as { cohorts: { type: string; id: number; suggestions: number }[] };
    const cohort = result.cohorts.find((c) => c.type === 'SOURCE_AJOUT')!;
    assert.ok(cohort.suggestions > 10);

    const cohorts = await moisson(['suggestions', 'list']);
    assert.equal(cohorts.code, 0, cohorts.stderr);
    assert.match(cohorts.stdout, new RegExp(`cohort ${cohort.id}\\s+SOURCE_AJOUT\\s+ecosystem\\s+AVALIDER ${cohort.suggestions}`));

    const page = await moisson(['suggestions', 'list', '--cohort', String(cohort.id), '--limit', '5', '--json']);
    assert.equal(page.code, 0, page.stderr);
    const p = JSON.parse(page.stdout) as { items: { id: number; statut: string }[]; next_cursor: string; total: number };
    assert.equal(p.items.length, 5);
    assert.equal(p.total, cohort.suggestions);
    const [a, b] = p.items;

    const one = await moisson(['suggestions', 'accept', String(a!.id), '--reason', 'vu']);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /^1 suggestion\(s\) accepted \(ATRAITER\) by cli-tester/);
    const again = await moisson(['suggestions', 'accept', String(a!.id)]);
    assert.equal(again.code, 1, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`1 left as they were \\(status\\): ${a!.id} ATRAITER`));

    const all = await moisson(['suggestions', 'accept', '--all', '--cohort', String(cohort.id), '--statut', 'AVALIDER', '--except', String(b!.id), '--by', 'alice']);
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.match(all.stdout, new RegExp(`^${cohort.suggestions - 2} suggestion\\(s\\) accepted`));
    const [logged] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestion_logs where niveau = 'INFO' and auteur = 'alice'`;
    assert.equal(logged!.n, cohort.suggestions - 2);

    const apply = await moisson(['apply', '--sync']);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.match(apply.stdout, new RegExp(`"succes": ${cohort.suggestions - 1}`));

    const cluster = await moisson(['cluster', '--label', 'cli-test', '--sync']);
    assert.equal(cluster.code, 0, cluster.stdout + cluster.stderr);
    assert.match(cluster.stdout, /config: \{"selection":\{"acteurTypes":\{"value":\[/);
    assert.match(cluster.stdout, /started consolidation-cluster-cli-test/);
    assert.match(cluster.stdout, /"label": "cli-test"/);

    const status = await moisson(['status']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, new RegExp(`acteurs\\s+ACTIF ${cohort.suggestions - 1}`));
    assert.match(status.stdout, /suggestions\s+AVALIDER 1, SUCCES/);
    assert.match(status.stdout, /run consolidation-(ingest-ecosystem|apply)/);
  });

  test('enrich before any stock fails naming its root cause; sirene-load, enrich, publish, stats, export, cleanup; exports listed and downloaded', async () => {
    const early = await moisson(['enrich', 'sirene-closed', '--sync']);
    assert.equal(early.code, 2, early.stdout + early.stderr);
    assert.match(early.stderr, /NotAvailableError: no SIRENE stock loaded yet.*\(in activity consolidationEnrichCheck\)/);
    const shown = await moisson(['run', 'consolidation-enrich-sirene-closed']);
    assert.equal(shown.code, 2, shown.stdout + shown.stderr);
    assert.match(shown.stdout, /consolidation-enrich-sirene-closed \(consolidationEnrich\) failed/);
    assert.match(shown.stdout, /failed: NotAvailableError: no SIRENE stock loaded yet.*\(in activity consolidationEnrichCheck\)/);

    const load = await moisson(['sirene-load', '--sync']);
    assert.equal(load.code, 0, load.stdout + load.stderr);
    assert.match(load.stdout, /started consolidation-sirene-load/);
    assert.match(load.stdout, /"rows": 99/);
    const enrich = await moisson(['enrich', 'sirene-closed', '--page-size', '50', '--sync']);
    assert.equal(enrich.code, 0, enrich.stdout + enrich.stderr);
    assert.match(enrich.stdout, /started consolidation-enrich-sirene-closed/);
    const publish = await moisson(['publish', '--sync']);
    assert.equal(publish.code, 0, publish.stdout + publish.stderr);

    const none = await moisson(['stats']);
    assert.equal(none.code, 2, none.stdout + none.stderr);
    assert.match(none.stderr, /no statistics computed yet/);
    const stats = await moisson(['stats', '--compute', '--week', '2026-W10', '--sync']);
    assert.equal(stats.code, 0, stats.stdout + stats.stderr);
    assert.match(stats.stdout, /started consolidation-stats-2026-W10/);
    assert.match(stats.stdout, /statistics of 2026-W10/);
    assert.match(stats.stdout, /\nall sources\s+\d+/);
    const json = await moisson(['stats', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { semaine: string }).semaine, '2026-W10');

    const noneYet = await moisson(['exports']);
    assert.equal(noneYet.code, 0, noneYet.stderr);
    assert.match(noneYet.stdout, /no export yet/);
    const exported = await moisson(['export', '--week', '2026-W10', '--sync']);
    assert.equal(exported.code, 0, exported.stdout + exported.stderr);
    const listed = await moisson(['exports', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const items = JSON.parse(listed.stdout) as { semaine: string; format: string; lignes: number; sha256: string }[];
    assert.deepEqual(items.map((e) => [e.semaine, e.format]), [['2026-W10', 'csv'], ['2026-W10', 'geojson']]);
    const table = await moisson(['exports']);
    assert.match(table.stdout, new RegExp(`2026-W10\\s+csv\\s+${items[0]!.lignes} rows`));

    const out = join(dir, 'latest.geojson');
    const download = await moisson(['download', 'latest', 'geojson', '--out', out]);
    assert.equal(download.code, 0, download.stdout + download.stderr);
    assert.match(download.stdout, new RegExp(`${items[1]!.lignes} rows.*sha256 ${items[1]!.sha256} \\(as recorded\\)`));
    const body = await readFile(out);
    assert.equal(createHash('sha256').update(body).digest('hex'), items[1]!.sha256);
    assert.equal((JSON.parse(body.toString('utf8')) as { features: unknown[] }).features.length, items[1]!.lignes);
    const missing = await moisson(['download', '2026-W01', 'csv', '--out', join(dir, 'nope.csv')]);
    assert.equal(missing.code, 2, missing.stdout + missing.stderr);
    assert.match(missing.stderr, /no csv export for 2026-W01/);
    const badFormat = await moisson(['download', 'latest', 'xml']);
    assert.equal(badFormat.code, 3, badFormat.stdout + badFormat.stderr);
    assert.match(badFormat.stderr, /format: must be one of csv, geojson/);

    const cleanup = await moisson(['cleanup', '--sync']);
    assert.equal(cleanup.code, 0, cleanup.stdout + cleanup.stderr);
    assert.match(cleanup.stdout, /started consolidation-cleanup/);
    const badKind = await moisson(['enrich', 'moon']);
    assert.equal(badKind.code, 3, badKind.stdout + badKind.stderr);
    assert.match(badKind.stderr, /kind: must be one of ban, sirene-closed/);
  });

  test('bad invocations exit 3 naming the problem', async () => {
    const badSource = await moisson(['ingest', 'Not A Code']);
    assert.equal(badSource.code, 3, badSource.stdout + badSource.stderr);
    assert.match(badSource.stderr, /source: must be a declared source code/);
    const noIds = await moisson(['suggestions', 'reject']);
    assert.equal(noIds.code, 3, noIds.stdout + noIds.stderr);
    const noCohort = await moisson(['suggestions', 'reject', '--all']);
    assert.equal(noCohort.code, 3, noCohort.stdout + noCohort.stderr);
    assert.match(noCohort.stderr, /--cohort is required/);
    const badStatut = await moisson(['suggestions', 'list', '--cohort', '1', '--statut', 'PEUTETRE']);
    assert.equal(badStatut.code, 3, badStatut.stdout + badStatut.stderr);
    const badConfig = await moisson(['cluster', '--config', '{"selection":{"acteurTypes":{"value":[]}}}']);
    assert.equal(badConfig.code, 3, badConfig.stdout + badConfig.stderr);
    assert.match(badConfig.stderr, /config\.selection\.acteurTypes\.value: at least one acteur type is required/);
    const badWeek = await moisson(['export', '--week', '2026-49']);
    assert.equal(badWeek.code, 3, badWeek.stdout + badWeek.stderr);
    assert.match(badWeek.stderr, /semaine: must be an ISO week/);
  });
});
