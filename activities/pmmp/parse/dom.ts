/**
 * Small cheerio helpers shared by the pmmp parsers: visible text with line breaks kept apart,
 * PRADO form state, portal URLs, the WAF block page.
 */
import { load, type Cheerio, type CheerioAPI } from 'cheerio';
// cheerio 1.x does not re-export its node types; domhandler is the package that defines them.
import { DomHandler, hasChildren, type AnyNode, type Document, type Element, type Text } from 'domhandler';
import { Parser } from 'htmlparser2';

import { normalizeSpace } from './fr';

export const PORTAL_BASE_URL = 'https://www.marchespublics.gov.ma/index.php';

export interface ParseContext {
  /** URL the page was fetched from; relative links resolve against it. */
  baseUrl?: string;
}

/**
 * The spec-compliant parser (parse5): slow (a 100-row list page cost ~130 ms of it) but it builds any
 * page the way a browser does. The result list is read with `loadListHtml`; parse5 is its reference and
 * reads the pages that show no row.
 */
export function loadHtml(html: string): CheerioAPI {
  return load(html);
}

/**
 * htmlparser2 in HTML mode: about 4× faster than parse5 with lighter trees. For pages whose markup it
 * reads the same as a browser (detail page, lots popup: checked field by field against parse5 in
 * tests/pmmp/parsers.test.ts), not for the result list (see `loadListHtml`).
 */
export function loadHtmlFast(html: string): CheerioAPI {
  return load(html, FAST_OPTIONS);
}

/** htmlparser2's options for every fast reading (`loadHtmlFast`, `parsePartial`, activities/pmmp/parse/scan.ts). */
export const FAST_PARSER = { xmlMode: false, decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true } as const;
const FAST_OPTIONS = { xml: FAST_PARSER };

/** Nodes already built by htmlparser2 (as `loadHtmlFast` builds them), queried with cheerio. */
export function loadNodes(nodes: AnyNode | AnyNode[]): CheerioAPI {
  return load(nodes, FAST_OPTIONS);
}

/** What `parsePartial` builds of a page, and what it is told of the rest. */
export interface PartialDom {
  /** Whether an element outside every kept one starts a kept subtree (built whole, as `loadHtmlFast` would). */
  keep(name: string, attribs: Record<string, string>): boolean;
  /** Every element in document order, with its node when it was built. */
  see(name: string, attribs: Record<string, string>, built: Element | null): void;
}

/**
 * A DomHandler that builds only the kept subtrees (their tops become children of the document): the
 * tokenizer and the parser's tag rules run over the whole page as in `loadHtmlFast`, so a kept subtree
 * is node for node what the full tree holds, but the rest of the page costs no nodes and no garbage.
 */
class PartialDomHandler extends DomHandler {
  /** Per open element: whether it was built. */
  private readonly built: boolean[] = [];
  private depth = 0;

  constructor(private readonly what: PartialDom) {
    super(undefined, FAST_PARSER);
  }

  override onopentag(name: string, attribs: Record<string, string>): void {
    if (this.depth > 0 || this.what.keep(name, attribs)) {
      this.depth++;
      this.built.push(true);
      super.onopentag(name, attribs);
      this.what.see(name, attribs, this.tagStack[this.tagStack.length - 1] as Element);
    } else {
      this.built.push(false);
      this.lastNode = null;
      this.what.see(name, attribs, null);
    }
  }

  override onclosetag(): void {
    if (this.built.pop()) {
      this.depth--;
      super.onclosetag();
    }
  }

  override ontext(data: string): void {
    if (this.depth > 0) super.ontext(data);
  }

  override oncomment(data: string): void {
    if (this.depth > 0) super.oncomment(data);
  }

  override oncommentend(): void {
    if (this.depth > 0) super.oncommentend();
  }

  override oncdatastart(): void {
    if (this.depth > 0) super.oncdatastart();
  }

  override oncdataend(): void {
    if (this.depth > 0) super.oncdataend();
  }

  override onprocessinginstruction(name: string, data: string): void {
    if (this.depth > 0) super.onprocessinginstruction(name, data);
  }
}

/**
 * Where HTML's tree construction stops looking for the element an end tag closes ("has an element in
 * scope"): a `</div>` inside a cell does not reach a `<div>` around the table. `TABLE_SCOPE` is the scope
 * of the table's own end tags (`</tr>` closes an open cell, `</table>` an open row).
 */
const DEFAULT_SCOPE = new Set(['html', 'table', 'td', 'th', 'caption', 'template', 'applet', 'marquee', 'object']);
const TABLE_SCOPE = new Set(['html', 'table', 'template']);
const TABLE_PARTS = new Set(['table', 'caption', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th']);

/**
 * htmlparser2 with one rule of HTML's tree construction added: an end tag whose element is not open in
 * scope is ignored, as a browser (and parse5) ignores it. Without it htmlparser2 closes every element up
 * to a matching one anywhere on its stack: the portal's result rows end with a stray `</div>` (the cell
 * closed its `<div>` already), which closed the row, the table and the page's wrapper after the first row.
 * Everything else (tokenizer, entities, implied closes, void elements) is htmlparser2's.
 */
class ScopedParser extends Parser {
  constructor(
    private readonly html: string,
    private readonly handler: ScopedDomHandler,
  ) {
    super(handler, FAST_PARSER);
  }

  override onclosetag(start: number, endIndex: number): void {
    // The page is written in one `end(html)`: the tokenizer's indexes are offsets in `html`.
    if (this.handler.outOfScope(this.html.slice(start, endIndex).toLowerCase())) return;
    super.onclosetag(start, endIndex);
  }
}

class ScopedDomHandler extends DomHandler {
  constructor() {
    super(undefined, FAST_PARSER);
  }

  /** Whether `</name>` would be ignored by a browser: its element is open, but behind a scope boundary. */
  outOfScope(name: string): boolean {
    const scope = TABLE_PARTS.has(name) ? TABLE_SCOPE : DEFAULT_SCOPE;
    const stack = this.tagStack;
    for (let i = stack.length - 1; i > 0; i--) {
      const el = stack[i] as Element;
      if (el.name === name) return false;
      if (scope.has(el.name)) return true;
    }
    // Not open at all: htmlparser2 ignores it too (or, for `</p>` and `</br>`, adds the element as a browser does).
    return false;
  }
}

/**
 * The result list read with htmlparser2 and the end-tag scope rule (`ScopedParser`): the same tree as
 * parse5 builds for the portal's list pages (checked on every sample in tests/pmmp/parsers.test.ts) at a
 * fraction of its cost (a 100-row page is 1.5 MB).
 */
export function loadListHtml(html: string): CheerioAPI {
  const handler = new ScopedDomHandler();
  new ScopedParser(html, handler).end(html);
  return load(handler.root, FAST_OPTIONS);
}

/** The page read with htmlparser2 as `loadHtmlFast` reads it, only the subtrees `what.keep` asks for built. */
export function parsePartial(html: string, what: PartialDom): CheerioAPI {
  const handler = new PartialDomHandler(what);
  new Parser(handler, FAST_PARSER).end(html);
  return load(handler.root, FAST_OPTIONS);
}

/**
 * Every element under `root` whose id contains `marker`, keyed by what follows the marker's last
 * occurrence (the first element in document order wins): one walk replaces a subtree scan per
 * `[id$="<marker><field>"]` selector.
 */
export function indexIdsAfter(root: ArrayLike<AnyNode>, marker: string): Map<string, Element> {
  const index = new Map<string, Element>();
  const stack: AnyNode[] = [];
  for (let i = root.length - 1; i >= 0; i--) {
    const n = root[i];
    if (n) stack.push(n);
  }
  while (stack.length) {
    const node = stack.pop()!;
    if (!isElement(node)) {
      // The document root holds the page's elements; text and comments hold none.
      if ((node.type as string) === 'root') for (let i = (node as Document).children.length - 1; i >= 0; i--) stack.push((node as Document).children[i]!);
      continue;
    }
    const id = node.attribs['id'];
    if (id) {
      const at = id.lastIndexOf(marker);
      if (at >= 0) {
        const key = id.slice(at + marker.length);
        if (!index.has(key)) index.set(key, node);
      }
    }
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return index;
}

/**
 * The elements under `root` (itself excluded; an element or the document) that `match`, in document
 * order: what cheerio's `.find(selector)` returns for a simple selector, without compiling one per call.
 * `limit` stops early.
 */
export function findAll(root: AnyNode, match: (el: Element) => boolean, limit = Infinity): Element[] {
  const found: Element[] = [];
  if (!hasChildren(root)) return found;
  const stack: AnyNode[] = [];
  for (let i = root.children.length - 1; i >= 0; i--) stack.push(root.children[i]!);
  while (stack.length) {
    const node = stack.pop()!;
    if (!isElement(node)) continue;
    if (match(node) && found.push(node) >= limit) break;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return found;
}

/** The first element under `root` that `match`es, or null (cheerio's `.find(selector).first()`). */
export function findFirst(root: AnyNode, match: (el: Element) => boolean): Element | null {
  return findAll(root, match, 1)[0] ?? null;
}

/** `.name` as css-select reads it: a whitespace-separated word of the class attribute (case-sensitive). */
export function hasClass(el: Element, name: string): boolean {
  const cls = el.attribs['class'];
  if (!cls) return false;
  if (!cls.includes(name)) return false;
  let word = CLASS_WORDS.get(name);
  if (!word) CLASS_WORDS.set(name, (word = new RegExp(`(?:^|\\s)${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:$|\\s)`)));
  return word.test(cls);
}
const CLASS_WORDS = new Map<string, RegExp>();

const BLOCK_TAGS = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'div', 'dl', 'dt', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li',
  'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
]);
const NO_TEXT_TAGS = new Set(['script', 'style', 'noscript', 'template', 'select', 'option', 'textarea', 'input', 'button']);

export interface TextOptions {
  /** Leave out elements hidden with an inline `display:none` (PRADO hides unused panels that way). */
  skipHidden?: boolean;
  /** Leave out elements matching this predicate, e.g. tooltip bubbles duplicating the value. */
  skip?: (el: Element) => boolean;
}

export function isElement(node: AnyNode): node is Element {
  const type = node.type as string;
  return type === 'tag' || type === 'script' || type === 'style';
}

function isTextNode(node: AnyNode): node is Text {
  return (node.type as string) === 'text';
}

export function isInlineHidden(el: Element): boolean {
  const style = el.attribs['style'];
  return style !== undefined && /display\s*:\s*none/i.test(style);
}

function collect(node: AnyNode, out: string[], opts: TextOptions): void {
  if (isTextNode(node)) {
    out.push(node.data);
    return;
  }
  if (!isElement(node)) return;
  const name = node.name.toLowerCase();
  if (NO_TEXT_TAGS.has(name)) return;
  if (opts.skipHidden && isInlineHidden(node)) return;
  if (opts.skip?.(node)) return;
  const block = BLOCK_TAGS.has(name);
  if (block) out.push('\n');
  for (const child of node.children) collect(child, out, opts);
  if (block) out.push('\n');
}

function rawText(nodes: ArrayLike<AnyNode>, opts: TextOptions): string {
  const out: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (n) collect(n, out, opts);
  }
  return out.join('');
}

/**
 * Text as a reader sees it: `<br>` and block boundaries become spaces instead of gluing words
 * (`30/10/2025<br>11:00` must not read `30/10/202511:00`), whitespace normalized.
 */
export function textOf(nodes: ArrayLike<AnyNode>, opts: TextOptions = {}): string {
  return normalizeSpace(rawText(nodes, opts));
}

/** The non-empty lines of the text, split at `<br>` and block boundaries. */
export function linesOf(nodes: ArrayLike<AnyNode>, opts: TextOptions = {}): string[] {
  return rawText(nodes, opts)
    .split('\n')
    .map((l) => normalizeSpace(l))
    .filter((l) => l !== '');
}

/** Text of the element's own text nodes only (labels in `<strong>` and tooltips excluded). */
export function ownText(nodes: ArrayLike<AnyNode>): string {
  const out: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    if (!n || !isElement(n)) continue;
    for (const child of n.children) {
      if (isTextNode(child)) out.push(child.data);
      else if (isElement(child) && child.name === 'br') out.push(' ');
    }
  }
  return normalizeSpace(out.join(''));
}

/** Resolve a link of the page; `javascript:popUp('…')` links resolve to the popup's URL. */
export function resolvePortalUrl(href: string | undefined | null, baseUrl: string = PORTAL_BASE_URL): string | null {
  if (!href) return null;
  let target = href.trim();
  if (/^javascript:/i.test(target)) {
    const m = /popUp\w*\(\s*['"]([^'"]+)['"]/i.exec(target);
    if (!m || !m[1]) return null;
    target = m[1];
  }
  if (target === '' || target.startsWith('#')) return null;
  try {
    return new URL(target, baseUrl).toString();
  } catch {
    return null;
  }
}

export interface ConsultationKey {
  orgAcronyme: string;
  refConsultation: string;
}

/** The natural key carried by a portal URL (`orgAcronyme`, or the popup's `orgAccronyme`). */
export function keyFromUrl(url: string | null | undefined, baseUrl: string = PORTAL_BASE_URL): ConsultationKey | null {
  if (!url) return null;
  let params: URLSearchParams;
  try {
    params = new URL(url, baseUrl).searchParams;
  } catch {
    return null;
  }
  const ref = params.get('refConsultation') ?? params.get('id');
  const org = params.get('orgAcronyme') ?? params.get('orgAccronyme');
  if (!ref || !org || !/^\d+$/.test(ref)) return null;
  return { orgAcronyme: org, refConsultation: ref };
}

export interface FormField {
  name: string;
  value: string;
}

export interface PostbackForm {
  /** Absolute URL the form posts to. */
  action: string;
  /** The newest `PRADO_PAGESTATE`; every postback must carry it. */
  pageState: string;
  /**
   * Every field a browser would post without clicking a button, in document order: inputs
   * (hidden, text, …), checked radios and checkboxes, selected options. No textareas (posting
   * the advanced-search textareas back empties the search), no submit/image/button/reset/file
   * inputs, nothing disabled. `PRADO_PAGESTATE` is among them.
   */
  fields: FormField[];
}

export function collectFormFields($: CheerioAPI, form: Cheerio<Element>): FormField[] {
  const fields: FormField[] = [];
  // `form.find('input, select')` by one walk of the form's elements: a selector search over a 100-row
  // list page (~9,000 elements under its form) cost more than reading the rows.
  const controls = form.toArray().flatMap((f) => findAll(f, (e) => e.name === 'input' || e.name === 'select'));
  $(controls).each((_, el) => {
    const $el = $(el);
    const name = $el.attr('name');
    if (!name || $el.attr('disabled') !== undefined) return;
    if (el.name === 'select') {
      const options = $el.find('option');
      const selected = options.filter((_, o) => $(o).attr('selected') !== undefined);
      const multiple = $el.attr('multiple') !== undefined;
      const chosen = multiple ? selected.toArray() : selected.length ? [selected.last()[0]] : [options.first()[0]];
      for (const o of chosen) {
        if (!o) continue;
        const value = $(o).attr('value') ?? normalizeSpace($(o).text());
        fields.push({ name, value });
      }
      return;
    }
    const type = ($el.attr('type') ?? 'text').toLowerCase();
    if (['submit', 'image', 'button', 'reset', 'file'].includes(type)) return;
    if ((type === 'checkbox' || type === 'radio') && $el.attr('checked') === undefined) return;
    const fallback = type === 'checkbox' || type === 'radio' ? 'on' : '';
    fields.push({ name, value: $el.attr('value') ?? fallback });
  });
  return fields;
}

/** The PRADO form (the one carrying `PRADO_PAGESTATE`), or null when the page has none. */
export function readPostbackForm($: CheerioAPI, baseUrl: string = PORTAL_BASE_URL, elements?: readonly Element[]): PostbackForm | null {
  // What `$('input[name="PRADO_PAGESTATE"]')` and `$('form').filter(…find…)` found, from one walk of the
  // page's elements in document order (`elements` when the caller walked them already).
  const all = elements ?? elementsUnder($.root()[0]!);
  const states = all.filter((e) => e.name === 'input' && e.attribs['name'] === 'PRADO_PAGESTATE');
  const state = states[0];
  if (!state) return null;
  const formEl = all.find((e) => e.name === 'form' && states.some((s) => isAncestorOf(e, s)));
  if (!formEl) return null;
  const form = $(formEl);
  const action = resolvePortalUrl(form.attr('action') ?? '', baseUrl) ?? baseUrl;
  return { action, pageState: $(state).attr('value') ?? '', fields: collectFormFields($, form) };
}

/** Every element under `root` (not `root` itself), in document order: one walk, then plain filters. */
export function elementsUnder(root: AnyNode): Element[] {
  return findAll(root, () => true);
}

function isAncestorOf(ancestor: AnyNode, node: AnyNode): boolean {
  for (let p = node.parent; p; p = p.parent) if (p === ancestor) return true;
  return false;
}

const REJECTED_TITLE = /<title>\s*Request Rejected\s*<\/title>/i;
const REJECTED_BODY = /The requested URL was rejected\.?\s*Please consult with your administrator/i;

/**
 * The portal's WAF (F5 BIG-IP ASM) answers some URLs with a tiny page, status 200, titled
 * "Request Rejected" and quoting a support ID. Parsing it as a list would look like a changed
 * page shape; it must be recognised first.
 */
export function isRequestRejectedPage(html: string): boolean {
  const head = html.slice(0, 4000);
  return REJECTED_TITLE.test(head) || REJECTED_BODY.test(head);
}

export function rejectedSupportId(html: string): string | null {
  const m = /support\s+ID\s+is\s*:?\s*([0-9A-Za-z-]+)/i.exec(html.slice(0, 4000));
  return m?.[1] ?? null;
}
