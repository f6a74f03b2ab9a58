/**
 * The one place that reads the environment. Every process (workers, API, CLI, scripts) parses it here,
 * gets typed settings, and sees every bad variable at once rather than one per restart.
 * Each section is one zod schema over the environment: a variable's check, default and meaning (`describe`,
 * the README's table is checked against it) are written once, and `.transform` shapes the typed settings.
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

/** One variable parsed alone, its default applied, for a rule across variables; undefined when it is itself invalid (reported on its own). */
function valueOf<T extends z.ZodType>(variable: T, raw: string | undefined): z.output<T> | undefined {
  const result = variable.safeParse(raw);
  return result.success ? result.data : undefined;
}

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().nonnegative();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' });
const mongoUrl = z.url({ protocol: /^mongodb(\+srv)?$/, error: 'must be a mongodb:// URL' });
const trueOrFalse = z.enum(['true', 'false']).transform((v) => v === 'true');
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const commaList = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** Comma-separated list of known names, order kept (it is a fallback order). */
function orderedList<const T extends readonly [string, ...string[]]>(allowed: T) {
  return commaList.pipe(
    z
      .array(z.enum(allowed, { error: (iss) => `unknown source '${String(iss.input)}' (known: ${allowed.join(', ')})` }))
      .min(1, 'must list at least one source'),
  );
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

/** Read by the core section and by the payload codec's (its origin is the codec's default CORS origin). */
const temporalUiUrl = httpUrl.default(LOCAL_STACK.temporalUiUrl).describe('the Temporal Web UI');

// ---------------------------------------------------------------- core (databases, Temporal, workers)

export const coreConfigSchema = z
  .object({
    DATABASE_URL: postgresUrl.default(LOCAL_STACK.databaseUrl).describe('PostgreSQL'),
    MONGO_URL: mongoUrl.default(LOCAL_STACK.mongoUrl).describe('MongoDB (database = URL path)'),
    TEMPORAL_ADDRESS: z.string().regex(/^[\w.-]+:\d+$/, 'must be host:port').default(LOCAL_STACK.temporalAddress).describe('the Temporal frontend'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('the Temporal namespace'),
    TEMPORAL_UI_URL: temporalUiUrl,
    MOISSON_TASK_QUEUE: z.string().min(1).default('moisson').describe('the task queue of the worker (workflows, HTTP, databases)'),
    MOISSON_BROWSER_TASK_QUEUE: z.string().min(1).default('moisson-browser').describe('the task queue of the browser worker'),
    METRICS_PORT: port.default(9464).describe("the worker's Prometheus endpoint (our metrics and the Temporal SDK's)"),
    METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('where the metrics endpoints listen: 0.0.0.0 in a container, so Prometheus can reach them'),
    BROWSER_METRICS_PORT: port.default(9474).describe("the browser worker's Prometheus endpoint (its own port: both workers may run on one host); the Temporal SDK's runtime listens on loopback at this port + 1, as the worker's at METRICS_PORT + 1"),
    OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional().describe('where traces go (OTLP/HTTP); unset: no traces exported'),
    OTEL_SERVICE_NAME: z.string().min(1).default('moisson').describe('the service name of traces'),
    CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium').describe("the browser worker's Chromium"),
    BROWSER_CONCURRENCY: positiveInt.max(16).default(2).describe('browser activities at once per browser worker: 2–4 suits 2 cores'),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('pino log level of every process'),
    MOISSON_WORKFLOW_BUNDLE: z
      .string()
      .min(1)
      .optional()
      .describe('a workflow bundle built ahead (`npm run build:workflows`; the image and the local stack build it): the worker loads it instead of running webpack at start (webpack alone keeps ~150 MB of RSS); unset: bundled at start'),
  })
  .transform((c) => ({
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
    workflowBundlePath: c.MOISSON_WORKFLOW_BUNDLE,
  }));
export type CoreConfig = z.output<typeof coreConfigSchema>;

export function loadCoreConfig(env: Env = process.env): CoreConfig {
  return parseSection(coreConfigSchema, env, 'core');
}

/**
 * The log level a process starts its logger with, before its configuration is checked (so that a bad
 * setting can be logged): LOG_LEVEL when valid, else the default; the check then reports a bad one.
 */
export function logLevelOf(env: Env = process.env): CoreConfig['logLevel'] {
  const shape = coreConfigSchema.in.shape;
  return valueOf(shape.LOG_LEVEL, cleanEnv(env).LOG_LEVEL) ?? shape.LOG_LEVEL.parse(undefined);
}

// ---------------------------------------------------------------- prices

export const PRICE_SOURCES = ['erapi', 'fawaz', 'coingecko', 'metalpriceapi'] as const;
export type PriceSourceId = (typeof PRICE_SOURCES)[number];

const pricesVariables = {
  PRICES_ERAPI_URL: httpUrl.default('https://open.er-api.com/v6').describe('ExchangeRate-API (fx)'),
  PRICES_FAWAZ_URL: httpUrl.default('https://cdn.jsdelivr.net/npm/@fawazahmed0/currency-api').describe("fawazahmed0's currency API (fx, crypto and metals fallback)"),
  PRICES_COINGECKO_URL: httpUrl.default('https://api.coingecko.com/api/v3').describe('CoinGecko (crypto)'),
  PRICES_METALPRICEAPI_URL: httpUrl.default('https://api.metalpriceapi.com/v1').describe('MetalpriceAPI (metals)'),
  COINGECKO_API_KEY: optionalSecret.describe("CoinGecko's key (secret); unset: the keyless tier"),
  METALPRICEAPI_KEY: optionalSecret.describe("MetalpriceAPI's key (secret): required while PRICES_METALS_SOURCES lists metalpriceapi"),
  PRICES_FX_SOURCES: orderedList(['erapi', 'fawaz']).default(['erapi', 'fawaz']).describe('fx sources, in fallback order'),
  PRICES_CRYPTO_SOURCES: orderedList(['coingecko', 'fawaz']).default(['coingecko', 'fawaz']).describe('crypto sources, in fallback order'),
  PRICES_METALS_SOURCES: orderedList(['metalpriceapi', 'fawaz']).default(['metalpriceapi', 'fawaz']).describe('metals sources, in fallback order'),
  PRICES_HTTP_TIMEOUT_MS: positiveInt.default(10_000).describe('timeout of one request to a price source'),
  PRICES_MAX_RETRY_AFTER_S: positiveInt.default(60).describe('a 429 asking to wait longer than this fails over to the next source instead of waiting'),
  PRICES_ARCHIVE_DAYS: positiveInt.max(366).default(7).describe('days of prices copied to the MongoDB archive per run (the window ending on the run\'s day)'),
  PRICES_MIN_PRICE_MRU: z.coerce.number().positive().default(0.01).describe('a price not above this (in MRU) is rejected'),
};

export const pricesConfigSchema = z.object(pricesVariables).transform((p) => ({
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
}));
export type PricesConfig = z.output<typeof pricesConfigSchema>;

/**
 * Rules across variables, checked on the raw environment: zod skips object refinements once a field
 * fails, and every problem must be reported at once.
 */
function pricesCrossChecks(env: Env): ConfigIssue[] {
  // The list as written, not its parse: a list with a typo in it still needs the keys of the sources it names.
  const metals: string[] = env.PRICES_METALS_SOURCES?.split(',').map((x) => x.trim()) ?? pricesVariables.PRICES_METALS_SOURCES.parse(undefined);
  if (metals.includes('metalpriceapi') && !env.METALPRICEAPI_KEY?.trim()) {
    return [{ variable: 'METALPRICEAPI_KEY', message: 'required while PRICES_METALS_SOURCES lists metalpriceapi (or remove it from that list)' }];
  }
  return [];
}

export function loadPricesConfig(env: Env = process.env): PricesConfig {
  return parseSection(pricesConfigSchema, env, 'prices', pricesCrossChecks);
}

// ---------------------------------------------------------------- fetch (the polite HTTP fetcher of crawlers)

const delayRange = z.tuple([z.number().nonnegative(), z.number().nonnegative()]);
const hostPoliteness = z
  .object({
    maxConcurrent: z.number().int().nonnegative().optional(),
    ratePerSecond: z.number().nonnegative().optional(),
    delayMs: delayRange.refine(([min, max]) => min <= max, 'delayMs must be [min, max] with min <= max').optional(),
  })
  .strict();

const fetchVariables = {
  FETCH_CONTACT: z.string().min(3).default('https://github.com/moisson/moisson').describe('who to contact about our crawler (a URL or `mailto:`): it goes in the User-Agent `moisson/0.1 (+contact)`'),
  FETCH_USER_AGENT: z.string().min(3).optional().describe('the whole User-Agent, when `moisson/0.1 (+contact)` will not do'),
  FETCH_POLITENESS: z.enum(['on', 'off']).default('on').describe('`off`: no per-host concurrency, rate or pause limits'),
  FETCH_MAX_CONCURRENT_PER_HOST: nonNegativeInt.default(1).describe('requests at once per host'),
  FETCH_RATE_PER_SECOND: nonNegative.default(0.5).describe('requests per second per host'),
  FETCH_DELAY_MIN_MS: nonNegativeInt.default(2000).describe('random pause between two requests to a host: its least'),
  FETCH_DELAY_MAX_MS: nonNegativeInt.default(5000).describe('random pause between two requests to a host: its most'),
  FETCH_HOSTS: jsonVariable(z.record(z.string().min(1), hostPoliteness), '{"host": {"maxConcurrent": 1, "ratePerSecond": 0.5, "delayMs": [2000, 5000]}}')
    .optional()
    .describe('JSON: politeness per host, over the FETCH_* defaults'),
  FETCH_POLITENESS_SCOPE: z
    .enum(['fleet', 'process'])
    .default('fleet')
    .describe('`fleet`: every worker process shares one budget per host through PostgreSQL (`etl.host_budgets`), so a backfill spread over several workers sends what one would; `process`: each process has its own'),
  FETCH_ROBOTS: z.enum(['obey', 'ignore']).default('obey').describe('robots.txt obeyed or ignored'),
  FETCH_ROBOTS_TTL_S: positiveInt.max(86_400).default(86_400).describe('how long a robots.txt is reused'),
  FETCH_CONNECT_TIMEOUT_MS: positiveInt.default(15_000).describe('connection timeout'),
  FETCH_TIMEOUT_MS: positiveInt.default(120_000).describe('whole-request timeout'),
  FETCH_MAX_BODY_MB: z.coerce.number().positive().default(50).describe('larger answers are refused (leads: at most 10 MB)'),
  FETCH_BREAKER_THRESHOLD: nonNegativeInt.default(5).describe('blocked answers in a row that stop a host (0: never)'),
  FETCH_BREAKER_COOLDOWN_S: positiveInt.default(600).describe('how long a stopped host rests'),
  PROOF_STORE_DIR: z.string().min(1).default('.data/proofs').describe('raw bytes of every page and document fetched (content-addressed, brotli), with `etl.proofs` / `etl.proof_fetches`'),
};

/** Politeness is configuration, not code: the fetcher of activities/engine takes these as its options. */
export const fetchConfigSchema = z.object(fetchVariables).transform((c) => ({
  userAgent: c.FETCH_USER_AGENT ?? `moisson/0.1 (+${c.FETCH_CONTACT})`,
  politeness:
    c.FETCH_POLITENESS === 'off'
      ? (false as const)
      : { maxConcurrent: c.FETCH_MAX_CONCURRENT_PER_HOST, ratePerSecond: c.FETCH_RATE_PER_SECOND, delayMs: [c.FETCH_DELAY_MIN_MS, c.FETCH_DELAY_MAX_MS] as [number, number] },
  hosts: c.FETCH_HOSTS ?? {},
  politenessScope: c.FETCH_POLITENESS_SCOPE,
  robots: c.FETCH_ROBOTS === 'ignore' ? (false as const) : { ttlMs: c.FETCH_ROBOTS_TTL_S * 1000 },
  timeouts: { connectMs: c.FETCH_CONNECT_TIMEOUT_MS, totalMs: c.FETCH_TIMEOUT_MS },
  maxBodyBytes: Math.round(c.FETCH_MAX_BODY_MB * 1024 * 1024),
  breaker: { threshold: c.FETCH_BREAKER_THRESHOLD, coolDownMs: c.FETCH_BREAKER_COOLDOWN_S * 1000 },
  proofStoreDir: c.PROOF_STORE_DIR,
}));
export type FetchConfig = z.output<typeof fetchConfigSchema>;

export function loadFetchConfig(env: Env = process.env): FetchConfig {
  return parseSection(fetchConfigSchema, env, 'fetch', (clean) => {
    const min = valueOf(fetchVariables.FETCH_DELAY_MIN_MS, clean.FETCH_DELAY_MIN_MS);
    const max = valueOf(fetchVariables.FETCH_DELAY_MAX_MS, clean.FETCH_DELAY_MAX_MS);
    return min !== undefined && max !== undefined && min > max ? [{ variable: 'FETCH_DELAY_MAX_MS', message: `must be at least FETCH_DELAY_MIN_MS (${min})` }] : [];
  });
}

// ---------------------------------------------------------------- pmmp (marchespublics.gov.ma)

export const pmmpConfigSchema = z
  .object({
    PMMP_PORTAL_URL: httpUrl.default('https://www.marchespublics.gov.ma/index.php').describe("the procurement portal's `index.php` (a local replica's in tests and the demo)"),
    PMMP_PAGE_SIZE: z.coerce
      .number()
      .pipe(z.union([z.literal(10), z.literal(20), z.literal(50), z.literal(100), z.literal(500)]))
      .default(100)
      .describe('rows per list page: the portal offers 10/20/50/100/500; 500 makes its postbacks very slow'),
  })
  .transform((c) => ({ portalUrl: c.PMMP_PORTAL_URL, pageSize: c.PMMP_PAGE_SIZE }));
export type PmmpConfig = z.output<typeof pmmpConfigSchema>;

export function loadPmmpConfig(env: Env = process.env): PmmpConfig {
  return parseSection(pmmpConfigSchema, env, 'pmmp');
}

// ---------------------------------------------------------------- apisync (SaaS API sync: Pennylane)

export const apisyncConfigSchema = z
  .object({
    PENNYLANE_API_URL: httpUrl.default('https://app.pennylane.com/api/external/v2').describe("Pennylane's v2 base URL (a local replica's in tests and the demo)"),
    PENNYLANE_API_TOKEN: optionalSecret.describe('company or firm API token (Bearer); secret: environment only, never in workflow inputs'),
    PENNYLANE_RATE_LIMIT: positiveInt.default(25).describe('requests allowed per window and per token: Pennylane allows 25 every 5 s'),
    PENNYLANE_RATE_WINDOW_MS: positiveInt.default(5_000).describe('the rate-limit window'),
    APISYNC_RATE_MARGIN_MS: nonNegativeInt.default(25).describe("added to the window between a request's answer and the send `limit` requests later (clock granularity)"),
    APISYNC_HTTP_TIMEOUT_MS: positiveInt.default(30_000).describe('timeout of one request'),
    APISYNC_PAGE_SIZE: positiveInt.max(100).default(100).describe('items per list page (Pennylane: 1..100)'),
    APISYNC_CHANGELOG_PAGE_SIZE: positiveInt.max(1000).default(1000).describe('items per changelog page (Pennylane: 1..1000)'),
    APISYNC_LOAD_BATCH_ROWS: positiveInt.default(5_000).describe('rows gathered before one COPY + upsert (and one cursor commit)'),
    APISYNC_LOAD_WRITERS: positiveInt.max(8).default(2).describe("batches of a full load COPY'd at once into its shadow table (their cursors still commit in order)"),
    APISYNC_REQUEST_ATTEMPTS: positiveInt.max(50).default(8).describe('a 429 or 5xx is retried in place this many times before the activity hands it to Temporal'),
    APISYNC_WATERMARK_OVERLAP_S: nonNegativeInt
      .default(300)
      .describe('after a full load, the watermark starts this far before the full began: changes made meanwhile are applied again (idempotent)'),
  })
  .transform((c) => ({
    sources: {
      pennylane: {
        baseUrl: withoutTrailingSlash(c.PENNYLANE_API_URL),
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
  }));
export type ApisyncConfig = z.output<typeof apisyncConfigSchema>;
export type ApisyncSourceConfig = ApisyncConfig['sources']['pennylane'];

export function loadApisyncConfig(env: Env = process.env): ApisyncConfig {
  return parseSection(apisyncConfigSchema, env, 'apisync');
}

// ---------------------------------------------------------------- api (the REST API)

export const apiConfigSchema = z
  .object({
    API_PORT: port.default(8090).describe('the REST API'),
    API_HOST: z.string().min(1).default('127.0.0.1').describe('where the API listens: 0.0.0.0 in a container'),
    API_HMAC_SECRET: optionalSecret
      .pipe(z.string().min(16, 'must be at least 16 characters').optional())
      .describe('signs write requests (run control); unset: every write endpoint answers 403'),
    API_READ_KEYS: optionalSecret.transform((v) => (v ? v.split(',').map((k) => k.trim()).filter(Boolean) : [])).describe('comma-separated keys for `X-API-Key` on read endpoints; unset: reads are open'),
    API_SIGNATURE_WINDOW_S: positiveInt.max(3600).default(300).describe('how old a signed request may be (either way), and how long its signature is remembered against replay'),
    API_RATE_LIMIT_PER_MINUTE: positiveInt.default(600).describe('requests per client (API key, else IP address) per minute'),
    API_MAX_PAGE_SIZE: positiveInt.max(10_000).default(500).describe('the largest page a list endpoint returns'),
    API_MAX_OFFSET: positiveInt.max(1_000_000).default(10_000).describe('offset pagination stops here: deeper pages go through the cursor'),
    API_STATEMENT_TIMEOUT_MS: positiveInt.default(15_000).describe('no query of the API runs longer than this (a guard, not a feature: every query is bounded)'),
    API_DB_POOL_SIZE: positiveInt.max(500).default(24).describe('PostgreSQL connections of the API: enough that a slow page never queues the quick ones behind it'),
    API_DB_LOOKUP_POOL_SIZE: positiveInt.max(500).default(8).describe("PostgreSQL connections for reads by key (a consultation's detail), which reuse their statements' plans"),
    API_TRUST_PROXY: trueOrFalse.default(false).describe('behind a reverse proxy: trust X-Forwarded-For for client addresses (rate limits, logs)'),
    API_RESPONSE_CACHE_MB: z.coerce.number().int().nonnegative().max(4096).default(64).describe("memory for the procurement reads' serialized answers, kept until the data changes (0: none kept)"),
    API_RESPONSE_CACHE_TTL_MS: positiveInt.max(3_600_000).default(2_000).describe("how long such an answer is kept at most: a consultation's statut follows the clock"),
    MOISSON_CONSOLE_PASSWORD: optionalSecret
      .pipe(z.string().min(12, 'must be at least 12 characters').optional())
      .describe("the operator console's sign-in password; unset: the console cannot be signed in to (the local stack sets one)"),
    MOISSON_CONSOLE_SESSION_TTL_S: positiveInt.max(7 * 86_400).default(8 * 3600).describe('how long a console session lasts after sign-in (it is not extended by use)'),
  })
  .transform((c) => ({
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
    dbLookupPoolSize: c.API_DB_LOOKUP_POOL_SIZE,
    trustProxy: c.API_TRUST_PROXY,
    responseCacheBytes: c.API_RESPONSE_CACHE_MB * 1024 * 1024,
    responseCacheTtlMs: c.API_RESPONSE_CACHE_TTL_MS,
    consolePassword: c.MOISSON_CONSOLE_PASSWORD,
    consoleSessionTtlMs: c.MOISSON_CONSOLE_SESSION_TTL_S * 1000,
  }));
export type ApiConfig = z.output<typeof apiConfigSchema>;

export function loadApiConfig(env: Env = process.env): ApiConfig {
  return parseSection(apiConfigSchema, env, 'api');
}

// ---------------------------------------------------------------- leads (scraping jobs, validation, MailWizz)

/** Where a validated contact goes in MailWizz: the list, the template of its campaigns, its tags. */
const leadsRoute = z.object({ platform: z.string().min(1), listUid: z.string().min(1), template: z.string().default('default'), tags: z.array(z.string()).default([]) }).strict();
export type LeadsRoute = z.output<typeof leadsRoute>;

export const DEFAULT_LEADS_CATEGORIES: Record<string, string[]> = {
  restaurant: ['restaurant', 'boulangerie', 'bakery', 'café', 'cafe', 'traiteur', 'menu', 'chef', 'cuisine', 'pizzeria'],
  hotel: ['hotel', 'hôtel', 'chambres', 'gîte', 'hostel', 'auberge', 'booking'],
  health: ['dentiste', 'dentist', 'médecin', 'clinic', 'clinique', 'pharmacie', 'pharmacy', 'kiné', 'santé', 'health'],
  legal: ['avocat', 'lawyer', 'notaire', 'cabinet', 'juridique', 'legal', 'law firm'],
  building: ['plombier', 'plumber', 'électricien', 'electrician', 'menuiserie', 'bâtiment', 'construction', 'rénovation', 'couvreur'],
  tech: ['logiciel', 'software', 'agence web', 'développement', 'saas', 'startup', 'digital', 'informatique'],
};

const DEFAULT_LEADS_ROUTING = { default: { platform: 'general', listUid: 'general-list', template: 'welcome', tags: ['lead'] }, categories: {} };

export const leadsConfigSchema = z
  .object({
    LEADS_SEARCH_URL: httpUrl.default('https://www.bing.com/search').describe("the search engine's result page (Bing's shape: `?q=…&first=…`)"),
    LEADS_MAPS_URL: httpUrl.default('https://maps.example.invalid/maps').describe('the maps web app (a listing page rendered by JavaScript)'),
    LEADS_RDAP_URL: httpUrl.default('https://rdap.org').describe('RDAP base (`…/domain/<name>` is appended)'),
    LEADS_DNS_SERVERS: commaList
      .pipe(z.array(z.string().regex(/^[\w.:[\]-]+$/, 'must be host or host:port')))
      .default([])
      .describe("DNS servers for MX lookups (`host:port,…`); none: the system's"),
    LEADS_CRAWL_CONCURRENCY: positiveInt.max(32).default(4).describe('pages fetched at once inside one crawl batch'),
    LEADS_BATCH_PAGES: positiveInt.max(500).default(20).describe('pages per crawl batch'),
    LEADS_DEFAULT_COUNTRY: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO country code like FR').default('FR').describe('region of phone numbers written without a country code (ISO 3166 alpha-2)'),
    LEADS_PROXIES: commaList
      .pipe(z.array(z.url({ protocol: /^https?$/, error: 'each proxy must be an http(s) URL' })))
      .default([])
      .describe('proxies rotated per request (`http://user:pass@host:port,…`): secrets, never logged'),
    LEADS_USER_AGENTS: z
      .string()
      .transform((s) => s.split('\n').map((x) => x.trim()).filter(Boolean))
      .default([])
      .describe("User-Agents rotated per request, one a line; none: the fetcher's identifiable one"),
    LEADS_DOMAIN_DELAYS: jsonVariable(z.record(z.string().min(1), delayRange.refine(([a, b]) => a <= b, '[min, max] with min <= max')), '{"example.com": [1000, 3000]}')
      .default({})
      .describe('JSON: per-domain pauses between requests, `{"example.com": [minMs, maxMs]}`, on top of FETCH_* politeness'),
    LEADS_SSRF_ALLOW: commaList.default([]).describe('private, loopback or link-local targets custom URLs may reach anyway: CIDRs (`10.0.0.0/8`) or `host:port`'),
    LEADS_MX_CACHE_DAYS: positiveInt.max(365).default(7).describe('MX answers are reused this long'),
    LEADS_WHOIS_CACHE_DAYS: positiveInt.max(365).default(30).describe('RDAP answers are reused this long'),
    LEADS_ROLE_PREFIXES: commaList
      .default(['abuse', 'postmaster', 'hostmaster', 'webmaster', 'mailer-daemon', 'noreply', 'no-reply', 'donotreply', 'do-not-reply', 'nepasrepondre', 'ne-pas-repondre', 'root', 'bounce', 'bounces'])
      .describe('addresses starting with one of these are role addresses, not people'),
    LEADS_BOUNCE_RATE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.1).describe('a domain whose bounce rate is above this (with at least LEADS_BOUNCE_MIN_SENT sent) is refused'),
    LEADS_BOUNCE_MIN_SENT: positiveInt.default(20).describe('sends before a bounce rate counts'),
    LEADS_CATEGORIES: jsonVariable(z.record(z.string().min(1), z.array(z.string().min(1)).min(1)), '{"restaurant": ["menu", "chef"]}')
      .default(DEFAULT_LEADS_CATEGORIES)
      .describe('JSON: keyword lists per category, `{"category": ["keyword", …]}`; the best score wins'),
    LEADS_ROUTING: jsonVariable(
      z.object({ default: leadsRoute, categories: z.record(z.string(), leadsRoute).default({}) }).strict(),
      '{"default": {"platform": "general", "listUid": "ab123", "template": "welcome", "tags": ["lead"]}, "categories": {"restaurant": {…}}}',
    )
      .default(DEFAULT_LEADS_ROUTING)
      .describe('JSON: category → MailWizz route, `{"default": {"platform","listUid","template","tags"}, "categories": {"restaurant": {…}}}`; everything else to `default`'),
    LEADS_VALIDATE_BATCH: positiveInt.max(5000).default(200).describe('contacts per validation batch'),
    MAILWIZZ_URL: httpUrl.default('http://127.0.0.1:4104/api/index.php').describe('MailWizz API (`…/api/index.php`; the local replica by default)'),
    MAILWIZZ_API_VERSION: z.enum(['1', '2']).default('2').describe('MailWizz 1.x signs requests with a key pair, 2.x sends one key'),
    MAILWIZZ_API_KEY: optionalSecret.describe('MailWizz 2.x key (secret)'),
    MAILWIZZ_PUBLIC_KEY: optionalSecret.describe('MailWizz 1.x public key (secret)'),
    MAILWIZZ_PRIVATE_KEY: optionalSecret.describe('MailWizz 1.x private key (secret)'),
    MAILWIZZ_TIMEOUT_MS: positiveInt.default(15_000).describe('timeout of one MailWizz request'),
    MAILWIZZ_BATCH: positiveInt.max(1000).default(50).describe('contacts per MailWizz sync batch'),
    MAILWIZZ_MAX_TRIES: positiveInt.max(10).default(3).describe('tries per contact'),
    MAILWIZZ_RETRY_DELAY_S: nonNegativeInt.default(600).describe('after a failed try, the contact waits this long times 2^(tries-1) before the next one'),
    MAILWIZZ_DAILY_QUOTA: positiveInt.default(50).describe('warm-up: contacts sent on MAILWIZZ_WARMUP_START'),
    MAILWIZZ_WARMUP_STEP: nonNegativeInt.default(25).describe('warm-up: added to the quota each day'),
    MAILWIZZ_MAX_DAILY_QUOTA: positiveInt.default(2000).describe('warm-up: the quota stops growing here'),
    MAILWIZZ_WARMUP_START: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').optional().describe('warm-up: its first day (YYYY-MM-DD)'),
    MAILWIZZ_TIMEZONE: z.string().min(1).default('UTC').describe('the day the quota counts in'),
  })
  .transform((c) => ({
    searchUrl: c.LEADS_SEARCH_URL,
    mapsUrl: c.LEADS_MAPS_URL,
    rdapUrl: c.LEADS_RDAP_URL,
    dnsServers: c.LEADS_DNS_SERVERS,
    crawlConcurrency: c.LEADS_CRAWL_CONCURRENCY,
    batchPages: c.LEADS_BATCH_PAGES,
    defaultCountry: c.LEADS_DEFAULT_COUNTRY,
    proxies: c.LEADS_PROXIES,
    userAgents: c.LEADS_USER_AGENTS,
    domainDelays: c.LEADS_DOMAIN_DELAYS,
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
      url: withoutTrailingSlash(c.MAILWIZZ_URL),
      apiVersion: c.MAILWIZZ_API_VERSION === '1' ? (1 as const) : (2 as const),
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
  }));
export type LeadsConfig = z.output<typeof leadsConfigSchema>;

function leadsCrossChecks(env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Only a check on what is set: an unset key is reported by the sync itself, which is the only user.
  if (env.MAILWIZZ_API_VERSION === '1' && Boolean(env.MAILWIZZ_PUBLIC_KEY?.trim()) !== Boolean(env.MAILWIZZ_PRIVATE_KEY?.trim())) {
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
  return parseSection(leadsConfigSchema, env, 'leads', leadsCrossChecks);
}

// ---------------------------------------------------------------- consolidation: ingestion of open-data sources

export const consolidationIngestConfigSchema = z
  .object({
    CONSOLIDATION_DECLARATIONS_DIR: z.string().trim().min(1).optional().describe('a folder of source declarations (JSON) used instead of the built-in ones'),
    CONSOLIDATION_ENDPOINT_REWRITES: z
      .string()
      .default('')
      .transform((s, ctx) => {
        const pairs: [from: string, to: string][] = [];
        for (const item of s.split(',').map((x) => x.trim()).filter(Boolean)) {
          const [from, to] = item.split('=').map((x) => x.trim());
          const ok = (u: string | undefined) => !!u && URL.canParse(u) && /^https?:$/.test(new URL(u).protocol);
          if (!ok(from) || !ok(to)) ctx.addIssue({ code: 'custom', message: `'${item}' is not origin=origin (two http(s) URLs)` });
          else pairs.push([new URL(from!).origin, new URL(to!).origin]);
        }
        return pairs;
      })
      .describe("`origin=origin` pairs, comma-separated: a declaration's endpoint on the first origin is fetched from the second (the replicas in tests and the demo, a mirror in production)"),
    CONSOLIDATION_HTTP_TIMEOUT_MS: positiveInt.default(60_000).describe('timeout of one download of a source'),
  })
  .transform((c) => ({ declarationsDir: c.CONSOLIDATION_DECLARATIONS_DIR, endpointRewrites: c.CONSOLIDATION_ENDPOINT_REWRITES, httpTimeoutMs: c.CONSOLIDATION_HTTP_TIMEOUT_MS }));
export type ConsolidationIngestConfig = z.output<typeof consolidationIngestConfigSchema>;

export function loadConsolidationIngestConfig(env: Env = process.env): ConsolidationIngestConfig {
  return parseSection(consolidationIngestConfigSchema, env, 'consolidation');
}

// ---------------------------------------------------------------- consolidation: S3 sources and enrichment

const consolidationS3Variables = {
  CONSOLIDATION_S3_ENDPOINT: httpUrl.optional().describe('an S3-compatible endpoint (SeaweedFS in the local stack, MinIO, Scaleway…); unset: AWS S3 of the region'),
  CONSOLIDATION_S3_REGION: z.string().min(1).default('us-east-1').describe('the S3 region'),
  CONSOLIDATION_S3_ACCESS_KEY_ID: optionalSecret.describe("S3 access key (secret); unset: the AWS SDK's own chain (instance role, ~/.aws)"),
  CONSOLIDATION_S3_SECRET_ACCESS_KEY: optionalSecret.describe('S3 secret key (secret): set with CONSOLIDATION_S3_ACCESS_KEY_ID or not at all'),
  CONSOLIDATION_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .optional()
    .describe('the bucket a source declaration uses when it names none (the local stack creates it)'),
  CONSOLIDATION_S3_FORCE_PATH_STYLE: trueOrFalse.default(true).describe('path-style URLs (`endpoint/bucket/key`): what most S3-compatible servers expect'),
  CONSOLIDATION_S3_BATCH_ROWS: positiveInt.max(100_000).default(5_000).describe('rows per batch yielded by the S3 reader'),
};

const toS3Config = (c: z.output<z.ZodObject<typeof consolidationS3Variables>>) => ({
  endpoint: c.CONSOLIDATION_S3_ENDPOINT === undefined ? undefined : withoutTrailingSlash(c.CONSOLIDATION_S3_ENDPOINT),
  region: c.CONSOLIDATION_S3_REGION,
  credentials:
    c.CONSOLIDATION_S3_ACCESS_KEY_ID && c.CONSOLIDATION_S3_SECRET_ACCESS_KEY
      ? { accessKeyId: c.CONSOLIDATION_S3_ACCESS_KEY_ID, secretAccessKey: c.CONSOLIDATION_S3_SECRET_ACCESS_KEY }
      : undefined,
  defaultBucket: c.CONSOLIDATION_S3_BUCKET,
  forcePathStyle: c.CONSOLIDATION_S3_FORCE_PATH_STYLE,
  batchRows: c.CONSOLIDATION_S3_BATCH_ROWS,
});

/** Where S3 sources are read: its own section, so a bad enrichment setting never stops an S3 ingestion. */
export const consolidationS3ConfigSchema = z.object(consolidationS3Variables).transform(toS3Config);
export type ConsolidationS3Config = z.output<typeof consolidationS3ConfigSchema>;

const s3CredentialsPaired = (clean: Env): ConfigIssue[] =>
  Boolean(clean.CONSOLIDATION_S3_ACCESS_KEY_ID?.trim()) !== Boolean(clean.CONSOLIDATION_S3_SECRET_ACCESS_KEY?.trim())
    ? [{ variable: 'CONSOLIDATION_S3_SECRET_ACCESS_KEY', message: 'set both CONSOLIDATION_S3_ACCESS_KEY_ID and CONSOLIDATION_S3_SECRET_ACCESS_KEY, or neither' }]
    : [];

export function loadConsolidationS3Config(env: Env = process.env): ConsolidationS3Config {
  return parseSection(consolidationS3ConfigSchema, env, 'consolidation', s3CredentialsPaired);
}

/** Enrichment reads S3 sources too: the S3 variables are part of its section. */
export const consolidationEnrichConfigSchema = z
  .object({
    ...consolidationS3Variables,
    CONSOLIDATION_BAN_URL: httpUrl.default('https://api-adresse.data.gouv.fr').describe('BAN geocoder (api-adresse / Géoplateforme): `/search` and `/search/csv/` live under it'),
    CONSOLIDATION_BAN_RATE_PER_SECOND: positiveInt.max(1000).default(50).describe('BAN requests per second: the public limit is 50 per IP address'),
    CONSOLIDATION_BAN_MIN_RATIO: z.coerce.number().int().min(0).max(100).default(80).describe('a BAN answer is accepted when fuzz.ratio(address, label) reaches this (QFDMOD: 80)'),
    CONSOLIDATION_BAN_CSV_BATCH_ROWS: positiveInt.max(50_000).default(5_000).describe('rows per `/search/csv/` upload (the service caps a file at 50 MB)'),
    CONSOLIDATION_ENTREPRISES_URL: httpUrl.default('https://recherche-entreprises.api.gouv.fr').describe('the company search API'),
    CONSOLIDATION_ENTREPRISES_RATE_PER_SECOND: positiveInt.max(1000).default(7).describe('company search requests per second: the public limit is 7'),
    CONSOLIDATION_SIRENE_URL: httpUrl
      .default('https://files.data.gouv.fr/insee-sirene/StockEtablissement_utf8.zip')
      .describe("INSEE's monthly establishment stock (a zip holding one UTF-8 CSV, or the CSV itself)"),
    CONSOLIDATION_SIRENE_TIMEOUT_MS: positiveInt.default(3 * 3_600_000).describe('timeout of the SIRENE stock download'),
    CONSOLIDATION_ENRICH_PAGE_SIZE: positiveInt.max(50_000).default(2_000).describe('actors per enrichment page (one activity, one BAN upload at most, one transaction)'),
    CONSOLIDATION_ENRICH_CACHE_DAYS: positiveInt.max(365).default(30).describe('answers of both services are reused this long'),
    CONSOLIDATION_ENRICH_HTTP_TIMEOUT_MS: positiveInt.default(30_000).describe('timeout of one enrichment request'),
    CONSOLIDATION_ENRICH_REQUEST_ATTEMPTS: positiveInt.max(50).default(6).describe('a 429 or 5xx is retried in place this many times before the activity hands it to Temporal'),
    // A request admitted but not yet on the wire (a busy event loop) must not let the next window start early.
    CONSOLIDATION_ENRICH_RATE_MARGIN_MS: nonNegativeInt.default(60).describe('added to each window between an answer and the send `limit` requests later'),
  })
  .transform((c) => ({
    s3: toS3Config(c),
    ban: {
      baseUrl: withoutTrailingSlash(c.CONSOLIDATION_BAN_URL),
      ratePerSecond: c.CONSOLIDATION_BAN_RATE_PER_SECOND,
      minRatio: c.CONSOLIDATION_BAN_MIN_RATIO,
      csvBatchRows: c.CONSOLIDATION_BAN_CSV_BATCH_ROWS,
    },
    entreprises: { baseUrl: withoutTrailingSlash(c.CONSOLIDATION_ENTREPRISES_URL), ratePerSecond: c.CONSOLIDATION_ENTREPRISES_RATE_PER_SECOND },
    sirene: { url: c.CONSOLIDATION_SIRENE_URL, timeoutMs: c.CONSOLIDATION_SIRENE_TIMEOUT_MS },
    pageSize: c.CONSOLIDATION_ENRICH_PAGE_SIZE,
    cacheTtlMs: c.CONSOLIDATION_ENRICH_CACHE_DAYS * 86_400_000,
    httpTimeoutMs: c.CONSOLIDATION_ENRICH_HTTP_TIMEOUT_MS,
    requestAttempts: c.CONSOLIDATION_ENRICH_REQUEST_ATTEMPTS,
    rateMarginMs: c.CONSOLIDATION_ENRICH_RATE_MARGIN_MS,
  }));
export type ConsolidationEnrichConfig = z.output<typeof consolidationEnrichConfigSchema>;

export function loadConsolidationEnrichConfig(env: Env = process.env): ConsolidationEnrichConfig {
  return parseSection(consolidationEnrichConfigSchema, env, 'consolidation', s3CredentialsPaired);
}

// ---------------------------------------------------------------- consolidation: publish, statistics, export, cleanup

export const consolidationPublishConfigSchema = z
  .object({
    CONSOLIDATION_EXPORT_DIR: z
      .string()
      .trim()
      .min(1)
      .default('.data/exports/consolidation')
      .describe('where the weekly open-data files go: `<dir>/<iso week>/acteurs.csv` and `acteurs.geojson`'),
    CONSOLIDATION_LOG_RETENTION_DAYS: positiveInt.default(90).describe('normalisation logs older than this are deleted by the cleanup'),
    CONSOLIDATION_SUGGESTION_RETENTION_DAYS: positiveInt.default(180).describe('suggestions done with (SUCCES, REJETEE) older than this are deleted, then their emptied cohorts'),
  })
  .transform((c) => ({ exportDir: c.CONSOLIDATION_EXPORT_DIR, logRetentionDays: c.CONSOLIDATION_LOG_RETENTION_DAYS, suggestionRetentionDays: c.CONSOLIDATION_SUGGESTION_RETENTION_DAYS }));
export type ConsolidationPublishConfig = z.output<typeof consolidationPublishConfigSchema>;

export function loadConsolidationPublishConfig(env: Env = process.env): ConsolidationPublishConfig {
  return parseSection(consolidationPublishConfigSchema, env, 'consolidation');
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

export const payloadCodecConfigSchema = z
  .object({
    MOISSON_PAYLOAD_KEYS: payloadKeys
      .default([])
      .describe('`id:base64,…` AES-256 keys of the payload codec: the first encrypts, all decrypt; none: payloads travel unencrypted (see Payload encryption)'),
    MOISSON_CODEC_ORIGINS: origins
      .optional()
      .describe('Web UI origins (CORS) allowed to call `/codec/*` from a browser; unset: the origin of TEMPORAL_UI_URL (both loopback names)'),
    TEMPORAL_UI_URL: temporalUiUrl,
    MOISSON_CODEC_TOKEN: optionalSecret
      .pipe(z.string().min(16, 'must be at least 16 characters').optional())
      .describe("bearer token of `/codec/*` callers without an Origin (`temporal --codec-endpoint … --codec-auth 'Bearer …'`); unset: they get 403"),
  })
  .transform((c) => ({
    /** Empty: payloads travel unencrypted (no codec). */
    keys: c.MOISSON_PAYLOAD_KEYS,
    /** Origins allowed to call the codec endpoint from a browser (CORS). */
    uiOrigins: c.MOISSON_CODEC_ORIGINS ?? uiOriginsOf(c.TEMPORAL_UI_URL),
    token: c.MOISSON_CODEC_TOKEN,
  }));
export type PayloadCodecConfig = z.output<typeof payloadCodecConfigSchema>;

export function loadPayloadCodecConfig(env: Env = process.env): PayloadCodecConfig {
  return parseSection(payloadCodecConfigSchema, env, 'payload codec');
}

// ---------------------------------------------------------------- every section

/** The sections `moisson config check` checks; the S3 variables are checked within enrichment's. */
const SECTIONS = [
  [coreConfigSchema, loadCoreConfig],
  [pricesConfigSchema, loadPricesConfig],
  [fetchConfigSchema, loadFetchConfig],
  [pmmpConfigSchema, loadPmmpConfig],
  [apisyncConfigSchema, loadApisyncConfig],
  [apiConfigSchema, loadApiConfig],
  [leadsConfigSchema, loadLeadsConfig],
  [consolidationIngestConfigSchema, loadConsolidationIngestConfig],
  [consolidationEnrichConfigSchema, loadConsolidationEnrichConfig],
  [consolidationPublishConfigSchema, loadConsolidationPublishConfig],
  [payloadCodecConfigSchema, loadPayloadCodecConfig],
] as const;

/** Checks every section and reports all problems of all sections together (for `moisson config check`). */
export function checkAllConfig(env: Env = process.env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [, load] of SECTIONS) {
    try {
      load(env);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
  }
  return issues;
}

/** A variable the configuration reads: its default (undefined: unset by default) and its meaning. */
export interface ConfigVariable {
  variable: string;
  default: unknown;
  meaning: string;
}

/** Every variable read, in section order, each once (TEMPORAL_UI_URL is read by two sections). */
export function configVariables(): ConfigVariable[] {
  const seen = new Map<string, ConfigVariable>();
  for (const [schema] of SECTIONS) {
    for (const [variable, field] of Object.entries(schema.in.shape as Record<string, z.ZodType>)) {
      if (!seen.has(variable)) seen.set(variable, { variable, default: field.parse(undefined), meaning: field.description ?? '' });
    }
  }
  return [...seen.values()];
}

function shownDefault(value: unknown): string {
  if (value === undefined) return 'unset';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : `\`${value.join(',')}\``;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length === 0 ? 'none' : 'built-in (schema/config.ts)';
  return `\`${String(value)}\``;
}

/** The README's table of variables (`moisson config reference` prints it; tests/config.test.ts checks the README against it). */
export function configReference(): string {
  const rows = configVariables().map((v) => `| \`${v.variable}\` | ${shownDefault(v.default)} | ${v.meaning} |`);
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
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
