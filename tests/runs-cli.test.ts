/**
 * `moisson runs …` and what every waiting command shows, as a user sees it: the real CLI as a process
 * against a real Temporal server, a worker of the prices world serving the queue. Progress while waiting,
 * a summary with counts at the end, runs listed / inspected / watched / cancelled whoever started them,
 * root causes of failures, calendar days, one message for every outage, the stack's environment file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPricesWorld, type PricesWorld } from './prices/harness';
import { runMoisson, type CliResult } from './support/cli';

let world: PricesWorld;

before(async () => {
  world = await createPricesWorld();
});
after(async () => {
  await world?.close();
});

function moisson(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runMoisson(args, { TEMPORAL_ADDRESS: world.temporal.address, MOISSON_TASK_QUEUE: world.taskQueue, ...env });
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, tries = 30): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`never: ${what}`);
}

describe('waiting for a run', () => {
  test('--sync shows the progress while it waits and ends with a summary of the counts', async () => {
    world.today = '2026-07-01';
    // A source that answers slowly: the run lasts long enough to be seen going.
    world.replica.setFault('coingecko', { kind: 'timeout' });
    try {
      const res = await world.withWorker(() => moisson(['prices', 'run', '--sync', '--date', world.today]));
      assert.ok(res.code === 0 || res.code === 1, res.stdout + res.stderr);
      assert.match(res.stderr, /prices-daily-2026-07-01: (planning|fetching|archiving|done).*\d+\/\d+ assets \(\d+%\) · saved \d+/);
      assert.match(res.stdout, /^finished prices-daily-2026-07-01 in \d+ s: .*saved \d+/m);
    } finally {
      world.replica.clearFaults();
    }
  });
});

describe('moisson runs', () => {
  test('list, status and watch a run started elsewhere; its progress, then its outcome with counts', async () => {
    world.today = '2026-07-02';
    const started = await moisson(['prices', 'run', '--date', world.today]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /started prices-daily-2026-07-02/);

    // No worker yet: running, and its progress query has nobody to answer it.
    const waiting = await moisson(['runs', 'status', 'prices-daily-2026-07-02']);
    assert.equal(waiting.code, 0, waiting.stderr);
    assert.match(waiting.stdout, /prices-daily-2026-07-02 {2}pricesDaily \(prices\) {2}running/);
    assert.match(waiting.stdout, /progress: not answering/);

    const watched = await world.withWorker(() => moisson(['runs', 'watch', 'prices-daily-2026-07-02']));
    assert.equal(watched.code, 0, watched.stdout + watched.stderr);
    assert.match(watched.stdout, /^finished prices-daily-2026-07-02 in \d+ s: .*saved \d+/m);

    const listed = await eventually('the run listed as completed', async () => {
      const res = await moisson(['runs', 'list', '--pipeline', 'prices', '--status', 'completed']);
      return /prices-daily-2026-07-02\s+pricesDaily\s+completed/.test(res.stdout) ? res : undefined;
    });
    assert.equal(listed.code, 0);
    const status = await moisson(['runs', 'status', 'prices-daily-2026-07-02']);
    assert.match(status.stdout, /completed/);
    assert.match(status.stdout, /finished prices-daily-2026-07-02 in \d+ s: .*saved \d+/);

    const none = await moisson(['runs', 'list', '--pipeline', 'leads']);
    assert.doesNotMatch(none.stdout, /prices-daily/);
    const badFlag = await moisson(['runs', 'list', '--pipeline', 'weather']);
    assert.equal(badFlag.code, 3);
    assert.match(badFlag.stderr, /--pipeline <pipeline>' argument 'weather' is invalid/);
  });

  test('cancel: the run ends cancelled; cancelling it again says it is not running', async () => {
    world.today = '2026-07-03';
    assert.equal((await moisson(['prices', 'run', '--date', world.today])).code, 0);
    const cancel = await moisson(['runs', 'cancel', 'prices-daily-2026-07-03']);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /cancellation requested for prices-daily-2026-07-03 \(pricesDaily\)/);
    const watched = await world.withWorker(() => moisson(['runs', 'watch', 'prices-daily-2026-07-03']));
    assert.equal(watched.code, 1, watched.stdout + watched.stderr);
    assert.match(watched.stdout, /cancelled/);
    const again = await moisson(['runs', 'cancel', 'prices-daily-2026-07-03']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /prices-daily-2026-07-03 is not running \(cancelled\)/);
    const missing = await moisson(['runs', 'status', 'no-such-run']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no run no-such-run/);
  });

  test('a failed run shows its root cause, not "Workflow execution failed"', async () => {
    // As an operator would start it from the Web UI: a raw start with a bad input.
    await world.temporal.client.workflow.start('pricesArchive', { taskQueue: world.taskQueue, workflowId: 'operator-archive', args: [{ endDate: '2026-11-20', days: -5 }] });
    const res = await world.withWorker(() => moisson(['runs', 'watch', 'operator-archive']));
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.match(res.stdout, /failed: InvalidInputError: pricesArchive input refused: days: must be at least 1 day/);
  });
});

describe('what the CLI refuses or cannot do', () => {
  test('dates are days of the calendar, refused at once naming the flag', async () => {
    for (const [args, flag] of [
      [['prices', 'run', '--date', '2026-02-30'], '--date'],
      [['pmmp', 'daily', '--day', '2026-02-30'], '--day'],
      [['prices', 'archive', '--date', '2026-13-01'], '--date'],
    ] as const) {
      const started = Date.now();
      const res = await moisson([...args]);
      assert.equal(res.code, 3, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, new RegExp(`option '${flag} <YYYY-MM-DD>' argument '[0-9-]+' is invalid`));
      assert.match(res.stderr, /day of the calendar/);
      assert.ok(Date.now() - started < 20_000, 'refused before any run starts');
    }
  });

  test('every outage reads the same, on one line, with one exit code', async () => {
    const temporal = await moisson(['runs', 'list'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    const postgres = await moisson(['leads', 'job', 'list'], { DATABASE_URL: 'postgres://moisson:secret@127.0.0.1:1/moisson' });
    // `apisync status` always printed a clean message: `leads job list` now prints the very same.
    const apisync = await moisson(['apisync', 'status'], { DATABASE_URL: 'postgres://moisson:secret@127.0.0.1:1/moisson' });
    assert.deepEqual([apisync.code, apisync.stderr], [postgres.code, postgres.stderr]);
    for (const [res, service, where, variable] of [
      [temporal, 'Temporal', '127\\.0\\.0\\.1:1', 'TEMPORAL_ADDRESS'],
      [postgres, 'PostgreSQL', 'postgres://127\\.0\\.0\\.1:1/moisson', 'DATABASE_URL'],
    ] as const) {
      assert.equal(res.code, 2, res.stdout + res.stderr);
      assert.match(res.stderr, new RegExp(`^moisson: cannot reach ${service} at ${where} \\(.+\\)\\. Start the local stack with \`npm run stack:up\`, or set ${variable}\\.\\n$`));
      assert.doesNotMatch(res.stderr, /secret| {4}at /);
    }
  });

  test("the stack's environment file is read when present, and what is set explicitly wins", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'moisson-env-')), 'stack.env');
    writeFileSync(file, "# as npm run stack:up writes it\nTEMPORAL_ADDRESS=127.0.0.1:9\nLEADS_ROUTING='{\"default\":\"x\"}'\n");
    const fromFile = await moisson(['runs', 'list'], { MOISSON_ENV_FILE: file, TEMPORAL_ADDRESS: undefined });
    assert.match(fromFile.stderr, /cannot reach Temporal at 127\.0\.0\.1:9/);
    const explicit = await moisson(['runs', 'list'], { MOISSON_ENV_FILE: file, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.match(explicit.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);

    // `config check` after `npm run demo`: a setting the stack's file gives is not missing.
    const keyFile = join(mkdtempSync(join(tmpdir(), 'moisson-env-')), 'stack.env');
    writeFileSync(keyFile, 'METALPRICEAPI_KEY=from-the-stack-file\n');
    const metals = { METALPRICEAPI_KEY: undefined, PRICES_METALS_SOURCES: 'metalpriceapi,fawaz' };
    const withFile = await moisson(['config', 'check'], { ...metals, MOISSON_ENV_FILE: keyFile });
    assert.deepEqual([withFile.code, withFile.stdout], [0, 'configuration ok\n'], withFile.stderr);
    const withoutFile = await moisson(['config', 'check'], { ...metals, MOISSON_ENV_FILE: '' });
    assert.equal(withoutFile.code, 3, withoutFile.stdout + withoutFile.stderr);
    assert.match(withoutFile.stdout, /^METALPRICEAPI_KEY: required while PRICES_METALS_SOURCES lists metalpriceapi/m);
  });
});
