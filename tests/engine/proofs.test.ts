/**
 * The proof store on the real PostgreSQL and a temporary directory: round trip, dedup, corruption,
 * keyset pagination, and a page fetched by the fetcher stored as it came.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, mkdtemp, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InvalidInputError } from '../../activities/engine/errors';
import { createFetcher } from '../../activities/engine/fetcher';
import { connectPostgres } from '../../activities/engine/db';
import { createProofStore, ProofCorruptedError, ProofNotFoundError, proofPath, type ProofStore, type ProofSummary } from '../../activities/engine/proofs';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createTestDatabase, type TestDatabase } from '../support/services';


const SAMPLE = new URL('../fixtures/samples/pmmp/html/legacy-results-list.html', import.meta.url);

let database: TestDatabase;
let dir: string;
let store: ProofStore;
let server: Server | undefined;

before(async () => {
  database = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'moisson-proofs-'));
  store = createProofStore({ db: database.db, dir });
});

after(async () => {
  server?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function count(table: 'proofs' | 'proof_fetches', proofId: string): Promise<number> {
  const [row] = await database.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from etl.${table} where proof_id = $1`, [proofId]);
  return row?.n ?? -1;
}

test('a page goes in compressed and comes back byte for byte, with where and when it was fetched', async () => {
  const body = await readFile(SAMPLE);
  const fetchedAt = new Date('2026-11-23T02:00:01.234Z');
  const res = await store.put({
    body,
    url: 'https://www.marchespublics.gov.ma/index.php?page=entreprise.EntrepriseAdvancedSearch&AllCons&token=SECRET',
    fetchedAt,
    contentType: 'text/html; charset=utf-8',
    kind: 'pmmp.list',
    meta: { page: 2 },
  });
  assert.equal(res.proofId, sha(body));
  assert.equal(res.sha256, res.proofId);
  assert.equal(res.stored, true);
  assert.equal(res.size, body.length);
  assert.ok(res.storedSize * 10 < res.size, `HTML compresses at least 10× (${res.size} → ${res.storedSize})`);
  const file = proofPath(dir, res.proofId);
  assert.ok(file.endsWith(`/${res.proofId.slice(0, 2)}/${res.proofId.slice(2, 4)}/${res.proofId}.br`));
  assert.equal((await readFile(file)).length, res.storedSize);

  const proof = await store.get(res.proofId);
  assert.ok(proof.body.equals(body));
  assert.equal(proof.fetchedAt.toISOString(), fetchedAt.toISOString());
  assert.equal(proof.contentType, 'text/html; charset=utf-8');
  assert.equal(proof.kind, 'pmmp.list');
  assert.deepEqual(proof.meta, { page: 2 });
  assert.match(proof.url, /token=\*\*\*/, 'a secret in the URL is not stored');
  assert.equal(await store.has(res.proofId), true);
});

test('the same bytes are stored once and every fetch of them is recorded once', async () => {
  const body = Buffer.from('<html>the same page, fetched on two days</html>');
  const telemetry = testTelemetry();
  const written = async () => seriesValue(await telemetry.scrape(), 'moisson_proof_bytes_written_total', { pipeline: 'test' });
  const before = await written();
  const first = await store.put({ body, url: 'https://example.org/a', fetchedAt: '2026-11-20T10:00:00Z', contentType: 'text/html', kind: 'test.dedup' });
  const second = await store.put({ body, url: 'https://example.org/a?copy', fetchedAt: '2026-11-21T10:00:00Z', contentType: 'text/html', kind: 'test.dedup' });
  // A retried activity storing the very same response.
  const retried = await store.put({ body, url: 'https://example.org/a?copy', fetchedAt: '2026-11-21T10:00:00Z', contentType: 'text/html', kind: 'test.dedup' });
  assert.equal(first.stored, true);
  assert.equal(second.stored, false);
  assert.equal(retried.stored, false);
  assert.equal(second.proofId, first.proofId);
  assert.equal(await count('proofs', first.proofId), 1);
  assert.equal(await count('proof_fetches', first.proofId), 2);
  assert.equal(await written(), before + first.storedSize, 'bytes are counted once, when they are first stored');
  const proof = await store.get(first.proofId);
  assert.equal(proof.url, 'https://example.org/a', 'the proof keeps its first sighting');
});

test('concurrent puts of the same bytes store them once and leave no temporary file', async () => {
  const body = Buffer.from(`<html>${'race '.repeat(5000)}</html>`);
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => store.put({ body, url: `https://example.org/race/${i}`, fetchedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)), kind: 'test.race' })),
  );
  assert.equal(results.filter((r) => r.stored).length, 1);
  assert.equal(await count('proof_fetches', sha(body)), 6);
  const folder = join(dir, sha(body).slice(0, 2), sha(body).slice(2, 4));
  assert.deepEqual(await readdir(folder), [`${sha(body)}.br`]);
});

test('a put commits its own rows without a WAL flush and leaves its connection committing synchronously', async () => {
  // One connection, so the statements after the put run where it ran: the asynchronous commit is the
  // put's transaction's alone (SET LOCAL), never the next transaction's on a pooled connection.
  const single = connectPostgres(database.url, { max: 1 });
  try {
    const own = createProofStore({ db: single.db, dir });
    const body = Buffer.from(`<html>${'async '.repeat(1000)}</html>`);
    const put = await own.put({ body, url: 'https://example.org/async', fetchedAt: new Date(Date.UTC(2026, 0, 2)), kind: 'test.async' });
    assert.equal(put.stored, true);
    const [mode] = await single.sql<{ synchronous_commit: string }[]>`show synchronous_commit`;
    assert.equal(mode?.synchronous_commit, 'on');
    // Committed (visible to another connection) when put returns.
    assert.equal(await count('proofs', put.proofId), 1);
    assert.equal(await count('proof_fetches', put.proofId), 1);
  } finally {
    await single.close();
  }
});

test('getMany returns what get returns for each proof, a batch at a time; a missing or damaged one fails the call', async () => {
  const bodies = Array.from({ length: 12 }, (_, i) => Buffer.from(`<html>page ${i} of a batch ${'x'.repeat(i * 100)}</html>`));
  const ids: string[] = [];
  for (const [i, body] of bodies.entries()) {
    ids.push((await store.put({ body, url: `https://example.org/batch/${i}`, fetchedAt: new Date(Date.UTC(2026, 1, 1, 0, 0, i)), contentType: 'text/html', kind: 'test.batch' })).proofId);
  }
  const many = await store.getMany([...ids, ids[0]!], { concurrency: 3 });
  assert.equal(many.size, ids.length, 'a repeated id is read once');
  for (const id of ids) assert.deepEqual(many.get(id), await store.get(id));
  assert.equal((await store.getMany([])).size, 0);

  const unknown = sha(Buffer.from('never stored'));
  await assert.rejects(store.getMany([ids[1]!, unknown]), (err: unknown) => err instanceof ProofNotFoundError && err.message.includes(unknown));
  await assert.rejects(store.getMany(['../../etc/passwd']), InvalidInputError);
  const file = proofPath(dir, ids[5]!);
  const good = await readFile(file);
  await writeFile(file, good.subarray(0, good.length - 3));
  try {
    await assert.rejects(store.getMany(ids, { concurrency: 4 }), (err: unknown) => err instanceof ProofCorruptedError && err.message.includes(ids[5]!));
  } finally {
    await writeFile(file, good);
  }
});

test('damaged or missing bytes are detected on read, and a new put of the same bytes repairs them', async () => {
  const body = Buffer.from('<html>évidence</html>');
  const { proofId } = await store.put({ body, url: 'https://example.org/e', fetchedAt: new Date(), kind: 'test.corrupt' });
  const file = proofPath(dir, proofId);
  const good = await readFile(file);

  const flipped = Buffer.from(good);
  flipped.writeUInt8(flipped.readUInt8(flipped.length - 2) ^ 0xff, flipped.length - 2);
  await writeFile(file, flipped);
  await assert.rejects(store.get(proofId), ProofCorruptedError);

  // Valid brotli of other bytes: decompresses fine, hashes wrong.
  const { brotliCompressSync } = await import('node:zlib');
  await writeFile(file, brotliCompressSync(Buffer.from('<html>forged</html>')));
  await assert.rejects(store.get(proofId), (err: unknown) => err instanceof ProofCorruptedError && /hashes to/.test(err.message));

  await unlink(file);
  await assert.rejects(store.get(proofId), (err: unknown) => err instanceof ProofCorruptedError && /no file/.test(err.message));

  const again = await store.put({ body, url: 'https://example.org/e', fetchedAt: new Date(), kind: 'test.corrupt' });
  assert.equal(again.stored, false);
  assert.ok((await store.get(proofId)).body.equals(body), 'the file was written back');
});

test('unknown and malformed ids', async () => {
  assert.equal(await store.has('0'.repeat(64)), false);
  assert.equal(await store.has('../../etc/passwd'), false);
  await assert.rejects(store.get('0'.repeat(64)), ProofNotFoundError);
  await assert.rejects(store.get('../../etc/passwd'), InvalidInputError);
  await assert.rejects(store.list({ after: 'garbage' }), InvalidInputError);
});

test('list pages through proofs in fetch order with a keyset cursor, filtered by kind and time window', async () => {
  const kind = 'test.list';
  const base = Date.UTC(2026, 2, 1);
  const put = (i: number, atMs: number, k = kind) => store.put({ body: Buffer.from(`<html>list ${i} ${k}</html>`), url: `https://example.org/l/${i}`, fetchedAt: new Date(atMs), kind: k });
  // Two proofs fetched in the same millisecond: the proof id breaks the tie.
  for (let i = 0; i < 9; i++) await put(i, base + Math.floor(i / 2) * 3_600_000);
  await put(100, base + 3_600_000, 'test.other');
  // Two rows a microsecond apart, as another writer could leave them, falling on either side of the
  // first page boundary: a cursor rounded to the millisecond would return one of them twice.
  const micro = new Date(base + 30 * 60_000);
  for (const [i, us] of [
    [200, '000001'],
    [201, '000002'],
  ] as const) {
    const body = Buffer.from(`<html>micro ${i}</html>`);
    await database.sql.unsafe(
      `insert into etl.proofs (proof_id, url, fetched_at, kind, size, stored_size) values ($1, $2, ($3::timestamptz + interval '${Number(us)} microseconds'), $4, $5, 0)`,
      [sha(body), `https://example.org/m/${i}`, micro.toISOString(), kind, body.length],
    );
  }

  const seen: ProofSummary[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ kind, limit: 3, after });
    seen.push(...page.items);
    after = page.next;
    pages++;
    if (pages === 1) {
      // Written while we page: before the cursor it stays out, after it comes in.
      await put(300, base - 3_600_000);
      await put(301, base + 20 * 3_600_000);
    }
  } while (after);
  assert.equal(pages, 4);
  const keys = seen.map((p) => `${p.fetchedAt.toISOString()} ${p.proofId}`);
  assert.deepEqual(keys, [...keys].sort(), 'ordered by (fetched_at, proof_id)');
  assert.equal(new Set(seen.map((p) => p.proofId)).size, seen.length, 'no proof twice');
  assert.equal(seen.length, 9 + 2 + 1, 'nine, the two a microsecond apart, and the one written after the cursor');
  assert.ok(seen.every((p) => p.kind === kind));

  const window = await store.list({ kind, from: new Date(base + 3_600_000), to: new Date(base + 3 * 3_600_000), limit: 100 });
  assert.equal(window.items.length, 4, 'from is inclusive, to exclusive');
  assert.equal(window.next, undefined);

  const all: string[] = [];
  for await (const p of store.iterate({ kind, limit: 5 })) all.push(p.proofId);
  assert.equal(all.length, 9 + 2 + 2);
});

test('a fetched page goes into the store as it is', async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' }).end(Buffer.from('<html>Marché</html>', 'latin1')));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/detail?refConsultation=1`;
  const fetcher = createFetcher({ politeness: false, robots: false });
  try {
    const res = await fetcher.get(url);
    const put = await store.put({ ...res, kind: 'pmmp.detail', meta: { refConsultation: 1 } });
    const proof = await store.get(put.proofId);
    assert.ok(proof.body.equals(res.body));
    assert.equal(proof.url, url);
    assert.equal(proof.contentType, 'text/html; charset=windows-1252');
    assert.equal(proof.fetchedAt.getTime(), res.fetchedAt.getTime());
  } finally {
    await fetcher.close();
  }
});
