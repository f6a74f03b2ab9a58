/**
 * `moisson consolidation …` as a user runs it: a real process of bin/moisson.js against the stack's
 * PostgreSQL (a database of its own) and a test Temporal server whose worker runs the real workflows on
 * the sources replica. Ingest, list, accept one / all except, the guard's exit code, apply, status,
 * and bad invocations (exit 3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createMoissonWorker } from '../../workers/create';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { runMoisson, type CliResult } from '../support/cli';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

const taskQueue = `consolidation-cli-${process.pid}`;
let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  [db, archive, temporal, replica] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal(), startConsolidationReplica({ worldSize: 150 })]);
  worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: { CONSOLIDATION_ENDPOINT_REWRITES: replica.rewrites, CONSOLIDATION_HTTP_TIMEOUT_MS: '5000' } },
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled([replica?.close(), temporal?.teardown(), db?.drop(), archive?.drop()]);
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
