/**
 * The browser queue end to end: a workflow on the main queue calls a Playwright activity on the
 * browser queue, which renders a local page in Debian's Chromium. Its runs are browserProbe's
 * recorded histories (tests/engine/histories/, RECORD_HISTORIES=1).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { BrowserPool } from '../../activities/engine/browser';
import { loadCoreConfig } from '../../schema/config';
import { browserProbe } from '../../workflows/engine';
import { createBrowserWorker, createMoissonWorker } from '../../workers/create';
import { recordHistories } from '../support/histories';
import { startTemporal, workflowBundle } from '../support/services';

/** `RECORD_HISTORIES=1` records the probe's histories there for tests/engine/replay.test.ts (on purpose only). */
const historiesDir = new URL('./histories/', import.meta.url);

let temporal: TestWorkflowEnvironment;
let server: Server;
let pageUrl: string;
const pool = new BrowserPool(loadCoreConfig().browser.chromiumPath);

before(async () => {
  temporal = await startTemporal();
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    // The title is written by script: only a real browser sees it.
    res.end('<html><head><title>static</title></head><body><a href="/a">a</a><a href="/b">b</a><script>document.title = "rendered by " + navigator.userAgent.split(" ")[0]</script></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});

after(async () => {
  server?.close();
  await pool.close();
  await temporal?.teardown();
});

async function withWorkers<T>(fn: () => Promise<T>): Promise<T> {
  const main = await createMoissonWorker({
    connection: temporal.nativeConnection,
    namespace: 'default',
    taskQueue: 'browser-test-main',
    // This test runs no pipeline activity: they get no connections.
    deps: {} as never,
    workflowBundle: await workflowBundle(),
  });
  const browser = await createBrowserWorker({ connection: temporal.nativeConnection, namespace: 'default', taskQueue: 'browser-test-browser', pool, concurrency: 2 });
  return main.runUntil(browser.runUntil(fn));
}

test('a page is rendered by Chromium on the browser queue', async () => {
  const workflowId = `probe-${Date.now()}`;
  const result = await withWorkers(() =>
    temporal.client.workflow.execute(browserProbe, { taskQueue: 'browser-test-main', workflowId, args: [{ url: pageUrl, taskQueue: 'browser-test-browser' }] }),
  );
  await recordHistories(temporal.client, historiesDir, 'page', workflowId, undefined, { children: false });
  assert.equal(result.status, 200);
  assert.equal(result.title, 'rendered by moisson/0.1', 'the script ran and saw our identifiable User-Agent');
  assert.equal(result.links, 2);
  assert.equal(result.finalUrl, pageUrl);
});

test('a URL the browser must not open is refused at once, without retries', async () => {
  const workflowId = `probe-bad-${Date.now()}`;
  await assert.rejects(
    withWorkers(() =>
      temporal.client.workflow.execute(browserProbe, { taskQueue: 'browser-test-main', workflowId, args: [{ url: 'file:///etc/passwd', taskQueue: 'browser-test-browser' }] }),
    ),
    (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const messages: string[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
      assert.match(messages.join(' | '), /only http\(s\) pages can be probed, not file:/);
      return true;
    },
  );
  await recordHistories(temporal.client, historiesDir, 'refused', workflowId, undefined, { children: false });
});
