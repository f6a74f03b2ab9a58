/**
 * A worker SIGKILLed while it applies suggestions: another worker finishes the run. Nothing is applied
 * twice; the suggestion being applied at the kill stays ENCOURS (for a person to look at), its changes
 * not committed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildSuggestion } from '../../activities/consolidation/suggestions';
import { createTestDatabase, startTemporal, type TestDatabase } from '../support/services';

let db: TestDatabase;
let temporal: TestWorkflowEnvironment;
const taskQueue = `consolidation-crash-${process.pid}`;

before(async () => {
  [db, temporal] = await Promise.all([createTestDatabase(), startTemporal()]);
});
after(async () => {
  await Promise.allSettled([temporal?.teardown(), db?.drop()]);
});

async function spawnWorker(delayMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./worker-process.ts', import.meta.url))], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: db.url, CONSOLIDATION_TEST_TASK_QUEUE: taskQueue, CONSOLIDATION_TEST_CLAIM_DELAY_MS: String(delayMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if (line.includes('polling')) break;
  return child;
}

test('apply after a worker SIGKILL: nothing applied twice, the interrupted suggestion stays ENCOURS', async () => {
  const [cohort] = await db.sql<{ id: number }[]>`insert into consolidation.suggestion_cohortes (identifiant_action, identifiant_execution, type_action) values ('source_src', 'run-1', 'SOURCE_AJOUT') returning id`;
  const total = 40;
  for (let i = 0; i < total; i++) {
    const s = buildSuggestion({
      cle: `src_${i}`,
      changes: [{ order: 1, reason: 'nouvel acteur', model_name: 'source_acteur_create', model_params: { id: `src_${i}`, data: { source_code: 'src', identifiant_externe: String(i), nom: `Acteur ${i}`, statut: 'ACTIF', label_codes: [], acteur_service_codes: [], proposition_service_codes: [] } } }],
    });
    await db.sql`insert into consolidation.suggestions (cohorte_id, cle, changes, statut) values (${cohort!.id}, ${s.cle}, ${JSON.stringify(s.changes)}::jsonb, 'ATRAITER')`;
  }
  const first = await spawnWorker(150);
  let second: ChildProcess | undefined;
  try {
    const handle = await temporal.client.workflow.start('consolidationApply', { taskQueue, workflowId: 'consolidation-apply-crash', args: [{ batchSize: 100 }] });
    for (;;) {
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.suggestions where statut = 'SUCCES'`;
      if (row!.n >= 5) break;
      await sleep(50);
    }
    first.kill('SIGKILL');
    second = await spawnWorker(0);
    const result = (await handle.result()) as { succes: number; erreur: number; skipped: number };
    const rows = await db.sql<{ statut: string; n: number }[]>`select statut, count(*)::int n from consolidation.suggestions group by statut order by statut`;
    const by = Object.fromEntries(rows.map((r) => [r.statut, r.n]));
    assert.equal(by.ERREUR, undefined, 'no suggestion failed (a second application would fail on the existing acteur)');
    assert.ok((by.ENCOURS ?? 0) <= 1, `at most the interrupted one is ENCOURS: ${JSON.stringify(by)}`);
    assert.equal((by.SUCCES ?? 0) + (by.ENCOURS ?? 0), total);
    const [acteurs] = await db.sql<{ n: number }[]>`select count(*)::int n from consolidation.acteurs`;
    assert.equal(acteurs!.n, by.SUCCES, 'one acteur per applied suggestion');
    const encours = await db.sql<{ cle: string }[]>`select cle from consolidation.suggestions where statut = 'ENCOURS'`;
    for (const { cle } of encours) assert.equal((await db.sql`select 1 from consolidation.acteurs where identifiant_unique = ${cle}`).length, 0, 'its changes were not committed');
    assert.ok(result.succes >= 1);
  } finally {
    first.kill('SIGKILL');
    second?.kill('SIGTERM');
  }
});
