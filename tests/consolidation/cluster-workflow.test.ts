/**
 * `consolidationCluster` end to end on the real services: candidates read from PostgreSQL's merged
 * state (imported acteurs with the reviewed overlay), clustering modes (exact only, fuzzy, distance
 * split, intra-source split, an existing parent kept), a dry run that writes nothing, the cohort applied
 * by `consolidationApply`, and a bad config refused with the field named.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { v5 as uuidv5 } from 'uuid';
import type { ConsolidationClusterResult } from '../../workflows/consolidation';
import { consolidationClusterWorkflowId } from '../../workflows/consolidation';
import { createMoissonWorker } from '../../workers/create';
import { recordHistories } from '../support/histories';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
const taskQueue = `consolidation-cluster-test-${process.pid}`;
const histories = new URL('./histories/', import.meta.url);

interface Seed {
  id: string;
  source: string;
  nom: string;
  adresse: string;
  cp: string;
  ville: string;
  lat: number;
  lon: number;
  type?: string;
}

const SEEDS: Seed[] = [
  // Block 75011 Paris: two sources describe one shop; a third source's shop is another place; a
  // second refashion copy cannot join (one actor per source); a déchèterie is not selected.
  { id: 'refashion_1', source: 'refashion', nom: 'Emmaüs Boutique Paris 11', adresse: '12 rue Oberkampf', cp: '75011', ville: 'Paris', lat: 48.8649, lon: 2.3739 },
  { id: 'ecosystem_1', source: 'ecosystem', nom: 'EMMAUS boutique Paris-11', adresse: '12 Rue Oberkampf', cp: '75011', ville: 'Paris', lat: 48.865, lon: 2.374 },
  { id: 'refashion_2', source: 'refashion', nom: 'Emmaüs Boutique Paris 11', adresse: '12 rue Oberkampf', cp: '75011', ville: 'Paris', lat: 48.8649, lon: 2.3739 },
  { id: 'ecomaison_1', source: 'ecomaison', nom: 'Boulangerie du coin', adresse: '40 avenue Parmentier', cp: '75011', ville: 'Paris', lat: 48.863, lon: 2.372 },
  { id: 'ecomaison_2', source: 'ecomaison', nom: 'Emmaüs Boutique Paris 11', adresse: '12 rue Oberkampf', cp: '75011', ville: 'Paris', lat: 48.8649, lon: 2.3739, type: 'decheterie' },
  // Block 69001 Lyon: an existing parent with one child; a new source's copy of it.
  { id: 'refashion_10', source: 'refashion', nom: 'Repair Café Lyon 1', adresse: '3 place Sathonay', cp: '69001', ville: 'Lyon', lat: 45.7677, lon: 4.8296 },
  { id: 'ecosystem_10', source: 'ecosystem', nom: 'Repair Cafe Lyon 1', adresse: '3 Place Sathonay', cp: '69001', ville: 'Lyon', lat: 45.7678, lon: 4.8297 },
  // Block 13001 Marseille: same name and address, 4.8 km apart.
  { id: 'ecosystem_20', source: 'ecosystem', nom: 'Ressourcerie du Port', adresse: '5 quai du Port', cp: '13001', ville: 'Marseille', lat: 43.2965, lon: 5.3698 },
  { id: 'refashion_20', source: 'refashion', nom: 'Ressourcerie du Port', adresse: '5 quai du Port', cp: '13001', ville: 'Marseille', lat: 43.34, lon: 5.3698 },
];
const LYON_PARENT = '6f0c1c6a-8d8e-5c57-9c1b-2d1b4b1f0a10';

before(async () => {
  [db, archive, temporal] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal()]);
  for (const s of SEEDS) {
    await db.sql`insert into consolidation.acteurs (identifiant_unique, source_code, identifiant_externe, nom, adresse, code_postal, ville, latitude, longitude, acteur_type_code, statut)
      values (${s.id}, ${s.source}, ${s.id.split('_')[1]!}, ${s.nom}, ${s.adresse}, ${s.cp}, ${s.ville}, ${s.lat}, ${s.lon}, ${s.type ?? 'ess'}, 'ACTIF')`;
  }
  await db.sql`insert into consolidation.revision_acteurs (identifiant_unique, nom, adresse, code_postal, ville, latitude, longitude, acteur_type_code, est_parent)
    values (${LYON_PARENT}, 'Repair Café Lyon 1er', '3 place Sathonay', '69001', 'Lyon', 45.7677, 4.8296, 'ess', true)`;
  await db.sql`insert into consolidation.revision_acteurs (identifiant_unique, parent_id) values ('refashion_10', ${LYON_PARENT})`;
});
after(async () => {
  await Promise.allSettled([temporal?.teardown(), db?.drop(), archive?.drop()]);
});

async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
  const worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: { sql: db.sql, db: db.db, mongo: archive.db, env: {} },
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(fn);
}

const selection = { acteurTypes: { value: ['ess'] } };
const cluster = (label: string, config: Record<string, unknown>, dryRun = false) =>
  temporal.client.workflow.execute('consolidationCluster', {
    taskQueue,
    workflowId: consolidationClusterWorkflowId(label),
    args: [{ label, config, dryRun }],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  }) as Promise<ConsolidationClusterResult>;

interface StoredSuggestion {
  cle: string;
  contexte: Record<string, string>;
  changes: { order: number; model_name: string; model_params: { id: string; data?: Record<string, unknown> } }[];
}

async function cohortSuggestions(cohortId: string): Promise<StoredSuggestion[]> {
  return db.sql<StoredSuggestion[]>`select cle, contexte, changes from consolidation.suggestions where cohorte_id = ${cohortId} order by cle`;
}

const cohortCount = async () => (await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.suggestion_cohortes`)[0]!.n;
const byBlock = (suggestions: StoredSuggestion[], cp: string) => suggestions.find((s) => s.contexte.code_postal === cp);

describe('consolidationCluster on PostgreSQL and Temporal', () => {
  test('dry runs write nothing; the modes give the clusters they should', async () => {
    await withWorker(async () => {
      const fuzzy = await cluster('dry-fuzzy', { selection }, true);
      assert.equal(fuzzy.dryRun, true);
      assert.equal(fuzzy.cohortId, null);
      assert.equal(fuzzy.suggestions, 3, 'Paris (2 sources), Lyon (parent + copy), Marseille');
      // The déchèterie and the parent's child are not candidates; the parent is.
      assert.equal(fuzzy.candidates, SEEDS.length - 2 + 1);

      const split = await cluster('dry-distance', { selection, distanceInCluster: 100 }, true);
      assert.equal(split.suggestions, 2, 'the Marseille pair is 4.8 km apart');

      const exactOnly = await cluster('dry-exact', { selection, fuzzyFields: [] }, true);
      assert.equal(exactOnly.suggestions, 3);

      const strict = await cluster('dry-strict', { selection, fuzzyThreshold: 100, fuzzyFields: ['nom'], normalisation: { nom: { stringBasic: false } } }, true);
      assert.equal(strict.suggestions, 1, 'without unidecode, only the Marseille names are the same words');

      assert.equal(await cohortCount(), 0, 'a dry run writes no cohort');
    });
  });

  test('exact-only blocking keeps one actor per source; fuzzy leaves the other shop out', async () => {
    await withWorker(async () => {
      const exact = await cluster('exact', { selection, fuzzyFields: [] });
      const paris = byBlock(await cohortSuggestions(exact.cohortId!), '75011')!;
      const members = paris.changes.filter((c) => c.order === 2).map((c) => c.model_params.id);
      assert.equal(members.length, 3, 'refashion, ecosystem and ecomaison: the second refashion copy is split off');
      assert.ok(members.includes('ecomaison_1') && members.includes('ecosystem_1'));
      assert.equal(members.filter((m) => m.startsWith('refashion_')).length, 1);
      await db.sql`delete from consolidation.suggestion_cohortes where id = ${exact.cohortId!}`;
    });
  });

  test('a cohort of cluster suggestions: parent created or kept, orders 1/2/3, then applied by consolidationApply', async () => {
    await withWorker(async () => {
      const run = await cluster('paris-lyon', { selection, distanceInCluster: 1000, parentData: { prioritySources: ['ecosystem'] } });
      await recordHistories(temporal.client, histories, 'paris-lyon', consolidationClusterWorkflowId('paris-lyon'));
      assert.equal(run.dryRun, false);
      assert.equal(run.suggestions, 2);
      const [cohort] = await db.sql<{ type_action: string; statut: string; metadata: { label: string; stats: { suggestions: number } } }[]>`
        select type_action, statut, metadata from consolidation.suggestion_cohortes where id = ${run.cohortId!}`;
      assert.equal(cohort!.type_action, 'CLUSTERING');
      assert.equal(cohort!.metadata.label, 'paris-lyon');
      assert.equal(cohort!.metadata.stats.suggestions, 2);
      const suggestions = await cohortSuggestions(run.cohortId!);
      assert.equal(suggestions.length, 2);

      const paris = byBlock(suggestions, '75011')!;
      assert.deepEqual(paris.contexte, { code_postal: '75011', ville: 'paris' });
      const [parentChange, ...memberChanges] = paris.changes;
      const members = memberChanges.map((c) => c.model_params.id).sort();
      assert.equal(members.length, 2);
      assert.ok(members.includes('ecosystem_1'));
      assert.equal(parentChange!.order, 1);
      assert.equal(parentChange!.model_name, 'acteur_create_as_parent');
      assert.equal(parentChange!.model_params.id, uuidv5(members.join(','), '6ba7b810-9dad-11d1-80b4-00c04fd430c8'));
      assert.equal(parentChange!.model_params.data!.nom, 'EMMAUS boutique Paris-11', 'the priority source gives the parent its data');
      assert.deepEqual(memberChanges.map((c) => [c.order, c.model_name]), [
        [2, 'acteur_update_parent_id'],
        [2, 'acteur_update_parent_id'],
      ]);

      const lyon = byBlock(suggestions, '69001')!;
      assert.deepEqual(
        lyon.changes.map((c) => [c.order, c.model_name, c.model_params.id]),
        [
          [1, 'acteur_keep_as_parent', LYON_PARENT],
          [2, 'acteur_update_parent_id', 'ecosystem_10'],
          [2, 'acteur_verify_in_revision', 'refashion_10'],
        ],
      );

      // Accepted and applied like any other cohort.
      await db.sql`update consolidation.suggestions set statut = 'ATRAITER' where cohorte_id = ${run.cohortId!}`;
      const applied = (await temporal.client.workflow.execute('consolidationApply', { taskQueue, workflowId: `consolidation-apply-cluster-test-${Date.now()}`, args: [{}] })) as { succes: number; erreur: number };
      assert.deepEqual([applied.succes, applied.erreur], [2, 0]);
      const parentId = parentChange!.model_params.id;
      const rows = await db.sql<{ identifiant_unique: string; parent_id: string | null; est_parent: boolean; nom: string }[]>`
        select identifiant_unique, parent_id, est_parent, nom from consolidation.vue_acteurs order by identifiant_unique`;
      const get = (id: string) => rows.find((r) => r.identifiant_unique === id)!;
      assert.equal(get(parentId).est_parent, true);
      assert.equal(get(parentId).nom, 'EMMAUS boutique Paris-11');
      for (const m of members) assert.equal(get(m).parent_id, parentId);
      assert.equal(get('ecosystem_10').parent_id, LYON_PARENT);
      assert.equal(get('refashion_10').parent_id, LYON_PARENT);

      // Clustered actors are children now: the same run again finds nothing new.
      const again = await cluster('paris-lyon-again', { selection, distanceInCluster: 1000 }, true);
      assert.equal(again.suggestions, 0);
    });
  });

  test('a bad config is refused at once, naming the field, and writes nothing', async () => {
    await withWorker(async () => {
      const before = await cohortCount();
      await assert.rejects(cluster('bad', { selection: { acteurTypes: { value: [] } }, fuzzyThreshold: 150 }), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        const cause = e.cause?.cause as { type?: string; message?: string } | undefined;
        assert.equal(cause?.type, 'ClusterConfigError');
        assert.match(cause?.message ?? '', /selection\.acteurTypes\.value/);
        assert.match(cause?.message ?? '', /fuzzyThreshold/);
        return true;
      });
      await assert.rejects(cluster('Not A Label', { selection }), WorkflowFailedError);
      assert.equal(await cohortCount(), before);
    });
  });
});
