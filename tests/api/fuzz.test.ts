/**
 * Schemathesis against the OpenAPI document the API serves, every check on, over the read operations
 * (writes are signed: fuzzing them tests the signature check only), on a small copy of the realistic
 * data set. Fails on any 5xx, any response outside the document, any check. Bounded in time (--max-time).
 * Schemathesis comes from PyPI into .tools/venv (scripts/stack/install.ts installSchemathesis).
 *
 * One deliberate setting: data that satisfies every parameter's schema may still break a rule across
 * parameters (cursor with offset, an inverted range), which no per-parameter schema can state; those are
 * documented in each operation's description and answered 400, so 400 is accepted for "valid" data.
 * And invalid data may be rejected before routing: an id over 200 characters answers 414 and a URL over
 * 16 kB 431 (both declared in the document), so those count as rejections alongside Schemathesis' defaults.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildApp } from '../../api/app';
import type { ZodApp } from '../../api/context';
import { createApiRuntime, type ApiRuntime } from '../../api/runtime';
import { LOCAL_STACK } from '../../schema/config';
import { paths } from '../../scripts/stack/paths';
import { uniqueName } from '../support/services';
import { cachedDatasetDatabase, DATASET_NOW, type DatasetDatabase } from './dataset';

let data: DatasetDatabase;
let runtime: ApiRuntime;
let app: ZodApp;
let base: string;

before(async () => {
  data = await cachedDatasetDatabase(process.env.DATABASE_URL ?? LOCAL_STACK.databaseUrl, uniqueName('moisson_test_fuzz'), { consultations: 2_000 });
  runtime = createApiRuntime({ ...process.env, DATABASE_URL: data.url, PROOF_STORE_DIR: data.proofDir, API_RATE_LIMIT_PER_MINUTE: '100000000' }, { now: () => DATASET_NOW });
  app = await buildApp(runtime.ctx, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app?.close();
  await runtime?.close();
  await data?.drop();
});

test('schemathesis: every check on the read operations, no 5xx, nothing outside the document', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(paths.schemathesis), `${paths.schemathesis} is missing: npm run stack:up installs it`);
  const dir = mkdtempSync(join(tmpdir(), 'moisson-fuzz-'));
  const config = join(dir, 'schemathesis.toml');
  writeFileSync(
    config,
    [
      '[checks.positive_data_acceptance]',
      'expected-statuses = ["2xx", "400", "404"]',
      '[checks.negative_data_rejection]',
      // Schemathesis' defaults, plus the two statuses the API answers before routing (URI or headers too long).
      'expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "431", "5xx"]',
      '',
    ].join('\n'),
  );
  // Asynchronously: the API answering it runs in this process.
  const child = spawn(
    paths.schemathesis,
    [
      '--config-file', config,
      'run', `${base}/docs/json`,
      '--url', base,
      '--checks', 'all',
      '--include-method', 'GET',
      '--exclude-path-regex', '^/(docs|metrics|health)',
      '--max-examples', '40',
      '--max-time', '120',
      '--generation-deterministic',
      '--workers', '2',
      '--no-color',
    ],
    { cwd: dir, timeout: 280_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(status, 0, `schemathesis failed:\n${stdout.slice(-8000)}\n${stderr.slice(-2000)}`);
});
