import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAllConfig, ConfigError, LOCAL_STACK, loadCoreConfig, loadPricesConfig, redactConfig } from '../schema/config';

describe('configuration', () => {
  test('defaults point at the local stack and the real price APIs', () => {
    const core = loadCoreConfig({});
    assert.equal(core.databaseUrl, LOCAL_STACK.databaseUrl);
    assert.equal(core.temporal.taskQueue, 'moisson');
    assert.equal(core.temporal.browserTaskQueue, 'moisson-browser');
    const prices = loadPricesConfig({ METALPRICEAPI_KEY: 'k' });
    assert.equal(prices.sources.erapi.baseUrl, 'https://open.er-api.com/v6');
    assert.deepEqual(prices.chains.fx, ['erapi', 'fawaz']);
    assert.equal(prices.archiveDays, 7);
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

  test('cross-variable rules are reported together with field errors', () => {
    const issues = checkAllConfig({ PRICES_FX_SOURCES: 'erapi,nope', PRICES_ARCHIVE_DAYS: '0' });
    assert.deepEqual(issues.map((i) => i.variable).sort(), ['METALPRICEAPI_KEY', 'PRICES_ARCHIVE_DAYS', 'PRICES_FX_SOURCES']);
  });

  test('an empty variable counts as unset', () => {
    assert.equal(loadCoreConfig({ DATABASE_URL: '' }).databaseUrl, LOCAL_STACK.databaseUrl);
    assert.deepEqual(loadPricesConfig({ PRICES_METALS_SOURCES: 'fawaz', METALPRICEAPI_KEY: '' }).chains.metals, ['fawaz']);
  });

  test('what may be logged has no secret in it', () => {
    const shown = JSON.stringify(redactConfig({ databaseUrl: 'postgres://u:hunter2@h/db', sources: { metalpriceapi: { apiKey: 'abc123' } } }));
    assert.doesNotMatch(shown, /hunter2|abc123/);
    assert.match(shown, /postgres:\/\/u:\*\*\*@h\/db/);
  });
});
