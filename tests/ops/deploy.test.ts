/**
 * What a deployment runs, checked here because it cannot run here (no Docker engine):
 * - the compose file, validated by compose-go (the loader Docker Compose uses) built from its Go module;
 * - the image: every Debian package whose tools the code spawns is installed, and no `npm ci`;
 * - the alert rules: `promtool check rules` and every rule's unit test (`promtool test rules`);
 * - the dashboards: generated from scripts/ops/dashboards.ts, and every metric a query or a rule names is
 *   one the code really exports (read off a real Prometheus scrape of our instruments).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { metrics } from '@opentelemetry/api';
import * as engineMetrics from '../../activities/engine/metrics';
import { createApiMetrics } from '../../api/metrics';
import { DEBIAN_PACKAGE_OF } from '../../activities/pmmp/awards/errors';
import { dashboardFiles } from '../../scripts/ops/dashboards';
import { registerQueueDepthGauges } from '../../workers/queue-depth';
import { setupTelemetry } from '../../workers/telemetry';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const composeFile = join(root, 'docker-compose.temporal.yml');

interface ComposeService {
  name: string;
  image?: string;
  build: boolean;
  command?: string[];
  entrypoint?: string[];
  healthcheck: boolean;
  volumes?: string[];
}

async function loadCompose(): Promise<ComposeService[]> {
  const dir = mkdtempSync(join(tmpdir(), 'moisson-compose-check-'));
  try {
    const bin = join(dir, 'check');
    await run('go', ['build', '-o', bin, '.'], { cwd: join(root, 'deploy', 'check'), timeout: 300_000 });
    const { stdout } = await run(bin, [composeFile], { cwd: root, env: { ...process.env, MOISSON_DB_PASSWORD: 'x' } });
    return JSON.parse(stdout) as ComposeService[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Entry points the image builds (Dockerfile) instead of running their sources through tsx. */
const builtEntries = [{ entry: 'dist/worker-build/main.js', script: 'scripts/build-worker.ts', madeBy: /^RUN node --import tsx scripts\/build-worker\.ts \/app\/dist\/worker-build$/m }];

test('the compose file is valid and runs the whole production-like stack', { timeout: 360_000 }, async () => {
  const services = await loadCompose();
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const name of ['temporal-db', 'temporal', 'temporal-ui', 'postgres', 'mongodb', 'migrate', 'worker', 'browser-worker', 'api', 'prometheus', 'alertmanager', 'grafana']) {
    assert.ok(byName.has(name), `service ${name} missing from the compose file`);
  }
  for (const s of services) {
    assert.ok(!s.image?.startsWith('temporalio/auto-setup'), `${s.name} uses the deprecated temporalio/auto-setup image`);
    const oneShot = s.name === 'migrate' || s.name.startsWith('temporal-schema') || s.name.startsWith('temporal-namespace');
    if (!oneShot) assert.ok(s.healthcheck, `${s.name} has no healthcheck`);
    // Bind mounts point at files of this repository.
    for (const v of s.volumes ?? []) {
      const source = v.slice(0, v.indexOf(':'));
      if (source.startsWith('/')) assert.ok(existsSync(source), `${s.name} mounts ${source}, which is not in the repository`);
    }
    // Our image runs our entry points: each must exist.
    if (s.build) {
      // V8 flags (the browser worker's young generation) may come before the loader.
      const command = s.command ?? [];
      const built = builtEntries.find((b) => command.at(-1) === b.entry);
      if (built) {
        // The worker runs its build, which the image makes from sources of this repository.
        assert.ok(command[0] === 'node' && command.slice(1, -1).every((a) => a.startsWith('--')), `${s.name} should run node [V8 flags] ${built.entry}`);
        assert.match(readFileSync(join(root, 'Dockerfile'), 'utf8'), built.madeBy, `${s.name} runs ${built.entry}, which the image does not build`);
        assert.ok(existsSync(join(root, built.script)), `${built.script} is missing`);
        continue;
      }
      const tsx = command.indexOf('tsx');
      assert.ok(command[0] === 'node' && tsx > 1 && command[tsx - 1] === '--import', `${s.name} should run node [V8 flags] --import tsx <entry>`);
      assert.ok(command.slice(1, tsx - 1).every((a) => a.startsWith('--')), `${s.name}: only flags before --import tsx`);
      const entry = command[tsx + 1] ?? '';
      assert.ok(existsSync(join(root, entry)), `${s.name} runs ${entry}, which does not exist`);
    }
  }
  for (const name of ['worker', 'browser-worker', 'api']) {
    assert.ok(byName.get(name)?.volumes?.some((v) => v.endsWith(':/data/proofs')), `${name} lacks the proof store volume`);
  }
});

test('the compose validator refuses a broken file (the check can fail)', { timeout: 360_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moisson-compose-bad-'));
  try {
    const bin = join(dir, 'check');
    await run('go', ['build', '-o', bin, '.'], { cwd: join(root, 'deploy', 'check'), timeout: 300_000 });
    const bad = join(dir, 'compose.yml');
    const text = readFileSync(composeFile, 'utf8').replace('healthcheck:', 'healthchek:');
    (await import('node:fs')).writeFileSync(bad, text);
    await assert.rejects(run(bin, [bad]), /healthchek/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the image installs every Debian package whose tools the code runs, and uses npm install', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const install = /apt-get install[^&]*/.exec(dockerfile.replace(/\\\n/g, ' '))?.[0] ?? '';
  const packages = new Set(install.split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w)));
  const needed = new Set([...Object.values(DEBIAN_PACKAGE_OF), 'tesseract-ocr-fra', 'tesseract-ocr-ara', 'chromium']);
  for (const pkg of needed) assert.ok(packages.has(pkg), `the image lacks ${pkg} (the code runs its tools)`);
  assert.doesNotMatch(dockerfile, /^RUN .*npm ci\b/m, 'npm ci refuses this lock file (see scripts/test.sh)');
  assert.match(dockerfile, /CHROMIUM_PATH=\/usr\/bin\/chromium/);
});

test('alert rules pass promtool check and their unit tests', async () => {
  const rules = join(root, 'deploy', 'prometheus', 'rules');
  for (const file of readdirSync(rules)) {
    const { stdout } = await run('promtool', ['check', 'rules', join(rules, file)]);
    assert.match(stdout, /SUCCESS/);
  }
  const tests = join(root, 'deploy', 'prometheus', 'tests');
  for (const file of readdirSync(tests)) {
    const { stdout } = await run('promtool', ['test', 'rules', join(tests, file)]);
    assert.match(stdout, /SUCCESS/, `promtool test rules ${file}`);
  }
  const { stdout } = await run('promtool', ['check', 'config', '--syntax-only', join(root, 'deploy', 'prometheus', 'prometheus.yml')]);
  assert.match(stdout, /SUCCESS/);
});

/** Metric names our code exports, read off a real scrape after recording every engine instrument once. */
async function exportedMetricNames(): Promise<Set<string>> {
  const telemetry = setupTelemetry({ serviceName: 'moisson-deploy-test' });
  const api = createApiMetrics();
  try {
    for (const make of Object.values(engineMetrics)) {
      if (typeof make !== 'function') continue;
      const instrument = (make as () => unknown)() as Record<string, unknown>;
      const attrs = { pipeline: 'test' };
      if (typeof instrument.add === 'function') (instrument.add as (v: number, a: object) => void)(1, attrs);
      else if (typeof instrument.record === 'function') (instrument.record as (v: number, a: object) => void)(1, attrs);
    }
    // The worker's queue depths (read from PostgreSQL in the worker; any count will do here).
    registerQueueDepthGauges(metrics.getMeter('moisson'), { pmmp_notice_downloads: () => Promise.resolve({ depth: 1, oldestSeconds: 60 }) });
    // The API's metrics (its own meter provider): one answered and one rejected request.
    api.answered({ method: 'GET', route: '/health', status: 200, seconds: 0.01 });
    api.answered({ method: 'GET', route: '/api/v1/consultations', status: 404, seconds: 0.01 });
    const text = `${await telemetry.scrape()}\n${await api.scrape()}`;
    const names = new Set<string>();
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
      if (m?.[1]) names.add(m[1]);
    }
    return names;
  } finally {
    await telemetry.shutdown();
    await api.shutdown();
  }
}

/** Metrics that come from Temporal (SDK core and server) or from Prometheus itself, not from our code. */
const EXTERNAL_METRICS = new Set([
  'up', // Prometheus: the scrape target answered
  'temporal_workflow_completed', // Temporal SDK core
  'temporal_workflow_failed',
  'temporal_activity_execution_failed',
  'schedule_missed_catchup_window', // Temporal server
]);

function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b([a-z_][a-z0-9_]*_[a-z0-9_]+|up)\b(?!\s*\()/g)]
    .map((m) => m[1] ?? '')
    .filter((n) => /^(moisson_|temporal_|schedule_|process_|nodejs_|up$)/.test(n));
}

test('dashboards are generated from code, and every query and rule names a metric that exists', async () => {
  const files = dashboardFiles();
  const dir = join(root, 'deploy', 'grafana', 'dashboards');
  for (const [file, text] of Object.entries(files)) {
    assert.equal(readFileSync(join(dir, file), 'utf8'), text, `${file} is stale: run npx tsx scripts/ops/dashboards.ts`);
  }
  const exprs: { where: string; expr: string }[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const m of text.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)) exprs.push({ where: file, expr: JSON.parse(`"${m[1]}"`) as string });
  }
  const rulesDir = join(root, 'deploy', 'prometheus', 'rules');
  for (const file of readdirSync(rulesDir)) {
    const text = readFileSync(join(rulesDir, file), 'utf8');
    for (const m of text.matchAll(/expr: (?:\|\n((?: {10}.*\n)+)|(.*))/g)) exprs.push({ where: file, expr: (m[1] ?? m[2] ?? '').trim() });
  }
  assert.ok(exprs.length > 40, `only ${exprs.length} expressions found`);
  const exported = await exportedMetricNames();
  const strip = (n: string) => n.replace(/_(bucket|count|sum)$/, '');
  const known = (n: string) => EXTERNAL_METRICS.has(n) || exported.has(n) || exported.has(strip(n)) || [...exported].some((e) => strip(e) === strip(n));
  const unknown = exprs.flatMap(({ where, expr }) => metricNamesIn(expr).filter((n) => !known(n)).map((n) => `${where}: ${n}`));
  assert.deepEqual(unknown, [], `metrics named by dashboards or rules that the code does not export:\n${unknown.join('\n')}`);
});
