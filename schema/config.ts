/**
 * The one place that reads the environment. Every process (workers, API, CLI, scripts) parses it here,
 * gets typed settings, and sees every bad variable at once rather than one per restart.
 * Secrets live only in the returned object: never put them in workflow inputs, histories or logs
 * (`redactConfig` is what may be printed).
 */
import { z } from 'zod';

export const LOCAL_STACK = {
  databaseUrl: 'postgres://moisson:moisson@127.0.0.1:55432/moisson',
  mongoUrl: 'mongodb://127.0.0.1:27018/moisson',
  temporalAddress: '127.0.0.1:7233',
  temporalUiUrl: 'http://127.0.0.1:8233',
} as const;

/** A setting that failed to parse, named by its environment variable. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: ConfigIssue[],
    readonly section: string,
  ) {
    super(
      `invalid ${section} configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' });
const mongoUrl = z.url({ protocol: /^mongodb(\+srv)?$/, error: 'must be a mongodb:// URL' });
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Comma-separated list of known names, order kept (it is a fallback order). */
function orderedList<const T extends readonly [string, ...string[]]>(allowed: T) {
  return z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.enum(allowed, { error: (iss) => `unknown source '${String(iss.input)}' (known: ${allowed.join(', ')})` }))
        .min(1, 'must list at least one source'),
    );
}

const coreSchema = z.object({
  DATABASE_URL: postgresUrl.default(LOCAL_STACK.databaseUrl),
  MONGO_URL: mongoUrl.default(LOCAL_STACK.mongoUrl),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[\w.-]+:\d+$/, 'must be host:port')
    .default(LOCAL_STACK.temporalAddress),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: httpUrl.default(LOCAL_STACK.temporalUiUrl),
  MOISSON_TASK_QUEUE: z.string().min(1).default('moisson'),
  MOISSON_BROWSER_TASK_QUEUE: z.string().min(1).default('moisson-browser'),
  METRICS_PORT: port.default(9464),
  /** 0.0.0.0 in a container, so Prometheus can reach it. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** The browser worker's Prometheus endpoint (its own port: both workers may run on one host). */
  BROWSER_METRICS_PORT: port.default(9474),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('moisson'),
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** Browser activities at once per browser worker: 2–4 suits 2 cores. */
  BROWSER_CONCURRENCY: positiveInt.max(16).default(2),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type CoreConfig = {
  databaseUrl: string;
  mongoUrl: string;
  temporal: { address: string; namespace: string; uiUrl: string; taskQueue: string; browserTaskQueue: string };
  metricsPort: number;
  metricsHost: string;
  browserMetricsPort: number;
  otel: { serviceName: string; otlpEndpoint: string | undefined };
  logLevel: z.infer<typeof coreSchema>['LOG_LEVEL'];
  browser: { chromiumPath: string; concurrency: number };
};

export const PRICE_SOURCES = ['erapi', 'fawaz', 'coingecko', 'metalpriceapi'] as const;
export type PriceSourceId = (typeof PRICE_SOURCES)[number];

const pricesSchema = z
  .object({
    PRICES_ERAPI_URL: httpUrl.default('https://open.er-api.com/v6'),
    PRICES_FAWAZ_URL: httpUrl.default('https://cdn.jsdelivr.net/npm/@fawazahmed0/currency-api'),
    PRICES_COINGECKO_URL: httpUrl.default('https://api.coingecko.com/api/v3'),
    PRICES_METALPRICEAPI_URL: httpUrl.default('https://api.metalpriceapi.com/v1'),
    COINGECKO_API_KEY: optionalSecret,
    METALPRICEAPI_KEY: optionalSecret,
    PRICES_FX_SOURCES: orderedList(['erapi', 'fawaz']).default(['erapi', 'fawaz']),
    PRICES_CRYPTO_SOURCES: orderedList(['coingecko', 'fawaz']).default(['coingecko', 'fawaz']),
    PRICES_METALS_SOURCES: orderedList(['metalpriceapi', 'fawaz']).default(['metalpriceapi', 'fawaz']),
    PRICES_HTTP_TIMEOUT_MS: positiveInt.default(10_000),
    /** A 429 asking us to wait longer than this fails over to the next source instead of waiting. */
    PRICES_MAX_RETRY_AFTER_S: positiveInt.default(60),
    PRICES_ARCHIVE_DAYS: positiveInt.max(366).default(7),
    PRICES_MIN_PRICE_MRU: z.coerce.number().positive().default(0.01),
  });

/**
 * Rules across variables, checked on the raw environment: zod skips object refinements once a field
 * fails, and every problem must be reported at once.
 */
function pricesCrossChecks(env: Env): ConfigIssue[] {
  const metals = (env.PRICES_METALS_SOURCES ?? 'metalpriceapi,fawaz').split(',').map((x) => x.trim());
  if (metals.includes('metalpriceapi') && !env.METALPRICEAPI_KEY?.trim()) {
    return [{ variable: 'METALPRICEAPI_KEY', message: 'required while PRICES_METALS_SOURCES lists metalpriceapi (or remove it from that list)' }];
  }
  return [];
}

export type PricesConfig = {
  sources: {
    erapi: { baseUrl: string };
    fawaz: { baseUrl: string };
    coingecko: { baseUrl: string; apiKey: string | undefined };
    metalpriceapi: { baseUrl: string; apiKey: string | undefined };
  };
  chains: { fx: ('erapi' | 'fawaz')[]; crypto: ('coingecko' | 'fawaz')[]; metals: ('metalpriceapi' | 'fawaz')[] };
  httpTimeoutMs: number;
  maxRetryAfterMs: number;
  archiveDays: number;
  minPriceMru: number;
};

type Env = Record<string, string | undefined>;

/**
 * The environment a child program runs in: this process's, with `extra` set (e.g. OMP_THREAD_LIMIT for
 * tesseract). Passed through whole, not read as settings: the tools read their own variables (PATH, TESSDATA_PREFIX).
 */
export function toolEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** Empty strings count as unset: `FOO= cmd` is how people clear a variable in a shell. */
function cleanEnv(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

function parseSection<S extends z.ZodType>(schema: S, env: Env, section: string, crossChecks?: (env: Env) => ConfigIssue[]): z.output<S> {
  const clean = cleanEnv(env);
  const result = schema.safeParse(clean);
  const issues: ConfigIssue[] = result.success
    ? []
    : result.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message }));
  issues.push(...(crossChecks?.(clean) ?? []));
  if (issues.length > 0 || !result.success) throw new ConfigError(issues, section);
  return result.data;
}

export function loadCoreConfig(env: Env = process.env): CoreConfig {
  const c = parseSection(coreSchema, env, 'core');
  return {
    databaseUrl: c.DATABASE_URL,
    mongoUrl: c.MONGO_URL,
    temporal: {
      address: c.TEMPORAL_ADDRESS,
      namespace: c.TEMPORAL_NAMESPACE,
      uiUrl: c.TEMPORAL_UI_URL,
      taskQueue: c.MOISSON_TASK_QUEUE,
      browserTaskQueue: c.MOISSON_BROWSER_TASK_QUEUE,
    },
    metricsPort: c.METRICS_PORT,
    metricsHost: c.METRICS_HOST,
    browserMetricsPort: c.BROWSER_METRICS_PORT,
    otel: { serviceName: c.OTEL_SERVICE_NAME, otlpEndpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT },
    logLevel: c.LOG_LEVEL,
    browser: { chromiumPath: c.CHROMIUM_PATH, concurrency: c.BROWSER_CONCURRENCY },
  };
}

export function loadPricesConfig(env: Env = process.env): PricesConfig {
  const p = parseSection(pricesSchema, env, 'prices', pricesCrossChecks);
  return {
    sources: {
      erapi: { baseUrl: p.PRICES_ERAPI_URL },
      fawaz: { baseUrl: p.PRICES_FAWAZ_URL },
      coingecko: { baseUrl: p.PRICES_COINGECKO_URL, apiKey: p.COINGECKO_API_KEY },
      metalpriceapi: { baseUrl: p.PRICES_METALPRICEAPI_URL, apiKey: p.METALPRICEAPI_KEY },
    },
    chains: { fx: p.PRICES_FX_SOURCES, crypto: p.PRICES_CRYPTO_SOURCES, metals: p.PRICES_METALS_SOURCES },
    httpTimeoutMs: p.PRICES_HTTP_TIMEOUT_MS,
    maxRetryAfterMs: p.PRICES_MAX_RETRY_AFTER_S * 1000,
    archiveDays: p.PRICES_ARCHIVE_DAYS,
    minPriceMru: p.PRICES_MIN_PRICE_MRU,
  };
}


// ---------------------------------------------------------------- fetch (the polite HTTP fetcher of crawlers)

/** Politeness is configuration, not code: the fetcher of activities/engine takes these as its options. */
export interface FetchConfig {
  userAgent: string;
  politeness: false | { maxConcurrent: number; ratePerSecond: number; delayMs: [number, number] };
  hosts: Record<string, { maxConcurrent?: number; ratePerSecond?: number; delayMs?: [number, number] }>;
  /**
   * `fleet`: every worker process shares one budget per host through PostgreSQL (etl.host_budgets), so
   * a backfill spread over several workers sends what one would; `process`: each process has its own.
   */
  politenessScope: 'fleet' | 'process';
  robots: false | { ttlMs: number };
  timeouts: { connectMs: number; totalMs: number };
  maxBodyBytes: number;
  breaker: { threshold: number; coolDownMs: number };
  /** Where the proof store keeps page and document bytes (PROOF_STORE_DIR). */
  proofStoreDir: string;
}

const nonNegative = z.coerce.number().nonnegative();
const nonNegativeInt = z.coerce.number().int().nonnegative();

const hostPoliteness = z
  .object({
    maxConcurrent: z.number().int().nonnegative().optional(),
    ratePerSecond: z.number().nonnegative().optional(),
    delayMs: z
      .tuple([z.number().nonnegative(), z.number().nonnegative()])
      .refine(([min, max]) => min <= max, 'delayMs must be [min, max] with min <= max')
      .optional(),
  })
  .strict();

const hostsJson = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON: {"host": {"maxConcurrent": 1, "ratePerSecond": 0.5, "delayMs": [2000, 5000]}}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1), hostPoliteness));

const fetcherSchema = z.object({
  /** Who to contact about our crawler: a URL or `mailto:`; it goes in the User-Agent. */
  FETCH_CONTACT: z.string().min(3).default('https://github.com/moisson/moisson'),
  /** The whole User-Agent, when `moisson/0.1 (+contact)` will not do. */
  FETCH_USER_AGENT: z.string().min(3).optional(),
  FETCH_POLITENESS: z.enum(['on', 'off']).default('on'),
  FETCH_MAX_CONCURRENT_PER_HOST: nonNegativeInt.default(1),
  FETCH_RATE_PER_SECOND: nonNegative.default(0.5),
  FETCH_DELAY_MIN_MS: nonNegativeInt.default(2000),
  FETCH_DELAY_MAX_MS: nonNegativeInt.default(5000),
  FETCH_HOSTS: hostsJson.optional(),
  FETCH_POLITENESS_SCOPE: z.enum(['fleet', 'process']).default('fleet'),
  FETCH_ROBOTS: z.enum(['obey', 'ignore']).default('obey'),
  FETCH_ROBOTS_TTL_S: positiveInt.max(86_400).default(86_400),
  FETCH_CONNECT_TIMEOUT_MS: positiveInt.default(15_000),
  FETCH_TIMEOUT_MS: positiveInt.default(120_000),
  FETCH_MAX_BODY_MB: z.coerce.number().positive().default(50),
  FETCH_BREAKER_THRESHOLD: nonNegativeInt.default(5),
  FETCH_BREAKER_COOLDOWN_S: positiveInt.default(600),
  PROOF_STORE_DIR: z.string().min(1).default('.data/proofs'),
});

export function loadFetchConfig(env: Env = process.env): FetchConfig {
  const c = parseSection(fetcherSchema, env, 'fetch', (clean) => {
    const min = Number(clean.FETCH_DELAY_MIN_MS ?? 2000);
    const max = Number(clean.FETCH_DELAY_MAX_MS ?? 5000);
    return min > max ? [{ variable: 'FETCH_DELAY_MAX_MS', message: `must be at least FETCH_DELAY_MIN_MS (${min})` }] : [];
  });
  return {
    userAgent: c.FETCH_USER_AGENT ?? `moisson/0.1 (+${c.FETCH_CONTACT})`,
    politeness:
      c.FETCH_POLITENESS === 'off'
        ? false
        : { maxConcurrent: c.FETCH_MAX_CONCURRENT_PER_HOST, ratePerSecond: c.FETCH_RATE_PER_SECOND, delayMs: [c.FETCH_DELAY_MIN_MS, c.FETCH_DELAY_MAX_MS] },
    hosts: c.FETCH_HOSTS ?? {},
    politenessScope: c.FETCH_POLITENESS_SCOPE,
    robots: c.FETCH_ROBOTS === 'ignore' ? false : { ttlMs: c.FETCH_ROBOTS_TTL_S * 1000 },
    timeouts: { connectMs: c.FETCH_CONNECT_TIMEOUT_MS, totalMs: c.FETCH_TIMEOUT_MS },
    maxBodyBytes: Math.round(c.FETCH_MAX_BODY_MB * 1024 * 1024),
    breaker: { threshold: c.FETCH_BREAKER_THRESHOLD, coolDownMs: c.FETCH_BREAKER_COOLDOWN_S * 1000 },
    proofStoreDir: c.PROOF_STORE_DIR,
  };
}

// ---------------------------------------------------------------- pmmp (marchespublics.gov.ma)

const pmmpSchema = z.object({
  /** The portal's `index.php` (a local replica's in tests and the demo). */
  PMMP_PORTAL_URL: httpUrl.default('https://www.marchespublics.gov.ma/index.php'),
  /** Rows per list page: the portal offers 10/20/50/100/500; 500 makes its postbacks very slow. */
  PMMP_PAGE_SIZE: z.coerce.number().pipe(z.union([z.literal(10), z.literal(20), z.literal(50), z.literal(100), z.literal(500)])).default(100),
});

export interface PmmpConfig {
  portalUrl: string;
  pageSize: 10 | 20 | 50 | 100 | 500;
}

export function loadPmmpConfig(env: Env = process.env): PmmpConfig {
  const c = parseSection(pmmpSchema, env, 'pmmp');
  return { portalUrl: c.PMMP_PORTAL_URL, pageSize: c.PMMP_PAGE_SIZE };
}

// ---------------------------------------------------------------- apisync (SaaS API sync: Pennylane)

const apisyncSchema = z.object({
  /** Pennylane's v2 base URL (a local replica's in tests and the demo). */
  PENNYLANE_API_URL: httpUrl.default('https://app.pennylane.com/api/external/v2'),
  /** Company or firm API token (Bearer). Secret: environment only, never in workflow inputs. */
  PENNYLANE_API_TOKEN: optionalSecret,
  /** Requests allowed per window and per token: Pennylane allows 25 every 5 s. */
  PENNYLANE_RATE_LIMIT: positiveInt.default(25),
  PENNYLANE_RATE_WINDOW_MS: positiveInt.default(5_000),
  /** Added to the window between a request's answer and the send `limit` requests later (clock granularity). */
  APISYNC_RATE_MARGIN_MS: nonNegativeInt.default(25),
  APISYNC_HTTP_TIMEOUT_MS: positiveInt.default(30_000),
  /** Items per list page (Pennylane: 1..100) and per changelog page (1..1000). */
  APISYNC_PAGE_SIZE: positiveInt.max(100).default(100),
  APISYNC_CHANGELOG_PAGE_SIZE: positiveInt.max(1000).default(1000),
  /** Rows gathered before one COPY + upsert (and one cursor commit). */
  APISYNC_LOAD_BATCH_ROWS: positiveInt.default(5_000),
  /** Batches of a full load COPY'd at once into its shadow table (their cursors still commit in order). */
  APISYNC_LOAD_WRITERS: positiveInt.max(8).default(2),
  /** A 429 or 5xx is retried in place this many times before the activity hands it to Temporal. */
  APISYNC_REQUEST_ATTEMPTS: positiveInt.max(50).default(8),
  /** After a full load, the watermark starts this far before the full began: changes made meanwhile are applied again (idempotent). */
  APISYNC_WATERMARK_OVERLAP_S: nonNegativeInt.default(300),
});

export interface ApisyncSourceConfig {
  baseUrl: string;
  token: string | undefined;
  rateLimit: { requests: number; windowMs: number; marginMs: number };
}

export interface ApisyncConfig {
  sources: { pennylane: ApisyncSourceConfig };
  httpTimeoutMs: number;
  pageSize: number;
  changelogPageSize: number;
  loadBatchRows: number;
  loadWriters: number;
  requestAttempts: number;
  watermarkOverlapMs: number;
}

export function loadApisyncConfig(env: Env = process.env): ApisyncConfig {
  const c = parseSection(apisyncSchema, env, 'apisync');
  return {
    sources: {
      pennylane: {
        baseUrl: c.PENNYLANE_API_URL.replace(/\/+$/, ''),
        token: c.PENNYLANE_API_TOKEN,
        rateLimit: { requests: c.PENNYLANE_RATE_LIMIT, windowMs: c.PENNYLANE_RATE_WINDOW_MS, marginMs: c.APISYNC_RATE_MARGIN_MS },
      },
    },
    httpTimeoutMs: c.APISYNC_HTTP_TIMEOUT_MS,
    pageSize: c.APISYNC_PAGE_SIZE,
    changelogPageSize: c.APISYNC_CHANGELOG_PAGE_SIZE,
    loadBatchRows: c.APISYNC_LOAD_BATCH_ROWS,
    loadWriters: c.APISYNC_LOAD_WRITERS,
    requestAttempts: c.APISYNC_REQUEST_ATTEMPTS,
    watermarkOverlapMs: c.APISYNC_WATERMARK_OVERLAP_S * 1000,
  };
}

// ---------------------------------------------------------------- api (the REST API)

const apiSchema = z.object({
  API_PORT: port.default(8090),
  /** 0.0.0.0 in a container. */
  API_HOST: z.string().min(1).default('127.0.0.1'),
  /** Signs write requests (run control); unset: every write endpoint answers 403. */
  API_HMAC_SECRET: optionalSecret.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Comma-separated keys for `X-API-Key` on read endpoints; unset: reads are open. */
  API_READ_KEYS: optionalSecret.transform((v) => (v ? v.split(',').map((k) => k.trim()).filter(Boolean) : [])),
  /** How old a signed request may be (either way), and how long its signature is remembered against replay. */
  API_SIGNATURE_WINDOW_S: positiveInt.max(3600).default(300),
  /** Requests per client (API key, else IP address) per minute. */
  API_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  API_MAX_PAGE_SIZE: positiveInt.max(10_000).default(500),
  /** Offset pagination stops here: deeper pages go through the cursor. */
  API_MAX_OFFSET: positiveInt.max(1_000_000).default(10_000),
  /** No query of the API runs longer than this (a guard, not a feature: every query is bounded). */
  API_STATEMENT_TIMEOUT_MS: positiveInt.default(15_000),
  /** PostgreSQL connections of the API: enough that a slow page never queues the quick ones behind it. */
  API_DB_POOL_SIZE: positiveInt.max(500).default(24),
  /** Serialized answers of the procurement reads kept in memory until the data changes (0: none kept). */
  API_RESPONSE_CACHE_MB: z.coerce.number().int().nonnegative().max(4096).default(64),
  /** How long such an answer is kept at most: a consultation's statut follows the clock. */
  API_RESPONSE_CACHE_TTL_MS: positiveInt.max(3_600_000).default(2_000),
  /** Behind a reverse proxy: trust X-Forwarded-For for client addresses (rate limits, logs). */
  API_TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** The operator console's sign-in password (/console/); unset: the console cannot be signed in to. */
  MOISSON_CONSOLE_PASSWORD: optionalSecret.pipe(z.string().min(12, 'must be at least 12 characters').optional()),
  /** How long a console session lasts after sign-in (it is not extended by use). */
  MOISSON_CONSOLE_SESSION_TTL_S: positiveInt.max(7 * 86_400).default(8 * 3600),
});

export interface ApiConfig {
  port: number;
  host: string;
  hmacSecret: string | undefined;
  readKeys: string[];
  signatureWindowMs: number;
  rateLimitPerMinute: number;
  maxPageSize: number;
  maxOffset: number;
  statementTimeoutMs: number;
  dbPoolSize: number;
  trustProxy: boolean;
  responseCacheBytes: number;
  responseCacheTtlMs: number;
  /** Console sign-in password; undefined: sign-in disabled. */
  consolePassword: string | undefined;
  consoleSessionTtlMs: number;
}

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const c = parseSection(apiSchema, env, 'api');
  return {
    port: c.API_PORT,
    host: c.API_HOST,
    hmacSecret: c.API_HMAC_SECRET,
    readKeys: c.API_READ_KEYS,
    signatureWindowMs: c.API_SIGNATURE_WINDOW_S * 1000,
    rateLimitPerMinute: c.API_RATE_LIMIT_PER_MINUTE,
    maxPageSize: c.API_MAX_PAGE_SIZE,
    maxOffset: c.API_MAX_OFFSET,
    statementTimeoutMs: c.API_STATEMENT_TIMEOUT_MS,
    dbPoolSize: c.API_DB_POOL_SIZE,
    trustProxy: c.API_TRUST_PROXY,
    responseCacheBytes: c.API_RESPONSE_CACHE_MB * 1024 * 1024,
    responseCacheTtlMs: c.API_RESPONSE_CACHE_TTL_MS,
    consolePassword: c.MOISSON_CONSOLE_PASSWORD,
    consoleSessionTtlMs: c.MOISSON_CONSOLE_SESSION_TTL_S * 1000,
  };
}

// ---------------------------------------------------------------- leads (scraping jobs, validation, MailWizz)

/** Where a validated contact goes in MailWizz: the list, the template of its campaigns, its tags. */
export interface LeadsRoute {
  platform: string;
  listUid: string;
  template: string;
  tags: string[];
}

export interface LeadsConfig {
  /** The search engine's result page (Bing's shape: `?q=…&first=…`). */
  searchUrl: string;
  /** The maps web app (a listing page rendered by JavaScript). */
  mapsUrl: string;
  /** RDAP base (`…/domain/<name>` is appended). */
  rdapUrl: string;
  /** `host:port` of DNS servers for MX lookups; empty: the system's. */
  dnsServers: string[];
  /** Pages fetched at once inside one crawl batch, and pages per batch. */
  crawlConcurrency: number;
  batchPages: number;
  /** Region for phone numbers written without a country code (ISO 3166 alpha-2). */
  defaultCountry: string;
  /** Proxies rotated per request (`http://user:pass@host:port`): secrets, never logged. */
  proxies: string[];
  /** User-Agents rotated per request; empty: the fetcher's identifiable one. */
  userAgents: string[];
  /** Per-domain pauses between requests, `{"example.com": [1000, 3000]}`, on top of FETCH_* politeness. */
  domainDelays: Record<string, [number, number]>;
  /** Private, loopback or link-local targets allowed anyway: CIDRs (`10.0.0.0/8`) or `host:port`. */
  ssrfAllow: string[];
  mxCacheDays: number;
  whoisCacheDays: number;
  rolePrefixes: string[];
  /** A domain whose bounce rate is above this (with at least `bounceMinSent` sent) is refused. */
  bounceRateThreshold: number;
  bounceMinSent: number;
  /** Keyword lists per category; the best score wins. */
  categories: Record<string, string[]>;
  /** Category → route; `default` is used for the rest. */
  routing: { default: LeadsRoute; categories: Record<string, LeadsRoute> };
  validateBatch: number;
  mailwizz: {
    url: string;
    apiVersion: 1 | 2;
    apiKey: string | undefined;
    publicKey: string | undefined;
    privateKey: string | undefined;
    timeoutMs: number;
    batch: number;
    maxTries: number;
    retryDelayMs: number;
    /** Warm-up: `dailyQuota` on `warmupStart`, plus `warmupStep` a day, up to `maxDailyQuota`. */
    dailyQuota: number;
    warmupStep: number;
    maxDailyQuota: number;
    warmupStart: string | undefined;
    /** The day the quota counts in. */
    timezone: string;
  };
}

function jsonVariable<S extends z.ZodType>(schema: S, example: string) {
  return z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be JSON, e.g. ${example}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

const commaList = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const leadsRoute = z.object({ platform: z.string().min(1), listUid: z.string().min(1), template: z.string().default('default'), tags: z.array(z.string()).default([]) }).strict();

export const DEFAULT_LEADS_CATEGORIES: Record<string, string[]> = {
  restaurant: ['restaurant', 'boulangerie', 'bakery', 'café', 'cafe', 'traiteur', 'menu', 'chef', 'cuisine', 'pizzeria'],
  hotel: ['hotel', 'hôtel', 'chambres', 'gîte', 'hostel', 'auberge', 'booking'],
  health: ['dentiste', 'dentist', 'médecin', 'clinic', 'clinique', 'pharmacie', 'pharmacy', 'kiné', 'santé', 'health'],
  legal: ['avocat', 'lawyer', 'notaire', 'cabinet', 'juridique', 'legal', 'law firm'],
  building: ['plombier', 'plumber', 'électricien', 'electrician', 'menuiserie', 'bâtiment', 'construction', 'rénovation', 'couvreur'],
  tech: ['logiciel', 'software', 'agence web', 'développement', 'saas', 'startup', 'digital', 'informatique'],
};

const DEFAULT_LEADS_ROUTING = { default: { platform: 'general', listUid: 'general-list', template: 'welcome', tags: ['lead'] }, categories: {} };

const leadsSchema = z.object({
  LEADS_SEARCH_URL: httpUrl.default('https://www.bing.com/search'),
  LEADS_MAPS_URL: httpUrl.default('https://maps.example.invalid/maps'),
  LEADS_RDAP_URL: httpUrl.default('https://rdap.org'),
  LEADS_DNS_SERVERS: commaList.pipe(z.array(z.string().regex(/^[\w.:[\]-]+$/, 'must be host or host:port'))).default([]),
  LEADS_CRAWL_CONCURRENCY: positiveInt.max(32).default(4),
  LEADS_BATCH_PAGES: positiveInt.max(500).default(20),
  LEADS_DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO country code like FR').default('FR'),
  LEADS_PROXIES: commaList.pipe(z.array(z.url({ protocol: /^https?$/, error: 'each proxy must be an http(s) URL' }))).default([]),
  LEADS_USER_AGENTS: z.string().transform((s) => s.split('\n').map((x) => x.trim()).filter(Boolean)).default([]),
  LEADS_DOMAIN_DELAYS: jsonVariable(
    z.record(z.string().min(1), z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine(([a, b]) => a <= b, '[min, max] with min <= max')),
    '{"example.com": [1000, 3000]}',
  ).default({}),
  LEADS_SSRF_ALLOW: commaList.default([]),
  LEADS_MX_CACHE_DAYS: positiveInt.max(365).default(7),
  LEADS_WHOIS_CACHE_DAYS: positiveInt.max(365).default(30),
  LEADS_ROLE_PREFIXES: commaList
    .default(['abuse', 'postmaster', 'hostmaster', 'webmaster', 'mailer-daemon', 'noreply', 'no-reply', 'donotreply', 'do-not-reply', 'nepasrepondre', 'ne-pas-repondre', 'root', 'bounce', 'bounces']),
  LEADS_BOUNCE_RATE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.1),
  LEADS_BOUNCE_MIN_SENT: positiveInt.default(20),
  LEADS_CATEGORIES: jsonVariable(z.record(z.string().min(1), z.array(z.string().min(1)).min(1)), '{"restaurant": ["menu", "chef"]}').default(DEFAULT_LEADS_CATEGORIES),
  LEADS_ROUTING: jsonVariable(
    z.object({ default: leadsRoute, categories: z.record(z.string(), leadsRoute).default({}) }).strict(),
    '{"default": {"platform": "general", "listUid": "ab123", "template": "welcome", "tags": ["lead"]}, "categories": {"restaurant": {…}}}',
  ).default(DEFAULT_LEADS_ROUTING),
  LEADS_VALIDATE_BATCH: positiveInt.max(5000).default(200),
  MAILWIZZ_URL: httpUrl.default('http://127.0.0.1:4104/api/index.php'),
  MAILWIZZ_API_VERSION: z.enum(['1', '2']).default('2'),
  MAILWIZZ_API_KEY: optionalSecret,
  MAILWIZZ_PUBLIC_KEY: optionalSecret,
  MAILWIZZ_PRIVATE_KEY: optionalSecret,
  MAILWIZZ_TIMEOUT_MS: positiveInt.default(15_000),
  MAILWIZZ_BATCH: positiveInt.max(1000).default(50),
  MAILWIZZ_MAX_TRIES: positiveInt.max(10).default(3),
  /** After a failed try, the contact waits this long times 2^(tries-1) before the next one. */
  MAILWIZZ_RETRY_DELAY_S: nonNegativeInt.default(600),
  MAILWIZZ_DAILY_QUOTA: positiveInt.default(50),
  MAILWIZZ_WARMUP_STEP: nonNegativeInt.default(25),
  MAILWIZZ_MAX_DAILY_QUOTA: positiveInt.default(2000),
  MAILWIZZ_WARMUP_START: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').optional(),
  MAILWIZZ_TIMEZONE: z.string().min(1).default('UTC'),
});

function leadsCrossChecks(env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Only a check on what is set: an unset key is reported by the sync itself, which is the only user.
  if ((env.MAILWIZZ_API_VERSION ?? '2') === '1' && Boolean(env.MAILWIZZ_PUBLIC_KEY?.trim()) !== Boolean(env.MAILWIZZ_PRIVATE_KEY?.trim())) {
    issues.push({ variable: 'MAILWIZZ_PRIVATE_KEY', message: 'MailWizz 1.x signs with both MAILWIZZ_PUBLIC_KEY and MAILWIZZ_PRIVATE_KEY' });
  }
  for (const entry of (env.LEADS_SSRF_ALLOW ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!/^[\d.:a-fA-F]+\/\d{1,3}$/.test(entry) && !/^[\w.[\]:-]+:\d{1,5}$/.test(entry)) {
      issues.push({ variable: 'LEADS_SSRF_ALLOW', message: `'${entry}' is neither a CIDR (10.0.0.0/8) nor host:port` });
    }
  }
  return issues;
}

export function loadLeadsConfig(env: Env = process.env): LeadsConfig {
  const c = parseSection(leadsSchema, env, 'leads', leadsCrossChecks);
  return {
    searchUrl: c.LEADS_SEARCH_URL,
    mapsUrl: c.LEADS_MAPS_URL,
    rdapUrl: c.LEADS_RDAP_URL,
    dnsServers: c.LEADS_DNS_SERVERS,
    crawlConcurrency: c.LEADS_CRAWL_CONCURRENCY,
    batchPages: c.LEADS_BATCH_PAGES,
    defaultCountry: c.LEADS_DEFAULT_COUNTRY,
    proxies: c.LEADS_PROXIES,
    userAgents: c.LEADS_USER_AGENTS,
    domainDelays: c.LEADS_DOMAIN_DELAYS as Record<string, [number, number]>,
    ssrfAllow: c.LEADS_SSRF_ALLOW,
    mxCacheDays: c.LEADS_MX_CACHE_DAYS,
    whoisCacheDays: c.LEADS_WHOIS_CACHE_DAYS,
    rolePrefixes: c.LEADS_ROLE_PREFIXES.map((p) => p.toLowerCase()),
    bounceRateThreshold: c.LEADS_BOUNCE_RATE_THRESHOLD,
    bounceMinSent: c.LEADS_BOUNCE_MIN_SENT,
    categories: c.LEADS_CATEGORIES,
    routing: c.LEADS_ROUTING,
    validateBatch: c.LEADS_VALIDATE_BATCH,
    mailwizz: {
      url: c.MAILWIZZ_URL.replace(/\/+$/, ''),
      apiVersion: c.MAILWIZZ_API_VERSION === '1' ? 1 : 2,
      apiKey: c.MAILWIZZ_API_KEY,
      publicKey: c.MAILWIZZ_PUBLIC_KEY,
      privateKey: c.MAILWIZZ_PRIVATE_KEY,
      timeoutMs: c.MAILWIZZ_TIMEOUT_MS,
      batch: c.MAILWIZZ_BATCH,
      maxTries: c.MAILWIZZ_MAX_TRIES,
      retryDelayMs: c.MAILWIZZ_RETRY_DELAY_S * 1000,
      dailyQuota: c.MAILWIZZ_DAILY_QUOTA,
      warmupStep: c.MAILWIZZ_WARMUP_STEP,
      maxDailyQuota: c.MAILWIZZ_MAX_DAILY_QUOTA,
      warmupStart: c.MAILWIZZ_WARMUP_START,
      timezone: c.MAILWIZZ_TIMEZONE,
    },
  };
}

// ---------------------------------------------------------------- consolidation: ingestion of open-data sources

const consolidationIngestSchema = z.object({
  /** A folder of source declarations (JSON) used instead of the built-in ones. */
  CONSOLIDATION_DECLARATIONS_DIR: z.string().trim().min(1).optional(),
  /**
   * `origin=origin` pairs, comma-separated: a declaration's endpoint on the first origin is fetched
   * from the second (the replicas in tests and the demo, a mirror in production).
   */
  CONSOLIDATION_ENDPOINT_REWRITES: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const pairs: [string, string][] = [];
      for (const item of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const [from, to] = item.split('=').map((x) => x.trim());
        const ok = (u: string | undefined) => !!u && URL.canParse(u) && /^https?:$/.test(new URL(u).protocol);
        if (!ok(from) || !ok(to)) ctx.addIssue({ code: 'custom', message: `'${item}' is not origin=origin (two http(s) URLs)` });
        else pairs.push([new URL(from!).origin, new URL(to!).origin]);
      }
      return pairs;
    }),
  CONSOLIDATION_HTTP_TIMEOUT_MS: positiveInt.default(60_000),
});

export interface ConsolidationIngestConfig {
  declarationsDir: string | undefined;
  endpointRewrites: [from: string, to: string][];
  httpTimeoutMs: number;
}

export function loadConsolidationIngestConfig(env: Env = process.env): ConsolidationIngestConfig {
  const c = parseSection(consolidationIngestSchema, env, 'consolidation');
  return { declarationsDir: c.CONSOLIDATION_DECLARATIONS_DIR, endpointRewrites: c.CONSOLIDATION_ENDPOINT_REWRITES, httpTimeoutMs: c.CONSOLIDATION_HTTP_TIMEOUT_MS };
}

// ---------------------------------------------------------------- consolidation: S3 sources and enrichment

const consolidationS3Schema = z.object({
  /** An S3-compatible endpoint (SeaweedFS in the local stack, MinIO, Scaleway…); unset: AWS S3 of the region. */
  CONSOLIDATION_S3_ENDPOINT: httpUrl.optional(),
  CONSOLIDATION_S3_REGION: z.string().min(1).default('us-east-1'),
  /** Secrets: environment only. Unset: the AWS SDK's own chain (instance role, ~/.aws). */
  CONSOLIDATION_S3_ACCESS_KEY_ID: optionalSecret,
  CONSOLIDATION_S3_SECRET_ACCESS_KEY: optionalSecret,
  /** The bucket a source declaration uses when it names none (the local stack creates it). */
  CONSOLIDATION_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name').optional(),
  /** Path-style URLs (`endpoint/bucket/key`): what most S3-compatible servers expect. */
  CONSOLIDATION_S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** Rows per batch yielded by the S3 reader. */
  CONSOLIDATION_S3_BATCH_ROWS: positiveInt.max(100_000).default(5_000),
});

const consolidationEnrichSchema = z.object({
  /** BAN geocoder (api-adresse / Géoplateforme): `/search` and `/search/csv/` live under it. */
  CONSOLIDATION_BAN_URL: httpUrl.default('https://api-adresse.data.gouv.fr'),
  /** The public limit is 50 requests per second per IP address. */
  CONSOLIDATION_BAN_RATE_PER_SECOND: positiveInt.max(1000).default(50),
  /** A BAN answer is accepted when fuzz.ratio(address, label) reaches this (QFDMOD: 80). */
  CONSOLIDATION_BAN_MIN_RATIO: z.coerce.number().int().min(0).max(100).default(80),
  /** Rows per `/search/csv/` upload (the service caps a file at 50 MB). */
  CONSOLIDATION_BAN_CSV_BATCH_ROWS: positiveInt.max(50_000).default(5_000),
  CONSOLIDATION_ENTREPRISES_URL: httpUrl.default('https://recherche-entreprises.api.gouv.fr'),
  /** The public limit is 7 requests per second. */
  CONSOLIDATION_ENTREPRISES_RATE_PER_SECOND: positiveInt.max(1000).default(7),
  /** INSEE's monthly establishment stock (a zip holding one UTF-8 CSV, or the CSV itself). */
  CONSOLIDATION_SIRENE_URL: httpUrl.default('https://files.data.gouv.fr/insee-sirene/StockEtablissement_utf8.zip'),
  CONSOLIDATION_SIRENE_TIMEOUT_MS: positiveInt.default(3 * 3_600_000),
  /** Actors per enrichment page (one activity, one BAN upload at most, one transaction). */
  CONSOLIDATION_ENRICH_PAGE_SIZE: positiveInt.max(50_000).default(2_000),
  /** Answers of both services are reused this long. */
  CONSOLIDATION_ENRICH_CACHE_DAYS: positiveInt.max(365).default(30),
  CONSOLIDATION_ENRICH_HTTP_TIMEOUT_MS: positiveInt.default(30_000),
  /** A 429 or 5xx is retried in place this many times before the activity hands it to Temporal. */
  CONSOLIDATION_ENRICH_REQUEST_ATTEMPTS: positiveInt.max(50).default(6),
  /**
   * Added to each window between an answer and the send `limit` requests later: a request admitted but
   * not yet on the wire (a busy event loop) must not let the next window start early.
   */
  CONSOLIDATION_ENRICH_RATE_MARGIN_MS: nonNegativeInt.default(60),
});

export interface ConsolidationS3Config {
  endpoint: string | undefined;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  defaultBucket: string | undefined;
  forcePathStyle: boolean;
  batchRows: number;
}

export interface ConsolidationEnrichConfig {
  s3: ConsolidationS3Config;
  ban: { baseUrl: string; ratePerSecond: number; minRatio: number; csvBatchRows: number };
  entreprises: { baseUrl: string; ratePerSecond: number };
  sirene: { url: string; timeoutMs: number };
  pageSize: number;
  cacheTtlMs: number;
  httpTimeoutMs: number;
  requestAttempts: number;
  rateMarginMs: number;
}

const s3CredentialsPaired = (clean: Env): ConfigIssue[] =>
  Boolean(clean.CONSOLIDATION_S3_ACCESS_KEY_ID?.trim()) !== Boolean(clean.CONSOLIDATION_S3_SECRET_ACCESS_KEY?.trim())
    ? [{ variable: 'CONSOLIDATION_S3_SECRET_ACCESS_KEY', message: 'set both CONSOLIDATION_S3_ACCESS_KEY_ID and CONSOLIDATION_S3_SECRET_ACCESS_KEY, or neither' }]
    : [];

/** Where S3 sources are read: its own section, so a bad enrichment setting never stops an S3 ingestion. */
export function loadConsolidationS3Config(env: Env = process.env): ConsolidationS3Config {
  const c = parseSection(consolidationS3Schema, env, 'consolidation', s3CredentialsPaired);
  return {
    endpoint: c.CONSOLIDATION_S3_ENDPOINT?.replace(/\/+$/, ''),
    region: c.CONSOLIDATION_S3_REGION,
    credentials:
      c.CONSOLIDATION_S3_ACCESS_KEY_ID && c.CONSOLIDATION_S3_SECRET_ACCESS_KEY
        ? { accessKeyId: c.CONSOLIDATION_S3_ACCESS_KEY_ID, secretAccessKey: c.CONSOLIDATION_S3_SECRET_ACCESS_KEY }
        : undefined,
    defaultBucket: c.CONSOLIDATION_S3_BUCKET,
    forcePathStyle: c.CONSOLIDATION_S3_FORCE_PATH_STYLE,
    batchRows: c.CONSOLIDATION_S3_BATCH_ROWS,
  };
}

export function loadConsolidationEnrichConfig(env: Env = process.env): ConsolidationEnrichConfig {
  const c = parseSection(consolidationEnrichSchema, env, 'consolidation');
  return {
    s3: loadConsolidationS3Config(env),
    ban: {
      baseUrl: c.CONSOLIDATION_BAN_URL.replace(/\/+$/, ''),
      ratePerSecond: c.CONSOLIDATION_BAN_RATE_PER_SECOND,
      minRatio: c.CONSOLIDATION_BAN_MIN_RATIO,
      csvBatchRows: c.CONSOLIDATION_BAN_CSV_BATCH_ROWS,
    },
    entreprises: { baseUrl: c.CONSOLIDATION_ENTREPRISES_URL.replace(/\/+$/, ''), ratePerSecond: c.CONSOLIDATION_ENTREPRISES_RATE_PER_SECOND },
    sirene: { url: c.CONSOLIDATION_SIRENE_URL, timeoutMs: c.CONSOLIDATION_SIRENE_TIMEOUT_MS },
    pageSize: c.CONSOLIDATION_ENRICH_PAGE_SIZE,
    cacheTtlMs: c.CONSOLIDATION_ENRICH_CACHE_DAYS * 86_400_000,
    httpTimeoutMs: c.CONSOLIDATION_ENRICH_HTTP_TIMEOUT_MS,
    requestAttempts: c.CONSOLIDATION_ENRICH_REQUEST_ATTEMPTS,
    rateMarginMs: c.CONSOLIDATION_ENRICH_RATE_MARGIN_MS,
  };
}

// ---------------------------------------------------------------- consolidation: publish, statistics, export, cleanup

const consolidationPublishSchema = z.object({
  /** Where the weekly open-data files go: `<dir>/<iso week>/acteurs.csv` and `acteurs.geojson`. */
  CONSOLIDATION_EXPORT_DIR: z.string().trim().min(1).default('.data/exports/consolidation'),
  /** Normalisation logs older than this are deleted by the cleanup. */
  CONSOLIDATION_LOG_RETENTION_DAYS: positiveInt.default(90),
  /** Suggestions done with (SUCCES, REJETEE) older than this are deleted, then their emptied cohorts. */
  CONSOLIDATION_SUGGESTION_RETENTION_DAYS: positiveInt.default(180),
});

export interface ConsolidationPublishConfig {
  exportDir: string;
  logRetentionDays: number;
  suggestionRetentionDays: number;
}

export function loadConsolidationPublishConfig(env: Env = process.env): ConsolidationPublishConfig {
  const c = parseSection(consolidationPublishSchema, env, 'consolidation');
  return { exportDir: c.CONSOLIDATION_EXPORT_DIR, logRetentionDays: c.CONSOLIDATION_LOG_RETENTION_DAYS, suggestionRetentionDays: c.CONSOLIDATION_SUGGESTION_RETENTION_DAYS };
}

// ---------------------------------------------------------------- payload codec (encryption of Temporal payloads)

/** One AES-256 key of the payload codec, named by the id written in each payload it encrypts. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

export const PAYLOAD_KEY_BYTES = 32;
const PAYLOAD_KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `id1:base64,id2:base64`: the first encrypts, every one decrypts (so an old key stays listed until its histories are gone). */
const payloadKeys = z.string().transform((s, ctx) => {
  const keys: PayloadKey[] = [];
  for (const entry of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!PAYLOAD_KEY_ID.test(id)) {
      ctx.addIssue({ code: 'custom', message: `each key must be id:base64 with an id of letters, digits, '.', '_' or '-' (entry ${keys.length + 1})` });
      continue;
    }
    const b64 = entry.slice(colon + 1);
    const key = Buffer.from(b64, 'base64');
    // Buffer.from drops what is not base64: a round trip tells a typo from a real key.
    if (key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '') || key.length !== PAYLOAD_KEY_BYTES) {
      ctx.addIssue({ code: 'custom', message: `key '${id}' must be ${PAYLOAD_KEY_BYTES} bytes in base64 (openssl rand -base64 32), got ${key.length} bytes` });
      continue;
    }
    if (keys.some((k) => k.id === id)) ctx.addIssue({ code: 'custom', message: `key id '${id}' is listed twice` });
    keys.push({ id, key });
  }
  return keys;
});

const origins = z.string().transform((s, ctx) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((o) => {
      try {
        const u = new URL(o);
        if (u.origin === o.replace(/\/$/, '') && /^https?:$/.test(u.protocol)) return u.origin;
      } catch {
        // reported below
      }
      ctx.addIssue({ code: 'custom', message: `'${o}' is not an origin (scheme://host[:port], no path)` });
      return o;
    }),
);

const payloadCodecSchema = z.object({
  MOISSON_PAYLOAD_KEYS: payloadKeys.optional(),
  /** Web UI origins the codec endpoint answers from a browser; default: the origin of TEMPORAL_UI_URL. */
  MOISSON_CODEC_ORIGINS: origins.optional(),
  TEMPORAL_UI_URL: httpUrl.default(LOCAL_STACK.temporalUiUrl),
  /** Bearer token for codec callers without an Origin (`temporal --codec-endpoint … --codec-auth 'Bearer …'`); unset: they get 403. */
  MOISSON_CODEC_TOKEN: optionalSecret.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
});

export interface PayloadCodecConfig {
  /** Empty: payloads travel unencrypted (no codec). */
  keys: PayloadKey[];
  /** Origins allowed to call the codec endpoint from a browser (CORS). */
  uiOrigins: string[];
  token: string | undefined;
}

/** The Web UI's origin; on loopback both names, since the origin is whichever one the browser was given. */
function uiOriginsOf(uiUrl: string): string[] {
  const url = new URL(uiUrl);
  const origins = [url.origin];
  if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') {
    url.hostname = url.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
    origins.push(url.origin);
  }
  return origins;
}

export function loadPayloadCodecConfig(env: Env = process.env): PayloadCodecConfig {
  const c = parseSection(payloadCodecSchema, env, 'payload codec');
  return {
    keys: c.MOISSON_PAYLOAD_KEYS ?? [],
    uiOrigins: c.MOISSON_CODEC_ORIGINS ?? uiOriginsOf(c.TEMPORAL_UI_URL),
    token: c.MOISSON_CODEC_TOKEN,
  };
}

const sections = { core: loadCoreConfig, prices: loadPricesConfig, fetch: loadFetchConfig, pmmp: loadPmmpConfig, apisync: loadApisyncConfig, api: loadApiConfig, leads: loadLeadsConfig, consolidationIngest: loadConsolidationIngestConfig, consolidationEnrich: loadConsolidationEnrichConfig, consolidationPublish: loadConsolidationPublishConfig, payloadCodec: loadPayloadCodecConfig } as const;

/** Checks every section and reports all problems of all sections together (for `moisson config check`). */
export function checkAllConfig(env: Env = process.env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const load of Object.values(sections)) {
    try {
      load(env);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  return issues;
}

const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD/i;

/** What may be logged: secrets masked, and passwords inside URLs too. */
export function redactConfig(value: unknown, key = ''): unknown {
  // Raw key bytes (the payload codec's) are never shown, whatever their field is called.
  if (value instanceof Uint8Array) return '***';
  if (typeof value === 'string') {
    if (SECRET_NAME.test(key)) return value ? '***' : value;
    return value.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
  }
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]));
  }
  return value;
}
