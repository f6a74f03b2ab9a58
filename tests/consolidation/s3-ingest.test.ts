/**
 * An `s3` source ingested like the other kinds: consolidationIngest on the real Temporal and PostgreSQL,
 * the files in a real SeaweedFS. The rows are the CMA replica's (the Répar'Acteurs export), written once
 * as a `;` CSV and once as an Excel workbook; the built-in example declaration names no bucket and gets
 * the configured one, the Excel variant names its bucket and sheet.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import ExcelJS from 'exceljs';
import { BUILT_IN_DECLARATIONS_DIR } from '../../activities/consolidation/sources';
import { LOCAL_S3 } from '../../scripts/stack/seaweedfs';
import { consolidationIngestWorkflowId } from '../../workflows/consolidation';
import { createMoissonWorker } from '../../workers/create';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';
import { startTestS3, type TestS3 } from './s3-server';

let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let replica: ConsolidationReplica;
let s3: TestS3;
let declarations: string;
let cmaRows: Record<string, unknown>[];
const taskQueue = `consolidation-s3-test-${process.pid}`;

const COLUMNS = ['id', 'nom', 'adresse', 'adresse_2', 'code_postal', 'ville', 'latitude', 'longitude', 'siret', 'telephone', 'email', 'website', 'facebook', 'instagram', 'categories', 'horaires', 'description', 'nafa'];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[";\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

async function workbook(rows: Record<string, unknown>[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Lisez-moi').addRow(['Export Répar\'Acteurs; une ligne par artisan']);
  const sheet = wb.addWorksheet('Acteurs');
  sheet.addRow(COLUMNS);
  for (const row of rows) sheet.addRow(COLUMNS.map((c) => row[c] ?? null));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

before(async () => {
  [db, archive, temporal, replica, s3] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal(), startConsolidationReplica({ worldSize: 240 }), startTestS3()]);
  cmaRows = replica.rows('cma');
  const csv = [COLUMNS.join(';'), ...cmaRows.map((r) => COLUMNS.map((c) => csvCell(r[c])).join(';'))].join('\r\n') + '\r\n';
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'reparacteurs/reparacteurs.csv', Body: csv }));
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'reparacteurs/reparacteurs.xlsx', Body: await workbook(cmaRows) }));

  declarations = mkdtempSync(join(tmpdir(), 's3-declarations-'));
  copyFileSync(join(BUILT_IN_DECLARATIONS_DIR, 'reparacteurs_fichier.json'), join(declarations, 'reparacteurs_fichier.json'));
  const example = JSON.parse(readFileSync(join(BUILT_IN_DECLARATIONS_DIR, 'reparacteurs_fichier.json'), 'utf8')) as {
    normalization: { rules: { column?: string; value?: unknown }[] };
  };
  const rules = example.normalization.rules.map((r) => (r.column === 'source_code' ? { ...r, value: 'reparacteurs_excel' } : r));
  writeFileSync(
    join(declarations, 'reparacteurs_excel.json'),
    JSON.stringify({
      ...example,
      code: 'reparacteurs_excel',
      location: { kind: 's3', bucket: s3.bucket, key: 'reparacteurs/reparacteurs.xlsx', format: 'xlsx', sheet: 'Acteurs' },
      normalization: { ...example.normalization, rules },
    }),
  );
});
after(async () => {
  await Promise.allSettled([s3?.close(), replica?.close(), temporal?.teardown(), db?.drop(), archive?.drop()]);
});

function s3Env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CONSOLIDATION_DECLARATIONS_DIR: declarations,
    CONSOLIDATION_S3_ENDPOINT: s3.endpoint,
    CONSOLIDATION_S3_REGION: process.env.CONSOLIDATION_S3_REGION ?? LOCAL_S3.region,
    CONSOLIDATION_S3_ACCESS_KEY_ID: process.env.CONSOLIDATION_S3_ACCESS_KEY_ID ?? LOCAL_S3.accessKeyId,
    CONSOLIDATION_S3_SECRET_ACCESS_KEY: process.env.CONSOLIDATION_S3_SECRET_ACCESS_KEY ?? LOCAL_S3.secretAccessKey,
    CONSOLIDATION_S3_BATCH_ROWS: '25',
    ...extra,
  };
}

async function withWorker<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env },
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(fn);
}

const ingest = (source: string) =>
  temporal.client.workflow.execute('consolidationIngest', { taskQueue, workflowId: consolidationIngestWorkflowId(source), args: [{ source }], workflowIdReusePolicy: 'ALLOW_DUPLICATE' }) as Promise<{
    source: string;
    acteurs: number;
    rows: number;
    cohorts: { type: string; id: number; suggestions: number }[];
  }>;

type Created = { model_params: { id: string; data: Record<string, unknown> } };

async function created(cohortId: number): Promise<Map<string, Record<string, unknown>>> {
  const rows = await db.sql<{ changes: Created[] }[]>`select changes from consolidation.suggestions where cohorte_id = ${cohortId}`;
  return new Map(rows.map((r) => [r.changes[0]!.model_params.id, r.changes[0]!.model_params.data]));
}

describe('s3 sources through consolidationIngest', () => {
  test('a CSV (configured bucket) and an Excel sheet (declared bucket) ingest into the same acteurs as the file rows', async () => {
    await withWorker(s3Env({ CONSOLIDATION_S3_BUCKET: s3.bucket }), async () => {
      const fromCsv = await ingest('reparacteurs_fichier');
      const fromXlsx = await ingest('reparacteurs_excel');
      for (const result of [fromCsv, fromXlsx]) {
        assert.equal(result.rows, cmaRows.length, `${result.source}: every file row read`);
        assert.ok(result.acteurs > 20 && result.acteurs <= result.rows, `${result.source}: acteurs`);
        assert.deepEqual(
          result.cohorts.map((c) => c.type),
          ['SOURCE_AJOUT'],
        );
        assert.equal(result.cohorts[0]!.suggestions, result.acteurs);
      }
      assert.equal(fromXlsx.acteurs, fromCsv.acteurs);

      // The same file rows through both formats: the same normalised fields (Excel keeps numbers as numbers).
      const csvActeurs = await created(fromCsv.cohorts[0]!.id);
      const xlsxActeurs = await created(fromXlsx.cohorts[0]!.id);
      const [sampleId, sample] = [...csvActeurs][0]!;
      assert.match(sampleId, /^reparacteurs_fichier_\d+$/);
      const twin = xlsxActeurs.get(sampleId.replace('reparacteurs_fichier_', 'reparacteurs_excel_'));
      assert.ok(twin, 'the Excel source holds the same acteur');
      for (const field of ['nom', 'adresse', 'code_postal', 'ville', 'siret', 'telephone', 'latitude', 'longitude']) {
        assert.deepEqual(twin[field], sample[field], `${field} is the same through CSV and Excel`);
      }
      // clean_code_postal gives back the leading zero the API's numbers lose, in both formats.
      for (const data of [...csvActeurs.values(), ...xlsxActeurs.values()]) {
        if (data.code_postal) assert.match(String(data.code_postal), /^\d{5}$/);
      }
      const [stored] = await db.sql<{ kind: string }[]>`select declaration->'location'->>'kind' as kind from consolidation.sources where code = 'reparacteurs_fichier'`;
      assert.equal(stored!.kind, 's3');
    });
  });

  test('no bucket anywhere is refused at once, naming CONSOLIDATION_S3_BUCKET; a missing object names the object', async () => {
    await withWorker(s3Env(), async () => {
      const started = Date.now();
      await assert.rejects(ingest('reparacteurs_fichier'), (e: unknown) => {
        const cause = (e as WorkflowFailedError).cause?.cause as { type?: string; message?: string };
        assert.equal(cause.type, 'ConfigurationError');
        assert.match(cause.message ?? '', /location\.bucket.*CONSOLIDATION_S3_BUCKET/);
        return true;
      });
      assert.ok(Date.now() - started < 20_000, 'refused without retries');
    });
    const gone = JSON.parse(readFileSync(join(declarations, 'reparacteurs_excel.json'), 'utf8')) as { location: Record<string, unknown> };
    writeFileSync(join(declarations, 'reparacteurs_excel.json'), JSON.stringify({ ...gone, location: { ...gone.location, key: 'reparacteurs/absent.xlsx' } }));
    await withWorker(s3Env(), async () => {
      await assert.rejects(ingest('reparacteurs_excel'), (e: unknown) => {
        const cause = (e as WorkflowFailedError).cause?.cause as { type?: string; message?: string };
        assert.equal(cause.type, 'NotAvailableError');
        assert.match(cause.message ?? '', /no object 'reparacteurs\/absent\.xlsx' in bucket/);
        return true;
      });
    });
  });
});
