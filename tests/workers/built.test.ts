/**
 * The worker built ahead (scripts/build-worker.ts), as the local stack and the image run it: plain `node`
 * on the built entry, no tsx. The process is started as the stack starts it (workerNodeArgs, WORKER_ENV,
 * the workflow bundle) against this test's Temporal, PostgreSQL and replicas, and runs work that loads
 * every file the build must find at run time:
 * - the SDK's failure converter, `require()`d by path at start when payload keys are set;
 * - the migrations (drizzle/), read at start from their source folder to check the database;
 * - pmmp's parse thread (a pmmpDaily crawl on the portal replica);
 * - consolidation's built-in source declarations, read from their source folder (an ingest on the replica);
 * - the clustering thread (a consolidationCluster dry run).
 * A wrong path in the build fails the worker's start or these runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { defaultParseThreads } from '../../activities/pmmp/parse-pool';
import { temporalDataConverter } from '../../control/payload-codec';
import { loadPayloadCodecConfig } from '../../schema/config';
import { WORKER_BUILD_ENTRIES } from '../../scripts/build-worker';
import { projectRoot } from '../../scripts/stack/paths';
import { WORKER_ENV, workerNodeArgs } from '../../scripts/stack/services';
import { ensureWorkerBuild, workerBuildEntry, workerSourceHash } from '../../scripts/stack/worker-build';
import { ensureWorkflowBundle } from '../../scripts/stack/workflow-bundle';
import type { ConsolidationClusterResult } from '../../workflows/consolidation';
import type { PmmpDailyResult } from '../../workflows/pmmp/daily';
import { countRows } from '../pmmp/worker-process';
import { startConsolidationReplica, type ConsolidationReplica } from '../replicas/consolidation';
import { startPortalReplica, type PortalReplica } from '../replicas/pmmp/index';
import { createTestArchive, createTestDatabase, freePortPair, startTemporal, type TestArchive, type TestDatabase } from '../support/services';

test('the stack builds the worker of the current sources once and reuses it; the build needs no tsx and carries no source maps', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const entry = await ensureWorkerBuild((l) => lines.push(l));
  assert.equal(entry, workerBuildEntry(workerSourceHash()));
  assert.ok(lines.length <= 1, 'built at most once');
  assert.equal(await ensureWorkerBuild((l) => lines.push(l)), entry);
  assert.ok(lines.length <= 1, 'not built again');
  for (const name of Object.keys(WORKER_BUILD_ENTRIES)) assert.ok(existsSync(join(dirname(entry), `${name}.js`)), `${name}.js is built`);
  const main = readFileSync(entry, 'utf8');
  assert.doesNotMatch(main, /from "tsx|import\("tsx/, 'the built worker never loads tsx');
  assert.doesNotMatch(main, /sourceMappingURL/);
  assert.match(main, /from "@temporalio\/worker"/, 'packages stay external, resolved from node_modules');
});

describe('the built worker process', () => {
  let temporal: TestWorkflowEnvironment;
  let db: TestDatabase;
  let archive: TestArchive;
  let portal: PortalReplica;
  let sources: ConsolidationReplica;
  let dir: string;
  let worker: ChildProcess;
  let log = '';
  /** Rejects when the worker process exits (handled: only the runs racing it report it). */
  let died: Promise<never>;
  let client: Client;
  const taskQueue = `built-worker-${randomBytes(3).toString('hex')}`;
  const keys = `built-test:${randomBytes(32).toString('base64')}`;

  /**
   * Rejects when the worker process exits, or when the run takes far longer than it does (~15 s at most):
   * a missing thread script fails activity attempts that Temporal retries without end. Either way with the worker's log.
   */
  const alive = <T>(run: Promise<T>, seconds = 150): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      run,
      died,
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`not done after ${seconds} s; the built worker's log:\n${log.slice(-4000)}`)), seconds * 1000);
      }),
    ]).finally(() => clearTimeout(timer));
  };

  before(async () => {
    [temporal, db, archive, portal, sources, dir] = await Promise.all([
      startTemporal(),
      createTestDatabase(),
      createTestArchive(),
      startPortalReplica({ seed: 5, today: '2026-11-20', consultations: 2_000, bdcResults: 50 }),
      startConsolidationReplica({ worldSize: 100 }),
      mkdtemp(join(tmpdir(), 'moisson-built-worker-')),
    ]);
    const [entry, bundle] = await Promise.all([ensureWorkerBuild(() => {}), ensureWorkflowBundle(() => {})]);
    worker = spawn(process.execPath, workerNodeArgs(entry), {
      cwd: projectRoot,
      env: {
        ...process.env,
        ...WORKER_ENV,
        MOISSON_WORKFLOW_BUNDLE: bundle,
        DATABASE_URL: db.url,
        MONGO_URL: archive.url,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
        MOISSON_TASK_QUEUE: taskQueue,
        METRICS_PORT: String(await freePortPair()),
        MOISSON_PAYLOAD_KEYS: keys,
        PMMP_PORTAL_URL: `${portal.url}/index.php`,
        CONSOLIDATION_ENDPOINT_REWRITES: sources.rewrites,
        FETCH_POLITENESS: 'off',
        FETCH_ROBOTS: 'ignore',
        PROOF_STORE_DIR: join(dir, 'proofs'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    died = once(worker, 'exit').then(([code]) => Promise.reject(new Error(`the built worker exited (${String(code)}):\n${log.slice(-4000)}`)));
    died.catch(() => {});
    worker.stdout!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-50_000)));
    worker.stderr!.setEncoding('utf8').on('data', (c: string) => (log = (log + c).slice(-50_000)));
    client = new Client({ connection: temporal.connection, namespace: temporal.namespace ?? 'default', dataConverter: temporalDataConverter(loadPayloadCodecConfig({ MOISSON_PAYLOAD_KEYS: keys })) });
  });

  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = once(worker, 'exit');
      worker.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    }
    await Promise.allSettled([temporal?.teardown(), db?.drop(), archive?.drop(), portal?.close(), sources?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('starts on plain node with payload keys (the failure converter is loaded by path) and polls', { timeout: 120_000 }, async () => {
    await alive(
      new Promise<void>((polling) => {
        const check = setInterval(() => {
          if (log.includes(`polling task queue '${taskQueue}'`)) {
            clearInterval(check);
            polling();
          }
        }, 100);
      }),
    );
    assert.match(log, /payloads encrypted with key 'built-test'/);
    // The migrations are read from drizzle/ by a path relative to scripts/db/migrate.ts: a wrong one only warns.
    assert.doesNotMatch(log, /could not check the database's migrations/);
    const cmdline = readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(!cmdline.includes('tsx'), `no tsx: ${cmdline.join(' ')}`);
  });

  test('a pmmp daily crawl parses its pages in a parse thread and stores them', { timeout: 300_000 }, async () => {
    assert.ok(defaultParseThreads() > 0, 'one core: pages would be parsed inline and the parse thread not exercised');
    const result = (await alive(
      client.workflow.execute('pmmpDaily', { taskQueue, workflowId: `${taskQueue}-pmmp`, args: [{ day: '2026-11-19', overlapDays: 31, bdcDays: 7 }] }),
    )) as PmmpDailyResult;
    assert.equal(result.status, 'success', JSON.stringify(result));
    const stored = await countRows(db, 'pmmp.consultations');
    // The window's consultations, and those its notices and results name.
    assert.ok((result.consultations?.inserted ?? 0) > 0 && stored >= result.consultations!.inserted, `consultations stored: ${stored}, ${JSON.stringify(result.consultations)}`);
  });

  test('a consolidation ingest reads its built-in declaration, and a clustering runs in its thread', { timeout: 300_000 }, async () => {
    const ingested = (await alive(
      client.workflow.execute('consolidationIngest', { taskQueue, workflowId: `${taskQueue}-ingest`, args: [{ source: 'refashion' }] }),
    )) as { rows: number; acteurs: number };
    assert.ok(ingested.rows > 0 && ingested.acteurs > 0, JSON.stringify(ingested));
    const [suggested] = await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.suggestions`;
    assert.equal(suggested!.n, ingested.acteurs, 'one suggestion per actor stored');

    // Two sources describing one shop: one cluster (a dry run computes it in the thread and writes nothing).
    for (const [id, source, nom] of [
      ['refashion_1', 'refashion', 'Emmaüs Boutique Paris 11'],
      ['ecosystem_1', 'ecosystem', 'EMMAUS boutique Paris-11'],
    ] as const) {
      await db.sql`insert into consolidation.acteurs (identifiant_unique, source_code, identifiant_externe, nom, adresse, code_postal, ville, latitude, longitude, acteur_type_code, statut)
        values (${id}, ${source}, '1', ${nom}, '12 rue Oberkampf', '75011', 'Paris', 48.8649, 2.3739, 'ess', 'ACTIF')`;
    }
    const clustered = (await alive(
      client.workflow.execute('consolidationCluster', {
        taskQueue,
        workflowId: `${taskQueue}-cluster`,
        args: [{ label: 'built', config: { selection: { acteurTypes: { value: ['ess'] } } }, dryRun: true }],
      }),
    )) as ConsolidationClusterResult;
    assert.equal(clustered.candidates, 2, JSON.stringify(clustered));
    assert.equal(clustered.suggestions, 1, JSON.stringify(clustered));
  });
});
