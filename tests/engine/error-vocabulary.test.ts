/**
 * One error vocabulary: an error says whether retrying can help, and the workers' activity interceptor
 * (workers/errors.ts) turns that into Temporal's decision — a StopError fails for good, a TransientError
 * is retried, a RateLimitedError waits the server's delay; an error outside the vocabulary is left as
 * is (retried). Input checks of an activity are refusals of the input, not changes of a page's shape.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AuthError, InvalidInputError, RateLimitedError, TransientError } from '../../activities/engine/errors';
import { crawlConsultationWindow } from '../../activities/pmmp/consultations';
import { errorVocabularyInterceptor } from '../../workers/errors';

async function failureOf(fn: () => Promise<unknown>): Promise<unknown> {
  const env = new MockActivityEnvironment({ activityType: 'someActivity' }, { interceptors: [errorVocabularyInterceptor] });
  try {
    await env.run(fn);
  } catch (err) {
    return err;
  }
  assert.fail('the activity did not fail');
}

test('the interceptor turns each kind of error into its retry decision, typed by its class', async () => {
  const stop = await failureOf(async () => {
    throw new AuthError('401 from the API');
  });
  assert.ok(stop instanceof ApplicationFailure);
  assert.deepEqual([stop.type, stop.nonRetryable, stop.message], ['AuthError', true, '401 from the API']);

  const transient = await failureOf(async () => {
    throw new TransientError('server', '503 from the portal');
  });
  assert.ok(transient instanceof ApplicationFailure);
  assert.deepEqual([transient.type, transient.nonRetryable], ['TransientError', false]);
  assert.deepEqual(transient.details, [{ kind: 'server' }]);

  const limited = await failureOf(async () => {
    throw new RateLimitedError('429', 7_000);
  });
  assert.ok(limited instanceof ApplicationFailure);
  assert.deepEqual([limited.type, limited.nonRetryable, limited.nextRetryDelay], ['RateLimitedError', false, 7_000]);

  const unknown = await failureOf(async () => {
    throw new Error('socket hang up');
  });
  assert.ok(!(unknown instanceof ApplicationFailure), 'left to Temporal, which retries it');
});

test('a pmmp window the activity cannot crawl is refused as an input, for good', async () => {
  // The checks come before any I/O: the activity gets no connections.
  for (const input of [
    { from: '2026-03-02', to: '2026-03-01' },
    { from: '2026-03-01', to: '2026-03-01', pageSize: 7 },
  ]) {
    const err = await failureOf(() => crawlConsultationWindow({} as never, input as never));
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.deepEqual([err.type, err.nonRetryable], [InvalidInputError.name, true], err.message);
  }
});
