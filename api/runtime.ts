/**
 * The API's connections, from configuration: PostgreSQL (sessions in Casablanca time, a statement
 * timeout), the proof store, and Temporal and MongoDB connected on first use, so the API starts and
 * serves data while either is down (and /health says so).
 */
import { Client, Connection } from '@temporalio/client';
import { connectMongo, connectPostgres, type Archive } from '../activities/engine/db';
import { createProofStore } from '../activities/engine/proofs';
import { payloadCodecFor, temporalDataConverter } from '../control/payload-codec';
import { loadApiConfig, loadCoreConfig, loadFetchConfig, loadPayloadCodecConfig, type ApiConfig, type CoreConfig } from '../schema/config';
import type { ApiContext } from './context';

export interface ApiRuntime {
  ctx: ApiContext;
  core: CoreConfig;
  close(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/**
 * How the API's sessions plan (shared with the bench's bare peer, scripts/bench/api-bare.ts, so both run
 * the same plans):
 * - every statement is planned for its own values (reads by key excepted, `API_LOOKUP_SESSION`): a generic plan (which PostgreSQL picks for a prepared
 *   statement after five runs) guesses the selectivity of a search or a buyer filter and gets it badly
 *   wrong for common words and rare names alike; planning these statements costs well under a millisecond;
 * - an index probe costs about a sequential page read (random_page_cost 1.1, the usual figure for SSDs and
 *   cached tables; the server default, 4, is for spinning disks): with 4, the planner probes an
 *   organisation's few hundred consultations by key less readily than it scans all 134k attributions
 *   (4,856 buffers and a sequential scan against 2,584 buffers through the key index, 5-8x slower).
 */
export const API_SESSION = {
  TimeZone: 'Africa/Casablanca',
  plan_cache_mode: 'force_custom_plan',
  random_page_cost: '1.1',
} as const;

/**
 * Sessions for statements that find rows by a key (a consultation's detail: the consultation, its lots,
 * notices, attributions and bids, all by its key). Their best plan does not depend on the key's value, so
 * the generic plan PostgreSQL settles on after a prepared statement's fifth run is the plan every run would
 * get, and reusing it saves the planning: 0.56 of the 0.8 ms PostgreSQL spends on a detail (EXPLAIN ANALYZE,
 * 100k data set), about twice the cold details a second (README, API performance).
 */
export const API_LOOKUP_SESSION = { ...API_SESSION, plan_cache_mode: 'auto' } as const;

/**
 * The API's two pools (`db`: every read planned for its values; `lookups`: reads by key, `API_LOOKUP_SESSION`),
 * named `<name>` and `<name>-lookups` in pg_stat_activity. The bench's bare peer opens the same ones.
 */
export function connectApiDatabases(databaseUrl: string, config: Pick<ApiConfig, 'dbPoolSize' | 'dbLookupPoolSize' | 'statementTimeoutMs'>, name: string) {
  const pool = (max: number, application_name: string, session: typeof API_SESSION | typeof API_LOOKUP_SESSION) =>
    connectPostgres(databaseUrl, { max, connection: { application_name, statement_timeout: config.statementTimeoutMs, ...session } });
  return { db: pool(config.dbPoolSize, name, API_SESSION), lookups: pool(config.dbLookupPoolSize, `${name}-lookups`, API_LOOKUP_SESSION) };
}

/** `env` absent: the process's own environment, read by the config module's loaders. */
export function createApiRuntime(env?: Env, overrides: { config?: Partial<ApiConfig>; now?: () => Date } = {}): ApiRuntime {
  const core = loadCoreConfig(env);
  const config = { ...loadApiConfig(env), ...overrides.config };
  const fetchConfig = loadFetchConfig(env);
  const codecConfig = loadPayloadCodecConfig(env);
  const codec = payloadCodecFor(codecConfig);
  const { db, lookups } = connectApiDatabases(core.databaseUrl, config, 'moisson-api');

  let temporal: Promise<Client> | undefined;
  const connectTemporal = () => {
    temporal ??= Connection.connect({ address: core.temporal.address, connectTimeout: '3s' })
      .then((connection) => new Client({ connection, namespace: core.temporal.namespace, dataConverter: temporalDataConverter(codecConfig) }))
      .catch((err: unknown) => {
        temporal = undefined; // the next request tries again
        throw err;
      });
    return temporal;
  };
  let mongo: Promise<Archive> | undefined;
  const connectArchive = () => {
    mongo ??= connectMongo(core.mongoUrl).catch((err: unknown) => {
      mongo = undefined;
      throw err;
    });
    return mongo;
  };

  const ctx: ApiContext = {
    config,
    db,
    lookups,
    proofs: createProofStore({ db: db.db, dir: fetchConfig.proofStoreDir }),
    temporal: connectTemporal,
    temporalTaskQueue: core.temporal.taskQueue,
    temporalBrowserTaskQueue: core.temporal.browserTaskQueue,
    temporalUiUrl: core.temporal.uiUrl,
    temporalNamespace: core.temporal.namespace,
    codec: { codec, uiOrigins: codecConfig.uiOrigins, token: codecConfig.token },
    now: overrides.now ?? (() => new Date()),
    health: {
      postgresql: async () => {
        await db.sql`select 1`;
      },
      mongodb: async () => {
        const archive = await connectArchive();
        await archive.db.command({ ping: 1 });
      },
      temporal: async () => {
        const client = await connectTemporal();
        await client.workflowService.getSystemInfo({});
      },
    },
  };
  return {
    ctx,
    core,
    async close() {
      await Promise.allSettled([
        db.close(),
        lookups.close(),
        temporal?.then((c) => c.connection.close()),
        mongo?.then((m) => m.close()),
      ]);
    },
  };
}
