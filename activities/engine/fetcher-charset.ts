/**
 * Bytes to text the way a browser would pick the encoding: byte-order mark, then the Content-Type
 * charset, then a `<meta>` (or XML) declaration near the top. Undeclared pages that are not valid
 * UTF-8 are read as windows-1252, which is what older French-language pages of the portal use.
 */

const BOMS: Array<[number[], string]> = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xfe, 0xff], 'utf-16be'],
  [[0xff, 0xfe], 'utf-16le'],
];

/** The HTML prescan looks at the first 1024 bytes; some generators put the meta a little later. */
const PRESCAN_BYTES = 4096;
const META_CHARSET = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)/i;
const XML_ENCODING = /^\s*<\?xml\b[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i;

export function charsetFromContentType(contentType: string | null | undefined): string | undefined {
  const m = contentType ? /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType) : null;
  return m?.[1] ? supported(m[1]) : undefined;
}

export function charsetFromDocument(body: Buffer): string | undefined {
  // latin1 maps bytes one to one, so the ASCII markup reads right whatever the real encoding.
  const head = body.subarray(0, PRESCAN_BYTES).toString('latin1');
  const m = META_CHARSET.exec(head) ?? XML_ENCODING.exec(head);
  const label = m?.[1] ? supported(m[1]) : undefined;
  // A page that was decoded as UTF-16 could not have been read as ASCII to find this declaration.
  return label?.startsWith('utf-16') ? 'utf-8' : label;
}

function supported(label: string): string | undefined {
  try {
    return new TextDecoder(label.trim().toLowerCase()).encoding;
  } catch {
    return undefined;
  }
}

function bom(body: Buffer): { encoding: string; length: number } | undefined {
  for (const [bytes, encoding] of BOMS) {
    if (bytes.every((b, i) => body[i] === b)) return { encoding, length: bytes.length };
  }
  return undefined;
}

export function detectCharset(body: Buffer, contentType?: string | null): string {
  return bom(body)?.encoding ?? charsetFromContentType(contentType) ?? charsetFromDocument(body) ?? guess(body);
}

function guess(body: Buffer): string {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

export function decodeBody(body: Buffer, contentType?: string | null): string {
  const mark = bom(body);
  const encoding = mark?.encoding ?? detectCharset(body, contentType);
  const bytes = mark ? body.subarray(mark.length) : body;
  if (encoding === 'windows-1252') return decodeWindows1252(bytes);
  return new TextDecoder(encoding).decode(bytes);
}

/**
 * 0x80–0x9F of windows-1252, which is also what `iso-8859-1` means on the web (WHATWG Encoding).
 * Node 20's TextDecoder('windows-1252') decodes these bytes as ISO-8859-1 control characters, which
 * would turn €, œ, the typographic apostrophe and dashes of French pages into garbage.
 */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

export function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\x80-\x9f]/g, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c.charCodeAt(0)));
}
