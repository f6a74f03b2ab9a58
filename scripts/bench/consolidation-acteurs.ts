/**
 * Realistic actors for the clustering bench (and for replicas that need many actors): seeded, so every
 * run gets the same data.
 *
 * Where the distributions come from:
 * - names: the shapes of QFDMOD's real actors (samples/consolidation/qfdmod/fixture-acteurs.json: artisans
 *   "Act Informatique", ESS "ASSOCIATION CAP RESSOURCERIE", PAV "Le Relais Bretagne", shops, collectivités),
 *   trades and brands of the eco-organisme networks, and common French surnames;
 * - addresses: the street types and street names of the SIRENE slice
 *   (samples/consolidation/entreprises/sirene.StockEtablissement.slice-99-rows.csv) plus the most common
 *   French street names, house numbers 1–120;
 * - postcodes and cities: the communes of the SIRENE slice and fixtures, the big cities by arrondissement
 *   (Paris, Marseille, Lyon) and a long tail built from the tokens of real commune names; block sizes
 *   follow a Zipf–Mandelbrot law (big cities make blocks of ~2,000 actors at 150k, most communes a few);
 * - sources and acteur types: the codes of fixture-sources.json and fixture-acteur_types.json.
 * Planted duplicates: ~30 % of places are published by 2 or 3 different sources, each copy with the
 * noise real sources add (case, accents, abbreviations Bd/Av/St, legal forms, a dropped or misspelt
 * word, a missing house number, city spelling, coordinates 5–40 m apart). Some places already have a
 * parent (two children in revision) that a new source's copy should join.
 */
import type { ActeurStatut, ClusterCandidate } from '../../activities/consolidation/cluster/types';
import { seededRandom } from './support';

const SOURCES = [
  'refashion', 'ecosystem', 'ecologic', 'ecomaison', 'cma_reparacteur', 'lvao', 'ocad3e', 'sinoe', 'ordredespharmaciens',
  'corepile', 'citeo', 'cyclamed', 'aliapur', 'valdelia', 'ecodds', 'batribox', 'laposte', 'leroymerlin', 'emmausconnect',
  'ressourceries', 'envie', 'communautelvao', 'ademesinoedecheteries', 'dastri', 'valobat', 'soren', 'ecominero', 'leko',
];
/** Bigger networks publish more points (first sources weigh most). */
const SOURCE_WEIGHTS = SOURCES.map((_, i) => 1 / (i + 2));

const TRADES = [
  'Cordonnerie', 'Couture', 'Retouches', 'Réparation informatique', 'Garage', 'Horlogerie', 'Bijouterie', 'Ébénisterie',
  'Tapisserie', 'Cycles', 'Électroménager', 'Bobinage', 'Antiquités', 'Serrurerie', 'Informatique', 'Atelier vélo',
  'Multiservices', 'Dépannage TV', 'Menuiserie', 'Maroquinerie',
];
const BRANDS = [
  'Darty', 'Boulanger', 'Leroy Merlin', 'Carrefour', 'Auchan', 'Intermarché', 'Super U', 'Decathlon', 'Kiabi', 'Castorama',
  'Fnac', 'But', 'Conforama', 'Locarmor', 'Lapeyre', 'Bricomarché', 'Gamm Vert', 'Cultura', 'La Poste', 'Orange',
];
const ESS = ['Emmaüs', 'Ressourcerie', 'Recyclerie', 'Association Cap Ressourcerie', 'Le Relais', 'Repair Café', 'Envie', 'La Petite Rockette', 'Green Socks', 'Agir pour la Terre'];
const SURNAMES = [
  'Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent', 'Simon', 'Michel',
  'Lefebvre', 'Leroy', 'Roux', 'David', 'Bertrand', 'Morel', 'Fournier', 'Girard', 'Bonnet', 'Dupont', 'Lambert', 'Fontaine',
  'Rousseau', 'Vincent', 'Muller', 'Lefevre', 'Faure', 'André', 'Mercier', 'Blanc', 'Guérin', 'Boyer', 'Garnier', 'Chevalier',
  'François', 'Legrand', 'Gauthier', 'Garcia', 'Perrin', 'Robin', 'Clément', 'Morin', 'Nicolas', 'Henry', 'Roussel', 'Mathieu',
  'Hantrais', 'Le Gall', 'Le Goff', 'Tanguy', 'Poulbenn', 'Novatek', 'Altech', 'Bleriot',
];
const LEGAL = ['SARL', 'SAS', 'EURL', 'SASU', 'Entreprise Individuelle', 'Ets'];

/** [full, abbreviation]: the SIRENE slice's type codes and their spelled-out forms. */
const STREET_TYPES: [string, string][] = [
  ['Rue', 'R'], ['Avenue', 'Av'], ['Boulevard', 'Bd'], ['Place', 'Pl'], ['Chemin', 'Che'], ['Route', 'Rte'], ['Allée', 'All'],
  ['Impasse', 'Imp'], ['Quai', 'Quai'], ['Cours', 'Crs'], ['Chaussée', 'Chs'], ['Hameau', 'Ham'],
];
const STREET_WEIGHTS = [40, 12, 8, 7, 6, 6, 4, 3, 2, 2, 1, 1];
const STREET_NAMES = [
  // SIRENE slice
  'Léonce de Seynes', 'François Mauriac', 'du Col de l\'Ange', 'Marx Dormoy', 'd\'Inglemur', 'd\'Alembert', 'de Houdent', 'de Doullens',
  'Marcade', 'd\'Hocquet', 'Grande', 'de Hamicourt', 'Fort Mardi', 'Pasteur', 'Nationale', 'de Saint Valery', 'Saint Jean',
  'Petite Rue Notre Dame', 'de la Gare', 'de l\'Arquet', 'Pierre Sauvage', 'Charles de Gaulle', 'Voltaire', 'Max Lejeune',
  'd\'Abbeville', 'du Moulin', 'du Général Leclerc', 'du Bois', 'Alfred François', 'Jules Verne', 'des Lingers', 'Turold',
  'Henri Barbusse', 'Ventôse', 'des Prés', 'du Pilori', 'des Écoles', 'de Montreuil', 'de la Fontaine', 'Maréchal Foch',
  'Vauban', 'Joliot Curie', 'de Verdun', 'Pechiney', 'Gassendi', 'Firmin Guichard', 'Chapuzie', 'Neuve', 'des Récollets',
  'du Général de Gaulle', 'Logis', 'Pied de Ville', 'Victor Hugo', 'Lieutenant Blondeau', 'Manuel', 'Saint Auban', 'des Érables',
  // fixtures
  'Maréchal Juin', 'Louis Blériot', 'Saint Irénée', 'de la Forêt', 'du Capitaine Bertrand', 'Anne de Bretagne', 'Georges Clémenceau',
  // the most common street names in France
  'de la République', 'Jean Jaurès', 'de Paris', 'Gambetta', 'Jean Moulin', 'de l\'Église', 'du Stade', 'des Lilas', 'Saint Martin',
  'de la Mairie', 'Carnot', 'Émile Zola', 'de la Liberté', 'du 8 Mai 1945', 'Jules Ferry', 'du Château', 'des Tilleuls', 'du Port',
];

/** Real communes of the SIRENE slice and fixtures: [postcode, city as the source spells it]. */
const REAL_COMMUNES: [string, string][] = [
  ['06800', 'Cagnes Sur Mer'], ['56950', 'Crach'], ['56400', 'Auray'], ['01320', 'Chatillon-La-Palud'], ['84000', 'AVIGNON'],
  ['84140', 'AVIGNON'], ['13420', 'GEMENOS'], ['54200', 'TOUL'], ['02100', 'SAINT-QUENTIN'], ['80210', 'TOURS-EN-VIMEU'],
  ['80100', 'ABBEVILLE'], ['80120', 'ARGOULES'], ['80220', 'GAMACHES'], ['80150', 'VIRONCHAUX'], ['80550', 'LE CROTOY'],
  ['80860', 'NOUVION'], ['80132', 'MAREUIL-CAUBERT'], ['80270', 'ALLERY'], ['80135', 'SAINT-RIQUIER'], ['80120', 'QUEND'],
  ['80370', 'HIERMONT'], ['80870', 'MOYENNEVILLE'], ['80220', 'MAISNIERES'], ['80150', 'CRECY-EN-PONTHIEU'], ['80120', 'FAVIERES'],
  ['80150', 'DOMVAST'], ['76630', 'ENVERMEU'], ['80130', 'FRIVILLE-ESCARBOTIN'], ['80970', 'SAILLY-FLIBEAUCOURT'], ['80120', 'RUE'],
  ['62180', 'RANG-DU-FLIERS'], ['62140', 'MARCONNELLE'], ['62180', 'CONCHIL-LE-TEMPLE'], ['80140', 'RAMBURES'], ['80570', 'DARGNIES'],
  ['04000', 'DIGNE-LES-BAINS'], ['04370', 'COLMARS'], ['04600', 'CHATEAU-ARNOUX-SAINT-AUBAN'], ['04500', 'QUINSON'],
  ['04250', 'TURRIERS'], ['04210', 'VALENSOLE'], ['04170', 'THORAME-BASSE'], ['04200', 'SISTERON'], ['04800', 'SAINT-MARTIN-DE-BROMES'],
  ['04120', 'CASTELLANE'], ['04190', 'LES MEES'], ['04530', 'LA CONDAMINE-CHATELARD'], ['04700', 'ORAISON'], ['04250', 'LA MOTTE-DU-CAIRE'],
  ['04140', 'VERDACHES'], ['04200', 'MISON'], ['04500', 'MONTAGNAC-MONTPEZAT'], ['04140', 'SEYNE'], ['04400', 'BARCELONNETTE'],
];

/** The big cities, which make the biggest blocks: [postcode, city]. */
function bigCities(): [string, string][] {
  const out: [string, string][] = [];
  for (let a = 1; a <= 20; a++) out.push([`750${String(a).padStart(2, '0')}`, 'Paris']);
  for (let a = 1; a <= 16; a++) out.push([`130${String(a).padStart(2, '0')}`, 'Marseille']);
  for (let a = 1; a <= 9; a++) out.push([`6900${a}`, 'Lyon']);
  out.push(['31000', 'Toulouse'], ['06000', 'Nice'], ['44000', 'Nantes'], ['67000', 'Strasbourg'], ['34000', 'Montpellier'],
    ['33000', 'Bordeaux'], ['59000', 'Lille'], ['35000', 'Rennes'], ['51100', 'Reims'], ['83000', 'Toulon']);
  return out;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function weightedPicker<T>(items: readonly T[], weights: readonly number[]): (random: () => number) => T {
  const cumulative = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (cumulative[i] = sum += w));
  return (random) => {
    const x = random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo]!;
  };
}

interface Commune {
  postcode: string;
  city: string;
  lat: number;
  lon: number;
}

/** Big cities first, then the real communes, then a long tail built from real commune-name tokens. */
function communes(count: number, random: () => number): Commune[] {
  const tokens = [...new Set(REAL_COMMUNES.flatMap(([, c]) => c.toUpperCase().split(/[ -]+/)).filter((t) => t.length > 2))];
  const joins = ['-', '-SUR-', '-LES-', '-EN-', '-DE-', ' '];
  const seen = new Set<string>();
  const out: Commune[] = [];
  const add = (postcode: string, city: string) => {
    const key = `${postcode}|${city.toUpperCase()}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ postcode, city, lat: 42.4 + random() * 8.6, lon: -4.7 + random() * 12.7 });
  };
  for (const [p, c] of bigCities()) add(p, c);
  for (const [p, c] of REAL_COMMUNES) add(p, c);
  while (out.length < count) {
    let dept = 1 + Math.floor(random() * 95);
    if (dept === 20) dept = 21;
    const postcode = `${String(dept).padStart(2, '0')}${String(Math.floor(random() * 1000)).padStart(3, '0')}`;
    const city = random() < 0.5 ? pick(random, tokens) : `${pick(random, tokens)}${pick(random, joins)}${pick(random, tokens)}`;
    add(postcode, random() < 0.2 ? city : titleCase(city));
  }
  return out;
}

function titleCase(s: string): string {
  return s.toLowerCase().replace(/(^|[\s'-])(\p{L})/gu, (_, sep: string, ch: string) => sep + ch.toUpperCase());
}

function stripAccents(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '');
}

const ACTEUR_TYPES = ['artisan', 'commerce', 'ess', 'pav_public', 'collectivite', 'decheterie', 'ets_sante', 'pav_prive'] as const;
const pickType = weightedPicker(ACTEUR_TYPES, [35, 25, 10, 15, 3, 3, 7, 2]);

interface Place {
  type: (typeof ACTEUR_TYPES)[number];
  nom: string;
  number: number | null;
  streetType: [string, string];
  street: string;
  commune: Commune;
  lat: number;
  lon: number;
  siret: string | null;
}

function placeName(random: () => number, type: Place['type'], commune: Commune, street: string): string {
  const city = titleCase(commune.city);
  switch (type) {
    case 'artisan':
      return random() < 0.7 ? `${pick(random, TRADES)} ${pick(random, SURNAMES)}` : `${pick(random, SURNAMES)} ${pick(random, TRADES)}`;
    case 'commerce':
      return random() < 0.6 ? `${pick(random, BRANDS)} ${city}` : `${pick(random, BRANDS)} ${pick(random, SURNAMES)}`;
    case 'ess':
      return `${pick(random, ESS)} ${random() < 0.5 ? city : pick(random, SURNAMES)}`;
    case 'pav_public':
    case 'pav_prive':
      return random() < 0.5 ? `Point d'apport volontaire ${street}` : `Borne textile ${pick(random, ['Le Relais', 'Refashion', 'Tissons la Solidarité'])} ${street}`;
    case 'collectivite':
      return random() < 0.5 ? `Mairie de ${city}` : `Communauté de communes ${city}`;
    case 'decheterie':
      return `Déchèterie de ${city}${random() < 0.3 ? ` ${pick(random, STREET_NAMES)}` : ''}`;
    case 'ets_sante':
      return `Pharmacie ${random() < 0.5 ? pick(random, ['du Centre', 'de la Gare', 'des Halles', 'du Marché', 'Principale']) : pick(random, SURNAMES)}`;
  }
}

/** One source's copy of a place, with the noise sources add. */
function copyOf(random: () => number, place: Place, first: boolean): { nom: string; adresse: string; ville: string; lat: number; lon: number } {
  let nom = place.nom;
  let streetType = place.streetType[0];
  let street = place.street;
  let number: number | null = place.number;
  let ville = place.commune.city;
  if (!first) {
    const r = () => random();
    if (r() < 0.25) nom = nom.toUpperCase();
    else if (r() < 0.15) nom = nom.toLowerCase();
    if (r() < 0.3) nom = stripAccents(nom);
    if (r() < 0.15) nom = r() < 0.5 ? `${pick(random, LEGAL)} ${nom}` : `${nom} ${pick(random, LEGAL)}`;
    if (r() < 0.1) {
      const words = nom.split(' ');
      if (words.length > 2) words.splice(1 + Math.floor(r() * (words.length - 1)), 1);
      nom = words.join(' ');
    }
    if (r() < 0.08) nom = typo(random, nom);
    if (r() < 0.4) streetType = place.streetType[1];
    if (r() < 0.2) street = street.replace(/\bSaint\b/g, 'St').replace(/\bGénéral\b/g, 'Gal');
    if (r() < 0.3) street = stripAccents(street);
    if (r() < 0.15) number = null;
    if (r() < 0.3) ville = ville.toUpperCase();
    else if (r() < 0.2) ville = titleCase(ville.replace(/-/g, ' '));
  }
  const adresse = `${number === null ? '' : `${number} `}${streetType} ${street}`;
  // 5–40 m apart: geocoded by different sources.
  const jitter = () => (random() - 0.5) * 0.0007;
  return { nom, adresse: first || random() < 0.5 ? adresse : adresse.toUpperCase(), ville, lat: place.lat + jitter(), lon: place.lon + jitter() };
}

function typo(random: () => number, s: string): string {
  const words = s.split(' ');
  const candidates = words.map((w, i) => [w, i] as const).filter(([w]) => w.length > 4);
  if (candidates.length === 0) return s;
  const [word, i] = pick(random, candidates);
  const at = 1 + Math.floor(random() * (word.length - 2));
  words[i] = word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
  return words.join(' ');
}

export interface GeneratedActeurs {
  /** The clustering's input: orphans and existing parents. */
  candidates: ClusterCandidate[];
  /** Existing children of the parents (in revision). */
  children: ClusterCandidate[];
  /** The planted place of each candidate (same number = the same place, published more than once). */
  placeOf: Map<string, number>;
  stats: { places: number; duplicatedPlaces: number; parents: number; communes: number };
}

/**
 * `total` candidates. Block sizes: commune rank r gets weight 1 / (r + 10) (Zipf–Mandelbrot), about
 * one commune per 12 actors, so the big cities hold ~1–2k actors each at 150k and most communes a few.
 */
export function generateActeurs(total: number, seed = 20261205): GeneratedActeurs {
  const random = seededRandom(seed);
  const allCommunes = communes(Math.max(60, Math.round(total / 12)), random);
  const pickCommune = weightedPicker(allCommunes, allCommunes.map((_, r) => 1 / (r + 10)));
  const pickSource = weightedPicker(SOURCES, SOURCE_WEIGHTS);
  const pickStreetType = weightedPicker(STREET_TYPES, STREET_WEIGHTS);

  const candidates: ClusterCandidate[] = [];
  const children: ClusterCandidate[] = [];
  const placeOf = new Map<string, number>();
  const perSource = new Map<string, number>();
  const nextId = (source: string) => {
    const n = (perSource.get(source) ?? 0) + 1;
    perSource.set(source, n);
    return `${source}_${n}`;
  };
  let places = 0;
  let duplicatedPlaces = 0;
  let parents = 0;
  while (candidates.length < total) {
    const commune = pickCommune(random);
    const type = pickType(random);
    const streetType = pickStreetType(random);
    const street = pick(random, STREET_NAMES);
    const place: Place = {
      type,
      nom: '',
      number: random() < 0.85 ? 1 + Math.floor(random() * 120) : null,
      streetType,
      street,
      commune,
      lat: commune.lat + (random() - 0.5) * 0.04,
      lon: commune.lon + (random() - 0.5) * 0.06,
      siret: random() < 0.6 ? String(10_000_000_000_000 + Math.floor(random() * 89_999_999_999_999)) : null,
    };
    place.nom = placeName(random, type, commune, `${streetType[0]} ${street}`);
    const placeId = places++;
    const copies = random() < 0.3 ? (random() < 0.7 ? 2 : 3) : 1;
    if (copies > 1) duplicatedPlaces++;
    const usedSources = new Set<string>();
    const hasParent = copies > 1 && random() < 0.1;
    for (let c = 0; c < copies && candidates.length < total; c++) {
      const copy = copyOf(random, place, c === 0);
      const data: Record<string, unknown> = {
        nom: copy.nom,
        adresse: copy.adresse,
        adresse_complement: random() < 0.1 ? pick(random, ['Bâtiment B', 'ZI du Moustoir', 'Centre commercial', 'BP 12']) : '',
        code_postal: commune.postcode,
        ville: copy.ville,
        siret: place.siret !== null && random() < 0.8 ? place.siret : null,
        telephone: random() < 0.5 ? `0${1 + Math.floor(random() * 5)}${String(Math.floor(random() * 1e8)).padStart(8, '0')}` : null,
        email: random() < 0.3 ? `contact@${stripAccents(place.nom).toLowerCase().replace(/[^a-z0-9]+/g, '')}.fr` : null,
        latitude: copy.lat,
        longitude: copy.lon,
      };
      if (hasParent && c === 0) {
        // An earlier run already merged two sources' copies of this place under a parent.
        const childSources: string[] = [];
        while (childSources.length < 2) {
          const s = pickSource(random);
          if (!childSources.includes(s)) childSources.push(s);
        }
        childSources.forEach((s) => usedSources.add(s));
        const parentId = `parent_${placeId}`;
        for (const s of childSources) {
          children.push(candidate(nextId(s), s, [s], type, 'ACTIF', data, copy, parentId, false, 0));
        }
        const parent = candidate(parentId, null, childSources, type, 'ACTIF', data, copy, null, true, 2);
        candidates.push(parent);
        placeOf.set(parentId, placeId);
        parents++;
        continue;
      }
      let source = pickSource(random);
      for (let tries = 0; usedSources.has(source) && tries < 50; tries++) source = pickSource(random);
      if (usedSources.has(source)) break;
      usedSources.add(source);
      const id = nextId(source);
      candidates.push(candidate(id, source, [source], type, random() < 0.97 ? 'ACTIF' : 'INACTIF', data, copy, null, false, 0));
      placeOf.set(id, placeId);
    }
  }
  return { candidates, children, placeOf, stats: { places, duplicatedPlaces, parents, communes: allCommunes.length } };
}

function candidate(
  id: string,
  sourceCode: string | null,
  sourceCodes: string[],
  type: string,
  statut: ActeurStatut,
  data: Record<string, unknown>,
  copy: { lat: number; lon: number },
  parentId: string | null,
  estParent: boolean,
  nombreEnfants: number,
): ClusterCandidate {
  return {
    identifiantUnique: id,
    estParent,
    parentId,
    sourceCode,
    sourceCodes,
    acteurTypeCode: type,
    statut,
    nombreEnfants,
    latitude: copy.lat,
    longitude: copy.lon,
    data: { ...data },
  };
}
