/**
 * `moisson_queue_depth{queue}` and `moisson_queue_oldest_age_seconds{queue}`: the counts and the oldest
 * waits of work waiting in a real PostgreSQL (pmmp notice downloads, consolidation suggestions to review
 * and to apply), read at scrape time through the worker's metrics pipeline, and cached so that frequent
 * scrapes cost one query per queue per 15 s.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Resource } from '@opentelemetry/resources';
import { postgresQueueCounts, registerQueueDepthGauges, type QueueCounts } from '../../workers/queue-depth';
import { prometheusMeterProvider } from '../../workers/telemetry';
import { seriesValue } from '../support/metrics';
import { createTestDatabase, type TestDatabase } from '../support/services';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

function pipeline(counts: QueueCounts, now: () => number) {
  const { meterProvider, scrape } = prometheusMeterProvider(new Resource({}));
  registerQueueDepthGauges(meterProvider.getMeter('moisson'), counts, { now });
  return { scrape, shutdown: () => meterProvider.shutdown() };
}

test('queue depths are counted from PostgreSQL at scrape time', async () => {
  const notice = (id: string, kind: string, extra: { proof?: string; attempts?: number; hoursAgo?: number } = {}) =>
    db.sql`insert into pmmp.notices (org_acronyme, ref_consultation, id_avis, kind, url, proof_id, fetch_attempts, first_seen_at)
      values ('o1', 'R1', ${id}, ${kind}, ${`https://portal.example/avis/${id}`}, ${extra.proof ?? null}, ${extra.attempts ?? 0},
              now() - make_interval(hours => ${extra.hoursAgo ?? 0}))`;
  await notice('a1', 'extrait_pv', { hoursAgo: 30 });
  await notice('a2', 'resultat_definitif');
  await notice('a3', 'achevement', { attempts: 2 });
  await notice('d1', 'extrait_pv', { proof: 'proof-1', hoursAgo: 200 }); // downloaded
  await notice('g1', 'extrait_pv', { attempts: 3, hoursAgo: 300 }); // given up
  const [cohort] = await db.sql<{ id: string }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action)
    values ('source_test', 'run-1', 'SOURCE_AJOUT') returning id`;
  // [status, suggested hours ago, last changed (accepted) hours ago]
  const suggestions: [string, number, number][] = [
    ['REJETEE', 500, 400],
    ['AVALIDER', 72, 72],
    ['AVALIDER', 10, 10],
    ['AVALIDER', 5, 5],
    ['AVALIDER', 1, 1],
    ['ATRAITER', 100, 2],
    ['ATRAITER', 3, 1],
    ['SUCCES', 300, 200],
  ];
  for (const [i, [statut, created, updated]] of suggestions.entries()) {
    await db.sql`insert into consolidation.suggestions (cohorte_id, cle, statut, changes, created_at, updated_at)
      values (${cohort!.id}, ${`k${i}`}, ${statut}, '[]'::jsonb, now() - make_interval(hours => ${created}), now() - make_interval(hours => ${updated}))`;
  }

  const metrics = pipeline(postgresQueueCounts(db.sql), Date.now);
  try {
    const text = await metrics.scrape();
    assert.match(text, /# TYPE moisson_queue_depth gauge/);
    assert.equal(seriesValue(text, 'moisson_queue_depth', { queue: 'pmmp_notice_downloads' }), 3, text);
    assert.equal(seriesValue(text, 'moisson_queue_depth', { queue: 'consolidation_review' }), 4, text);
    assert.equal(seriesValue(text, 'moisson_queue_depth', { queue: 'consolidation_apply' }), 2, text);
    // The oldest wait of each queue, in hours: items done, given up or rejected do not count.
    const hours = (queue: string) => Math.round(seriesValue(text, 'moisson_queue_oldest_age_seconds', { queue }) / 3600);
    assert.match(text, /# TYPE moisson_queue_oldest_age_seconds gauge/);
    assert.equal(hours('pmmp_notice_downloads'), 30, text);
    assert.equal(hours('consolidation_review'), 72, 'since suggested');
    assert.equal(hours('consolidation_apply'), 2, 'since accepted, not since suggested');
    await db.sql`delete from consolidation.suggestions where statut = 'ATRAITER'`;
  } finally {
    await metrics.shutdown();
  }
  // An empty queue has waited for nothing.
  const emptied = pipeline(postgresQueueCounts(db.sql), Date.now);
  try {
    const text = await emptied.scrape();
    assert.equal(seriesValue(text, 'moisson_queue_depth', { queue: 'consolidation_apply' }), 0, text);
    assert.match(text, /^moisson_queue_oldest_age_seconds\{[^}]*queue="consolidation_apply"[^}]*\} 0$/m, text);
  } finally {
    await emptied.shutdown();
  }
});

test('a scrape costs at most one query per queue per 15 s; a failing count leaves its series out', async () => {
  let clock = 1_000_000;
  const queries = { steady: 0, failing: 0 };
  let depth = 7;
  const metrics = pipeline(
    {
      steady: async () => {
        queries.steady++;
        return { depth };
      },
      failing: async () => {
        queries.failing++;
        throw new Error('database away');
      },
    },
    () => clock,
  );
  try {
    const [a, b] = await Promise.all([metrics.scrape(), metrics.scrape()]);
    assert.equal(seriesValue(a, 'moisson_queue_depth', { queue: 'steady' }), 7);
    assert.equal(seriesValue(b, 'moisson_queue_depth', { queue: 'steady' }), 7);
    assert.ok(!a.includes('queue="failing"'), 'no stale or made-up value for a count that failed');
    assert.ok(!a.includes('moisson_queue_oldest_age_seconds{'), 'no age for a queue that does not know it');
    depth = 9;
    clock += 14_000;
    assert.equal(seriesValue(await metrics.scrape(), 'moisson_queue_depth', { queue: 'steady' }), 7, 'still the cached count');
    assert.equal(queries.steady, 1, 'concurrent and repeated scrapes within 15 s share one query');
    clock += 2_000;
    assert.equal(seriesValue(await metrics.scrape(), 'moisson_queue_depth', { queue: 'steady' }), 9, 'counted again after 15 s');
    assert.equal(queries.steady, 2);
  } finally {
    await metrics.shutdown();
  }
});
