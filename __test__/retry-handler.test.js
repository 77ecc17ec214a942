'use strict';
// The design's RetryHandler through coordinator.retryHandler (and the flat facade where the
// design has one): the design's backoff formula with its +10% jitter, which errors are not
// retried (and that our workers agree), the retry decision, and RetryStatistics counted in
// Redis as a real worker retries.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ValidationError, UnrecoverableError, RetryHandlerImpl } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-retry', config);

test('calculateRetryDelay: fixed, exponential with the 5-minute default cap or maxDelay, plus up to 10% jitter', (t) => {
  const { c } = setup(t);
  const r = c.retryHandler;
  assert.ok(r instanceof RetryHandlerImpl);
  const within = (v, base) => assert.ok(v >= base && v <= Math.round(base * 1.1), `${v} not in [${base}, ${base * 1.1}]`);
  for (let i = 0; i < 50; i++) {
    within(r.calculateRetryDelay(4, { type: 'fixed', delay: 1000 }), 1000);
    within(r.calculateRetryDelay(1, { type: 'exponential', delay: 1000 }), 1000);
    within(r.calculateRetryDelay(3, { type: 'exponential', delay: 1000 }), 4000);
    within(r.calculateRetryDelay(20, { type: 'exponential', delay: 1000 }), 300_000);
    within(r.calculateRetryDelay(5, { type: 'exponential', delay: 1000, maxDelay: 5000 }), 5000);
    within(r.calculateRetryDelay(2, { type: 'custom', delay: 700 }), 700);
  }
  // the jitter only adds, and it does vary
  const seen = new Set(Array.from({ length: 50 }, () => r.calculateRetryDelay(1, { type: 'fixed', delay: 10_000 })));
  assert.ok(seen.size > 1, 'jitter varies');
  assert.throws(() => r.calculateRetryDelay(0, { type: 'fixed', delay: 1 }), ValidationError);
  assert.throws(() => r.calculateRetryDelay(1, { type: 'fixed', delay: -1 }), ValidationError);
  assert.throws(() => r.calculateRetryDelay(1, null), ValidationError);
});

test('shouldRetry: attempts, UnrecoverableError, the design’s names and markers, registered names', (t) => {
  const { c } = setup(t);
  const r = c.retryHandler;
  assert.equal(r.shouldRetry(new Error('boom'), 1, 3), true);
  assert.equal(r.shouldRetry(new Error('boom'), 3, 3), false, 'attempts used up');
  assert.equal(r.shouldRetry(new UnrecoverableError('no'), 1, 3), false);
  for (const name of ['ValidationError', 'AuthenticationError', 'AuthorizationError', 'NotFoundError', 'BadRequestError']) {
    const e = new Error('x');
    e.name = name;
    assert.equal(r.shouldRetry(e, 1, 3), false, name);
  }
  class NotFoundError extends Error {} // by class name, as the design checks constructor.name
  assert.equal(r.shouldRetry(new NotFoundError('gone'), 1, 3), false);
  assert.equal(r.shouldRetry(new Error('INVALID_DATA: bad field'), 1, 3), false);
  assert.equal(r.shouldRetry(new Error('PERMISSION_DENIED'), 1, 3), false);
  class PaymentDeclined extends Error {}
  assert.equal(r.shouldRetry(new PaymentDeclined('x'), 1, 3), true);
  c.registerNonRetryableError(PaymentDeclined);
  assert.equal(r.shouldRetry(new PaymentDeclined('x'), 1, 3), false);
  assert.throws(() => r.shouldRetry(new Error('x'), -1, 3), ValidationError);
});

test('our workers fail at once on the design’s message markers, as shouldRetry says', async (t) => {
  const { c } = setup(t);
  let runs = 0;
  await c.registerWorker('markers', async () => {
    runs++;
    throw new Error('upstream said PERMISSION_DENIED');
  });
  const job = await c.enqueueJob('markers', 'm', {}, { attempts: 5, backoff: { type: 'fixed', delay: 10 } });
  await waitFor(async () => (await c.getJob('markers', job.id))?.finishedOn);
  assert.equal(runs, 1);
  assert.equal((await c.getJob('markers', job.id)).attemptsMade, 1);
});

test('handleJobRetry decides retry (with the backoff delay) or fail, and counts its decisions', async (t) => {
  const { c } = setup(t);
  const r = c.retryHandler;
  const job = { id: '1', name: 'resize', queueName: 'photos', attemptsMade: 1, opts: { attempts: 3, backoff: { type: 'exponential', delay: 100 } } };
  const d = await r.handleJobRetry(job, new Error('flaky'));
  assert.equal(d.action, 'retry');
  assert.equal(d.reason, 'retryable_error');
  assert.ok(d.delay >= 200 && d.delay <= 220, `attempt 2 waits 200 ms + jitter, got ${d.delay}`);

  assert.deepEqual(await r.handleJobRetry({ ...job, attemptsMade: 2 }, new Error('flaky')), { action: 'fail', reason: 'max_attempts_exceeded', delay: 0 });
  assert.deepEqual(await r.handleJobRetry(job, new UnrecoverableError('no')), { action: 'fail', reason: 'non_retryable_error', delay: 0 });
  // the design's defaults: 3 attempts, exponential 2 s
  const dflt = await r.handleJobRetry({ id: '2', name: 'x', queueName: 'photos', attemptsMade: 0, opts: {} }, new Error('e'));
  assert.equal(dflt.action, 'retry');
  assert.ok(dflt.delay >= 2000 && dflt.delay <= 2200);
  await assert.rejects(r.handleJobRetry(null, new Error('e')), ValidationError);

  const text = await c.metricsCollector.exportPrometheusMetrics();
  assert.match(text, /job_retries_exhausted_total\{error_type="Error",job_type="resize",queue="photos"\} 1/);
  assert.match(text, /job_retries_exhausted_total\{error_type="UnrecoverableError",job_type="resize",queue="photos"\} 1/);
  assert.match(text, /job_retry_delay_ms_count\{job_type="resize",queue="photos"\} 1/);
});

test('getRetryStatistics is the design’s RetryStatistics, counted from a real worker’s retries', async (t) => {
  const { c } = setup(t);
  class Flaky extends Error {
    constructor() {
      super('try again');
      this.name = 'Flaky';
    }
  }
  await c.registerWorker('stats', async (job, ctx) => {
    if (job.name === 'heals' && ctx.attemptNumber < 3) throw new Flaky();
    if (job.name === 'dies') throw new TypeError('never');
    return 'ok';
  }, { concurrency: 2 });
  const opts = { attempts: 3, backoff: { type: 'fixed', delay: 20, jitter: 0 } };
  await c.enqueueJob('stats', 'heals', {}, opts);
  await c.enqueueJob('stats', 'dies', {}, opts);
  await waitFor(async () => {
    const s = await c.getQueueStatus('stats');
    return s.jobCounts.completed === 1 && s.jobCounts.failed === 1;
  });
  const stats = await c.retryHandler.getRetryStatistics('stats');
  assert.equal(stats.queueName, 'stats');
  assert.equal(stats.totalRetries, 4);
  assert.deepEqual(stats.retriesByAttempt, { 1: 2, 2: 2 });
  assert.deepEqual(stats.retriesByErrorType, { Flaky: 2, TypeError: 2 });
  assert.equal(stats.averageRetryDelay, 20);
  assert.equal(stats.retriedSucceeded, 1);
  assert.equal(stats.retriedFailed, 1);
  assert.equal(stats.retrySuccessRate, 0.5);
  assert.equal(stats.byAttempt, undefined, 'the old names are gone');
  assert.deepEqual(await c.getRetryStatistics('stats'), stats, 'the facade answers the same');
  await assert.rejects(c.retryHandler.getRetryStatistics(''), ValidationError);
});
