/**
 * `stack:up` on Node 20 printed the AWS SDK's NodeVersionSupportWarning (a notice about the SDK's releases
 * after January 2027; the release package-lock.json pins supports Node 20). The stack's environment sets
 * the SDK's own switch for it, so the stack's processes (its S3 client, the workers' consolidation S3
 * sources) stay quiet; any other warning is still printed. A real S3 client is built in a child process,
 * as the stack and the workers build theirs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { stackEnvironment } from '../scripts/stack/services';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = `
const { localS3Client } = await import('./scripts/stack/seaweedfs.ts');
localS3Client(1);
process.emitWarning('another warning, still shown');
await new Promise((r) => setTimeout(r, 100));
`;

function stderrOf(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env, timeout: 60_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stderr),
    );
  });
}

test("the stack's environment silences the SDK's Node version notice, and only it", async () => {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...bare } = process.env;
  const quiet = await stderrOf({ ...bare, ...stackEnvironment() });
  assert.doesNotMatch(quiet, /NodeVersionSupportWarning/);
  assert.match(quiet, /another warning, still shown/);
  if (Number(process.versions.node.split('.')[0]) < 22) {
    // Without it, the same client on this Node prints the notice: the switch is what keeps it quiet.
    assert.match(await stderrOf(bare), /NodeVersionSupportWarning/);
  }
});
