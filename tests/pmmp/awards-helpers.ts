import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EXTRACTION_DEFAULTS,
  extractNoticeText,
  type GroundTruth,
  type GroundTruthDocument,
  type NoticeText,
} from '../../activities/pmmp/awards';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, 'fixtures', 'awards');
export const OCR_CACHE = join(FIXTURES, 'ocr-cache');
/** The shared samples live next to the repository (DESIGN.md: samples/pmmp/). */
export const SAMPLES = process.env.MOISSON_SAMPLES_DIR ?? resolve(here, '..', 'fixtures', 'samples');
export const PDF_DIR = join(SAMPLES, 'pmmp', 'pdf');
export const OCR_TEXT_DIR = join(SAMPLES, 'pmmp', 'ocr-text');
export const COMPANIONS = join(FIXTURES, 'ocr-text-companions');

/** What an OCR result depends on; a cache entry made with other settings is ignored. */
const CACHE_SETTINGS = {
  languages: EXTRACTION_DEFAULTS.languages,
  dpi: EXTRACTION_DEFAULTS.dpi,
  psm: EXTRACTION_DEFAULTS.psm,
};

interface CacheEntry {
  sha256: string;
  settings: typeof CACHE_SETTINGS;
  createdBy: string;
  result: NoticeText;
}

export async function loadGroundTruth(): Promise<GroundTruth> {
  return JSON.parse(await readFile(join(FIXTURES, 'ground-truth.json'), 'utf8')) as GroundTruth;
}

/**
 * The extracted text of a sample PDF. OCR of the scans takes minutes, so results are cached in
 * fixtures/awards/ocr-cache/<sha256 of the PDF>.json — a speed-up only: a missing or stale entry
 * (other OCR settings) is recomputed with the real extractor and written back.
 */
export async function sampleNoticeText(pdfName: string): Promise<NoticeText> {
  const bytes = await readFile(join(PDF_DIR, pdfName));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = join(OCR_CACHE, `${sha256}.json`);
  if (existsSync(file)) {
    const entry = JSON.parse(await readFile(file, 'utf8')) as CacheEntry;
    if (entry.sha256 === sha256 && JSON.stringify(entry.settings) === JSON.stringify(CACHE_SETTINGS)) return entry.result;
  }
  const result = await extractNoticeText(bytes);
  const entry: CacheEntry = { sha256, settings: CACHE_SETTINGS, createdBy: `extractNoticeText (${pdfName})`, result };
  await mkdir(OCR_CACHE, { recursive: true });
  await writeFile(file, JSON.stringify(entry, null, 1) + '\n');
  return result;
}

/** Text of a ground-truth document, whatever its source. */
export async function groundTruthText(name: string, doc: GroundTruthDocument): Promise<string> {
  switch (doc.source) {
    case 'pdf':
      return (await sampleNoticeText(name)).text;
    case 'ocr-text':
      return readFile(join(OCR_TEXT_DIR, name), 'utf8');
    case 'ocr-text-companion':
      return readFile(join(COMPANIONS, name), 'utf8');
    default:
      throw new Error(`unknown source ${doc.source} for ${name}`);
  }
}
