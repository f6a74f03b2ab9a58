/**
 * Words the generated records are made of. Procedures, categories, annonce types and option
 * values are the portal's own (legacy-advanced-search-form.excerpt.html); objects, places and
 * companies imitate the wording of the real records and notices in samples/pmmp/.
 */
import type { Rng } from './rng';

export type Category = 'Travaux' | 'Fournitures' | 'Services';
export const CATEGORIES: readonly Category[] = ['Travaux', 'Fournitures', 'Services'];
/** Option values of the advanced form's `categorie` select. */
export const CATEGORY_VALUE: Record<Category, string> = { Travaux: '1', Fournitures: '2', Services: '3' };

export interface Procedure {
  label: string;
  /** Short code of the list's first column; AOO and CONCA are in legacy-results-list.html, the rest are guesses. */
  code: string;
  /** Option value of the advanced form's `procedureType` select. */
  value: string;
  weight: number;
}

export const PROCEDURES: readonly Procedure[] = [
  { label: "Appel d'offres ouvert", code: 'AOO', value: '1', weight: 86 },
  { label: "Appel d'offres ouvert simplifié", code: 'AOOS', value: '50', weight: 4 },
  { label: "Appel d'offres restreint", code: 'AOR', value: '2', weight: 2 },
  { label: 'Concours Architectural', code: 'CONCA', value: '40', weight: 2 },
  { label: 'Consultation architecturale ouverte', code: 'CAO', value: '39', weight: 2 },
  { label: "Appel à manifestation d'intérêt", code: 'AMI', value: '37', weight: 2 },
  { label: 'Marché négocié sans publicité préalable', code: 'MN', value: '9', weight: 1 },
  { label: 'Enchère électronique inversée', code: 'EEI', value: '38', weight: 1 },
];

export const PASSATION_MODES = ['Sur offre de prix', 'Au rabais / majoration'] as const;

/** The five pictos of the list's legend (legacy-results-list.html, "Réponse électronique"). */
export const RESPONSE_PICTOS: readonly { src: string; text: string }[] = [
  { src: 'reponse-elec-oblig.gif', text: 'Réponse électronique obligatoire pour cette consultation, sans signature électronique' },
  { src: 'reponse-elec.gif', text: 'Réponse électronique non obligatoire pour cette consultation, sans signature électronique' },
  { src: 'reponse-elec-oblig-avec-signature.gif', text: ' Réponse électronique obligatoire pour cette consultation, avec signature électronique requise ' },
  { src: 'reponse-elec-avec-signature.gif', text: ' Réponse électronique non obligatoire pour cette consultation, avec signature électronique requise ' },
  { src: 'reponse-elec-non.gif', text: 'Pas de réponse électronique pour cette consultation' },
];

const WORKS = [
  'construction d’un centre de santé', 'aménagement de la voirie', 'réhabilitation du siège', 'extension du réseau d’assainissement',
  'construction d’une école primaire', 'renforcement du réseau d’eau potable', 'aménagement d’un terrain de proximité',
  'entretien des routes provinciales', 'construction d’un pont', 'éclairage public', 'mise à niveau du marché municipal',
  'réfection de l’étanchéité des bâtiments', 'construction de logements de fonction', 'aménagement paysager du parc',
  'protection contre les inondations', 'construction d’une station de pompage',
];
const SUPPLIES = [
  'fournitures de bureau', 'matériel informatique', 'produits pharmaceutiques', 'mobilier de bureau', 'pièces de rechange',
  'produits d’entretien', 'consommables informatiques', 'équipements médicaux', 'denrées alimentaires', 'carburant et lubrifiants',
  'matériel de laboratoire', 'équipements de protection individuelle', 'véhicules utilitaires', 'câbles et accessoires électriques',
  'fournitures scolaires', 'compteurs d’eau',
];
const SERVICES = [
  'nettoyage des locaux', 'gardiennage et surveillance', 'entretien des espaces verts', 'maintenance du parc informatique',
  'assistance technique', 'étude géotechnique', 'restauration des élèves internes', 'transport du personnel', 'audit comptable et financier',
  'maintenance des installations de climatisation', 'formation du personnel', 'organisation d’événements', 'études architecturales',
  'contrôle et suivi des travaux', 'location de véhicules', 'assurance de la flotte automobile',
];
const OPENERS: Record<Category, readonly string[]> = {
  Travaux: ['Travaux de', 'Travaux d’achèvement de', 'Travaux neufs :'],
  Fournitures: ['Achat de', 'Acquisition de', 'Fourniture et livraison de', 'Fourniture de'],
  Services: ['Prestations de', 'Services de', 'Marché cadre pour les prestations de'],
};
const TOPICS: Record<Category, readonly string[]> = { Travaux: WORKS, Fournitures: SUPPLIES, Services: SERVICES };

export function objectFor(rng: Rng, category: Category, place: string, buyerName: string): string {
  const opener = rng.pick(OPENERS[category]);
  const topic = rng.pick(TOPICS[category]);
  const tail = rng.weighted<string>([
    [` à ${placeTitle(place)}`, 4],
    [` pour le compte de ${buyerName}`, 2],
    [` au profit des services de ${buyerName}`, 1],
    [` - province de ${placeTitle(place)}`, 1],
    ['', 2],
  ]);
  const text = `${opener} ${topic}${tail}`;
  return rng.chance(0.25) ? text.toUpperCase() : text;
}

export function lotTitleFor(rng: Rng, category: Category, n: number): string {
  return `${rng.pick(TOPICS[category]).replace(/^./, (c) => c.toUpperCase())} – lot ${n}`;
}

const titles = new Map<string, string>();

function placeTitle(place: string): string {
  let t = titles.get(place);
  if (t === undefined) {
    t = place.toLowerCase().replace(/(^|[\s-])\p{L}/gu, (m) => m.toUpperCase());
    titles.set(place, t);
  }
  return t;
}

/** Places of execution as the real records spell them (consultations-detail-records.jsonl). */
export const PLACES: readonly string[] = [
  'CASABLANCA', 'RABAT', 'MARRAKECH', 'FES', 'MEKNES', 'TANGER-ASSILAH', 'AGADIR IDA OU TANANE', 'OUJDA-ANGAD', 'KENITRA',
  'TETOUAN', 'SETTAT', 'EL JADIDA', 'BENI MELLAL', 'SAFI', 'NADOR', 'LAAYOUNE', 'ERRACHIDIA', 'OUARZAZATE', 'KHOURIBGA',
  'TAZA', 'AL HOCEIMA', 'GUELMIM', 'TIZNIT', 'TAROUDANNT', 'ESSAOUIRA', 'SALE', 'SKHIRATE-TEMARA', 'MOHAMMADIA', 'BERRECHID',
  'NOUACEUR', 'IFRANE', 'MIDELT', 'ZAGORA', 'TINGHIR', 'AZILAL', 'KHENIFRA', 'LARACHE', 'CHEFCHAOUEN', 'BERKANE', 'TAOURIRT',
  'TAN-TAN', 'DRIOUCH', 'SIDI KACEM', 'SIDI BENNOUR', 'EL KELAA DES SRAGHNA', 'OUED ED DAHAB', 'MDIQ-FNIDEQ', 'FAHS-ANJRA',
];

const COMPANY_WORDS = [
  'ATLAS', 'SAHARA', 'RIF', 'MAGHREB', 'OASIS', 'ARGANE', 'CEDRE', 'ANFA', 'TAFILALET', 'SOUSS', 'ZENITH', 'HORIZON',
  'NOUR', 'AMANE', 'ISTIQAMA', 'TECHNO', 'BATI', 'INFRA', 'ELEC', 'HYDRO', 'GREEN', 'DELTA', 'OMEGA', 'PRIMA', 'SIGMA',
  'MEDI', 'LOGI', 'INFO', 'NET', 'SERV', 'TRAVAUX', 'CONSTRUCTION', 'EQUIPEMENT', 'DISTRIBUTION', 'ETUDES', 'CONSEIL',
];
const COMPANY_FORMS = ['SARL', 'SARL AU', 'SA', 'SARL', 'SNC', 'SARL'];

export function companyName(rng: Rng): string {
  const a = rng.pick(COMPANY_WORDS);
  const b = rng.pick(COMPANY_WORDS);
  const style = rng.int(0, 3);
  const core = style === 0 ? `${a} ${b}` : style === 1 ? `STE ${a}-${b}` : style === 2 ? `${a}${b.slice(0, 4)}` : `SOCIETE ${a} ${b}`;
  return `${core} ${rng.pick(COMPANY_FORMS)}`;
}

export const QUALIFICATIONS: readonly string[] = [
  'Secteur A / A2 - Travaux de construction / Classe 3',
  'Secteur B / B2 - Travaux de voirie / Classe 3',
  'Secteur C / C1 - Travaux d’assainissement / Classe 2',
  'Secteur J / J4 - Electricité / Classe 2',
];
export const AGREMENTS: readonly string[] = ['Agrément D - Électricité', 'Agrément E - Etudes techniques', 'Agrément L - Laboratoires'];
export const DOMAINS: Record<Category, readonly string[]> = {
  Travaux: ['Travaux / Bâtiment / Gros œuvre', 'Travaux / Voirie et réseaux divers / Routes', 'Travaux / Travaux d’assainissement, d’eau potable et de réseaux divers / Pose de conduites'],
  Fournitures: ['Fournitures / Matériel informatique / Ordinateurs', 'Fournitures / Mobilier / Mobilier de bureau', 'Fournitures / Produits d’entretien'],
  Services: ['Services / Nettoyage / Nettoyage de locaux', 'Services / Gardiennage', 'Services / Etudes / Etudes techniques'],
};

/** Purchase-order (/bdc/) objects: small, recurring buys. */
export const BDC_OBJECTS: readonly string[] = [
  'Réalisation des essais de contrôle de la qualité', 'Achat de fournitures de bureau', 'Achat de produits d’entretien',
  'Entretien et réparation des véhicules', 'Achat de consommables informatiques', 'Travaux de peinture', 'Achat de pneumatiques',
  'Impression de documents', 'Location de salles et restauration', 'Achat de médicaments', 'Maintenance des climatiseurs',
  'Achat de matériel électrique', 'Travaux de plomberie', 'Achat de tenues de travail', 'Frais de réception',
];
export const BDC_NATURES: readonly string[] = ['Travaux', 'Fournitures', 'Services'];
