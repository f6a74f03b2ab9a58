/**
 * Settings are read in one place (schema/config.ts): the lint rule that keeps `process.env` out of the
 * activities, the workflows and the API is in force there, and only there (scripts and the CLI read
 * their environment through the same loaders, but may pass it on). The real ESLint configuration lints a
 * real file of each folder with a read added (workers/ too: even the log level is read through the config module). The same lint keeps lists of non-retryable type names out of
 * the workflows and keeps the CLI and the API from importing each other (both go through control/).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));

test('process.env is refused in activities/, workflows/, api/ and workers/, and allowed elsewhere', async () => {
  const eslint = new ESLint({ cwd: root });
  const probe = "export const endpoint = process.env.PRICES_ERAPI_URL;\nexport const { env } = process;\n";
  const restricted = async (file: string) => {
    const [result] = await eslint.lintText(probe, { filePath: `${root}${file}` });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-properties').map((m) => m.line);
  };
  for (const file of ['activities/prices/index.ts', 'workflows/prices.ts', 'api/runtime.ts', 'workers/main.ts']) {
    assert.deepEqual(await restricted(file), [1, 2], file);
  }
  assert.deepEqual(await restricted('scripts/cli/common.ts'), []);
});

test('no file of activities/, workflows/, api/ or workers/ reads process.env (settings come through schema/config.ts)', () => {
  const readers = ['activities', 'workflows', 'api', 'workers'].flatMap((dir) =>
    readdirSync(`${root}${dir}`, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && /process\.env|\benv\s*\}\s*=\s*process\b/.test(readFileSync(`${root}${dir}/${file}`, 'utf8')))
      .map((file) => `${dir}/${file}`),
  );
  assert.deepEqual(readers, []);
});

test('workflows keep no list of non-retryable type names; the CLI imports no api/ module and the API no scripts/ module', async () => {
  const eslint = new ESLint({ cwd: root });
  const messages = async (file: string, probe: string, rule: string) => {
    const [result] = await eslint.lintText(probe, { filePath: `${root}${file}` });
    return result!.messages.filter((m) => m.ruleId === rule).map((m) => m.message);
  };
  const retryList = "export const retry = { maximumAttempts: 3, nonRetryableErrorTypes: ['AuthError'] };\n";
  assert.match((await messages('workflows/prices.ts', retryList, 'no-restricted-syntax')).join(), /Errors say whether retrying helps/);
  assert.deepEqual(await messages('control/runs.ts', retryList, 'no-restricted-syntax'), []);

  const cliImportsApi = "import { PIPELINES } from '../../api/runs/pipelines';\nexport const p = PIPELINES;\n";
  assert.match((await messages('scripts/cli/runs.ts', cliImportsApi, '@typescript-eslint/no-restricted-imports')).join(), /through control\//);
  const apiImportsCli = "import { main } from '../../scripts/cli/index';\nexport const m = main;\n";
  assert.match((await messages('api/runs/routes.ts', apiImportsCli, '@typescript-eslint/no-restricted-imports')).join(), /through control\//);
  // Both import control/ freely.
  const control = "import { RunControl } from '../../control/runs';\nexport const c = RunControl;\n";
  assert.deepEqual(await messages('scripts/cli/runs.ts', control, '@typescript-eslint/no-restricted-imports'), []);
  assert.deepEqual(await messages('api/runs/routes.ts', control, '@typescript-eslint/no-restricted-imports'), []);
});
