/**
 * The S3 source reader against a real S3-compatible server (SeaweedFS): CSV in UTF-8, UTF-16-LE and
 * latin1, Excel sheets, batches, and the errors a user meets (no such object, no such bucket, a broken file).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { readS3Source, sniffDelimiter, type RawRow, type S3SourceLocation } from '../../activities/consolidation/sources/s3';
import { InvalidInputError, NotAvailableError } from '../../activities/engine/errors';
import { startTestS3, type TestS3 } from './s3-server';

let s3: TestS3;

before(async () => {
  s3 = await startTestS3();
});
after(async () => s3?.close());

async function put(key: string, body: Buffer | string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
}

async function readAll(loc: Omit<S3SourceLocation, 'kind' | 'bucket'> & { bucket?: string }, batchRows = 1000): Promise<RawRow[][]> {
  const batches: RawRow[][] = [];
  for await (const b of readS3Source({ kind: 's3', bucket: s3.bucket, ...loc } as S3SourceLocation, s3.client, { batchRows })) batches.push(b);
  return batches;
}

const PHARMACIES = [
  ['n° finess', 'Raison sociale', 'Adresse', 'Code postal', 'Commune', 'Téléphone'],
  ['010002699', 'PHARMACIE DU CHÂTEAU', '3 RUE DU CHÂTEAU', '01000', 'BOURG-EN-BRESSE', '04 74 22 11 00'],
  ['010003598', "PHARMACIE DE L'ÉGLISE", '12; PLACE DE L\'ÉGLISE', '01100', 'OYONNAX', ''],
  ['010004000', 'PHARMACIE "CENTRALE"', '1 AV. JEAN JAURÈS', '1200', 'BELLEGARDE', 'null'],
];

function csv(rows: string[][], delimiter: string): string {
  return rows.map((r) => r.map((v) => (v.includes(delimiter) || v.includes('"') ? `"${v.replaceAll('"', '""')}"` : v)).join(delimiter)).join('\r\n') + '\r\n';
}

describe('CSV objects', () => {
  test('a UTF-8 CSV with a BOM comes out in batches, columns as the file spells them, delimiter found on the header', async () => {
    await put('eo/points.csv', '\ufeff' + csv(PHARMACIES, ';'));
    const batches = await readAll({ key: 'eo/points.csv', format: 'csv' }, 2);
    assert.deepEqual(batches.map((b) => b.length), [2, 1]);
    const rows = batches.flat();
    assert.deepEqual(Object.keys(rows[0]!), PHARMACIES[0]);
    assert.equal(rows[1]!['Adresse'], "12; PLACE DE L'ÉGLISE");
    assert.equal(rows[2]!['Raison sociale'], 'PHARMACIE "CENTRALE"');
    assert.equal(rows[2]!['Code postal'], '1200', 'values stay as the source wrote them: normalisation is the next step');
  });

  test('a UTF-16-LE CSV (the pharmacies export) with its BOM, and a latin1 one', async () => {
    await put('pharmacies/utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv(PHARMACIES, ';'), 'utf16le')]));
    const utf16 = (await readAll({ key: 'pharmacies/utf16.csv', format: 'csv', encoding: 'utf-16le', delimiter: ';' })).flat();
    assert.equal(utf16.length, 3);
    assert.equal(utf16[0]!['Raison sociale'], 'PHARMACIE DU CHÂTEAU');
    assert.equal(utf16[0]!['n° finess'], '010002699');

    await put('old/latin1.csv', Buffer.from(csv(PHARMACIES, ','), 'latin1'));
    const latin1 = (await readAll({ key: 'old/latin1.csv', format: 'csv', encoding: 'latin1' })).flat();
    assert.equal(latin1[2]!['Adresse'], '1 AV. JEAN JAURÈS');
  });

  test('a latin1 file read as UTF-8 fails and says to declare the encoding', async () => {
    await put('old/latin1-undeclared.csv', Buffer.from(csv(PHARMACIES, ','), 'latin1'));
    await assert.rejects(readAll({ key: 'old/latin1-undeclared.csv', format: 'csv' }), (err: Error) => {
      assert.ok(err instanceof InvalidInputError, String(err));
      assert.match(err.message, /old\/latin1-undeclared\.csv: not valid UTF-8; declare the file's encoding/);
      return true;
    });
  });

  test('a row with a column too many fails naming the object and the line; a duplicated header name too', async () => {
    await put('bad/extra.csv', 'a,b\n1,2\n3,4,5\n');
    await assert.rejects(readAll({ key: 'bad/extra.csv', format: 'csv' }), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /s3:\/\/moisson-test-[^/]+\/bad\/extra\.csv line 3/);
      return true;
    });
    await put('bad/dup.csv', 'nom,nom\nx,y\n');
    await assert.rejects(readAll({ key: 'bad/dup.csv', format: 'csv' }), /names column 'nom' twice/);
  });

  test('delimiter sniffing ignores quoted text', () => {
    assert.equal(sniffDelimiter('"a,b,c";d;e'), ';');
    assert.equal(sniffDelimiter('a\tb\tc'), '\t');
    assert.equal(sniffDelimiter('seul'), ',');
  });
});

describe('Excel objects', () => {
  test('the declared sheet, by name or position; numbers, dates, formulas and rich text as raw values', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Notes').addRow(['not the data']);
    const sheet = wb.addWorksheet('Points');
    sheet.addRow(['identifiant', 'nom', 'latitude', 'ouvert', 'maj', 'total']);
    sheet.addRow(['R-1', 'Repair Café Auray', 47.668099, true, new Date(Date.UTC(2026, 10, 1)), { formula: '1+1', result: 2 }]);
    sheet.addRow([]);
    sheet.addRow(['R-2', { richText: [{ text: 'Ressour' }, { text: 'cerie' }] }, null, false, null, 3]);
    await put('eo/points.xlsx', Buffer.from(await wb.xlsx.writeBuffer()));

    const byName = (await readAll({ key: 'eo/points.xlsx', format: 'xlsx', sheet: 'Points' })).flat();
    assert.deepEqual(byName, [
      { identifiant: 'R-1', nom: 'Repair Café Auray', latitude: 47.668099, ouvert: true, maj: '2026-11-01T00:00:00.000Z', total: 2 },
      { identifiant: 'R-2', nom: 'Ressourcerie', latitude: null, ouvert: false, maj: null, total: 3 },
    ]);
    const byPosition = (await readAll({ key: 'eo/points.xlsx', format: 'xlsx', sheet: 2 })).flat();
    assert.deepEqual(byPosition, byName);
    const first = (await readAll({ key: 'eo/points.xlsx', format: 'xlsx' })).flat();
    assert.deepEqual(first, [], 'the first sheet has a header and no rows');
  });

  test('a sheet that is not there is named, with the sheets that are', async () => {
    await assert.rejects(readAll({ key: 'eo/points.xlsx', format: 'xlsx', sheet: 'Données' }), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /no sheet 'Données' \(sheets: Notes, Points\)/);
      return true;
    });
  });
});

describe('what is not there', () => {
  test('a missing object and a missing bucket are clear, permanent errors', async () => {
    await assert.rejects(readAll({ key: 'nope/absent.csv', format: 'csv' }), (err: Error) => {
      assert.ok(err instanceof NotAvailableError, `${err.name}: ${err.message}`);
      assert.match(err.message, /no object 'nope\/absent\.csv' in bucket 'moisson-test-/);
      return true;
    });
    await assert.rejects(readAll({ bucket: 'moisson-no-such-bucket', key: 'x.csv', format: 'csv' }), (err: Error) => {
      assert.ok(err instanceof NotAvailableError, `${err.name}: ${err.message}`);
      assert.match(err.message, /the bucket 'moisson-no-such-bucket' does not exist/);
      return true;
    });
  });

  test('a declaration with options of the other format is refused before any request', async () => {
    await assert.rejects(readAll({ key: 'eo/points.xlsx', format: 'xlsx', delimiter: ';' }), /applies to csv only/);
  });
});
