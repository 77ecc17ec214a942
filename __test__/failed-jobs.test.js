'use strict';
// Failing jobs through JobQueueCoordinator against a real Redis: thrown errors, retries and
// attempt numbers, getFailedJobs, retryJob (by queue and id, or by id alone), and the errors
// that fail a job at once.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { UnrecoverableError, ValidationError } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');
const { record } = require('./api-helpers');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-failed-jobs', config);

test('a thrown error becomes failedReason and stacktrace; retries use attempts and attemptNumber counts up', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const attempts = [];
  const worker = await c.registerWorker('retry', async (job, context) => {
    attempts.push({ attemptNumber: context.attemptNumber, attemptsMade: job.attemptsMade, start: context.startTime });
    if (context.attemptNumber < 3) throw new Error(`flaky attempt ${context.attemptNumber}`);
    return 'third time';
  });
  const ev = record(worker);
  // jitter 0: without it the default 10% jitter may shorten a delay
  const job = await c.enqueueJob('retry', { x: 1 }, { maxRetries: 3, backoffStrategy: { type: 'exponential', delay: 100, jitter: 0 } });
  await waitFor(() => ev.completed.length === 1, { message: 'completion after 3 attempts' });
  assert.deepEqual(attempts.map((a) => a.attemptNumber), [1, 2, 3]);
  assert.deepEqual(attempts.map((a) => a.attemptsMade), [0, 1, 2]);
  // Exponential backoff from 100 ms: ≥100 ms before the 2nd attempt, ≥200 ms before the 3rd.
  assert.ok(attempts[1].start - attempts[0].start >= 100, `2nd attempt ${attempts[1].start - attempts[0].start} ms after the 1st`);
  assert.ok(attempts[2].start - attempts[1].start >= 200, `3rd attempt ${attempts[2].start - attempts[1].start} ms after the 2nd`);
  assert.deepEqual(ev.failed, [
    { id: job.id, message: 'flaky attempt 1', retrying: true },
    { id: job.id, message: 'flaky attempt 2', retrying: true },
  ]);
  const stored = await c.getJob('retry', job.id);
  assert.equal(stored.returnvalue, 'third time');
  assert.equal(stored.attemptsMade, 3);
  assert.equal(stored.stacktrace.length, 2, 'one stack trace per failed attempt');
  assert.match(stored.stacktrace[0], /flaky attempt/);
});

test('failed job → getFailedJobs shows reason and stack → retryJob(queue, id) → completed', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  let healthy = false;
  const worker = await c.registerWorker('fail', async () => {
    if (!healthy) throw new TypeError('upstream is down');
    return { ok: true };
  });
  const ev = record(worker);
  const job = await c.enqueueJob('fail', { x: 1 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
  await waitFor(() => ev.failed.length === 2, { message: '2 failed events' });
  assert.deepEqual(ev.failed.map((f) => f.retrying), [true, false]);

  await waitFor(async () => (await c.getQueueStatus('fail')).jobCounts.failed === 1);
  const failed = await c.getFailedJobs('fail');
  assert.equal(failed.length, 1);
  assert.equal(failed[0].id, job.id);
  assert.equal(failed[0].failedReason, 'upstream is down');
  assert.equal(failed[0].attemptsMade, 2);
  assert.ok(failed[0].stacktrace.some((s) => s.includes('TypeError: upstream is down')), 'stack trace kept');
  assert.ok(failed[0].finishedOn > 0);
  assert.equal(failed[0].queueName, 'fail');

  healthy = true;
  assert.equal(await c.retryJob('fail', job.id), true, 'the design form resolves true when it retried');
  await waitFor(() => ev.completed.length === 1, { message: 'completion after retry' });
  assert.equal(ev.completed[0].id, job.id);
  const stored = await c.getJob('fail', job.id);
  assert.deepEqual(stored.returnvalue, { ok: true });
  assert.deepEqual(await c.getFailedJobs('fail'), []);
  const counts = (await c.getQueueStatus('fail')).jobCounts;
  assert.equal(counts.failed, 0);
  assert.equal(counts.completed, 1);

  // Retrying a job that is not failed resolves false, and changes nothing.
  assert.equal(await c.retryJob('fail', job.id), false);
  assert.deepEqual((await c.getQueueStatus('fail')).jobCounts.completed, 1);
  assert.deepEqual((await c.getJob('fail', job.id)).returnvalue, { ok: true });
});

test('retryJob(jobId) finds the queue among every queue of the prefix; unknown → false; in two → ValidationError', { timeout: 20000 }, async (t) => {
  const { c, make } = setup(t);
  let healthy = false;
  const processor = async () => {
    if (!healthy) throw new Error('nope');
    return 'ok';
  };
  const w1 = await c.registerWorker('left', processor);
  const w2 = await c.registerWorker('right', processor);
  const e1 = record(w1);
  const e2 = record(w2);
  await c.enqueueJob('left', { x: 1 }, { jobId: 'only-left', attempts: 1 });
  await c.enqueueJob('left', { x: 1 }, { jobId: 'both', attempts: 1 });
  await c.enqueueJob('right', { x: 1 }, { jobId: 'both', attempts: 1 });
  await waitFor(() => e1.failed.length === 2 && e2.failed.length === 1, { message: '3 failures' });

  assert.equal(await c.retryJob('no-such-job'), false);
  await assert.rejects(c.retryJob('both'), (err) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.code, 'ERR_VALIDATION');
    assert.equal(err.field, 'jobId');
    assert.match(err.message, /left/);
    assert.match(err.message, /right/);
    return true;
  });
  assert.equal((await c.getQueueStatus('left')).jobCounts.failed, 2, 'the ambiguous retry changed nothing');
  assert.equal((await c.getQueueStatus('right')).jobCounts.failed, 1);

  assert.equal(await c.retryJob('left', 'no-such-job'), false);

  // An admin coordinator that never used these queues finds the job through Redis.
  healthy = true;
  assert.equal(await make().retryJob('only-left'), true);
  await waitFor(() => e1.completed.length === 1, { message: 'only-left completed' });
  assert.equal(e1.completed[0].id, 'only-left');
  assert.equal((await c.getJob('left', 'only-left')).returnvalue, 'ok');
  assert.equal((await c.getQueueStatus('right')).jobCounts.failed, 1);
});

test('getFailedJobs: newest first, {start, end} ranges and a number limit', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const worker = await c.registerWorker('failures', async (job) => {
    throw new Error(`failure ${job.data.i}`);
  });
  const ev = record(worker);
  const added = [];
  for (let i = 1; i <= 4; i++) {
    added.push(await c.enqueueJob('failures', { i }, { attempts: 1 }));
    // One at a time, so their finishedOn order is their enqueue order.
    await waitFor(() => ev.failed.length === i, { message: `failure ${i}` });
  }
  const ids = added.map((j) => j.id).reverse();
  const all = await c.getFailedJobs('failures');
  assert.deepEqual(all.map((j) => j.id), ids);
  assert.deepEqual(all.map((j) => j.failedReason), ['failure 4', 'failure 3', 'failure 2', 'failure 1']);
  assert.deepEqual((await c.getFailedJobs('failures', { start: 0, end: 0 })).map((j) => j.id), ids.slice(0, 1));
  assert.deepEqual((await c.getFailedJobs('failures', { start: 1, end: 2 })).map((j) => j.id), ids.slice(1, 3));
  assert.deepEqual((await c.getFailedJobs('failures', 2)).map((j) => j.id), ids.slice(0, 2));
  assert.deepEqual(await c.getFailedJobs('failures', { start: 10, end: 20 }), []);
  assert.deepEqual(await c.getFailedJobs('no-failures-here'), []);
});

test('UnrecoverableError and errors named ValidationError, AuthenticationError, AuthorizationError, NotFoundError, BadRequestError fail at once; others retry', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const named = (name) => {
    const e = new Error(`a ${name}`);
    e.name = name;
    return e;
  };
  class NotFoundError extends Error {
    constructor(m) {
      super(m);
      this.name = 'NotFoundError';
    }
  }
  const makers = {
    unrecoverable: () => new UnrecoverableError('give up'),
    validation: () => named('ValidationError'),
    authentication: () => named('AuthenticationError'),
    authorization: () => named('AuthorizationError'),
    notFoundClass: () => new NotFoundError('no such thing'),
    badRequest: () => named('BadRequestError'),
    retryable: () => named('TimeoutError'),
  };
  const calls = {};
  const worker = await c.registerWorker('unrecoverable', async (job) => {
    calls[job.data.kind] = (calls[job.data.kind] || 0) + 1;
    throw makers[job.data.kind]();
  });
  const ev = record(worker);
  const jobs = {};
  for (const kind of Object.keys(makers)) {
    jobs[kind] = await c.enqueueJob('unrecoverable', { kind }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
  }
  const finalFailures = () => ev.failed.filter((f) => !f.retrying).length;
  await waitFor(() => finalFailures() === Object.keys(makers).length, { message: 'every job failed for good' });
  for (const kind of Object.keys(makers)) {
    const stored = await c.getJob('unrecoverable', jobs[kind].id);
    const expected = kind === 'retryable' ? 3 : 1;
    assert.equal(calls[kind], expected, `${kind}: processor calls`);
    assert.equal(stored.attemptsMade, expected, `${kind}: attemptsMade`);
    assert.ok(stored.failedReason.length > 0);
  }
  assert.equal((await c.getJob('unrecoverable', jobs.unrecoverable.id)).failedReason, 'give up');
  assert.equal((await c.getQueueStatus('unrecoverable')).jobCounts.failed, Object.keys(makers).length);
});

test('a processor that throws synchronously or rejects with a non-Error still fails the job', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const worker = await c.registerWorker('odd', (job) => {
    if (job.data.sync) throw new Error('sync throw');
    return Promise.reject('just a string'); // eslint-disable-line prefer-promise-reject-errors
  });
  const ev = record(worker);
  const a = await c.enqueueJob('odd', { sync: true }, { attempts: 1 });
  const b = await c.enqueueJob('odd', { sync: false }, { attempts: 1 });
  await waitFor(() => ev.failed.length === 2);
  assert.equal((await c.getJob('odd', a.id)).failedReason, 'sync throw');
  assert.equal((await c.getJob('odd', b.id)).failedReason, 'just a string');
});
