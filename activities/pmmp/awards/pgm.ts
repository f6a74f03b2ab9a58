/**
 * Minimal binary PGM (P5, 8-bit) handling, just enough to turn a sideways scan upright before OCR.
 * Several samples are landscape tables scanned sideways (pv-064553d1, pv-c1d8f75a,
 * resultat-06d2a690, resultat-23e83c5c, resultat-33fbfad7); tesseract's row-preserving page
 * segmentation (psm 6) reads them as noise, and poppler cannot rotate while rasterizing.
 */

export interface GrayImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export function parsePgm(data: Uint8Array): GrayImage {
  let pos = 0;
  const tokens: string[] = [];
  while (tokens.length < 4) {
    while (pos < data.length && isSpace(data[pos]!)) pos++;
    if (data[pos] === 0x23) {
      while (pos < data.length && data[pos] !== 0x0a) pos++;
      continue;
    }
    let tok = '';
    while (pos < data.length && !isSpace(data[pos]!)) tok += String.fromCharCode(data[pos++]!);
    if (!tok) throw new Error('truncated PGM header');
    tokens.push(tok);
  }
  pos++; // exactly one whitespace byte separates the header from the raster
  const [magic, w, h, max] = tokens;
  if (magic !== 'P5' || Number(max) > 255) throw new Error(`unsupported PGM (${magic}, maxval ${max})`);
  const width = Number(w);
  const height = Number(h);
  const pixels = data.subarray(pos, pos + width * height);
  if (pixels.length !== width * height) throw new Error('truncated PGM raster');
  return { width, height, pixels };
}

export function encodePgm(img: GrayImage): Buffer {
  const header = Buffer.from(`P5\n${img.width} ${img.height}\n255\n`, 'ascii');
  return Buffer.concat([header, Buffer.from(img.pixels.buffer, img.pixels.byteOffset, img.pixels.length)]);
}

/** Rotates clockwise by 90, 180 or 270 degrees (tesseract's OSD reports "Rotate: N" in that sense). */
export function rotateClockwise(img: GrayImage, degrees: number): GrayImage {
  const { width: w, height: h, pixels: src } = img;
  const deg = ((degrees % 360) + 360) % 360;
  if (deg === 0) return img;
  if (deg === 180) {
    const out = new Uint8Array(src.length);
    for (let i = 0, j = src.length - 1; i < src.length; i++, j--) out[j] = src[i]!;
    return { width: w, height: h, pixels: out };
  }
  if (deg !== 90 && deg !== 270) throw new Error(`unsupported rotation ${degrees}`);
  const out = new Uint8Array(src.length);
  const W = h;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    if (deg === 90) {
      const x0 = h - 1 - y;
      for (let x = 0; x < w; x++) out[x * W + x0] = src[row + x]!;
    } else {
      for (let x = 0; x < w; x++) out[(w - 1 - x) * W + y] = src[row + x]!;
    }
  }
  return { width: W, height: w, pixels: out };
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}
