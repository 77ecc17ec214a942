'use strict';
// JobQueueCoordinator's enqueue API against a real Redis: enqueueJob in both signatures and both
// option spellings, job names, custom ids, enqueueBulk, and createQueue's default job options.
// Bad input and error classes are in errors.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const { QueueExistsError } = require('..');
const { setupCoordinators } = require('./helpers');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-enqueue', config);

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
