'use strict';
// Failure handling (issue 5) against a real Redis: the backoff delays actually applied (caps
// and jitter bounds), non-retryable errors of the user's own classes, timeouts with an
// AbortSignal, the dead-letter lifecycle (fail → list → archive / requeue → complete), purge
// by age, failure and retry statistics that match what happened, failure patterns, and jobs
// that stall too often.

const test = require('node:test');
const assert = require('node:assert/strict');
const { TimeoutError, ValidationError } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-fail', config);

/** A processor that fails the first `failures` attempts of every job, recording attempt starts. */
function flaky(failures, makeError = (n) => new Error(`attempt ${n} failed`)) {
  const starts = new Map(); // job id -> [ms]
  const processor = async (job, ctx) => {
    if (!starts.has(job.id)) starts.set(job.id, []);
    starts.get(job.id).push(Date.now());
    if (ctx.attemptNumber <= failures) throw makeError(ctx.attemptNumber);
    return 'ok';
  };
  const gaps = (id) => starts.get(id).slice(1).map((t, i) => t - starts.get(id)[i]);
  return { processor, starts, gaps };
}

class PaymentDeclined extends Error {
  constructor() {
    super('card declined');
    this.name = 'PaymentDeclined';
  }
}

test('exponential backoff waits 100, 200, then the 250 ms cap between attempts', async (t) => {
  const { c } = setup(t);
  const f = flaky(3);
  await c.registerWorker('exp', f.processor);
  const job = await c.enqueueJob('exp', 'e', {}, {
    attempts: 4,
    backoff: { type: 'exponential', delay: 100, maxDelay: 250, jitter: 0 },
  });
  await waitFor(async () => (await c.getJob('exp', job.id))?.finishedOn);
  const gaps = f.gaps(job.id);
  assert.equal(gaps.length, 3);
  [100, 200, 250].forEach((d, i) => assert.ok(gaps[i] >= d, `gap ${i + 1} is ${gaps[i]} ms, wanted ≥ ${d}`));
  assert.ok(gaps[2] < 400, `the cap applies: gap 3 is ${gaps[2]} ms, uncapped it would be 400`);
  const stats = await c.getRetryStatistics('exp');
  assert.equal(stats.averageRetryDelay, (100 + 200 + 250) / 3);
  assert.deepEqual(stats.retriesByAttempt, { 1: 1, 2: 1, 3: 1 });
});

test('jitter keeps each retry delay within [delay × (1 − jitter), delay]', async (t) => {
  const { c } = setup(t);
  const f = flaky(1);
  await c.registerWorker('jit', f.processor, { concurrency: 10 });
  const jobs = await c.enqueueBulk('jit', Array.from({ length: 10 }, () => ({
    data: {},
    options: { attempts: 2, backoff: { type: 'fixed', delay: 400, jitter: 0.5 } },
  })));
  await waitFor(async () => (await c.getQueueStatus('jit')).jobCounts.completed === 10);
  const stats = await c.getRetryStatistics('jit');
  assert.equal(stats.totalRetries, 10);
  // the mean of ten draws from [200, 400]: inside the bounds, and not all at one end
  assert.ok(stats.averageRetryDelay >= 200 && stats.averageRetryDelay <= 400, `${stats.averageRetryDelay}`);
  assert.ok(stats.averageRetryDelay < 400, 'some jitter was applied');
  for (const job of jobs) assert.ok(f.gaps(job.id)[0] >= 200, `job ${job.id} retried after ${f.gaps(job.id)[0]} ms`);
});

test('the default retry policy adds 10% jitter to a backoff that sets none', async (t) => {
  const { c } = setup(t);
  const f = flaky(1);
  await c.registerWorker('defaults', f.processor, { concurrency: 20 });
  await c.enqueueBulk('defaults', Array.from({ length: 20 }, () => ({
    data: {},
    options: { attempts: 2, backoff: { type: 'fixed', delay: 200 } },
  })));
  await waitFor(async () => (await c.getQueueStatus('defaults')).jobCounts.completed === 20);
  const { averageRetryDelay } = await c.getRetryStatistics('defaults');
  assert.ok(averageRetryDelay >= 180 && averageRetryDelay < 200, `mean delay ${averageRetryDelay}`);
});

test('errors of user classes marked non-retryable, or with retryable: false, fail the job at once', async (t) => {
  const { c } = setup(t);
  class QuotaExceeded extends Error {
    constructor() {
      super('quota');
      this.name = 'QuotaExceeded';
    }
  }
  c.registerNonRetryableError(PaymentDeclined);
  const errors = {
    declined: () => new PaymentDeclined(),
    quota: () => new QuotaExceeded(),
    flagged: () => Object.assign(new Error('no point'), { retryable: false }),
    plain: () => new Error('try again'),
  };
  await c.registerWorker('nr', async (job) => {
    throw errors[job.name]();
  }, { nonRetryableErrors: ['QuotaExceeded'], concurrency: 4 });
  const opts = { attempts: 3, backoff: { type: 'fixed', delay: 10, jitter: 0 } };
  for (const name of Object.keys(errors)) await c.enqueueJob('nr', name, {}, { ...opts, jobId: name });
  await waitFor(async () => (await c.getQueueStatus('nr')).jobCounts.failed === 4);
  const attempts = Object.fromEntries(
    await Promise.all(Object.keys(errors).map(async (id) => [id, (await c.getJob('nr', id)).attemptsMade])),
  );
  assert.deepEqual(attempts, { declined: 1, quota: 1, flagged: 1, plain: 3 });
  assert.equal((await c.getJob('nr', 'declined')).errorName, 'PaymentDeclined');
  assert.throws(() => c.registerNonRetryableError(42), ValidationError);
});

test('a job past its timeout fails with TimeoutError, its signal aborts, and it is retried', async (t) => {
  const { c } = setup(t);
  const reasons = [];
  await c.registerWorker('slow', async (job, ctx) => {
    if (ctx.attemptNumber === 1) {
      // wait for the abort, as a well-behaved processor does
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      reasons.push(ctx.signal.reason);
      throw ctx.signal.reason;
    }
    return 'fast enough';
  });
  const job = await c.enqueueJob('slow', 's', {}, {
    timeoutMs: 200,
    attempts: 2,
    backoff: { type: 'fixed', delay: 0 },
  });
  await waitFor(async () => (await c.getJob('slow', job.id))?.returnvalue === 'fast enough');
  assert.equal(reasons.length, 1);
  assert.ok(reasons[0] instanceof TimeoutError);
  assert.equal(reasons[0].code, 'ERR_TIMEOUT');
  const stored = await c.getJob('slow', job.id);
  assert.equal(stored.attemptsMade, 2);
  assert.equal((await c.getRetryStatistics('slow')).retriesByErrorType.TimeoutError, 1);
});

test('a processor that hangs and ignores its signal cannot keep the job: it fails, and the slot frees', async (t) => {
  const { c } = setup(t);
  await c.registerWorker('hang', async (job) => {
    if (job.name === 'hang') return new Promise(() => {}); // never settles
    return 'next';
  }, { timeoutMs: 150, concurrency: 1 });
  const hung = await c.enqueueJob('hang', 'hang', {}, { attempts: 1 });
  const next = await c.enqueueJob('hang', 'after', {}, { attempts: 1 });
  await waitFor(async () => (await c.getJob('hang', next.id))?.returnvalue === 'next');
  const dead = await c.getJob('hang', hung.id);
  assert.equal(dead.failedReason, 'job timed out after 150 ms');
  assert.equal(dead.errorName, 'TimeoutError');
  const status = await c.getQueueStatus('hang');
  assert.equal(status.jobCounts.active, 0, 'no job left holding a lock');
});

test('dead letters: fail → listed with everything → archived; another requeued → completes', async (t) => {
  const { c } = setup(t);
  let healed = false;
  await c.registerWorker('dlq', async (job) => {
    if (job.name === 'charge' && !healed) throw new PaymentDeclined();
    return 'paid';
  }, { concurrency: 2 });
  const a = await c.enqueueJob('dlq', 'charge', { amount: 5 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 }, jobId: 'a' });
  const b = await c.enqueueJob('dlq', 'charge', { amount: 7 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 }, jobId: 'b' });
  await waitFor(async () => (await c.getQueueStatus('dlq')).jobCounts.failed === 2);

  const dead = await c.getFailedJobs('dlq', 10);
  assert.deepEqual(dead.map((j) => j.id).sort(), ['a', 'b']);
  const first = dead.find((j) => j.id === 'a');
  assert.deepEqual(first.data, { amount: 5 });
  assert.equal(first.opts.attempts, 2);
  assert.equal(first.errorName, 'PaymentDeclined');
  assert.equal(first.failedReason, 'card declined');
  assert.equal(first.stacktrace.length, 2);
  assert.match(first.stacktrace[1], /PaymentDeclined: card declined/);
  assert.equal(first.attemptsMade, 2);
  assert.ok(first.finishedOn >= a.timestamp);

  await c.archiveFailedJob('dlq', 'a');
  assert.deepEqual((await c.getFailedJobs('dlq', 10)).map((j) => j.id), ['b']);
  const archived = await c.getArchivedJobs('dlq');
  assert.deepEqual(archived.map((j) => j.id), ['a']);
  assert.equal(archived[0].failedReason, 'card declined');

  healed = true;
  await c.requeueFailedJob('dlq', b.id);
  await waitFor(async () => (await c.getJob('dlq', 'b'))?.returnvalue === 'paid');
  assert.deepEqual(await c.getFailedJobs('dlq', 10), []);
  const retry = await c.getRetryStatistics('dlq');
  assert.equal(retry.retriedFailed, 2, 'both needed a retry and failed for good');
  assert.equal(retry.retriesByErrorType.PaymentDeclined, 2);
});

test('purgeFailedJobs deletes by age and counts; statistics describe the dead letters', async (t) => {
  const { c } = setup(t);
  await c.registerWorker('purge', async (job) => {
    throw job.name === 'email' ? new TypeError('bad address') : new RangeError('too big');
  }, { concurrency: 3 });
  await c.enqueueBulk('purge', [
    { name: 'email', data: {}, options: { attempts: 1 } },
    { name: 'email', data: {}, options: { attempts: 1 } },
    { name: 'resize', data: {}, options: { attempts: 1 } },
  ]);
  await waitFor(async () => (await c.getQueueStatus('purge')).jobCounts.failed === 3);
  const stats = await c.getFailedJobStatistics('purge');
  assert.equal(stats.totalFailedJobs, 3);
  assert.deepEqual(stats.failuresByJobType, { email: 2, resize: 1 });
  assert.deepEqual(stats.failuresByErrorType, { TypeError: 2, RangeError: 1 });
  assert.ok(stats.oldestFailure instanceof Date && stats.oldestFailure <= stats.newestFailure);
  assert.equal(stats.recentFailures, 3);

  assert.equal(await c.purgeFailedJobs('purge', 60_000), 0, 'none is a minute old');
  assert.equal(await c.purgeFailedJobs('purge', new Date(Date.now() + 1)), 3);
  assert.equal((await c.getFailedJobStatistics('purge')).totalFailedJobs, 0);
  await assert.rejects(c.purgeFailedJobs('purge', 'yesterday'), ValidationError);
});

test('more than `threshold` failures of one job name in the window raise one failurePattern and a warning', async (t) => {
  const warnings = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (msg, fields) => warnings.push({ fields, msg }) }; // the design's (message, fields)
  const { c } = setup(t, { logger, monitoring: { failurePatterns: { threshold: 3, windowMs: 60_000 } } });
  const patterns = [];
  c.on('failurePattern', (p) => patterns.push(p));
  await c.registerWorker('pattern', async (job) => {
    if (job.name === 'sync') throw new Error('upstream down');
    return 'ok';
  }, { concurrency: 1 });
  const jobs = [...Array(5)].map(() => ({ name: 'sync', data: {}, options: { attempts: 1 } }));
  jobs.push({ name: 'other', data: {}, options: { attempts: 1 } });
  await c.enqueueBulk('pattern', jobs);
  await waitFor(async () => (await c.getQueueStatus('pattern')).jobCounts.failed === 5);
  await waitFor(() => patterns.length >= 1);
  assert.equal(patterns.length, 1, 'one alert per window');
  assert.deepEqual(patterns[0], { queueName: 'pattern', jobName: 'sync', failures: 4, windowMs: 60_000, threshold: 3 });
  const alerts = warnings.filter((w) => w.msg.startsWith('failure pattern'));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].fields.jobName, 'sync');
});

test('a job that stalled more than maxStalledCount times fails with the reason, after a stalled event', async (t) => {
  const env = setup(t);
  const { c, prefix } = env;
  const redis = env.redis();
  const job = await c.enqueueJob('stall', 's', {}, { attempts: 3 });
  // the job was taken by a worker that died (no lock), and it had stalled once before
  await redis.lmove(`${prefix}:stall:wait`, `${prefix}:stall:active`, 'RIGHT', 'LEFT');
  await redis.hset(`${prefix}:stall:${job.id}`, 'stc', 1);
  const stalled = [];
  const failed = [];
  const worker = await c.registerWorker('stall', async () => 'ran', {
    stalledInterval: 100,
    maxStalledCount: 1,
  });
  worker.on('stalled', (id) => stalled.push(id));
  worker.on('failed', (job, err, _prev, info) => failed.push({ id: info.jobId, message: err.message, retrying: info.retrying }));
  await waitFor(() => failed.length === 1);
  assert.deepEqual(stalled, [job.id]);
  assert.deepEqual(failed, [{ id: job.id, message: 'job stalled more than allowable limit', retrying: false }]);
  const stored = await c.getJob('stall', job.id);
  assert.equal(stored.failedReason, 'job stalled more than allowable limit');
  assert.equal(stored.returnvalue, null, 'the processor never ran it (null, BullMQ\'s default)');
});
