'use strict';
// The design's DeadLetterHandler through coordinator.deadLetterHandler and the facade:
// FailedJob objects, FailedJobStatistics, and handleFailedJob (recorded once, deadLetter
// event, counted; a job that has not failed for good is refused and left alone).

const test = require('node:test');
const assert = require('node:assert/strict');
const { ValidationError, JobStateError, Job } = require('..');
const { FailedJob } = require('../lib/managers/dead-letter-handler');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-dlh', config);

class PaymentDeclined extends Error {
  constructor() {
    super('card declined');
    this.name = 'PaymentDeclined';
  }
}

async function failOne(c, queue, opts = {}) {
  await c.registerWorker(queue, async (job) => {
    if (job.name === 'charge') throw new PaymentDeclined();
    return 'ok';
  });
  const job = await c.enqueueJob(queue, 'charge', { amount: 5 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 }, ...opts });
  await waitFor(async () => (await c.getQueueStatus(queue)).jobCounts.failed === 1);
  return job;
}

test('getFailedJobs returns FailedJob objects: the design’s fields next to the job’s own', async (t) => {
  const { c } = setup(t);
  const added = await failOne(c, 'dl');
  const [f] = await c.deadLetterHandler.getFailedJobs('dl', 10);
  assert.ok(f instanceof FailedJob && f instanceof Job);
  assert.equal(f.id, added.id);
  assert.equal(f.queueName, 'dl');
  assert.equal(f.name, 'charge');
  assert.deepEqual(f.data, { amount: 5 });
  assert.equal(f.error.name, 'PaymentDeclined');
  assert.equal(f.error.message, 'card declined');
  assert.match(f.error.stack, /PaymentDeclined: card declined/);
  assert.equal(f.attempts, 2);
  assert.ok(f.failedAt instanceof Date && f.failedAt.getTime() === f.finishedOn);
  assert.equal(f.originalJobOptions.attempts, 2);
  assert.equal(f.attemptsMade, 2, 'BullMQ job fields stay');
  const [viaFacade] = await c.getFailedJobs('dl', { start: 0, end: 0 });
  assert.equal(viaFacade.error.message, 'card declined');
  await assert.rejects(c.deadLetterHandler.getFailedJobs('dl', 0), ValidationError);
});

test('getFailedJobStatistics is the design’s FailedJobStatistics', async (t) => {
  const { c } = setup(t);
  const empty = await c.deadLetterHandler.getFailedJobStatistics('none');
  assert.equal(empty.queueName, 'none');
  assert.equal(empty.totalFailedJobs, 0);
  assert.equal(empty.oldestFailure, undefined);
  assert.deepEqual(empty.failuresByJobType, {});
  await c.registerWorker('st', async (job) => {
    throw job.name === 'email' ? new TypeError('bad address') : new RangeError('too big');
  }, { concurrency: 3 });
  await c.enqueueBulk('st', [
    { name: 'email', data: {}, options: { attempts: 1 } },
    { name: 'email', data: {}, options: { attempts: 1 } },
    { name: 'resize', data: {}, options: { attempts: 1 } },
  ]);
  await waitFor(async () => (await c.getQueueStatus('st')).jobCounts.failed === 3);
  const s = await c.deadLetterHandler.getFailedJobStatistics('st');
  assert.equal(s.queueName, 'st');
  assert.equal(s.totalFailedJobs, 3);
  assert.deepEqual(s.failuresByJobType, { email: 2, resize: 1 });
  assert.deepEqual(s.failuresByErrorType, { TypeError: 2, RangeError: 1 });
  assert.ok(s.oldestFailure instanceof Date && s.oldestFailure <= s.newestFailure);
  assert.equal(s.recentFailures, 3);
  assert.equal(s.recentFailureRate, 3 / 15);
  assert.equal(s.sampled, 3);
  assert.equal(s.total, undefined, 'the old names are gone');
  assert.deepEqual(await c.getFailedJobStatistics('st'), s);
});

test('our workers’ dead letters are emitted as deadLetter and counted; handleFailedJob then records nothing twice', async (t) => {
  const { c } = setup(t);
  const letters = [];
  c.on('deadLetter', (f) => letters.push(f));
  const added = await failOne(c, 'auto');
  await waitFor(() => letters.length === 1);
  assert.ok(letters[0] instanceof FailedJob);
  assert.equal(letters[0].id, added.id);
  assert.equal(letters[0].error.name, 'PaymentDeclined');
  const job = await c.getJob('auto', added.id);
  await c.deadLetterHandler.handleFailedJob(job, new PaymentDeclined());
  assert.equal(letters.length, 1, 'the same failure is not recorded again');
  assert.equal(c.metricsCollector.registry.value('dead_letters_handled_total', { queue: 'auto', job_type: 'charge', error_type: 'PaymentDeclined' }), 1);
});

test('handleFailedJob records a dead letter of another process once: logs, counts, emits', async (t) => {
  const lines = [];
  const logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => lines.push({ msg, ...fields }) }; // the design's (message, fields)
  const env = setup(t, { logger });
  const other = env.make(); // the worker runs in "another process": its coordinator
  const added = await failOne(other, 'remote');
  const c = env.c;
  const letters = [];
  c.on('deadLetter', (f) => letters.push(f));
  const job = await c.getJob('remote', added.id);
  await c.deadLetterHandler.handleFailedJob(job, new PaymentDeclined());
  await c.deadLetterHandler.handleFailedJob(job, new PaymentDeclined());
  assert.equal(letters.length, 1, 'idempotent');
  assert.equal(letters[0].queueName, 'remote');
  assert.equal(letters[0].attempts, 2);
  assert.ok(letters[0].failedAt instanceof Date);
  const logged = lines.filter((l) => l.msg === 'job permanently failed' && l.queue === 'remote');
  assert.equal(logged.length, 1);
  assert.equal(logged[0].jobId, added.id);
  assert.match(await c.metricsCollector.exportPrometheusMetrics(), /dead_letters_handled_total\{error_type="PaymentDeclined",job_type="charge",queue="remote"\} 1/);

  // requeued, failed again: a new failure, recorded again
  await c.deadLetterHandler.requeueFailedJob('remote', added.id);
  await waitFor(async () => (await c.getJob('remote', added.id))?.finishedOn > job.finishedOn);
  await c.deadLetterHandler.handleFailedJob(await c.getJob('remote', added.id), new PaymentDeclined());
  assert.equal(letters.length, 2);
  assert.equal(c.metricsCollector.registry.value('failed_jobs_requeued_total', { queue: 'remote', job_type: 'charge' }), 1);
});

test('handleFailedJob refuses a job that has not failed for good and leaves it untouched', async (t) => {
  const { c, redis } = setup(t);
  const letters = [];
  c.on('deadLetter', (f) => letters.push(f));
  const waiting = await c.enqueueJob('pending', 'p', { n: 1 });
  const r = redis();
  const key = `${c.config.redis.keyPrefix}:pending:${waiting.id}`;
  const before = await r.hgetall(key);
  assert.equal(before.name, 'p', 'read the job hash itself');
  await assert.rejects(c.deadLetterHandler.handleFailedJob(waiting, new Error('x')), JobStateError);
  assert.deepEqual(await r.hgetall(key), before, 'the job hash is unchanged');
  assert.equal((await c.getQueueStatus('pending')).jobCounts.waiting, 1);
  assert.equal(letters.length, 0);
  await assert.rejects(c.deadLetterHandler.handleFailedJob(null, new Error('x')), ValidationError);
  await assert.rejects(c.deadLetterHandler.handleFailedJob({ id: '1' }, new Error('x')), ValidationError);
});

test('handleFailedJob records a job removed on failure from the object given', async (t) => {
  const { c } = setup(t);
  const letters = [];
  c.on('deadLetter', (f) => letters.push(f));
  const gone = { id: 'gone-1', name: 'charge', queueName: 'gone', data: { a: 1 }, opts: { attempts: 1 }, attemptsMade: 1 };
  await c.deadLetterHandler.handleFailedJob(gone, new PaymentDeclined());
  await c.deadLetterHandler.handleFailedJob(gone, new PaymentDeclined());
  assert.equal(letters.length, 1);
  assert.equal(letters[0].error.name, 'PaymentDeclined');
  assert.deepEqual(letters[0].data, { a: 1 });
});
