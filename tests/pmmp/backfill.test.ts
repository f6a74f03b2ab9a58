/**
 * The backfill and the reparse from stored pages, on a real Temporal dev server against the portal
 * replica: a few months crawled a few at a time (the database equals the oracle), then the current
 * parsers run over the pages those months stored.
 * Run: node --import tsx --test --test-reporter=spec tests/pmmp/backfill.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PmmpBackfillProgress, PmmpBackfillResult } from '../../workflows/pmmp/backfill';
import type { PmmpReparseResult } from '../../workflows/pmmp/notices';
import { recordHistories } from '../support/histories';
import { startPmmpWorld, storedConsultations as stored, type PmmpWorld } from './worker';

let world: PmmpWorld;
const histories = new URL('./histories/', import.meta.url);
const key = (c: { orgAcronyme: string; refConsultation: string }) => `${c.orgAcronyme}/${c.refConsultation}`;
const storedConsultations = (from: string, to: string) => stored(world.db, from, to);

before(async () => {
  world = await startPmmpWorld('backfill');
});

after(async () => {
  await world?.close();
});

describe('pmmpBackfill', () => {
  it('crawls whole months a few at a time, continuing as new between them; the database equals the oracle', async () => {
    const workflowId = `pmmp-backfill-2026-05-2026-07-${randomBytes(2).toString('hex')}`;
    const handle = await world.temporal.client.workflow.start('pmmpBackfill', {
      taskQueue: world.taskQueue,
      workflowId,
      args: [{ from: '2026-05', to: '2026-07', concurrency: 2, documents: false, monthsPerRun: 2 }],
    });
    const r = (await handle.result()) as PmmpBackfillResult;
    assert.equal(r.status, 'success', JSON.stringify(r));
    assert.equal(r.months, 3);
    const want = world.replica.oracle.consultations({ publishedFrom: '2026-05-01', publishedTo: '2026-07-31' });
    assert.deepEqual(await storedConsultations('2026-05-01', '2026-07-31'), want.map(key).sort());
    assert.equal(r.counts.listed, want.length);
    const bdcWant = world.replica.oracle.bdcResults({ publishedFrom: '2026-05-01', publishedTo: '2026-07-31' });
    const [bdc] = await world.db.sql`select count(*)::int as n from pmmp.bdc_results where result_published_at >= '2026-05-01' and result_published_at < '2026-08-01'`;
    assert.equal(bdc?.['n'], bdcWant.length);

    // monthsPerRun 2 over 3 months: the history was continued as new at least once.
    const first = await world.temporal.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    const progress = await world.temporal.client.workflow.getHandle(workflowId).query<PmmpBackfillProgress>('pmmpProgress');
    assert.equal(progress.monthsDone, 3);
    assert.equal(progress.phase, 'done');
    await recordHistories(world.temporal.client, histories, 'run1', workflowId, handle.firstExecutionRunId);
    await recordHistories(world.temporal.client, histories, 'last-run', workflowId);
  });

  it('a range that ends before it starts is refused at the boundary, naming the field, before any request', async () => {
    const before = world.replica.stats().requests;
    await assert.rejects(
      world.temporal.client.workflow.execute('pmmpBackfill', {
        taskQueue: world.taskQueue,
        workflowId: `pmmp-backfill-bad-${randomBytes(2).toString('hex')}`,
        args: [{ from: '2026-07', to: '2026-05' }],
      }),
      (err: unknown) => {
        const cause = (err as Error).cause as { type?: string; nonRetryable?: boolean; message?: string } | undefined;
        assert.equal(cause?.type, 'InvalidInputError');
        assert.equal(cause?.nonRetryable, true);
        assert.match(String(cause?.message), /pmmpBackfill input refused: to: must not be before from/);
        return true;
      },
    );
    assert.equal(world.replica.stats().requests, before);
  });
});

describe('pmmpReparse from stored pages', () => {
  it('repairs consultations and /bdc/ rows from their proofs without a request to the portal; a second pass changes nothing', async () => {
    const snapshot = async () => ({
      consultations: await world.db.sql`select org_acronyme, ref_consultation, object, buyer, deadline::text, content_hash from pmmp.consultations order by 1, 2`,
      lots: await world.db.sql`select org_acronyme, ref_consultation, lot_number, object from pmmp.lots order by 1, 2, 3`,
      bdc: await world.db.sql`select bdc_id, winner, amount_ttc::text, outcome from pmmp.bdc_results order by 1`,
    });
    const before = await snapshot();
    // What a parser bug would have written: wrong values under the right keys.
    await world.db.sql`update pmmp.consultations set object = 'mal lu', content_hash = 'stale'
      where (org_acronyme, ref_consultation) in (select org_acronyme, ref_consultation from pmmp.consultations
        where published_on between '2026-06-01' and '2026-06-30' order by 1, 2 limit 10)`;
    await world.db.sql`update pmmp.bdc_results set winner = 'mal lu' where bdc_id in (select bdc_id from pmmp.bdc_results order by 1 limit 5)`;
    const requests = world.replica.stats().requests;
    const reparseId = (suffix: string) => `pmmp-reparse-${suffix}-${world.taskQueue}`;
    const reparse = (suffix: string) =>
      world.temporal.client.workflow.execute('pmmpReparse', {
        taskQueue: world.taskQueue,
        workflowId: reparseId(suffix),
        // One month of the three: the window is the reparse's own filter, and it keeps the test short.
        args: [{ scope: ['consultations', 'bdc'], parserVersion: 'unused', batchSize: 100, from: '2026-06-01', to: '2026-06-30' }],
      }) as Promise<PmmpReparseResult>;
    const first = await reparse('first');
    await recordHistories(world.temporal.client, histories, 'pages', reparseId('first'));
    const [june] = await world.db.sql<{ n: number }[]>`select count(*)::int as n from pmmp.consultations where published_on between '2026-06-01' and '2026-06-30'`;
    assert.equal(first.consultations.consultations, june!.n);
    assert.equal(first.consultations.updated, 10);
    assert.equal(first.consultations.rejected, 0);
    assert.equal(first.bdc.updated, 5);
    assert.equal(first.bdc.rejected, 0);
    assert.deepEqual(await snapshot(), before, 'the rows are back to what the pages say');
    assert.equal(world.replica.stats().requests, requests, 'no request to the portal');

    const second = await reparse('second');
    assert.deepEqual([second.consultations.updated, second.bdc.updated], [0, 0]);
    assert.deepEqual(await snapshot(), before);
  });
});
