/**
 * Page-numbered pagination end to end: a second source, declared here as data, reads Pennylane's
 * `GET /trial_balance` (`page` + `per_page`, `{items, total_pages, current_page, …}`) from the replica
 * through the same `syncStream` as the cursor-paged streams, into the real PostgreSQL. The list ends on
 * `total_pages`, or (a stream declared without it) on a short page; a page failing mid-way is resumed
 * from the last committed page; a source that ignores the page number is caught, not read as duplicates.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { PagePagination, SourceDefinition, StreamDefinition } from '../../activities/apisync/definition';
import { shadowName } from '../../activities/apisync/loader';
import type { ShapeRejection } from '../../activities/apisync/shape';
import { SOURCES } from '../../activities/apisync/sources/index';
import { syncStream, type StreamSyncDeps } from '../../activities/apisync/sync';
import type { ApisyncMode, SyncStreamResult } from '../../activities/apisync/types';
import { loadApisyncConfig, type ApisyncConfig } from '../../schema/config';
import { DEFAULT_TOKEN, startPennylaneReplica, type PennylaneReplica } from '../replicas/pennylane/index';
import { createTestDatabase, type TestDatabase } from '../support/services';

const PERIOD = { period_start: '2026-01-01', period_end: '2026-12-31' };
const PATH = '/api/external/v2/trial_balance';

/** The whole of a second source: its streams as data, nothing else. */
function trialBalanceStream(name: string, pagination: Partial<PagePagination>, query: Record<string, string> = {}): StreamDefinition {
  return {
    name,
    path: '/trial_balance',
    primaryKey: 'number',
    pagination: { style: 'page', pageParam: 'page', sizeParam: 'per_page', itemsField: 'items', firstPage: 1, maxPageSize: 1000, ...pagination },
    incremental: { strategy: 'none' },
    fields: { number: 'text', formatted_number: 'text', label: 'text', debits: 'numeric', credits: 'numeric' },
    query: { ...PERIOD, ...query },
  };
}

const reports: SourceDefinition = {
  name: 'reports',
  auth: { kind: 'bearer' },
  rateLimit: { requests: 25, windowMs: 5_000 },
  whoAmIPath: '/me',
  streams: [
    trialBalanceStream('trial_balance', { totalPagesField: 'total_pages', currentPageField: 'current_page' }),
    // The same endpoint read without its page count: a page shorter than asked ends the list.
    trialBalanceStream('trial_balance_short', {}),
    // A page parameter the source does not know: it serves page 1 whatever is asked.
    trialBalanceStream('trial_balance_misnamed', { pageParam: 'pg', totalPagesField: 'total_pages', currentPageField: 'current_page' }, { page: '1' }),
    trialBalanceStream('trial_balance_miscounted', { totalPagesField: 'page_count' }),
  ],
};

let db: TestDatabase;
let replica: PennylaneReplica;
let deps: StreamSyncDeps;
const rejected: ShapeRejection[] = [];

before(async () => {
  [db, replica] = await Promise.all([createTestDatabase(), startPennylaneReplica({ sizes: {} })]);
  await db.sql`select 1`;
  const base = loadApisyncConfig({
    PENNYLANE_API_URL: replica.baseUrl,
    PENNYLANE_API_TOKEN: DEFAULT_TOKEN,
    APISYNC_PAGE_SIZE: '50',
    // Every page commits on its own: the cursor saved is the page after it.
    APISYNC_LOAD_BATCH_ROWS: '50',
    APISYNC_REQUEST_ATTEMPTS: '2',
    APISYNC_HTTP_TIMEOUT_MS: '5000',
  });
  // The second source's settings: the same replica and token, under its own name.
  const config = { ...base, sources: { ...base.sources, reports: base.sources.pennylane } } as ApisyncConfig;
  SOURCES.reports = reports;
  deps = { sql: db.sql, config, reject: async (_run, _stream, r) => void rejected.push(...r) };
});

after(async () => {
  delete SOURCES.reports;
  await Promise.allSettled([replica?.close(), db?.drop()]);
});

function sync(stream: string, mode: ApisyncMode = 'full', runId = randomUUID()): Promise<SyncStreamResult> {
  return syncStream(deps, { source: 'reports', stream, mode, runId });
}

/** The pages asked of the trial balance since the last clear, with the answer's status. */
function pagesAsked(param = 'page'): [string | undefined, number][] {
  return replica.requests().filter((r) => r.path === PATH).map((r) => [r.query[param], r.status]);
}

async function assertMirrors(stream: string): Promise<void> {
  const loaded = await db.sql.unsafe<{ number: string; formatted_number: string; label: string; debits: string; credits: string }[]>(
    `select number, formatted_number, label, debits::text as debits, credits::text as credits from apisync."reports_${stream}" order by number collate "C"`,
  );
  const served = replica.trialBalance(PERIOD.period_start, PERIOD.period_end).map((l) => ({ ...l, label: l.label.trim() }));
  assert.equal(loaded.length, served.length, `${stream}: every account loaded`);
  assert.deepEqual([...loaded].map((r) => ({ ...r })), served, `${stream}: the table mirrors the trial balance (amounts exact, labels trimmed)`);
}

describe('page-numbered pagination (Pennylane trial balance, a source declared as data)', () => {
  test('total_pages ends the list: 230 accounts in 5 pages of 50, 200 in 4, never a page more', async () => {
    replica.setLedgerAccounts(230);
    replica.clearRequests();
    const r = await sync('trial_balance');
    assert.deepEqual(pagesAsked(), [['1', 200], ['2', 200], ['3', 200], ['4', 200], ['5', 200]]);
    for (const q of replica.requests().filter((x) => x.path === PATH)) {
      assert.deepEqual([q.query.per_page, q.query.period_start, q.query.period_end], ['50', PERIOD.period_start, PERIOD.period_end]);
    }
    assert.deepEqual([r.mode, r.counts.pages, r.counts.extracted, r.counts.loaded, r.rowCount, r.resumed], ['full', 5, 230, 230, 230, false]);
    await assertMirrors('trial_balance');
    const [types] = await db.sql<{ debits: string; number: string }[]>`
      select max(data_type) filter (where column_name = 'debits') as debits, max(data_type) filter (where column_name = 'number') as number
        from information_schema.columns where table_schema = 'apisync' and table_name = 'reports_trial_balance'`;
    assert.deepEqual(types, { debits: 'numeric', number: 'text' });

    replica.setLedgerAccounts(200);
    replica.clearRequests();
    const exact = await sync('trial_balance');
    assert.deepEqual(pagesAsked(), [['1', 200], ['2', 200], ['3', 200], ['4', 200]], 'the last full page is known to be the last');
    assert.deepEqual([exact.counts.pages, exact.rowCount], [4, 200]);
    await assertMirrors('trial_balance');
    assert.deepEqual(rejected, []);
  });

  test('without a page count, a short page ends the list (and a full last page costs one empty page)', async () => {
    replica.setLedgerAccounts(230);
    replica.clearRequests();
    const short = await sync('trial_balance_short');
    assert.deepEqual(pagesAsked(), [['1', 200], ['2', 200], ['3', 200], ['4', 200], ['5', 200]]);
    assert.deepEqual([short.counts.pages, short.counts.extracted, short.rowCount], [5, 230, 230]);
    await assertMirrors('trial_balance_short');

    replica.setLedgerAccounts(200);
    replica.clearRequests();
    const exact = await sync('trial_balance_short');
    assert.deepEqual(pagesAsked(), [['1', 200], ['2', 200], ['3', 200], ['4', 200], ['5', 200]], 'page 5 is asked, comes back empty, and ends the list');
    assert.deepEqual([exact.counts.pages, exact.counts.extracted, exact.rowCount], [5, 200, 200]);
    await assertMirrors('trial_balance_short');
  });

  test('incremental asked of a stream without a change feed reads it in full and says why', async () => {
    replica.clearRequests();
    const r = await sync('trial_balance', 'incremental');
    assert.equal(r.requestedMode, 'incremental');
    assert.equal(r.mode, 'full');
    assert.equal(r.fallbackReason, 'trial_balance has no change feed: read in full');
    assert.equal(pagesAsked().length, 4);
    await assertMirrors('trial_balance');
  });

  test('a page failing mid-way: the retry resumes at the first page not committed; readers keep the whole old table meanwhile', async () => {
    // The table holds the 200 accounts of the last full; the chart of accounts grows to 230.
    replica.setLedgerAccounts(230);
    replica.clearRequests();
    // Pages 1 and 2 are served, then page 3 fails more times than the client retries in place.
    replica.setFault({ kind: 'status', status: 503 }, 2, PATH, 2);
    const runId = randomUUID();
    await assert.rejects(sync('trial_balance', 'full', runId), /trial_balance\?.*answered 503/);
    assert.deepEqual(pagesAsked(), [['1', 200], ['2', 200], ['3', 503], ['3', 503]]);
    const [state] = await db.sql<{ position: string; pages: number; extracted: number; run_key: string }[]>`
      select pending->>'position' as position, (pending->'counts'->>'pages')::int as pages, (pending->'counts'->>'extracted')::int as extracted, pending->>'runKey' as run_key
        from apisync.sync_state where source = 'reports' and stream = 'trial_balance'`;
    assert.deepEqual(state, { position: '3', pages: 2, extracted: 100, run_key: runId }, 'the cursor after the last committed page');
    const [live] = await db.sql<{ n: number }[]>`select count(*)::int as n from apisync.reports_trial_balance`;
    assert.equal(live?.n, 200, 'the live table is the last full, whole');
    const [shadow] = await db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from apisync."${shadowName('reports_trial_balance')}"`);
    assert.equal(shadow?.n, 100, 'the two committed pages wait in the shadow table');

    replica.clearRequests();
    const resumed = await sync('trial_balance', 'full', runId);
    assert.deepEqual(pagesAsked(), [['3', 200], ['4', 200], ['5', 200]], 'pages 1 and 2 are not asked again');
    assert.equal(resumed.resumed, true);
    assert.deepEqual([resumed.mode, resumed.counts.pages, resumed.counts.extracted, resumed.rowCount], ['full', 5, 230, 230]);
    await assertMirrors('trial_balance');
    const [after_] = await db.sql<{ pending: unknown }[]>`select pending from apisync.sync_state where source = 'reports' and stream = 'trial_balance'`;
    assert.equal(after_?.pending, null);

    // Another run (a new id) does not pick up a cursor that is not its own: it starts at page 1.
    replica.clearRequests();
    await sync('trial_balance');
    assert.equal(pagesAsked()[0]?.[0], '1');
  });

  test('a source that ignores the page number, or a page count that is not one, stops the stream with a clear error', async () => {
    replica.clearRequests();
    await assert.rejects(sync('trial_balance_misnamed'), (err: Error) => {
      assert.equal(err.name, 'ResponseShapeError');
      assert.match(err.message, /trial_balance_misnamed list: asked for page 2 \('pg'\), the source served 'current_page' 1/);
      return true;
    });
    assert.deepEqual(pagesAsked('pg'), [['1', 200], ['2', 200]], 'stopped at the first page served twice');
    await assert.rejects(sync('trial_balance_miscounted'), /trial_balance_miscounted list: 'page_count' is not a page count: undefined/);
  });
});
