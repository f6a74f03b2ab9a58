import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  checkAllConfig,
  ConfigError,
  configReference,
  configVariables,
  DEFAULT_LEADS_CATEGORIES,
  LOCAL_STACK,
  loadApiConfig,
  loadApisyncConfig,
  loadConsolidationEnrichConfig,
  loadConsolidationIngestConfig,
  loadConsolidationPublishConfig,
  loadConsolidationS3Config,
  loadCoreConfig,
  loadFetchConfig,
  loadLeadsConfig,
  loadPayloadCodecConfig,
  loadPmmpConfig,
  loadPricesConfig,
  logLevelOf,
  redactConfig,
} from '../schema/config';

type Env = Record<string, string>;

/** The issues a loader reports for `env` (none when it loads). */
function issuesOf(load: (env: Env) => unknown, env: Env) {
  try {
    load(env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues;
  }
}

describe('configuration', () => {
  test('defaults point at the local stack and the real services, one per section', () => {
    const core = loadCoreConfig({});
    assert.equal(core.databaseUrl, LOCAL_STACK.databaseUrl);
    assert.equal(core.temporal.taskQueue, 'moisson');
    assert.equal(core.temporal.browserTaskQueue, 'moisson-browser');
    assert.equal(core.logLevel, 'info');
    const prices = loadPricesConfig({ METALPRICEAPI_KEY: 'k' });
    assert.equal(prices.sources.erapi.baseUrl, 'https://open.er-api.com/v6');
    assert.deepEqual(prices.chains.fx, ['erapi', 'fawaz']);
    assert.equal(prices.archiveDays, 7);
    assert.equal(prices.maxRetryAfterMs, 60_000);
    const fetch = loadFetchConfig({});
    assert.equal(fetch.userAgent, 'moisson/0.1 (+https://github.com/moisson/moisson)');
    assert.deepEqual(fetch.politeness, { maxConcurrent: 1, ratePerSecond: 0.5, delayMs: [2000, 5000] });
    assert.deepEqual([fetch.hosts, fetch.politenessScope, fetch.robots, fetch.maxBodyBytes], [{}, 'fleet', { ttlMs: 86_400_000 }, 50 * 1024 * 1024]);
    assert.deepEqual(loadPmmpConfig({}), { portalUrl: 'https://www.marchespublics.gov.ma/index.php', pageSize: 100 });
    const apisync = loadApisyncConfig({});
    assert.deepEqual(apisync.sources.pennylane.rateLimit, { requests: 25, windowMs: 5000, marginMs: 25 });
    assert.equal(apisync.watermarkOverlapMs, 300_000);
    const api = loadApiConfig({});
    assert.deepEqual([api.port, api.hmacSecret, api.readKeys, api.trustProxy, api.consoleSessionTtlMs], [8090, undefined, [], false, 8 * 3_600_000]);
    const leads = loadLeadsConfig({});
    assert.deepEqual(leads.categories, DEFAULT_LEADS_CATEGORIES);
    assert.deepEqual(leads.routing.default, { platform: 'general', listUid: 'general-list', template: 'welcome', tags: ['lead'] });
    assert.deepEqual([leads.mailwizz.apiVersion, leads.mailwizz.retryDelayMs, leads.mailwizz.warmupStart], [2, 600_000, undefined]);
    assert.deepEqual(loadConsolidationIngestConfig({}), { declarationsDir: undefined, endpointRewrites: [], httpTimeoutMs: 60_000 });
    const enrich = loadConsolidationEnrichConfig({});
    assert.deepEqual(enrich.s3, { endpoint: undefined, region: 'us-east-1', credentials: undefined, defaultBucket: undefined, forcePathStyle: true, batchRows: 5000 });
    assert.equal(enrich.cacheTtlMs, 30 * 86_400_000);
    assert.equal(loadConsolidationPublishConfig({}).exportDir, '.data/exports/consolidation');
    assert.deepEqual(loadPayloadCodecConfig({}), { keys: [], uiOrigins: ['http://127.0.0.1:8233', 'http://localhost:8233'], token: undefined });
    // Every default is valid: with the one key the defaults need, nothing is reported.
    assert.deepEqual(checkAllConfig({ METALPRICEAPI_KEY: 'k' }), []);
  });

  test('every bad setting is reported at once, each by its variable name', () => {
    const env = { DATABASE_URL: 'mysql://x', TEMPORAL_ADDRESS: 'nowhere', METRICS_PORT: '70000', LOG_LEVEL: 'loud' };
    assert.throws(
      () => loadCoreConfig(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.issues.map((i) => i.variable).sort(), ['DATABASE_URL', 'LOG_LEVEL', 'METRICS_PORT', 'TEMPORAL_ADDRESS']);
        assert.match(err.message, /4 problems/);
        return true;
      },
    );
  });

  test('a bad value in each section names its variable and the problem', () => {
    const cases: [string, (env: Env) => unknown, Env, string, RegExp][] = [
      ['core', loadCoreConfig, { BROWSER_CONCURRENCY: '17' }, 'BROWSER_CONCURRENCY', /16/],
      ['prices', loadPricesConfig, { METALPRICEAPI_KEY: 'k', PRICES_FAWAZ_URL: 'ftp://x' }, 'PRICES_FAWAZ_URL', /http\(s\) URL/],
      ['fetch', loadFetchConfig, { FETCH_HOSTS: '{"h": ' }, 'FETCH_HOSTS', /must be JSON/],
      ['pmmp', loadPmmpConfig, { PMMP_PAGE_SIZE: '30' }, 'PMMP_PAGE_SIZE', /./],
      ['apisync', loadApisyncConfig, { APISYNC_PAGE_SIZE: '101' }, 'APISYNC_PAGE_SIZE', /100/],
      ['api', loadApiConfig, { API_HMAC_SECRET: 'short' }, 'API_HMAC_SECRET', /at least 16 characters/],
      ['leads', loadLeadsConfig, { LEADS_ROUTING: '{"default": {"platform": "p"}}' }, 'LEADS_ROUTING', /./],
      ['consolidation ingest', loadConsolidationIngestConfig, { CONSOLIDATION_ENDPOINT_REWRITES: 'https://a.example=nowhere' }, 'CONSOLIDATION_ENDPOINT_REWRITES', /origin=origin/],
      ['consolidation S3', loadConsolidationS3Config, { CONSOLIDATION_S3_BUCKET: 'Bad_Bucket' }, 'CONSOLIDATION_S3_BUCKET', /bucket name/],
      ['consolidation enrich', loadConsolidationEnrichConfig, { CONSOLIDATION_BAN_MIN_RATIO: '101' }, 'CONSOLIDATION_BAN_MIN_RATIO', /100/],
      ['consolidation publish', loadConsolidationPublishConfig, { CONSOLIDATION_LOG_RETENTION_DAYS: '0' }, 'CONSOLIDATION_LOG_RETENTION_DAYS', /./],
      ['payload codec', loadPayloadCodecConfig, { MOISSON_PAYLOAD_KEYS: 'k1:c2hvcnQ=' }, 'MOISSON_PAYLOAD_KEYS', /32 bytes/],
    ];
    for (const [section, load, env, variable, problem] of cases) {
      const issues = issuesOf(load, env);
      assert.deepEqual(issues.map((i) => i.variable), [variable], section);
      assert.match(issues[0]!.message, problem, section);
    }
  });

  test('cross-variable rules are reported together with field errors', () => {
    const issues = checkAllConfig({ PRICES_FX_SOURCES: 'erapi,nope', PRICES_ARCHIVE_DAYS: '0' });
    assert.deepEqual(issues.map((i) => i.variable).sort(), ['METALPRICEAPI_KEY', 'PRICES_ARCHIVE_DAYS', 'PRICES_FX_SOURCES']);
    assert.deepEqual(issuesOf(loadFetchConfig, { FETCH_DELAY_MIN_MS: '9000', FETCH_RATE_PER_SECOND: 'fast' }).map((i) => i.variable).sort(), ['FETCH_DELAY_MAX_MS', 'FETCH_RATE_PER_SECOND']);
    assert.match(issuesOf(loadFetchConfig, { FETCH_DELAY_MIN_MS: '9000' })[0]!.message, /at least FETCH_DELAY_MIN_MS \(9000\)/);
    // The enrichment reads S3 sources too, so it refuses half a pair of S3 keys as the S3 section does.
    for (const load of [loadConsolidationS3Config, loadConsolidationEnrichConfig]) {
      assert.deepEqual(issuesOf(load, { CONSOLIDATION_S3_ACCESS_KEY_ID: 'id' }).map((i) => i.variable), ['CONSOLIDATION_S3_SECRET_ACCESS_KEY']);
    }
    const leads = issuesOf(loadLeadsConfig, { MAILWIZZ_API_VERSION: '1', MAILWIZZ_PUBLIC_KEY: 'p', LEADS_SSRF_ALLOW: '10.0.0.0/8,nowhere' });
    assert.deepEqual(leads.map((i) => i.variable), ['MAILWIZZ_PRIVATE_KEY', 'LEADS_SSRF_ALLOW']);
  });

  test('the environment is transformed into typed settings: lists split, JSON parsed, units converted', () => {
    const prices = loadPricesConfig({ PRICES_METALS_SOURCES: ' fawaz ', PRICES_CRYPTO_SOURCES: 'fawaz, coingecko', PRICES_MAX_RETRY_AFTER_S: '5' });
    assert.deepEqual([prices.chains.metals, prices.chains.crypto, prices.maxRetryAfterMs], [['fawaz'], ['fawaz', 'coingecko'], 5000]);
    const fetch = loadFetchConfig({ FETCH_HOSTS: '{"example.org": {"delayMs": [1, 2]}}', FETCH_POLITENESS: 'off', FETCH_ROBOTS: 'ignore', FETCH_USER_AGENT: 'ua/1', FETCH_MAX_BODY_MB: '0.5' });
    assert.deepEqual([fetch.hosts, fetch.politeness, fetch.robots, fetch.userAgent, fetch.maxBodyBytes], [{ 'example.org': { delayMs: [1, 2] } }, false, false, 'ua/1', 524_288]);
    assert.deepEqual(loadApiConfig({ API_READ_KEYS: ' a , b,', API_TRUST_PROXY: 'true' }).readKeys, ['a', 'b']);
    assert.equal(loadApiConfig({ API_TRUST_PROXY: 'true' }).trustProxy, true);
    const leads = loadLeadsConfig({
      LEADS_DNS_SERVERS: '1.1.1.1:53, 9.9.9.9',
      LEADS_USER_AGENTS: 'ua one\n\n ua two ',
      LEADS_ROLE_PREFIXES: 'Sales,INFO',
      LEADS_ROUTING: '{"default": {"platform": "p", "listUid": "l"}, "categories": {"hotel": {"platform": "h", "listUid": "hl", "tags": ["x"]}}}',
      LEADS_DOMAIN_DELAYS: '{"example.com": [1000, 3000]}',
      MAILWIZZ_URL: 'http://mw.example/api/index.php/',
      MAILWIZZ_API_VERSION: '1',
    });
    assert.deepEqual(leads.dnsServers, ['1.1.1.1:53', '9.9.9.9']);
    assert.deepEqual(leads.userAgents, ['ua one', 'ua two']);
    assert.deepEqual(leads.rolePrefixes, ['sales', 'info']);
    assert.deepEqual(leads.routing, {
      default: { platform: 'p', listUid: 'l', template: 'default', tags: [] },
      categories: { hotel: { platform: 'h', listUid: 'hl', template: 'default', tags: ['x'] } },
    });
    assert.deepEqual(leads.domainDelays, { 'example.com': [1000, 3000] });
    assert.deepEqual([leads.mailwizz.url, leads.mailwizz.apiVersion], ['http://mw.example/api/index.php', 1]);
    assert.deepEqual(loadConsolidationIngestConfig({ CONSOLIDATION_ENDPOINT_REWRITES: 'https://data.example/x=http://127.0.0.1:4100/' }).endpointRewrites, [['https://data.example', 'http://127.0.0.1:4100']]);
    const s3 = loadConsolidationEnrichConfig({ CONSOLIDATION_S3_ENDPOINT: 'http://s3.local:8333/', CONSOLIDATION_S3_ACCESS_KEY_ID: 'id', CONSOLIDATION_S3_SECRET_ACCESS_KEY: 'secret', CONSOLIDATION_S3_FORCE_PATH_STYLE: 'false' }).s3;
    assert.deepEqual([s3.endpoint, s3.credentials, s3.forcePathStyle], ['http://s3.local:8333', { accessKeyId: 'id', secretAccessKey: 'secret' }, false]);
    const key = Buffer.alloc(32, 7);
    const codec = loadPayloadCodecConfig({ MOISSON_PAYLOAD_KEYS: `k1:${key.toString('base64')}`, TEMPORAL_UI_URL: 'https://temporal.example' });
    assert.deepEqual([codec.keys.map((k) => k.id), codec.keys[0]!.key.equals(key), codec.uiOrigins], [['k1'], true, ['https://temporal.example']]);
  });

  test('an empty variable counts as unset', () => {
    assert.equal(loadCoreConfig({ DATABASE_URL: '' }).databaseUrl, LOCAL_STACK.databaseUrl);
    assert.deepEqual(loadPricesConfig({ PRICES_METALS_SOURCES: 'fawaz', METALPRICEAPI_KEY: '' }).chains.metals, ['fawaz']);
  });

  test('the log level a process starts with falls back to the default when LOG_LEVEL is bad (the check reports it)', () => {
    assert.deepEqual([logLevelOf({ LOG_LEVEL: 'debug' }), logLevelOf({ LOG_LEVEL: 'loud' }), logLevelOf({ LOG_LEVEL: '' })], ['debug', 'info', 'info']);
  });

  test("the README's table lists every variable read, with its default and meaning, and no other", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 1));
    const table = section.split('\n').filter((line) => line.startsWith('|'));
    const rows = new Map(table.slice(2).map((line) => [/^\| `([A-Z0-9_]+)` \|/.exec(line)?.[1] ?? line, line]));
    const variables = configVariables();
    assert.ok(variables.length > 100, 'the schemas read every section');
    assert.deepEqual([...rows.keys()].sort(), variables.map((v) => v.variable).sort(), 'README table vs the variables the schemas read');
    for (const v of variables) {
      assert.ok(v.meaning.length > 0, `${v.variable} has no describe() in schema/config.ts`);
      const shown = v.default === undefined ? 'unset' : Array.isArray(v.default) && v.default.length > 0 ? `\`${v.default.join(',')}\`` : typeof v.default !== 'object' ? `\`${String(v.default)}\`` : undefined;
      if (shown) assert.equal(rows.get(v.variable)!.split(' | ')[1], shown, `${v.variable}'s default in the README`);
    }
    // And word for word what `moisson config reference` prints, so the README is regenerated rather than edited.
    assert.equal(table.join('\n'), configReference(), 'README table differs: paste the output of `npx moisson config reference`');
  });

  test('what may be logged has no secret in it', () => {
    const shown = JSON.stringify(redactConfig({ databaseUrl: 'postgres://u:hunter2@h/db', sources: { metalpriceapi: { apiKey: 'abc123' } } }));
    assert.doesNotMatch(shown, /hunter2|abc123/);
    assert.match(shown, /postgres:\/\/u:\*\*\*@h\/db/);
    const loaded = JSON.stringify(
      redactConfig({
        api: loadApiConfig({ API_HMAC_SECRET: 'hmac-secret-0123456789', MOISSON_CONSOLE_PASSWORD: 'console-password-1' }),
        apisync: loadApisyncConfig({ PENNYLANE_API_TOKEN: 'pennylane-token-1' }),
        codec: loadPayloadCodecConfig({ MOISSON_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`, MOISSON_CODEC_TOKEN: 'codec-token-0123456789' }),
        core: loadCoreConfig({ DATABASE_URL: 'postgres://u:pg-secret@h/db' }),
      }),
    );
    assert.doesNotMatch(loaded, /hmac-secret|console-password|pennylane-token|codec-token|pg-secret|CQkJ/);
    assert.match(loaded, /"k1"/);
  });
});
