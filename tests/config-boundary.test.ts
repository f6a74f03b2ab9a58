/**
 * Settings are read in one place (schema/config.ts): the lint rule that keeps `process.env` out of the
 * activities, the workflows and the API is in force there, and only there (scripts and the CLI read
 * their environment through the same loaders, but may pass it on). The real ESLint configuration lints a
 * real file of each folder with a read added.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));

test('process.env is refused in activities/, workflows/ and api/, and allowed elsewhere', async () => {
  const eslint = new ESLint({ cwd: root });
  const probe = "export const endpoint = process.env.PRICES_ERAPI_URL;\nexport const { env } = process;\n";
  const restricted = async (file: string) => {
    const [result] = await eslint.lintText(probe, { filePath: `${root}${file}` });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-properties').map((m) => m.line);
  };
  for (const file of ['activities/prices/index.ts', 'workflows/prices.ts', 'api/runtime.ts']) {
    assert.deepEqual(await restricted(file), [1, 2], file);
  }
  assert.deepEqual(await restricted('scripts/cli/common.ts'), []);
});
