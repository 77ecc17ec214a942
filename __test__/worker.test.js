'use strict';
// The package's Worker with BullMQ 6's API and events, against Redis, side by side with real
// BullMQ: jobs added by BullMQ's Queue, events seen by BullMQ's QueueEvents.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Queue, Worker: BullWorker, QueueEvents: BullQueueEvents } = require('bullmq');
const { Worker, ValidationError, RateLimitError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

/** A fresh prefix, and factories whose objects are closed (and keys deleted) after the test. */
function setup(t) {
  const prefix = uniquePrefix('jqt-worker');
  const connection = { url: REDIS_URL };
  const bullConnection = { url: RAW_REDIS_URL }; // BullMQ's (on a cluster: the node of the test's keys)
  const closers = [];
  const env = {
    prefix,
    connection,
    queue(name) {
      const q = new Queue(name, { prefix, connection: bullConnection });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    bullWorker(name, processor, opts = {}) {
      const w = new BullWorker(name, processor, { prefix, connection: bullConnection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    bullEvents(name, opts = {}) {
      const e = new BullQueueEvents(name, { prefix, connection: bullConnection, ...opts });
      closers.push(() => e.close());
      return e;
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

/** Resolves with the arguments of the next `event` of `emitter`. */
const next = (emitter, event) => new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));

test('bad options throw ValidationError and write nothing', async (t) => {
  const env = setup(t);
  const redis = env.redis();
  const fn = async () => {};
  assert.throws(() => new Worker('', fn, { prefix: env.prefix }), ValidationError);
  assert.throws(() => new Worker('a:b', fn, { prefix: env.prefix }), ValidationError);
  assert.throws(() => new Worker('q', 'processor.js', { prefix: env.prefix }), ValidationError);
  for (const bad of [
    { concurrency: 0 },
    { concurrency: 1.5 },
    { lockDuration: -1 },
    { stalledInterval: 'x' },
    { maxStalledCount: -1 },
    { limiter: { max: 0, duration: 1000 } },
    { removeOnComplete: 'yes' },
    { settings: { backoffStrategy: 5 } },
    { autorun: 'no' },
    { prefix: '' },
  ]) {
    assert.throws(() => new Worker('q', fn, { prefix: env.prefix, ...bad }), ValidationError, JSON.stringify(bad));
  }
  const w = env.worker('q', fn, { autorun: false });
  assert.throws(() => {
    w.concurrency = 0;
  }, ValidationError);
  await assert.rejects(w.rateLimit(-5), ValidationError);
  assert.deepEqual(await redis.keys(`${env.prefix}*`), []);
});

test('the engine rules on worker options apply at construction, by option name: lock floor, drainDelay, prefetch, keep policies, the concurrency setter', async (t) => {
  const env = setup(t);
  const redis = env.redis();
  const fn = async () => {};
  for (const [bad, field] of [
    [{ lockDuration: 5 }, 'lockDuration'],
    [{ stalledInterval: 9 }, 'stalledInterval'],
    [{ drainDelay: 'soon' }, 'drainDelay'],
    [{ drainDelay: -1 }, 'drainDelay'],
    [{ prefetch: -1 }, 'prefetch'],
    [{ limiter: { max: 1.5, duration: 1000 } }, 'limiter.max'],
    [{ removeOnFail: { count: -1 } }, 'removeOnFail'],
    [{ concurrency: '2' }, 'concurrency'],
  ]) {
    assert.throws(() => new Worker('q', fn, { prefix: env.prefix, ...bad }), (err) => err instanceof ValidationError && err.field === field && err.code === 'ERR_VALIDATION', JSON.stringify(bad));
  }
  const w = env.worker('q', fn, { autorun: false, concurrency: 2 });
  for (const value of [1.5, -1, '3', NaN]) {
    assert.throws(() => {
      w.concurrency = value;
    }, (err) => err instanceof ValidationError && err.field === 'concurrency', String(value));
  }
  assert.equal(w.concurrency, 2, 'a refused value leaves the concurrency as it was');
  w.concurrency = 3;
  assert.equal(w.concurrency, 3);
  assert.deepEqual(await redis.keys(`${env.prefix}*`), []);
});

test('processes jobs added by BullMQ: the processor gets the Job with its lock token and the context; events pass that Job', async (t) => {
  const env = setup(t);
  const redis = env.redis();
  const queue = env.queue('basic');
  const seen = [];
  const worker = env.worker('basic', async (job, context) => {
    seen.push({ job, context, lock: await redis.get(env.key('basic', `${job.id}:lock`)) });
    return { doubled: job.data.n * 2 };
  });
  const active = [];
  const completed = [];
  worker.on('active', (...args) => active.push(args));
  worker.on('completed', (...args) => completed.push(args));
  const added = await queue.add('double', { n: 21 });
  await waitFor(() => completed.length === 1, { message: 'completed event' });

  const [{ job, context, lock }] = seen;
  assert.equal(job.id, added.id);
  assert.equal(job.name, 'double');
  assert.deepEqual(job.data, { n: 21 });
  assert.equal(typeof job.token, 'string');
  assert.equal(job.token, lock, "the job's token is the one its lock holds");
  assert.equal(context.workerId, worker.id);
  assert.equal(context.queueName, 'basic');
  assert.equal(context.jobId, added.id);
  assert.equal(context.attemptNumber, 1);

  assert.deepEqual(active, [[job, 'waiting']]);
  assert.equal(completed[0][0], job, "'completed' passes the processor's Job");
  assert.deepEqual(completed[0].slice(1), [{ doubled: 42 }, 'active']);
  assert.deepEqual(job.returnvalue, { doubled: 42 });
  assert.equal(job.attemptsMade, 1);
  assert.ok(job.finishedOn >= job.processedOn, 'finishedOn is set');

  const stored = await queue.getJob(added.id);
  assert.equal(await stored.getState(), 'completed');
  assert.deepEqual(stored.returnvalue, { doubled: 42 });
});

test("'failed' passes the Job and the thrown error (name, message, stack) on every failed attempt; a retried job then completes", async (t) => {
  const env = setup(t);
  const queue = env.queue('fails');
  class PaymentError extends Error {
    constructor(message) {
      super(message);
      this.name = 'PaymentError';
    }
  }
  const thrown = [];
  const worker = env.worker('fails', async (job) => {
    if (job.attemptsMade === 0) {
      const err = new PaymentError(`declined ${job.data.card}`);
      thrown.push(err);
      throw err;
    }
    return 'paid';
  });
  const failed = [];
  const completed = [];
  worker.on('failed', (...args) => failed.push(args));
  worker.on('completed', (...args) => completed.push(args));
  const added = await queue.add('pay', { card: 'x' }, { attempts: 2 });
  await waitFor(() => completed.length === 1, { message: 'the retry completes' });

  assert.equal(failed.length, 1);
  const [job, err, prev, info] = failed[0];
  assert.equal(job.id, added.id);
  assert.equal(err, thrown[0], 'the error as thrown');
  assert.equal(err.name, 'PaymentError');
  assert.equal(err.message, 'declined x');
  assert.match(err.stack, /PaymentError: declined x/);
  assert.equal(prev, 'active');
  assert.equal(info.retrying, true);
  assert.equal(job.failedReason, 'declined x');
  assert.equal(job.attemptsMade, 1);
  assert.equal(completed[0][0].attemptsMade, 2);

  // a job failed for good keeps failedReason and finishedOn
  const last = await queue.add('pay', { card: 'y' }, { attempts: 1 });
  await waitFor(() => failed.length === 2);
  const [job2, err2, , info2] = failed[1];
  assert.equal(job2.id, last.id);
  assert.equal(err2.message, 'declined y');
  assert.equal(info2.retrying, false);
  assert.ok(job2.finishedOn > 0);
  const stored = await queue.getJob(last.id);
  assert.equal(stored.failedReason, 'declined y');
  assert.equal(await stored.getState(), 'failed');
});

test("BullMQ's QueueEvents sees our worker's completed and failed with the same arguments as a BullMQ worker's", async (t) => {
  const env = setup(t);
  const processor = async (job) => {
    if (job.data.fail) throw new Error('nope');
    return { ok: job.data.n };
  };
  const shapes = {};
  for (const [side, make] of [
    ['ours', (q) => env.worker(q, processor)],
    ['bullmq', (q) => env.bullWorker(q, processor)],
  ]) {
    const name = `qe-${side}`;
    const queue = env.queue(name);
    const events = env.bullEvents(name, { lastEventId: '0' });
    await events.waitUntilReady();
    const got = { completed: deferred(), failed: deferred() };
    events.on('completed', (args, id) => got.completed.resolve([args, id]));
    events.on('failed', (args, id) => got.failed.resolve([args, id]));
    const ok = await queue.add('j', { n: 7 });
    const bad = await queue.add('j', { fail: true }, { attempts: 1 });
    make(name);
    const [completed, completedId] = await got.completed.promise;
    const [failed, failedId] = await got.failed.promise;
    assert.match(completedId, /^\d+-\d+$/);
    assert.match(failedId, /^\d+-\d+$/);
    assert.equal(completed.jobId, ok.id);
    assert.equal(failed.jobId, bad.id);
    shapes[side] = { completed, failed };
  }
  assert.deepEqual(shapes.ours, shapes.bullmq);
  assert.deepEqual(shapes.ours.completed, { jobId: '1', returnvalue: { ok: 7 }, prev: 'active' });
  assert.deepEqual(shapes.ours.failed, { jobId: '2', failedReason: 'nope', prev: 'active' });
});

test('autorun: false waits for run(); run() resolves once closed; a second run() rejects', async (t) => {
  const env = setup(t);
  const queue = env.queue('manual');
  const worker = env.worker('manual', async () => 'done', { autorun: false });
  const ready = next(worker, 'ready');
  await worker.waitUntilReady();
  await ready;
  assert.equal(worker.isRunning(), false);
  const job = await queue.add('j', {});
  assert.equal(await job.getState(), 'waiting');
  assert.equal(await queue.getWorkersCount(), 1, 'connected before run(), as a BullMQ worker is');
  const completed = next(worker, 'completed');
  let finished = false;
  const running = worker.run().then(() => {
    finished = true;
  });
  assert.equal(worker.isRunning(), true);
  await assert.rejects(worker.run(), /already running/);
  const [done] = await completed;
  assert.equal(done.id, job.id);
  assert.equal(finished, false, 'run() is pending while the worker runs');
  const closing = next(worker, 'closing');
  const closed = next(worker, 'closed');
  await worker.close();
  await running;
  assert.equal(finished, true);
  assert.deepEqual(await closing, ['closing queue']);
  await closed;
  assert.equal(worker.isRunning(), false);
  await assert.rejects(worker.run(), /closing/);
});

test('a worker without a processor cannot run', async (t) => {
  const env = setup(t);
  const worker = env.worker('noproc', undefined, { autorun: false });
  await assert.rejects(worker.run(), /No process function/);
});

test('pause() waits for the running job, then nothing is fetched until resume()', async (t) => {
  const env = setup(t);
  const queue = env.queue('pausing');
  const release = deferred();
  const started = [];
  const worker = env.worker('pausing', async (job) => {
    started.push({ id: job.id, at: Date.now() });
    if (job.data.hold) await release.promise;
    return 'ok';
  });
  const held = await queue.add('hold', { hold: true });
  await waitFor(() => started.length === 1);
  let pauseDone = false;
  const paused = next(worker, 'paused');
  const pausing = worker.pause().then(() => {
    pauseDone = true;
  });
  assert.equal(worker.isPaused(), true);
  const later = await queue.add('later', {});
  assert.equal(pauseDone, false, 'pause() waits for the running job');
  release.resolve();
  await pausing;
  await paused;
  assert.equal(await (await queue.getJob(held.id)).getState(), 'completed', 'the running job finished');
  assert.equal(await (await queue.getJob(later.id)).getState(), 'waiting', 'nothing fetched while paused');
  const resumedAt = Date.now();
  const resumed = next(worker, 'resumed');
  worker.resume();
  await resumed;
  assert.equal(worker.isPaused(), false);
  await waitFor(() => started.length === 2);
  assert.equal(started[1].id, later.id);
  assert.ok(started[1].at >= resumedAt, 'the waiting job ran only after resume()');
});

test('pause(true) does not wait for the running job', async (t) => {
  const env = setup(t);
  const queue = env.queue('pausenow');
  const release = deferred();
  let running = 0;
  const worker = env.worker('pausenow', async () => {
    running += 1;
    await release.promise;
    running -= 1;
  });
  await queue.add('hold', {});
  await waitFor(() => running === 1);
  await worker.pause(true);
  assert.equal(running, 1, 'resolved while the job still runs');
  const done = next(worker, 'completed');
  release.resolve();
  await done;
});

// close(true) and close(ms): worker-close.test.js
test('close() waits for running jobs and fetches nothing meanwhile', async (t) => {
  const env = setup(t);
  const queue = env.queue('closing');
  const release = deferred();
  const started = [];
  const worker = env.worker('closing', async (job) => {
    started.push(job.id);
    await release.promise;
    return 'finished';
  });
  const first = await queue.add('a', {});
  await waitFor(() => started.length === 1);
  let closed = false;
  const closing = worker.close().then(() => {
    closed = true;
  });
  await queue.add('b', {});
  assert.equal(closed, false, 'close() waits for the running job');
  release.resolve();
  await closing;
  assert.equal(await (await queue.getJob(first.id)).getState(), 'completed');
  assert.deepEqual(started, [first.id], 'nothing fetched after close()');
});

test('concurrency set while running takes effect at once', async (t) => {
  const env = setup(t);
  const queue = env.queue('conc');
  const release = deferred();
  let running = 0;
  let most = 0;
  const worker = env.worker('conc', async () => {
    running += 1;
    most = Math.max(most, running);
    await release.promise;
    running -= 1;
  });
  assert.equal(worker.concurrency, 1);
  await queue.addBulk([1, 2, 3, 4].map((i) => ({ name: 'j', data: { i } })));
  await waitFor(() => running === 1);
  worker.concurrency = 3;
  assert.equal(worker.concurrency, 3);
  await waitFor(() => running === 3, { message: 'three jobs run at once' });
  assert.equal(most, 3);
  let completed = 0;
  worker.on('completed', () => (completed += 1));
  release.resolve();
  await waitFor(() => completed === 4);
});

test('rateLimit(ms) stops fetching; a processor throwing Worker.RateLimitError() gives its job back without an attempt', async (t) => {
  const env = setup(t);
  const queue = env.queue('limited');
  const starts = [];
  const failed = [];
  const worker = env.worker('limited', async (job) => {
    starts.push({ id: job.id, at: Date.now(), attemptsMade: job.attemptsMade });
    if (starts.length === 1) {
      await worker.rateLimit(400);
      throw Worker.RateLimitError();
    }
    return 'ok';
  });
  worker.on('failed', (...args) => failed.push(args));
  assert.ok(Worker.RateLimitError() instanceof RateLimitError);
  const job = await queue.add('j', {}, { attempts: 1 });
  const [done] = await next(worker, 'completed');
  assert.equal(done.id, job.id);
  assert.equal(starts.length, 2);
  assert.equal(starts[1].id, job.id);
  assert.equal(starts[1].attemptsMade, 0, 'the rate-limited run used no attempt');
  assert.ok(starts[1].at - starts[0].at >= 390, `fetched again after the limit (${starts[1].at - starts[0].at} ms)`);
  assert.deepEqual(failed, []);
});

test("'progress' passes the Job and the progress; 'drained' when the queue empties", async (t) => {
  const env = setup(t);
  const queue = env.queue('prog');
  const jobs = [];
  const worker = env.worker('prog', async (job) => {
    jobs.push(job);
    await job.updateProgress({ step: 1 });
    return 'ok';
  });
  const progress = next(worker, 'progress');
  const drained = next(worker, 'drained');
  await queue.add('j', {});
  const [job, value] = await progress;
  assert.equal(job, jobs[0]);
  assert.deepEqual(value, { step: 1 });
  assert.deepEqual(await drained, []);
});

test("'stalled' passes the job id and 'active'; a job stalled too often fails without running, 'failed' passing its Job", async (t) => {
  const env = setup(t);
  const redis = env.redis();
  const queue = env.queue('stall');
  const twice = await queue.add('s', {}, { attempts: 3 });
  // taken by a worker that died (no lock), having stalled once before
  await redis.lmove(env.key('stall', 'wait'), env.key('stall', 'active'), 'RIGHT', 'LEFT');
  await redis.hset(env.key('stall', twice.id), 'stc', 1);
  let ran = 0;
  const worker = env.worker('stall', async () => {
    ran += 1;
    return 'ran';
  }, { stalledInterval: 100, maxStalledCount: 1 });
  const stalled = next(worker, 'stalled');
  const failed = next(worker, 'failed');
  assert.deepEqual(await stalled, [twice.id, 'active']);
  const [job, err, prev, info] = await failed;
  assert.equal(ran, 0, 'the worker never ran it');
  // as BullMQ's worker: the Job as failed, attempts left or not
  assert.equal(job.id, twice.id);
  assert.equal(job.name, 's');
  assert.equal(job.stalledCounter, 2);
  assert.equal(job.attemptsStarted, 1, 'fetched once, to be failed');
  assert.equal(job.attemptsMade, 1);
  assert.equal(typeof job.finishedOn, 'number');
  assert.equal(job.failedReason, 'job stalled more than allowable limit');
  assert.equal(err.message, 'job stalled more than allowable limit');
  assert.equal(prev, 'active');
  assert.equal(info.retrying, false);
  const stored = await queue.getJob(twice.id);
  assert.equal(await stored.getState(), 'failed');
  assert.equal(stored.attemptsMade, 1);
});

test("'error' when a job's lock was lost before it settled", async (t) => {
  const env = setup(t);
  const redis = env.redis();
  const queue = env.queue('lost');
  const worker = env.worker('lost', async (job) => {
    await redis.del(env.key('lost', `${job.id}:lock`));
    return 'late';
  });
  const error = next(worker, 'error');
  let completed = 0;
  worker.on('completed', () => (completed += 1));
  await queue.add('j', {});
  const [err] = await error;
  assert.ok(err instanceof Error);
  assert.equal(completed, 0);
});

test('settings.backoffStrategy sets the retry delay of custom backoff types; -1 fails the job for good', async (t) => {
  const env = setup(t);
  const queue = env.queue('custom');
  const calls = [];
  const worker = env.worker('custom', async () => {
    throw new Error('again');
  }, {
    settings: {
      backoffStrategy: (attemptsMade, type, err, job) => {
        calls.push({ attemptsMade, type, message: err.message, id: job.id });
        return job.data.giveUp ? -1 : 60_000;
      },
    },
  });
  const failed = [];
  worker.on('failed', (job, err, prev, info) => failed.push({ id: job.id, retrying: info.retrying }));
  const later = await queue.add('j', {}, { attempts: 3, backoff: { type: 'linear' } });
  await waitFor(async () => (await queue.getJob(later.id).then((j) => j.getState())) === 'delayed');
  const delayed = await queue.getJob(later.id);
  const score = await env.redis().zscore(env.key('custom', 'delayed'), later.id);
  const at = Math.floor(Number(score) / 0x1000);
  assert.ok(Math.abs(at - (delayed.processedOn + 60_000)) < 5000, `due about 60 s after the attempt (${at - delayed.processedOn})`);
  assert.deepEqual(calls[0], { attemptsMade: 1, type: 'linear', message: 'again', id: later.id });

  const giveUp = await queue.add('j', { giveUp: true }, { attempts: 3, backoff: { type: 'linear' } });
  await waitFor(async () => (await queue.getJob(giveUp.id).then((j) => j.getState())) === 'failed');
  assert.equal((await queue.getJob(giveUp.id)).attemptsMade, 1);
  // built-in types are not asked
  const fixed = await queue.add('j', {}, { attempts: 2, backoff: { type: 'fixed', delay: 1 } });
  await waitFor(async () => (await queue.getJob(fixed.id).then((j) => j.getState())) === 'failed');
  assert.equal(calls.filter((c) => c.id === fixed.id).length, 0);
});

test('removeOnComplete, limiter and name act', async (t) => {
  const env = setup(t);
  const queue = env.queue('opts');
  const starts = [];
  const worker = env.worker('opts', async (job) => {
    starts.push(Date.now());
    return job.data.i;
  }, { removeOnComplete: true, limiter: { max: 1, duration: 300 }, name: 'named-worker', concurrency: 3 });
  let completed = 0;
  worker.on('completed', () => (completed += 1));
  const jobs = await queue.addBulk([1, 2, 3].map((i) => ({ name: 'j', data: { i } })));
  await waitFor(() => completed === 3);
  assert.equal(await queue.getJob(jobs[0].id), undefined, 'removed on completion');
  assert.ok(starts[2] - starts[0] >= 550, `one job per 300 ms (${starts[2] - starts[0]} ms for three)`);
  const workers = await queue.getWorkers();
  assert.ok(workers.some((w) => w.rawname.endsWith(':w:named-worker')), JSON.stringify(workers.map((w) => w.rawname)));
});

test('a BullMQ worker and ours share a queue: each job runs once', async (t) => {
  const env = setup(t);
  const queue = env.queue('shared');
  const ran = [];
  env.worker('shared', async (job) => ran.push(['ours', job.id]), { concurrency: 2 });
  env.bullWorker('shared', async (job) => ran.push(['bullmq', job.id]), { concurrency: 2 });
  await queue.addBulk([...Array(20)].map((_, i) => ({ name: 'j', data: { i } })));
  await waitFor(async () => (await queue.getCompletedCount()) === 20);
  assert.equal(ran.length, 20);
  assert.equal(new Set(ran.map(([, id]) => id)).size, 20);
});

test("an attempt past its timeout: the processor's signal aborts, 'failed' passes the Job and a TimeoutError once", async (t) => {
  const env = setup(t);
  const queue = env.queue('slow');
  const aborted = deferred();
  const worker = env.worker('slow', (job, context) => new Promise((_resolve, reject) => {
    context.signal.addEventListener('abort', () => {
      aborted.resolve(context.signal.reason);
      reject(context.signal.reason);
    });
  }));
  const failed = [];
  worker.on('failed', (...args) => failed.push(args));
  const added = await queue.add('j', {}, { attempts: 1, timeoutMs: 100 });
  const reason = await aborted.promise;
  assert.equal(reason.name, 'TimeoutError');
  await waitFor(async () => (await (await queue.getJob(added.id)).getState()) === 'failed');
  await waitFor(() => failed.length === 1);
  const [job, err, prev] = failed[0];
  assert.equal(job.id, added.id);
  assert.equal(err.name, 'TimeoutError');
  assert.equal(prev, 'active');
  // the processor's own rejection after the timeout is not a second failure
  const marker = await queue.add('after', {}, { attempts: 1 });
  await waitFor(async () => (await (await queue.getJob(marker.id)).getState()) !== 'waiting');
  assert.equal(failed.filter(([j]) => j && j.id === added.id).length, 1);
});

test("registerWorker returns this Worker; the coordinator's own events keep {queueName, jobId, detail}", async (t) => {
  const env = setup(t);
  const { JobQueueCoordinator } = require('..');
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: env.prefix } });
  t.after(() => c.shutdown({ timeoutMs: 1000 }));
  const worker = await c.registerWorker('coord', async (job) => {
    await job.updateProgress(10);
    if (job.data.fail) throw new Error('bad');
    return { ok: job.data.n };
  });
  assert.ok(worker instanceof Worker);
  assert.equal(worker.name, 'coord');
  assert.equal(worker.opts.prefix, env.prefix);
  assert.equal(worker.isRunning(), true);
  const own = [];
  for (const e of ['completed', 'failed', 'progress']) c.on(e, (p) => own.push([e, p]));
  const workerCompleted = next(worker, 'completed');
  const ok = await c.enqueueJob('coord', 'ok', { n: 1 });
  const bad = await c.enqueueJob('coord', 'bad', { fail: true }, { attempts: 1 });
  const [job, result, prev] = await workerCompleted;
  assert.equal(job.id, ok.id);
  assert.deepEqual(result, { ok: 1 });
  assert.equal(prev, 'active');
  await waitFor(() => own.some(([e]) => e === 'failed'));
  assert.deepEqual(own.find(([e]) => e === 'completed')[1], { queueName: 'coord', jobId: ok.id, detail: { ok: 1 } });
  const failed = own.find(([e]) => e === 'failed')[1];
  assert.equal(failed.queueName, 'coord');
  assert.equal(failed.jobId, bad.id);
  assert.equal(failed.detail.message, 'bad');
  assert.deepEqual(own.find(([e, p]) => e === 'progress' && p.jobId === ok.id)[1], { queueName: 'coord', jobId: ok.id, detail: 10 });
});
