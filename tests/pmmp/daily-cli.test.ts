/**
 * `moisson pmmp daily --sync` and `moisson pmmp crawl --sync` as a user runs them: the real CLI as a
 * process, against a real Temporal server whose worker registers the pmmp activities as production
 * binds them, over the portal replica. The command exits 0 on a clean day and ends with the counts,
 * which are the database's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMoisson, type CliResult } from '../support/cli';
import { startPmmpWorld, storedConsultations, type PmmpWorld } from './worker';

let world: PmmpWorld;

before(async () => {
  world = await startPmmpWorld('cli');
});
after(async () => {
  await world?.close();
});

function moisson(args: string[]): Promise<CliResult> {
  const env = { TEMPORAL_ADDRESS: world.temporal.address, MOISSON_TASK_QUEUE: world.taskQueue };
  return runMoisson(args, env, 600_000);
}

const key = (c: { orgAcronyme: string; refConsultation: string }) => `${c.orgAcronyme}/${c.refConsultation}`;

describe('moisson pmmp … --sync', () => {
  test('daily --day D --sync extracts the day, exits 0 and prints the summary with the counts', async () => {
    const DAY = '2026-09-16';
    const FROM = '2026-09-15';
    const want = world.replica.oracle.consultations({ publishedFrom: FROM, publishedTo: DAY });
    assert.ok(want.length > 10, `${want.length} consultations in the replica's window`);

    const res = await moisson(['pmmp', 'daily', '--day', DAY, '--max-documents', '3', '--sync']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, new RegExp(`^started pmmp-daily-${DAY}$`, 'm'));
    for (const stream of ['consultations', 'notices-pv', 'notices-resultats', 'notices-achevements', 'bdc', 'documents']) {
      assert.match(res.stdout, new RegExp(`^ {2}${stream} +success$`, 'm'), res.stdout);
    }
    assert.match(res.stdout, new RegExp(`^ {2}consultations ${DAY}: ${want.length} listed, ${want.length} new, 0 changed, 0 unchanged`, 'm'), res.stdout);
    assert.match(res.stdout, new RegExp(`^${DAY}: success; \\d+ notice documents still queued; rejected \\{\\}$`, 'm'), res.stdout);
    // The closing line, as a crawler prints its stats: elapsed time and the run's counts.
    const summary = new RegExp(`^finished pmmp-daily-${DAY} in \\d+ s: (.*)$`, 'm').exec(res.stdout);
    assert.ok(summary, res.stdout);
    assert.match(summary[1]!, /\blisted \d+/);
    assert.match(summary[1]!, /\binserted \d+/);

    // What the command printed is what the database holds.
    assert.deepEqual(await storedConsultations(world.db, FROM, DAY), want.map(key).sort());
  });

  test('crawl --from --to --sync prints the window counts and exits 0', async () => {
    const FROM = '2026-10-05';
    const TO = '2026-10-06';
    const want = world.replica.oracle.consultations({ publishedFrom: FROM, publishedTo: TO });
    assert.ok(want.length > 0, `${want.length} consultations in the replica's window`);

    const res = await moisson(['pmmp', 'crawl', '--from', FROM, '--to', TO, '--page-size', '10', '--sync']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, new RegExp(`^finished pmmp-consultations-${FROM}-${TO} in \\d+ s: .*listed ${want.length}\\b`, 'm'), res.stdout);
    assert.match(res.stdout, new RegExp(`^${want.length} consultations listed on \\d+ pages: ${want.length} new, 0 changed, 0 unchanged, 0 rejected$`, 'm'), res.stdout);
    assert.deepEqual(await storedConsultations(world.db, FROM, TO), want.map(key).sort());
  });
});
