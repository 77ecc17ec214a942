'use strict';
// How the Worker class closes, as BullMQ 6's: close(true) leaves running jobs to the stalled
// check; close(ms), ours, gives them back after the timeout; and the worker's named
// connection, which BullMQ's getWorkers lists, exists from construction until close.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Queue: BullQueue, Worker: BullWorker } = require('bullmq');
const { Worker, Queue } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup, setupCoordinators } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-wclose');
  const connection = { url: REDIS_URL };
  const bullConnection = { url: RAW_REDIS_URL }; // BullMQ's (on a cluster: the node of the test's keys)
  const closers = [];
  const env = {
    prefix,
    queue(name) {
      const q = new Queue(name, { prefix, connection });
      closers.push(() => q.close());
      return q;
    },
    bullQueue(name) {
      const q = new BullQueue(name, { prefix, connection: bullConnection });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close());
      return w;
    },
    bullWorker(name, processor, opts = {}) {
      const w = new BullWorker(name, processor, { prefix, connection: bullConnection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    redis() {
      const r = new Redis(RAW_REDIS_URL);
      closers.push(() => r.quit());
      return r;
    },
    key: (queue, suffix) => `${prefix}:${queue}:${suffix}`,
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return env;
}

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves with the arguments of the first `n` `event`s of `emitter`, in order. */
function collect(emitter, event, n) {
  const seen = [];
  return new Promise((resolve) => {
    emitter.on(event, (...args) => {
      seen.push(args);
      if (seen.length === n) resolve(seen);
    });
  });
}

test('close(true) does not wait: running jobs stay active, no longer renewed; late outcomes are ignored; another worker\'s stalled check gives them back', { timeout: 20000 }, async (t) => {
  const env = setup(t);
  const redis = env.redis();
  const queue = env.queue('forced');
  const release = deferred();
  const first = env.worker('forced', async () => {
    await release.promise;
    return 'late';
  }, { concurrency: 2, lockDuration: 400, stalledInterval: 50 }); // a check's interval holds off every worker's next one
  const late = [];
  for (const event of ['completed', 'failed']) first.on(event, (job) => late.push([event, job?.id]));
  const jobs = await queue.addBulk([{ name: 'a', data: {} }, { name: 'b', data: {} }]);
  const ids = jobs.map((j) => j.id);
  await waitFor(async () => (await queue.getActiveCount()) === 2, { message: 'both jobs active' });

  await first.close(true); // resolves although both processors still run
  assert.equal(first.closed, true);
  assert.equal(await queue.getActiveCount(), 2, 'left active');
  assert.equal(await queue.getWaitingCount(), 0, 'not given back');
  for (const id of ids) assert.equal((await queue.getJob(id)).attemptsMade, 0, 'nothing settled');

  release.resolve(); // the processors return after the close
  // their locks are no longer renewed (lockDuration 400, renewed every 200 ms while held)
  await waitFor(async () => (await redis.exists(...ids.map((id) => env.key('forced', `${id}:lock`)))) === 0, {
    message: 'the abandoned jobs\' locks to lapse',
  });
  assert.deepEqual(late, [], 'late outcomes emit nothing');
  for (const id of ids) assert.equal(await (await queue.getJob(id)).getState(), 'active', `${id}: late outcome ignored`);

  const second = env.worker('forced', async (job) => `again ${job.id}`, { concurrency: 2, stalledInterval: 50 });
  const stalled = collect(second, 'stalled', 2);
  const completed = collect(second, 'completed', 2);
  assert.deepEqual((await stalled).map(([id, prev]) => [id, prev]).sort(), ids.map((id) => [id, 'active']).sort());
  const done = await completed;
  for (const [job, result] of done) {
    assert.equal(result, `again ${job.id}`);
    assert.equal(job.stalledCounter, 1, 'the stall is counted');
    assert.equal(job.attemptsStarted, 2);
    assert.equal(job.attemptsMade, 1);
  }
  assert.deepEqual(done.map(([job]) => job.id).sort(), [...ids].sort());
});

test('close(true) on a job stalled as often as allowed: the next stalled check fails it', { timeout: 20000 }, async (t) => {
  const env = setup(t);
  const queue = env.queue('doomed');
  const first = env.worker('doomed', () => new Promise(() => {}), { lockDuration: 200, stalledInterval: 50, maxStalledCount: 0 });
  const job = await queue.add('j', {});
  await waitFor(async () => (await queue.getActiveCount()) === 1, { message: 'the job active' });
  await first.close(true);
  let ran = 0;
  const second = env.worker('doomed', async () => {
    ran += 1;
  }, { stalledInterval: 50, maxStalledCount: 0 });
  const [[failedJob, err, prev, info]] = await collect(second, 'failed', 1);
  assert.equal(ran, 0);
  assert.equal(failedJob.id, job.id);
  assert.equal(failedJob.stalledCounter, 1);
  assert.equal(failedJob.attemptsStarted, 2);
  assert.equal(failedJob.attemptsMade, 1);
  assert.equal(err.message, 'job stalled more than allowable limit');
  assert.equal(prev, 'active');
  assert.equal(info.retrying, false);
  assert.equal(await (await queue.getJob(job.id)).getState(), 'failed');
});

test('close(ms) waits up to ms, then gives unfinished jobs back to the front of the queue without an attempt', async (t) => {
  const env = setup(t);
  const queue = env.queue('timeout');
  const started = [];
  const worker = env.worker('timeout', async (job) => {
    started.push(job.id);
    if (job.name === 'quick') return 'ok';
    return new Promise(() => {}); // never settles
  }, { concurrency: 2 });
  const completed = collect(worker, 'completed', 1);
  const [quick, stuck] = await queue.addBulk([{ name: 'quick', data: {} }, { name: 'stuck', data: {} }]);
  await completed;
  await waitFor(() => started.length === 2, { message: 'both jobs started' });
  const errors = [];
  worker.on('error', (err) => errors.push(err));
  const before = Date.now();
  await worker.close(300);
  assert.ok(Date.now() - before >= 290, 'it waited for the timeout');
  assert.equal(await (await queue.getJob(quick.id)).getState(), 'completed');
  const back = await queue.getJob(stuck.id);
  assert.equal(await back.getState(), 'waiting', 'given back at once, not left for the stalled check');
  assert.equal(back.attemptsMade, 0, 'no attempt counted');
  assert.equal(await queue.getActiveCount(), 0);
  assert.equal(errors.length, 1, "one 'error' per job given back after the timeout");
  assert.match(errors[0].message, /did not finish before shutdown/);

  // close(0) gives back at once, and says nothing about it
  const zero = env.worker('timeout', () => new Promise(() => {}));
  await waitFor(async () => (await queue.getActiveCount()) === 1, { message: 'taken again' });
  const quiet = [];
  zero.on('error', (err) => quiet.push(err));
  await zero.close(0);
  assert.equal(await back.getState(), 'waiting');
  assert.equal((await queue.getJob(stuck.id)).attemptsMade, 0);
  assert.deepEqual(quiet, []);
});

test("the coordinator's unregisterWorker keeps giving unfinished jobs back at its timeout", async (t) => {
  const { c } = setupCoordinators(t, 'jqt-wclose-coord');
  const worker = await c.registerWorker('coord', () => new Promise(() => {}));
  const job = await c.enqueueJob('coord', {});
  await waitFor(async () => (await c.getQueueStatus('coord')).jobCounts.active === 1, { message: 'the job active' });
  await c.unregisterWorker(worker.id, { timeoutMs: 100 });
  const back = await c.getJob('coord', job.id);
  assert.equal(await back.getState(), 'waiting', 'given back, not left active for the stalled check');
  assert.equal(back.attemptsMade, 0);
  assert.equal(back.stalledCounter, 0);
});

test('getWorkers lists a worker from construction (autorun: false too) until close, as BullMQ lists its workers', async (t) => {
  const env = setup(t);
  const queue = env.queue('listed');
  const bq = env.bullQueue('listed');
  const plain = env.worker('listed', async () => {}, { autorun: false });
  await new Promise((resolve) => plain.once('ready', resolve));
  let listed = await queue.getWorkers();
  assert.equal(listed.length, 1, "listed once 'ready', before run()");
  const b64 = Buffer.from('listed').toString('base64');
  assert.equal(listed[0].name, 'listed');
  assert.equal(listed[0].rawname, `${env.prefix}:${b64}`);
  assert.ok(listed[0].addr && listed[0].id, 'CLIENT LIST fields');

  const named = env.worker('listed', async () => {}, { autorun: false, name: 'w2' });
  await named.waitUntilReady();
  const theirs = env.bullWorker('listed', async () => {}, { autorun: false, name: 'bull' });
  await theirs.waitUntilReady();
  listed = await queue.getWorkers();
  assert.deepEqual(listed.map((w) => w.rawname).sort(), [`${env.prefix}:${b64}`, `${env.prefix}:${b64}:w:bull`, `${env.prefix}:${b64}:w:w2`]);
  assert.deepEqual((await bq.getWorkers()).map((w) => w.rawname).sort(), listed.map((w) => w.rawname).sort(), 'BullMQ reads the same');
  assert.equal(await queue.getWorkersCount(), 3);

  await plain.close();
  assert.deepEqual((await queue.getWorkers()).map((w) => w.rawname).sort(), [`${env.prefix}:${b64}:w:bull`, `${env.prefix}:${b64}:w:w2`], 'gone once close() resolves');

  // a worker that ran is gone after close(true) as well
  const ran = env.worker('listed', async () => {}, { name: 'ran' });
  await ran.waitUntilReady();
  assert.equal(await queue.getWorkersCount(), 3);
  await ran.close(true);
  await named.close();
  assert.deepEqual((await queue.getWorkers()).map((w) => w.rawname), [`${env.prefix}:${b64}:w:bull`]);

  // closed before its connection was up: never listed, nothing left behind
  const early = env.worker('listed', async () => {}, { autorun: false, name: 'early' });
  await early.close();
  assert.equal(await queue.getWorkersCount(), 1);
});
