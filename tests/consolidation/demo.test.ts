/**
 * The demo's consolidation round (scripts/demo/consolidation.ts) end to end, as `npm run demo` runs it
 * but against a test Temporal server, a database of its own and the sources replica: three sources
 * ingested, accepted, applied, clustered, accepted and applied again, checked against the BAN replica,
 * exported; and the round says what it did.
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
import { startBanReplica, type BanReplica } from '../replicas/consolidation/ban/index';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

const taskQueue = `consolidation-demo-${process.pid}`;
const exportDir = mkdtempSync(join(tmpdir(), 'moisson-demo-export-'));
let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
let ban: BanReplica;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  [db, archive, temporal, replica, ban] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal(), startConsolidationReplica({ worldSize: 200 }), startBanReplica()]);
  worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: { CONSOLIDATION_ENDPOINT_REWRITES: replica.rewrites, CONSOLIDATION_HTTP_TIMEOUT_MS: '5000', CONSOLIDATION_EXPORT_DIR: exportDir, CONSOLIDATION_BAN_URL: ban.url } },
    workflowBundle: await workflowBundle(),
  });
  running = worker.run();
  // The CLI runs in this process, as in the demo: it reads these.
  Object.assign(process.env, { DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporal.address, MOISSON_TASK_QUEUE: taskQueue });
});
after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await Promise.allSettled([replica?.close(), ban?.close(), temporal?.teardown(), db?.drop(), archive?.drop()]);
  rmSync(exportDir, { recursive: true, force: true });
});

describe('the demo consolidation round', () => {
  test('ingest three sources, accept, apply, cluster across sources, accept, apply, enrich through the BAN, export; says what it did', async () => {
    const lines: string[] = [];
    const status = await demoConsolidation({ databaseUrl: db.url, label: 'demo-test', moisson: (args) => main(['node', 'moisson', ...args]) }, (l = '') => lines.push(l));
    assert.equal(process.exitCode ?? 0, 0);
    assert.deepEqual(status.sources.map((s) => s.code).sort(), [...DEMO_SOURCES].sort());
    for (const s of status.sources) assert.ok(s.acteurs > 10, `${s.code} has acteurs`);
    // Everything was decided but the BAN's coordinate corrections, left for a person to review.
    const toReview = status.round.cohorts.ENRICH_ACTEURS_COORDONNEES?.waiting ?? 0;
    assert.equal(toReview, status.round.cohorts.ENRICH_ACTEURS_COORDONNEES?.suggestions ?? 0, JSON.stringify(status.round));
    assert.equal(status.suggestions.AVALIDER ?? 0, toReview, JSON.stringify(status.suggestions));
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

    // The BAN was asked (the batch path), and what it proposed went through review and apply too.
    assert.ok(ban.requests().some((r) => r.path.startsWith('/search/csv')), 'batch geocoding');
    const [enrichRun] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestion_cohortes where identifiant_action like 'enrich_%'`;
    const round = status.round;
    const enrichSuggestions = Object.entries(round.cohorts).filter(([t]) => t.startsWith('ENRICH_')).reduce((a, [, c]) => a + c.suggestions, 0);
    assert.equal(enrichRun!.n > 0, enrichSuggestions > 0);
    assert.ok(round.cohorts.SOURCE_AJOUT!.applied > 0 && round.cohorts.CLUSTERING!.applied > 0, JSON.stringify(round));
    assert.deepEqual(round.export.map((e) => e.format), ['csv', 'geojson']);
    // Every other cohort of the round was reviewed and applied whole: each is closed; the coordinates' waits.
    const open = await db.sql<{ type_action: string; statut: string }[]>`select c.type_action, c.statut from consolidation.suggestion_cohortes c where c.statut <> 'SUCCES' and exists (select 1 from consolidation.suggestions s where s.cohorte_id = c.id)`;
    assert.deepEqual(open.map((c) => ({ ...c })), toReview > 0 ? [{ type_action: 'ENRICH_ACTEURS_COORDONNEES', statut: 'AVALIDER' }] : []);
    assert.ok(lines.some((l) => l.includes(`${toReview} coordinate corrections left waiting for review (AVALIDER`)), lines.join('\n'));
    const [enrichApplied] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestions s join consolidation.suggestion_cohortes c on c.id = s.cohorte_id
       where c.type_action in ('ENRICH_ACTEURS_CP', 'ENRICH_ACTEURS_VILLES') and s.statut <> 'SUCCES'`;
    assert.equal(enrichApplied!.n, 0, 'the postcode and city corrections were applied');
    const done = lines.find((l) => /^demo: consolidation round done: 3 sources ingested → \d+ source suggestions, \d+ applied \(0 failed\);/.test(l));
    assert.ok(done, lines.join('\n'));
    assert.ok(lines.some((l) => /duplicate clusters across sources, \d+ applied .* BAN corrections, \d+ applied/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => new RegExp(`open-data export \\d{4}-W\\d{2} csv ${exported[0]!.lignes} rows, \\d{4}-W\\d{2} geojson ${exported[1]!.lignes} rows`).test(l)), lines.join('\n'));
  });
});
