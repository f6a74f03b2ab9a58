import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolEnvironment } from '../../../schema/config';
import { InvalidInputError } from '../../engine/errors';
import { ExtractionAbortedError, NotAPdfError } from './errors';
import { encodePgm, parsePgm, rotateClockwise } from './pgm';
import { ensureTesseractLanguages, runTool } from './tools';
import { isWordPerLine } from './text';

export type ExtractionMethod = 'text-layer' | 'ocr';

/** Why a page was read the way it was; kept so a bad extraction can be explained afterwards. */
export type PageDecision =
  | 'usable-text-layer'
  | 'no-text-layer'
  | 'low-letter-ratio'
  | 'scanner-ocr-layer'
  | 'forced-ocr';

export interface NoticePage {
  page: number;
  method: ExtractionMethod;
  decision: PageDecision;
  text: string;
  /** Non-whitespace characters of the PDF's own text layer. */
  textLayerChars: number;
  /** Letters / non-whitespace characters of the text layer (0 when there is none). */
  textLayerLetterRatio: number;
  /** One raster image covers most of the page: a scan, whatever text layer it carries. */
  scanned: boolean;
  /** Mean tesseract word confidence, 0-100, OCR pages only. */
  confidence?: number;
  /** Clockwise rotation applied before OCR (sideways scans). */
  rotation?: number;
  /** Page segmentation mode of the kept OCR when it is not the default (layout retry). */
  psm?: number;
  ocrMs?: number;
}

export interface NoticeText {
  /** Pages joined by a form feed line, the page separator pdftotext itself uses. */
  text: string;
  pages: number;
  /** 'ocr' as soon as one page had to be OCR'd (its text is then less trustworthy). */
  method: ExtractionMethod;
  ocrPages: number[];
  /** Mean OCR word confidence over the OCR'd pages, 0-100. */
  confidence?: number;
  pageDetails: NoticePage[];
  sha256: string;
}

export interface ExtractNoticeTextOptions {
  /** tesseract languages; notices are French with Arabic letterheads and sometimes Arabic bodies. */
  languages?: string;
  dpi?: number;
  /** tesseract page segmentation mode, see DEFAULTS.psm. */
  psm?: number;
  /** Pages OCR'd at once; each tesseract is pinned to one thread, so one per CPU. */
  concurrency?: number;
  minTextChars?: number;
  minLetterRatio?: number;
  /** Re-OCR scans that carry their scanner's own OCR layer (true by default, see below). */
  reocrScannedTextLayers?: boolean;
  forceOcr?: boolean;
  timeouts?: Partial<Record<'pdfinfo' | 'pdftotext' | 'pdfimages' | 'pdftoppm' | 'tesseract', number>>;
  /** Called after each page is done (pages done, page count): an activity heartbeats from here. */
  onProgress?: (page: number, pages: number) => void;
  signal?: AbortSignal;
  tmpRoot?: string;
  /** Refuse absurd documents before rasterizing hundreds of pages. */
  maxPages?: number;
}

export const EXTRACTION_DEFAULTS = {
  languages: 'fra+ara',
  dpi: 300,
  /**
   * psm 6 ("one uniform block of text") keeps each table row on one line and, with
   * preserve_interword_spaces, keeps column gaps, so "winner  amount" stay on the same line as in
   * pdftotext -layout. psm 3/4 (the defaults of most pipelines) split table cells into separate
   * blocks, detaching winners from their amounts. Measured with the award parser on the 18
   * scanned sample PDFs: 79% of ground-truth fields right with psm 6, 55% with psm 4.
   * Sideways pages are detected and turned upright first (see looksSideways).
   */
  psm: 6,
  /**
   * A page is read from its text layer when it has at least this many non-space characters.
   * The shortest real text page of the samples has 545 (pv-25c18389); a scan whose only text is
   * a scanner stamp ("Scanné avec CamScanner", "Page 1/2") has fewer than 40.
   */
  minTextChars: 80,
  /**
   * ... and when at least half of those characters are letters. Native pages of the samples are
   * at 0.85-0.91; a text layer from a broken font encoding (glyph ids, symbols) falls far lower.
   */
  minLetterRatio: 0.5,
  reocrScannedTextLayers: true,
  maxPages: 60,
  timeouts: { pdfinfo: 30_000, pdftotext: 60_000, pdfimages: 30_000, pdftoppm: 60_000, tesseract: 180_000 },
} as const;

/**
 * OCR output whose share of real words (3+ letters) is below this is a sideways page: upright
 * pages of the samples score 0.28-0.68, the five sideways ones 0.00-0.02.
 */
const SIDEWAYS_WORD_RATIO = 0.15;

/** A raster covering this share of the page area makes it a scan. */
const SCAN_COVERAGE = 0.8;

export async function extractNoticeText(
  input: string | Uint8Array,
  options: ExtractNoticeTextOptions = {},
): Promise<NoticeText> {
  const opts = {
    ...EXTRACTION_DEFAULTS,
    ...options,
    timeouts: { ...EXTRACTION_DEFAULTS.timeouts, ...options.timeouts },
  };
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  assertPdf(bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  // One controller for the whole extraction: the first failing page stops its siblings' children.
  const controller = new AbortController();
  const forwardAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const signal = controller.signal;

  const workDir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'moisson-notice-'));
  try {
    const pdfPath = join(workDir, 'notice.pdf');
    await writeFile(pdfPath, bytes);

    const info = await pdfInfo(pdfPath, opts.timeouts.pdfinfo, signal);
    if (info.pages > opts.maxPages) {
      throw new InvalidInputError(`notice has ${info.pages} pages, more than maxPages=${opts.maxPages}`, { pages: info.pages });
    }
    const [layerTexts, scannedPages] = await Promise.all([
      textLayer(pdfPath, info.pages, opts.timeouts.pdftotext, signal),
      scannedPageSet(pdfPath, info, opts.timeouts.pdfimages, signal),
    ]);

    const details: NoticePage[] = [];
    const toOcr: NoticePage[] = [];
    for (let p = 1; p <= info.pages; p++) {
      const layer = layerTexts[p - 1] ?? '';
      const chars = nonSpaceCount(layer);
      const ratio = chars === 0 ? 0 : letterCount(layer) / chars;
      const scanned = scannedPages.has(p);
      let decision: PageDecision;
      if (options.forceOcr) decision = 'forced-ocr';
      else if (chars < opts.minTextChars) decision = 'no-text-layer';
      else if (ratio < opts.minLetterRatio) decision = 'low-letter-ratio';
      // A scan's text layer is its scanner's OCR: on pv-f884eb9f and pv-96715bce it reads
      // "2OO.160,00", "o4t08t2026" where tesseract at 300 dpi reads "200.160,00", "04/08/2026".
      else if (scanned && opts.reocrScannedTextLayers) decision = 'scanner-ocr-layer';
      else decision = 'usable-text-layer';
      const page: NoticePage = {
        page: p,
        method: decision === 'usable-text-layer' ? 'text-layer' : 'ocr',
        decision,
        text: decision === 'usable-text-layer' ? layer : '',
        textLayerChars: chars,
        textLayerLetterRatio: round2(ratio),
        scanned,
      };
      details.push(page);
      if (page.method === 'ocr') toOcr.push(page);
    }

    let done = details.length - toOcr.length;
    if (done > 0) options.onProgress?.(done, info.pages);
    if (toOcr.length > 0) {
      await ensureTesseractLanguages(opts.languages);
      await mapLimit(toOcr, concurrency, controller, async (page) => {
        const started = performance.now();
        const result = await ocrPage(pdfPath, page.page, workDir, opts, signal);
        page.text = result.text;
        page.confidence = result.confidence;
        if (result.rotation) page.rotation = result.rotation;
        if (result.psm) page.psm = result.psm;
        page.ocrMs = Math.round(performance.now() - started);
        done++;
        options.onProgress?.(done, info.pages);
      });
    }

    const ocrPages = details.filter((d) => d.method === 'ocr').map((d) => d.page);
    const confs = details.map((d) => d.confidence).filter((c): c is number => c !== undefined);
    return {
      text: details.map((d) => d.text.replace(/\f/g, '')).join('\n\f\n'),
      pages: info.pages,
      method: ocrPages.length > 0 ? 'ocr' : 'text-layer',
      ocrPages,
      ...(confs.length > 0 ? { confidence: round2(confs.reduce((a, b) => a + b, 0) / confs.length) } : {}),
      pageDetails: details,
      sha256,
    };
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** `%PDF-` must open the file; the spec tolerates junk before it within the first 1024 bytes. */
export function assertPdf(bytes: Uint8Array): void {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const at = head.indexOf('%PDF-');
  if (at >= 0) return;
  const shown = head.slice(0, 40);
  if (bytes.length === 0) throw new NotAPdfError('empty', '');
  if (/<!doctype html|<html|<head|<body/i.test(head)) throw new NotAPdfError('html', shown);
  throw new NotAPdfError('unknown', shown);
}

interface PdfInfo {
  pages: number;
  /** Page sizes in points, index 0 = page 1. */
  sizes: Array<{ w: number; h: number }>;
}

async function pdfInfo(pdfPath: string, timeoutMs: number, signal?: AbortSignal): Promise<PdfInfo> {
  const first = await runTool('pdfinfo', [pdfPath], { timeoutMs, signal });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(first.stdout)?.[1] ?? '0');
  const sizes: PdfInfo['sizes'] = [];
  if (pages > 0) {
    const all = await runTool('pdfinfo', ['-f', '1', '-l', String(pages), pdfPath], { timeoutMs, signal });
    for (const m of all.stdout.matchAll(/^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)/gm)) {
      sizes[Number(m[1]) - 1] = { w: Number(m[2]), h: Number(m[3]) };
    }
  }
  return { pages, sizes };
}

async function textLayer(pdfPath: string, pages: number, timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
  if (pages === 0) return [];
  const { stdout } = await runTool('pdftotext', ['-layout', '-enc', 'UTF-8', pdfPath, '-'], { timeoutMs, signal });
  // pdftotext ends every page with a form feed.
  return stdout.split('\f').slice(0, pages);
}

/** Pages covered by one raster image (from `pdfimages -list`, which reports each image's ppi). */
async function scannedPageSet(
  pdfPath: string,
  info: PdfInfo,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Set<number>> {
  const { stdout } = await runTool('pdfimages', ['-list', pdfPath], { timeoutMs, signal });
  const scanned = new Set<number>();
  for (const line of stdout.split('\n').slice(2)) {
    const c = line.trim().split(/\s+/);
    if (c.length < 14 || c[2] !== 'image') continue;
    const page = Number(c[0]);
    const [w, h, xppi, yppi] = [Number(c[3]), Number(c[4]), Number(c[12]), Number(c[13])];
    const size = info.sizes[page - 1];
    if (!size || !(xppi > 0) || !(yppi > 0)) continue;
    const area = ((w / xppi) * 72 * (h / yppi) * 72) / (size.w * size.h);
    if (area >= SCAN_COVERAGE) scanned.add(page);
  }
  return scanned;
}

interface ResolvedOptions {
  languages: string;
  dpi: number;
  psm: number;
  timeouts: Record<string, number>;
}

interface OcrResult {
  text: string;
  confidence?: number;
  rotation?: number;
  psm?: number;
}

/** Segmentation mode tried when the default one loses the layout (one word per line): a single column of text of variable sizes. */
const LAYOUT_RETRY_PSM = 4;

async function ocrPage(
  pdfPath: string,
  page: number,
  workDir: string,
  opts: ResolvedOptions,
  signal?: AbortSignal,
): Promise<OcrResult> {
  const base = join(workDir, `p${page}`);
  const pgm = `${base}.pgm`;
  try {
    await runTool(
      'pdftoppm',
      ['-r', String(opts.dpi), '-gray', '-f', String(page), '-l', String(page), '-singlefile', pdfPath, base],
      { timeoutMs: opts.timeouts.pdftoppm ?? EXTRACTION_DEFAULTS.timeouts.pdftoppm, signal },
    );
    let result = await tesseract(pgm, base, opts, signal);
    if (looksSideways(result.text)) {
      const rotation = await detectRotation(pgm, opts, signal);
      if (rotation !== 0) {
        const rotated = `${base}-rot.pgm`;
        // ~30 ms on the event loop for an A4 page at 300 dpi: short enough not to starve heartbeats.
        await writeFile(rotated, encodePgm(rotateClockwise(parsePgm(await readFile(pgm)), rotation)));
        const second = await tesseract(rotated, `${base}-rot`, opts, signal);
        if (wordRatio(second.text) > wordRatio(result.text)) result = { ...second, rotation };
        await rm(rotated, { force: true });
      }
    }
    if (isWordPerLine(result.text) && opts.psm !== LAYOUT_RETRY_PSM) {
      // The segmentation lost the layout: every word on its own line, every label cut from its value
      // (issue 14). The page is read again with another segmentation mode and kept if it holds lines.
      const image = result.rotation ? `${base}-rot2.pgm` : pgm;
      if (result.rotation) await writeFile(image, encodePgm(rotateClockwise(parsePgm(await readFile(pgm)), result.rotation)));
      const retry = await tesseract(image, `${base}-psm`, { ...opts, psm: LAYOUT_RETRY_PSM }, signal);
      if (image !== pgm) await rm(image, { force: true });
      if (!isWordPerLine(retry.text)) result = { ...retry, psm: LAYOUT_RETRY_PSM, ...(result.rotation ? { rotation: result.rotation } : {}) };
    }
    return result;
  } finally {
    await rm(pgm, { force: true });
  }
}

async function tesseract(
  image: string,
  outBase: string,
  opts: { languages: string; psm: number; timeouts: Record<string, number> },
  signal?: AbortSignal,
): Promise<OcrResult> {
  await runTool(
    'tesseract',
    [image, outBase, '-l', opts.languages, '--psm', String(opts.psm), '-c', 'preserve_interword_spaces=1', 'txt', 'tsv'],
    {
      timeoutMs: opts.timeouts.tesseract ?? EXTRACTION_DEFAULTS.timeouts.tesseract,
      signal,
      // tesseract's OpenMP threads spin on 2 cores and more than double the sys time when several
      // pages run at once; page-level parallelism is what we control.
      env: toolEnvironment({ OMP_THREAD_LIMIT: '1' }),
    },
  );
  const [text, tsv] = await Promise.all([readFile(`${outBase}.txt`, 'utf8'), readFile(`${outBase}.tsv`, 'utf8')]);
  await Promise.all([rm(`${outBase}.txt`, { force: true }), rm(`${outBase}.tsv`, { force: true })]);
  const confidence = meanWordConfidence(tsv);
  return { text, ...(confidence !== undefined ? { confidence } : {}) };
}

async function detectRotation(
  image: string,
  opts: { timeouts: Record<string, number> },
  signal?: AbortSignal,
): Promise<number> {
  try {
    const { stdout, stderr } = await runTool('tesseract', [image, '-', '--psm', '0'], {
      timeoutMs: opts.timeouts.tesseract ?? EXTRACTION_DEFAULTS.timeouts.tesseract,
      signal,
      env: toolEnvironment({ OMP_THREAD_LIMIT: '1' }),
    });
    const rotate = /Rotate:\s*(\d+)/.exec(`${stdout}\n${stderr}`);
    return rotate ? Number(rotate[1]) : 0;
  } catch (err) {
    // OSD refuses pages with too few characters; the unrotated text is then all we have.
    if (err instanceof ExtractionAbortedError) throw err;
    return 0;
  }
}

export function meanWordConfidence(tsv: string): number | undefined {
  let sum = 0;
  let n = 0;
  for (const line of tsv.split('\n').slice(1)) {
    const c = line.split('\t');
    if (c[0] !== '5' || c.length < 12) continue;
    const conf = Number(c[10]);
    if (conf >= 0 && (c[11] ?? '').trim()) {
      sum += conf;
      n++;
    }
  }
  return n > 0 ? round2(sum / n) : undefined;
}

/** Share of whitespace-separated tokens that are words of 3+ Latin letters. */
export function wordRatio(text: string): number {
  const tokens = text.split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return 0;
  const words = tokens.filter((t) => /^[A-Za-zÀ-ÿ'’-]{3,}[.,:;]?$/.test(t));
  return words.length / tokens.length;
}

function looksSideways(text: string): boolean {
  const tokens = text.split(/\s+/).filter(Boolean).length;
  return tokens >= 15 && wordRatio(text) < SIDEWAYS_WORD_RATIO;
}

function nonSpaceCount(s: string): number {
  return s.replace(/\s+/g, '').length;
}

function letterCount(s: string): number {
  return (s.match(/\p{L}/gu) ?? []).length;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  controller: AbortController,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
        controller.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
