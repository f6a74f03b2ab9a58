/**
 * The demo's consolidation round (scripts/demo/consolidation.ts) end to end, as `npm run demo` runs it
 * but against a test Temporal server, a database of its own and the sources replica: three sources
 * ingested, accepted, applied, clustered, accepted and applied again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { DEMO_SOURCES, demoConsolidation } from '../../scripts/demo/consolidation';
import { main } from '../../scripts/cli';
import { createMoissonWorker } from '../../workers/create';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

const taskQueue = `consolidation-demo-${process.pid}`;
const exportDir = mkdtempSync(join(tmpdir(), 'moisson-demo-export-'));
let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  [db, archive, temporal, replica] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal(), startConsolidationReplica({ worldSize: 200 })]);
  worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: { CONSOLIDATION_ENDPOINT_REWRITES: replica.rewrites, CONSOLIDATION_HTTP_TIMEOUT_MS: '5000', CONSOLIDATION_EXPORT_DIR: exportDir } },
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
  // The CLI runs in this process, as in the demo: it reads these.
  Object.assign(process.env, { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporal.address, MOISSON_TASK_QUEUE: taskQueue });
});
after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled([replica?.close(), temporal?.teardown(), db?.drop(), archive?.drop()]);
  rmSync(exportDir, { recursive: true, force: true });
});

describe('the demo consolidation round', () => {
  test('ingest three sources, accept, apply, cluster across sources, accept, apply, export', async () => {
    const lines: string[] = [];
    const status = await demoConsolidation({ databaseUrl: db.url, label: 'demo-test', moisson: (args) => main(['node', 'moisson', ...args]) }, (l = '') => lines.push(l));
    assert.equal(process.exitCode ?? 0, 0);
    assert.deepEqual(status.sources.map((s) => s.code).sort(), [...DEMO_SOURCES].sort());
    for (const s of status.sources) assert.ok(s.acteurs > 10, `${s.code} has acteurs`);
    assert.equal(status.suggestions.AVALIDER ?? 0, 0, 'everything was decided');
    assert.equal(status.suggestions.ERREUR ?? 0, 0, JSON.stringify(status.suggestions));
    assert.ok(status.revisions > 0, 'clusters were applied: parents and children in revision_acteurs');
    const [clusters] = await db.sql<{ n: number; parents: number }[]>`
      select count(*)::int as n, (select count(*)::int from consolidation.revision_acteurs where est_parent) as parents
        from consolidation.suggestions s join consolidation.suggestion_cohortes c on c.id = s.cohorte_id
       where c.type_action = 'CLUSTERING' and s.statut = 'SUCCES'`;
    assert.ok(clusters!.n > 0 && clusters!.parents > 0, JSON.stringify(clusters));
    assert.ok(lines.some((l) => /accepted the cluster suggestions of 1 cohort/.test(l)), lines.join('\n'));
    const exported = await db.sql<{ format: string; lignes: number }[]>`select format, lignes from consolidation.exports_opendata order by format`;
    assert.deepEqual(exported.map((e) => e.format), ['csv', 'geojson']);
  });
});
