/**
 * Reviewing suggestions on PostgreSQL: cohorts with their counts, a cohort's suggestions filtered and
 * paged by keyset, decisions on one, many, and "all matching except these" (50k in one call), the
 * state guard, and the INFO logs naming who decided.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applySuggestion } from '../../activities/consolidation/apply';
import {
  decide,
  decideOne,
  getCohort,
  getSuggestion,
  listCohorts,
  listSuggestions,
  ReviewInputError,
  ReviewNotFoundError,
  ReviewStateError,
} from '../../activities/consolidation/review';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

let runs = 0;
async function cohort(type: string, metadata: Record<string, unknown> = {}, source = 'src'): Promise<number> {
  const [row] = await db.sql<{ id: string }[]>`
    insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action, source_code, metadata)
    values (${`source_${source}`}, ${`run-${++runs}`}, ${type}, ${source}, ${JSON.stringify(metadata)}::jsonb) returning id`;
  return Number(row!.id);
}

/** `n` creation suggestions `src_<prefix><i>` in one statement; each sets nom, and every third one code_postal. */
async function creations(cohortId: number, n: number, prefix = ''): Promise<number[]> {
  const rows = await db.sql<{ id: string }[]>`
    insert into consolidation.suggestions (cohorte_id, cle, changes)
    select ${cohortId}, 'src_' || ${prefix}::text || g,
           jsonb_build_array(jsonb_build_object('order', 1, 'reason', 'nouvel acteur de la source', 'model_name', 'source_acteur_create',
             'model_params', jsonb_build_object('id', 'src_' || ${prefix}::text || g, 'data',
               jsonb_build_object('nom', 'Nom ' || g, 'source_code', 'src', 'identifiant_externe', ${prefix}::text || g, 'statut', 'ACTIF',
                 'label_codes', '[]'::jsonb, 'acteur_service_codes', '[]'::jsonb, 'proposition_service_codes', '[]'::jsonb)
               || case when g % 3 = 0 then jsonb_build_object('code_postal', '75001') else '{}'::jsonb end)))
      from generate_series(1, ${n}) g
    returning id`;
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

async function setStatut(ids: number[], statut: string): Promise<void> {
  await db.sql`update consolidation.suggestions set statut = ${statut} where id = any(${ids}::bigint[])`;
}

describe('cohorts', () => {
  test('newest first, per-column counts from the diff, suggestions per status, filters, keyset pages', async () => {
    const ajout = await cohort('SOURCE_AJOUT', { nombre: 4 }, 'alpha');
    const modif = await cohort('SOURCE_MODIFICATION', { nombre: 2, colonnes: { nom: [2, 0, 0], telephone: [0, 1, 1] } }, 'alpha');
    const ids = await creations(ajout, 4, 'c');
    await setStatut(ids.slice(0, 1), 'REJETEE');
    await db.sql`insert into consolidation.suggestions (cohorte_id, cle, changes) values
      (${modif}, 'alpha_1', ${JSON.stringify([{ order: 1, reason: 'acteur modifié dans la source', model_name: 'source_acteur_update', model_params: { id: 'alpha_1', data: { nom: 'X', telephone: null } } }])}::jsonb),
      (${modif}, 'alpha_2', ${JSON.stringify([{ order: 1, reason: 'acteur modifié dans la source', model_name: 'source_acteur_update', model_params: { id: 'alpha_2', data: { nom: 'Y' } } }])}::jsonb)`;

    const all = await listCohorts(db, { source_code: 'alpha' });
    assert.deepEqual(all.items.map((c) => c.id), [modif, ajout]);
    const m = all.items[0]!;
    assert.deepEqual(m.colonnes, { nom: [2, 0, 0], telephone: [0, 1, 1] });
    assert.deepEqual(m.suggestions, { AVALIDER: 2 });
    assert.equal(m.total, 2);
    assert.deepEqual(all.items[1]!.suggestions, { AVALIDER: 3, REJETEE: 1 });
    assert.deepEqual(all.items[1]!.colonnes, {});

    const first = await listCohorts(db, { source_code: 'alpha', limit: 1 });
    assert.deepEqual(first.items.map((c) => c.id), [modif]);
    const second = await listCohorts(db, { source_code: 'alpha', limit: 1, cursor: first.next_cursor! });
    assert.deepEqual(second.items.map((c) => c.id), [ajout]);
    assert.equal(second.next_cursor, null);
    assert.deepEqual((await listCohorts(db, { type_action: 'SOURCE_AJOUT', source_code: 'alpha' })).items.map((c) => c.id), [ajout]);

    const detail = await getCohort(db, modif);
    assert.deepEqual(detail.champs, { nom: 2, telephone: 1 });
    assert.deepEqual((await getCohort(db, ajout)).champs, { acteur_service_codes: 4, code_postal: 1, identifiant_externe: 4, label_codes: 4, nom: 4, proposition_service_codes: 4, source_code: 4, statut: 4 });
    await assert.rejects(getCohort(db, 999_999), ReviewNotFoundError);
    await assert.rejects(listCohorts(db, { type_action: 'NOPE' as never }), (e: unknown) => e instanceof ReviewInputError && e.issues[0]!.field === 'type_action');
  });
});

describe('suggestions of a cohort', () => {
  test('keyset pages cover the filter exactly once; filters by status, key prefix, field set, change model', async () => {
    const c = await cohort('SOURCE_AJOUT', {}, 'beta');
    const ids = await creations(c, 250, 'p');
    await setStatut(ids.slice(0, 10), 'REJETEE');

    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listSuggestions(db, { cohorte_id: c, statut: ['AVALIDER'], limit: 100, ...(cursor ? { cursor } : {}) });
      assert.equal(page.total, 240);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ids.slice(10));

    assert.equal((await listSuggestions(db, { cohorte_id: c, statut: 'REJETEE,AVALIDER' as never })).total, 250);
    assert.equal((await listSuggestions(db, { cohorte_id: c, cle: 'src_p1' })).total, 1 + 10 + 100); // p1, p10–p19, p100–p199
    assert.equal((await listSuggestions(db, { cohorte_id: c, champ: 'code_postal' })).total, 83);
    assert.equal((await listSuggestions(db, { cohorte_id: c, modele: 'source_acteur_create' })).total, 250);
    assert.equal((await listSuggestions(db, { cohorte_id: c, modele: 'source_acteur_delete' })).total, 0);
    const one = (await listSuggestions(db, { cohorte_id: c, cle: 'src_p3', limit: 1 })).items[0]!;
    assert.equal(one.cle, 'src_p3');
    assert.equal((one.changes[0] as { model_name: string }).model_name, 'source_acteur_create');

    await assert.rejects(listSuggestions(db, { cohorte_id: 999_999 }), ReviewNotFoundError);
    await assert.rejects(listSuggestions(db, { cohorte_id: c, cursor: 'abc' }), (e: unknown) => e instanceof ReviewInputError && e.issues[0]!.field === 'cursor');
    await assert.rejects(listSuggestions(db, { cohorte_id: c, limit: 5000 }), (e: unknown) => e instanceof ReviewInputError && /at most 1000/.test(e.message));
  });
});

describe('decisions', () => {
  test('one suggestion: accepted, rejected back, logged with who; states the apply owns are refused', async () => {
    const c = await cohort('SOURCE_AJOUT', {}, 'gamma');
    const [a, b, enc, ok] = await creations(c, 4, 'd');
    await setStatut([enc!], 'ENCOURS');
    await setStatut([ok!], 'SUCCES');

    const r = await decideOne(db, { id: a!, decision: 'accept', par: 'alice', raison: 'vérifié sur place' });
    assert.equal(r.changed, 1);
    assert.equal(r.statut, 'ATRAITER');
    await assert.rejects(decideOne(db, { id: a!, decision: 'accept', par: 'alice' }), (e: unknown) => e instanceof ReviewStateError && /is ATRAITER/.test(e.message));
    await decideOne(db, { id: a!, decision: 'reject', par: 'bob' });
    await decideOne(db, { id: b!, decision: 'reject', par: 'bob' });
    await assert.rejects(decideOne(db, { id: b!, decision: 'reject', par: 'bob' }), ReviewStateError);
    for (const locked of [enc!, ok!]) {
      for (const decision of ['accept', 'reject'] as const) await assert.rejects(decideOne(db, { id: locked, decision, par: 'eve' }), ReviewStateError);
    }
    await assert.rejects(decideOne(db, { id: 987_654_321, decision: 'accept', par: 'eve' }), ReviewNotFoundError);

    const history = await getSuggestion(db, a!);
    assert.equal(history.statut, 'REJETEE');
    assert.deepEqual(
      history.logs.map((l) => [l.niveau, l.fonction, l.auteur]),
      [
        ['INFO', 'revue.accept', 'alice'],
        ['INFO', 'revue.reject', 'bob'],
      ],
    );
    assert.match(history.logs[0]!.message, /acceptée par alice : vérifié sur place/);
    assert.equal((history.metadata.revue as { par: string }).par, 'bob');
    assert.equal((await getSuggestion(db, enc!)).statut, 'ENCOURS');
    assert.equal((await getSuggestion(db, ok!)).statut, 'SUCCES');
  });

  test('many ids: the movable ones move, the others are named with their status, unknown ids are listed', async () => {
    const c = await cohort('SOURCE_AJOUT', {}, 'delta');
    const ids = await creations(c, 5, 'e');
    await setStatut([ids[4]!], 'SUCCES');
    const r = await decide(db, { decision: 'accept', par: 'alice', ids: [...ids, 999_999_999] });
    assert.equal(r.changed, 4);
    assert.deepEqual(r.refused, [{ id: ids[4]!, statut: 'SUCCES' }]);
    assert.equal(r.refused_total, 1);
    assert.deepEqual(r.missing, [999_999_999]);
    const [logs] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestion_logs where identifiant_execution = ${r.decision_id} and auteur = 'alice' and niveau = 'INFO'`;
    assert.equal(logs!.n, 4);
  });

  test('a bad decision is refused whole, naming the field', async () => {
    await assert.rejects(decide(db, { decision: 'accept', par: '', ids: [1] }), (e: unknown) => e instanceof ReviewInputError && e.issues.some((i) => i.field === 'par'));
    await assert.rejects(decide(db, { decision: 'maybe', par: 'x', ids: [1] } as never), (e: unknown) => e instanceof ReviewInputError && e.issues.some((i) => i.field === 'decision'));
    await assert.rejects(decide(db, { decision: 'accept', par: 'x', filter: { cohorte_id: 999_999 } }), ReviewNotFoundError);
  });

  test('50,000 suggestions: accept all matching except three, in one call; each moved one logged; then apply takes them', async () => {
    const c = await cohort('SOURCE_AJOUT', { nombre: 50_000 }, 'epsilon');
    const other = await cohort('SOURCE_AJOUT', {}, 'epsilon');
    const ids = await creations(c, 50_000, 'f');
    const outside = await creations(other, 10, 'g');
    const except = [ids[0]!, ids[25_000]!, ids[49_999]!];
    await setStatut(ids.slice(1, 6), 'SUCCES');

    const r = await decide(db, { decision: 'accept', par: 'alice', filter: { cohorte_id: c }, except });
    assert.equal(r.changed, 50_000 - 3 - 5);
    assert.equal(r.refused_total, 5);
    assert.deepEqual(r.refused.map((x) => x.statut), ['SUCCES', 'SUCCES', 'SUCCES', 'SUCCES', 'SUCCES']);

    const byStatut = Object.fromEntries(
      (await db.sql<{ statut: string; n: number }[]>`select statut, count(*)::int as n from consolidation.suggestions where cohorte_id = ${c} group by statut`).map((x) => [x.statut, x.n]),
    );
    assert.deepEqual(byStatut, { ATRAITER: 49_992, AVALIDER: 3, SUCCES: 5 });
    const kept = await db.sql<{ id: string }[]>`select id from consolidation.suggestions where cohorte_id = ${c} and statut = 'AVALIDER' order by id`;
    assert.deepEqual(kept.map((k) => Number(k.id)), except);
    const [untouched] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestions where id = any(${outside}::bigint[]) and statut = 'AVALIDER'`;
    assert.equal(untouched!.n, 10);
    const [logs] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.suggestion_logs where identifiant_execution = ${r.decision_id}`;
    assert.equal(logs!.n, 49_992);

    // The filter composes: reject, among the accepted, those setting code_postal, except one.
    const rejected = await decide(db, { decision: 'reject', par: 'bob', filter: { cohorte_id: c, statut: ['ATRAITER'], champ: 'code_postal' }, except: [ids[8]!] });
    assert.equal(rejected.changed, 16_666 - 2 - 1); // every third; f3 and f6 are SUCCES, f9 excepted
    assert.equal((await getSuggestion(db, ids[8]!)).statut, 'ATRAITER');

    // What was accepted is what the apply runs.
    assert.equal(await applySuggestion(db.sql, ids[6]!), 'SUCCES', JSON.stringify((await getSuggestion(db, ids[6]!)).metadata));
    assert.equal(await applySuggestion(db.sql, ids[0]!), 'skipped');
  });
});

describe('a cohort follows its suggestions', () => {
  const statutOf = async (cohortId: number) => {
    const c = await getCohort(db, cohortId);
    return { statut: c.statut, bilan: c.metadata.bilan };
  };

  test('AVALIDER until every suggestion is decided, ENCOURS while some are to apply, SUCCES once all applied, failed or rejected; failures counted', async () => {
    const c = await cohort('SOURCE_AJOUT', {}, 'zeta');
    const [a, b, dup, rej] = await creations(c, 4, 'h');
    // A second creation of an acteur that the first one creates: its precondition fails when applied.
    const [failing] = await db.sql<{ id: string }[]>`
      insert into consolidation.suggestions (cohorte_id, cle, changes)
      select ${c}, 'src_h1_bis', changes from consolidation.suggestions where id = ${a!} returning id`;
    const bad = Number(failing!.id);

    await decide(db, { decision: 'accept', par: 'alice', ids: [a!, b!] });
    assert.deepEqual(await statutOf(c), { statut: 'AVALIDER', bilan: undefined }, 'two still wait for a decision');
    assert.equal(await applySuggestion(db.sql, a!), 'SUCCES');
    assert.equal((await statutOf(c)).statut, 'AVALIDER', 'applying one does not close a cohort still under review');

    await decide(db, { decision: 'accept', par: 'alice', filter: { cohorte_id: c, statut: ['AVALIDER'] }, except: [rej!] });
    await decideOne(db, { id: rej!, decision: 'reject', par: 'bob' });
    assert.equal((await statutOf(c)).statut, 'ENCOURS', 'every suggestion decided, some still to apply');

    assert.equal(await applySuggestion(db.sql, b!), 'SUCCES');
    assert.equal(await applySuggestion(db.sql, bad), 'ERREUR');
    assert.equal((await statutOf(c)).statut, 'ENCOURS', 'one accepted suggestion is still to apply');
    assert.equal(await applySuggestion(db.sql, dup!), 'SUCCES');
    assert.deepEqual(await statutOf(c), { statut: 'SUCCES', bilan: { succes: 3, erreur: 1, rejetee: 1 } });
    assert.deepEqual((await listCohorts(db, { source_code: 'zeta', statut: 'SUCCES' })).items.map((x) => x.id), [c]);

    // A rejected one accepted again reopens the cohort until it is applied.
    await decideOne(db, { id: rej!, decision: 'accept', par: 'bob' });
    assert.deepEqual(await statutOf(c), { statut: 'ENCOURS', bilan: undefined });
    assert.equal(await applySuggestion(db.sql, rej!), 'SUCCES');
    assert.deepEqual(await statutOf(c), { statut: 'SUCCES', bilan: { succes: 4, erreur: 1, rejetee: 0 } });
  });

  test('a cohort rejected whole is closed at once; its neighbours are untouched', async () => {
    const c = await cohort('SOURCE_AJOUT', {}, 'eta');
    const other = await cohort('SOURCE_AJOUT', {}, 'eta');
    await creations(c, 20, 'i');
    await creations(other, 3, 'j');
    await decide(db, { decision: 'reject', par: 'alice', filter: { cohorte_id: c } });
    assert.deepEqual(await statutOf(c), { statut: 'SUCCES', bilan: { succes: 0, erreur: 0, rejetee: 20 } });
    assert.equal((await statutOf(other)).statut, 'AVALIDER');
  });

  test('the last two suggestions applied concurrently still close the cohort', async () => {
    const c = await cohort('SOURCE_AJOUT', {}, 'theta');
    const ids = await creations(c, 40, 'k');
    await decide(db, { decision: 'accept', par: 'alice', filter: { cohorte_id: c } });
    // Two appliers over interleaved halves, each suggestion in its own transaction.
    const half = (r: number) => ids.filter((_, i) => i % 2 === r);
    await Promise.all([0, 1].map(async (r) => { for (const id of half(r)) assert.equal(await applySuggestion(db.sql, id), 'SUCCES'); }));
    assert.deepEqual(await statutOf(c), { statut: 'SUCCES', bilan: { succes: 40, erreur: 0, rejetee: 0 } });
  });
});
