import { cleanValue, fold } from './text';

/**
 * Company names as notices print them, and a tolerant comparison for matching a winner to its
 * bid or a parsed name to the ground truth.
 */

/** Words that do not identify a company: legal forms, articles, list noise. */
const NOISE_WORDS = new Set([
  'ste', 'stes', 'societe', 'soc', 'sarl', 'sarlau', 'sa', 'au', 'l', 'd', 'de', 'du', 'des',
  'la', 'le', 'les', 'et', 'groupement', 'offre', 'base', 'variante', 'mr', 'm', 'mme', 'monsieur', 'madame',
  'ets', 'entreprise', 'cie', 'unipersonnelle', 'suarl',
]);

/**
 * Clean-up of a bidder name cell: list markers, "- Offre de base" (ONEE tables), trailing
 * punctuation, and tesseract's systematic misreads of the legal form at the start of a line:
 * "Société" read "500616" (ocr-text/pv-08, pv-18), "STE" read "511" (pv-ec6310d6 page 2,
 * ocr-text companion pv-05).
 */
export function cleanBidderName(raw: string): string {
  let s = cleanValue(lastNameCell(raw))
    .replace(/^(?:\d{1,2}\s*[.)-]\s+|\d{1,2}\s+(?=\p{Lu})|[-–•·▪>®©*+~°<}{»'‘’"|]+\s*|[eoObvVÎIîl]\s+(?=[\p{Lu}\d]\p{Lu}))+/u, '')
    .replace(/^500616\s+/, 'Société ')
    .replace(/^511\s+(?=[A-Z])/, 'STE ')
    .replace(/\s*-*\s*offre\s+(?:de\s+)?(?:bas\w*|variante)\b.*$/i, '')
    .replace(/\s*-*\s*offre(?:\s+de)?\s*$/i, '')
    // What the notice prints after the name: the seat ("sise à Agadir", portal 172118e5, 453e26eb),
    // a postal address (", Résidence dalia, Av ...", 276fa12a), the running header of the next page
    // ("Extrait de PV de l'AO n° 29/2023 Page 1/2", 0fa1547e), the start of the amount sentence
    // (">> pour", 641bb9d9).
    .replace(/[\s,;]+(?:sise?|sis|si[eè]ge)\s+(?:[aà]|au)\s+.*$/i, '')
    .replace(/\s*,\s*(?:r[ée]sidence|r[ée]s\.|av\.?|avenue|bd\.?|boulevard|rue|immeuble|imm\.|angle|quartier|hay|km|n°)\s.*$/i, '')
    .replace(/\s+extrait\s+d[eu]\s+(?:pv|proc[eè]s).*$/i, '')
    .replace(/\s*[>»]*\s+pour\s*$/i, '')
    // A garbled amount run into the row ("STEUNIVERSSYSTEME. …. ; -95836800. .1 L-", portal 37526643)
    // and a table border read as a letter ("CMPF L", 302135cb).
    .replace(/[\s.…;:-]+-?\d{5,}.*$/, '')
    // The list entry's closing ";" then the amount column split by OCR ("« LREE » SARL AU ; 292 15200 7",
    // tuning 6cf8d049).
    .replace(/\s*;\s*\d[\d\s.,]*(?:\s\S{1,2})?\s*$/, '')
    // An amount whose digits OCR read as letters ("INTERFACE COMPU'TTER 444 OUO 0C", portal 1e677a8c).
    .replace(/\s+\d{1,3}(?:[\s.,]+[\dOoUuCcIl]{2,3}){1,3}\s*$/, '')
    .replace(/(?<=\p{L}{2,})\s+[A-Za-z|]$/u, '')
    // The town after the name ("STE ... DIVERS (S.A.R.L) à MEKNES", portal 205f8760).
    .replace(/\s+à\s+\p{Lu}[\p{L}-]+$/u, '')
    // A wrapped row drags the amount and the delay into the name cell (ocr-text/pv-06:
    // "LA MAROCAINE D'ASSAINISSEMENT ET 1.451,520,090 MAD 1 année{s)]").
    .replace(/\s+\S?\d{1,3}(?:[ .,']\d{3})+(?:[.,]\d{1,3})?\b.*$/, '')
    // The amount in words run into the name cell ("STE JUPITER FOX neuf mille ... Dirhams").
    .replace(/\s+\(?(?:un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante|cinquante|soixante|cent|mille)\b(?=.*\b(?:dirhams?|centimes?|mille|cents?)\b).*$/i, '')
    .replace(/\s*\((?:lots?\s*n?\s*°?\s*[\d\s,et]+)\)\s*;?$/i, '')
    .replace(/[\s;,.…]+$/, '');
  s = cleanValue(s);
  return s;
}

/**
 * A row of a "|"-ruled results table read as one line ("04/08/2026 à10h30 | 13/08/2026 à13h50 |
 * DIVERS à MEKNES", portal 205f8760; "Lot unique 14/12/2023 | OUHAFID TRAVAUX", 3607661f): the name
 * is the last cell that holds no date or time.
 */
function lastNameCell(raw: string): string {
  if (!/\s\|\s/.test(raw)) return raw;
  // Column headers run into the row ("ANP-DPCR TOTAL HT | TOTAL TTC 3N SYSTEMS", portal 6a77a51a).
  const cellsOf = raw.split(/\s\|\s/).map((c) => c.replace(/\btota[l1i,]\s*(?:ht|ttc)\b/gi, ' ').trim()).filter(Boolean);
  const named = cellsOf.filter((c) => !/\d{1,2}\/\d{1,2}\/\d{2,4}|\d{1,2}\s*h\s*\d{0,2}\b|^lot\b/i.test(c) && /\p{L}{3}/u.test(c));
  return named.length > 0 ? named[named.length - 1]! : raw;
}

export function splitGroupement(name: string): { isGroupement: boolean; members: string[] } {
  const isGroupement = /^\s*groupement\b/i.test(name) || /\s\/\s/.test(name);
  if (!isGroupement) return { isGroupement: false, members: [] };
  const body = name.replace(/^\s*groupement\s*:?\s*/i, '');
  const parts = body.includes('/') ? body.split(/\s*\/\s*/) : [];
  return { isGroupement: true, members: parts.map((p) => cleanValue(p)).filter((p) => p.length > 1) };
}

/**
 * A name as printed, without case, accents or punctuation: "STE ANFA-SIGMA SARL" and "Ste Anfa
 * Sigma SARL" are one spelling, "ANFA SIGMA SARL" another (legal forms are kept: two entries of
 * one list that differ only by them are two bidders).
 */
export function nameKey(name: string): string {
  return fold(name)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function nameTokens(name: string): string[] {
  return fold(name)
    .replace(/&/g, ' ')
    .replace(/[^a-z0-9\s]/g, (c) => (c === "'" || c === '-' || c === '.' ? '' : ' '))
    .split(/\s+/)
    .filter((t) => t && !NOISE_WORDS.has(t));
}

/** 0..1: how well two spellings of a company name agree (OCR drops letters and spaces). */
export function nameSimilarity(a: string, b: string): number {
  const ta = nameTokens(a);
  const tb = nameTokens(b);
  if (ta.length === 0 || tb.length === 0) return 0;
  const matched = ta.filter((x) => tb.some((y) => tokenEquals(x, y))).length;
  const tokenScore = matched / Math.max(ta.length, tb.length);
  // "ZED S" vs "ZEDS", "STETIFAOUINEINO BTP" vs "STE TIFAOUINEINO BTP".
  // OCR glues the legal form to the name ("STEZEDS" in ocr-text/pv-24).
  const ja = ta.join('').replace(/^(?:ste|societe)(?=\w{3})/, '');
  const jb = tb.join('').replace(/^(?:ste|societe)(?=\w{3})/, '');
  const charScore = 1 - levenshtein(ja, jb) / Math.max(ja.length, jb.length);
  return Math.max(tokenScore, charScore);
}

function tokenEquals(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.min(a.length, b.length) < 4) return false;
  return levenshtein(a, b) <= (Math.max(a.length, b.length) >= 8 ? 2 : 1);
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  // Two rows of typed arrays swapped, not a new array per row: called for every pair of names compared.
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ai === b.charCodeAt(j - 1) ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * Whether every identifying word of `part` is in `whole`: a fragment of a wrapped name
 * ("PUBLIC / HOUSEK CTP" of "Groupement TASYS DE TRAVAUX PUBLIC / HOUSEK CTP", companion pv-05).
 */
export function isNameFragment(part: string, whole: string): boolean {
  const tp = nameTokens(part);
  const tw = nameTokens(whole);
  if (tp.length === 0 || (tp.length === 1 && tp[0]!.length < 5)) return false;
  return tp.every((x) => tw.some((y) => tokenEquals(x, y)));
}

/** The one candidate `name` is a fragment of, if exactly one. */
export function uniqueFragmentMatch(name: string, candidates: readonly string[]): string | undefined {
  const hits = candidates.filter((c) => isNameFragment(name, c));
  return hits.length === 1 ? hits[0] : undefined;
}

/** Best match of `name` among `candidates`, when similar enough. */
export function bestNameMatch<T>(name: string, candidates: readonly T[], key: (c: T) => string, min = 0.75): T | undefined {
  let best: T | undefined;
  let bestScore = min;
  for (const c of candidates) {
    const s = nameSimilarity(name, key(c));
    if (s >= bestScore) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}

/**
 * Whether a text looks like a company / person name cell rather than a date, an amount, a
 * column header or a fragment of the object.
 */
const HEADER_WORDS = ['concurrent', 'concurrents', 'soumissionnaire', 'soumissionnaires', 'attributaire', 'engagement', 'montant', 'montants', 'retenus'];

export function looksLikeName(s: string): boolean {
  const t = cleanValue(s);
  if (t.length < 2) return false;
  const letters = (t.match(/\p{L}/gu) ?? []).length;
  if (letters < 2) return false;
  // At least one real word: table borders and stamps OCR into "ER CS", "7 |".
  const withoutCurrency = t.replace(/\b(?:dhs?|mad|ttc|ht|dirhams?)\b/gi, ' ');
  if (!/(?=[\p{L}\p{N}]*\p{L}[\p{L}\p{N}]*\p{L})[\p{L}\p{N}]{3,}/u.test(withoutCurrency)) return false;
  const f = fold(t);
  if (/^(?:a|le|du|au|lot|lot unique|unique|n°?|page|dh|dhs|mad|ttc|ht|neant|aucun|min|max|minimum|maximum|tf|tc)$/.test(f)) return false;
  if (/infructu|inferctu|infrectu|\bannul|appel\s+d'?\s*offres?|\bdeclar|\bprocedure\b|\bvice\b|\bmotif|\bpays\b/.test(f) && !/\b(?:ste|societe|sarl)\b/.test(f)) return false;
  if (/\b(?:montant|concurrent|retenu|attributaire|date|ouverture|achevement|commission|objet|offre retenue|verification|delai|justification|resultat|soumissionnaire|observation|classement|rectification|engagement|heure|duree|reconductible|mois|jours?)\b/.test(f)) return false;
  if (/\bsoumissions?\s+(?:physiques?|electroniques?)|\bvoie\s+electronique|\bdepot\s+des\s+plis/.test(f)) return false;
  // The tail of a wrapped "- Offre de base" cell (ONEE tables).
  if (/^(?:de\s+)?base\b/.test(f)) return false;
  // Values of a "type de dépôt" column (pv-f884eb9f, ocr-text/pv-14).
  if (/^(?:electronique|physique|papier|absence\s+d'offre|en\s+ligne)$/.test(f)) return false;
  if (/^\d{1,2}h\d{0,2}$/.test(f)) return false;
  // Sentence words, not a name: the start of the amount sentence ("Pour un montant de", portal
  // 4edb66fc), the legal text or the contract terms OCR put on the winner line ("avantageuses
  // conformément à l'article 43 du décret", 4f7bf979; "ur une durée max. de 3", 3d563ec2).
  if (/^(?:pour|par|avec|dont|de|des|du|la|les|et|aux|sur|un|une|soit|en)$/.test(f)) return false;
  if (/\b(?:conformement|article|decret|agissant|honoraires?|dur\S?e\s+max)/.test(f)) return false;
  // Column headers OCR damaged ("CONCARRENT RETENU", portal 13158996; "Cencurrents", "retéru").
  if (f.split(/[^a-z]+/).some((w) => w.length >= 6 && HEADER_WORDS.some((h) => Math.abs(h.length - w.length) <= 2 && levenshtein(w, h) <= 2))) return false;
  const lower = (t.match(/\p{Ll}/gu) ?? []).length;
  if (/^\p{Ll}/u.test(t) && lower / letters > 0.7) return false;
  return true;
}
