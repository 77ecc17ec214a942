'use strict';
// The worker logs each failed attempt from the engine's 'failed' event: the engine decides
// retry-or-fail (and the retry delay) and carries the job's trace id; JavaScript only passes
// on what it alone knows (an unrecoverable error, job.discard()).

const test = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, setupCoordinators } = require('./helpers');

function capture() {
  const entries = [];
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error']) logger[level] = (fields, msg) => entries.push({ level, msg, ...fields });
  return { entries, logger };
}

const failures = (entries, jobId) =>
  entries.filter((e) => e.jobId === jobId && (e.msg === 'job failed' || e.msg === 'job attempt failed, will retry'));

test('each attempt is logged as the engine settled it: retries at debug with their delay, the last at warn', async (t) => {
  // the level is read when the coordinator's logger is made
  const level = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'debug';
  t.after(() => {
    if (level === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = level;
  });
  const { entries, logger } = capture();
  const { c } = setupCoordinators(t, 'jqt-flog', { logger, loggerStyle: 'pino' });
  await c.registerWorker('retry', async () => {
    throw new RangeError('nope');
  });
  const job = await c.enqueueJob('retry', 'r', {}, { traceId: 'trace-7', attempts: 3, backoff: { type: 'fixed', delay: 60, jitter: 0 } });
  await waitFor(() => failures(entries, job.id).length === 3, { message: 'three attempts logged' });
  const [first, second, last] = failures(entries, job.id);
  for (const [entry, attempt] of [[first, 1], [second, 2]]) {
    assert.equal(entry.msg, 'job attempt failed, will retry');
    assert.equal(entry.level, 'debug');
    assert.equal(entry.attempt, attempt);
    assert.equal(entry.retryDelayMs, 60);
    assert.equal(entry.traceId, 'trace-7');
    assert.equal(entry.error, 'RangeError: nope');
  }
  assert.equal(last.msg, 'job failed');
  assert.equal(last.level, 'warn');
  assert.equal(last.attempt, 3);
  assert.equal(last.retryDelayMs, undefined);
  assert.equal(last.traceId, 'trace-7');
  assert.equal(last.queue, 'retry');
  assert.equal(last.jobName, 'r');
  assert.equal(last.workerId, c.getWorkers('retry')[0].id);
  const stored = await c.getJob('retry', job.id);
  assert.equal(stored.attemptsMade, 3);
  assert.ok(stored.finishedOn, 'the job failed for good in Redis');
});

test('job.discard() with attempts left: one attempt, logged as failed for good', async (t) => {
  const { entries, logger } = capture();
  const { c } = setupCoordinators(t, 'jqt-flog', { logger, loggerStyle: 'pino' });
  await c.registerWorker('discard', async (job) => {
    job.discard();
    throw new Error('give up');
  });
  const job = await c.enqueueJob('discard', 'd', {}, { traceId: 'trace-8', attempts: 5 });
  const entry = await waitFor(() => failures(entries, job.id)[0], { message: 'the failure logged' });
  assert.equal(entry.msg, 'job failed');
  assert.equal(entry.level, 'warn');
  assert.equal(entry.attempt, 1);
  assert.equal(entry.traceId, 'trace-8');
  await waitFor(async () => (await c.getJob('discard', job.id))?.finishedOn, { message: 'failed in Redis' });
  assert.equal(failures(entries, job.id).length, 1);
});

test('a timeout the engine enforces is logged from its event, with the trace id', async (t) => {
  const { entries, logger } = capture();
  const { c } = setupCoordinators(t, 'jqt-flog', { logger, loggerStyle: 'pino' });
  await c.registerWorker('hang', () => new Promise(() => {}), { timeoutMs: 100 });
  const job = await c.enqueueJob('hang', 'h', {}, { traceId: 'trace-9', attempts: 1 });
  const entry = await waitFor(() => failures(entries, job.id)[0], { message: 'the timeout logged' });
  assert.equal(entry.msg, 'job failed');
  assert.equal(entry.level, 'warn');
  assert.equal(entry.traceId, 'trace-9');
  assert.match(entry.error, /^TimeoutError: /);
});
