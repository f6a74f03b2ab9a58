/**
 * The services of the local stack. Each one is started detached with a pid file, checked for
 * readiness, and stopped by that pid (never by a name pattern). A service whose URL the environment
 * already sets (DATABASE_URL, MONGO_URL, TEMPORAL_ADDRESS) is someone else's and is left alone.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { MongoClient } from 'mongodb';
import { loadPayloadCodecConfig } from '../../schema/config';
import { BROWSER_WORKER_NODE_FLAGS } from '../../workers/browser-flags';
import { pgBin } from './install';
import { paths, ports, projectRoot, seaweedFsBinary } from './paths';
import { LOCAL_S3, seaweedFsCommand, seaweedFsReady } from './seaweedfs';
import { ensureWorkflowBundle } from './workflow-bundle';
import { ensureWorkerBuild } from './worker-build';
import {
  isRoot,
  logTail,
  pidRunning,
  portFree,
  portOpen,
  readPid,
  removeFile,
  run,
  ExitedDuringStartup,
  StackError,
  startDetached,
  stopPid,
  waitFor,
  writePid,
} from './process';

export interface ServiceStatus {
  name: string;
  state: 'running' | 'stopped' | 'external';
  pid?: number;
  address: string;
  log?: string;
}

export interface Service {
  name: string;
  /** Set when the environment points at an existing service instead. */
  external: string | undefined;
  start(log: (line: string) => void): Promise<void>;
  stop(): Promise<void>;
  status(): ServiceStatus;
}

function pidFile(name: string): string {
  return join(paths.run, `${name}.pid`);
}

function logFile(name: string): string {
  return join(paths.logs, `${name}.log`);
}

async function ensurePortFree(port: number, service: string, variable: string): Promise<void> {
  if (!(await portFree(port))) {
    throw new StackError(
      `port ${port} on 127.0.0.1 is in use by another program, so ${service} cannot start there. ` +
        `Stop that program, or pick another port with ${variable}=<port>.`,
    );
  }
}

/** A plain detached program with a pid file: Temporal, FerretDB, the replicas. */
export function daemon(spec: {
  name: string;
  external: string | undefined;
  address: string;
  /** The port it listens on, checked free before it starts (none for a worker that only polls). */
  port?: number;
  portVariable?: string;
  command: () => { cmd: string; args: string[]; marker: string; env?: NodeJS.ProcessEnv };
  /**
   * Work before a start (not before stop or status): its `env` is added to the command's environment, its
   * `args` to the command's arguments (what it built, e.g. the built worker's entry).
   */
  prepare?: (log: (line: string) => void) => Promise<{ env?: Record<string, string>; args?: string[] }>;
  /** `logSince()` is what the process wrote since this start (the log file is appended to). */
  ready: (logSince: () => string) => Promise<boolean>;
  timeoutMs: number;
}): Service {
  const pf = pidFile(spec.name);
  const lf = logFile(spec.name);
  return {
    name: spec.name,
    external: spec.external,
    async start(log) {
      const { cmd, args, marker, env } = spec.command();
      if (pidRunning(readPid(pf), marker)) return;
      if (spec.port !== undefined) await ensurePortFree(spec.port, spec.name, spec.portVariable ?? 'its port setting');
      const prepared = spec.prepare ? await spec.prepare(log) : {};
      log(`starting ${spec.name} on ${spec.address}`);
      const offset = existsSync(lf) ? statSync(lf).size : 0;
      const logSince = () => (existsSync(lf) ? readFileSync(lf).subarray(offset).toString('utf8') : '');
      const launch = async () => {
        const started = startDetached(cmd, [...args, ...(prepared.args ?? [])], lf, { cwd: projectRoot, env: { ...(env ?? process.env), ...prepared.env } });
        writePid(pf, started.pid);
        await waitFor(spec.name, () => spec.ready(logSince), {
          timeoutMs: spec.timeoutMs,
          logFile: lf,
          stillAlive: () => pidRunning(started.pid, marker),
          ended: started.ended,
        });
      };
      try {
        await launch();
      } catch (e) {
        // One more start for a program that died at once: a fresh machine's first minutes (disk, caches
        // being written) can fail a start that then succeeds. It is said, and a second failure is final.
        if (!(e instanceof ExitedDuringStartup)) throw e;
        log(`${e.message}\nstarting ${spec.name} once more`);
        if (spec.port !== undefined) await ensurePortFree(spec.port, spec.name, spec.portVariable ?? 'its port setting');
        await launch();
      }
    },
    async stop() {
      const pid = readPid(pf);
      if (pid !== undefined) await stopPid(pid, spec.command().marker);
      removeFile(pf);
    },
    status() {
      if (spec.external) return { name: spec.name, state: 'external', address: spec.external };
      const pid = readPid(pf);
      const running = pidRunning(pid, spec.command().marker);
      return { name: spec.name, state: running ? 'running' : 'stopped', pid: running ? pid : undefined, address: spec.address, log: lf };
    },
  };
}

/** The URLs this stack serves, on its (possibly moved) ports. */
function ownUrls() {
  return {
    databaseUrl: `postgres://moisson:moisson@127.0.0.1:${ports.postgres}/moisson`,
    mongoUrl: `mongodb://127.0.0.1:${ports.mongo}/moisson`,
    temporalAddress: `127.0.0.1:${ports.temporal}`,
  };
}

/** A URL in the environment names someone else's service unless it is one this stack serves itself. */
function externalUrl(variable: 'DATABASE_URL' | 'MONGO_URL' | 'TEMPORAL_ADDRESS', own: string): string | undefined {
  const value = process.env[variable];
  return value && value !== own ? value : undefined;
}

// ---------------------------------------------------------------- PostgreSQL

/** PostgreSQL refuses to run as root: as root we run it as the Debian `postgres` user. */
function asPgUser(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function pgDataDir(): string {
  if (!isRoot()) return paths.pgInProject;
  try {
    run('runuser', ['-u', 'postgres', '--', 'test', '-x', projectRoot], { quiet: true });
    return paths.pgInProject;
  } catch {
    return paths.pgFallbackData;
  }
}

function postgresService(): Service {
  const external = externalUrl('DATABASE_URL', ownUrls().databaseUrl);
  const address = `127.0.0.1:${ports.postgres}`;
  const pf = pidFile('postgres');
  const dataDir = () => pgDataDir();
  const serverLog = () => join(dataDir(), 'server.log');
  const postmasterPid = () => readPid(join(dataDir(), 'postmaster.pid'));

  function pgCtl(args: string[]): void {
    const [cmd, full] = asPgUser(join(pgBin(), 'pg_ctl'), args);
    run(cmd, full, { quiet: true });
  }

  async function ensureDatabase(): Promise<void> {
    const sql = postgres({ host: '127.0.0.1', port: ports.postgres, user: 'moisson', password: 'moisson', database: 'postgres', max: 1, onnotice: () => {} });
    try {
      // `moisson` for the platform, `ferretdb` for FerretDB's PostgreSQL backend (the local MongoDB).
      for (const name of ['moisson', FERRETDB_DATABASE]) {
        const rows = await sql`select 1 from pg_database where datname = ${name}`;
        if (rows.length === 0) await sql.unsafe(`create database ${name}`);
      }
    } finally {
      await sql.end();
    }
  }

  return {
    name: 'postgres',
    external,
    async start(log) {
      const dir = dataDir();
      if (pidRunning(postmasterPid(), 'postgres')) {
        writePid(pf, postmasterPid()!);
        await ensureDatabase();
        return;
      }
      await ensurePortFree(ports.postgres, 'PostgreSQL', 'MOISSON_PG_PORT');
      if (!existsSync(join(dir, 'PG_VERSION'))) {
        if (dir !== paths.pgInProject) log(`the postgres user cannot reach ${projectRoot}; the cluster lives in ${dir}`);
        log(`creating a PostgreSQL cluster in ${dir}`);
        // Only the cluster folder is private: its parents must stay traversable by the postgres user.
        mkdirSync(join(dir, '..'), { recursive: true });
        mkdirSync(dir, { mode: 0o700 });
        const pwFile = join(dir, '..', `.moisson-pg-pw-${process.pid}`);
        writeFileSync(pwFile, 'moisson\n', { mode: 0o600 });
        if (isRoot()) {
          const uid = Number(run('id', ['-u', 'postgres'], { quiet: true }).trim());
          const gid = Number(run('id', ['-g', 'postgres'], { quiet: true }).trim());
          chownSync(dir, uid, gid);
          chownSync(pwFile, uid, gid);
        }
        try {
          const [cmd, args] = asPgUser(join(pgBin(), 'initdb'), [
            '-D', dir, '-U', 'moisson', `--pwfile=${pwFile}`, '--auth-local=trust', '--auth-host=scram-sha-256',
            '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions',
          ]);
          run(cmd, args, { quiet: true });
        } finally {
          removeFile(pwFile);
        }
      }
      log(`starting PostgreSQL on ${address}`);
      const options = [`-p ${ports.postgres}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", '-c max_connections=200', '-c shared_buffers=256MB'];
      try {
        pgCtl(['-D', dir, '-l', serverLog(), '-w', '-t', '60', '-o', options.join(' '), 'start']);
      } catch (err) {
        throw new StackError(`PostgreSQL failed to start: ${(err as Error).message}\nserver log ${serverLog()}:\n${logTail(serverLog())}`);
      }
      writePid(pf, postmasterPid()!);
      await ensureDatabase();
    },
    async stop() {
      const dir = dataDir();
      if (pidRunning(postmasterPid(), 'postgres')) pgCtl(['-D', dir, '-m', 'fast', '-w', 'stop']);
      removeFile(pf);
    },
    status() {
      if (external) return { name: 'postgres', state: 'external', address: redactUrl(external) };
      const pid = postmasterPid();
      const running = pidRunning(pid, 'postgres');
      return { name: 'postgres', state: running ? 'running' : 'stopped', pid: running ? pid : undefined, address, log: serverLog() };
    },
  };
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

// ---------------------------------------------------------------- the others

/**
 * With payload keys the histories hold ciphertext: the Web UI is pointed at the API's codec endpoint
 * (api/codec) so an operator sees decoded payloads. Without keys there is nothing to decode.
 */
export function uiCodecArgs(env: NodeJS.ProcessEnv, apiPort: number): string[] {
  return loadPayloadCodecConfig(env).keys.length > 0 ? ['--ui-codec-endpoint', `http://127.0.0.1:${apiPort}/codec`] : [];
}

function temporalService(): Service {
  const external = externalUrl('TEMPORAL_ADDRESS', ownUrls().temporalAddress);
  return daemon({
    name: 'temporal',
    external,
    address: `127.0.0.1:${ports.temporal} (Web UI http://127.0.0.1:${ports.temporalUi})`,
    port: ports.temporal,
    portVariable: 'MOISSON_TEMPORAL_PORT',
    command: () => ({
      cmd: paths.temporalCli,
      marker: 'start-dev',
      args: [
        'server', 'start-dev',
        '--db-filename', paths.temporalDb,
        '--ip', '127.0.0.1',
        '--port', String(ports.temporal),
        '--ui-port', String(ports.temporalUi),
        '--http-port', String(ports.temporalHttp),
        '--metrics-port', String(ports.temporalMetrics),
        '--log-level', 'warn',
        ...uiCodecArgs(process.env, Number(process.env.API_PORT ?? 8090)),
      ],
    }),
    ready: async () => (await portOpen(ports.temporal)) && (await portOpen(ports.temporalUi)),
    timeoutMs: 60_000,
  });
}

/** The PostgreSQL database FerretDB keeps the local MongoDB in. */
const FERRETDB_DATABASE = 'ferretdb';

/**
 * FerretDB on its PostgreSQL backend, not SQLite: both evaluate most filters themselves over the whole
 * collection, but the PostgreSQL backend hands equality filters to PostgreSQL (a WHERE), which the
 * prices archive's reads by date rely on; its SQLite backend hands over only `_id` equality, and even
 * that scans the table. The 7-day daily archive: 23.5 docs/s on SQLite, see README (prices).
 */
function ferretdbService(): Service {
  const external = externalUrl('MONGO_URL', ownUrls().mongoUrl);
  return daemon({
    name: 'ferretdb',
    external: external && redactUrl(external),
    address: `mongodb://127.0.0.1:${ports.mongo}`,
    port: ports.mongo,
    portVariable: 'MOISSON_MONGO_PORT',
    command: () => {
      mkdirSync(paths.ferretdbData, { recursive: true });
      return {
        cmd: paths.ferretdb,
        marker: 'ferretdb',
        args: [
          // With someone else's PostgreSQL (DATABASE_URL set) the stack creates no database there: SQLite then.
          ...(externalUrl('DATABASE_URL', ownUrls().databaseUrl)
            ? ['--handler=sqlite', `--sqlite-url=file:${paths.ferretdbData}/`]
            : ['--handler=postgresql', `--postgresql-url=postgres://moisson:moisson@127.0.0.1:${ports.postgres}/${FERRETDB_DATABASE}`]),
          `--state-dir=${paths.ferretdbData}`,
          `--listen-addr=127.0.0.1:${ports.mongo}`,
          `--debug-addr=127.0.0.1:${ports.ferretdbDebug}`,
          '--telemetry=disable',
          '--log-level=warn',
        ],
      };
    },
    ready: async () => {
      if (!(await portOpen(ports.mongo))) return false;
      const client = new MongoClient(`mongodb://127.0.0.1:${ports.mongo}/`, { serverSelectionTimeoutMS: 1000 });
      try {
        await client.db('admin').command({ ping: 1 });
        return true;
      } catch {
        return false;
      } finally {
        await client.close();
      }
    },
    timeoutMs: 30_000,
  });
}

/** The S3-compatible server (SeaweedFS's S3 gateway) for consolidation's file sources. */
function seaweedfsService(): Service {
  const own = `http://127.0.0.1:${ports.s3}`;
  const configured = process.env.CONSOLIDATION_S3_ENDPOINT;
  return daemon({
    name: 'seaweedfs',
    external: configured && configured !== own ? configured : undefined,
    address: `${own} (S3, bucket ${LOCAL_S3.bucket})`,
    port: ports.s3,
    portVariable: 'MOISSON_S3_PORT',
    command: () =>
      seaweedFsCommand({
        binary: seaweedFsBinary(),
        dataDir: paths.seaweedfsData,
        ports: { s3: ports.s3, master: ports.seaweedfsMaster, volume: ports.seaweedfsVolume, filer: ports.seaweedfsFiler },
      }),
    ready: () => seaweedFsReady(ports.s3),
    timeoutMs: 90_000,
  });
}

/**
 * Prometheus (Debian's package) scraping what the stack runs: the worker, the browser worker, the API and
 * Temporal, with moisson's alert rules (deploy/prometheus/rules). Its config is written at each start from
 * the stack's ports, so moved ports are scraped where they are.
 */
export function prometheusConfig(): string {
  const worker = Number(process.env.METRICS_PORT ?? 9464);
  const browser = Number(process.env.BROWSER_METRICS_PORT ?? 9474);
  const api = Number(process.env.API_PORT ?? 8090);
  const job = (name: string, port: number) => `  - job_name: ${name}\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;
  return (
    `# Written by the local stack (scripts/stack/services.ts) at each start.\n` +
    `global:\n  scrape_interval: 15s\n  evaluation_interval: 30s\n` +
    `rule_files:\n  - ${join(projectRoot, 'deploy', 'prometheus', 'rules')}/*.yml\n` +
    `scrape_configs:\n` +
    job('moisson-worker', worker) +
    job('moisson-browser-worker', browser) +
    job('moisson-api', api) +
    job('temporal', ports.temporalMetrics)
  );
}

function prometheusService(): Service {
  const dir = join(paths.data, 'prometheus');
  const config = join(dir, 'prometheus.yml');
  return daemon({
    name: 'prometheus',
    external: undefined,
    address: `http://127.0.0.1:${ports.prometheus}`,
    port: ports.prometheus,
    portVariable: 'MOISSON_PROMETHEUS_PORT',
    command: () => {
      mkdirSync(join(dir, 'data'), { recursive: true });
      writeFileSync(config, prometheusConfig());
      return {
        cmd: 'prometheus',
        marker: config,
        args: [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          '--storage.tsdb.retention.time=7d',
          `--web.listen-address=127.0.0.1:${ports.prometheus}`,
        ],
      };
    },
    ready: () => portOpen(ports.prometheus),
    timeoutMs: 30_000,
  });
}

/** Local replicas of third-party services, as processes, for the demo and manual runs. */
function replicaService(name: string, entry: string, port: number, portVariable: string): Service {
  return daemon({
    name,
    external: undefined,
    address: `http://127.0.0.1:${port}`,
    port,
    portVariable,
    command: () => ({ cmd: process.execPath, args: ['--import', 'tsx', entry, '--port', String(port)], marker: entry }),
    ready: () => portOpen(port),
    timeoutMs: 30_000,
  });
}

/**
 * How the stack runs the worker process (the bench's `worker.memory` starts it the same way):
 * - the worker built ahead (worker-build.ts, scripts/build-worker.ts), run by plain `node`: no tsx at run
 *   time, so no ESM loader thread (another V8 isolate), no source maps and no TypeScript sources in the heap.
 * - `--max-semi-space-size=4` (MB): V8's young generation grows to 3 × 16 MB in each of the process's
 *   isolates (main thread, workflow thread) while modules load and never gives it back; at 4 MB an idle
 *   worker holds ~60 MB less, for more frequent (cheap) scavenges.
 * - `--expose-gc`: the worker collects its garbage once it falls idle after work (workers/idle-gc.ts).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates (Temporal's Rust core, libuv, V8's
 *   helpers) an arena of its own; two are enough for a process that mostly waits on the network.
 *   `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` at 128 KB (glibc's initial values, fixed): glibc
 *   otherwise raises both after a large block is freed and then keeps up to 64 MB of freed memory per
 *   arena; fixed, a burst of work gives its memory back (idle after a run 255 → 215 MB measured).
 * - MOISSON_WORKFLOW_BUNDLE: the bundle of the current sources (workflow-bundle.ts), never webpack at start.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4', '--expose-gc'] as const;
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' } as const;

/** Node's arguments for the built worker whose entry is `entry` (ensureWorkerBuild's answer). */
export function workerNodeArgs(entry: string): string[] {
  return [...WORKER_NODE_FLAGS, entry];
}

/** What the command line of a built worker holds (its entry is `.data/worker-build/<sources hash>/main.js`). */
const BUILT_WORKER_MARKER = '/worker-build/';

/**
 * The moisson worker as a background process of the stack, pointed at the stack and its replicas.
 * Not started by `stack:up` (tests run their own workers); the demo starts it, `stack:down` stops it.
 */
export function workerService(): Service {
  const port = Number(process.env.METRICS_PORT ?? 9464);
  return daemon({
    name: 'worker',
    external: undefined,
    address: `task queue moisson, metrics http://127.0.0.1:${port}/metrics`,
    port,
    portVariable: 'METRICS_PORT',
    command: () => ({
      cmd: process.execPath,
      // The entry comes from prepare (the build of the current sources).
      args: [...WORKER_NODE_FLAGS],
      marker: BUILT_WORKER_MARKER,
      env: { ...process.env, ...stackEnvironment(), ...WORKER_ENV, METRICS_PORT: String(port) },
    }),
    prepare: async (log) => {
      const [bundle, entry] = await Promise.all([ensureWorkflowBundle(log), ensureWorkerBuild(log)]);
      return { env: { MOISSON_WORKFLOW_BUNDLE: bundle }, args: [entry] };
    },
    ready: () => portOpen(port),
    timeoutMs: 60_000,
  });
}

/** The browser worker (`moisson-browser` queue, Playwright on Debian's Chromium); started by the demo. */
export function browserWorkerService(): Service {
  return daemon({
    name: 'browser-worker',
    external: undefined,
    address: 'task queue moisson-browser',
    command: () => ({
      cmd: process.execPath,
      args: [...BROWSER_WORKER_NODE_FLAGS, '--import', 'tsx', 'workers/browser.ts'],
      marker: 'workers/browser.ts',
      env: { ...process.env, ...stackEnvironment() },
    }),
    // It serves no port: it is ready once it says that it polls.
    ready: async (logSince) => logSince().includes('polling task queue'),
    timeoutMs: 60_000,
  });
}

/** The REST API (`npm run api`); started by the demo, stopped by its pid. */
export function apiService(): Service {
  const port = Number(process.env.API_PORT ?? 8090);
  return daemon({
    name: 'api',
    external: undefined,
    address: `http://127.0.0.1:${port} (docs /docs)`,
    port,
    portVariable: 'API_PORT',
    command: () => ({
      cmd: process.execPath,
      args: ['--import', 'tsx', 'api/server.ts'],
      marker: 'api/server.ts',
      env: { ...process.env, ...stackEnvironment(), API_PORT: String(port) },
    }),
    ready: () => portOpen(port),
    timeoutMs: 60_000,
  });
}

export function services(): Service[] {
  return [
    postgresService(),
    temporalService(),
    ferretdbService(),
    prometheusService(),
    replicaService('prices-replica', 'tests/replicas/prices/main.ts', ports.pricesReplica, 'MOISSON_PRICES_REPLICA_PORT'),
    replicaService('pmmp-replica', 'tests/replicas/pmmp/main.ts', ports.pmmpReplica, 'MOISSON_PMMP_REPLICA_PORT'),
    replicaService('pennylane-replica', 'tests/replicas/pennylane/main.ts', ports.pennylaneReplica, 'MOISSON_PENNYLANE_REPLICA_PORT'),
    replicaService('mailwizz-replica', 'tests/replicas/mailwizz/main.ts', ports.mailwizzReplica, 'MOISSON_MAILWIZZ_REPLICA_PORT'),
    replicaService('leads-replica', 'tests/replicas/leads/main.ts', ports.leadsReplica, 'MOISSON_LEADS_REPLICA_PORT'),
    replicaService('consolidation-replica', 'tests/replicas/consolidation/main.ts', ports.consolidationReplica, 'MOISSON_CONSOLIDATION_REPLICA_PORT'),
    replicaService('ban-replica', 'tests/replicas/consolidation/ban/main.ts', ports.banReplica, 'MOISSON_BAN_REPLICA_PORT'),
    replicaService('entreprises-replica', 'tests/replicas/consolidation/entreprises/main.ts', ports.entreprisesReplica, 'MOISSON_ENTREPRISES_REPLICA_PORT'),
    seaweedfsService(),
  ];
}

/** The replica's MailWizz lists for each category (a real installation names its own lists in LEADS_ROUTING). */
const LEADS_REPLICA_ROUTING = {
  default: { platform: 'general', listUid: 'general-list', template: 'welcome', tags: ['lead'] },
  categories: {
    restaurant: { platform: 'food', listUid: 'restaurants-list', template: 'food-intro', tags: ['lead', 'food'] },
    hotel: { platform: 'travel', listUid: 'hotels-list', template: 'travel-intro', tags: ['lead', 'travel'] },
    health: { platform: 'health', listUid: 'health-list', template: 'health-intro', tags: ['lead', 'health'] },
    legal: { platform: 'legal', listUid: 'legal-list', template: 'legal-intro', tags: ['lead', 'legal'] },
    building: { platform: 'trades', listUid: 'building-list', template: 'trades-intro', tags: ['lead', 'trades'] },
    tech: { platform: 'tech', listUid: 'tech-list', template: 'tech-intro', tags: ['lead', 'tech'] },
  },
};

/**
 * The AWS SDK's own switch for its NodeVersionSupportWarning (its releases after January 2027 will need
 * Node >= 22; the release package-lock.json pins runs on Node 20, which the README supports). It silences
 * that one warning: every other warning is still printed. Set for `stack:up` itself and every process
 * of the stack (workers, API, the CLI and tests through the stack's environment file); a value set
 * explicitly (`false` to see it) wins.
 */
export const AWS_SDK_NODE_WARNING_OFF = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true' };

/** The environment that points moisson at this stack and its replicas (read by the demo and `moisson`). */
export function stackEnvironment(): Record<string, string> {
  const replica = `http://127.0.0.1:${ports.pricesReplica}`;
  return {
    DATABASE_URL: process.env.DATABASE_URL ?? ownUrls().databaseUrl,
    MONGO_URL: process.env.MONGO_URL ?? ownUrls().mongoUrl,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? ownUrls().temporalAddress,
    TEMPORAL_UI_URL: process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${ports.temporalUi}`,
    PROMETHEUS_URL: `http://127.0.0.1:${ports.prometheus}`,
    MOISSON_TEMPORAL_CLI: paths.temporalCli,
    MOISSON_TEMPORAL_TEST_SERVER: paths.temporalTestServer,
    PRICES_ERAPI_URL: `${replica}/erapi/v6`,
    PRICES_FAWAZ_URL: `${replica}/fawaz/npm/@fawazahmed0/currency-api`,
    PRICES_COINGECKO_URL: `${replica}/coingecko/api/v3`,
    PRICES_METALPRICEAPI_URL: `${replica}/metalpriceapi/v1`,
    METALPRICEAPI_KEY: 'replica-metals-key',
    PMMP_PORTAL_URL: `http://127.0.0.1:${ports.pmmpReplica}/index.php`,
    PENNYLANE_API_URL: `http://127.0.0.1:${ports.pennylaneReplica}/api/external/v2`,
    // The replica's own token (tests/replicas/pennylane): not a secret, it opens nothing real.
    PENNYLANE_API_TOKEN: 'replica-pennylane-token',
    LEADS_SEARCH_URL: `http://127.0.0.1:${ports.leadsReplica}/search`,
    LEADS_MAPS_URL: `http://127.0.0.1:${ports.leadsReplica}/maps`,
    LEADS_RDAP_URL: `http://127.0.0.1:${ports.leadsReplica}/rdap`,
    LEADS_DNS_SERVERS: `127.0.0.1:${ports.leadsReplica}`,
    // The replica is on loopback, which custom URLs may not reach unless allowed: only its own port.
    LEADS_SSRF_ALLOW: `127.0.0.1:${ports.leadsReplica}`,
    LEADS_ROUTING: JSON.stringify(LEADS_REPLICA_ROUTING),
    MAILWIZZ_URL: `http://127.0.0.1:${ports.mailwizzReplica}/api/index.php`,
    MAILWIZZ_API_KEY: 'replica-mailwizz-key',
    CONSOLIDATION_S3_ENDPOINT: process.env.CONSOLIDATION_S3_ENDPOINT ?? `http://127.0.0.1:${ports.s3}`,
    CONSOLIDATION_S3_REGION: process.env.CONSOLIDATION_S3_REGION ?? LOCAL_S3.region,
    // The local server's own keys (scripts/stack/seaweedfs.ts): not secrets, they open only that server.
    CONSOLIDATION_S3_ACCESS_KEY_ID: process.env.CONSOLIDATION_S3_ACCESS_KEY_ID ?? LOCAL_S3.accessKeyId,
    CONSOLIDATION_S3_SECRET_ACCESS_KEY: process.env.CONSOLIDATION_S3_SECRET_ACCESS_KEY ?? LOCAL_S3.secretAccessKey,
    CONSOLIDATION_S3_BUCKET: process.env.CONSOLIDATION_S3_BUCKET ?? LOCAL_S3.bucket,
    // The built-in source declarations name the real hosts; these point them at the local replica.
    CONSOLIDATION_ENDPOINT_REWRITES: ['https://data.pointsapport.ademe.fr', 'https://www.artisanat.fr', 'https://www.ordre.pharmacien.fr']
      .map((origin) => `${origin}=http://127.0.0.1:${ports.consolidationReplica}`)
      .join(','),
    CONSOLIDATION_BAN_URL: `http://127.0.0.1:${ports.banReplica}`,
    CONSOLIDATION_ENTREPRISES_URL: `http://127.0.0.1:${ports.entreprisesReplica}`,
    CONSOLIDATION_SIRENE_URL: `http://127.0.0.1:${ports.entreprisesReplica}/insee-sirene/StockEtablissement_utf8.zip`,
    // The console of this local stack (http://127.0.0.1:8090/console/): a fixed password, like the replicas'
    // keys it opens nothing beyond this machine's stack; a real deployment sets its own.
    MOISSON_CONSOLE_PASSWORD: process.env.MOISSON_CONSOLE_PASSWORD ?? 'moisson-local-console',
    // Politeness protects real sites; against our own replicas it would only slow the demo down.
    FETCH_POLITENESS: 'off',
    FETCH_ROBOTS: 'ignore',
    PROOF_STORE_DIR: join(paths.data, 'proofs'),
    ...AWS_SDK_NODE_WARNING_OFF,
  };
}

export function writeStackEnv(): void {
  mkdirSync(paths.data, { recursive: true });
  const env = stackEnvironment();
  writeFileSync(
    paths.stackEnv,
    '# Written by `npm run stack:up`: points moisson at the local stack and its replicas.\n' +
      Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join('\n') + '\n',
  );
}

/** The file is also sourced by shells (`set -a; . .data/stack.env`): JSON values need single quotes. */
function shellQuote(v: string): string {
  return /^[\w./:@,+=-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function shellUnquote(v: string): string {
  return v.length >= 2 && v.startsWith("'") && v.endsWith("'") ? v.slice(1, -1).replace(/'\\''/g, "'") : v;
}

export function readStackEnv(): Record<string, string> {
  if (!existsSync(paths.stackEnv)) return {};
  return Object.fromEntries(
    readFileSync(paths.stackEnv, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#') && l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), shellUnquote(l.slice(l.indexOf('=') + 1))]),
  );
}
