/**
 * A local replica of the open-data sources the consolidation pipeline reads, on one `node:http`
 * server; the pipeline is pointed at it by rewriting the declared origins to this one:
 *
 *   /data-fair/api/v1/datasets/<id>/schema   data-fair dataset schema (with its x-calculated columns)
 *   /data-fair/api/v1/datasets/<id>/lines    ?size=N, paged by `next` (`after` cursor), `{total, next, results}`
 *   /api/reparacteurs                        CMA Répar'Acteurs: ?page&page_size → `{total_entries, page, page_size, data}`
 *   /download/annuaire_csv.zip               the pharmacies file: a zip of a UTF-16-LE, `;`-separated CSV with a BOM
 *
 * Rows come from ./model. Knobs (in-process, or over HTTP when run as a process by ./main):
 *   POST /__replica/generation {"generation": n}        rows change, go and arrive as between two runs
 *   POST /__replica/shape {"source": "...", "shape": "normal"|"renamed"|"extra"}   a source changes shape
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { CMA_CATEGORY_LABELS, EO_PRODUCT_LABELS, changedAt, mess, place, rng, sourceKeys, type Place } from './model';

export type SourceShape = 'normal' | 'renamed' | 'extra';
export const EO_DATASETS = { 'donnees-eo-refashion': { label: 'Refashion', prefix: 'TLC-REFASHION', share: 0.35 }, 'donnees-eo-ecosystem': { label: 'Ecosystem', prefix: 'ESY', share: 0.35 }, 'donnees-eo-ecomaison': { label: 'Ecomaison', prefix: 'ECM', share: 0.25 } } as const;
export type EoDataset = keyof typeof EO_DATASETS;
export type ReplicaSource = EoDataset | 'cma' | 'pharmacies';

export interface ConsolidationReplicaOptions {
  port?: number;
  host?: string;
  /** Places in the world the sources draw from (default 600). */
  worldSize?: number;
  generation?: number;
}

export interface ConsolidationReplica {
  url: string;
  /** The `origin=origin` rewrites that point the built-in declarations at this replica. */
  rewrites: string;
  setGeneration(generation: number): void;
  setShape(source: ReplicaSource, shape: SourceShape): void;
  /** The rows a source serves now (what a reader must yield, before normalisation). */
  rows(source: ReplicaSource): Record<string, unknown>[];
  requestCount(): number;
  close(): Promise<void>;
}

const pickOf = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function eoProducts(dataset: EoDataset): string[] {
  const r = rng(`products:${dataset}`);
  return EO_PRODUCT_LABELS.filter(() => r() < 0.35);
}

function eoRow(dataset: EoDataset, p: Place, generation: number, index: number, shape: SourceShape): Record<string, unknown> {
  const { label, prefix } = EO_DATASETS[dataset];
  const r = rng(`${dataset}:row:${p.key}`);
  const changed = changedAt(dataset, p.key, generation);
  const products = eoProducts(dataset);
  const kind = r();
  const noId = kind < 0.02;
  const typeLabel = kind > 0.99 ? 'Borne connectée inconnue' : p.typeLabel;
  const sep = pickOf(r, [' ', ', ', ' ; ', ' - ']);
  const lat = r() < 0.02 ? '' : r() < 0.2 ? String(p.lat).replace('.', ',') : p.lat;
  const repair = r() < 0.5;
  const row: Record<string, unknown> = {
    id_point_apport_ou_reparation: noId ? '' : `${prefix}-${repair ? 'REP' : 'PAV'}-${p.key}`,
    nom_de_lorganisme: kind > 0.985 && noId ? '' : `${r() < 0.3 ? p.nom.toUpperCase() : p.nom}${changed ? ' (nouvelle adresse)' : ''}`,
    enseigne_commerciale: mess.nullToken(r, p.enseigne, 0.15),
    ecoorganisme: label,
    type_de_point_de_collecte: typeLabel,
    public_accueilli: pickOf(r, ['DMA', 'DMA/PRO', 'PRO', 'Particuliers', 'NP', '', 'Aucun', 'PARTICULIERS']),
    exclusivite_de_reprisereparation: pickOf(r, ['oui', 'non', '', 'Oui', 'NON']),
    reprise: pickOf(r, ['1 pour 0', '1 pour 1', 'non', 'oui', '']),
    produitsdechets_acceptes: r() < 0.01 ? 'objet mystère' : Array.from({ length: 1 + Math.floor(r() * 3) }, () => pickOf(r, products)).join('|'),
    consignes_dacces: r() < 0.2 ? 'Sonner à l’accueil' : '',
    uniquement_sur_rdv: pickOf(r, ['oui', 'non', 'non', '']),
    adresse_complement: mess.nullToken(r, r() < 0.2 ? 'Bâtiment B' : '', 0.1),
    horaires_douverture: pickOf(r, ['', '', 'Mo-Fr 09h00-12h00,14h00-18h00', 'Mo-Sa 10:00-19:00', '24/7', 'ouvert le matin']),
    site_web: mess.nullToken(r, p.site),
    email: mess.nullToken(r, p.email),
    labels_etou_bonus: pickOf(r, ['', '', 'Agréé Bonus Réparation', "Repar'acteurs", 'Aucun']),
    siret: mess.nullToken(r, mess.siret(r, p.siret), 0.05),
    siren: '',
    adresse_format_ban: `${p.numero} ${p.street}${sep}${mess.postcode(r, p.town.cp)}${sep}${r() < 0.5 ? p.town.ville.toUpperCase() : p.town.ville}${mess.cedex(r)}`,
    telephone: changed ? `02${String(p.key).padStart(8, '0')}` : mess.phone(r, p.phone),
    point_dapport_de_service_reparation: repair ? 'oui' : 'non',
    point_de_reparation: repair ? pickOf(r, ['oui', 'non']) : 'non',
    point_dapport_pour_reemploi: !repair && r() < 0.6 ? 'oui' : 'non',
    point_de_collecte_ou_de_reprise_des_dechets: !repair ? 'oui' : pickOf(r, ['oui', 'non']),
    service_a_domicile: pickOf(r, ['non', 'non', 'oui', 'service à domicile uniquement']),
    perimetre_dintervention: pickOf(r, ['', '10 km', '56|29', 'France métropolitaine']),
    latitudewgs84: lat,
    longitudewgs84: lat === '' ? '' : p.lon,
    filiere: 'TLC',
    accessible: pickOf(r, ['oui', 'non', '']),
    date_debut_point_ephemere: '',
    date_fin_point_ephemere: '',
    latitudemercator: '',
    longitudemercator: '',
    _id: `${dataset}-${index}`,
    _i: index,
    _rand: Math.floor(r() * 1e6),
    _updatedAt: '2026-11-20T08:00:00.000Z',
    _geopoint: lat === '' ? '' : `${p.lat},${p.lon}`,
  };
  if (shape === 'renamed') {
    row.nom_organisme = row.nom_de_lorganisme;
    delete row.nom_de_lorganisme;
  }
  if (shape === 'extra') row.code_commune_insee = '56007';
  return row;
}

const EO_SCHEMA_CALCULATED = [
  { key: '_id', type: 'string', format: 'uri-reference', title: 'Identifiant', 'x-calculated': true },
  { key: '_i', type: 'integer', title: 'Numéro de ligne', 'x-calculated': true },
  { key: '_rand', type: 'integer', title: 'Nombre aléatoire', 'x-calculated': true },
  { key: '_updatedAt', type: 'string', format: 'date-time', title: 'Date de mise à jour', 'x-calculated': true },
  { key: '_geopoint', type: 'string', title: 'Coordonnée géographique', 'x-calculated': true, 'x-refersTo': 'http://data.ign.fr/def/geometrie#Geometry' },
];

function eoSchema(sample: Record<string, unknown>) {
  return [
    ...Object.keys(sample)
      .filter((k) => !k.startsWith('_'))
      .map((key) => ({ key, type: typeof sample[key] === 'number' ? 'number' : 'string', 'x-originalName': key, title: key.replaceAll('_', ' '), 'x-cardinality': 1 })),
    ...EO_SCHEMA_CALCULATED,
  ];
}

function cmaRow(p: Place, generation: number, shape: SourceShape): Record<string, unknown> {
  const r = rng(`cma:row:${p.key}`);
  const changed = changedAt('cma', p.key, generation);
  const cp = mess.postcode(r, p.town.cp);
  const row: Record<string, unknown> = {
    id: 100_000 + p.key,
    nom: `${p.nom}${changed ? ' Réparation' : ''}`,
    adresse: `${p.numero} ${p.street}`,
    adresse_2: r() < 0.1 ? 'BP 12' : null,
    // The API serves postcodes as numbers: leading zeros are lost.
    code_postal: r() < 0.5 ? Number(cp) : cp,
    ville: p.town.ville,
    latitude: r() < 0.03 ? null : p.lat,
    longitude: p.lon,
    siret: mess.siret(r, p.siret),
    telephone: changed ? `05${String(p.key).padStart(8, '0')}` : mess.phone(r, p.phone),
    email: mess.nullToken(r, p.email, 0.1) || null,
    website: r() < 0.1 ? 'identifiantFacebook' : p.site || null,
    facebook: r() < 0.3 ? `facebook.com/${p.key}` : null,
    instagram: null,
    categories: Array.from({ length: 1 + Math.floor(r() * 2) }, () => pickOf(r, CMA_CATEGORY_LABELS)).join('|'),
    horaires: r() < 0.5 ? 'Du lundi au vendredi de 9h à 18h' : null,
    description: r() < 0.3 ? 'Réparation toutes marques' : null,
    nafa: pickOf(r, ['95.22Z', '95.29Z', '95.23Z', '45.20A']),
  };
  if (shape === 'renamed') {
    row.raison_sociale = row.nom;
    delete row.nom;
  }
  if (shape === 'extra') row.departement = p.town.cp.slice(0, 2);
  return row;
}

const PHARMACY_COLUMNS = ["Numéro d'établissement", 'Dénomination commerciale', 'Raison sociale', 'Adresse', 'Code postal', 'Commune', 'Téléphone', 'Télécopie', "Type d'établissement", 'Siret'];

function pharmacyRow(p: Place, generation: number): Record<string, string> {
  const r = rng(`pharmacies:row:${p.key}`);
  const changed = changedAt('pharmacies', p.key, generation);
  return {
    "Numéro d'établissement": String(2_000_000_000 + p.key),
    'Dénomination commerciale': `PHARMACIE ${p.town.ville.toUpperCase()}${r() < 0.5 ? ' CENTRE' : ''}`,
    'Raison sociale': `SELARL ${p.nom.toUpperCase()}${changed ? ' ET ASSOCIES' : ''}`,
    Adresse: `${p.numero} ${p.street}${mess.cedex(r)}`,
    'Code postal': mess.postcode(r, p.town.cp),
    Commune: p.town.ville.toUpperCase(),
    Téléphone: mess.phone(r, p.phone),
    Télécopie: mess.nullToken(r, '', 0.5),
    "Type d'établissement": "Pharmacie d'officine",
    Siret: mess.siret(r, p.siret),
  };
}

function csvField(v: string): string {
  return /[";\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** UTF-16-LE with a BOM, as the Ordre des pharmaciens publishes it. */
export function pharmaciesZip(rows: Record<string, string>[], columns: string[] = PHARMACY_COLUMNS): Uint8Array {
  const text = [columns, ...rows.map((row) => columns.map((c) => row[c] ?? ''))].map((cells) => cells.map(csvField).join(';')).join('\r\n') + '\r\n';
  const utf16 = new Uint8Array(2 + text.length * 2);
  utf16[0] = 0xff;
  utf16[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    utf16[2 + 2 * i] = c & 0xff;
    utf16[3 + 2 * i] = c >> 8;
  }
  return zipSync({ 'annuaire_pharmacies.csv': utf16, 'LISEZMOI.txt': strToU8('Annuaire des pharmacies d officine\n') });
}

export function startConsolidationReplica(opts: ConsolidationReplicaOptions = {}): Promise<ConsolidationReplica> {
  const worldSize = opts.worldSize ?? 600;
  let generation = opts.generation ?? 0;
  const shapes = new Map<ReplicaSource, SourceShape>();
  let requests = 0;

  const shares: Record<'cma' | 'pharmacies', number> = { cma: 0.25, pharmacies: 0.15 };
  function rows(source: ReplicaSource): Record<string, unknown>[] {
    const shape = shapes.get(source) ?? 'normal';
    if (source === 'cma') return sourceKeys('cma', worldSize, shares.cma, generation).map((k) => cmaRow(place(k), generation, shape));
    if (source === 'pharmacies') {
      const out: Record<string, unknown>[] = sourceKeys('pharmacies', worldSize, shares.pharmacies, generation).map((k) => pharmacyRow(place(k), generation));
      if (shape === 'renamed') {
        for (const row of out) {
          row.Nom = row['Raison sociale'];
          delete row['Raison sociale'];
        }
      }
      if (shape === 'extra') for (const row of out) row['Code CIP'] = '3400930000000';
      return out;
    }
    const keys = sourceKeys(source, worldSize, EO_DATASETS[source].share, generation);
    const out = keys.map((k, i) => eoRow(source, place(k), generation, i, shape));
    // A few points are published twice, with another product list: the same id, to be merged.
    for (const k of keys.filter((key) => rng(`${source}:dup:${key}`)() < 0.03)) {
      const twin = eoRow(source, place(k), generation, out.length, shape);
      twin.produitsdechets_acceptes = eoProducts(source)[k % eoProducts(source).length];
      out.push(twin);
    }
    return out;
  }

  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8') => {
    const payload = body instanceof Uint8Array ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    res.writeHead(status, { 'content-type': type, 'content-length': payload.length });
    res.end(payload);
  };
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://replica');
      if (url.pathname.startsWith('/__replica/') && req.method === 'POST') {
        const body = await readBody(req);
        if (url.pathname === '/__replica/generation' && Number.isInteger(body.generation)) return (generation = body.generation as number), send(res, 200, { generation });
        if (url.pathname === '/__replica/shape' && typeof body.source === 'string' && ['normal', 'renamed', 'extra'].includes(String(body.shape))) {
          shapes.set(body.source as ReplicaSource, body.shape as SourceShape);
          return send(res, 200, { source: body.source, shape: body.shape });
        }
        return send(res, 400, { error: 'bad knob' });
      }
      requests++;
      const ds = /^\/data-fair\/api\/v1\/datasets\/([^/]+)\/(schema|lines)$/.exec(url.pathname);
      if (ds) {
        const dataset = decodeURIComponent(ds[1]!);
        if (!(dataset in EO_DATASETS)) return send(res, 404, { error: `Dataset ${dataset} not found` });
        const all = rows(dataset as EoDataset);
        if (ds[2] === 'schema') return send(res, 200, eoSchema(all[0] ?? eoRow(dataset as EoDataset, place(0), generation, 0, shapes.get(dataset as EoDataset) ?? 'normal')));
        const size = Math.min(Number(url.searchParams.get('size') ?? 12), 10_000);
        const after = Number(url.searchParams.get('after') ?? 0);
        const page = all.slice(after, after + size);
        const nextUrl = new URL(`http://${req.headers.host}${url.pathname}`);
        nextUrl.searchParams.set('size', String(size));
        nextUrl.searchParams.set('after', String(after + size));
        return send(res, 200, { total: all.length, ...(after + size < all.length ? { next: nextUrl.toString() } : {}), results: page });
      }
      if (url.pathname === '/api/reparacteurs') {
        const page = Number(url.searchParams.get('page') ?? 1);
        const pageSize = Number(url.searchParams.get('page_size') ?? 20);
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) return send(res, 400, { error: 'page must be ≥ 1 and page_size within 1–500' });
        const all = rows('cma');
        return send(res, 200, { total_entries: all.length, page, page_size: pageSize, data: all.slice((page - 1) * pageSize, page * pageSize) });
      }
      if (url.pathname === '/download/annuaire_csv.zip') {
        const all = rows('pharmacies') as Record<string, string>[];
        const columns = all[0] ? Object.keys(all[0]) : PHARMACY_COLUMNS;
        return send(res, 200, pharmaciesZip(all, columns), 'application/zip');
      }
      return send(res, 404, { error: 'not found' });
    })().catch((e: unknown) => send(res, 500, { error: String(e) }));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const { port, address } = server.address() as AddressInfo;
      const url = `http://${address}:${port}`;
      resolve({
        url,
        rewrites: ['https://data.pointsapport.ademe.fr', 'https://www.artisanat.fr', 'https://www.ordre.pharmacien.fr'].map((o) => `${o}=${url}`).join(','),
        setGeneration: (g) => void (generation = g),
        setShape: (s, shape) => void shapes.set(s, shape),
        rows,
        requestCount: () => requests,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
