/**
 * What keeps the idle worker small without losing anything: pipelines whose activities load on first use
 * (activities/engine/lazy.ts) register every activity they bind, the stack's workflow bundle is named by
 * its sources so a stale one never runs (scripts/stack/workflow-bundle.ts), and the idle collection runs
 * only when the worker is idle and has garbage (workers/idle-gc.ts).
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bindConsolidationActivities } from '../../activities/consolidation';
import { CONSOLIDATION_ACTIVITY_NAMES, LEADS_ACTIVITY_NAMES, createActivities } from '../../activities/index';
import { lazyActivities } from '../../activities/engine/lazy';
import { bindLeadsActivities } from '../../activities/leads';
import { loadLeadsConfig } from '../../schema/config';
import { projectRoot } from '../../scripts/stack/paths';
import { ensureWorkflowBundle, workflowBundlePath, workflowSourceHash } from '../../scripts/stack/workflow-bundle';
import { Worker } from 'node:worker_threads';
import { collectWhenIdle } from '../../workers/idle-gc';
import { collectThisThread, collectWorkerThreads } from '../../workers/thread-gc';

const sorted = (xs: readonly string[]) => [...xs].sort();

test('the lazily loaded pipelines register exactly the activities their modules bind', () => {
  const sql = {} as never;
  assert.deepEqual(sorted(CONSOLIDATION_ACTIVITY_NAMES), sorted(Object.keys(bindConsolidationActivities({ sql }))));
  const leads = bindLeadsActivities({ sql, db: {} as never, fetcher: {} as never, config: loadLeadsConfig({}), mx: {} as never });
  assert.deepEqual(sorted(LEADS_ACTIVITY_NAMES), sorted(Object.keys(leads)));
  const all = createActivities({ sql, db: {} as never, mongo: {} as never, leads: { fetcher: {} as never, config: loadLeadsConfig({}) } });
  for (const name of [...CONSOLIDATION_ACTIVITY_NAMES, ...LEADS_ACTIVITY_NAMES]) assert.equal(typeof all[name], 'function', name);
});

test('the consolidation pipeline loads its S3 reader (the S3 client, ExcelJS) only for an s3 source', () => {
  // This file imported the consolidation activities, every reader with them: the CommonJS packages they
  // loaded are in the loader's cache (ExcelJS alone brings ~150 more). The two are ~13 MB of heap in a
  // worker whose sources are all HTTP.
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  assert.ok(loaded.some((path) => path.includes('/node_modules/@temporalio/activity/')), 'the test sees the CommonJS packages the activities loaded');
  assert.deepEqual(loaded.filter((path) => /\/node_modules\/(exceljs|@aws-sdk\/client-s3)\//.test(path)), []);
});

test('a lazy pipeline loads on its first call, once, and a failed load is retried at the next call', async () => {
  let loads = 0;
  let failNext = true;
  const activities = lazyActivities('test', ['double', 'negate'], async () => {
    loads++;
    if (failNext) {
      failNext = false;
      throw new Error('module not found');
    }
    return { double: async (x: number) => x * 2, negate: async (x: number) => -x };
  });
  assert.equal(loads, 0, 'nothing is loaded at registration');
  await assert.rejects(activities.double(2), /module not found/);
  assert.equal(await activities.double(2), 4);
  assert.equal(await activities.negate(3), -3);
  assert.equal(loads, 2, 'loaded again after the failure, then once for both activities');
  assert.equal(activities.double.name, 'double');
});

test('a lazy pipeline whose module binds other activities than registered fails with both lists', async () => {
  type Registered = { double: (x: number) => Promise<number>; gone: (x: number) => Promise<number> };
  const activities = lazyActivities<Registered>('test', ['double', 'gone'], async () => ({ double: async (x: number) => x * 2, added: async (x: number) => x }) as never);
  await assert.rejects(activities.double(1), /the test activities registered at start differ.*not registered: added; not bound: gone/);
});

test('the workflow bundle is named by its sources: any change gives another name, nothing else does', async () => {
  const root = await mkdtemp(join(tmpdir(), 'moisson-bundle-hash-'));
  try {
    await cp(join(projectRoot, 'workflows'), join(root, 'workflows'), { recursive: true });
    await cp(join(projectRoot, 'package-lock.json'), join(root, 'package-lock.json'));
    const first = workflowSourceHash(root);
    assert.equal(workflowSourceHash(root), first, 'the same sources, the same name');
    const file = join(root, 'workflows', 'prices.ts');
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}\n// a comment changes the bundle\n`);
    const edited = workflowSourceHash(root);
    assert.notEqual(edited, first);
    await writeFile(file, text);
    assert.equal(workflowSourceHash(root), first, 'back to the same sources: the old bundle is right again');
    await writeFile(join(root, 'workflows', 'new.ts'), 'export {};\n');
    assert.notEqual(workflowSourceHash(root), first, 'a new file');
    await writeFile(join(root, 'package-lock.json'), '{}');
    assert.notEqual(workflowSourceHash(root), first, 'another SDK or webpack');
    assert.notEqual(workflowBundlePath(first), workflowBundlePath(edited));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the stack builds the bundle of the current sources once, whole, and reuses it', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'moisson-bundle-'));
  try {
    const lines: string[] = [];
    const path = await ensureWorkflowBundle((l) => lines.push(l), { dir });
    assert.equal(path, workflowBundlePath(workflowSourceHash(), dir));
    assert.equal(lines.length, 1, 'built once');
    const code = await readFile(path, 'utf8');
    assert.match(code, /pricesDaily/, 'the workflows are in it');
    assert.match(code, /run-metrics/, 'with the run-metrics interceptor module, as a bundle built at start');
    assert.equal(await ensureWorkflowBundle((l) => lines.push(l), { dir }), path);
    assert.equal(lines.length, 1, 'not built again');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the idle collection runs when nothing is in flight and garbage has grown, not otherwise', async () => {
  let heap = 100 * 2 ** 20;
  let inFlight = 1;
  let collections = 0;
  let threadCollections = 0;
  let letGo = 0;
  const reported: number[] = [];
  const worker = { getStatus: () => ({ numInFlightActivities: inFlight, numInFlightWorkflowActivations: 0 }) as never };
  const idle = collectWhenIdle(worker, {
    everyMs: 10,
    heapUsed: () => heap,
    released: () => {
      const n = letGo;
      letGo = 0;
      return n;
    },
    gc: () => {
      collections++;
      heap = 60 * 2 ** 20;
    },
    collectThreads: async () => {
      threadCollections++;
      return [{ thread: 'workflow', usedBefore: 50, usedAfter: 20 }];
    },
    onCollect: (_freed, threads) => reported.push(...threads.map((t) => t.usedBefore - t.usedAfter)),
  });
  const tick = () => new Promise((r) => setTimeout(r, 40));
  try {
    await tick();
    assert.equal(collections, 0, 'busy: no collection');
    inFlight = 0;
    await tick();
    assert.equal(collections, 1, 'idle after start-up: one collection');
    await tick();
    assert.equal(collections, 1, 'idle without new garbage: none');
    heap += 10 * 2 ** 20;
    await tick();
    assert.equal(collections, 2, 'idle after work: one more');
    assert.equal(threadCollections, 2, 'the worker threads with each collection');
    assert.deepEqual(reported, [30, 30]);
    letGo = 1;
    await tick();
    assert.equal(collections, 3, 'a library let go when quiet: garbage without heap growth, one more');
    await tick();
    assert.equal(collections, 3);
  } finally {
    idle.stop();
  }
  const none = collectWhenIdle(worker, { gc: undefined, everyMs: 10 });
  none.stop();
});

test('the idle collection of the main thread gives back the heap pages a burst of work left empty', async () => {
  // A burst: ~150 MB of small objects, one in eight still referenced after it (as caches and pools keep a
  // few), the others garbage spread over every page the heap grew to.
  let burst: { i: number; j: number }[][] = [];
  for (let i = 0; i < 100; i++) burst.push(Array.from({ length: 40_000 }, (_, j) => ({ i, j })));
  burst = burst.map((objects) => objects.filter((_, j) => j % 8 === 0));
  const grown = process.memoryUsage().heapTotal;
  await collectThisThread();
  const { heapTotal } = process.memoryUsage();
  assert.equal(burst.length, 100);
  // gc() frees the same objects and keeps ~90% of the pages (measured: 98 → 88 MB); this compacts and releases them.
  assert.ok(heapTotal < grown / 2, `heap total ${Math.round(heapTotal / 2 ** 20)} MB of ${Math.round(grown / 2 ** 20)} MB after the burst`);
});

test('the worker threads are collected from the main thread: the garbage a thread left is freed', async () => {
  // ~100 MB of objects made then dropped: an idle thread allocates nothing more, so V8 never collects it itself.
  const thread = new Worker(
    `let garbage = []; for (let i = 0; i < 200; i++) garbage.push(Array.from({ length: 10000 }, (_, j) => ({ i, j })));
     garbage = null; require('node:worker_threads').parentPort.postMessage('made'); setInterval(() => {}, 60000);`,
    { eval: true },
  );
  try {
    await new Promise((made) => thread.once('message', made));
    const collected = await collectWorkerThreads();
    // An eval'd thread has no script URL: its title alone ('[worker N] ').
    const ours = collected.find((c) => c.thread === `[worker ${thread.threadId}] `);
    assert.ok(ours, `our thread among ${JSON.stringify(collected)}`);
    assert.ok(ours.usedBefore - ours.usedAfter > 40 * 2 ** 20, `freed ${ours.usedBefore - ours.usedAfter} bytes of ${ours.usedBefore}`);
  } finally {
    await thread.terminate();
  }
  const left = await collectWorkerThreads();
  assert.ok(!left.some((c) => c.thread.startsWith(`[worker ${thread.threadId}]`)), 'a stopped thread is not reached');
});
