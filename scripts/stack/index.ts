/**
 * `npm run stack:up | stack:down | stack:status | stack:install`: the local stack without Docker.
 * A second `up` is a no-op; `down` stops only what `up` started, by pid file.
 */
import { Connection } from '@temporalio/client';
import { loadCoreConfig } from '../../schema/config';
import { registerSearchAttributes } from '../../control/search-attributes';
import { ensureConsoleBuilt } from '../console/build';
import { installAll } from './install';
import { paths } from './paths';
import { StackError } from './process';
import { apiService, AWS_SDK_NODE_WARNING_OFF, browserWorkerService, services, stackEnvironment, workerService, writeStackEnv } from './services';

const log = (line: string) => console.log(`stack: ${line}`);

async function up(): Promise<void> {
  // The stack's own S3 client (the local SeaweedFS's bucket) would print the SDK's Node version notice.
  Object.assign(process.env, AWS_SDK_NODE_WARNING_OFF);
  const all = services();
  const own = (name: string) => all.some((s) => s.name === name && !s.external);
  installAll({ postgres: own('postgres'), temporal: true, ferretdb: own('ferretdb'), seaweedfs: own('seaweedfs') }, log);
  for (const service of all) {
    if (service.external) {
      log(`${service.name}: using ${service.external} (set by the environment)`);
      continue;
    }
    await service.start(log);
  }
  await registerRunAttributes();
  // The API (started by the demo) serves the console's built page at /console/.
  await ensureConsoleBuilt(log);
  writeStackEnv();
  status();
  log(`environment for this stack: ${paths.stackEnv}`);
}

/** Moisson's search attributes on the stack's Temporal (its own or the one TEMPORAL_ADDRESS names): every start sets them. */
async function registerRunAttributes(): Promise<void> {
  const { temporal } = loadCoreConfig({ ...process.env, ...stackEnvironment() });
  const connection = await Connection.connect({ address: temporal.address, connectTimeout: '10s' });
  try {
    const added = await registerSearchAttributes(connection, temporal.namespace);
    log(`temporal: search attributes ${added.length ? `registered (${added.join(', ')})` : 'already registered'} on namespace ${temporal.namespace}`);
  } finally {
    await connection.close();
  }
}

async function down(): Promise<void> {
  // One service failing to stop must not leave the ones after it running.
  const failed: string[] = [];
  for (const service of [apiService(), browserWorkerService(), workerService(), ...services().reverse()]) {
    if (service.external) continue;
    try {
      await service.stop();
      log(`${service.name} stopped`);
    } catch (err) {
      failed.push(service.name);
      log(`${service.name} could not be stopped: ${(err as Error).message}`);
    }
  }
  if (failed.length > 0) throw new StackError(`could not stop ${failed.join(', ')} (see above)`);
}

function status(): boolean {
  const rows = [...services(), workerService(), browserWorkerService(), apiService()].map((s) => s.status());
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const pid = r.pid ? ` pid ${r.pid}` : '';
    console.log(`  ${r.name.padEnd(width)}  ${r.state.padEnd(8)} ${r.address}${pid}${r.log && r.state !== 'external' ? `  log ${r.log}` : ''}`);
  }
  // The workers and the API are the demo's: the stack is up without them.
  return rows.filter((r) => !r.name.endsWith('worker') && r.name !== 'api').every((r) => r.state !== 'stopped');
}

async function main(): Promise<void> {
  const command = process.argv[2];
  switch (command) {
    case 'install':
      installAll({ postgres: true, temporal: true, ferretdb: true, seaweedfs: true }, log);
      log('everything is installed');
      return;
    case 'up':
      return up();
    case 'down':
      return down();
    case 'status':
      process.exitCode = status() ? 0 : 1;
      return;
    default:
      console.error('usage: tsx scripts/stack/index.ts install|up|down|status');
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  if (err instanceof StackError) {
    console.error(`stack: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
});
