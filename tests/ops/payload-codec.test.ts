/**
 * The payload codec on the real Temporal dev server: what a run carries (here a domain's RDAP record,
 * contact data of the leads pipeline) is stored encrypted, readable with the key, unreadable without;
 * keys rotate by id; the real worker processes (`workers/main.ts`, `workers/browser.ts`) encrypt when
 * given keys, failure messages included; the codec endpoint of the API serves the Web UI's origin and
 * the `temporal` CLI with its token, and nobody else.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import { createApiRuntime, type ApiRuntime } from '../../api/runtime';
import {
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  NoPayloadKeyError,
  PayloadEncryptionCodec,
  PayloadKeyLengthError,
  TamperedPayloadError,
  temporalDataConverter,
  UnknownPayloadKeyError,
} from '../../control/payload-codec';
import { ConfigError, loadPayloadCodecConfig, redactConfig, type PayloadKey } from '../../schema/config';
import type { LeadsWhoisResult } from '../../workflows/leads';
import { freePortPair } from '../support/services';
import { createLeadsWorld, type LeadsWorld } from '../leads/harness';
import { seriesValue } from '../support/metrics';
import { temporalCliPath } from '../support/services';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const newKey = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const keysEnv = (...keys: PayloadKey[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
const json = (v: unknown): Payload => ({ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(JSON.stringify(v)) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

/**
 * Every payload of a raw history (objects with `data` bytes and a `metadata` map), but two kinds no codec
 * ever sees, both made of names only: search attributes, which the server indexes (the run labels:
 * pipeline, period, source, job id; a run started without them sets them on its first step,
 * workflows/run-start.ts), and the SDK's patch markers (the patch's name, written by the SDK's core).
 */
function payloadsOf(v: unknown, out: Payload[] = []): Payload[] {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return out;
  const o = v as Record<string, unknown>;
  if (o.markerName === PATCH_MARKER) return out;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') out.push(o as Payload);
  for (const [k, x] of Object.entries(o)) if (k !== 'searchAttributes') payloadsOf(x, out);
  return out;
}
const PATCH_MARKER = 'core_patch';

/** All the text a raw history holds: strings as they are, bytes read as UTF-8. */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return text(v);
  if (v === null || typeof v !== 'object') return '';
  return Object.values(v as Record<string, unknown>).map(textOf).join('\n');
}

let world: LeadsWorld;
const keyA = newKey('2026-a');
const keyB = newKey('2026-b');

before(async () => {
  world = await createLeadsWorld();
});
after(async () => {
  await world?.close();
});

function clientWith(...keys: PayloadKey[]): Client {
  return new Client({ connection: world.temporal.connection, namespace: world.temporal.namespace ?? 'default', dataConverter: temporalDataConverter({ keys, uiOrigins: [], token: undefined }) });
}

async function rawHistory(workflowId: string) {
  // The test server's own client has no codec: it reads what the server stores.
  return world.temporal.client.workflow.getHandle(workflowId).fetchHistory();
}

function whois(client: Client, workflowId: string, domain: string, taskQueue = world.taskQueue): Promise<LeadsWhoisResult> {
  return client.workflow.execute('leadsWhois', { taskQueue, workflowId, args: [{ domain }] }) as Promise<LeadsWhoisResult>;
}

describe('payload codec', () => {
  test('a payload round-trips; the key id is in its metadata; the ciphertext does not hold the plaintext', async () => {
    const codec = new PayloadEncryptionCodec([keyA]);
    const original = json({ name: 'Boulangerie Ould Ahmed', phone: '+22245251234' });
    const [encrypted] = await codec.encode([original]);
    assert.equal(text(encrypted!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(encrypted!.metadata![KEY_ID_METADATA]), '2026-a');
    assert.ok(!text(encrypted!.data).includes('Boulangerie'));
    const [decoded] = await codec.decode([encrypted!]);
    assert.equal(text(decoded!.data), text(original.data));
    assert.equal(text(decoded!.metadata!.encoding), 'json/plain');
    // Two encryptions of one payload differ (a fresh IV each time).
    const [again] = await codec.encode([original]);
    assert.notDeepEqual(Buffer.from(again!.data!), Buffer.from(encrypted!.data!));
    // A plain payload (written before keys were configured) passes through.
    assert.deepEqual(await codec.decode([original]), [original]);
  });

  test('typed errors: bad key length, no key, unknown key id, tampered ciphertext or relabelled key id', async () => {
    assert.throws(() => new PayloadEncryptionCodec([{ id: 'short', key: randomBytes(16) }]), (e: unknown) => e instanceof PayloadKeyLengthError && e.keyId === 'short' && e.bytes === 16);
    assert.throws(() => new PayloadEncryptionCodec([]), NoPayloadKeyError);
    const [encrypted] = await new PayloadEncryptionCodec([keyA]).encode([json({ secret: 1 })]);
    await assert.rejects(new PayloadEncryptionCodec([keyB]).decode([encrypted!]), (e: unknown) => e instanceof UnknownPayloadKeyError && e.keyId === '2026-a' && e.known.join() === '2026-b');
    const flipped = Buffer.from(encrypted!.data!);
    flipped[20] = flipped[20]! ^ 1;
    const codec = new PayloadEncryptionCodec([keyA, keyB]);
    await assert.rejects(codec.decode([{ ...encrypted!, data: flipped }]), TamperedPayloadError);
    await assert.rejects(codec.decode([{ ...encrypted!, data: flipped.subarray(0, 10) }]), TamperedPayloadError);
    // Same key bytes under another id: the id is authenticated, so this fails too.
    const relabelled = new PayloadEncryptionCodec([keyB, { id: '2026-a2', key: keyA.key }]);
    await assert.rejects(relabelled.decode([{ ...encrypted!, metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('2026-a2') } }]), TamperedPayloadError);
  });

  test('configuration: keys come from MOISSON_PAYLOAD_KEYS, bad ones are named, none are printed', () => {
    const c = loadPayloadCodecConfig({ MOISSON_PAYLOAD_KEYS: keysEnv(keyB, keyA), TEMPORAL_UI_URL: 'http://ui.example:8233/some/path' });
    assert.deepEqual(c.keys.map((k) => k.id), ['2026-b', '2026-a']);
    assert.deepEqual(c.uiOrigins, ['http://ui.example:8233']);
    assert.equal(loadPayloadCodecConfig({}).keys.length, 0, 'no keys: no codec');
    assert.deepEqual(loadPayloadCodecConfig({}).uiOrigins, ['http://127.0.0.1:8233', 'http://localhost:8233'], 'a loopback UI by either name');
    const shown = JSON.stringify(redactConfig(c));
    assert.ok(!shown.includes(keyA.key.toString('base64')));
    assert.match(shown, /"key":"\*\*\*"/);
    assert.throws(
      () => loadPayloadCodecConfig({ MOISSON_PAYLOAD_KEYS: `ok:${keyA.key.toString('base64')},short:${randomBytes(16).toString('base64')},:abc`, MOISSON_CODEC_ORIGINS: 'http://x/path', MOISSON_CODEC_TOKEN: 'short' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(e.issues.map((i) => i.variable).sort(), ['MOISSON_CODEC_ORIGINS', 'MOISSON_CODEC_TOKEN', 'MOISSON_PAYLOAD_KEYS', 'MOISSON_PAYLOAD_KEYS']);
        assert.match(e.message, /key 'short' must be 32 bytes/);
        return true;
      },
    );
  });

  test('on Temporal: a run encrypted with one key is read after rotation; new runs use the new key; a client without the key cannot read', async () => {
    const [first, second] = world.replica.businesses.slice(0, 2).map((b) => b.domain);
    const before = await world.withWorker(() => whois(clientWith(keyA), 'codec-rotation-1', first!), { dataConverter: temporalDataConverter({ keys: [keyA], uiOrigins: [], token: undefined }) });
    assert.equal(before.domain, first);
    const ids1 = new Set(payloadsOf(await rawHistory('codec-rotation-1')).map((p) => text(p.metadata![KEY_ID_METADATA])));
    assert.deepEqual([...ids1], ['2026-a']);

    // Rotation: B first (encrypts), A still listed (decrypts the older histories).
    const rotated = clientWith(keyB, keyA);
    const after = await world.withWorker(() => whois(rotated, 'codec-rotation-2', second!), { dataConverter: temporalDataConverter({ keys: [keyB, keyA], uiOrigins: [], token: undefined }) });
    assert.equal(after.domain, second);
    const ids2 = new Set(payloadsOf(await rawHistory('codec-rotation-2')).map((p) => text(p.metadata![KEY_ID_METADATA])));
    assert.deepEqual([...ids2], ['2026-b']);
    assert.equal(((await rotated.workflow.getHandle('codec-rotation-1').result()) as LeadsWhoisResult).domain, first, 'the rotated client reads the run of the old key');
    await assert.rejects(clientWith(keyB).workflow.getHandle('codec-rotation-1').result(), (e: unknown) => e instanceof UnknownPayloadKeyError && e.keyId === '2026-a');
  });

  describe('the real worker processes with keys, against a control run without', () => {
    const workers: ChildProcess[] = [];
    let workerLog = '';
    let page: Server;
    let pageUrl = '';
    // Its own queues: the control run's keyless workers must not share work with them.
    const keyedQueue = () => `${world.taskQueue}-keyed`;
    const keyedBrowserQueue = () => `${world.taskQueue}-keyed-browser`;
    let browserMetricsPort = 0;
    const spawnWorker = async (entry: string) => {
      const worker = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: root,
        env: {
          ...process.env,
          ...world.env(),
          DATABASE_URL: world.db.url,
          TEMPORAL_ADDRESS: world.temporal.address,
          TEMPORAL_NAMESPACE: world.temporal.namespace ?? 'default',
          MOISSON_TASK_QUEUE: keyedQueue(),
          MOISSON_BROWSER_TASK_QUEUE: keyedBrowserQueue(),
          METRICS_PORT: String(await freePortPair()),
          BROWSER_METRICS_PORT: String(browserMetricsPort),
          MOISSON_PAYLOAD_KEYS: keysEnv(keyA),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      worker.stdout?.on('data', (d: Buffer) => void (workerLog = (workerLog + d.toString()).slice(-20_000)));
      worker.stderr?.on('data', (d: Buffer) => void (workerLog = (workerLog + d.toString()).slice(-20_000)));
      workers.push(worker);
    };
    /** Rejects when a worker process exits: a start-up crash fails the test at once, not by a timeout. */
    const workerExit = () =>
      Promise.race(
        workers.map((w) =>
          once(w, 'exit').then(([code]) => {
            throw new Error(`a worker process exited (${String(code)}):\n${workerLog}`);
          }),
        ),
      );
    before(async () => {
      browserMetricsPort = await freePortPair();
      await spawnWorker('workers/main.ts');
      await spawnWorker('workers/browser.ts');
      // A page only a browser reads fully: its title is written by script, and names a business.
      page = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<html><head><title>-</title></head><body><script>document.title = "Cabinet " + "Ould Ahmed"</script></body></html>');
      });
      await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
      pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/cabinet-ould-ahmed/`;
    });
    after(async () => {
      page?.close();
      for (const worker of workers) {
        if (worker.exitCode !== null || worker.signalCode !== null) continue;
        const exited = once(worker, 'exit');
        worker.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      }
    });

    // Registered domains (the replica answers 404 for its 'ancien-' ones): their RDAP record names the registrar.
    const registered = () => world.replica.businesses.filter((b) => !b.domain.startsWith('ancien-'));
    const secretDomain = () => registered()[3]!.domain;
    const controlDomain = () => registered()[4]!.domain;

    test('a run on the worker process: its raw history holds ciphertext only; the control run holds the plaintext', async () => {
      // The worker process must stay up: a start-up crash (as an ESM import of a CommonJS package once caused) fails here, not by a timeout.
      const result = await Promise.race([whois(clientWith(keyA), 'codec-secret', secretDomain(), keyedQueue()), workerExit()]);
      assert.equal(result.domain, secretDomain());
      assert.equal(result.registrar, 'OVH SAS');
      assert.match(workerLog, /payloads encrypted with key '2026-a'/);

      const secret = await rawHistory('codec-secret');
      const payloads = payloadsOf(secret);
      assert.ok(payloads.length >= 4, `input, activity input and result, workflow result: ${payloads.length} payloads`);
      assert.ok(payloads.every((p) => text(p.metadata!.encoding) === ENCRYPTED_ENCODING), 'every payload of the history is encrypted');
      const stored = textOf(secret);
      assert.ok(!stored.includes(secretDomain()), 'the domain is nowhere in the stored history');
      assert.ok(!stored.includes('OVH SAS'), "the activity's RDAP answer is nowhere in the stored history");

      // Control: the same workflow on a worker and client without keys stores the plaintext (so the check above can fail).
      const control = await world.withWorker(() => whois(world.temporal.client, 'codec-control', controlDomain()));
      assert.equal(control.domain, controlDomain());
      assert.equal(control.registrar, 'OVH SAS');
      const plain = textOf(await rawHistory('codec-control'));
      assert.ok(plain.includes(controlDomain()));
      assert.ok(plain.includes('OVH SAS'));
    });

    const eventsOf = async (workflowId: string) => (await rawHistory(workflowId)).events ?? [];
    const encryptedWithA = (p: Payload | null | undefined) => text(p?.metadata?.encoding) === ENCRYPTED_ENCODING && text(p?.metadata?.[KEY_ID_METADATA]) === '2026-a';

    test("the browser worker process: a browser activity's input and result are ciphertext in the history", async () => {
      const result = (await Promise.race([
        clientWith(keyA).workflow.execute('browserProbe', { taskQueue: keyedQueue(), workflowId: 'codec-browser', args: [{ url: pageUrl, taskQueue: keyedBrowserQueue() }] }),
        workerExit(),
      ])) as { title: string; finalUrl: string };
      assert.equal(result.title, 'Cabinet Ould Ahmed', 'Chromium ran the page, the keyed client reads the result');
      assert.match(workerLog, /polling task queue '.*-keyed-browser'/);

      const events = await eventsOf('codec-browser');
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
      const completed = events.find((e) => e.activityTaskCompletedEventAttributes)?.activityTaskCompletedEventAttributes;
      assert.equal(scheduled?.activityType?.name, 'probePage');
      assert.equal(scheduled?.taskQueue?.name, keyedBrowserQueue());
      // The browser worker decoded the input (else the activity fails) and encrypted its result with the key.
      assert.ok(scheduled?.input?.payloads?.every(encryptedWithA), 'the activity input is encrypted');
      assert.ok(completed?.result?.payloads?.length && completed.result.payloads.every(encryptedWithA), 'the activity result is encrypted by the browser worker');
      const stored = textOf(await rawHistory('codec-browser'));
      assert.ok(!stored.includes('cabinet-ould-ahmed') && !stored.includes('Ould Ahmed'), 'neither the URL nor the title is in the stored history');
    });

    const contactEmail = 'fatima.mint.ahmed@cabinet-nouakchott.mr';

    test("a failed activity: its message (a contact's email) is ciphertext in the history, the keyed client reads it; the control run holds it in clear", async () => {
      // A browser activity refuses a non-URL, echoing it in its (non-retryable) error: here, an email address.
      await assert.rejects(
        Promise.race([
          clientWith(keyA).workflow.execute('browserProbe', { taskQueue: keyedQueue(), workflowId: 'codec-failure', args: [{ url: contactEmail, taskQueue: keyedBrowserQueue() }] }),
          workerExit(),
        ]),
        (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError, String(err));
          const messages: string[] = [];
          for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
          assert.ok(messages.includes(`not a URL: ${contactEmail}`), messages.join(' | '));
          return true;
        },
      );
      const events = await eventsOf('codec-failure');
      const activityFailure = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
      const workflowFailure = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
      assert.ok(activityFailure && workflowFailure);
      // Both the activity's failure (written by the browser worker) and the workflow's (by the workflow bundle, the activity's as its cause).
      for (const f of [activityFailure, workflowFailure, workflowFailure.cause]) {
        assert.equal(f?.message, 'Encoded failure');
        assert.equal(f?.stackTrace, '');
        assert.ok(encryptedWithA(f?.encodedAttributes), 'message and stack trace are in an encrypted payload');
      }
      assert.ok(!textOf(await rawHistory('codec-failure')).includes(contactEmail), 'the email is nowhere in the stored history');
      // The browser worker counted the failed attempt, by pipeline (the probe belongs to none) and type.
      const scrape = await (await fetch(`http://127.0.0.1:${browserMetricsPort}/metrics`)).text();
      assert.equal(seriesValue(scrape, 'moisson_errors_total', { pipeline: 'none', type: 'InvalidInputError' }), 1, scrape);
      assert.match(scrape, /^process_resident_memory_bytes \d+/m, "the browser worker's process metrics");
      // The Temporal SDK's own, for the browser queue (its core's Prometheus endpoint, served within ours).
      assert.ok(
        scrape.split('\n').some((l) => l.startsWith('temporal_') && l.includes(`task_queue="${keyedBrowserQueue()}"`)),
        `no Temporal SDK metric of the browser queue in:\n${scrape.slice(-3000)}`,
      );

      // Control: keyless workers store the failure message in clear (so the check above can fail).
      await world.withWorker(
        () =>
          assert.rejects(
            world.temporal.client.workflow.execute('browserProbe', { taskQueue: world.taskQueue, workflowId: 'codec-failure-control', args: [{ url: contactEmail, taskQueue: world.browserTaskQueue }] }),
            WorkflowFailedError,
          ),
        { browser: true },
      );
      const control = (await eventsOf('codec-failure-control')).find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
      assert.equal(control?.message, `not a URL: ${contactEmail}`);
    });

    describe('the codec endpoint', () => {
      const UI = 'http://127.0.0.1:8233';
      const TOKEN = 'codec-token-0123456789abcdef';
      let runtime: ApiRuntime;
      let app: ZodApp;
      const env = () => ({ ...process.env, DATABASE_URL: world.db.url, MOISSON_PAYLOAD_KEYS: keysEnv(keyA), MOISSON_CODEC_ORIGINS: UI, MOISSON_CODEC_TOKEN: TOKEN });
      before(async () => {
        runtime = createApiRuntime(env());
        app = await buildApp(runtime.ctx, { logger: false });
      });
      after(async () => {
        await app?.close();
        await runtime?.close();
      });

      const storedPayloads = async (workflowId = 'codec-secret') =>
        payloadsOf(await rawHistory(workflowId)).map((p) => ({
          metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
          data: Buffer.from(p.data!).toString('base64'),
        }));

      test("the Web UI's origin: preflight allowed, decode answers with CORS headers and the plaintext", async () => {
        const pre = await app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
        assert.equal(pre.statusCode, 204, pre.body);
        assert.equal(pre.headers['access-control-allow-origin'], UI);
        assert.match(String(pre.headers['access-control-allow-headers']), /X-Namespace/);
        assert.match(String(pre.headers['access-control-allow-methods']), /POST/);

        const payloads = await storedPayloads();
        const res = await app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI, 'x-namespace': 'default' }, payload: { payloads } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['access-control-allow-origin'], UI);
        const decoded = (res.json() as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
        assert.equal(decoded.length, payloads.length);
        const plain = decoded.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
        assert.ok(plain.includes(secretDomain()));
        assert.ok(plain.includes('OVH SAS'));
        assert.ok(decoded.every((p) => Buffer.from(p.metadata.encoding!, 'base64').toString() === 'json/plain'));

        // encode then decode through the endpoint.
        const mine = { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello"').toString('base64') }] };
        const enc = await app.inject({ method: 'POST', url: '/codec/encode', headers: { origin: UI }, payload: mine });
        assert.equal(enc.statusCode, 200, enc.body);
        const encPayloads = (enc.json() as typeof mine).payloads;
        assert.equal(Buffer.from(encPayloads[0]!.metadata.encoding, 'base64').toString(), ENCRYPTED_ENCODING);
        const dec = await app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: enc.json() as object });
        assert.deepEqual(dec.json(), mine);

        // A tampered payload is refused with the reason, not a 500.
        const bad = Buffer.from(encPayloads[0]!.data, 'base64');
        bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
        const tampered = await app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI }, payload: { payloads: [{ ...encPayloads[0]!, data: bad.toString('base64') }] } });
        assert.equal(tampered.statusCode, 400);
        assert.match(tampered.body, /does not authenticate/);
      });

      test("a failure's message: ciphertext in the stored history, the contact's email in the decoded view", async () => {
        const stored = await storedPayloads('codec-failure');
        assert.ok(!stored.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n').includes(contactEmail));
        const res = await app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: UI, 'x-namespace': 'default' }, payload: { payloads: stored } });
        assert.equal(res.statusCode, 200, res.body);
        const decoded = (res.json() as { payloads: { data: string }[] }).payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8'));
        // The failure's encoded attributes, as the Web UI shows them once decoded.
        const attributes = decoded.map((d) => JSON.parse(d) as unknown).find((d): d is { message: string; stack_trace: string } => typeof d === 'object' && d !== null && 'stack_trace' in d);
        assert.equal(attributes?.message, `not a URL: ${contactEmail}`);
        // The stack trace repeats the message: it was in clear before failures were encoded, too.
        assert.ok(attributes.stack_trace.includes(contactEmail) && /activities\/engine\/errors\.ts/.test(attributes.stack_trace), attributes.stack_trace);
      });

      test('another origin gets 403, preflight and request alike, with no CORS grant', async () => {
        const pre = await app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
        assert.equal(pre.statusCode, 403);
        assert.equal(pre.headers['access-control-allow-origin'], undefined);
        const res = await app.inject({ method: 'POST', url: '/codec/decode', headers: { origin: 'http://evil.example' }, payload: { payloads: await storedPayloads() } });
        assert.equal(res.statusCode, 403);
        assert.ok(!res.body.includes(Buffer.from(secretDomain()).toString('base64').slice(0, 8)) && !res.body.includes(secretDomain()));
      });

      test('without an Origin: the bearer token is required; with it the real `temporal` CLI shows the decoded history', async () => {
        const payloads = await storedPayloads();
        const none = await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads } });
        assert.equal(none.statusCode, 401);
        const wrong = await app.inject({ method: 'POST', url: '/codec/decode', headers: { authorization: 'Bearer not-the-token-at-all' }, payload: { payloads } });
        assert.equal(wrong.statusCode, 401);
        const right = await app.inject({ method: 'POST', url: '/codec/decode', headers: { authorization: `Bearer ${TOKEN}` }, payload: { payloads } });
        assert.equal(right.statusCode, 200);

        const tokenless = createApiRuntime({ ...env(), MOISSON_CODEC_TOKEN: '' });
        const tokenlessApp = await buildApp(tokenless.ctx, { logger: false });
        try {
          const r = await tokenlessApp.inject({ method: 'POST', url: '/codec/decode', headers: { authorization: `Bearer ${TOKEN}` }, payload: { payloads } });
          assert.equal(r.statusCode, 403);
        } finally {
          await tokenlessApp.close();
          await tokenless.close();
        }

        await app.listen({ host: '127.0.0.1', port: 0 });
        const { port } = app.server.address() as AddressInfo;
        const show = (extra: string[]) =>
          promisify(execFile)(temporalCliPath(), ['workflow', 'show', '-w', 'codec-secret', '--address', world.temporal.address, '--detailed', ...extra], { env: { ...process.env, TEMPORAL_ADDRESS: '' } });
        const decoded = await show(['--codec-endpoint', `http://127.0.0.1:${port}/codec`, '--codec-auth', `Bearer ${TOKEN}`]);
        assert.ok(decoded.stdout.includes(secretDomain()), decoded.stdout);
        const raw = await show([]);
        assert.ok(!raw.stdout.includes(secretDomain()), 'without the codec the CLI shows ciphertext');
        await assert.rejects(show(['--codec-endpoint', `http://127.0.0.1:${port}/codec`, '--codec-auth', 'Bearer wrong-token-xxxxxxxx']));
      });
    });
  });
});
