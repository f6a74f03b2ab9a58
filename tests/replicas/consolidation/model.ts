/**
 * The places the consolidation replicas publish, generated deterministically from the shapes and
 * distributions of QFDMOD's real fixtures (names, streets and towns of tests/fixtures/consolidation
 * fixture-acteurs.json, the acteur types, the eco-organismes' product labels of db_mapping.json):
 * one world of places, of which each source publishes its own overlapping subset, each with its
 * own ids and its own mess (null tokens, 4-digit postcodes, 13-digit SIRETs, phone formats, CEDEX
 * addresses, duplicates inside a source). A `generation` changes some rows, removes some and adds
 * some, as a source does between two runs.
 */
import productMappings from '../../../activities/consolidation/sources/declarations/product-mappings.json' with { type: 'json' };

export function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A PRNG per key: the same key always draws the same numbers. */
export function rng(key: string): () => number {
  let a = hash(key);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Towns of the real fixtures (and their neighbours), with postcode and centre. */
const TOWNS = [
  { cp: '56400', ville: 'Auray', lat: 47.668, lon: -2.982 },
  { cp: '56950', ville: 'Crach', lat: 47.617, lon: -3.001 },
  { cp: '06800', ville: 'Cagnes-sur-Mer', lat: 43.664, lon: 7.149 },
  { cp: '01320', ville: 'Châtillon-la-Palud', lat: 45.972, lon: 5.25 },
  { cp: '75011', ville: 'Paris', lat: 48.858, lon: 2.379 },
  { cp: '69003', ville: 'Lyon', lat: 45.76, lon: 4.85 },
  { cp: '38540', ville: 'Heyrieux', lat: 45.633, lon: 5.063 },
  { cp: '34000', ville: 'Montpellier', lat: 43.61, lon: 3.877 },
  { cp: '57180', ville: 'Terville', lat: 49.347, lon: 6.133 },
  { cp: '77100', ville: 'Meaux', lat: 48.96, lon: 2.878 },
  { cp: '95000', ville: 'Cergy', lat: 49.036, lon: 2.063 },
  { cp: '02100', ville: 'Saint-Quentin', lat: 49.848, lon: 3.287 },
] as const;

const STREETS = ['Boulevard Marechal Juin', 'Za De Mane Lenn', 'Rue Louis Bleriot', 'Rue Saint Irenee', 'Rue De La Foret', 'Zi Du Moustoir', 'Rue Du Capitaine Bertrand', 'Boulevard Anne De Bretagne', 'Rue Georges Clémenceau', 'Avenue Kléber', 'Quai de la Tourelle', 'Rue de Paris', 'Avenue du 14 Juillet 1789', 'Rue des Balmes'];
const NAME_HEADS = ['Act Informatique', 'Cap Ressourcerie', 'Alre Bobinage', 'Antiquités du Poulbenn', 'Agir pour la Terre', 'Green Socks', 'Locarmor', 'AFE56', 'Le Relais', 'Rapid Couture', 'Emmaüs', 'Envie', 'La Recyclerie', 'Répar Vélo', 'Cordonnerie', 'Atelier Couture', 'Darty', 'Boulanger', 'Leroy Merlin', 'Point Service Mobile'];
const NAME_TAILS = ['', ' Bretagne', ' Centre', ' & Fils', ' SARL', ' Services', ' Atlantique', ' Sud'];

export const EO_TYPE_LABELS = [
  'Artisan, commerce indépendant',
  'Magasin / Franchise, Enseigne commerciale / Distributeur / Point de vente',
  "Point d'Apport Volontaire Publique",
  "Association, entreprise de l'économie sociale et solidaire (ESS)",
  'Déchèterie',
  "Point d'Apport Volontaire Privé",
  'Solution en ligne (site web, app. mobile)',
] as const;

const mappings = productMappings as Record<string, Record<string, string | string[]>>;
export const EO_PRODUCT_LABELS = Object.keys(mappings.sous_categories!);
export const CMA_CATEGORY_LABELS = Object.keys(mappings.sous_categories_cma!);

export interface Place {
  key: number;
  nom: string;
  enseigne: string;
  numero: number;
  street: string;
  town: (typeof TOWNS)[number];
  lat: number;
  lon: number;
  siret: string;
  phone: string;
  email: string;
  site: string;
  typeLabel: string;
}

/** Place `key` of the world (generation only changes which places a source lists and some fields). */
export function place(key: number): Place {
  const r = rng(`place:${key}`);
  const town = pick(r, TOWNS);
  const head = pick(r, NAME_HEADS);
  const nom = `${head}${pick(r, NAME_TAILS)}`.trim();
  const slug = head.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '');
  // About one SIRET in ten starts with 0: the ones spreadsheets shorten to 13 digits.
  const siret = `${r() < 0.1 ? '0' : String(1 + Math.floor(r() * 9))}${String(Math.floor(r() * 1e13)).padStart(13, '0')}`;
  return {
    key,
    nom,
    enseigne: r() < 0.4 ? head : '',
    numero: 1 + Math.floor(r() * 140),
    street: pick(r, STREETS),
    town,
    lat: Number((town.lat + (r() - 0.5) * 0.04).toFixed(6)),
    lon: Number((town.lon + (r() - 0.5) * 0.04).toFixed(6)),
    siret,
    phone: `0${1 + Math.floor(r() * 7)}${String(Math.floor(r() * 1e8)).padStart(8, '0')}`,
    email: r() < 0.5 ? `contact@${slug}.fr` : '',
    site: r() < 0.5 ? `www.${slug}.fr` : '',
    typeLabel: pick(r, EO_TYPE_LABELS),
  };
}

const NULL_TOKENS = ['NULL', 'n/a', '-', 'Aucun', 'nan', 'None', 'NA', 'non applicable'];

/** The mess a source adds to one value, decided per (source, row, field). */
export const mess = {
  nullToken(r: () => number, value: string, rate = 0.08): string {
    return r() < rate ? pick(r, NULL_TOKENS) : value;
  },
  siret(r: () => number, siret: string): string {
    if (siret.startsWith('0') && r() < 0.7) return siret.slice(1);
    if (r() < 0.05) return `${siret}.0`;
    if (r() < 0.03) return siret.slice(0, 10);
    return siret;
  },
  phone(r: () => number, phone: string): string {
    const x = r();
    const digits = phone.slice(1);
    if (x < 0.2) return phone.replace(/(\d{2})(?=\d)/g, '$1 ');
    if (x < 0.3) return `+33 ${digits[0]} ${digits.slice(1).replace(/(\d{2})(?=\d)/g, '$1 ')}`;
    if (x < 0.38) return `33${digits}`;
    if (x < 0.45) return digits;
    if (x < 0.5) return `${phone.slice(0, 4)}-${phone.slice(4, 7)}-${phone.slice(7)}`;
    if (x < 0.53) return 'fake';
    return phone;
  },
  postcode(r: () => number, cp: string): string {
    const x = r();
    if (cp.startsWith('0') && x < 0.5) return cp.slice(1);
    if (x < 0.03) return `${cp}1`;
    return cp;
  },
  cedex(r: () => number): string {
    return r() < 0.06 ? ` CEDEX ${String(1 + Math.floor(r() * 20)).padStart(2, '0')}` : '';
  },
};

/** Which places a source lists at a generation: its base subset, minus a few removed, plus a few new. */
export function sourceKeys(source: string, worldSize: number, share: number, generation: number): number[] {
  const keys: number[] = [];
  for (let key = 0; key < worldSize; key++) {
    if (rng(`${source}:in:${key}`)() >= share) continue;
    if (generation > 0 && rng(`${source}:gone:${key}:${generation}`)() < 0.03) continue;
    keys.push(key);
  }
  for (let g = 1; g <= generation; g++) {
    const added = Math.max(1, Math.round(worldSize * share * 0.03));
    for (let i = 0; i < added; i++) keys.push(worldSize + hash(`${source}:new:${g}:${i}`) % (worldSize * 10));
  }
  return [...new Set(keys)];
}

/** Whether a row changes at a generation (a new phone, a renamed shop). */
export function changedAt(source: string, key: number, generation: number): boolean {
  for (let g = 1; g <= generation; g++) if (rng(`${source}:mod:${key}:${g}`)() < 0.06) return true;
  return false;
}
