/**
 * Publishing on the real services: the displayed acteurs (revision over source, parents only,
 * children's services rolled up, the map and open-data perimeters), the weekly statistics, the weekly
 * open-data export (CSV and GeoJSON written, read back and counted against the database), the cleanup
 * of old logs and finished suggestions, and their Schedules registered idempotently.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse } from 'csv-parse/sync';
import { exportOpenData, publishDisplayed } from '../../activities/consolidation/publish';
import { displayedUuid } from '../../activities/consolidation/normalize/identity';
import { applySchedules, SCHEDULES } from '../../control/schedules';
import { consolidationExportWorkflowId, isoWeek, type ConsolidationExportResult } from '../../workflows/consolidation';
import { createMoissonWorker } from '../../workers/create';
import { recordHistories } from '../support/histories';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
const taskQueue = `consolidation-publish-test-${process.pid}`;
const histories = new URL('./histories/', import.meta.url);
const exportDir = mkdtempSync(join(tmpdir(), 'moisson-export-'));
const PARENT = 'parent-p';
const INACTIVE_PARENT = 'parent-q';

type Services = { action: string; sous_categories: string[] }[];
interface Seed {
  id: string;
  source: 'refashion' | 'ecosystem';
  services?: Services;
  publicAccueilli?: string;
  lieu?: string;
  statut?: string;
  lat?: number;
}
const SEEDS: Seed[] = [
  { id: 'refashion_1', source: 'refashion', services: [{ action: 'donner', sous_categories: ['vetement'] }], lat: 48.85 },
  { id: 'ecosystem_1', source: 'ecosystem', services: [{ action: 'donner', sous_categories: ['electromenager'] }] },
  { id: 'refashion_2', source: 'refashion', services: [{ action: 'reparer', sous_categories: ['velo'] }], lieu: 'SUR_PLACE' },
  { id: 'ecosystem_2', source: 'ecosystem', services: [{ action: 'reparer', sous_categories: ['velo', 'trottinette'] }, { action: 'donner', sous_categories: ['livre'] }], lieu: 'A_DOMICILE' },
  { id: 'refashion_3', source: 'refashion', services: [] },
  { id: 'refashion_4', source: 'refashion', services: [{ action: 'donner', sous_categories: ['vetement'] }], publicAccueilli: 'Professionnels' },
  { id: 'refashion_5', source: 'refashion', services: [{ action: 'donner', sous_categories: ['vetement'] }], statut: 'INACTIF' },
  { id: 'ecosystem_3', source: 'ecosystem', services: [{ action: 'donner', sous_categories: ['livre'] }] },
  { id: 'refashion_6', source: 'refashion', services: [{ action: 'preter', sous_categories: ['outil', ''] }, { action: 'louer', sous_categories: [] }] },
];

before(async () => {
  [db, archive, temporal] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal()]);
  await db.sql`insert into consolidation.sources (code, libelle, licence) values ('refashion', 'Refashion', 'OPEN_LICENSE'), ('ecosystem', 'ecosystem', 'NO_LICENSE')`;
  for (const s of SEEDS) {
    await db.sql`insert into consolidation.acteurs (identifiant_unique, source_code, identifiant_externe, nom, adresse, code_postal, ville, latitude, longitude, siret,
        public_accueilli, lieu_prestation, statut, proposition_service_codes, acteur_type_code)
      values (${s.id}, ${s.source}, ${s.id.split('_')[1]!}, ${`Acteur ${s.id}`}, ${'1 rue, "quoted"\nbâtiment B'}, '75001', 'Paris', ${s.lat ?? null}, ${s.lat ? 2.35 : null},
        ${s.source === 'refashion' ? '12345678901234' : null}, ${s.publicAccueilli ?? 'Particuliers'}, ${s.lieu ?? null}, ${s.statut ?? 'ACTIF'},
        ${JSON.stringify(s.services ?? [])}::jsonb, 'commerce')`;
  }
  await db.sql`insert into consolidation.revision_acteurs (identifiant_unique, nom, est_parent, public_accueilli) values (${PARENT}, 'Le parent', true, 'Particuliers')`;
  await db.sql`insert into consolidation.revision_acteurs (identifiant_unique, nom, est_parent, statut) values (${INACTIVE_PARENT}, 'Parent fermé', true, 'INACTIF')`;
  await db.sql`insert into consolidation.revision_acteurs (identifiant_unique, parent_id) values ('refashion_2', ${PARENT}), ('ecosystem_2', ${PARENT}), ('ecosystem_3', ${INACTIVE_PARENT})`;
  // An empty revision value never blanks the imported one; a non-empty one wins.
  await db.sql`insert into consolidation.revision_acteurs (identifiant_unique, nom) values ('refashion_1', ''), ('refashion_6', 'Nom revu')`;
});
after(async () => {
  await Promise.allSettled([temporal?.teardown(), db?.drop(), archive?.drop()]);
});

async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
  const worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: { CONSOLIDATION_EXPORT_DIR: exportDir, CONSOLIDATION_LOG_RETENTION_DAYS: '30', CONSOLIDATION_SUGGESTION_RETENTION_DAYS: '60' } },
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(fn);
}

async function run<T>(type: string, workflowId: string, args: unknown[] = []): Promise<T> {
  const result = (await temporal.client.workflow.execute(type, { taskQueue, workflowId, args, workflowIdReusePolicy: 'ALLOW_DUPLICATE' })) as T;
  await recordHistories(temporal.client, histories, 'test', workflowId);
  return result;
}

interface Displayed {
  perimetre: string;
  identifiant_unique: string;
  uuid: string;
  nom: string;
  lieu_prestation: string | null;
  proposition_service_codes: Services;
  sources: { source_code: string; identifiant_externe: string }[];
  nombre_enfants: number;
}
const displayed = (perimetre: string) =>
  db.sql<Displayed[]>`select perimetre, identifiant_unique, uuid, nom, lieu_prestation, proposition_service_codes, sources, nombre_enfants
    from consolidation.acteurs_affiches where perimetre = ${perimetre} order by identifiant_unique`;

describe('consolidation publishing', () => {
  test('the displayed acteurs: revision over source, parents only, services rolled up; open data from open sources only', async () => {
    const result = await withWorker(() => run<{ carte: number; opendata: number }>('consolidationPublish', 'consolidation-publish-test'));
    assert.deepEqual([result.carte, result.opendata], [4, 3]);

    const carte = await displayed('carte');
    assert.deepEqual(carte.map((r) => r.identifiant_unique), ['ecosystem_1', PARENT, 'refashion_1', 'refashion_6']);
    const parent = carte.find((r) => r.identifiant_unique === PARENT)!;
    assert.equal(parent.nom, 'Le parent');
    assert.deepEqual(parent.proposition_service_codes, [
      { action: 'donner', sous_categories: ['livre'] },
      { action: 'reparer', sous_categories: ['trottinette', 'velo'] },
    ]);
    assert.deepEqual(parent.sources, [
      { source_code: 'ecosystem', identifiant_externe: '2' },
      { source_code: 'refashion', identifiant_externe: '2' },
    ]);
    assert.equal(parent.lieu_prestation, 'A_DOMICILE', "the strongest of its children's");
    assert.equal(parent.nombre_enfants, 2);
    assert.equal(carte.find((r) => r.identifiant_unique === 'refashion_1')!.nom, 'Acteur refashion_1', 'an empty revision value keeps the imported one');
    assert.equal(carte.find((r) => r.identifiant_unique === 'refashion_6')!.nom, 'Nom revu');
    assert.deepEqual(carte.find((r) => r.identifiant_unique === 'refashion_6')!.proposition_service_codes, [{ action: 'preter', sous_categories: ['outil'] }], 'blank sous-catégories and empty actions are left out');
    assert.equal(carte.find((r) => r.identifiant_unique === 'refashion_1')!.uuid, displayedUuid('refashion_1'));

    const opendata = await displayed('opendata');
    assert.deepEqual(opendata.map((r) => r.identifiant_unique), [PARENT, 'refashion_1', 'refashion_6']);
    const openParent = opendata.find((r) => r.identifiant_unique === PARENT)!;
    assert.deepEqual(openParent.proposition_service_codes, [{ action: 'reparer', sous_categories: ['velo'] }]);
    assert.deepEqual(openParent.sources, [{ source_code: 'refashion', identifiant_externe: '2' }]);
    assert.equal(openParent.lieu_prestation, 'SUR_PLACE');
    assert.equal(openParent.nombre_enfants, 1);

    // Rebuilding gives the same set (the refresh is whole, not additive).
    const again = await publishDisplayed(db.sql);
    assert.deepEqual([again.carte, again.opendata], [4, 3]);
  });

  test('weekly statistics: per source and for all, upserted on the week', async () => {
    await withWorker(async () => {
      for (let i = 0; i < 2; i++) await run('consolidationStats', 'consolidation-stats-test', [{ semaine: '2026-W49' }]);
    });
    const rows = await db.sql<{ source_code: string; acteurs: number; acteurs_actifs: number; revisions: number; parents: number; enfants: number; affiches_carte: number; affiches_opendata: number; avec_siret: number }[]>`
      select source_code, acteurs, acteurs_actifs, revisions, parents, enfants, affiches_carte, affiches_opendata, avec_siret from consolidation.statistiques_hebdo where semaine = '2026-W49' order by source_code`;
    assert.deepEqual(rows.map((r) => r.source_code), ['*', 'ecosystem', 'refashion']);
    const [all, ecosystem, refashion] = rows;
    assert.deepEqual([all!.acteurs, all!.acteurs_actifs, all!.revisions, all!.parents, all!.enfants, all!.affiches_carte, all!.affiches_opendata], [9, 8, 5, 2, 3, 4, 3]);
    assert.deepEqual([ecosystem!.acteurs, ecosystem!.enfants, ecosystem!.affiches_carte, ecosystem!.affiches_opendata, ecosystem!.avec_siret], [3, 2, 2, 0, 0]);
    assert.deepEqual([refashion!.acteurs, refashion!.affiches_carte, refashion!.affiches_opendata, refashion!.avec_siret], [6, 3, 3, 6]);
    await assert.rejects(withWorker(() => run('consolidationStats', 'consolidation-stats-bad', [{ semaine: '2026-49' }])), (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      assert.match((e.cause as { message?: string } | undefined)?.message ?? '', /semaine: must be an ISO week/);
      return true;
    });
  });

  test('the weekly open-data export: CSV and GeoJSON, open sources only, counts checked, files in the configured folder', async () => {
    const semaine = '2026-W49';
    const result = await withWorker(() => run<ConsolidationExportResult>('consolidationExport', consolidationExportWorkflowId(semaine), [{ semaine }]));
    assert.equal(result.semaine, semaine);
    assert.deepEqual(result.files.map((f) => [f.format, f.rows]), [
      ['csv', 3],
      ['geojson', 3],
    ]);
    assert.deepEqual(readdirSync(join(exportDir, semaine)).sort(), ['acteurs.csv', 'acteurs.geojson'], 'no .part file left');

    const csv = parse(readFileSync(join(exportDir, semaine, 'acteurs.csv')), { columns: true }) as Record<string, string>[];
    assert.equal(csv.length, 3);
    assert.deepEqual(csv.map((r) => r.identifiant).sort(), [PARENT, 'refashion_1', 'refashion_6'].map(displayedUuid).sort());
    const r1 = csv.find((r) => r.identifiant === displayedUuid('refashion_1'))!;
    assert.equal(r1.adresse, '1 rue, "quoted"\nbâtiment B', 'commas, quotes and line breaks survive (and records, not lines, are counted)');
    assert.equal(r1.paternite, 'refashion');
    assert.ok(!('email' in r1), 'emails are never published');

    const geo = JSON.parse(readFileSync(join(exportDir, semaine, 'acteurs.geojson'), 'utf8')) as { type: string; features: { geometry: { coordinates: number[] } | null; properties: Record<string, unknown> }[] };
    assert.equal(geo.type, 'FeatureCollection');
    assert.equal(geo.features.length, 3);
    const f1 = geo.features.find((f) => f.properties.identifiant === displayedUuid('refashion_1'))!;
    assert.deepEqual(f1.geometry!.coordinates, [2.35, 48.85]);
    assert.equal(geo.features.filter((f) => f.geometry === null).length, 2, 'acteurs without coordinates keep a null geometry');

    const recorded = await db.sql<{ format: string; lignes: number; sha256: string }[]>`select format, lignes, sha256 from consolidation.exports_opendata where semaine = ${semaine} order by format`;
    assert.deepEqual(recorded.map((r) => [r.format, r.lignes]), [
      ['csv', 3],
      ['geojson', 3],
    ]);
    assert.equal(recorded[0]!.sha256, result.files[0]!.sha256);

    // Streamed one row per batch, the GeoJSON is still one valid document.
    const small = await exportOpenData(db.sql, { dir: exportDir, semaine: '2026-W50', format: 'geojson', batchRows: 1 });
    assert.equal(small.rows, 3);
    assert.equal((JSON.parse(readFileSync(small.path, 'utf8')) as { features: unknown[] }).features.length, 3);

    // An export that fails half-way publishes nothing: the week's previous file stays as it was.
    const before = readFileSync(small.path, 'utf8');
    await assert.rejects(
      exportOpenData(db.sql, {
        dir: exportDir,
        semaine: '2026-W50',
        format: 'geojson',
        batchRows: 1,
        onProgress: (rows) => {
          if (rows === 2) throw new Error('disk gone');
        },
      }),
      /disk gone/,
    );
    assert.equal(readFileSync(small.path, 'utf8'), before);
    assert.deepEqual(readdirSync(join(exportDir, '2026-W50')), ['acteurs.geojson'], 'the partial file is removed');
    assert.match(isoWeek(new Date('2026-12-05T12:00:00Z')), /^2026-W49$/);
    assert.equal(isoWeek(new Date('2027-01-01T12:00:00Z')), '2026-W53');
  });

  test('cleanup deletes old logs and finished suggestions, keeps what a person must still see', async () => {
    const [cohort] = await db.sql<{ id: number }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, created_at)
      values ('source_refashion', 'old-run', 'SOURCE_AJOUT', now() - interval '100 days') returning id`;
    const [kept] = await db.sql<{ id: number }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, created_at)
      values ('source_refashion', 'old-run-2', 'SOURCE_AJOUT', now() - interval '100 days') returning id`;
    const change = JSON.stringify([{ order: 1, reason: 'acteur absent de la source', model_name: 'source_acteur_delete', model_params: { id: 'x' } }]);
    await db.sql`insert into consolidation.suggestions (cohorte_id, cle, changes, statut, updated_at) values
      (${cohort!.id}, 'a', ${change}::jsonb, 'SUCCES', now() - interval '90 days'),
      (${cohort!.id}, 'b', ${change}::jsonb, 'REJETEE', now() - interval '90 days'),
      (${kept!.id}, 'c', ${change}::jsonb, 'ERREUR', now() - interval '90 days'),
      (${kept!.id}, 'd', ${change}::jsonb, 'SUCCES', now() - interval '10 days')`;
    await db.sql`insert into consolidation.suggestion_logs (identifiant_execution, niveau, fonction, origine_colonnes, origine_valeurs, destination_colonnes, message, created_at) values
      ('old-run', 'WARNING', 'clean_siret', '{siret}', '["1"]', '{siret}', 'old', now() - interval '40 days'),
      ('new-run', 'WARNING', 'clean_siret', '{siret}', '["1"]', '{siret}', 'new', now() - interval '1 day')`;
    const result = await withWorker(() => run<{ logs: number; suggestions: number; cohortes: number }>('consolidationCleanup', 'consolidation-cleanup-test'));
    assert.deepEqual(result, { logs: 1, suggestions: 2, cohortes: 1 });
    const left = await db.sql<{ cle: string }[]>`select cle from consolidation.suggestions order by cle`;
    assert.deepEqual(left.map((r) => r.cle), ['c', 'd']);
    const logs = await db.sql<{ message: string }[]>`select message from consolidation.suggestion_logs`;
    assert.deepEqual(logs.map((r) => r.message), ['new']);
  });

  test('the Schedules are registered once and left alone the second time', async () => {
    const mine = SCHEDULES.filter((s) => ['consolidation-publish', 'consolidation-stats', 'consolidation-export', 'consolidation-cleanup'].includes(s.scheduleId));
    assert.equal(mine.length, 4);
    assert.deepEqual((await applySchedules(temporal.client, taskQueue, mine)).map((o) => o.change), ['created', 'created', 'created', 'created']);
    assert.deepEqual((await applySchedules(temporal.client, taskQueue, mine)).map((o) => o.change), ['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const desc = await temporal.client.schedule.getHandle('consolidation-export').describe();
    // Every Schedule starts scheduledRun, which starts the run under its contract's id.
    assert.equal(desc.action.type === 'startWorkflow' && desc.action.workflowType, 'scheduledRun');
    assert.equal(desc.action.type === 'startWorkflow' && (desc.action.args?.[0] as { workflowType?: string }).workflowType, 'consolidationExport');
    assert.deepEqual(desc.spec.calendars?.[0]?.dayOfWeek, [{ start: 'MONDAY', end: 'MONDAY', step: 1 }]);
    assert.equal(desc.spec.calendars?.[0]?.hour?.[0]?.start, 5);
    assert.ok(existsSync(exportDir));
  });
});
