/**
 * Reading a few elements of a page without tokenizing all of it. A detail page is ~65 kB of which the
 * parser reads `#recap-consultation` (~15 kB) and a handful of links; running htmlparser2 over the
 * whole page to find them cost half of `parseConsultationDetail`.
 *
 * `scanStartTags` finds the page's start tags where htmlparser2's tokenizer (HTML mode, the version
 * pinned in package-lock.json) finds them, and nothing else: comments, declarations, processing
 * instructions, end tags and the raw text of `script`/`style`/`title`/`textarea`/`xmp` are stepped
 * over with `indexOf`, attributes only delimited. The elements wanted are then parsed by htmlparser2
 * itself, from their start tag on (`parseTag`, `parseElementAt`), so their nodes are the ones a
 * whole-page parse builds. What the scan does not reproduce it refuses, and callers parse the page
 * the slow way: tests/pmmp/scan.test.ts checks the scan against the tokenizer tag for tag.
 */
import { DomHandler, type Document, type Element } from 'domhandler';
import { Parser } from 'htmlparser2';

import { FAST_PARSER } from './dom';

/** A start tag as the tokenizer saw it: `html.slice(start, end)` is `<name …>`. */
export interface StartTag {
  /** Lower-cased. */
  name: string;
  start: number;
  /** Just past its `>`. */
  end: number;
}

const GT = 62;
const SLASH = 47;
const EQ = 61;
const DQUOTE = 34;
const SQUOTE = 39;

const isWhitespace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 12 || c === 13;
const isEndOfTagSection = (c: number): boolean => c === SLASH || c === GT || isWhitespace(c);
const isAsciiAlpha = (c: number): boolean => (c | 0x20) >= 97 && (c | 0x20) <= 122;

/** Whether the tag name `html.slice(start, end)` is `lower` (lower-cased), compared without building the name. */
export function tagNameIs(html: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if ((html.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/**
 * The end of a raw-text element opened by the start tag named `html.slice(start, end)`, or null. The
 * tokenizer decides on the first two letters and the rest of the sequence (`BeforeSpecialS/T`): a
 * name starting with `t` or `x` followed by `itle`, `extarea` or `mp` opens title, textarea or xmp.
 */
function rawTextEnd(html: string, start: number, end: number): RegExp | null {
  const first = html.charCodeAt(start) | 0x20;
  if (first === 115 /* s */) {
    if (tagNameIs(html, start, end, 'script')) return SCRIPT_END;
    if (tagNameIs(html, start, end, 'style')) return STYLE_END;
    return null;
  }
  if (first !== 116 /* t */ && first !== 120 /* x */) return null;
  if (tagNameIs(html, start + 1, end, 'itle')) return TITLE_END;
  if (tagNameIs(html, start + 1, end, 'extarea')) return TEXTAREA_END;
  if (tagNameIs(html, start + 1, end, 'mp')) return XMP_END;
  return null;
}
// The tokenizer ends raw text at `</name` followed by `>` or whitespace, in any case.
const SCRIPT_END = /<\/script[\t\n\f\r >]/gi;
const STYLE_END = /<\/style[\t\n\f\r >]/gi;
const TITLE_END = /<\/title[\t\n\f\r >]/gi;
const TEXTAREA_END = /<\/textarea[\t\n\f\r >]/gi;
const XMP_END = /<\/xmp[\t\n\f\r >]/gi;

/** Whether the last tag `tagEnd` delimited closed itself (`/>`): a variable, not an object per tag. */
let lastSelfClosing = false;

/** Where the start tag whose name ends at `i` ends (index of its `>`, `lastSelfClosing` set), or -1 if the page ends first. */
function tagEnd(html: string, i: number): number {
  const n = html.length;
  // The tokenizer's attribute states (BeforeAttributeName → InAttributeName → AfterAttributeName →
  // BeforeAttributeValue → value), delimiting only.
  let state: 'before' | 'name' | 'after' | 'value' = 'before';
  while (i < n) {
    const c = html.charCodeAt(i);
    switch (state) {
      case 'before':
        if (c === GT) {
          lastSelfClosing = false;
          return i;
        }
        if (c === SLASH) {
          // InSelfClosingTag: whitespace skipped, `>` closes, anything else is reconsumed as BeforeAttributeName.
          let j = i + 1;
          while (j < n && isWhitespace(html.charCodeAt(j))) j++;
          if (j >= n) return -1;
          if (html.charCodeAt(j) === GT) {
            lastSelfClosing = true;
            return j;
          }
          i = j;
          continue;
        }
        // The character that starts a name is part of it, even `=`.
        if (!isWhitespace(c)) state = 'name';
        i++;
        continue;
      case 'name':
        if (c === EQ || isEndOfTagSection(c)) state = 'after';
        else i++;
        continue;
      case 'after':
        if (c === EQ) {
          state = 'value';
          i++;
        } else if (c === SLASH || c === GT) state = 'before';
        else {
          if (!isWhitespace(c)) state = 'name';
          i++;
        }
        continue;
      case 'value': {
        if (isWhitespace(c)) {
          i++;
          continue;
        }
        if (c === DQUOTE || c === SQUOTE) {
          const close = html.indexOf(c === DQUOTE ? '"' : "'", i + 1);
          if (close < 0) return -1;
          i = close + 1;
        } else {
          // Unquoted: up to whitespace or `>`, which BeforeAttributeName then reads.
          while (i < n && !isWhitespace(html.charCodeAt(i)) && html.charCodeAt(i) !== GT) i++;
        }
        state = 'before';
        continue;
      }
    }
  }
  return -1;
}

/**
 * Calls `visit` for each start tag of `html` in document order, with where it starts (its `<`), where
 * its name ends and where it ends (past its `>`); the name is not built (`tagNameIs` reads it). Returns false, having stopped, where
 * the page holds what this scan does not reproduce exactly (a CDATA section, a construct left open at
 * the end of the page): the caller must then parse the page whole.
 */
export function scanStartTags(html: string, visit: (start: number, nameEnd: number, end: number) => void): boolean {
  const n = html.length;
  let i = 0;
  for (;;) {
    const lt = html.indexOf('<', i);
    if (lt < 0 || lt + 1 >= n) return true;
    const c = html.charCodeAt(lt + 1);
    if (c === 33 /* ! */) {
      const c2 = html.charCodeAt(lt + 2);
      if (c2 === 91 /* [ */) return false;
      let to: number;
      if (c2 === 45 /* - */ && html.charCodeAt(lt + 3) === 45) {
        // A comment may be as short as `<!-->`.
        const close = html.indexOf('-->', lt + 2);
        to = close < 0 ? -1 : close + 2;
      } else {
        // A declaration (or `<!-x`): the character after `<!` (after `<!-`) is consumed before `>` is looked for.
        to = html.indexOf('>', lt + (c2 === 45 ? 4 : 3));
      }
      if (to < 0) return false;
      i = to + 1;
    } else if (c === 63 /* ? */ || c === SLASH) {
      // A processing instruction, an end tag or `</` + junk: all end at the next `>`.
      const to = html.indexOf('>', lt + 2);
      if (to < 0) return false;
      i = to + 1;
    } else if (isAsciiAlpha(c)) {
      let j = lt + 2;
      while (j < n && !isEndOfTagSection(html.charCodeAt(j))) j++;
      const gt = tagEnd(html, j);
      if (gt < 0) return false;
      const selfClosing = lastSelfClosing;
      visit(lt, j, gt + 1);
      i = gt + 1;
      // `<script/>` is not raw text for the tokenizer: self-closing clears its special state.
      const raw = selfClosing ? null : rawTextEnd(html, lt + 1, j);
      if (raw) {
        raw.lastIndex = i;
        const m = raw.exec(html);
        if (!m) return false;
        const to = html.indexOf('>', m.index + m[0].length - 1);
        if (to < 0) return false;
        i = to + 1;
      }
    } else {
      // `<` followed by anything else is text.
      i = lt + 1;
    }
  }
}

/** The attributes of one start tag (`html.slice(tag.start, tag.end)`), decoded by htmlparser2 as in a whole-page parse. */
export function parseTag(html: string, tag: StartTag): Record<string, string> {
  let attribs: Record<string, string> = {};
  new Parser(
    {
      onopentag(_name, a) {
        attribs = a;
      },
    },
    FAST_PARSER,
  ).end(html.slice(tag.start, tag.end));
  return attribs;
}

/**
 * A DomHandler that stops its parser when the first element closes, and notes an end tag that would
 * have closed something opened before that element (a whole-page parse would then build a different
 * subtree).
 */
class ElementHandler extends DomHandler {
  stopper: ElementParser | undefined;

  constructor() {
    super(undefined, FAST_PARSER);
  }

  override onclosetag(): void {
    super.onclosetag();
    if (this.tagStack.length === 1) this.stopper?.pause();
  }
}

class ElementParser extends Parser {
  /** Set when an end tag names no element open since the start: the page must be parsed whole. */
  reachedOutside = false;

  constructor(
    private readonly source: string,
    handler: ElementHandler,
  ) {
    super(handler, FAST_PARSER);
    handler.stopper = this;
  }

  override onclosetag(start: number, endIndex: number): void {
    const name = this.source.slice(start, endIndex).toLowerCase();
    // Void elements' end tags do the same whatever is open; others close the nearest open element of
    // their name, which, if none opened since the start, is outside the element or nowhere.
    if (!this.isVoidElement(name) && !(this as unknown as { stack: string[] }).stack.includes(name)) {
      this.reachedOutside = true;
      this.pause();
      return;
    }
    super.onclosetag(start, endIndex);
  }
}

/**
 * The element whose start tag is `tag`, with its subtree, built by htmlparser2 from that tag to its end
 * (or the page's). Null when the element may not be what a whole-page parse builds: an end tag inside
 * it closes an element opened before it, or it is an element something else closes implicitly (only
 * elements no start tag implies the end of are accepted: `div`, `a`, `span`, `section`, …).
 */
export function parseElementAt(html: string, tag: StartTag): Element | null {
  if (IMPLICITLY_CLOSED.has(tag.name) || tag.name === 'svg' || tag.name === 'math') return null;
  const handler = new ElementHandler();
  const source = html.slice(tag.start);
  const parser = new ElementParser(source, handler);
  parser.end(source);
  if (parser.reachedOutside) return null;
  const el = (handler.root as Document).children[0];
  return el && el.type === 'tag' ? (el as Element) : null;
}

/** Elements a start tag closes implicitly (htmlparser2's `openImpliesClose` values) and void elements. */
const IMPLICITLY_CLOSED = new Set([
  'tr', 'th', 'td', 'thead', 'tbody', 'li', 'p', 'head', 'link', 'script', 'input', 'option', 'optgroup', 'select',
  'button', 'datalist', 'textarea', 'dd', 'dt', 'rt', 'rp', 'area', 'base', 'basefont', 'br', 'col', 'command',
  'embed', 'frame', 'hr', 'img', 'isindex', 'keygen', 'meta', 'param', 'source', 'track', 'wbr',
]);
/** Whether the tag is svg or math: inside them htmlparser2 reads self-closing tags differently, so an element under one is not parsed alone. */
export function isForeignTag(html: string, start: number, nameEnd: number): boolean {
  return tagNameIs(html, start + 1, nameEnd, 'svg') || tagNameIs(html, start + 1, nameEnd, 'math');
}
