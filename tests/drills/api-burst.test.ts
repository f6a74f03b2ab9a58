/**
 * Drill `api-burst`: the REST API, listening on a real port, under a burst of signed writes (scraping
 * jobs) well beyond its rate limit. Every answer is a 201 or a 429 (JSON), never a 5xx; every job
 * answered 201 is in PostgreSQL with its workflow started; a job answered 429 left nothing behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createProofStore } from '../../activities/engine/proofs';
import { buildApp } from '../../api/app';
import { signRequest } from '../../api/auth';
import type { ZodApp } from '../../api/context';
import { loadApiConfig } from '../../schema/config';
import { createTestDatabase, startTemporal, type TestDatabase } from '../support/services';

const SECRET = 'drill-secret-0123456789abcdef';
const LIMIT = 20;
const BURST = 80;
let db: TestDatabase;
let temporal: TestWorkflowEnvironment;
let app: ZodApp;
let base: string;
const taskQueue = `drill-burst-${randomBytes(3).toString('hex')}`;

before(async () => {
  [db, temporal] = await Promise.all([createTestDatabase(), startTemporal()]);
  app = await buildApp(
    {
      config: loadApiConfig({ API_HMAC_SECRET: SECRET, API_RATE_LIMIT_PER_MINUTE: String(LIMIT) }),
      db,
      proofs: createProofStore({ db: db.db, dir: '/nonexistent-proof-store' }),
      temporal: () => Promise.resolve(temporal.client),
      temporalTaskQueue: taskQueue,
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: temporal.namespace ?? 'default',
      now: () => new Date(),
      health: {},
    },
    { logger: false },
  );
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app?.close();
  await Promise.allSettled([temporal?.teardown(), db?.drop()]);
});

test(`a burst of ${BURST} signed writes against a limit of ${LIMIT}/min: 429s, no 5xx, no lost write`, async () => {
  const answers = await Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      const id = `burst-${String(i).padStart(3, '0')}`;
      const raw = JSON.stringify({ id, sourceType: 'custom_urls', config: { urls: [`https://example.com/${id}`], maxDepth: 1 } });
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await fetch(`${base}/api/v1/scraping/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-timestamp': ts, 'x-signature': signRequest(SECRET, ts, raw) },
        body: raw,
      });
      return { id, status: res.status, body: await res.text() };
    }),
  );
  const byStatus = new Map<number, number>();
  for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  assert.deepEqual([...byStatus.keys()].sort(), [201, 429], JSON.stringify(Object.fromEntries(byStatus)));
  assert.equal(byStatus.get(201), LIMIT, 'exactly the limit got through');
  for (const a of answers.filter((x) => x.status === 429)) assert.equal((JSON.parse(a.body) as { error: string }).error, 'rate_limited');

  const accepted = answers.filter((a) => a.status === 201).map((a) => a.id).sort();
  const stored = await db.sql<{ id: string }[]>`select id from leads.jobs order by id`;
  assert.deepEqual(stored.map((r) => r.id), accepted, 'every accepted write is stored, no refused one is');
  for (const id of accepted) {
    const d = await temporal.client.workflow.getHandle(`leads-job-${id}`).describe();
    assert.equal(d.type, 'leadsJob');
    await temporal.client.workflow.getHandle(`leads-job-${id}`).terminate('drill over');
  }
});
