/**
 * Enrichment against the real PostgreSQL and the BAN / recherche-entreprises replicas: single and batch
 * geocoding giving the same answers, the 30-day cache sparing requests, the shared budgets holding the
 * services' limits (and a 429 honoured), proposals instead of edits, and the SIRENE file loaded with COPY
 * for closed-establishment proposals (replaced by the same SIREN, another SIREN, or not at all).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { addressQuery, BanClient, labelRatio, type AddressToGeocode } from '../../activities/consolidation/enrich/ban';
import { EnrichCache } from '../../activities/consolidation/enrich/cache';
import { retryAfterMs } from '../../activities/consolidation/enrich/http';
import { EntreprisesClient } from '../../activities/consolidation/enrich/entreprises';
import { geocodeProposals, saveProposals, type ActorLocation } from '../../activities/consolidation/enrich/proposals';
import { loadSireneStock, proposeClosedActors } from '../../activities/consolidation/enrich/sirene';
import { InvalidInputError } from '../../activities/engine/errors';
import { loadConsolidationEnrichConfig, type ConsolidationEnrichConfig } from '../../schema/config';
import { startBanReplica, type BanReplica } from '../replicas/consolidation/ban/index';
import { SIRENE_SAMPLE, startEntreprisesReplica, type EntreprisesReplica } from '../replicas/consolidation/entreprises/index';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;
let ban: BanReplica;
let registry: EntreprisesReplica;
let config: ConsolidationEnrichConfig;

before(async () => {
  testTelemetry();
  [db, ban, registry] = await Promise.all([createTestDatabase(), startBanReplica(), startEntreprisesReplica()]);
  config = loadConsolidationEnrichConfig({ CONSOLIDATION_BAN_URL: ban.url, CONSOLIDATION_ENTREPRISES_URL: registry.url, CONSOLIDATION_BAN_CSV_BATCH_ROWS: '25' });
});
after(async () => {
  await Promise.all([db?.drop(), ban?.close(), registry?.close()]);
});

const STREETS = ['Rue de la République', 'Avenue du Général de Gaulle', 'Rue Georges Clemenceau', 'Quai de la Tourelle', 'Rue Victor Hugo'];
const TOWNS = [
  ['56400', 'Auray'],
  ['95000', 'Cergy'],
  ['44300', 'Nantes'],
  ['77100', 'Meaux'],
];

function addresses(n: number, prefix: string): AddressToGeocode[] {
  return Array.from({ length: n }, (_, i) => {
    const [cp, ville] = TOWNS[i % TOWNS.length]!;
    return { id: `${prefix}_${i}`, adresse: `${(i % 140) + 1} ${STREETS[i % STREETS.length]!.toUpperCase()}`, codePostal: cp, ville };
  });
}

describe('BAN', () => {
  test('one address through /search: the best feature, accepted by fuzz.ratio >= 80; nothing found is not accepted', async () => {
    const client = new BanClient(db.sql, config);
    const hit = await client.geocode({ id: 'a1', adresse: '12 RUE DE LA REPUBLIQUE', codePostal: '56400', ville: 'AURAY' });
    assert.equal(hit.result?.label, '12 Rue de la République 56400 Auray');
    assert.equal(hit.result?.postcode, '56400');
    assert.ok(hit.result!.score > 0.9);
    assert.ok(hit.ratio >= 80 && hit.accepted);
    assert.equal(hit.fromCache, false);
    const none = await client.geocode({ id: 'a2', adresse: 'jsajhgsdkfjhsfkjhaldkadjaslgldasd' });
    assert.equal(none.result, null);
    assert.equal(none.accepted, false);
    // Found, but a different place: the label does not read like the query.
    assert.ok(labelRatio('6 quai de la tourelle cergy', 'Meaux 26400 Eurre') < 80);
  });

  test('the whole FeatureCollection of a saved real answer, as the service sent it', async () => {
    const client = new BanClient(db.sql, config);
    const meaux = await client.search('Meaux');
    assert.equal(meaux.features.length, 5);
    assert.equal(meaux.features[0]!.properties.type, 'municipality');
    assert.equal(meaux.features[0]!.properties.citycode, '77284');
  });

  test('many addresses through /search/csv/: one upload per 25 rows, the same answers as one request per row, and a second pass all from the cache', async () => {
    const client = new BanClient(db.sql, config);
    const list = addresses(60, 'b');
    ban.clearRequests();
    const batch = await client.geocodeBatch(list);
    const uploads = ban.requests().filter((r) => r.path === '/search/csv');
    assert.equal(ban.requests().length, 3, 'only uploads');
    assert.deepEqual(uploads.map((r) => r.rows), [25, 25, 10]);
    assert.ok(batch.every((g) => g.accepted && g.result !== null), 'every address is found and accepted');

    const fresh = new BanClient(db.sql, { ...config });
    await db.sql`delete from consolidation.enrich_cache where service = 'ban.geocode'`;
    const single = [];
    for (const a of list.slice(0, 8)) single.push(await fresh.geocode(a));
    assert.deepEqual(
      single.map((g) => [g.result?.label, g.result?.banId, g.result?.postcode]),
      batch.slice(0, 8).map((g) => [g.result?.label, g.result?.banId, g.result?.postcode]),
    );

    ban.clearRequests();
    const again = await client.geocodeBatch(list.slice(0, 8));
    assert.equal(ban.requests().length, 0, 'a cache hit sends nothing');
    assert.ok(again.every((g) => g.fromCache));
    const one = await client.geocode(list[3]!);
    assert.equal(one.fromCache, true);
    assert.equal(ban.requests().length, 0);
    assert.equal(addressQuery(list[3]!), one.query);
  });

  test('the budget holds 50 requests per second across concurrent callers, and a 429 holds everyone back then succeeds', async () => {
    const clients = [new BanClient(db.sql, config), new BanClient(db.sql, config), new BanClient(db.sql, config)];
    ban.clearRequests();
    const list = addresses(130, 'rate');
    await Promise.all(list.map((a, i) => clients[i % clients.length]!.geocode({ ...a, adresse: `${a.adresse} bis ${i}` })));
    assert.equal(ban.requests().filter((r) => r.status === 429).length, 0, 'never over the limit');
    assert.ok(ban.maxInWindow(1000) <= 50, `at most 50 in any second, saw ${ban.maxInWindow(1000)}`);
    assert.equal(ban.requests().length, 130);

    // Counted as the engine's fetcher counts its requests: by host and status, the 429's wait too.
    const host = new URL(ban.url).host;
    const scrape = () => testTelemetry().scrape();
    const before429 = await scrape();
    ban.setFault(429, 1);
    const client = clients[0]!;
    const res = await client.geocode({ id: 'after-429', adresse: '3 Rue Victor Hugo', codePostal: '44300', ville: 'Nantes' });
    assert.equal(res.result?.label, '3 Rue Victor Hugo 44300 Nantes');
    assert.equal(client.service.stats.throttled, 1);
    const [bucket] = await db.sql<{ throttles: number }[]>`select throttles::int from consolidation.rate_limits where bucket like 'ban:%'`;
    assert.equal(bucket?.throttles, 1, 'the 429 is recorded for every worker');
    const after429 = await scrape();
    const delta = (name: string, labels: Record<string, string>) => seriesValue(after429, name, labels) - seriesValue(before429, name, labels);
    assert.equal(delta('moisson_http_requests_total', { host, status: '429' }), 1, after429);
    assert.equal(delta('moisson_http_requests_total', { host, status: '200' }), 1);
    assert.equal(delta('moisson_rate_limit_wait_seconds_count', { host }), 1);
    assert.ok(seriesValue(before429, 'moisson_http_requests_total', { host, status: '200' }) >= 130, 'the 130 geocodes before it were counted');
  });

  test('accepted geocodes become proposals (corrected postcode, city, coordinates), never edits; saving twice keeps one', async () => {
    const client = new BanClient(db.sql, config);
    const actors: ActorLocation[] = [
      { identifiantUnique: 'ecosystem_1', adresse: '7 Rue Georges Clemenceau', codePostal: '5640', ville: 'AURAY', latitude: null, longitude: null },
      { identifiantUnique: 'ecosystem_2', adresse: 'zzzz qqqq', codePostal: '', ville: '', latitude: 48.1, longitude: 2.1 },
    ];
    const geocoded = await client.geocodeBatch(actors.map((a) => ({ id: a.identifiantUnique, adresse: a.adresse!, codePostal: a.codePostal, ville: a.ville })));
    const proposals = geocodeProposals(actors, geocoded);
    assert.equal(proposals.length, 1);
    const [p] = proposals;
    assert.equal(p!.identifiantUnique, 'ecosystem_1');
    assert.equal(p!.changes[0]!.model_name, 'acteur_update_data');
    assert.deepEqual(Object.keys(p!.changes[0]!.model_params.data).sort(), ['code_postal', 'latitude', 'longitude']);
    assert.equal(p!.changes[0]!.model_params.data.code_postal, '56400');
    assert.equal(p!.evidence.label, '7 Rue Georges Clemenceau 56400 Auray');
    assert.equal(await saveProposals(db.sql, proposals), 1);
    assert.equal(await saveProposals(db.sql, proposals), 0);
  });
});

describe('cache and retry', () => {
  test('answers older than the cache age are not served and are purged; Retry-After in seconds or as a date', async () => {
    const cache = new EnrichCache(db.sql, 30 * 86_400_000);
    await cache.putMany('ban.search', [{ key: 'fresh', request: { q: 'a' }, response: { ok: 1 } }, { key: 'old', request: { q: 'b' }, response: { ok: 2 } }]);
    await db.sql`update consolidation.enrich_cache set fetched_at = now() - interval '31 days', expires_at = now() - interval '1 day' where request_key = 'old'`;
    assert.deepEqual(await cache.get('ban.search', 'fresh'), { ok: 1 });
    assert.equal(await cache.get('ban.search', 'old'), undefined);
    assert.equal(await cache.purgeExpired(), 1);
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs(null), 1000);
    const inFive = retryAfterMs(new Date(Date.now() + 5000).toUTCString());
    assert.ok(inFive > 3000 && inFive <= 5000, String(inFive));
  });
});

describe('recherche-entreprises', () => {
  test('a SIRET lookup: closed, with the open establishments of its SIREN; per_page above 25 is refused before any request', async () => {
    const client = new EntreprisesClient(db.sql, config);
    const status = await client.siretStatus('00032517500032');
    assert.equal(status.etatAdministratif, 'F');
    assert.equal(status.uniteEtatAdministratif, 'A');
    assert.equal(status.openSiretsOfSiren.length, 1);
    const unknown = await client.siretStatus('99999999999999');
    assert.equal(unknown.etatAdministratif, null);
    registry.clearRequests();
    await assert.rejects(client.search('carrefour', { perPage: 26 }), InvalidInputError);
    assert.equal(registry.requests().length, 0);
    const page = await client.search('carrefour', { perPage: 1 });
    assert.equal(page.results[0]!.siren, '510761505');
  });

  test('7 requests per second hold across callers', async () => {
    const clients = [new EntreprisesClient(db.sql, config), new EntreprisesClient(db.sql, config)];
    registry.clearRequests();
    const names = ['tahiti perles', 'carrefour', 'perles creations', 'tahiti', 'creations'];
    await Promise.all(Array.from({ length: 20 }, (_, i) => clients[i % 2]!.search(names[i % names.length]!, { page: 1 + Math.floor(i / names.length), perPage: 5 })));
    assert.equal(registry.requests().filter((r) => r.status === 429).length, 0);
    assert.ok(registry.maxInWindow(1000) <= 7, `saw ${registry.maxInWindow(1000)} in a second`);
  });
});

describe('SIRENE file', () => {
  const header = readFileSync(SIRENE_SAMPLE, 'utf8').split('\n', 1)[0]!;
  const columns = header.split(',');
  const sample = parseCsv(readFileSync(SIRENE_SAMPLE, 'utf8'), { columns: true }) as Record<string, string>[];
  /** A row of the sample with some fields changed (the sample holds no replacement, so we derive two). */
  function variant(siret: string, changes: Record<string, string>): string {
    const base = sample.find((r) => r.siret === siret)!;
    const row = { ...base, ...changes };
    return columns.map((c) => (/[,"]/.test(row[c] ?? '') ? `"${row[c]!.replaceAll('"', '""')}"` : (row[c] ?? ''))).join(',');
  }

  test('the real 99-row slice loads with COPY; a re-load upserts; a file of another shape is refused and loses nothing', async () => {
    const first = await loadSireneStock(db.sql, Readable.from([readFileSync(SIRENE_SAMPLE)]));
    assert.deepEqual(first, { rows: 99, active: 7, closed: 92 });
    const extra = [
      header,
      variant('00032517500032', { siret: '00032517500107', nic: '00107', etatAdministratifEtablissement: 'A', enseigne1Etablissement: 'TAHITI PERLES', etablissementSiege: 'false' }),
      variant('00541042800014', { siren: '123456789', siret: '12345678900011', nic: '00011', etatAdministratifEtablissement: 'A', enseigne1Etablissement: 'MARCADE AUTO' }),
    ].join('\n');
    assert.deepEqual(await loadSireneStock(db.sql, Readable.from([extra])), { rows: 2, active: 2, closed: 0 });
    const [loaded] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.sirene_etablissements`;
    assert.equal(loaded!.n, 101);
    const [row] = await db.sql`select nom, adresse_match, numero_voie, code_postal from consolidation.sirene_etablissements where siret = '00032517500032'`;
    assert.deepEqual({ ...row }, { nom: 'TAHITI PERLES CREATIONS', adresse_match: 'AV FRANCOIS MAURIAC', numero_voie: '6', code_postal: '84000' });

    await assert.rejects(loadSireneStock(db.sql, Readable.from(['siren,nic,siret\n000325175,00016,00032517500016\n']), 'StockEtablissement_v2.csv'), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /StockEtablissement_v2\.csv: not a StockEtablissement file, columns missing: dateCreationEtablissement/);
      return true;
    });
    const [kept] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.sirene_etablissements`;
    assert.equal(kept!.n, 101, 'the previous load is untouched');
  });

  test('closed establishments become proposals: replaced (same SIREN, other SIREN) or INACTIF (establishment or whole company closed)', async () => {
    const [open] = await db.sql<{ siret: string }[]>`select siret from consolidation.sirene_etablissements where siren = '000325175' and etat_administratif = 'A' and siret <> '00032517500107'`;
    const proposals = await proposeClosedActors(db.sql, [
      { identifiantUnique: 'refashion_a', siret: '00032517500032', nom: 'Tahiti Perles', statut: 'ACTIF' },
      { identifiantUnique: 'ecologic_b', siret: '00541042800014', nom: 'Garage Marcadé', statut: 'ACTIF' },
      { identifiantUnique: 'ecologic_c', siret: '00180725400014', nom: 'Atelier', statut: 'ACTIF' },
      { identifiantUnique: 'ecomaison_d', siret: '00032517500024', nom: 'Tahiti Perles Créations', statut: 'ACTIF' },
      { identifiantUnique: 'ecomaison_e', siret: open!.siret, nom: 'Tahiti', statut: 'ACTIF' },
      { identifiantUnique: 'ecomaison_f', siret: '00541052700013', nom: 'Déjà inactif', statut: 'INACTIF' },
      { identifiantUnique: 'ecomaison_g', siret: '0054105270001', nom: 'SIRET de 13 chiffres', statut: 'ACTIF' },
    ]);
    const byId = Object.fromEntries(proposals.map((p) => [p.identifiantUnique, p]));
    assert.deepEqual(Object.keys(byId).sort(), ['ecologic_b', 'ecologic_c', 'ecomaison_d', 'refashion_a']);
    assert.equal(byId.refashion_a!.kind, 'closed_replaced_same_siren');
    assert.deepEqual(byId.refashion_a!.changes[0]!.model_params, { id: 'refashion_a', data: { siret: '00032517500107', siren: '000325175' } });
    assert.equal(byId.ecologic_b!.kind, 'closed_replaced_other_siren');
    assert.deepEqual(byId.ecologic_b!.changes[0]!.model_params.data, { siret: '12345678900011', siren: '123456789' });
    assert.equal(byId.ecologic_c!.kind, 'closed_not_replaced_unite');
    assert.deepEqual(byId.ecologic_c!.changes[0], {
      order: 1,
      reason: 'SIRET & SIREN fermés, 0 remplacement trouvé',
      model_name: 'acteur_update_statut',
      model_params: { id: 'ecologic_c', data: { statut: 'INACTIF' } },
    });
    assert.equal(byId.ecomaison_d!.kind, 'closed_not_replaced_etablissement');
    assert.equal(byId.ecomaison_d!.evidence.dateFermeture, '2011-10-21');
    assert.equal(await saveProposals(db.sql, proposals), 4);
    const [saved] = await db.sql<{ n: number }[]>`select count(*)::int as n from consolidation.enrich_proposals where kind like 'closed%'`;
    assert.equal(saved!.n, 4);
  });
});
