/**
 * The browser worker's Node flags (workers/browser-flags.ts) are read by V8 at start only, so every
 * launcher must give them: the stack and the drill use the constant, these two cannot import it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BROWSER_WORKER_NODE_FLAGS } from '../../workers/browser-flags';

const root = new URL('../../', import.meta.url);
const expected = ['node', ...BROWSER_WORKER_NODE_FLAGS, '--import', 'tsx', 'workers/browser.ts'];

test('npm run worker:browser starts the browser worker with its Node flags', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
  assert.deepEqual(pkg.scripts['worker:browser']?.split(' '), expected);
});

test('docker-compose.temporal.yml starts the browser worker with its Node flags', () => {
  const compose = readFileSync(new URL('docker-compose.temporal.yml', root), 'utf8');
  const service = /\n {2}browser-worker:\n([\s\S]*?)\n {2}\S/.exec(compose)?.[1];
  assert.ok(service, 'no browser-worker service in docker-compose.temporal.yml');
  const command = /\n {4}command: (\[.*\])/.exec(service)?.[1];
  assert.ok(command, 'the browser-worker service has no command');
  assert.deepEqual(JSON.parse(command), expected);
});
