/**
 * Development loop for the award parser (issue 14): parses the TUNING part of
 * samples/pmmp/ocr-text-portal only (portal-split.json) and prints the reference check against the
 * portal record and the hand-annotated tuning fields, with every miss. It never opens a held-apart
 * text, so it can be run as often as needed while fixing the parser; the held-apart score comes
 * from `npm run bench -- --only pmmp.awards.portal` only.
 *   npx tsx scripts/bench/pmmp-awards-dev.ts [--misses]
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAward, type AwardNotice } from '../../activities/pmmp/awards';
import { accuracyReport, portalCheck, type GroundTruth, type PortalRecord } from '../../activities/pmmp/awards/accuracy';
import { loadPortalSplit } from './pmmp-awards';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLES = process.env.MOISSON_SAMPLES_DIR ?? join(root, 'tests/fixtures/samples');
const PORTAL_DIR = join(SAMPLES, 'pmmp/ocr-text-portal');

async function main(): Promise<void> {
  const showMisses = process.argv.includes('--misses');
  const split = await loadPortalSplit();
  const records = JSON.parse(await readFile(join(PORTAL_DIR, 'portal-records.json'), 'utf8')) as Record<string, PortalRecord>;
  const parsed: Record<string, AwardNotice> = {};
  for (const f of split.tuning) parsed[f.replace(/\.txt$/, '')] = parseAward(await readFile(join(PORTAL_DIR, f), 'utf8'));
  const check = portalCheck(records, parsed);
  const p = (s: { correct: number; total: number }) => `${((s.correct / s.total) * 100).toFixed(1)}% (${s.correct}/${s.total})`;
  console.log(`tuning (${check.documents}): reference same consultation ${p(check.referenceSameConsultation)}, exact ${p(check.referenceExact)}, same identifier ${p(check.referenceSameIdentifier)}, missing ${check.referenceMissing}, opening date plausible ${p(check.openingDatePlausible)}`);
  const annotations = JSON.parse(await readFile(join(root, 'tests/pmmp/fixtures/awards/tuning-annotations.json'), 'utf8')) as GroundTruth;
  const annotated: Record<string, AwardNotice> = {};
  for (const prefix of Object.keys(annotations.documents)) {
    const key = Object.keys(parsed).find((k) => k.startsWith(prefix));
    if (!key) throw new Error(`tuning-annotations.json: ${prefix} is not a tuning text`);
    annotated[prefix] = parsed[key]!;
  }
  const dev = accuracyReport(annotations, annotated);
  const fields = ['reference', 'openingDate', 'lotCount', 'status', 'winner', 'amount'] as const;
  console.log(`annotated tuning (${dev.documents}): ${fields.map((f) => `${f} ${dev.overall[f].total ? p(dev.overall[f]) : '-'}`).join(', ')}, all ${p(dev.total)}`);
  if (showMisses) {
    for (const m of check.misses) console.log(`  ${m.document.slice(0, 12)} ${m.field}: portal ${m.expected}, parsed ${m.actual}`);
    for (const m of dev.mismatches) console.log(`  ${m.document} ${m.field}${m.lot ? ` (${m.lot})` : ''}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`);
  }
}

void main();
