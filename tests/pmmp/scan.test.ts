/**
 * `scanStartTags` finds start tags where htmlparser2's tokenizer finds them (tests/pmmp/parsers.test.ts
 * checks the detail parser built on it against the whole-page tree). Reference: htmlparser2's own
 * Parser, its tokenizer callbacks recorded, on the portal's sample pages, replica pages and markup
 * written to hit each tokenizer state, whole and spliced at random into a sample page.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import { DomHandler } from 'domhandler';
import { Parser } from 'htmlparser2';

import { parseElementAt, parseTag, scanStartTags } from '../../activities/pmmp/parse/scan';
import { startPortalReplica } from '../replicas/pmmp/index';

const PARSER_OPTIONS = { xmlMode: false, decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true } as const;

/** `[start, name, end]` of each start tag, as the tokenizer reports them. */
function tokenizerTags(html: string): string[] {
  const tags: string[] = [];
  let open: { start: number; name: string } | null = null;
  class Recorder extends Parser {
    override onopentagname(start: number, endIndex: number): void {
      open = { start: start - 1, name: html.slice(start, endIndex).toLowerCase() };
      super.onopentagname(start, endIndex);
    }
    override onopentagend(endIndex: number): void {
      if (open) tags.push(`${open.start} ${open.name} ${endIndex + 1}`);
      open = null;
      super.onopentagend(endIndex);
    }
    override onselfclosingtag(endIndex: number): void {
      if (open) tags.push(`${open.start} ${open.name} ${endIndex + 1}`);
      open = null;
      super.onselfclosingtag(endIndex);
    }
  }
  new Recorder(new DomHandler(), PARSER_OPTIONS).end(html);
  return tags;
}

function scannedTags(html: string): string[] | null {
  const tags: string[] = [];
  const ok = scanStartTags(html, (start, nameEnd, end) => tags.push(`${start} ${html.slice(start + 1, nameEnd).toLowerCase()} ${end}`));
  return ok ? tags : null;
}

const SAMPLES = new URL('../fixtures/samples/pmmp/html/', import.meta.url);
const samplePages = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.html'))
  .map((f) => [f, readFileSync(new URL(f, SAMPLES), 'utf8')] as const);

/** Markup for each state of the tokenizer the scan steps through. */
const TRICKY = [
  '<!-->a<b>',
  '<!--->a<b>',
  '<!-- <i> -- > --><u>',
  '<!->x>y<s>',
  '<!>z<q>',
  '<!doctype html><html>',
  '<? php <i> ?><p>',
  '</ div><p>',
  '</>text<em>',
  '</1 <i>><b>',
  '<a b=\'>\' c=">" d=e>x</a>',
  '<a b=c/>d<i>',
  '<a b/ c>x',
  '<a / >x',
  '<a =x y>z',
  '<A HREF="x" >y</A>',
  '<div\tid=x\nclass=y\r>z',
  '<script>if (a<b) document.write("<div>")</script><p>',
  '<script/><b>x</b>',
  '<SCRIPT>x</Script\t><i>',
  '<script>x</scripts></script ><i>',
  '<script>x<</script><i>',
  '<style>a>b{}</style><i>',
  '<title>&lt;<b>x</b></title><i>',
  '<textarea><div></textarea><i>',
  '<xmp><div></xmp><i>',
  '<tmp><div></xmp><i>',
  '<xitle><div></title><i>',
  '<scripts><i>',
  '<a href="?x=1&amp;y=2&#61;">l</a>',
  'a < b and c<d e>',
  '<1><p>',
  '<p>x<',
  '<img src=x alt=">"><br/>',
];

describe('scanStartTags: the start tags the tokenizer finds', () => {
  it('on the sample pages', () => {
    for (const [name, html] of samplePages) assert.deepEqual(scannedTags(html), tokenizerTags(html), name);
  });

  it('on markup written for each tokenizer state, alone and spliced into a page', () => {
    for (const snippet of TRICKY) assert.deepEqual(scannedTags(snippet), tokenizerTags(snippet), snippet);
    const [, page] = samplePages.find(([f]) => f.startsWith('legacy-consultation-detail'))!;
    // Splice positions from a fixed linear congruential sequence: the same cases every run.
    let seed = 20261207;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    let compared = 0;
    for (let k = 0; k < 400; k++) {
      const at = next() % page.length;
      const html = page.slice(0, at) + TRICKY[next() % TRICKY.length]! + page.slice(at);
      const scanned = scannedTags(html);
      if (!scanned) continue;
      assert.deepEqual(scanned, tokenizerTags(html), `snippet at ${at}`);
      compared++;
    }
    assert.ok(compared > 300, `${compared} spliced pages compared`);
  });

  it('refuses what it does not reproduce: CDATA, a construct left open at the end', () => {
    for (const html of ['<![CDATA[<i>]]><b>', '<p><!-- open', '<script>x', '<a href="x', '<a b'])
      assert.equal(scannedTags(html), null, html);
  });

  it('on detail and lots pages of the portal replica', async () => {
    const replica = await startPortalReplica({ seed: 11, today: '2026-11-20', consultations: 300 });
    try {
      const picked = replica.oracle.consultations().filter((_, i) => i % 6 === 0);
      for (const c of picked) {
        const html = await (await fetch(`${replica.url}/index.php?page=entreprise.EntrepriseDetailConsultation&refConsultation=${c.refConsultation}&orgAcronyme=${c.orgAcronyme}`)).text();
        assert.deepEqual(scannedTags(html), tokenizerTags(html), `${c.orgAcronyme}/${c.refConsultation}`);
      }
    } finally {
      await replica.close();
    }
  });
});

describe('parseTag and parseElementAt: htmlparser2 from a start tag on', () => {
  it('decode attributes and build the element as a whole-page parse does', () => {
    const html = '<body><p>x<div id="r" title="a&amp;b&#61;c">t<a href="?k=1&amp;v=2">l <b>m</b></a><br></div>after';
    const start = html.indexOf('<div');
    const tag = { name: 'div', start, end: html.indexOf('>', start) + 1 };
    assert.deepEqual(parseTag(html, tag), { id: 'r', title: 'a&b=c' });
    const el = parseElementAt(html, tag)!;
    const whole = new DomHandler();
    new Parser(whole, PARSER_OPTIONS).end(html);
    const render = (n: { type: string; name?: string; data?: string; children?: unknown[] }): string =>
      n.type === 'tag' ? `<${n.name}>${(n.children as (typeof n)[]).map(render).join('')}</${n.name}>` : (n.data ?? '');
    const wholeDiv = (whole.root.children[0] as unknown as { children: { name?: string }[] }).children.find((c) => c.name === 'div');
    assert.equal(render(el as never), render(wholeDiv as never));
    assert.equal(render(el as never), '<div>t<a>l <b>m</b></a><br></br></div>');
  });

  it('refuse an element an end tag inside reaches out of, and elements closed implicitly', () => {
    const html = '<span><div id="r">x</span>y</div>';
    const start = html.indexOf('<div');
    assert.equal(parseElementAt(html, { name: 'div', start, end: html.indexOf('>', start) + 1 }), null);
    assert.equal(parseElementAt('<p>x<p>y', { name: 'p', start: 0, end: 3 }), null);
  });
});
