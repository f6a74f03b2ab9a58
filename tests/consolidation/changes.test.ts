/**
 * Diff semantics (pure) and each change model's preconditions and effects, applied on PostgreSQL the
 * way the apply loop does it (one suggestion, one transaction).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applySuggestion } from '../../activities/consolidation/apply';
import { ANONYMISED, diffSource, DuplicateStoredKeyError, type StoredActeur } from '../../activities/consolidation/diff';
import { buildSuggestion, InvalidSuggestionError } from '../../activities/consolidation/suggestions';
import type { Change, NormalizedActeur } from '../../schema/consolidation/items';
import { createTestDatabase, type TestDatabase } from '../support/services';

const acteur = (ext: string, over: Partial<NormalizedActeur> = {}): NormalizedActeur => ({
  identifiant_unique: `src_${ext}`,
  source_code: 'src',
  identifiant_externe: ext,
  nom: `Nom ${ext}`,
  statut: 'ACTIF',
  label_codes: [],
  acteur_service_codes: [],
  proposition_service_codes: [],
  ...over,
});
const stored = (ext: string, over: Partial<StoredActeur> = {}): StoredActeur => ({ ...acteur(ext), ...over }) as StoredActeur;
const COLUMNS = ['nom', 'telephone', 'label_codes', 'proposition_service_codes', 'statut'];

describe('diff against the stored acteurs', () => {
  test('add, modify, delete, unchanged; lists order-insensitive; per-column MODIF / SUP / AJOUT', () => {
    const incoming = [
      acteur('new'),
      acteur('same', { label_codes: ['b', 'a'], proposition_service_codes: [{ action: 'trier', sous_categories: ['y', 'x'] }, { action: 'donner', sous_categories: ['z'] }] }),
      acteur('mod', { nom: 'Autre nom', telephone: null }),
      acteur('added', { telephone: '0102030405' }),
    ];
    const db = [
      stored('same', { label_codes: ['a', 'b'], proposition_service_codes: [{ action: 'donner', sous_categories: ['z'] }, { action: 'trier', sous_categories: ['x', 'y'] }] }),
      stored('mod', { telephone: '0600000000' }),
      stored('added'),
      stored('gone'),
      stored('gone_inactive', { statut: 'INACTIF' }),
    ];
    const d = diffSource('src', incoming, db, COLUMNS);
    assert.deepEqual(d.toCreate.map((a) => a.identifiant_unique), ['src_new']);
    assert.deepEqual(d.toUpdate.map((u) => u.stored.identifiant_unique).sort(), ['src_added', 'src_mod']);
    assert.deepEqual(d.toDelete.map((a) => a.identifiant_unique), ['src_gone']);
    assert.equal(d.unchanged, 1);
    assert.deepEqual(d.counts, { nom: [1, 0, 0], telephone: [0, 1, 1] });
    assert.deepEqual(d.toUpdate.find((u) => u.stored.identifiant_unique === 'src_mod')!.changed, { nom: 'Autre nom', telephone: null });
  });

  test('stored rows are re-keyed from (source, external id): a legacy identifiant_unique still matches', () => {
    const d = diffSource('src', [acteur('42', { nom: 'X' })], [stored('42', { identifiant_unique: 'LEGACY-42', nom: 'X' })], COLUMNS);
    assert.equal(d.toCreate.length, 0);
    assert.equal(d.toDelete.length, 0);
    assert.equal(d.unchanged, 1);
  });

  test('anonymised acteurs are skipped; duplicate stored keys abort', () => {
    const d = diffSource('src', [acteur('a', { nom: 'Vrai nom' })], [stored('a', { nom: ANONYMISED })], COLUMNS);
    assert.equal(d.skippedAnonymised, 1);
    assert.equal(d.toUpdate.length, 0);
    assert.throws(() => diffSource('src', [], [stored('a'), stored('a', { identifiant_unique: 'other' })], COLUMNS), DuplicateStoredKeyError);
  });
});

describe('suggestions are validated when they are built', () => {
  test('params, reason length and order are checked, with the path named', () => {
    assert.throws(
      () => buildSuggestion({ cle: 'x', changes: [{ order: 1, reason: 'ok', model_name: 'acteur_delete_as_parent', model_params: { id: 'p' } }] }),
      (e: unknown) => e instanceof InvalidSuggestionError && /changes\.0\.reason/.test(e.message),
    );
    assert.throws(
      () => buildSuggestion({ cle: 'x', changes: [{ order: 1, reason: 'parent', model_name: 'acteur_update_parent_id', model_params: { id: 'c', data: {} } }] }),
      (e: unknown) => e instanceof InvalidSuggestionError && /model_params\.data\.parent_id/.test(e.message),
    );
    assert.throws(
      () =>
        buildSuggestion({
          cle: 'x',
          changes: [
            { order: 2, reason: 'enfant', model_name: 'acteur_verify_in_revision', model_params: { id: 'c', data: { parent_id: 'p' } } },
            { order: 1, reason: 'parent', model_name: 'acteur_delete_as_parent', model_params: { id: 'p' } },
          ],
        }),
      /sorted by order/,
    );
    assert.throws(() => buildSuggestion({ cle: 'x', changes: [{ order: 1, reason: 'inconnu', model_name: 'nope' as never, model_params: {} }] }), InvalidSuggestionError);
  });
});

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => db?.drop());

let cohortId = 0;
async function suggest(changes: Change[]): Promise<number> {
  if (!cohortId) {
    const [c] = await db.sql<{ id: number }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action) values ('test', 'run', 'CLUSTERING') returning id`;
    cohortId = Number(c!.id);
  }
  const s = buildSuggestion({ cle: `k${Math.random()}`, changes });
  const [row] = await db.sql<{ id: number }[]>`insert into consolidation.suggestions (cohorte_id, cle, changes, statut) values (${cohortId}, ${s.cle}, ${JSON.stringify(s.changes)}::jsonb, 'ATRAITER') returning id`;
  return Number(row!.id);
}
const ch = (order: number, model_name: Change['model_name'], model_params: Record<string, unknown>): Change => ({ order, reason: 'test de modèle', model_name, model_params });
async function status(id: number) {
  const [row] = await db.sql<{ statut: string; metadata: { error?: string } }[]>`select statut, metadata from consolidation.suggestions where id = ${id}`;
  return row!;
}
async function insertActeur(id: string) {
  await db.sql`insert into consolidation.acteurs (identifiant_unique, source_code, identifiant_externe, nom) values (${id}, 'src', ${id}, ${`Nom ${id}`})`;
}

describe('change models on PostgreSQL', () => {
  test('source create / update / delete; a suggestion is applied once only', async () => {
    const { identifiant_unique, ...data } = acteur('s1', { telephone: '0102030405', label_codes: ['ess'] });
    const create = await suggest([ch(1, 'source_acteur_create', { id: identifiant_unique, data })]);
    assert.equal(await applySuggestion(db.sql, create), 'SUCCES');
    assert.equal(await applySuggestion(db.sql, create), 'skipped');
    const [row] = await db.sql`select telephone, label_codes, statut from consolidation.acteurs where identifiant_unique = 'src_s1'`;
    assert.deepEqual({ ...row }, { telephone: '0102030405', label_codes: ['ess'], statut: 'ACTIF' });
    const again = await suggest([ch(1, 'source_acteur_create', { id: identifiant_unique, data })]);
    assert.equal(await applySuggestion(db.sql, again), 'ERREUR');
    assert.match((await status(again)).metadata.error ?? '', /already exists/);
    const del = await suggest([ch(1, 'source_acteur_delete', { id: 'src_s1' })]);
    assert.equal(await applySuggestion(db.sql, del), 'SUCCES');
    const [gone] = await db.sql`select statut from consolidation.acteurs where identifiant_unique = 'src_s1'`;
    assert.equal(gone!.statut, 'SUPPRIME');
  });

  test('create_as_parent writes revision only and fails if the id exists', async () => {
    const id = await suggest([ch(1, 'acteur_create_as_parent', { id: 'parent1', data: { nom: 'Parent' } })]);
    assert.equal(await applySuggestion(db.sql, id), 'SUCCES');
    const rev = await db.sql`select est_parent, nom from consolidation.revision_acteurs where identifiant_unique = 'parent1'`;
    assert.deepEqual({ ...rev[0] }, { est_parent: true, nom: 'Parent' });
    assert.equal((await db.sql`select 1 from consolidation.acteurs where identifiant_unique = 'parent1'`).length, 0);
    const dup = await suggest([ch(1, 'acteur_create_as_parent', { id: 'parent1', data: { nom: 'Parent' } })]);
    assert.equal(await applySuggestion(db.sql, dup), 'ERREUR');
  });

  test('keep_as_parent needs the revision; update_parent_id needs the acteur and never duplicates the revision', async () => {
    const keep = await suggest([ch(1, 'acteur_keep_as_parent', { id: 'nobody', data: { nom: 'X' } })]);
    assert.equal(await applySuggestion(db.sql, keep), 'ERREUR');
    assert.match((await status(keep)).metadata.error ?? '', /has no revision/);
    const orphan = await suggest([ch(1, 'acteur_update_parent_id', { id: 'missing', data: { parent_id: 'parent1' } })]);
    assert.equal(await applySuggestion(db.sql, orphan), 'ERREUR');
    await insertActeur('c1');
    await insertActeur('c2');
    const move = await suggest([ch(2, 'acteur_update_parent_id', { id: 'c1', data: { parent_id: 'parent1' } }), ch(2, 'acteur_update_parent_id', { id: 'c2', data: { parent_id: 'parent1' } })]);
    assert.equal(await applySuggestion(db.sql, move), 'SUCCES');
    const again = await suggest([ch(2, 'acteur_update_parent_id', { id: 'c1', data: { parent_id: 'parent1' } })]);
    assert.equal(await applySuggestion(db.sql, again), 'SUCCES');
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.revision_acteurs where identifiant_unique = 'c1'`;
    assert.equal(count!.n, 1);
    const verify = await suggest([ch(2, 'acteur_verify_in_revision', { id: 'c1', data: { parent_id: 'parent1' } })]);
    assert.equal(await applySuggestion(db.sql, verify), 'SUCCES');
    const wrong = await suggest([ch(2, 'acteur_verify_in_revision', { id: 'c1', data: { parent_id: 'other' } })]);
    assert.equal(await applySuggestion(db.sql, wrong), 'ERREUR');
  });

  test('delete_as_parent is refused while active children point to it; the parent goes once they move', async () => {
    const refused = await suggest([ch(3, 'acteur_delete_as_parent', { id: 'parent1' })]);
    assert.equal(await applySuggestion(db.sql, refused), 'ERREUR');
    assert.match((await status(refused)).metadata.error ?? '', /active child/);
    const p2 = await suggest([ch(1, 'acteur_create_as_parent', { id: 'parent2', data: { nom: 'P2' } }), ch(2, 'acteur_update_parent_id', { id: 'c1', data: { parent_id: 'parent2' } }), ch(2, 'acteur_update_parent_id', { id: 'c2', data: { parent_id: 'parent2' } })]);
    assert.equal(await applySuggestion(db.sql, p2), 'SUCCES');
    assert.equal((await db.sql`select 1 from consolidation.revision_acteurs where identifiant_unique = 'parent1'`).length, 0, 'the childless parent is gone');
    const later = await suggest([ch(3, 'acteur_delete_as_parent', { id: 'parent1' })]);
    assert.equal(await applySuggestion(db.sql, later), 'SUCCES');
  });

  test('update_data and update_statut write the revision, never the imported state; a failed change rolls the whole suggestion back', async () => {
    await insertActeur('e1');
    const upd = await suggest([ch(1, 'acteur_update_data', { id: 'e1', data: { code_postal: '56400', ville: 'Auray' } }), ch(2, 'acteur_update_statut', { id: 'e1', data: { statut: 'INACTIF' } })]);
    assert.equal(await applySuggestion(db.sql, upd), 'SUCCES');
    const [rev] = await db.sql`select code_postal, ville, statut from consolidation.revision_acteurs where identifiant_unique = 'e1'`;
    assert.deepEqual({ ...rev }, { code_postal: '56400', ville: 'Auray', statut: 'INACTIF' });
    const [base] = await db.sql`select code_postal, statut from consolidation.acteurs where identifiant_unique = 'e1'`;
    assert.deepEqual({ ...base }, { code_postal: null, statut: 'ACTIF' });
    const half = await suggest([ch(1, 'acteur_update_data', { id: 'e1', data: { ville: 'Vannes' } }), ch(2, 'acteur_update_data', { id: 'ghost', data: { ville: 'X' } })]);
    assert.equal(await applySuggestion(db.sql, half), 'ERREUR');
    const [still] = await db.sql`select ville from consolidation.revision_acteurs where identifiant_unique = 'e1'`;
    assert.equal(still!.ville, 'Auray');
  });

  test('suggestions are immutable: their changes cannot be rewritten', async () => {
    const id = await suggest([ch(1, 'acteur_delete_as_parent', { id: 'nothing' })]);
    await assert.rejects(db.sql`update consolidation.suggestions set changes = '[]'::jsonb where id = ${id}`, /immutable/);
  });
});
