/**
 * The replica's address book: every feature of the saved real answers (samples/), plus housenumbers on a
 * grid of real streets and towns taken from those answers and the company registry sample, so any
 * "<n> <street> <postcode> <town>" built from them is found the way the real geocoder finds it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SAMPLES_DIR = fileURLToPath(new URL('./samples/', import.meta.url));

export interface BanFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: Record<string, string | number>;
}

export interface BanCollection {
  type: 'FeatureCollection';
  version?: string;
  features: BanFeature[];
  attribution?: string;
  licence?: string;
  query?: string;
  filters?: Record<string, string>;
  limit?: number;
  [k: string]: unknown;
}

export interface Town {
  city: string;
  postcode: string;
  citycode: string;
  context: string;
  district?: string;
  lon: number;
  lat: number;
}

/** Towns of the saved answers (api-adresse, geopf, recherche-entreprises), with their real codes and centres. */
export const TOWNS: Town[] = [
  { city: 'Paris', postcode: '75016', citycode: '75116', context: '75, Paris, Île-de-France', district: 'Paris 16e Arrondissement', lon: 2.2769, lat: 48.8637 },
  { city: 'Cergy', postcode: '95000', citycode: '95127', context: "95, Val-d'Oise, Île-de-France", lon: 2.0603, lat: 49.0364 },
  { city: 'Meaux', postcode: '77100', citycode: '77284', context: '77, Seine-et-Marne, Île-de-France', lon: 2.902793, lat: 48.95732 },
  { city: 'Auray', postcode: '56400', citycode: '56007', context: '56, Morbihan, Bretagne', lon: -2.990838, lat: 47.668099 },
  { city: 'Nantes', postcode: '44300', citycode: '44109', context: '44, Loire-Atlantique, Pays de la Loire', lon: -1.5536, lat: 47.2382 },
  { city: 'Pantin', postcode: '93500', citycode: '93055', context: '93, Seine-Saint-Denis, Île-de-France', lon: 2.4057, lat: 48.8944 },
  { city: 'Le Cannet', postcode: '06110', citycode: '06030', context: "06, Alpes-Maritimes, Provence-Alpes-Côte d'Azur", lon: 7.0059, lat: 43.5701 },
  { city: 'Avignon', postcode: '84000', citycode: '84007', context: "84, Vaucluse, Provence-Alpes-Côte d'Azur", lon: 4.8057, lat: 43.9493 },
  { city: 'Gémenos', postcode: '13420', citycode: '13042', context: "13, Bouches-du-Rhône, Provence-Alpes-Côte d'Azur", lon: 5.6286, lat: 43.2953 },
  { city: 'Eurre', postcode: '26400', citycode: '26125', context: '26, Drôme, Auvergne-Rhône-Alpes', lon: 4.986327, lat: 44.753059 },
  { city: 'Meillant', postcode: '18200', citycode: '18142', context: '18, Cher, Centre-Val de Loire', lon: 2.501585, lat: 46.786506 },
  { city: "Penne-d'Agenais", postcode: '47140', citycode: '47203', context: '47, Lot-et-Garonne, Nouvelle-Aquitaine', lon: 0.832005, lat: 44.381787 },
];

/** Street names of the saved answers (Auray's, Cergy's, Paris's, Le Cannet's…) and the SIRENE sample. */
export const STREETS = [
  'Avenue Kléber',
  'Quai de la Tourelle',
  'Rue Abbé Philippe le Gall',
  'Avenue du Général de Gaulle',
  'Rue Georges Clemenceau',
  'Place de la République',
  'Rue de la République',
  'Avenue Président Wilson',
  'Rue du Château',
  "Rue de l'Amiral Coude",
  'Avenue des Écoles',
  'Avenue François Mauriac',
  'Place Léonce de Seynes',
  "Avenue du Col de l'Ange",
  'Rue Victor Hugo',
  'Rue Jean Jaurès',
  'Boulevard Gambetta',
  'Rue de la Gare',
  'Rue Pasteur',
];

export const MAX_HOUSENUMBER = 150;

/** Lowercase, no accents, punctuation as spaces: what addok compares. */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

export function tokens(s: string): string[] {
  return fold(s).split(' ').filter(Boolean);
}

/** WGS84 → Lambert-93 (EPSG:2154), the `x`/`y` the real answers carry. */
export function lambert93(lon: number, lat: number): { x: number; y: number } {
  const e = 0.0818191910428158;
  const n = 0.725607765053267;
  const c = 11754255.426096;
  const xs = 700000;
  const ys = 12655612.049876;
  const phi = (lat * Math.PI) / 180;
  const l = Math.log(Math.tan(Math.PI / 4 + phi / 2) * Math.pow((1 - e * Math.sin(phi)) / (1 + e * Math.sin(phi)), e / 2));
  const r = c * Math.exp(-n * l);
  const gamma = n * ((lon - 3) * Math.PI) / 180;
  return { x: Math.round((xs + r * Math.sin(gamma)) * 100) / 100, y: Math.round((ys - r * Math.cos(gamma)) * 100) / 100 };
}

/** A stable small hash for ids and offsets. */
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface StreetEntry {
  town: Town;
  street: string;
  /** Folded tokens of "street postcode city". */
  tokens: Set<string>;
  code: string;
  lon: number;
  lat: number;
}

export function streetEntries(): StreetEntry[] {
  const out: StreetEntry[] = [];
  for (const town of TOWNS) {
    for (const street of STREETS) {
      const h = hash(`${town.citycode}|${street}`);
      out.push({
        town,
        street,
        tokens: new Set(tokens(`${street} ${town.postcode} ${town.city}`)),
        code: String(h % 9000 + 1000),
        lon: town.lon + ((h % 2000) - 1000) / 100_000,
        lat: town.lat + (((h >>> 11) % 2000) - 1000) / 100_000,
      });
    }
  }
  return out;
}

export function streetFeature(entry: StreetEntry, housenumber: number | undefined, score: number): BanFeature {
  const { town } = entry;
  const lon = Math.round((entry.lon + (housenumber ?? 0) * 0.00003) * 1e6) / 1e6;
  const lat = Math.round((entry.lat + (housenumber ?? 0) * 0.00001) * 1e6) / 1e6;
  const { x, y } = lambert93(lon, lat);
  const name = housenumber === undefined ? entry.street : `${housenumber} ${entry.street}`;
  const properties: Record<string, string | number> = {
    label: `${name} ${town.postcode} ${town.city}`,
    score,
    ...(housenumber === undefined ? {} : { housenumber: String(housenumber) }),
    id: housenumber === undefined ? `${town.citycode}_${entry.code}` : `${town.citycode}_${entry.code}_${String(housenumber).padStart(5, '0')}`,
    type: housenumber === undefined ? 'street' : 'housenumber',
    name,
    postcode: town.postcode,
    citycode: town.citycode,
    x,
    y,
    city: town.city,
    ...(town.district ? { district: town.district } : {}),
    context: town.context,
    importance: Math.round((0.45 + (hash(entry.code) % 300) / 1000) * 1e4) / 1e4,
    street: entry.street,
  };
  return { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties };
}

export interface SavedAnswer {
  file: string;
  query: string;
  type: string | undefined;
  body: BanCollection;
}

/** The saved real `/search` answers, served as they are when the same query comes again. */
export function savedAnswers(dir = SAMPLES_DIR): SavedAnswer[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f.includes('.search.'))
    .map((file) => {
      const body = JSON.parse(readFileSync(`${dir}${file}`, 'utf8')) as BanCollection;
      return { file, query: String(body.query ?? ''), type: body.filters?.type, body };
    })
    .filter((a) => a.query !== '');
}
