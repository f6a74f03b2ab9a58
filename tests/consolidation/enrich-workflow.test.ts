/**
 * Enrichment as a pipeline step, on the real Temporal and PostgreSQL with the BAN and company-registry
 * replicas: consolidationEnrich pages through the actors and writes suggestion cohorts (never edits), a
 * rerun suggests nothing twice and asks the BAN nothing (cache), an accepted suggestion is applied by
 * consolidationApply; consolidationSireneLoad loads the stock file (a zip) and `sirene-closed` proposes
 * the closed establishments; enrichment without a loaded stock is refused at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { consolidationEnrichWorkflowId, type ConsolidationEnrichResult } from '../../workflows/consolidation';
import { createMoissonWorker } from '../../workers/create';
import { startBanReplica, type BanReplica } from '../replicas/consolidation/ban/index';
import { SIRENE_STOCK_PATH, startEntreprisesReplica, type EntreprisesReplica } from '../replicas/consolidation/entreprises/index';
import { recordHistories } from '../support/histories';
import { createTestArchive, createTestDatabase, startTemporal, workflowBundle, type TestArchive, type TestDatabase } from '../support/services';

let db: TestDatabase;
let archive: TestArchive;
let temporal: TestWorkflowEnvironment;
let ban: BanReplica;
let registry: EntreprisesReplica;
const taskQueue = `consolidation-enrich-test-${process.pid}`;
const histories = new URL('./histories/', import.meta.url);

// Real streets and towns the BAN answers carry (see tests/replicas/consolidation/ban/model.ts).
const PLACES = [
  { street: 'RUE DE LA REPUBLIQUE', cp: '56400', ville: 'Auray', wrongCp: '56000', wrongVille: 'Aurey' },
  { street: 'QUAI DE LA TOURELLE', cp: '95000', ville: 'Cergy', wrongCp: '95100', wrongVille: 'Sergy' },
  { street: 'AVENUE DU GENERAL DE GAULLE', cp: '77100', ville: 'Meaux', wrongCp: '77000', wrongVille: 'Meau' },
];

interface Fixture {
  id: string;
  adresse: string;
  cp: string;
  ville: string;
  lat: number | null;
  lon: number | null;
  statut?: string;
  siret?: string | null;
}

function fixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (let i = 0; i < 24; i++) {
    const p = PLACES[i % PLACES.length]!;
    const n = 1 + (i % 8);
    const id = `ban_${String(i).padStart(2, '0')}`;
    if (i % 3 === 0) out.push({ id, adresse: `${n} ${p.street}`, cp: p.wrongCp, ville: p.ville, lat: null, lon: null });
    else if (i % 3 === 1) out.push({ id, adresse: `${n} ${p.street}`, cp: p.cp, ville: p.wrongVille, lat: null, lon: null });
    else out.push({ id, adresse: `${n} ${p.street}`, cp: p.cp, ville: p.ville, lat: null, lon: null });
  }
  out.push({ id: 'ban_inactif', adresse: '3 RUE DE LA REPUBLIQUE', cp: '56000', ville: 'Auray', lat: null, lon: null, statut: 'INACTIF' });
  out.push({ id: 'ban_illisible', adresse: 'jsajhgsdkfjhsfkjhaldkadjaslgldasd', cp: '', ville: '', lat: null, lon: null });
  return out;
}

before(async () => {
  [db, archive, temporal, ban, registry] = await Promise.all([createTestDatabase(), createTestArchive(), startTemporal(), startBanReplica(), startEntreprisesReplica()]);
  for (const f of fixtures()) {
    await db.sql`insert into consolidation.acteurs (identifiant_unique, source_code, identifiant_externe, nom, adresse, code_postal, ville, latitude, longitude, siret, statut)
      values (${f.id}, 'test', ${f.id}, ${`Atelier ${f.id}`}, ${f.adresse}, ${f.cp}, ${f.ville}, ${f.lat}, ${f.lon}, ${f.siret ?? null}, ${f.statut ?? 'ACTIF'})`;
  }
});
after(async () => {
  await Promise.allSettled([ban?.close(), registry?.close(), temporal?.teardown(), db?.drop(), archive?.drop()]);
});

async function withWorker<T>(fn: () => Promise<T>): Promise<T> {
  const worker = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace ?? 'default',
    taskQueue,
    deps: {
      sql: db.sql,
      db: db.db,
      mongo: archive.db,
      env: {
        CONSOLIDATION_BAN_URL: ban.url,
        CONSOLIDATION_ENTREPRISES_URL: registry.url,
        CONSOLIDATION_SIRENE_URL: `${registry.url}${SIRENE_STOCK_PATH}`,
        CONSOLIDATION_ENRICH_PAGE_SIZE: '10',
      },
    },
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(fn);
}

const enrich = (kind: string) =>
  temporal.client.workflow.execute('consolidationEnrich', { taskQueue, workflowId: consolidationEnrichWorkflowId(kind as 'ban'), args: [{ kind }], workflowIdReusePolicy: 'ALLOW_DUPLICATE' }) as Promise<ConsolidationEnrichResult>;

type Suggestion = { id: number; cle: string; statut: string; type_action: string; changes: { model_name: string; model_params: { id: string; data: Record<string, unknown> } }[]; metadata: { kind: string } };

async function suggestions(action: string): Promise<Suggestion[]> {
  return db.sql<Suggestion[]>`select s.id::int as id, s.cle, s.statut, c.type_action, s.changes, s.metadata
    from consolidation.suggestions s join consolidation.suggestion_cohortes c on c.id = s.cohorte_id
    where c.identifiant_action = ${action} order by s.cle`;
}

describe('consolidationEnrich', () => {
  test('ban: corrections become CP / VILLES / COORDONNEES cohorts through the batch path; actors are not edited', async () => {
    const before = await db.sql`select identifiant_unique, code_postal, ville, latitude from consolidation.acteurs order by 1`;
    const result = await withWorker(() => enrich('ban'));
    await recordHistories(temporal.client, histories, 'ban', consolidationEnrichWorkflowId('ban'));
    assert.equal(result.actors, 25, 'active actors with an address, the inactive one left out');
    assert.equal(result.pages, 3);
    const made = await suggestions('enrich_ban');
    const byId = new Map(made.map((s) => [s.cle, s]));
    for (const f of fixtures().filter((x) => x.id.startsWith('ban_') && /^\d/.test(x.id.slice(4)))) {
      const s = byId.get(f.id);
      assert.ok(s, `${f.id} gets a suggestion (its coordinates at least)`);
      assert.equal(s.statut, 'AVALIDER');
      assert.equal(s.changes[0]!.model_name, 'acteur_update_data');
      const data = s.changes[0]!.model_params.data;
      assert.equal(typeof data.latitude, 'number');
      const i = Number(f.id.slice(4));
      const place = PLACES[i % PLACES.length]!;
      if (i % 3 === 0) {
        assert.equal(s.type_action, 'ENRICH_ACTEURS_CP');
        assert.equal(data.code_postal, place.cp);
      } else if (i % 3 === 1) {
        assert.equal(s.type_action, 'ENRICH_ACTEURS_VILLES');
        assert.equal(data.ville, place.ville);
        assert.equal(data.code_postal, undefined);
      } else assert.equal(s.type_action, 'ENRICH_ACTEURS_COORDONNEES');
    }
    assert.ok(!byId.has('ban_inactif') && !byId.has('ban_illisible'));
    assert.deepEqual(
      Object.fromEntries(Object.entries(result.suggestions).sort()),
      { ENRICH_ACTEURS_COORDONNEES: 8, ENRICH_ACTEURS_CP: 8, ENRICH_ACTEURS_VILLES: 8 },
    );
    const cohorts = await db.sql<{ type_action: string; nombre: number }[]>`select type_action, (metadata->>'nombre')::int as nombre from consolidation.suggestion_cohortes where identifiant_action = 'enrich_ban' order by 1`;
    assert.deepEqual(cohorts.map((c) => [c.type_action, c.nombre]), [['ENRICH_ACTEURS_COORDONNEES', 8], ['ENRICH_ACTEURS_CP', 8], ['ENRICH_ACTEURS_VILLES', 8]]);
    // One upload per page of 10 (the unreadable address is still sent: the service decides), none per row.
    const searches = ban.requests().filter((r) => r.path.startsWith('/search'));
    assert.deepEqual(
      searches.map((r) => `${r.method} ${r.path}`),
      ['POST /search/csv', 'POST /search/csv', 'POST /search/csv'],
      'only the batch path',
    );
    assert.deepEqual(searches.map((r) => r.rows), [10, 10, 5]);
    assert.deepEqual(await db.sql`select identifiant_unique, code_postal, ville, latitude from consolidation.acteurs order by 1`, before, 'never silent edits');
  });

  test('a rerun suggests nothing again and asks the BAN nothing; an accepted correction is applied and not proposed again', async () => {
    const asked = ban.requests().length;
    const again = await withWorker(() => enrich('ban'));
    assert.equal(again.actors, 25);
    assert.deepEqual(again.suggestions, {});
    assert.equal(ban.requests().length, asked, 'answers come from the 30-day cache');

    const cp = (await suggestions('enrich_ban')).find((s) => s.type_action === 'ENRICH_ACTEURS_CP')!;
    await db.sql`update consolidation.suggestions set statut = 'ATRAITER' where id = ${cp.id}`;
    await withWorker(() => temporal.client.workflow.execute('consolidationApply', { taskQueue, workflowId: `consolidation-apply-test-${Date.now()}`, args: [{}] }));
    const [applied] = await db.sql<{ statut: string }[]>`select statut from consolidation.suggestions where id = ${cp.id}`;
    assert.equal(applied!.statut, 'SUCCES');
    const [revision] = await db.sql<{ code_postal: string }[]>`select code_postal from consolidation.revision_acteurs where identifiant_unique = ${cp.cle}`;
    assert.equal(revision!.code_postal, cp.changes[0]!.model_params.data.code_postal);
    const third = await withWorker(() => enrich('ban'));
    assert.deepEqual(third.suggestions, {});
  });

  test('sirene-closed: refused at once before any stock is loaded; after consolidationSireneLoad, closed SIRETs become FERMES suggestions', async () => {
    await db.sql`insert into consolidation.acteurs (identifiant_unique, source_code, identifiant_externe, nom, siret, statut) values
      ('siret_ferme_etab', 'test', 'a', 'Tahiti Perles Créations', '00032517500024', 'ACTIF'),
      ('siret_ferme_unite', 'test', 'b', 'Atelier', '00180725400014', 'ACTIF'),
      ('siret_13', 'test', 'c', 'SIRET de 13 chiffres', '0054105270001', 'ACTIF')`;
    await withWorker(async () => {
      const started = Date.now();
      await assert.rejects(enrich('sirene-closed'), (e: unknown) => {
        const cause = (e as WorkflowFailedError).cause?.cause as { type?: string; message?: string };
        assert.equal(cause.type, 'NotAvailableError');
        assert.match(cause.message ?? '', /no SIRENE stock loaded yet: run the consolidationSireneLoad workflow/);
        return true;
      });
      assert.ok(Date.now() - started < 20_000, 'refused without retries');

      const load = (await temporal.client.workflow.execute('consolidationSireneLoad', { taskQueue, workflowId: 'consolidation-sirene-load', args: [] })) as { rows: number; active: number; closed: number };
      assert.deepEqual({ rows: load.rows, active: load.active, closed: load.closed }, { rows: 99, active: 7, closed: 92 });
      await recordHistories(temporal.client, histories, 'stock', 'consolidation-sirene-load');
      assert.ok(registry.requests().some((r) => r.path === SIRENE_STOCK_PATH));
      const [stock] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.sirene_etablissements`;
      assert.equal(stock!.n, 99, 'the stock rows are in PostgreSQL');

      const result = await enrich('sirene-closed');
      await recordHistories(temporal.client, histories, 'sirene-closed', consolidationEnrichWorkflowId('sirene-closed'));
      assert.equal(result.actors, 2, 'only 14-digit SIRETs');
      assert.deepEqual(result.suggestions, { ENRICH_ACTEURS_FERMES: 2 });
    });
    const made = await suggestions('enrich_sirene_closed');
    assert.deepEqual(
      made.map((s) => [s.cle, s.metadata.kind, s.changes[0]!.model_name, s.changes[0]!.model_params.data]),
      [
        ['siret_ferme_etab', 'closed_not_replaced_etablissement', 'acteur_update_statut', { statut: 'INACTIF' }],
        ['siret_ferme_unite', 'closed_not_replaced_unite', 'acteur_update_statut', { statut: 'INACTIF' }],
      ],
    );
    const [cohort] = await db.sql<{ metadata: { nombre: number; par_type: Record<string, number> } }[]>`select metadata from consolidation.suggestion_cohortes where identifiant_action = 'enrich_sirene_closed'`;
    assert.deepEqual(cohort!.metadata.par_type, { closed_not_replaced_etablissement: 1, closed_not_replaced_unite: 1 });
    const [statut] = await db.sql<{ statut: string }[]>`select statut from consolidation.acteurs where identifiant_unique = 'siret_ferme_unite'`;
    assert.equal(statut!.statut, 'ACTIF', 'never silent edits');
  });
});
