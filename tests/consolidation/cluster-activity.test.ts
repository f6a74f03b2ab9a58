/**
 * The clustering activity: the run happens in a worker thread while the activity heartbeats, the
 * cohort written holds what the in-process run finds, and a bad config fails at once, non-retryably,
 * before anything is read. The database side is the `ClusterStore` the lead binds to the ingest
 * tables; here a store over arrays records what the activity asks of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { clusterActeurs } from '../../activities/consolidation/cluster';
import { bindActivities } from '../../activities/engine/bind';
import { clusterInWorker, consolidationClusterActivities, type ClusterActivityResult, type ClusterStore } from '../../activities/consolidation/cluster/activity';
import { generateActeurs } from '../../scripts/bench/consolidation-acteurs';

const config = { selection: { acteurTypes: { value: ['artisan', 'commerce', 'ess', 'pav_public', 'collectivite', 'decheterie', 'ets_sante', 'pav_prive'] } } };
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

test('the worker thread finds what the in-process run finds', async () => {
  const { candidates, children } = generateActeurs(3_000, 7);
  const inProcess = clusterActeurs(candidates, children, config);
  assert.ok(inProcess.suggestions.length > 50);
  let ticks = 0;
  const inWorker = await clusterInWorker(candidates, children, config, () => ticks++, 1);
  assert.deepEqual(inWorker, inProcess);
  assert.ok(ticks > 0, "the caller is called back while the thread works");
});

test('the activity loads, clusters while heartbeating, writes one cohort', async () => {
  const { candidates, children } = generateActeurs(10_000, 11);
  const written: Parameters<ClusterStore['writeClusterCohort']>[0][] = [];
  const store: ClusterStore = {
    async loadCandidates() {
      return { candidates, children };
    },
    async writeClusterCohort(cohort) {
      written.push(cohort);
      return { cohortId: `cohort-${cohort.runId}` };
    },
  };
  const env = new MockActivityEnvironment({}, { logger: quiet });
  const beats: { phase: string }[] = [];
  env.on('heartbeat', (b: { phase: string } | undefined) => {
    if (b) beats.push(b);
  });
  const { consolidationClusterRun } = bindActivities({ store }, consolidationClusterActivities);
  const result: ClusterActivityResult = await env.run(consolidationClusterRun, { runId: 'r1', config });
  assert.equal(written.length, 1);
  assert.equal(result.cohortId, 'cohort-r1');
  assert.equal(result.suggestions, written[0]!.suggestions.length);
  assert.equal(result.candidates, candidates.length);
  assert.deepEqual(written[0]!.suggestions, clusterActeurs(candidates, children, config).suggestions);
  assert.deepEqual([...new Set(beats.map((b) => b.phase))], ['load', 'cluster', 'write']);
});

test('a bad config is refused before any read, non-retryably, with the field named', async () => {
  let reads = 0;
  const store: ClusterStore = {
    async loadCandidates() {
      reads++;
      return { candidates: [], children: [] };
    },
    async writeClusterCohort() {
      throw new Error('must not write');
    },
  };
  const env = new MockActivityEnvironment({}, { logger: quiet });
  const { consolidationClusterRun } = bindActivities({ store }, consolidationClusterActivities);
  await assert.rejects(env.run(consolidationClusterRun, { runId: 'r2', config: { selection: { acteurTypes: { value: [] } } } }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'ClusterConfigError');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /selection\.acteurTypes\.value/);
    return true;
  });
  assert.equal(reads, 0);
});
