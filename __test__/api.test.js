'use strict';
// The public API of JobQueueCoordinator against a real Redis: enqueue (both signatures, both
// option spellings, bulk, custom ids), workers (processor arguments, return values, errors,
// retries, progress, logs, events, concurrency, pause/resume, close), status, failed jobs,
// retry, and the lifecycle (shutdown lets the process exit; the default instance reads the
// environment). Bad input and error classes are in errors.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const Redis = require('ioredis');
const { Queue } = require('bullmq');
const { JobQueueCoordinator, UnrecoverableError, JobStateError, JobNotFoundError, ValidationError, QueueExistsError } =
  require('..');
const { REDIS_URL, uniquePrefix, waitFor, cleanup, setupCoordinators } = require('./helpers');

const ROOT = path.join(__dirname, '..');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-api', config);

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Records a worker's events: completed [{id, result}], failed [{id, message, retrying}], active [job]. */
function record(worker) {
  const r = { completed: [], failed: [], active: [] };
  worker.on('completed', (job, result) => r.completed.push({ id: job.id, result }));
  worker.on('failed', (job, err, _prev, info) => r.failed.push({ id: job.id, message: err.message, retrying: info && info.retrying }));
  worker.on('active', (job) => r.active.push(job));
  worker.on('error', () => {});
  return r;
}

/** Runs `node -e code` with env; resolves {code, signal, stdout, stderr, ms}; kills it after timeoutMs. */
function runChild(code, env, timeoutMs = 20000) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** process.env without the REDIS_* and job-queue variables, so a child sees only what we set. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(REDIS_|DEFAULT_JOB_|DEFAULT_WORKER_|WORKER_STALLED|MAX_JOB_DATA)/.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// enqueueJob / enqueueBulk

test('enqueueJob(queue, data, options) returns {id, name, data, opts, timestamp, queueName}; the job is stored as returned', async (t) => {
  const { c } = setup(t);
  const before = Date.now();
  const job = await c.enqueueJob('mail', { type: 'welcome', to: 'a@b.c' }, { priority: 7, traceId: 'trace-1' });
  const keys = Object.keys(JSON.parse(JSON.stringify(job)));
  for (const k of ['data', 'id', 'name', 'opts', 'queueName', 'timestamp', 'progress', 'attemptsMade', 'delay', 'priority']) {
    assert.ok(keys.includes(k), `the returned job (a BullMQ Job) has ${k}`);
  }
  assert.ok(!keys.includes('queue'), 'the queue handle stays out of JSON');
  assert.equal(typeof job.id, 'string');
  assert.equal(job.name, 'welcome', 'name falls back to data.type');
  assert.deepEqual(job.data, { type: 'welcome', to: 'a@b.c' });
  assert.equal(job.queueName, 'mail');
  assert.ok(job.timestamp >= before && job.timestamp <= Date.now(), `timestamp ${job.timestamp} is now`);
  assert.equal(job.opts.priority, 7);
  assert.equal(job.opts.traceId, 'trace-1');

  const stored = await c.getJob('mail', job.id);
  assert.equal(stored.id, job.id);
  assert.equal(stored.name, 'welcome');
  assert.deepEqual(stored.data, job.data);
  assert.equal(stored.timestamp, job.timestamp);
  assert.equal(stored.opts.priority, 7);
  assert.equal(stored.opts.traceId, 'trace-1');
  assert.equal(stored.attemptsMade, 0);
  assert.equal(stored.queueName, 'mail');
  assert.equal((await c.getQueueStatus('mail')).jobCounts.prioritized, 1);
});

test('job name: the jobName argument, else data.type when a string, else the queue name', async (t) => {
  const { c } = setup(t);
  const named = await c.enqueueJob('names', 'explicit', { type: 'ignored' });
  const typed = await c.enqueueJob('names', { type: 'from-type' });
  const numericType = await c.enqueueJob('names', { type: 42 });
  const plain = await c.enqueueJob('names', { x: 1 });
  const withOpts = await c.enqueueJob('names', 'n4', { x: 2 }, { priority: 1 });
  assert.deepEqual([named.name, typed.name, numericType.name, plain.name, withOpts.name], ['explicit', 'from-type', 'names', 'names', 'n4']);
  assert.deepEqual(withOpts.data, { x: 2 });
  assert.equal(withOpts.opts.priority, 1, 'options are the 4th argument in the named form');
  for (const j of [named, typed, numericType, plain, withOpts]) {
    assert.equal((await c.getJob('names', j.id)).name, j.name);
  }
  const ids = [named, typed, numericType, plain, withOpts].map((j) => j.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are distinct');
});

test("options in the design's spelling and BullMQ's are stored the same way", async (t) => {
  const { c } = setup(t);
  const design = await c.enqueueJob('spell', { a: 1 }, {
    delayMs: 60000,
    maxRetries: 4,
    backoffStrategy: { type: 'exponential', delay: 100, maxDelay: 5000 },
    removeOnComplete: true,
    removeOnFail: 10,
  });
  const bull = await c.enqueueJob('spell', { a: 1 }, {
    delay: 60000,
    attempts: 4,
    backoff: { type: 'exponential', delay: 100, maxDelay: 5000 },
    removeOnComplete: true,
    removeOnFail: 10,
  });
  for (const j of [design, bull]) {
    const stored = await c.getJob('spell', j.id);
    assert.equal(stored.opts.attempts, 4, 'maxRetries is total attempts');
    assert.equal(stored.opts.delay, 60000);
    assert.equal(stored.opts.backoff.type, 'exponential');
    assert.equal(stored.opts.backoff.delay, 100);
    assert.equal(stored.opts.removeOnComplete, true);
    assert.equal(stored.opts.removeOnFail, 10);
    assert.deepEqual(stored.opts, j.opts, 'the returned opts are the stored opts');
  }
  assert.deepEqual(design.opts, bull.opts);
  assert.equal((await c.getQueueStatus('spell')).jobCounts.delayed, 2);
});

test('a custom jobId that exists returns the existing job and adds nothing', async (t) => {
  const { c } = setup(t);
  const first = await c.enqueueJob('dedup', 'first-name', { n: 1 }, { jobId: 'order-42' });
  assert.equal(first.id, 'order-42');
  const again = await c.enqueueJob('dedup', 'second-name', { n: 2 }, { jobId: 'order-42', priority: 9 });
  assert.equal(again.id, 'order-42');
  const stored = await c.getJob('dedup', 'order-42');
  assert.equal(stored.name, 'first-name', 'the stored job is untouched');
  assert.deepEqual(stored.data, { n: 1 });
  assert.deepEqual((await c.getQueueStatus('dedup')).jobCounts, {
    waiting: 1, active: 0, completed: 0, failed: 0, delayed: 0, prioritized: 0,
  });
  // "returns the existing job": what the caller gets back describes the stored job.
  assert.equal(again.name, 'first-name', 'returned name is the existing job\'s');
  assert.deepEqual(again.data, { n: 1 }, 'returned data is the existing job\'s');
  assert.equal(again.timestamp, first.timestamp, 'returned timestamp is the existing job\'s');
  assert.equal(again.opts.priority, undefined, 'returned opts are the existing job\'s');

  // The same within one tick (one script call) and within one bulk.
  const [x, y] = await Promise.all([
    c.enqueueJob('dedup', 'tick-a', { n: 'a' }, { jobId: 'same-tick' }),
    c.enqueueJob('dedup', 'tick-b', { n: 'b' }, { jobId: 'same-tick' }),
  ]);
  const bulk = await c.enqueueBulk('dedup', [
    { name: 'bulk-a', data: { n: 'a' }, options: { jobId: 'same-bulk' } },
    { name: 'bulk-b', data: { n: 'b' }, options: { jobId: 'same-bulk' } },
    { name: 'bulk-c', data: { n: 'c' }, options: { jobId: 'order-42' } },
  ]);
  assert.deepEqual([x.id, y.id], ['same-tick', 'same-tick']);
  assert.deepEqual((await c.getJob('dedup', 'same-tick')).data, { n: 'a' });
  assert.deepEqual(y.data, { n: 'a' });
  assert.deepEqual(bulk.map((j) => j.id), ['same-bulk', 'same-bulk', 'order-42']);
  assert.deepEqual(bulk.map((j) => j.name), ['bulk-a', 'bulk-a', 'first-name']);
  assert.deepEqual((await c.getJob('dedup', 'same-bulk')).data, { n: 'a' });
  assert.equal((await c.getQueueStatus('dedup')).jobCounts.waiting, 3);
});

test('enqueueBulk adds every job with its own name, data and options, in order', async (t) => {
  const { c } = setup(t);
  const jobs = await c.enqueueBulk('bulk', [
    { name: 'one', data: { i: 1 } },
    { data: { type: 'two', i: 2 }, options: { priority: 3 } },
    { data: { i: 3 }, options: { delay: 60000 } },
    { name: 'four', data: { i: 4 }, options: { jobId: 'bulk-4' } },
  ]);
  assert.equal(jobs.length, 4);
  assert.deepEqual(jobs.map((j) => j.name), ['one', 'two', 'bulk', 'four']);
  assert.deepEqual(jobs.map((j) => j.data.i), [1, 2, 3, 4]);
  assert.equal(jobs[3].id, 'bulk-4');
  assert.ok(jobs.every((j) => j.queueName === 'bulk' && typeof j.timestamp === 'number'));
  assert.equal(jobs[1].opts.priority, 3);
  assert.equal(jobs[2].opts.delay, 60000);
  for (const j of jobs) assert.deepEqual((await c.getJob('bulk', j.id)).data, j.data);
  const counts = (await c.getQueueStatus('bulk')).jobCounts;
  assert.deepEqual(counts, { waiting: 2, active: 0, completed: 0, failed: 0, delayed: 1, prioritized: 1 });
  assert.deepEqual(await c.enqueueBulk('bulk', []), [], 'an empty bulk adds nothing');
});

test('createQueue defaults apply to its jobs (over the coordinator\'s), job options win; getQueue; a second create is QueueExistsError', async (t) => {
  const { c } = setup(t, { defaultJobOptions: { attempts: 2, priority: 0 } });
  const q = await c.createQueue({ name: 'made', defaultJobOptions: { attempts: 5, removeOnComplete: 3 } });
  assert.equal(q.name, 'made');
  assert.equal(c.getQueue('made').name, 'made');
  assert.deepEqual(c.getQueue('made').config.defaultJobOptions, { attempts: 5, removeOnComplete: 3 });
  assert.equal(c.getQueue('never-created'), null);

  const a = await c.enqueueJob('made', { x: 1 });
  assert.equal((await c.getJob('made', a.id)).opts.attempts, 5);
  assert.equal((await c.getJob('made', a.id)).opts.removeOnComplete, 3);
  const b = await c.enqueueJob('made', { x: 1 }, { attempts: 7 });
  assert.equal((await c.getJob('made', b.id)).opts.attempts, 7);
  const other = await c.enqueueJob('not-created', { x: 1 });
  assert.equal((await c.getJob('not-created', other.id)).opts.attempts, 2, 'coordinator default');

  await assert.rejects(c.createQueue({ name: 'made' }), (err) => {
    assert.ok(err instanceof QueueExistsError);
    assert.equal(err.code, 'ERR_QUEUE_EXISTS');
    return true;
  });
  // getQueueStatus on a created queue with no jobs yet: all zero.
  await c.createQueue({ name: 'empty' });
  const status = await c.getQueueStatus('empty');
  assert.deepEqual(status.jobCounts, { waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0, prioritized: 0 });
  assert.equal(status.processingRate, 0);
  assert.equal(status.averageProcessingTime, 0);
});

// ---------------------------------------------------------------------------------------------
// Workers

test('the processor gets the job and context; its value is the return value, events fire', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const seen = [];
  const worker = await c.registerWorker('work', async (job, context) => {
    seen.push({ job, context, now: Date.now() });
    return { doubled: job.data.n * 2 };
  });
  const ev = record(worker);
  assert.equal(typeof worker.id, 'string');
  assert.ok(worker.id.length > 0);
  assert.equal(worker.queueName, 'work');

  const added = await c.enqueueJob('work', 'double', { n: 21 }, { traceId: 'tr' });
  await waitFor(() => ev.completed.length === 1, { message: 'completed event' });
  assert.deepEqual(ev.completed, [{ id: added.id, result: { doubled: 42 } }]);
  assert.equal(ev.active.length, 1);
  assert.equal(ev.active[0].id, added.id);
  assert.equal(ev.failed.length, 0);

  assert.equal(seen.length, 1);
  const { job, context, now } = seen[0];
  assert.equal(job.id, added.id);
  assert.equal(job.name, 'double');
  assert.deepEqual(job.data, { n: 21 });
  assert.equal(job.opts.traceId, 'tr');
  // the same Job the 'completed' event passed: settled, as BullMQ updates it
  assert.equal(job.attemptsMade, 1);
  assert.deepEqual(job.returnvalue, { doubled: 42 });
  assert.equal(job.timestamp, added.timestamp);
  assert.equal(job.queueName, 'work');
  assert.equal(typeof job.updateProgress, 'function');
  assert.equal(typeof job.log, 'function');
  assert.equal(context.workerId, worker.id);
  assert.equal(context.queueName, 'work');
  assert.equal(context.jobId, added.id);
  assert.equal(context.attemptNumber, 1);
  assert.ok(context.startTime <= now && context.startTime >= added.timestamp, 'startTime is when the attempt started');

  const stored = await c.getJob('work', added.id);
  assert.deepEqual(stored.returnvalue, { doubled: 42 });
  assert.equal(stored.attemptsMade, 1);
  assert.ok(stored.finishedOn >= stored.processedOn);
  assert.equal((await c.getQueueStatus('work')).jobCounts.completed, 1);
});

test('a worker registered on a queue that already has waiting jobs processes them', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const added = await c.enqueueBulk('backlog', [{ data: { i: 1 } }, { data: { i: 2 } }, { data: { i: 3 } }]);
  const processed = [];
  const worker = await c.registerWorker('backlog', async (job, context) => {
    processed.push({ id: job.id, workerId: context.workerId });
    return job.data.i;
  });
  const ev = record(worker);
  await waitFor(() => ev.completed.length === 3, { message: '3 completed events' });
  assert.deepEqual(processed.map((p) => p.id), added.map((j) => j.id));
  assert.ok(processed.every((p) => p.workerId === worker.id));
});

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

test('updateProgress (number and object) is visible through getJob while the job runs; log lines through getJobLogs', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const step1 = deferred();
  const step2 = deferred();
  const logCounts = [];
  const worker = await c.registerWorker('progress', async (job) => {
    await job.updateProgress(40);
    logCounts.push(await job.log('started'));
    await step1.promise;
    await job.updateProgress({ stage: 'upload', percent: 80 });
    logCounts.push(await job.log(`step ${2}`));
    await step2.promise;
    return 'done';
  });
  const ev = record(worker);
  const job = await c.enqueueJob('progress', { x: 1 });
  await waitFor(async () => (await c.getJob('progress', job.id)).progress === 40, { message: 'progress 40' });
  assert.equal((await c.getQueueStatus('progress')).jobCounts.active, 1, 'still running');
  assert.deepEqual(await c.getJobLogs('progress', job.id), ['started']);
  step1.resolve();
  await waitFor(async () => (await c.getJob('progress', job.id)).progress?.stage === 'upload', { message: 'object progress' });
  assert.deepEqual((await c.getJob('progress', job.id)).progress, { stage: 'upload', percent: 80 });
  step2.resolve();
  await waitFor(() => ev.completed.length === 1);
  assert.deepEqual(logCounts, [1, 2], 'log() resolves to the number of lines');
  assert.deepEqual(await c.getJobLogs('progress', job.id), ['started', 'step 2']);
  assert.deepEqual((await c.getJob('progress', job.id)).progress, { stage: 'upload', percent: 80 });
  assert.deepEqual(await c.getJobLogs('progress', 'no-such-job'), []);
  assert.equal(await c.getJob('progress', 'no-such-job'), null);
});

test('priority: lower numbers run first, FIFO within a priority; unprioritised jobs first', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  const order = [];
  const worker = await c.registerWorker('prio', async (job) => {
    if (job.name === 'blocker') return gate.promise;
    order.push(job.name);
    return null;
  }, { concurrency: 1 });
  const ev = record(worker);
  // Hold the only slot so the rest queue up, then add in an order unlike the expected one.
  await c.enqueueJob('prio', 'blocker', {});
  await waitFor(() => ev.active.length === 1, { message: 'blocker active' });
  await c.enqueueJob('prio', 'p5', {}, { priority: 5 });
  await c.enqueueJob('prio', 'p1-a', {}, { priority: 1 });
  await c.enqueueJob('prio', 'p3', {}, { priority: 3 });
  await c.enqueueJob('prio', 'p1-b', {}, { priority: 1 });
  await c.enqueueJob('prio', 'max', {}, { priority: 2097151 });
  await c.enqueueJob('prio', 'none', {});
  assert.equal((await c.getQueueStatus('prio')).jobCounts.prioritized, 5);
  gate.resolve();
  await waitFor(() => ev.completed.length === 7, { message: '7 completions' });
  assert.deepEqual(order, ['none', 'p1-a', 'p1-b', 'p3', 'p5', 'max']);
});

test('lifo: a lifo job runs before the jobs waiting ahead of it', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  const order = [];
  const worker = await c.registerWorker('lifo', async (job) => {
    if (job.name === 'blocker') return gate.promise;
    order.push(job.name);
    return null;
  }, { concurrency: 1 });
  const ev = record(worker);
  await c.enqueueJob('lifo', 'blocker', {});
  await waitFor(() => ev.active.length === 1, { message: 'blocker active' });
  await c.enqueueJob('lifo', 'a', {});
  await c.enqueueJob('lifo', 'b', {});
  await c.enqueueJob('lifo', 'c', {}, { lifo: true });
  await c.enqueueJob('lifo', 'd', {});
  await c.enqueueJob('lifo', 'e', {}, { lifo: true });
  gate.resolve();
  await waitFor(() => ev.completed.length === 6, { message: '6 completions' });
  assert.deepEqual(order, ['e', 'c', 'a', 'b', 'd']);
});

test('a delayed job is delayed, does not run before its time, then runs', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const started = {};
  const worker = await c.registerWorker('later', async (job, context) => {
    started[job.name] = context.startTime;
    return null;
  });
  const ev = record(worker);
  const slow = await c.enqueueJob('later', 'slow', {}, { delayMs: 700 });
  const fast = await c.enqueueJob('later', 'fast', {}, { delay: 300 });
  const now = await c.enqueueJob('later', 'now', {});
  const status = await c.getQueueStatus('later');
  assert.ok(status.jobCounts.delayed >= 1, `delayed right after enqueue: ${JSON.stringify(status.jobCounts)}`);
  await waitFor(() => ev.completed.length === 3, { message: '3 completions' });
  for (const [name, job, delay] of [['slow', slow, 700], ['fast', fast, 300], ['now', now, 0]]) {
    const stored = await c.getJob('later', job.id);
    assert.ok(stored.processedOn >= job.timestamp + delay, `${name} processed ${stored.processedOn - job.timestamp} ms after enqueue, delay ${delay}`);
    assert.ok(started[name] >= job.timestamp + delay, `${name} started ${started[name] - job.timestamp} ms after enqueue`);
  }
  assert.ok(started.now < started.fast && started.fast < started.slow, 'run in order of due time');
});

test('removeOnComplete / removeOnFail: true removes the finished job', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const worker = await c.registerWorker('remove', async (job) => {
    if (job.data.fail) throw new Error('x');
    return 1;
  });
  const ev = record(worker);
  const kept = await c.enqueueJob('remove', { fail: false });
  const gone = await c.enqueueJob('remove', { fail: false }, { removeOnComplete: true });
  const goneFailed = await c.enqueueJob('remove', { fail: true }, { removeOnFail: true, attempts: 1 });
  const keptFailed = await c.enqueueJob('remove', { fail: true }, { attempts: 1 });
  await waitFor(() => ev.completed.length === 2 && ev.failed.length === 2);
  await waitFor(async () => (await c.getJob('remove', gone.id)) === null, { message: 'removed on complete' });
  await waitFor(async () => (await c.getJob('remove', goneFailed.id)) === null, { message: 'removed on fail' });
  assert.notEqual(await c.getJob('remove', kept.id), null);
  assert.notEqual(await c.getJob('remove', keptFailed.id), null);
  const counts = (await c.getQueueStatus('remove')).jobCounts;
  assert.equal(counts.completed, 1);
  assert.equal(counts.failed, 1);
});

test('concurrency: at most N jobs run at once', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  let running = 0;
  let maxRunning = 0;
  const worker = await c.registerWorker('conc', async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await gate.promise;
    running--;
    return null;
  }, { concurrency: 3 });
  const ev = record(worker);
  await c.enqueueBulk('conc', Array.from({ length: 5 }, (_, i) => ({ data: { i } })));
  await waitFor(() => running === 3, { message: '3 running' });
  const counts = (await c.getQueueStatus('conc')).jobCounts;
  assert.equal(counts.active, 3);
  assert.equal(counts.waiting, 2, 'the worker fetched no more than its concurrency');
  gate.resolve();
  await waitFor(() => ev.completed.length === 5);
  assert.equal(maxRunning, 3);
});

test('worker pause stops fetching (a running job still finishes) and resume restarts it', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  const processed = [];
  const worker = await c.registerWorker('pausing', async (job) => {
    processed.push(job.name);
    if (job.name === 'first') await gate.promise;
    return job.name;
  }, { concurrency: 1 });
  const ev = record(worker);
  await c.enqueueJob('pausing', 'first', {});
  await waitFor(() => processed.length === 1);
  worker.pause();
  await c.enqueueJob('pausing', 'second', {});
  gate.resolve();
  await waitFor(() => ev.completed.length === 1, { message: 'the running job finishes while paused' });
  // Observation window: nothing may be fetched while paused.
  const until = Date.now() + 600;
  while (Date.now() < until) {
    const counts = (await c.getQueueStatus('pausing')).jobCounts;
    assert.equal(counts.waiting, 1, 'the second job stays waiting while the worker is paused');
    assert.equal(counts.active, 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(processed, ['first']);
  worker.resume();
  await waitFor(() => ev.completed.length === 2, { message: 'the second job after resume' });
  assert.deepEqual(processed, ['first', 'second']);

  // Pause an idle worker (blocked waiting for jobs), then add: nothing is taken until resume.
  worker.pause();
  await c.enqueueJob('pausing', 'third', {});
  const until2 = Date.now() + 600;
  while (Date.now() < until2) {
    assert.equal((await c.getQueueStatus('pausing')).jobCounts.waiting, 1, 'third stays waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
  worker.resume();
  await waitFor(() => ev.completed.length === 3, { message: 'third after resume' });
});

test('worker close: stops fetching, the worker count drops, other workers go on', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const byA = [];
  const a = await c.registerWorker('closing', async (job) => {
    byA.push(job.id);
    return 'a';
  });
  const ev = record(a);
  await c.enqueueJob('closing', {});
  await waitFor(() => ev.completed.length === 1);
  await waitFor(async () => (await c.getQueueStatus('closing')).workers === 1, { message: 'one worker connected' });
  await a.close();
  await waitFor(async () => (await c.getQueueStatus('closing')).workers === 0, { message: 'no worker connected after close' });
  const job = await c.enqueueJob('closing', {});
  const until = Date.now() + 400;
  while (Date.now() < until) {
    assert.equal((await c.getQueueStatus('closing')).jobCounts.waiting, 1, 'a closed worker takes nothing');
    await new Promise((r) => setTimeout(r, 50));
  }
  const b = await c.registerWorker('closing', async () => 'b');
  const evB = record(b);
  await waitFor(() => evB.completed.length === 1);
  assert.equal(evB.completed[0].id, job.id);
  assert.deepEqual(byA.length, 1);
});

test('registerWorker options: lockDuration is renewed for a job that outlives it; stalledInterval/maxStalledCount accepted', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const stalled = [];
  const worker = await c.registerWorker('locks', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // the job's work: 3× lockDuration
    return 'survived';
  }, { lockDuration: 500, stalledInterval: 300, maxStalledCount: 0, concurrency: 2 });
  const ev = record(worker);
  worker.on('stalled', (id) => stalled.push(id));
  const job = await c.enqueueJob('locks', {}, { attempts: 1 });
  await waitFor(() => ev.completed.length + ev.failed.length === 1, { message: 'the job finishes' });
  assert.deepEqual(ev.failed, []);
  assert.deepEqual(stalled, []);
  const stored = await c.getJob('locks', job.id);
  assert.equal(stored.returnvalue, 'survived');
  assert.equal(stored.attemptsMade, 1);
});

// ---------------------------------------------------------------------------------------------
// Status

test('getQueueStatus: counts, workers, isPaused, processingRate and averageProcessingTime are real', { timeout: 20000 }, async (t) => {
  const { c, make, prefix } = setup(t);
  const gate = deferred();
  const worker = await c.registerWorker('stats', async (job) => {
    if (job.name === 'hold') return gate.promise;
    await new Promise((r) => setTimeout(r, 20 + 15 * job.data.i)); // the job's work
    if (job.data.fail) throw new Error('planned');
    return job.data.i;
  }, { concurrency: 1 });
  const ev = record(worker);
  const done = await c.enqueueBulk('stats', [
    { data: { i: 0 } },
    { data: { i: 1 } },
    { data: { i: 2, fail: true }, options: { attempts: 1 } },
    { data: { i: 3 } },
  ]);
  await waitFor(() => ev.completed.length + ev.failed.length === 4, { message: '4 finished' });
  await c.enqueueJob('stats', 'hold', {});
  await waitFor(() => ev.active.length === 5, { message: 'hold active' });
  await c.enqueueJob('stats', { i: 9 });
  await c.enqueueJob('stats', { i: 9 }, { priority: 4 });
  await c.enqueueJob('stats', { i: 9 }, { delay: 60000 });

  const status = await c.getQueueStatus('stats');
  assert.equal(status.name, 'stats');
  assert.equal(status.isPaused, false);
  assert.deepEqual(status.jobCounts, { waiting: 1, active: 1, completed: 3, failed: 1, delayed: 1, prioritized: 1 });
  // counts: the design's backlog view, waiting with the prioritized job included
  assert.deepEqual(status.counts, { ...status.jobCounts, waiting: 2 });
  assert.equal(status.workers, 1);

  // processingRate: finished jobs per second over the last minute.
  assert.ok(Math.abs(status.processingRate - 4 / 60) < 1e-6, `processingRate ${status.processingRate}, expected 4/60`);
  // averageProcessingTime: mean finishedOn − processedOn of the finished jobs.
  const stored = await Promise.all(done.map((j) => c.getJob('stats', j.id)));
  const mean = stored.reduce((s, j) => s + (j.finishedOn - j.processedOn), 0) / stored.length;
  assert.ok(mean >= 20, `the jobs took time (${mean} ms)`);
  assert.ok(Math.abs(status.averageProcessingTime - mean) <= 1, `averageProcessingTime ${status.averageProcessingTime}, expected ${mean}`);

  // Another coordinator (another process, say) sees the same queue without having used it.
  const other = make();
  const seen = await other.getQueueStatus('stats');
  assert.deepEqual(seen.jobCounts, status.jobCounts);
  assert.equal(seen.workers, 1, 'workers of any process are counted');

  // A queue paused through BullMQ reads as paused.
  const bull = new Queue('stats', { prefix, connection: { url: REDIS_URL } });
  t.after(() => bull.close());
  await bull.pause();
  assert.equal((await c.getQueueStatus('stats')).isPaused, true);
  await bull.resume();
  assert.equal((await c.getQueueStatus('stats')).isPaused, false);
  gate.resolve();
});

// ---------------------------------------------------------------------------------------------
// Lifecycle

test('shutdown({timeoutMs}) gives a job still running after the timeout back to the queue, unused', { timeout: 20000 }, async (t) => {
  const { c, make } = setup(t);
  const gate = deferred();
  const worker = await c.registerWorker('stop', async () => gate.promise);
  const ev = record(worker);
  const job = await c.enqueueJob('stop', {}, { attempts: 2 });
  await waitFor(() => ev.active.length === 1);
  const t0 = Date.now();
  await c.shutdown({ timeoutMs: 300 });
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 5000, `shutdown waited for the running job up to its timeout (${took} ms)`);
  gate.resolve('too late');
  const other = make();
  const counts = (await other.getQueueStatus('stop')).jobCounts;
  assert.equal(counts.active, 0);
  assert.equal(counts.waiting, 1, 'the unfinished job is waiting again');
  const stored = await other.getJob('stop', job.id);
  assert.equal(stored.attemptsMade, 0, 'an interrupted job does not use an attempt');
  assert.equal(stored.returnvalue, null, 'no return value: null, as BullMQ reads it');
  // It is processed by the next worker.
  const w2 = await other.registerWorker('stop', async () => 'second life');
  const ev2 = record(w2);
  await waitFor(() => ev2.completed.length === 1);
  assert.equal((await other.getJob('stop', job.id)).returnvalue, 'second life');
});

test('shutdown waits for a running job that finishes within the timeout', { timeout: 20000 }, async (t) => {
  const { c, make } = setup(t);
  const worker = await c.registerWorker('drain', async () => {
    await new Promise((r) => setTimeout(r, 300)); // the job's work
    return 'finished';
  });
  const ev = record(worker);
  const job = await c.enqueueJob('drain', {});
  await waitFor(() => ev.active.length === 1);
  await c.shutdown({ timeoutMs: 10000 });
  const stored = await make().getJob('drain', job.id);
  assert.equal(stored.returnvalue, 'finished');
});

test('after enqueue + processing one job, shutdown() lets the process exit on its own', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-exit');
  t.after(() => cleanup(REDIS_URL, prefix));
  const code = `
    const { JobQueueCoordinator } = require(${JSON.stringify(ROOT)});
    (async () => {
      const c = new JobQueueCoordinator({ redis: { url: process.env.TEST_URL, keyPrefix: process.env.TEST_PREFIX } });
      await c.initialize();
      const w = await c.registerWorker('exit', async (job) => ({ got: job.data.n }));
      const done = new Promise((resolve) => w.on('completed', resolve));
      const job = await c.enqueueJob('exit', { n: 5 });
      await done;
      console.log('completed ' + job.id);
      await c.shutdown();
      console.log('shut down');
      // no process.exit: the process must end because nothing keeps it alive
    })().catch((err) => { console.error(err); process.exitCode = 3; });
  `;
  const r = await runChild(code, cleanEnv({ TEST_URL: REDIS_URL, TEST_PREFIX: prefix }), 15000);
  assert.equal(r.signal, null, `the child exited by itself within 15 s (stdout ${r.stdout}, stderr ${r.stderr})`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /completed 1\nshut down\n/);
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
  t.after(() => c.shutdown());
  assert.deepEqual((await c.getJob('exit', '1')).returnvalue, { got: 5 });
});

test('the jobCoordinator default instance reads REDIS_URL and REDIS_KEY_PREFIX, connects lazily, and exits after shutdown', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-default');
  t.after(() => cleanup(REDIS_URL, prefix));
  const code = `
    const { jobCoordinator, JobQueueCoordinator } = require(${JSON.stringify(ROOT)});
    (async () => {
      if (!(jobCoordinator instanceof JobQueueCoordinator)) throw new Error('not a JobQueueCoordinator');
      const job = await jobCoordinator.enqueueJob('env-queue', { from: 'env' });
      console.log(JSON.stringify(job));
      await jobCoordinator.shutdown();
    })().catch((err) => { console.error(err); process.exitCode = 3; });
  `;
  const r = await runChild(code, cleanEnv({ REDIS_URL, REDIS_KEY_PREFIX: prefix }), 15000);
  assert.equal(r.signal, null, `exited by itself (stderr ${r.stderr})`);
  assert.equal(r.code, 0, r.stderr);
  const job = JSON.parse(r.stdout);
  const redis = new Redis(REDIS_URL);
  t.after(() => redis.quit());
  assert.equal(await redis.hget(`${prefix}:env-queue:${job.id}`, 'data'), JSON.stringify({ from: 'env' }));
  assert.notEqual(await redis.hget(`bull:env-queue:${job.id}`, 'data'), JSON.stringify({ from: 'env' }), 'not under the default prefix');

  // Requiring the package (creating the default instance) connects to nothing.
  const idle = await runChild(`require(${JSON.stringify(ROOT)}); console.log('loaded')`, cleanEnv({ REDIS_URL: 'redis://127.0.0.1:1' }), 10000);
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal(idle.stdout, 'loaded\n');
});

test('the jobCoordinator default instance reads REDIS_HOST, REDIS_PORT and REDIS_DB when REDIS_URL is unset', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-hostenv');
  const url = new URL(REDIS_URL);
  const db1 = new URL(REDIS_URL);
  db1.pathname = '/1';
  t.after(() => cleanup(db1.href, prefix));
  t.after(() => cleanup(REDIS_URL, prefix));
  const code = `
    const { jobCoordinator } = require(${JSON.stringify(ROOT)});
    jobCoordinator.enqueueJob('host-queue', { n: 1 })
      .then((job) => { console.log(job.id); return jobCoordinator.shutdown(); })
      .catch((err) => { console.error(err); process.exitCode = 3; });
  `;
  const env = cleanEnv({
    REDIS_HOST: url.hostname,
    REDIS_PORT: url.port || '6379',
    REDIS_DB: '1',
    REDIS_KEY_PREFIX: prefix,
  });
  if (url.password) env.REDIS_PASSWORD = decodeURIComponent(url.password);
  const r = await runChild(code, env, 15000);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const inDb1 = new Redis(db1.href);
  const inDb0 = new Redis(REDIS_URL);
  t.after(() => Promise.all([inDb1.quit(), inDb0.quit()]));
  assert.equal(await inDb1.exists(`${prefix}:host-queue:${id}`), 1, 'the job is in db 1');
  assert.equal((await inDb0.keys(`${prefix}*`)).length, 0, 'nothing in db 0');
});

test('redis config as {host, port, db, keyPrefix}; a trailing ":" on keyPrefix is dropped', { timeout: 20000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-hostcfg');
  const url = new URL(REDIS_URL);
  t.after(() => cleanup(REDIS_URL, prefix));
  const c = new JobQueueCoordinator({
    redis: {
      host: url.hostname,
      port: Number(url.port || 6379),
      db: 0,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      keyPrefix: `${prefix}:`,
    },
  });
  t.after(() => c.shutdown());
  await c.initialize();
  const job = await c.enqueueJob('cfg', { n: 1 });
  const redis = new Redis(REDIS_URL);
  t.after(() => redis.quit());
  assert.equal(await redis.exists(`${prefix}:cfg:${job.id}`), 1);
  assert.equal(await redis.exists(`${prefix}::cfg:${job.id}`), 0);
  assert.ok(typeof (await c.ping()) === 'number');
});
