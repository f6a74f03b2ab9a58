/**
 * `npm run build:workflows [-- out.js]`: the worker's workflow bundle, built ahead (the image does it), so
 * the worker loads it (MOISSON_WORKFLOW_BUNDLE) instead of running webpack at every start. It carries the
 * same interceptor module as a bundle built at start (workers/create.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../workers/create';
import { runMetricsInterceptorModule } from '../workers/run-metrics';

const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [runMetricsInterceptorModule] });
await mkdir(dirname(out), { recursive: true });
await writeFile(out, code);
console.log(`workflow bundle: ${out} (${(code.length / 2 ** 20).toFixed(1)} MB)`);
