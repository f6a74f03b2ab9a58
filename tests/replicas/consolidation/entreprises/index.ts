/**
 * A local replica of recherche-entreprises.api.gouv.fr's `GET /search` on a plain `node:http` server:
 * companies (unités légales) built from the real SIRENE establishment rows of samples/ (open and closed
 * establishments, multi-establishment SIRENs) plus the saved real "carrefour" answer, answered in the shape
 * of that saved answer (`results[]` with `siege`, `matching_etablissements`, `complements`…,
 * `total_results`, `page`, `per_page` ≤ 25, `total_pages`), and the public limit of 7 requests per second
 * answered with 429. It also serves the SIRENE stock file (files.data.gouv.fr's
 * `/insee-sirene/StockEtablissement_utf8.zip`, a zip of the UTF-8 CSV) built from the same rows. README.md
 * says which behaviour is documented and which inferred.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { zipSync } from 'fflate';

const SAMPLES = fileURLToPath(new URL('./samples/', import.meta.url));
export const SIRENE_SAMPLE = `${SAMPLES}sirene.StockEtablissement.slice-99-rows.csv`;
/** Where the replica serves the stock file, as files.data.gouv.fr lays it out. */
export const SIRENE_STOCK_PATH = '/insee-sirene/StockEtablissement_utf8.zip';
const CARREFOUR = `${SAMPLES}recherche-entreprises.search.q-carrefour.per_page-1.json`;

type Json = Record<string, unknown>;

export interface EntreprisesRequestRecord {
  at: number;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface EntreprisesReplicaOptions {
  port?: number;
  host?: string;
  /** Requests per second and per client (7 at the public service); 0 turns the limit off. */
  ratePerSecond?: number;
  /** StockEtablissement CSV the companies are built from (default: the real 99-row sample). */
  sireneCsv?: string;
}

export interface EntreprisesReplica {
  url: string;
  requests(): EntreprisesRequestRecord[];
  clearRequests(): void;
  maxInWindow(windowMs?: number, statuses?: (s: number) => boolean): number;
  close(): Promise<void>;
}

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);

/** "32.12Z" as the API writes NAF codes (the stock file writes them the same way for NAFRev2). */
function etablissementFromStock(r: Record<string, string>): Json {
  const adresse = [r.numeroVoieEtablissement, r.indiceRepetitionEtablissement, r.typeVoieEtablissement, r.libelleVoieEtablissement, r.codePostalEtablissement, r.libelleCommuneEtablissement]
    .filter(Boolean)
    .join(' ');
  return {
    activite_principale: orNull(r.activitePrincipaleEtablissement),
    ancien_siege: false,
    annee_tranche_effectif_salarie: orNull(r.anneeEffectifsEtablissement),
    adresse,
    caractere_employeur: orNull(r.caractereEmployeurEtablissement),
    code_postal: orNull(r.codePostalEtablissement),
    commune: orNull(r.codeCommuneEtablissement),
    date_creation: orNull(r.dateCreationEtablissement),
    date_debut_activite: orNull(r.dateDebut),
    date_fermeture: r.etatAdministratifEtablissement === 'F' ? orNull(r.dateDebut) : null,
    epci: null,
    est_siege: r.etablissementSiege === 'true',
    etat_administratif: r.etatAdministratifEtablissement,
    geo_id: null,
    latitude: null,
    libelle_commune: orNull(r.libelleCommuneEtablissement),
    liste_enseignes: r.enseigne1Etablissement ? [r.enseigne1Etablissement, r.enseigne2Etablissement, r.enseigne3Etablissement].filter(Boolean) : null,
    liste_finess: null,
    liste_id_bio: null,
    liste_idcc: null,
    liste_id_organisme_formation: null,
    liste_rge: null,
    liste_uai: null,
    longitude: null,
    nom_commercial: orNull(r.denominationUsuelleEtablissement),
    region: null,
    siret: r.siret,
    statut_diffusion_etablissement: r.statutDiffusionEtablissement,
    tranche_effectif_salarie: orNull(r.trancheEffectifsEtablissement),
  };
}

interface Company {
  siren: string;
  names: string;
  result: Json;
  etablissements: Json[];
}

function companies(sireneCsv: string): Company[] {
  const carrefour = (JSON.parse(readFileSync(CARREFOUR, 'utf8')) as { results: Json[] }).results[0]!;
  const template = { ...carrefour };
  const rows = parseCsv(readFileSync(sireneCsv, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const bySiren = new Map<string, Record<string, string>[]>();
  for (const r of rows) bySiren.set(r.siren!, [...(bySiren.get(r.siren!) ?? []), r]);
  const out: Company[] = [
    {
      siren: String(carrefour.siren),
      names: fold(`${String(carrefour.nom_complet)} ${String(carrefour.nom_raison_sociale)}`),
      result: carrefour,
      etablissements: carrefour.matching_etablissements as Json[],
    },
  ];
  for (const [siren, etabRows] of bySiren) {
    const etablissements = etabRows.map(etablissementFromStock);
    const open = etablissements.filter((e) => e.etat_administratif === 'A');
    const siegeRow = etabRows.find((r) => r.etablissementSiege === 'true') ?? etabRows[0]!;
    const siege = { ...etablissementFromStock(siegeRow), ...Object.fromEntries(Object.keys(template.siege as Json).filter((k) => !(k in etablissementFromStock(siegeRow))).map((k) => [k, null])) };
    delete (siege as Json).ancien_siege;
    const name = etabRows.map((r) => r.enseigne1Etablissement || r.denominationUsuelleEtablissement).find(Boolean) ?? `ENTREPRISE ${siren}`;
    out.push({
      siren,
      names: fold(etabRows.map((r) => `${r.enseigne1Etablissement} ${r.denominationUsuelleEtablissement}`).join(' ') || name),
      etablissements,
      result: {
        ...template,
        siren,
        nom_complet: name,
        nom_raison_sociale: name,
        sigle: null,
        nombre_etablissements: etablissements.length,
        nombre_etablissements_ouverts: open.length,
        siege,
        activite_principale: siegeRow.activitePrincipaleEtablissement || null,
        date_creation: siegeRow.dateCreationEtablissement || null,
        // A legal unit with no open establishment left is "C" (cessée) in the API.
        etat_administratif: open.length > 0 ? 'A' : 'C',
        date_fermeture: open.length > 0 ? null : (siegeRow.dateDebut ?? null),
        date_mise_a_jour: siegeRow.dateDernierTraitementEtablissement || null,
        finances: null,
      },
    });
  }
  return out;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startEntreprisesReplica(options: EntreprisesReplicaOptions = {}): Promise<EntreprisesReplica> {
  const rate = options.ratePerSecond ?? 7;
  const all = companies(options.sireneCsv ?? SIRENE_SAMPLE);
  const stockZip = zipSync({ 'StockEtablissement_utf8.csv': readFileSync(options.sireneCsv ?? SIRENE_SAMPLE) });
  const log: EntreprisesRequestRecord[] = [];
  const arrivals = new Map<string, number[]>();

  function search(params: URLSearchParams): { status: number; body: unknown } {
    const q = (params.get('q') ?? '').trim();
    if (q.length < 3) return { status: 400, body: { erreur: 'Veuillez indiquer au moins 3 caractères pour le paramètre q.' } };
    const perPage = Number(params.get('per_page') ?? '10');
    const page = Number(params.get('page') ?? '1');
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 25) return { status: 400, body: { erreur: 'Veuillez indiquer un paramètre `per_page` entre 1 et 25.' } };
    if (!Number.isInteger(page) || page < 1 || page > 1000) return { status: 400, body: { erreur: 'Veuillez indiquer un paramètre `page` entre 1 et 1000.' } };
    const digits = q.replace(/\s+/g, '');
    let hits: Json[];
    if (/^\d{9}$/.test(digits) || /^\d{14}$/.test(digits)) {
      hits = all
        .filter((c) => c.siren === digits.slice(0, 9))
        .map((c) => ({
          ...c.result,
          matching_etablissements: digits.length === 14 ? c.etablissements.filter((e) => e.siret === digits) : c.etablissements.slice(0, 10),
        }))
        .filter((r) => (r.matching_etablissements as Json[]).length > 0);
    } else {
      const words = fold(q).split(' ');
      hits = all
        .filter((c) => words.every((w) => c.names.split(' ').includes(w)))
        .map((c) => ({ ...c.result, matching_etablissements: c.etablissements.slice(0, 10) }));
    }
    const total = hits.length;
    return {
      status: 200,
      body: { results: hits.slice((page - 1) * perPage, page * perPage), total_results: total, page, per_page: perPage, total_pages: Math.ceil(total / perPage) },
    };
  }

  const server = createServer((req, res) => {
    const at = performance.timeOrigin + performance.now();
    const url = new URL(req.url ?? '/', 'http://replica');
    const record: EntreprisesRequestRecord = { at, path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0 };
    log.push(record);
    req.resume();
    const client = req.socket.remoteAddress ?? '?';
    if (rate > 0 && url.pathname !== SIRENE_STOCK_PATH) {
      const list = (arrivals.get(client) ?? []).filter((t) => t > at - 1000);
      list.push(at);
      arrivals.set(client, list);
      if (list.length > rate) {
        record.status = 429;
        return json(res, 429, { erreur: 'Vous avez dépassé la limite de 7 requêtes par seconde.' }, { 'retry-after': '1' });
      }
    }
    if (req.method === 'GET' && url.pathname === SIRENE_STOCK_PATH) {
      // files.data.gouv.fr's monthly stock: a zip holding StockEtablissement_utf8.csv (not rate-limited there).
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': stockZip.length });
      return res.end(stockZip);
    }
    if (req.method === 'GET' && url.pathname.replace(/\/+$/, '') === '/search') {
      const { status, body } = search(url.searchParams);
      record.status = status;
      return json(res, status, body);
    }
    record.status = 404;
    return json(res, 404, { erreur: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...log],
    clearRequests: () => void (log.length = 0),
    maxInWindow(windowMs = 1000, statuses = () => true) {
      const times = log.filter((r) => statuses(r.status)).map((r) => r.at).sort((a, b) => a - b);
      let best = 0;
      let start = 0;
      for (let end = 0; end < times.length; end++) {
        while (times[end]! - times[start]! >= windowMs) start++;
        best = Math.max(best, end - start + 1);
      }
      return best;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
