/**
 * Column normalisers: one source value in, one acteur value out (QFDMOD's `transform_column`). A
 * `*Warning` thrown here blanks the destination and is logged; an `*Error` drops the row.
 */
import type OpeningHours from 'opening_hours';
import {
  ActeurTypeCodeError,
  BooleanValueWarning,
  CodePostalWarning,
  EmailWarning,
  OpeningHoursWarning,
  PublicAccueilliWarning,
  RepriseWarning,
  SirenWarning,
  SiretWarning,
  SousCategorieCodesWarning,
  UrlWarning,
} from './errors';
import { idleReleased } from '../../engine/idle-release';
import { formatLibelleToCode, isBlank } from './text';

/** What a column normaliser may read besides its value: the source's product mapping. */
export interface NormalizeContext {
  productMapping: Record<string, string | string[]>;
  /** Code de déchet → libellé (SINOE sources). */
  dechetMapping?: Record<string, string>;
  labelBonusReparation?: string | null;
  returnableObjects?: boolean;
}

const isNa = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

export function castEoBooleanOrStringToBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.toLowerCase().trim();
    if (['oui', 'yes', 'true'].includes(v)) return true;
    if (['non', 'no', 'false'].includes(v)) return false;
  }
  if (isNa(value) || (typeof value === 'string' && value.trim() === '')) return null;
  throw new BooleanValueWarning(
    `la valeur \`${String(value)}\` n'a pas pu être interprété comme un booléen, Valeurs possibles: oui, yes, true, non, no, false, Valeur reçue: ${String(value)}`,
  );
}

/** Digits (and `+`) only, after dropping a trailing `.0` left by a float cast. */
export function cleanNumber(value: unknown): string {
  if (isNa(value)) return '';
  return String(value)
    .replace(/\.0$/, '')
    .replace(/[^\d+]/g, '');
}

export function cleanSiren(value: unknown): string {
  const siren = cleanNumber(value);
  if (!siren) return '';
  if (siren.length === 9) return siren;
  throw new SirenWarning(`Le numéro de SIREN n'a pas pu être interprété : \`${siren}\``);
}

/** A 13-digit SIRET lost its leading zero in a spreadsheet: it is padded back. */
export function cleanSiret(value: unknown): string {
  const siret = cleanNumber(value);
  if (!siret) return '';
  if (siret.length === 9 || siret.length === 14) return siret;
  if (siret.length === 13) return `0${siret}`;
  throw new SiretWarning(`Le numéro de SIRET n'a pas pu être interprété : \`${siret}\``);
}

export function stripString(value: unknown): string {
  return isBlank(value) ? '' : String(value).trim();
}

export function stripLowerString(value: unknown): string {
  return isBlank(value) ? '' : String(value).trim().toLowerCase();
}

/** Keys are stored without accents: the label is matched accent- and case-insensitively. */
const ACTEUR_TYPE_CODES: Record<string, string> = {
  'solution en ligne (site web, app. mobile)': 'acteur_digital',
  'artisan, commerce independant': 'artisan',
  'magasin / franchise, enseigne commerciale / distributeur / point de vente': 'commerce',
  "point d'apport volontaire publique": 'pav_public',
  "association, entreprise de l'economie sociale et solidaire (ess)": 'ess',
  'etablissement de sante': 'ets_sante',
  decheterie: 'decheterie',
  "point d'apport volontaire prive": 'pav_prive',
  'plateforme inertes': 'plateforme_inertes',
  'magasin / franchise, enseigne commerciale / distributeur / point de vente / franchise, enseigne commerciale / distributeur / point de vente': 'commerce',
  "point d'apport volontaire ephemere / ponctuel": 'pav_ponctuel',
};

export function cleanActeurTypeCode(value: unknown): string {
  const code = ACTEUR_TYPE_CODES[formatLibelleToCode(String(value ?? ''))];
  if (code === undefined) throw new ActeurTypeCodeError(`Acteur type \`${String(value)}\` not found in mapping : ${Object.keys(ACTEUR_TYPE_CODES).join(', ')}`);
  return code;
}

export const PUBLIC_ACCUEILLI = {
  UNKNOWN: '',
  PARTICULIERS: 'Particuliers',
  PROFESSIONNELS: 'Professionnels',
  PROFESSIONNELS_ET_PARTICULIERS: 'Particuliers et professionnels',
  AUCUN: 'Aucun',
} as const;

const PUBLIC_ACCUEILLI_VALUES: Record<string, string> = {
  'particuliers et professionnels': PUBLIC_ACCUEILLI.PROFESSIONNELS_ET_PARTICULIERS,
  professionnels: PUBLIC_ACCUEILLI.PROFESSIONNELS,
  particuliers: PUBLIC_ACCUEILLI.PARTICULIERS,
  aucun: PUBLIC_ACCUEILLI.AUCUN,
  'dma/pro': PUBLIC_ACCUEILLI.PROFESSIONNELS_ET_PARTICULIERS,
  dma: PUBLIC_ACCUEILLI.PARTICULIERS,
  pro: PUBLIC_ACCUEILLI.PROFESSIONNELS,
  np: PUBLIC_ACCUEILLI.UNKNOWN,
};

export function cleanPublicAccueilli(value: unknown): string {
  if (isBlank(value)) return PUBLIC_ACCUEILLI.UNKNOWN;
  const key = String(value).toLowerCase().trim();
  const mapped = PUBLIC_ACCUEILLI_VALUES[key];
  if (mapped === undefined) throw new PublicAccueilliWarning(`Public accueilli \`${String(value)}\` not found in mapping : ${Object.keys(PUBLIC_ACCUEILLI_VALUES).join(', ')}`);
  return mapped;
}

const REPRISE_VALUES: Record<string, string> = { '1 pour 0': '1 pour 0', '1 pour 1': '1 pour 1', non: '1 pour 0', oui: '1 pour 1' };

export function cleanReprise(value: unknown): string {
  if (isBlank(value)) return '';
  const mapped = REPRISE_VALUES[String(value).toLowerCase().trim()];
  if (mapped === undefined) throw new RepriseWarning(`Reprise \`${String(value)}\` not found in mapping : ${Object.keys(REPRISE_VALUES).join(', ')}`);
  return mapped;
}

/** Django's URLValidator host rule: a dotted name ending in a letters-only TLD, an IPv4, or localhost. */
const HOST = /^(?:localhost|(?:\d{1,3}\.){3}\d{1,3}|(?:[\p{L}\p{N}](?:[\p{L}\p{N}_-]{0,61}[\p{L}\p{N}])?\.)+(?:[\p{L}-]{2,63}|xn--[a-z0-9]{1,59})\.?)$/iu;

export function cleanUrl(value: unknown): string {
  if (isBlank(value)) return '';
  let url = String(value).trim();
  if (!(url.startsWith('http://') || url.startsWith('https://'))) url = `https://${url}`;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new UrlWarning(`L'URL n'est pas valide : \`${url}\``);
  }
  if (/\s/.test(url) || !HOST.test(decodeURIComponent(host))) throw new UrlWarning(`L'URL n'est pas valide : \`${url}\``);
  return url;
}

export function cleanEmail(value: unknown): string {
  if (isBlank(value)) return '';
  const email = String(value).trim().toLowerCase();
  if (!/^[^@]+@[^@]+\.[^@]+/.test(email)) throw new EmailWarning(`L'email n'est pas valide : \`${email}\``);
  return email;
}

/** A 4-digit postcode lost its leading zero (01…09 départements): it is padded back. */
export function cleanCodePostal(value: unknown): string {
  if (isBlank(value)) return '';
  let cp = cleanNumber(value);
  cp = cp && cp.length === 4 ? `0${cp}` : cp;
  if (cp.length !== 5) throw new CodePostalWarning(`Le code postal n'a pas pu être interprété : \`${String(value)}\``);
  return cp;
}

// opening_hours (with its holiday tables, ~9 MB of heap) is loaded on the first value to read, not in every
// worker process that imports the consolidation activities, and let go 30 s after the last one.
export const openingHoursLibrary = idleReleased('opening_hours', (exports) => exports as typeof OpeningHours);

function parseOpeningHours(value: string): OpeningHours {
  const OpeningHoursClass = openingHoursLibrary.get();
  return new OpeningHoursClass(value, null, 0);
}

/** Sources sometimes write `12h30` for `12:30`; the result must parse as an OSM opening_hours value. */
export function cleanHorairesOsm(value: unknown): string {
  if (isBlank(value)) return '';
  const horaires = String(value).replace(/(\d{2})h(\d{2})/g, '$1:$2');
  try {
    parseOpeningHours(horaires);
  } catch {
    throw new OpeningHoursWarning("Les horaires au format OSM n'ont pas pu être interprétés");
  }
  return horaires;
}

const DAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'] as const;
/** A Monday with no public holiday or DST change in its week: the reference week of the display. */
const REFERENCE_MONDAY = Date.UTC(2024, 0, 8);
const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;

/** OSM opening_hours → the French 7-line text shown on the map ("lundi: 09:00 - 12:00; 14:00 - 17:00"). */
export function convertOpeningHours(value: unknown): string {
  if (isBlank(value)) return '';
  let oh: OpeningHours;
  try {
    oh = parseOpeningHours(String(value));
  } catch {
    throw new OpeningHoursWarning("Les horaires au format OSM n'ont pas pu être interprétés");
  }
  return DAYS.map((day, i) => {
    // The library reads local time: shift the UTC reference day by the offset to stay on that day.
    const start = new Date(REFERENCE_MONDAY + i * 86_400_000);
    const local = new Date(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
    const end = new Date(local.getTime() + 86_400_000);
    const intervals = oh.getOpenIntervals(local, end).map(([from, to]) => {
      const f = new Date(Date.UTC(from.getFullYear(), from.getMonth(), from.getDate(), from.getHours(), from.getMinutes()));
      const t = new Date(Date.UTC(to.getFullYear(), to.getMonth(), to.getDate(), to.getHours(), to.getMinutes()));
      const untilMidnight = to.getTime() >= end.getTime();
      return `${hhmm(f)} - ${untilMidnight ? '23:59' : hhmm(t)}`;
    });
    return `${day}: ${intervals.length ? intervals.join('; ') : 'Fermé'}`;
  }).join('\n');
}

export function cleanCodeList(value: unknown): string[] {
  if (isNa(value)) return [];
  return String(value)
    .split('|')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
}

/** Source product labels (pipe list or list) → sous-catégorie codes, through the source's product mapping. */
export function cleanSousCategorieCodes(value: unknown, ctx: NormalizeContext): string[] {
  if (isBlank(value)) return [];
  const labels = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split('|') : null;
  if (labels === null) throw new SousCategorieCodesWarning(`Impossible d'interpréter les sous-catégories: ${String(value)}`);
  const codes = new Set<string>();
  for (const raw of labels) {
    const label = raw.trim().toLowerCase();
    if (!label) continue;
    const mapped = Object.hasOwn(ctx.productMapping, label) ? ctx.productMapping[label] : undefined;
    if (mapped === undefined) throw new SousCategorieCodesWarning(`Impossible d'interpréter la sous-catégorie: ${label}`);
    for (const code of Array.isArray(mapped) ? mapped : [mapped]) codes.add(code);
  }
  return [...codes].sort();
}

/** SINOE lists waste codes ("01.3|02.31"): code → libellé → sous-catégorie; unmapped codes are left out. */
export function cleanSousCategorieCodesSinoe(value: unknown, ctx: NormalizeContext): string[] {
  if (isBlank(value)) return [];
  const dechets = ctx.dechetMapping ?? {};
  const libelles = String(value)
    .split('|')
    .map((v) => v.trim())
    .filter((v) => !['', 'nan', 'np', 'none'].includes(v.toLowerCase()))
    .map((v) => dechets[v])
    .filter((l): l is string => l !== undefined && Object.hasOwn(ctx.productMapping, l.toLowerCase()));
  return cleanSousCategorieCodes(libelles.join('|'), ctx);
}

export const COLUMN_TRANSFORMS = {
  cast_eo_boolean_or_string_to_boolean: castEoBooleanOrStringToBoolean,
  clean_acteur_type_code: cleanActeurTypeCode,
  clean_code_list: cleanCodeList,
  clean_code_postal: cleanCodePostal,
  clean_horaires_osm: cleanHorairesOsm,
  clean_public_accueilli: cleanPublicAccueilli,
  clean_reprise: cleanReprise,
  clean_siren: cleanSiren,
  clean_siret: cleanSiret,
  clean_sous_categorie_codes: cleanSousCategorieCodes,
  clean_sous_categorie_codes_sinoe: cleanSousCategorieCodesSinoe,
  clean_url: cleanUrl,
  clean_email: cleanEmail,
  convert_opening_hours: convertOpeningHours,
  strip_lower_string: stripLowerString,
  strip_string: stripString,
  clean_number: cleanNumber,
} satisfies Record<string, (value: unknown, ctx: NormalizeContext) => unknown>;
export type ColumnTransformName = keyof typeof COLUMN_TRANSFORMS;
