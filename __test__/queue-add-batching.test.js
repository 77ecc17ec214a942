'use strict';
// Queue.add coalesces the calls of one tick into one engine call, as the coordinator's
// enqueueJob does, without changing what each caller sees: its own job (ids in call order),
// its own `waiting` event, its own error.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Queue, ValidationError, ClosedError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, cleanup } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-qadd');
  const closers = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return {
    prefix,
    queue(name) {
      const q = new Queue(name, { connection: { url: REDIS_URL }, prefix });
      closers.push(() => q.close());
      return q;
    },
    redis() {
      const r = new Redis(RAW_REDIS_URL);
      closers.push(() => r.quit());
      return r;
    },
  };
}

/** Counts the queue's engine add calls (the real engine; the count is all that is added). */
async function countAddCalls(t, queue) {
  const native = await queue.waitUntilReady();
  const original = native.addJobs;
  const counter = { calls: 0, jobs: [] };
  native.addJobs = function addJobs(name, payload, allOrNothing) {
    counter.calls += 1;
    counter.jobs.push(JSON.parse(payload).jobs.length);
    return original.call(this, name, payload, allOrNothing);
  };
  t.after(() => {
    native.addJobs = original;
  });
  return counter;
}

test('adds of one tick go in one engine call (at most 32 each), each caller gets its own job and waiting event', async (t) => {
  const env = setup(t);
  const queue = env.queue('q');
  const counter = await countAddCalls(t, queue);
  const waiting = [];
  queue.on('waiting', (job) => waiting.push(job));
  const jobs = await Promise.all(Array.from({ length: 100 }, (_, i) => queue.add(`job-${i}`, { i, nested: { at: new Date(0) } })));
  assert.deepEqual(counter.jobs, [32, 32, 32, 4]);
  assert.equal(counter.calls, 4);
  assert.deepEqual(
    jobs.map((j) => j.id),
    Array.from({ length: 100 }, (_, i) => String(i + 1)),
    'ids follow the call order',
  );
  jobs.forEach((job, i) => {
    assert.equal(job.name, `job-${i}`);
    // data as stored: JSON (the Date became its text)
    assert.deepEqual(job.data, { i, nested: { at: '1970-01-01T00:00:00.000Z' } });
  });
  assert.deepEqual(waiting, jobs, 'one waiting event per job, in call order (batches answered out of order too), with the returned job');
  assert.equal(await queue.getWaitingCount(), 100);
  const stored = await queue.getJob('7');
  assert.deepEqual(stored.data, jobs[6].data);

  // adds of a later tick make a new call
  await queue.add('later', 5);
  assert.equal(counter.calls, 5);
  assert.deepEqual((await queue.getJob('101')).data, 5);
});

test('a job the engine refuses fails alone; its neighbours of the same tick are added', async (t) => {
  const env = setup(t);
  const queue = env.queue('q');
  const counter = await countAddCalls(t, queue);
  const results = await Promise.allSettled([
    queue.add('a', { n: 1 }),
    queue.add('b', { n: 2 }, { priority: 2 ** 21 }), // over BullMQ's highest priority
    queue.add('c', { n: 3 }),
  ]);
  assert.equal(counter.calls, 1);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[2].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.ok(results[1].reason instanceof ValidationError, String(results[1].reason));
  assert.equal(results[1].reason.field, 'priority');
  assert.deepEqual(
    (await queue.getWaiting()).map((j) => j.name),
    ['a', 'c'],
  );
});

test('bad input rejects at once with a ValidationError and writes nothing', async (t) => {
  const env = setup(t);
  const queue = env.queue('q');
  await queue.waitUntilReady();
  const redis = env.redis();
  const before = (await redis.keys(`${env.prefix}:*`)).sort();
  const circular = {};
  circular.self = circular;
  for (const [name, data, opts] of [
    [5, {}, undefined],
    ['n', circular, undefined],
    ['n', {}, 'opts'],
    ['n', {}, { jobId: '0' }],
  ]) {
    await assert.rejects(queue.add(name, data, opts), ValidationError);
  }
  assert.deepEqual((await redis.keys(`${env.prefix}:*`)).sort(), before, 'no key written besides the meta');
});

test('the same custom id twice in one tick: one job, both callers get it', async (t) => {
  const env = setup(t);
  const queue = env.queue('q');
  const [first, second] = await Promise.all([queue.add('x', { v: 1 }, { jobId: 'same' }), queue.add('x', { v: 2 }, { jobId: 'same' })]);
  assert.equal(first.id, 'same');
  assert.equal(second.id, 'same');
  assert.deepEqual(second.data, { v: 1 }, 'the second caller sees the stored job');
  assert.equal(await queue.getWaitingCount(), 1);
});

test('adds made before close() in the same tick are written; adds after it reject with ClosedError', async (t) => {
  const env = setup(t);
  const queue = env.queue('q');
  await queue.waitUntilReady();
  const adds = [queue.add('a', { n: 1 }), queue.add('b', { n: 2 })];
  const closed = queue.close();
  await assert.rejects(queue.add('late', {}), ClosedError);
  const jobs = await Promise.all(adds);
  await closed;
  assert.deepEqual(
    jobs.map((j) => j.id),
    ['1', '2'],
  );
  const other = env.queue('q');
  assert.deepEqual(
    (await other.getWaiting()).map((j) => j.name),
    ['a', 'b'],
  );
});
