/** `moisson pmmp parse`, as a user debugs a saved page with it. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { runMoisson, type CliResult } from '../support/cli';

const samples = fileURLToPath(new URL('../fixtures/samples/pmmp/html/', import.meta.url));

function moisson(args: string[]): Promise<CliResult> {
  return runMoisson(args, {}, 60_000);
}

describe('moisson pmmp parse', () => {
  test('prints the items of a saved result list as JSON', async () => {
    const res = await moisson(['pmmp', 'parse', join(samples, 'legacy-results-list.html'), '--as', 'list']);
    assert.equal(res.code, 0, res.stderr);
    const parsed = JSON.parse(res.stdout) as { items: { orgAcronyme: string; refConsultation: string }[]; pagination: { pageCount: number } };
    assert.equal(parsed.items.length, 10);
    assert.ok(parsed.items.every((i) => i.orgAcronyme && /^\d+$/.test(i.refConsultation)));
  });

  test('a page whose shape changed exits non-zero naming what is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moisson-parse-'));
    const broken = join(dir, 'detail.html');
    writeFileSync(broken, readFileSync(join(samples, 'legacy-consultation-detail.excerpt.html'), 'utf8').replaceAll('recap-consultation', 'recap-moved'));
    const res = await moisson(['pmmp', 'parse', broken, '--as', 'detail']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /not a detail page as the parser knows it: missing #recap-consultation/);
  });

  test('--as award reads a notice PDF: reference, buyer, winner and exact amount', async () => {
    const res = await moisson(['pmmp', 'parse', join(samples, '..', 'pdf', 'resultat-215aec79.pdf'), '--as', 'award']);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { method: string; award: { reference: string; lots: { status: string; winners: { name: string; amount: string }[] }[] } };
    assert.equal(out.method, 'text-layer');
    assert.equal(out.award.reference, '29/AOO/AASLM/2026');
    assert.equal(out.award.lots[0]?.status, 'attribue');
    assert.match(out.award.lots[0]?.winners[0]?.name ?? '', /GT-RIF/);
    assert.equal(out.award.lots[0]?.winners[0]?.amount, '758640.00');
  });

  test('--as award refuses a cut PDF and an HTML page, saying what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moisson-parse-'));
    writeFileSync(join(dir, 'cut.pdf'), '%PDF-1.4 but cut');
    const cut = await moisson(['pmmp', 'parse', join(dir, 'cut.pdf'), '--as', 'award']);
    assert.equal(cut.code, 2);
    assert.match(cut.stderr, /cut\.pdf: pdfinfo failed .*trailer/);
    writeFileSync(join(dir, 'avis.pdf'), '<html><title>Request Rejected</title></html>');
    const html = await moisson(['pmmp', 'parse', join(dir, 'avis.pdf'), '--as', 'award']);
    assert.equal(html.code, 2);
    assert.match(html.stderr, /is an HTML page, not a notice PDF or its text/);
  });

  test('a missing file or an unknown parser is a bad invocation (3)', async () => {
    assert.equal((await moisson(['pmmp', 'parse', '/nonexistent.html', '--as', 'list'])).code, 3);
    const res = await moisson(['pmmp', 'parse', join(samples, 'legacy-results-list.html'), '--as', 'sitemap']);
    assert.equal(res.code, 3);
    assert.match(res.stderr, /Allowed choices are list, detail, lots, bdc-results, award/);
  });
});
