/**
 * Row normalisers: several source columns in, several acteur columns out (QFDMOD's `transform_df`).
 * Each receives the origin columns in the declared order (the first one is the "main" column, as in
 * QFDMOD) and returns the destination values in the declared order.
 */
import { castEoBooleanOrStringToBoolean, cleanCodePostal, cleanNumber, cleanSiren, cleanSiret, cleanUrl, type NormalizeContext } from './columns';
import {
  ActeurServiceCodesWarning,
  ActionCodesWarning,
  AdresseWarning,
  GeopointWarning,
  IdentifiantExterneError,
  IdentifiantUniqueError,
  TelephoneWarning,
  UrlWarning,
} from './errors';
import { computeIdentifiantUnique } from './identity';
import { formatLibelleToCode, isBlank, pyTitle, stripChars, unidecode } from './text';

/** The origin columns of one row, in the declared order. */
export type OriginRow = [column: string, value: unknown][];
const get = (row: OriginRow, column: string): unknown => row.find(([c]) => c === column)?.[1];
const has = (row: OriginRow, column: string): boolean => row.some(([c]) => c === column);

export const ACTEUR_TYPE_DIGITAL = 'acteur_digital';
const LABEL_TO_IGNORE = ['non applicable', 'na', 'n/a', 'null', 'aucun', 'non'];

/** A 9-digit number in metropolitan France lost its leading 0; `33…` is the country code. */
export function cleanTelephone(row: OriginRow): [string] {
  const [, raw] = row[0]!;
  let number = cleanNumber(raw);
  if (!number) return [''];
  const cp = get(row, 'code_postal');
  if (number.length === 9 && !isBlank(cp) && Number.parseInt(String(cp), 10) < 96000) number = `0${number}`;
  if (number.startsWith('33')) number = `0${number.slice(2)}`;
  if (number.length < 6) throw new TelephoneWarning(`Le numéro de téléphone n'a pas pu être déduit : ${String(raw)}`);
  return [number];
}

/** The first origin column holding a valid URL wins. */
export function cleanUrlFromMultiColumns(row: OriginRow, ctx: NormalizeContext): [string] {
  let error: UrlWarning | null = null;
  for (const [, value] of row) {
    if (isBlank(value)) continue;
    try {
      return [cleanUrl(value)];
    } catch (e) {
      if (!(e instanceof UrlWarning)) throw e;
      error = e;
    }
  }
  if (error) throw error;
  void ctx;
  return [''];
}

/** The SIREN is the SIRET's first 9 digits when the source does not give one. */
export function cleanSiretAndSiren(row: OriginRow): [string, string] {
  const siret = has(row, 'siret') ? cleanSiret(get(row, 'siret')) : '';
  const sirenValue = get(row, 'siren');
  const siren = has(row, 'siren') && !isBlank(sirenValue) ? cleanSiren(sirenValue) : siret.slice(0, 9);
  return [siret, siren];
}

/** The source id, else one derived from `nom`; digital acteurs get `_d` (one site may also be a shop). */
export function cleanIdentifiantExterne(row: OriginRow): [string] {
  const [idColumn, idValue] = row[0]!;
  let id = idValue;
  const message = `L'identifiant externe est requis, il n'a pas pu être déduite des colonnes \`${idColumn}\` et/ou \`nom\``;
  if (isBlank(id) && has(row, 'nom')) {
    const nom = get(row, 'nom');
    if (isBlank(nom)) throw new IdentifiantExterneError(message);
    id = String(nom).trim().replaceAll('-', '').replaceAll(' ', '_').replaceAll('__', '_');
  }
  let identifiantExterne = isBlank(id) && id !== 0 ? '' : String(id).trim();
  if (!identifiantExterne) throw new IdentifiantExterneError(message);
  if (get(row, 'acteur_type_code') === ACTEUR_TYPE_DIGITAL) identifiantExterne += '_d';
  return [identifiantExterne];
}

export function cleanIdentifiantUnique(row: OriginRow): [string] {
  const identifiantExterne = get(row, 'identifiant_externe');
  if (isBlank(identifiantExterne) && identifiantExterne !== 0) throw new IdentifiantUniqueError('identifiant_externe is required to generate identifiant_unique');
  const sourceCode = get(row, 'source_code');
  try {
    return [computeIdentifiantUnique(String(sourceCode ?? ''), identifiantExterne as string | number)];
  } catch {
    throw new IdentifiantUniqueError(
      `L'identifiant unique est requis, il n'a pas pu être déduit des colonnes \`identifiant_externe\` : \`${String(identifiantExterne)}\` et/ou \`source_code\`  : \`${String(sourceCode)}\``,
    );
  }
}

/** Several product columns (one per category) → one pipe list. */
export function mergeSousCategoriesColumns(row: OriginRow): [string] {
  return [
    row
      .map(([, v]) => v)
      .filter((v) => !isBlank(v))
      .map(String)
      .join(' | '),
  ];
}

const BAN_SEPARATORS = '\\s,;-';
const STRIP_BAN = ' ,;-';
const CEDEX = /\bCEDEX\s*\d*\b/gi;
const ADDRESS_CP_CITY = new RegExp(`(.*)[${BAN_SEPARATORS}]+(\\d{4,5})[${BAN_SEPARATORS}]*(.*)`);
const CP_CITY = new RegExp(`(\\d{4,5})[${BAN_SEPARATORS}]*(.*)`);

/** "street CP city" without BAN: tolerant of `,` `;` ` - ` separators, CEDEX dropped, city title-cased. */
export function extractAddressDetails(adresseFormatBan: string): [string, string, string] {
  if (!adresseFormatBan) return ['', '', ''];
  const text = adresseFormatBan.replace(CEDEX, '').trim();
  let address = '';
  let postalCode = '';
  let city = '';
  const full = ADDRESS_CP_CITY.exec(text);
  const partial = full ? null : CP_CITY.exec(text);
  if (full) {
    address = stripChars(full[1] ?? '', STRIP_BAN);
    postalCode = stripChars(full[2] ?? '', STRIP_BAN);
    city = stripChars(full[3] ?? '', STRIP_BAN);
  } else if (partial) {
    postalCode = stripChars(partial[1] ?? '', STRIP_BAN);
    city = stripChars(partial[2] ?? '', STRIP_BAN);
  }
  if (city) city = stripChars(pyTitle(city).replaceAll('*', ''), STRIP_BAN);
  return [address, cleanCodePostal(postalCode), city];
}

export function cleanAdresse(row: OriginRow): [string, string, string] {
  const value = get(row, 'adresse_format_ban');
  const [address, postalCode, city] = extractAddressDetails(isBlank(value) ? '' : String(value));
  if (!address && !postalCode && !city) throw new AdresseWarning(`Adresse n'a pas pu être déduit : ${String(value ?? '')}`);
  return [address, postalCode, city];
}

function serviceFlags(row: OriginRow) {
  const flag = (c: string) => castEoBooleanOrStringToBoolean(get(row, c) ?? null) === true;
  return {
    reparation: flag('point_dapport_de_service_reparation') || flag('point_de_reparation'),
    reemploi: flag('point_dapport_pour_reemploi'),
    collecte: flag('point_de_collecte_ou_de_reprise_des_dechets'),
  };
}

export function cleanActeurServiceCodes(row: OriginRow): [string[]] {
  const f = serviceFlags(row);
  const codes: string[] = [];
  if (f.reparation) codes.push('service_de_reparation');
  if (f.reemploi || f.collecte) codes.push('structure_de_collecte');
  if (!codes.length) throw new ActeurServiceCodesWarning(`Acteur service n'a pas pu être déduit : ${JSON.stringify(Object.fromEntries(row))}`);
  return [codes];
}

export function cleanActionCodes(row: OriginRow, ctx: NormalizeContext): [string[]] {
  const f = serviceFlags(row);
  const codes: string[] = [];
  if (f.reparation) codes.push('reparer');
  if (f.reemploi) codes.push(ctx.returnableObjects ? 'rapporter' : 'donner');
  if (f.collecte) codes.push('trier');
  if (!codes.length) throw new ActionCodesWarning(`Action codes n'a pas pu être déduit : ${JSON.stringify(Object.fromEntries(row))}`);
  return [codes];
}

/** ESS acteurs carry the ESS label; the "Agréé Bonus Réparation" mention becomes the source's bonus label. */
export function cleanLabelCodes(row: OriginRow, ctx: NormalizeContext): [string[]] {
  const codes: string[] = [];
  if (get(row, 'acteur_type_code') === 'ess') codes.push('ess');
  const first = row[0]![1];
  let labels = isBlank(first) ? '' : String(first);
  if (ctx.labelBonusReparation && labels.includes('Agréé Bonus Réparation')) {
    codes.push(ctx.labelBonusReparation);
    labels = labels.replaceAll('Agréé Bonus Réparation', '');
  }
  for (const part of labels.split('|')) {
    const code = formatLibelleToCode(part);
    if (!code || LABEL_TO_IGNORE.includes(code)) continue;
    codes.push(code);
  }
  return [codes];
}

export function getLatLngFromGeopoint(row: OriginRow): [number, number] {
  const geopoint = get(row, '_geopoint');
  if (isBlank(geopoint)) throw new GeopointWarning('La colonne _geopoint est requise');
  const [lat, lng] = String(geopoint).split(',');
  return [Number.parseFloat((lat ?? '').trim()), Number.parseFloat((lng ?? '').trim())];
}

/** Python `float()` of a French decimal ("48,85" or "48,85,"): null when it is not a number. */
export function parseAnyToFloat(value: unknown): number | null {
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  if (typeof value !== 'string') return null;
  const text = value.replace(/,$/, '').replaceAll(',', '.').trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return null;
  const f = Number(text);
  return Number.isNaN(f) ? null : f;
}

/** The point as `"lon lat"` (the location column only says whether there is one), and the parsed coordinates. */
export function computeLocation(row: OriginRow): [string | null, number | null, number | null] {
  const latitude = parseAnyToFloat(get(row, 'latitude'));
  const longitude = parseAnyToFloat(get(row, 'longitude'));
  const location = !latitude || !longitude ? null : `POINT(${longitude} ${latitude})`;
  return [location, latitude, longitude];
}

/** Every action × all the row's sous-catégories, both sorted. */
export function cleanPropositionServices(row: OriginRow): [{ action: string; sous_categories: string[] }[]] {
  const sousCategories = get(row, 'sous_categorie_codes');
  const actions = get(row, 'action_codes');
  if (!Array.isArray(sousCategories) || sousCategories.length === 0) return [[]];
  const sorted = [...(sousCategories as string[])].sort();
  return [[...((Array.isArray(actions) ? actions : []) as string[])].sort().map((action) => ({ action, sous_categories: sorted }))];
}

const sanitize = (s: unknown) => unidecode(isBlank(s) ? '' : String(s)).toUpperCase().trim();

function lieuPrestation(serviceADomicile: unknown): 'A_DOMICILE' | 'SUR_PLACE_OU_A_DOMICILE' | 'SUR_PLACE' {
  const s = sanitize(serviceADomicile);
  if ([/^SERVICE\s*A\s*DOMICILE\s*UNIQUEMENT/, /^OUI\s*EXCLUSIVEMENT/].some((r) => r.test(s))) return 'A_DOMICILE';
  if ([/^OUI/, /^SERVICE\s*A\s*DOMICILE\s*ET\s*EN\s*BOUTIQUE/].some((r) => r.test(s))) return 'SUR_PLACE_OU_A_DOMICILE';
  return 'SUR_PLACE';
}

function perimetres(value: unknown): { type: string; valeur: string }[] {
  const out: { type: string; valeur: string }[] = [];
  for (const part of (isBlank(value) ? '' : String(value)).split('|')) {
    const p = sanitize(part);
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)\s*KM/.exec(p))) out.push({ type: 'KILOMETRIQUE', valeur: String(Number.parseInt(m[1]!, 10)) });
    else if ((m = /^(\d{1,3}|2A|2B)$/.exec(p))) out.push({ type: 'DEPARTEMENTAL', valeur: m[1]!.length === 1 ? `0${m[1]!}` : m[1]! });
    else if (/^FRANCE\s*METROPOLITAINE$/.test(p)) out.push({ type: 'FRANCE_METROPOLITAINE', valeur: '' });
    else if (/^DROM\s*TOM$/.test(p)) out.push({ type: 'DROM_TOM', valeur: '' });
    else if (/^FRANCE\s*METROPOLITAINE\s*Y\s*COMPRIS\s*DROM\s*TOM$/.test(p)) out.push({ type: 'FRANCE_METROPOLITAINE', valeur: '' }, { type: 'DROM_TOM', valeur: '' });
  }
  return out.sort((a, b) => (a.type === b.type ? (a.valeur < b.valeur ? -1 : a.valeur > b.valeur ? 1 : 0) : a.type < b.type ? -1 : 1));
}

export function cleanServiceADomicile(row: OriginRow): [string, { type: string; valeur: string }[]] {
  const lieu = lieuPrestation(get(row, 'service_a_domicile'));
  return [lieu, lieu === 'SUR_PLACE' ? [] : perimetres(get(row, 'perimetre_dintervention'))];
}

export const FRAME_TRANSFORMS = {
  clean_acteur_service_codes: cleanActeurServiceCodes,
  clean_action_codes: cleanActionCodes,
  clean_adresse: cleanAdresse,
  clean_identifiant_externe: cleanIdentifiantExterne,
  clean_identifiant_unique: cleanIdentifiantUnique,
  clean_label_codes: cleanLabelCodes,
  clean_proposition_services: cleanPropositionServices,
  clean_service_a_domicile: cleanServiceADomicile,
  clean_siret_and_siren: cleanSiretAndSiren,
  clean_telephone: cleanTelephone,
  clean_url_from_multi_columns: cleanUrlFromMultiColumns,
  compute_location: computeLocation,
  get_latlng_from_geopoint: getLatLngFromGeopoint,
  merge_sous_categories_columns: mergeSousCategoriesColumns,
} satisfies Record<string, (row: OriginRow, ctx: NormalizeContext) => unknown[]>;
export type FrameTransformName = keyof typeof FRAME_TRANSFORMS;
