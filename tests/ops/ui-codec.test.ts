/**
 * The Temporal Web UI and the API's codec endpoint, in Debian's headless Chromium: a run started with
 * payload keys stores its input encrypted; the UI of a dev server started with `--ui-codec-endpoint`
 * pointing at the API shows the operator the decoded input; the UI of a dev server without it shows the
 * ciphertext only. The run needs no worker: its input is in the history from the start.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser } from 'playwright';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import { createApiRuntime, type ApiRuntime } from '../../api/runtime';
import { ENCRYPTED_ENCODING, temporalDataConverter } from '../../control/payload-codec';
import { loadCoreConfig, type PayloadKey } from '../../schema/config';
import { uiCodecArgs } from '../../scripts/stack/services';
import { connectTemporal, freePort, installQuietRuntime, spawnTemporalServer, type TemporalServerProcess } from '../support/services';

const key: PayloadKey = { id: 'ui-test', key: randomBytes(32) };
// Recognisable in the page, and nowhere in the ciphertext.
const SECRET = `Boulangerie Ould Ahmed ${randomBytes(4).toString('hex')}`;
const WORKFLOW_ID = 'ui-codec-run';

interface UiServer {
  server: TemporalServerProcess;
  env: TestWorkflowEnvironment;
  uiUrl: string;
}

/** A dev server of this file's own with its Web UI (the shared helper starts them headless). */
async function startWithUi(uiPort: number, extra: string[]): Promise<UiServer> {
  const port = await freePort();
  const server = spawnTemporalServer(port, ['--headless=false', '--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), '--ui-disable-news-fetch', ...extra]);
  try {
    return { server, env: await connectTemporal(`127.0.0.1:${port}`, server), uiUrl: `http://127.0.0.1:${uiPort}` };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** Starts the run with the key; returns its input as the server stores it (base64 ciphertext). */
async function startEncryptedRun(ui: UiServer): Promise<string> {
  const client = new Client({ connection: ui.env.connection, namespace: 'default', dataConverter: temporalDataConverter({ keys: [key], uiOrigins: [], token: undefined }) });
  // No worker polls this queue: the run stays open with its input in the history.
  await client.workflow.start('leadsWhois', { taskQueue: 'ui-codec-nobody', workflowId: WORKFLOW_ID, args: [{ domain: SECRET }] });
  const history = await ui.env.client.workflow.getHandle(WORKFLOW_ID).fetchHistory();
  const [input] = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING);
  assert.ok(!Buffer.from(input!.data!).toString('latin1').includes(SECRET), 'the server stores no plaintext input');
  return Buffer.from(input!.data!).toString('base64');
}

let codecApp: ZodApp;
let runtime: ApiRuntime;
let withCodec: UiServer;
let withoutCodec: UiServer;
let browser: Browser;
let storedWithout: string;

before(async () => {
  installQuietRuntime();
  // The UI port is chosen before its server: the API must know the origin its page calls from.
  const [codecPort, uiPort] = [await freePort(), await freePort()];
  // The UI's page calls the codec endpoint from its own origin: CORS must allow exactly that origin.
  const keyed = { ...process.env, MOISSON_PAYLOAD_KEYS: `${key.id}:${key.key.toString('base64')}`, MOISSON_CODEC_ORIGINS: `http://127.0.0.1:${uiPort}` };
  runtime = createApiRuntime(keyed);
  codecApp = await buildApp(runtime.ctx, { logger: false });
  await codecApp.listen({ host: '127.0.0.1', port: codecPort });
  // The flags `stack:up` gives its Temporal, with keys and without.
  const unkeyed = { ...process.env, MOISSON_PAYLOAD_KEYS: '' };
  assert.deepEqual(uiCodecArgs(unkeyed, codecPort), []);
  withCodec = await startWithUi(uiPort, uiCodecArgs(keyed, codecPort));
  withoutCodec = await startWithUi(await freePort(), uiCodecArgs(unkeyed, codecPort));
  await startEncryptedRun(withCodec);
  storedWithout = await startEncryptedRun(withoutCodec);
  browser = await chromium.launch({ executablePath: loadCoreConfig().browser.chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'] });
});

after(async () => {
  await browser?.close();
  for (const ui of [withCodec, withoutCodec]) {
    await ui?.env.teardown().catch(() => undefined);
    await ui?.server.stop();
  }
  await codecApp?.close();
  await runtime?.close();
});

/** The text of the run's page in the Web UI once it shows the run's input (decoded or not). */
async function runPageText(ui: UiServer, expect: string): Promise<{ text: string; codecCalls: number }> {
  const page = await browser.newPage();
  let codecCalls = 0;
  page.on('request', (r) => void (r.url().includes('/codec/decode') && codecCalls++));
  try {
    // Not 'networkidle': the page keeps polling the run.
    await page.goto(`${ui.uiUrl}/namespaces/default/workflows/${WORKFLOW_ID}`);
    await page
      .getByText(expect)
      .first()
      .waitFor({ timeout: 30_000 })
      .catch(async (err: unknown) => {
        throw new Error(`${String(err)}\npage ${page.url()}:\n${(await page.locator('body').innerText()).slice(0, 3000)}`);
      });
    return { text: await page.locator('body').innerText(), codecCalls };
  } finally {
    await page.close();
  }
}

test('the UI with the codec endpoint shows the decoded input', async () => {
  const { text, codecCalls } = await runPageText(withCodec, SECRET);
  assert.ok(text.includes(SECRET));
  assert.ok(codecCalls > 0, 'the page asked the codec endpoint');
});

test('the UI without the codec endpoint shows the ciphertext, not the input', async () => {
  // The UI shows an undecodable payload as its bytes in base64: exactly what the server stores.
  const { text, codecCalls } = await runPageText(withoutCodec, storedWithout);
  assert.ok(text.includes(storedWithout), `the stored ciphertext is shown:\n${text.slice(0, 3000)}`);
  assert.ok(!text.includes(SECRET));
  assert.equal(codecCalls, 0);
});
