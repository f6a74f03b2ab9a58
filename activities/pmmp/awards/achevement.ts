/**
 * Rapports d'achèvement (annonceType 6): the end of a contract — who executed it, the initial and the
 * final amount, the day it was completed. No sample of a real one was captured: the labels read here
 * are the replica's (tests/replicas/pmmp/notices.ts) and their usual variants, matched folded (case,
 * accents), one "Label : value" per line.
 */
import { parseAmount } from './amounts';
import { parseDate } from './dates';
import type { ParseWarning } from './schema';
import { cleanValue, fold, toLines } from './text';

export interface AchevementNotice {
  reference: string | null;
  object: string | null;
  buyer: string | null;
  contractors: string[];
  /** Decimal strings ("1234567.89"), exact. */
  initialAmount: string | null;
  finalAmount: string | null;
  completedOn: string | null;
  warnings: ParseWarning[];
}

const LABELS: [keyof Omit<AchevementNotice, 'warnings'>, RegExp][] = [
  ['reference', /^(?:reference(?: de l'?appel d'?offres| du marche)?|appel d'?offres n)/],
  ['object', /^objet/],
  ['buyer', /^(?:maitre d'?ouvrage|acheteur)/],
  ['contractors', /^(?:titulaire|attributaire|entreprise titulaire)/],
  ['initialAmount', /^montant (?:initial|du marche)/],
  ['finalAmount', /^(?:montant (?:final|definitif|reel)|cout final)/],
  ['completedOn', /^date (?:d'?achevement|de reception|d'?execution)/],
];

export function parseAchevement(text: string): AchevementNotice {
  const out: AchevementNotice = { reference: null, object: null, buyer: null, contractors: [], initialAmount: null, finalAmount: null, completedOn: null, warnings: [] };
  for (const line of toLines(text)) {
    const raw = line.text;
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const label = fold(raw.slice(0, colon)).replace(/\s+/g, ' ').trim();
    const value = cleanValue(raw.slice(colon + 1));
    const field = LABELS.find(([, re]) => re.test(label))?.[0];
    if (!field || !value || value === '-') continue;
    if (field === 'contractors') out.contractors = value.split(/\s*;\s*/).map(cleanValue).filter((v) => v && v !== '-');
    else if (field === 'initialAmount' || field === 'finalAmount') {
      out[field] = parseAmount(value);
      if (out[field] === null) out.warnings.push({ field, code: 'ambiguous', message: `'${value}' is not one amount` });
    } else if (field === 'completedOn') {
      out.completedOn = parseDate(value);
      if (out.completedOn === null) out.warnings.push({ field, code: 'ambiguous', message: `'${value}' is not a date` });
    } else out[field] = value;
  }
  for (const field of ['contractors', 'finalAmount', 'completedOn'] as const) {
    const missing = field === 'contractors' ? out.contractors.length === 0 : out[field] === null;
    if (missing && !out.warnings.some((w) => w.field === field)) out.warnings.push({ field, code: 'not_found', message: `no ${field} line` });
  }
  return out;
}
