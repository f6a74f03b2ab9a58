/**
 * Ingestion and apply on the real services: Temporal, PostgreSQL, a worker, and the sources replica
 * serving the three HTTP source kinds. Runs go through the workflows, as in production.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BUILT_IN_DECLARATIONS_DIR } from '../../activities/consolidation/sources';
import { consolidationIngestWorkflowId } from '../../workflows/consolidation';
import { createMoissonWorker } from '../../workers/create';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { recordHistories } from '../support/histories';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
const taskQueue = `consolidation-test-${process.pid}`;
const histories = new URL('./histories/', import.meta.url);

before(async () => {
  testTelemetry();
  [db, archive, temporal, replica] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal(), startConsolidationReplica({ worldSize: 300 })]);
});
after(async () => {
  await Promise.allSettled([replica?.close(), temporal?.teardown(), db?.drop(), archive?.drop()]);
});

async function withWorker<T>(fn: () => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: { CONSOLIDATION_ENDPOINT_REWRITES: replica.rewrites, CONSOLIDATION_HTTP_TIMEOUT_MS: '5000', ...env } },
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(fn);
}

const scrape = () => testTelemetry().scrape();
const runs = (text: string, outcome: string) => seriesValue(text, 'moisson_run_duration_seconds_count', { pipeline: 'consolidation', outcome });
const items = (text: string, labels: Record<string, string>) => seriesValue(text, 'moisson_items_total', { pipeline: 'consolidation', ...labels });

const ingest = (source: string) =>
  temporal.client.workflow.execute('consolidationIngest', { taskQueue, workflowId: consolidationIngestWorkflowId(source), args: [{ source }], workflowIdReusePolicy: 'ALLOW_DUPLICATE' }) as Promise<{
    acteurs: number;
    rows: number;
    cohorts: { type: string; id: number; suggestions: number }[];
  }>;
const applyAll = async (history?: string) => {
  const workflowId = `consolidation-apply-test-${Date.now()}`;
  const result = await temporal.client.workflow.execute('consolidationApply', { taskQueue, workflowId, args: [{ batchSize: 50 }] });
  if (history) await recordHistories(temporal.client, histories, history, workflowId);
  return result;
};

async function acceptCohort(id: number) {
  await db.sql`update consolidation.suggestions set statut = 'ATRAITER' where cohorte_id = ${id} and statut = 'AVALIDER'`;
}

describe('consolidation ingestion through the replica', () => {
  test('each source kind ingests: data-fair, paged JSON (CMA), zip of a UTF-16 CSV (pharmacies)', async () => {
    const before = await scrape();
    let rows = 0;
    let acteurs = 0;
    await withWorker(async () => {
      for (const source of ['refashion', 'cma_reparacteur', 'ordredespharmaciens']) {
        const result = await ingest(source);
        assert.ok(result.rows > 20, `${source} read rows`);
        rows += result.rows;
        acteurs += result.acteurs;
        await recordHistories(temporal.client, histories, source, consolidationIngestWorkflowId(source));
        assert.ok(result.acteurs > 20 && result.acteurs <= result.rows, `${source} acteurs`);
        assert.deepEqual(
          result.cohorts.map((c) => c.type),
          ['SOURCE_AJOUT'],
        );
        assert.equal(result.cohorts[0]!.suggestions, result.acteurs);
        const [count] = await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.suggestions where cohorte_id = ${result.cohorts[0]!.id}`;
        assert.equal(count!.n, result.acteurs);
      }
      // Normalisation logs keep origin columns/values, destination columns and the message.
      const logs = await db.sql<{ niveau: string; fonction: string; origine_colonnes: string[]; origine_valeurs: string[]; destination_colonnes: string[]; message: string }[]>`
        select niveau, fonction, origine_colonnes, origine_valeurs, destination_colonnes, message from consolidation.suggestion_logs where source_code = 'refashion'`;
      const err = logs.find((l) => l.niveau === 'ERROR' && l.fonction === 'clean_acteur_type_code');
      assert.ok(err, 'an unknown acteur type drops its row with an ERROR log');
      assert.deepEqual(err.origine_colonnes, ['type_de_point_de_collecte']);
      assert.deepEqual(err.destination_colonnes, ['acteur_type_code']);
      assert.match(err.message, /not found in mapping/);
      assert.ok(logs.some((l) => l.niveau === 'WARNING'));
    });
    // Counted as the other pipelines count theirs: items by kind and result, rejections by reason, run durations.
    const now = await scrape();
    const delta = (f: (t: string) => number) => f(now) - f(before);
    assert.equal(delta((t) => items(t, { kind: 'acteur', result: 'scraped' })), rows, now);
    assert.equal(delta((t) => items(t, { kind: 'acteur', result: 'parsed' })), acteurs);
    assert.ok(delta((t) => items(t, { kind: 'acteur', result: 'rejected', reason: 'invalid_field' })) >= 1, 'the dropped refashion row is a rejection by reason');
    assert.equal(delta((t) => items(t, { kind: 'suggestion', result: 'suggested' })), acteurs);
    assert.equal(delta((t) => runs(t, 'success')), 3, 'one run duration per ingest');
    assert.ok(delta((t) => seriesValue(t, 'moisson_run_duration_seconds_sum', { pipeline: 'consolidation', outcome: 'success' })) > 0);
  });

  test('accepted suggestions are applied; a new generation gives MODIF / SUP / AJOUT cohorts with per-column counts', async () => {
    await withWorker(async () => {
      const cohorts = await db.sql<{ id: number }[]>`select id from consolidation.suggestion_cohortes where type_action = 'SOURCE_AJOUT' and source_code = 'refashion'`;
      for (const c of cohorts) await acceptCohort(Number(c.id));
      const before = await scrape();
      const applied = (await applyAll('refashion')) as { succes: number; erreur: number };
      assert.equal(applied.erreur, 0);
      const now = await scrape();
      assert.equal(items(now, { kind: 'suggestion', result: 'saved' }) - items(before, { kind: 'suggestion', result: 'saved' }), applied.succes);
      assert.equal(runs(now, 'success') - runs(before, 'success'), 1, 'the apply run, once');
      const [storedCount] = await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.acteurs where source_code = 'refashion'`;
      const stored = storedCount!.n;
      assert.ok(stored > 20);
      assert.equal(applied.succes, stored);

      // Re-ingesting the same rows suggests nothing.
      const again = await ingest('refashion');
      assert.deepEqual(again.cohorts, []);

      replica.setGeneration(1);
      const next = await ingest('refashion');
      const types = next.cohorts.map((c) => c.type).sort();
      assert.deepEqual(types, ['SOURCE_AJOUT', 'SOURCE_MODIFICATION', 'SOURCE_SUPRESSION']);
      const modif = next.cohorts.find((c) => c.type === 'SOURCE_MODIFICATION')!;
      const [meta] = await db.sql<{ metadata: { colonnes: Record<string, [number, number, number]> } }[]>`select metadata from consolidation.suggestion_cohortes where id = ${modif.id}`;
      assert.ok(meta!.metadata.colonnes.telephone, 'changed phones are counted');
      const [modifs] = meta!.metadata.colonnes.telephone!;
      assert.ok(modifs >= 1);
      const [del] = await db.sql<{ changes: { model_name: string }[]; contexte: { identifiant_unique: string } }[]>`
        select s.changes, s.contexte from consolidation.suggestions s where s.cohorte_id = ${next.cohorts.find((c) => c.type === 'SOURCE_SUPRESSION')!.id} limit 1`;
      assert.equal(del!.changes[0]!.model_name, 'source_acteur_delete');
      assert.ok(del!.contexte.identifiant_unique.startsWith('refashion_'));
      replica.setGeneration(0);
    });
  });

  test('a source that changes shape fails clearly, naming the column, and leaves the stored state untouched', async () => {
    const failuresBefore = runs(await scrape(), 'failure');
    await withWorker(async () => {
      const before = await db.sql`select count(*)::int n, (select count(*)::int from consolidation.suggestion_cohortes) c from consolidation.acteurs`;
      replica.setShape('donnees-eo-refashion', 'renamed');
      await assert.rejects(ingest('refashion'), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        const cause = e.cause?.cause as { type?: string; message?: string } | undefined;
        assert.equal(cause?.type, 'ResponseShapeError');
        assert.match(cause?.message ?? '', /changed shape/);
        assert.match(cause?.message ?? '', /`nom`/);
        return true;
      });
      replica.setShape('donnees-eo-refashion', 'extra');
      await assert.rejects(ingest('refashion'), (e: unknown) => /code_commune_insee/.test(String(((e as WorkflowFailedError).cause?.cause as Error | undefined)?.message)));
      replica.setShape('donnees-eo-refashion', 'normal');
      const afterRun = await db.sql`select count(*)::int n, (select count(*)::int from consolidation.suggestion_cohortes) c from consolidation.acteurs`;
      assert.deepEqual(afterRun, before);
    });
    assert.equal(runs(await scrape(), 'failure') - failuresBefore, 2, 'both failed runs have a duration, outcome failure');
  });

  test('a bad declaration is refused at once, with the field named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'declarations-'));
    const good = JSON.parse(readFileSync(join(BUILT_IN_DECLARATIONS_DIR, 'refashion.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'refashion.json'), JSON.stringify({ ...good, location: { kind: 'data-fair', baseUrl: 'ftp://nope', dataset: 'x' } }));
    await withWorker(
      async () => {
        const started = Date.now();
        await assert.rejects(ingest('refashion'), (e: unknown) => {
          const cause = (e as WorkflowFailedError).cause?.cause as { type?: string; message?: string };
          assert.equal(cause.type, 'ConfigurationError');
          assert.match(cause.message ?? '', /location\.baseUrl: must be an http\(s\) URL/);
          return true;
        });
        assert.ok(Date.now() - started < 20_000, 'refused without retries');
      },
      { CONSOLIDATION_DECLARATIONS_DIR: dir },
    );
  });
});
