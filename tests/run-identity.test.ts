/**
 * One run, one identity, whoever starts it: the prices run of a day started by its Schedule (a real
 * trigger of the real Schedule), then by the API, then by the CLI, is one workflow id, and it carries
 * moisson's search attributes, so the `temporal` CLI (the real binary) and `moisson runs list` /
 * `GET /api/v1/runs` find it by its day; its child carries them too. Filter values that are not labels
 * are refused before any query is built. The test server registers the attributes as `stack:up` does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../api/app';
import { signRequest } from '../api/auth';
import type { ZodApp } from '../api/context';
import { RunControl, RunFilterError, visibilityClause } from '../control/runs';
import { applySchedules, SCHEDULES } from '../control/schedules';
import { registerSearchAttributes } from '../control/search-attributes';
import { dayIn } from '../workflows/contracts';
import { PRICES_TIME_ZONE } from '../workflows/prices/contract';
import type { ScheduledRunResult } from '../workflows/scheduled';
import { Contract } from './api/contract';
import { apiContextOf } from './api/prices-world';
import { createPricesWorld, type PricesWorld } from './prices/harness';
import { runMoisson, type CliResult } from './support/cli';
import { recordHistories } from './support/histories';
import { temporalCliPath } from './support/services';

const SECRET = 'test-secret-0123456789abcdef';
let world: PricesWorld;
let app: ZodApp;
let contract: Contract;
/** What the Schedule computes for a trigger now: today, in the prices' time zone. */
const today = dayIn(new Date(), PRICES_TIME_ZONE);
const runId = `prices-daily-${today}`;

before(async () => {
  world = await createPricesWorld();
  world.today = today;
  // The API's clock is the real one, as the Schedule's: a run of today is the same run from both.
  app = await buildApp(apiContextOf(world, { secret: SECRET, now: () => new Date(), health: {} }), { logger: false });
  contract = await Contract.of(app);
});
after(async () => {
  await app?.close();
  await world?.close();
});

function moisson(args: string[]): Promise<CliResult> {
  return runMoisson(args, { TEMPORAL_ADDRESS: world.temporal.address, MOISSON_TASK_QUEUE: world.taskQueue });
}

function signedPost(url: string, body: unknown) {
  const raw = JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  return contract.inject(app, { method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json', 'x-timestamp': ts, 'x-signature': signRequest(SECRET, ts, raw) } });
}

interface Listed {
  workflowId: string;
  type: string;
  status: string;
}

/** `temporal workflow list --query …` as an operator types it. */
async function temporalList(query: string): Promise<Listed[]> {
  const { stdout } = await promisify(execFile)(temporalCliPath(), [
    'workflow', 'list', '--address', world.temporal.address, '--namespace', world.temporal.namespace ?? 'default', '--query', query, '--output', 'jsonl',
  ]);
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { execution: { workflowId: string }; type: { name: string }; status: string })
    .map((w) => ({ workflowId: w.execution.workflowId, type: w.type.name, status: w.status }));
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 60; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`never: ${what}`);
}

describe('one run, one workflow id', () => {
  test('the Schedule, the API and the CLI start the same day as one id; the temporal CLI finds it by its attributes', async () => {
    // The Schedule as `moisson schedules apply` creates it, triggered now (its own time is 06:00).
    await applySchedules(world.temporal.client, world.taskQueue, SCHEDULES.filter((s) => s.scheduleId === 'prices-daily'));
    const scheduled = await world.withWorker(async () => {
      await world.temporal.client.schedule.getHandle('prices-daily').trigger();
      const trigger = await eventually('the Schedule started its trigger', async () => (await temporalList("WorkflowType = 'scheduledRun'"))[0]);
      const result = (await world.temporal.client.workflow.getHandle(trigger.workflowId).result()) as ScheduledRunResult;
      await world.temporal.client.workflow.getHandle(result.workflowId).result();
      // The trigger's own history (its run is the prices run the prices histories already cover).
      await recordHistories(world.temporal.client, new URL('./prices/histories/', import.meta.url), 'prices-daily', trigger.workflowId, undefined, { children: false });
      return result;
    });
    assert.deepEqual(scheduled, { workflowId: runId, started: true });

    // The API starts the same day again (the first run is closed): the same id, a new run of it.
    const api = await signedPost('/api/v1/runs', { pipeline: 'prices', input: { date: today } });
    assert.equal(api.statusCode, 202, api.body);
    assert.equal(api.json<{ workflow_id: string }>().workflow_id, runId);
    // The CLI asks for it while it runs: the same id, so it attaches instead of starting a duplicate.
    const cli = await moisson(['prices', 'run', '--date', today]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^${runId} is already running; not starting another`, 'm'));
    const again = await signedPost('/api/v1/runs', { pipeline: 'prices', input: { date: today } });
    assert.equal(again.statusCode, 409, again.body);

    // Found by its attributes with the real `temporal` CLI: both runs of the id, and the archive child of
    // the scheduled one (children carry their parent's attributes). The trigger carries its pipeline.
    const byDay = await eventually('both runs listed by their attributes', async () => {
      const found = await temporalList(`MoissonPipeline = 'prices' AND MoissonPeriod = '${today}'`);
      return found.filter((w) => w.workflowId === runId).length === 2 ? found : undefined;
    });
    assert.deepEqual(byDay.map((w) => w.workflowId).sort(), [runId, runId, `${runId}-archive`].sort());
    assert.deepEqual(byDay.filter((w) => w.workflowId === runId).map((w) => w.status).sort(), ['WORKFLOW_EXECUTION_STATUS_COMPLETED', 'WORKFLOW_EXECUTION_STATUS_RUNNING']);
    assert.equal((await temporalList("WorkflowType = 'scheduledRun' AND MoissonPipeline = 'prices'")).length, 1);
    assert.deepEqual(await temporalList("MoissonPeriod = '1999-01-01'"), []);

    // The same filter through moisson: the CLI and the API build the query from a checked value.
    const listed = await moisson(['runs', 'list', '--period', today, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const cliRuns = JSON.parse(listed.stdout) as { workflowId: string; workflowType: string }[];
    assert.deepEqual(cliRuns.map((r) => r.workflowId).sort(), [runId, runId, `${runId}-archive`].sort());
    const other = await moisson(['runs', 'list', '--period', '1999-01-01']);
    assert.equal(other.stdout.trim(), 'no runs');
    const res = await contract.inject(app, { method: 'GET', url: `/api/v1/runs?period=${today}&statut=running` });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json<{ items: { workflow_id: string }[] }>().items.map((r) => r.workflow_id), [runId]);

    await world.temporal.client.workflow.getHandle(runId).cancel();
  });
});

describe('a run started by hand labels itself', () => {
  test('`temporal workflow start` with no attributes: the run upserts its pipeline and day from its input', async () => {
    const day = '2026-11-20';
    const workflowId = `hand-started-prices-${day}`;
    await world.withWorker(async () => {
      await promisify(execFile)(temporalCliPath(), [
        'workflow', 'start', '--address', world.temporal.address, '--namespace', world.temporal.namespace ?? 'default',
        '--task-queue', world.taskQueue, '--type', 'pricesDaily', '--workflow-id', workflowId, '--input', JSON.stringify({ date: day }),
      ]);
      const found = await eventually('the hand-started run listed by its own labels', async () => {
        const runs = await temporalList(`MoissonPipeline = 'prices' AND MoissonPeriod = '${day}'`);
        return runs.some((w) => w.workflowId === workflowId) ? runs : undefined;
      });
      assert.ok(found.some((w) => w.workflowId === workflowId && w.type === 'pricesDaily'));
      // The run is left to end (it may already have): its outcome is not what this test is about.
      await world.temporal.client.workflow.getHandle(workflowId).result().catch(() => undefined);
    });
  });
});

describe('filters are labels, never query text', () => {
  const hostile = ["2026-11-20' OR WorkflowType != 'x", 'a b', 'x\\', "'", '', 'é'];

  test('the control layer refuses them before any query; a label is quoted', async () => {
    const control = new RunControl(world.temporal.client, world.taskQueue);
    for (const value of hostile) {
      await assert.rejects(control.list({ period: value }), (e: unknown) => e instanceof RunFilterError && e.filter === 'period', JSON.stringify(value));
    }
    assert.equal(visibilityClause('period', '2026-01..2026-03'), "MoissonPeriod = '2026-01..2026-03'");
    assert.equal(visibilityClause('jobId', '0b6f3c1e-5d2a-4f7e-9c1b-2a3d4e5f6a7b'), "MoissonJobId = '0b6f3c1e-5d2a-4f7e-9c1b-2a3d4e5f6a7b'");
  });

  test('the CLI names the flag, the API names the field', async () => {
    for (const [flag, value] of [['--period', hostile[0]!], ['--source', 'a b'], ['--job', "'"]] as const) {
      const res = await moisson(['runs', 'list', flag, value]);
      assert.equal(res.code, 3, res.stdout + res.stderr);
      assert.match(res.stderr, new RegExp(`option '${flag} <[a-z-]+>' argument .* is invalid\\. expected letters, digits and \\. _ - : @ only`));
    }
    for (const [field, value] of [['period', hostile[0]!], ['source', 'a b'], ['job', "'"]] as const) {
      const res = await contract.inject(app, { method: 'GET', url: `/api/v1/runs?${field}=${encodeURIComponent(value)}` });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.body, new RegExp(`"field":"${field}"`));
    }
  });

  test('registering the attributes again changes nothing', async () => {
    assert.deepEqual(await registerSearchAttributes(world.temporal.connection, world.temporal.namespace ?? 'default'), []);
  });
});
