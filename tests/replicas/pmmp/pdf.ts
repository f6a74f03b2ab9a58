/**
 * A minimal PDF 1.4 writer, enough for notices with a text layer: A4 pages, Helvetica in
 * WinAnsiEncoding (French accents), one text line per row, a correct xref table. The portal's
 * native-text notices (samples/pmmp/pdf/resultat-215aec79.pdf, pv-25c18389.pdf) are laid out
 * the same way: a title, labelled lines, a table of bidders and amounts.
 */

/** U+2019 and friends are in cp1252's 0x80-0x9F block; the rest of Latin-1 maps to itself. */
const CP1252_EXTRA: Record<string, number> = {
  '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b,
  'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99,
  'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
};

function winAnsi(text: string): number[] {
  const out: number[] = [];
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0) ?? 63;
    if (code === 0x202f || code === 0x00a0) out.push(0x20);
    else if (CP1252_EXTRA[ch] !== undefined) out.push(CP1252_EXTRA[ch]);
    else if (code < 0x100) out.push(code);
    else out.push(0x3f);
  }
  return out;
}

/** A PDF literal string: `(…)` with `\`, `(`, `)` escaped and bytes above 0x7E as octal. */
function literal(text: string): string {
  let s = '(';
  for (const b of winAnsi(text)) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) s += `\\${b.toString(8).padStart(3, '0')}`;
    else s += String.fromCharCode(b);
  }
  return `${s})`;
}

export interface PdfLine {
  text: string;
  size?: number;
  bold?: boolean;
  /** Left margin in points (tables indent their columns this way). */
  x?: number;
  /** Extra space before the line, in points. */
  gap?: number;
}

const PAGE_W = 595;
const PAGE_H = 842;
const MARGIN = 56;

/**
 * Advance widths of Helvetica in thousandths of an em (from its AFM, rounded by class): upper case
 * is half as wide again as lower case, so a flat 0.5 em per character let long upper-case lines
 * (buyer names, groupements) run off the page, where pdftotext crops them ("... 114 243,2").
 */
function charWidth(ch: string, bold: boolean): number {
  let w: number;
  if (ch === ' ') w = 278;
  else if (/[0-9]/.test(ch)) w = 556;
  else if (/[IJ]/.test(ch)) w = 300;
  else if (/[MW]/.test(ch)) w = 870;
  else if (/\p{Lu}/u.test(ch)) w = 700;
  else if (/[ijlft]/.test(ch)) w = 260;
  else if (/[mw]/.test(ch)) w = 800;
  else if (/\p{Ll}/u.test(ch)) w = 540;
  else if (/[.,:;'’|!]/.test(ch)) w = 278;
  else w = 600;
  return bold ? w * 1.06 : w;
}

function textWidth(text: string, size: number, bold: boolean): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch, bold);
  return (w * size) / 1000;
}

/** Wraps long lines at spaces so the text stays on the page. */
function wrap(line: PdfLine): PdfLine[] {
  const size = line.size ?? 10;
  const x = line.x ?? MARGIN;
  const room = PAGE_W - MARGIN - x;
  const bold = line.bold ?? false;
  /** How many characters of `t` fit on the line. */
  const fitting = (t: string): number => {
    let n = 0;
    while (n < t.length && textWidth(t.slice(0, n + 1), size, bold) <= room) n++;
    return Math.max(20, n);
  };
  if (textWidth(line.text, size, bold) <= room) return [line];
  const out: PdfLine[] = [];
  let rest = line.text;
  let first = true;
  let max = fitting(rest);
  while (rest.length > max) {
    let cutAt = rest.lastIndexOf(' ', max);
    if (cutAt < max / 2) cutAt = max;
    out.push({ ...line, text: rest.slice(0, cutAt), gap: first ? line.gap : 0 });
    rest = rest.slice(cutAt).trimStart();
    first = false;
    max = fitting(rest);
  }
  out.push({ ...line, text: rest, gap: 0 });
  return out;
}

export function renderPdf(lines: PdfLine[], info: { title: string; producer?: string; created: Date }): Buffer {
  const pages: string[] = [];
  let ops: string[] = [];
  let y = PAGE_H - MARGIN;
  for (const l of lines.flatMap(wrap)) {
    const size = l.size ?? 10;
    const step = size * 1.35 + (l.gap ?? 0);
    if (y - step < MARGIN && ops.length) {
      pages.push(ops.join('\n'));
      ops = [];
      y = PAGE_H - MARGIN;
    }
    y -= step;
    ops.push(`BT /${l.bold ? 'F2' : 'F1'} ${size} Tf ${l.x ?? MARGIN} ${y.toFixed(1)} Td ${literal(l.text)} Tj ET`);
  }
  if (ops.length || pages.length === 0) pages.push(ops.join('\n'));

  // Objects: 1 catalog, 2 pages, 3-4 fonts, 5 info, then per page: page + content.
  const objects: string[] = [];
  const pageIds = pages.map((_, i) => 6 + i * 2);
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  objects[4] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>';
  const d = info.created;
  const pdfDate = `D:${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}${String(d.getUTCHours()).padStart(2, '0')}${String(d.getUTCMinutes()).padStart(2, '0')}00Z`;
  objects[5] = `<< /Title ${literal(info.title)} /Producer ${literal(info.producer ?? 'moisson pmmp replica')} /CreationDate (${pdfDate}) >>`;
  pages.forEach((content, i) => {
    const pageId = 6 + i * 2;
    const stream = Buffer.from(content, 'latin1');
    objects[pageId] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageId + 1} 0 R >>`;
    objects[pageId + 1] = `<< /Length ${stream.length} >>\nstream\n${content}\nendstream`;
  });

  // Binary comment after the header: tools treat the file as binary, as real PDFs ask.
  const chunks: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = chunks[0]?.length ?? 0;
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    const body = objects[id];
    if (body === undefined) continue;
    offsets[id] = offset;
    const chunk = Buffer.from(`${id} 0 obj\n${body}\nendobj\n`, 'latin1');
    chunks.push(chunk);
    offset += chunk.length;
  }
  const xref = [`xref\n0 ${objects.length}\n0000000000 65535 f \n`];
  for (let id = 1; id < objects.length; id++) xref.push(`${String(offsets[id] ?? 0).padStart(10, '0')} 00000 n \n`);
  chunks.push(
    Buffer.from(`${xref.join('')}trailer\n<< /Size ${objects.length} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${offset}\n%%EOF\n`, 'latin1'),
  );
  return Buffer.concat(chunks);
}
