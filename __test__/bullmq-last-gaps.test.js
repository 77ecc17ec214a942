'use strict';
// The last differences BullMQ's own tests found in our Queue, Worker and Job (issue 14):
// job.clearLogs, Queue's `progress` event, obliterate's refusal, keep limits, maxStartedAttempts,
// pause / run / isRunning, delayed jobs ahead of a retry, rate limits after a give-back, the
// order of a worker's events, listener exceptions, queue.jobScheduler, and the Queue, Worker
// and Job methods of BullMQ 6 that were missing. Each against a real Redis and, where both
// can share a queue, against BullMQ's own classes.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const bullmq = require('bullmq');
const { Queue, Worker, Job, ValidationError, ClosedError, DelayedError, UnrecoverableError, RateLimitError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-gaps');
  const connection = { url: REDIS_URL };
  const closers = [];
  const redis = new Redis(RAW_REDIS_URL);
  const bullConnection = () => new Redis(RAW_REDIS_URL, { maxRetriesPerRequest: null });
  const env = {
    prefix,
    redis,
    connection,
    key: (queue, suffix) => `${prefix}:${queue}:${suffix}`,
    queue(name, opts = {}) {
      const q = new Queue(name, { prefix, connection, ...opts });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      if (!opts.keepErrors) w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    bullQueue(name) {
      const c = bullConnection();
      const q = new bullmq.Queue(name, { prefix, connection: c });
      closers.push(async () => {
        await q.close();
        c.disconnect();
      });
      return q;
    },
    bullWorker(name, processor, opts = {}) {
      const c = bullConnection();
      const w = new bullmq.Worker(name, processor, { prefix, connection: c, ...opts });
      w.on('error', () => {});
      closers.push(async () => {
        await w.close(true);
        c.disconnect();
      });
      return w;
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await cleanup(REDIS_URL, prefix);
    redis.disconnect();
  });
  return env;
}

const next = (emitter, event) => new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));

test('job.clearLogs empties the log or keeps the newest rows, as BullMQ\'s on the same job', async (t) => {
  const env = setup(t);
  const queue = env.queue('logs');
  const job = await queue.add('j', {});
  for (const row of ['one', 'two', 'three']) await job.log(row);
  await job.clearLogs(4);
  assert.deepEqual(await queue.getJobLogs(job.id), { logs: ['one', 'two', 'three'], count: 3 });
  await job.clearLogs(2);
  assert.deepEqual(await queue.getJobLogs(job.id), { logs: ['two', 'three'], count: 2 });
  await assert.rejects(job.clearLogs(-1), ValidationError);
  await assert.rejects(job.clearLogs(1.5), ValidationError);
  assert.equal((await queue.getJobLogs(job.id)).count, 2, 'a refused call wrote nothing');
  await job.clearLogs();
  assert.deepEqual(await queue.getJobLogs(job.id), { logs: [], count: 0 });
  assert.equal(await env.redis.exists(env.key('logs', `${job.id}:logs`)), 0);
  // BullMQ's clearLogs on the same job reads and trims the same list
  await Job.addJobLog(queue, job.id, 'a');
  await queue.addJobLog(job.id, 'b');
  const bullJob = await bullmq.Job.fromId(env.bullQueue('logs'), job.id);
  await bullJob.clearLogs(1);
  assert.deepEqual(await queue.getJobLogs(job.id), { logs: ['b'], count: 1 });
});

test("Queue.updateJobProgress emits 'progress' (jobId, progress) on the queue, as BullMQ's Queue", async (t) => {
  const env = setup(t);
  const queue = env.queue('progress');
  const bullQueue = env.bullQueue('progress');
  const job = await queue.add('j', {});
  const ours = next(queue, 'progress');
  const theirs = next(bullQueue, 'progress');
  // one after the other: two clients' writes sent at once may land in either order
  await queue.updateJobProgress(job.id, 42);
  await bullQueue.updateJobProgress(job.id, 43);
  assert.deepEqual(await ours, [job.id, 42]);
  assert.deepEqual(await theirs, [job.id, 43]);
  assert.equal((await queue.getJob(job.id)).progress, 43);
  // a job's own updateProgress passes the Job, as BullMQ's
  const fromJob = next(queue, 'progress');
  await job.updateProgress({ done: 1 });
  const [emitted, value] = await fromJob;
  assert.equal(emitted, job);
  assert.deepEqual(value, { done: 1 });
});

test("obliterate with active jobs: BullMQ's message, our ValidationError, nothing deleted", async (t) => {
  const env = setup(t);
  const queue = env.queue('doomed');
  await queue.add('j', {});
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  env.worker('doomed', () => held);
  await waitFor(async () => (await queue.getActiveCount()) === 1);
  const err = await queue.obliterate().catch((e) => e);
  assert.ok(err instanceof ValidationError);
  assert.equal(err.code, 'ERR_VALIDATION');
  assert.equal(err.field, 'force');
  assert.equal(err.message, 'Cannot obliterate queue with active jobs');
  const bullErr = await env.bullQueue('doomed').obliterate().catch((e) => e);
  assert.equal(bullErr.message, err.message, "BullMQ's words");
  assert.equal(await queue.getActiveCount(), 1, 'nothing deleted');
  release();
});

test('a keep policy removes at most `limit` jobs past its age per settle, the oldest first', async (t) => {
  const env = setup(t);
  const queue = env.queue('keep');
  const old = await queue.addBulk([1, 2, 3].map((i) => ({ name: `old-${i}`, data: {} })));
  const done = [];
  const worker = env.worker('keep', async () => {}, { removeOnComplete: { age: 10, limit: 2 } });
  worker.on('completed', (job) => done.push(job.id));
  await waitFor(() => done.length === 3);
  // they finished a minute ago, as far as the completed set says
  const minuteAgo = Date.now() - 60_000;
  for (const [i, job] of old.entries()) await env.redis.zadd(env.key('keep', 'completed'), minuteAgo + i, job.id);
  const fresh = await queue.add('fresh', {});
  await waitFor(() => done.includes(fresh.id));
  const left = await env.redis.zrange(env.key('keep', 'completed'), 0, -1);
  assert.deepEqual(left, [old[2].id, fresh.id], 'two of the three past the age went, the oldest first');
  assert.equal(await queue.getJob(old[0].id), undefined);
  const later = await queue.add('later', {});
  await waitFor(() => done.includes(later.id));
  assert.deepEqual(await env.redis.zrange(env.key('keep', 'completed'), 0, -1), [fresh.id, later.id]);
  await assert.rejects(async () => env.worker('keep', async () => {}, { removeOnComplete: 'all' }), ValidationError);
});

test('maxStartedAttempts: a job started more often fails without running, as with BullMQ\'s worker', async (t) => {
  const env = setup(t);
  const moveAndDefer = async (job, token) => {
    await job.moveToDelayed(Date.now() + 50, token);
    throw new DelayedError();
  };
  const results = [];
  for (const [side, make] of [
    ['ours', (name) => env.worker(name, moveAndDefer, { maxStartedAttempts: 1 })],
    ['bullmq', (name) => env.bullWorker(name, moveAndDefer, { maxStartedAttempts: 1 })],
  ]) {
    const name = `started-${side}`;
    const queue = env.queue(name);
    const worker = make(name);
    const failed = next(worker, 'failed');
    const added = await queue.add('j', {});
    const [job, err] = await failed;
    assert.equal(job.id, added.id);
    assert.equal(err.message, 'job started more than allowable limit');
    assert.equal(err.name, 'UnrecoverableError');
    const stored = await queue.getJob(added.id);
    results.push([side, stored.failedReason, stored.attemptsMade, stored.attemptsStarted, await stored.getState()]);
  }
  assert.deepEqual(results, [
    ['ours', 'job started more than allowable limit', 1, 2, 'failed'],
    ['bullmq', 'job started more than allowable limit', 1, 2, 'failed'],
  ]);
});

test('maxStartedAttempts: a retried job fails at its next start; retry() gives it one more', async (t) => {
  const env = setup(t);
  const queue = env.queue('started-retry');
  const errors = [];
  const worker = env.worker('started-retry', async () => {
    throw new Error('failed');
  }, { maxStartedAttempts: 1 });
  worker.on('failed', (job, err) => errors.push([job.attemptsMade, job.attemptsStarted, err.message, err instanceof UnrecoverableError]));
  const job = await queue.add('j', {}, { attempts: 2 });
  await waitFor(() => errors.length === 2);
  assert.deepEqual(errors, [
    [1, 1, 'failed', false],
    [2, 2, 'job started more than allowable limit', true],
  ]);
  await (await queue.getJob(job.id)).retry();
  await waitFor(() => errors.length === 3);
  assert.deepEqual(errors[2], [3, 3, 'job started more than allowable limit', true]);
  assert.equal(await queue.getFailedCount(), 1);
  assert.throws(() => env.worker('started-retry', async () => {}, { maxStartedAttempts: -1 }), /maxStartedAttempts must be greater or equal than 0/);
  assert.throws(() => env.worker('started-retry', async () => {}, { maxStartedAttempts: 'x' }), ValidationError);
});

test('pause() waits for running jobs and ends run(); resume() runs again, as BullMQ\'s worker', async (t) => {
  const env = setup(t);
  const queue = env.queue('pausing');
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const seen = [];
  const worker = env.worker('pausing', async (job) => {
    seen.push(job.data.n);
    if (job.data.n === 1) await held;
  }, { autorun: false });
  await worker.waitUntilReady();
  await queue.add('j', { n: 1 });
  let ended = false;
  const running = worker.run().then(() => {
    ended = true;
  });
  assert.equal(worker.isRunning(), true);
  await waitFor(() => seen.length === 1);
  const pausing = worker.pause();
  await queue.add('j', { n: 2 });
  assert.equal(ended, false, 'run() goes on while the job runs');
  release();
  await pausing;
  await running;
  assert.equal(worker.isRunning(), false, 'paused with nothing running: run() has ended');
  assert.equal(worker.isPaused(), true);
  assert.deepEqual(seen, [1]);
  // a paused worker's run() ends at once
  await worker.run();
  assert.equal(worker.isRunning(), false);
  const completed = next(worker, 'completed');
  worker.resume();
  assert.equal(worker.isRunning(), true, 'resume() runs it again');
  const [job] = await completed;
  assert.equal(job.data.n, 2);
});

test('a pause in a completed listener also waits for the jobs fetched with that outcome', async (t) => {
  const env = setup(t);
  const queue = env.queue('pause-fetched');
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  // the first four finish in one tick: one round trip settles them and fetches four more
  const worker = env.worker('pause-fetched', (job) => (job.data.n <= 4 ? held : undefined), { autorun: false, concurrency: 4 });
  await queue.addBulk([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ name: 'j', data: { n } })));
  worker.once('completed', () => worker.pause());
  const paused = new Promise((resolve, reject) => {
    worker.once('paused', async () => {
      try {
        resolve([worker.isRunning(), await queue.getActiveCount()]);
      } catch (err) {
        reject(err);
      }
    });
  });
  worker.run().catch(() => {});
  await waitFor(async () => (await queue.getActiveCount()) === 4);
  release();
  assert.deepEqual(await paused, [false, 0], 'not running, and nothing left active');
  assert.equal(await queue.getCompletedCount(), 8);
});

test('pause(true) leaves run() running; resume() fetches again at once', async (t) => {
  const env = setup(t);
  const queue = env.queue('pause-nowait');
  const worker = env.worker('pause-nowait', async (job) => job.data.n);
  const first = next(worker, 'completed');
  await queue.add('j', { n: 1 });
  await first;
  await worker.pause(true);
  assert.equal(worker.isPaused(), true);
  assert.equal(worker.isRunning(), true);
  worker.resume();
  assert.equal(worker.isPaused(), false);
  assert.equal(worker.isRunning(), true);
  const second = next(worker, 'completed');
  await queue.add('j', { n: 2 });
  const [, result] = await second;
  assert.equal(result, 2);
});

test('due delayed jobs run before a job retried at once, in the order BullMQ\'s worker runs them', async (t) => {
  const env = setup(t);
  const orders = {};
  for (const side of ['ours', 'bullmq']) {
    const name = `retry-order-${side}`;
    const queue = env.queue(name);
    const order = [];
    orders[side] = order;
    let dueAt = 0;
    const processor = async (job) => {
      order.push(`${job.name}:${job.attemptsMade}`);
      if (job.name === 'retried' && job.attemptsMade === 0) {
        // the delayed jobs fall due while this attempt runs
        await waitFor(() => dueAt > 0 && Date.now() > dueAt + 10);
        throw new Error('Not yet!');
      }
    };
    const worker = side === 'ours' ? env.worker(name, processor, { autorun: false }) : env.bullWorker(name, processor, { autorun: false });
    await queue.add('retried', {}, { attempts: 2 });
    const delayed = await queue.addBulk([1, 2, 3].map((i) => ({ name: `d${i}`, data: {}, opts: { delay: 50 } })));
    dueAt = delayed[0].timestamp + 50;
    let completed = 0;
    worker.on('completed', () => (completed += 1));
    worker.run().catch(() => {});
    await waitFor(() => completed === 4);
  }
  assert.deepEqual(orders.ours, ['retried:0', 'd1:0', 'd2:0', 'd3:0', 'retried:1']);
  assert.deepEqual(orders.ours, orders.bullmq);
});

test("a worker announces a job's outcome before the next job starts", async (t) => {
  const env = setup(t);
  const queue = env.queue('order');
  const trace = [];
  const worker = env.worker('order', async (job) => {
    trace.push(`start:${job.attemptsMade}`);
    throw new Error('error');
  });
  worker.on('failed', (job) => trace.push(`failed:${job.attemptsMade}`));
  await queue.add('j', {}, { attempts: 3 });
  await waitFor(() => trace.length === 6);
  assert.deepEqual(trace, ['start:0', 'failed:1', 'start:1', 'failed:2', 'start:2', 'failed:3']);
});

test('queue.rateLimit holds a worker without a limiter once its processor gives a job back; removeRateLimitKey lets it go', async (t) => {
  const env = setup(t);
  const queue = env.queue('given-back');
  const starts = [];
  const worker = env.worker('given-back', async (job) => {
    starts.push(Date.now());
    if (starts.length === 1) {
      await queue.rateLimit(400);
      throw Worker.RateLimitError();
    }
  });
  const completed = next(worker, 'completed');
  await queue.add('j', {});
  await completed;
  assert.equal(starts.length, 2);
  assert.ok(starts[1] - starts[0] >= 390, `fetched again after the limit (${starts[1] - starts[0]} ms)`);

  // worker.rateLimit only sets the queue's key: removing it lets the worker fetch at once
  const other = env.queue('unlimited');
  const limited = env.worker('unlimited', async () => {}, { autorun: false, limiter: { max: 1, duration: 200 } });
  await limited.rateLimit(60_000);
  assert.ok((await other.getRateLimitTtl(1)) > 50_000);
  await other.removeRateLimitKey();
  let done = 0;
  limited.on('completed', () => (done += 1));
  await other.addBulk([{ name: 'a', data: {} }, { name: 'b', data: {} }]);
  limited.run().catch(() => {});
  await waitFor(() => done === 2, { timeoutMs: 5000 });
});

test("a job given back after it was deleted: 'error' names BullMQ's moveJobFromActiveToWait", async (t) => {
  const env = setup(t);
  const queue = env.queue('vanished');
  let job;
  const worker = env.worker('vanished', async (j) => {
    job = j;
    await queue.obliterate({ force: true });
    throw new RateLimitError();
  }, { keepErrors: true });
  const error = next(worker, 'error');
  await queue.add('j', {});
  const [err] = await error;
  assert.equal(err.message, `Missing key for job ${job.id}. moveJobFromActiveToWait`);
});

test("a listener's exception is emitted as 'error', as BullMQ's QueueBase.emit", async (t) => {
  const env = setup(t);
  const queue = env.queue('listeners');
  const worker = env.worker('listeners', async () => 'ok', { keepErrors: true });
  const boom = new Error('listener boom');
  worker.once('completed', () => {
    throw boom;
  });
  const error = next(worker, 'error');
  const job = await queue.add('j', {});
  const [err] = await error;
  assert.equal(err, boom);
  await waitFor(async () => (await queue.getJob(job.id)).finishedOn > 0);
  assert.equal(await queue.getJobCountByTypes('completed'), 1, 'the job completed all the same');
  const queueErrors = [];
  queue.on('error', (e) => queueErrors.push(e));
  queue.once('waiting', () => {
    throw boom;
  });
  await queue.add('k', {});
  assert.deepEqual(queueErrors, [boom]);
});

test('queue.jobScheduler: isJobScheduler for ours and BullMQ\'s schedulers; its errors are the queue\'s', async (t) => {
  const env = setup(t);
  const queue = env.queue('sched');
  const scheduler = await queue.jobScheduler;
  assert.equal(await queue.jobScheduler, scheduler, 'made once');
  await scheduler.waitUntilReady();
  const errors = [];
  queue.on('error', (e) => errors.push(e));
  const err = new Error('job scheduler boom');
  scheduler.emit('error', err);
  assert.deepEqual(errors, [err]);
  const id = 'tenant:region:env:service:queue:task';
  await queue.upsertJobScheduler(id, { every: 60_000 });
  await env.bullQueue('sched').upsertJobScheduler('theirs', { every: 60_000 });
  assert.equal(await scheduler.isJobScheduler(id), true);
  assert.equal(await scheduler.isJobScheduler('theirs'), true);
  assert.equal(await scheduler.isJobScheduler('tenant:region'), false);
  const bullScheduler = await env.bullQueue('sched').jobScheduler;
  assert.equal(await bullScheduler.isJobScheduler(id), true, "BullMQ's sees ours");
  assert.equal((await scheduler.getScheduler(id)).key, id);
  assert.equal(await scheduler.getSchedulersCount(), 2);
  // a worker's is its queue's
  const worker = env.worker('sched', null, { keepErrors: true });
  const workerScheduler = await worker.jobScheduler;
  assert.equal(await worker.jobScheduler, workerScheduler);
  assert.equal(await workerScheduler.isJobScheduler(id), true);
  const workerError = next(worker, 'error');
  workerScheduler.emit('error', err);
  assert.deepEqual(await workerError, [err]);
  assert.equal(await scheduler.removeJobScheduler(id), 1);
  assert.equal(await scheduler.removeJobScheduler(id), 0);
  await assert.rejects(scheduler.isJobScheduler(''), ValidationError);
});

test('isMaxed, getRanges and recordJobCountsMetric read as BullMQ\'s on the same queue', async (t) => {
  const env = setup(t);
  const queue = env.queue('reads');
  const bull = env.bullQueue('reads');
  await queue.addBulk([1, 2, 3, 4].map((i) => ({ name: `${i}`, data: {} })));
  await queue.add('later', {}, { delay: 60_000 });
  await queue.add('p', {}, { priority: 3 });
  for (const args of [[['waiting']], [['waiting'], 0, -1, true], [['waiting', 'delayed', 'prioritized'], 0, -1], [['waiting', 'waiting'], 1, 2, true]]) {
    assert.deepEqual(await queue.getRanges(...args), await bull.getRanges(...args), `getRanges(${JSON.stringify(args)})`);
  }
  assert.deepEqual(await queue.getRanges(), await bull.getRanges(['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children']), 'no types: every state');
  assert.deepEqual(await queue.recordJobCountsMetric('waiting', 'delayed'), await queue.getJobCounts('waiting', 'delayed'));
  assert.equal(await queue.isMaxed(), false);
  assert.equal(await bull.isMaxed(), false);
  await queue.setGlobalConcurrency(1);
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  env.worker('reads', () => held);
  await waitFor(async () => (await queue.getActiveCount()) === 1);
  assert.equal(await queue.isMaxed(), true);
  assert.equal(await bull.isMaxed(), true);
  release();
});

test('deduplication keys: read, removed by the queue, and by the job only while it owns the key', async (t) => {
  const env = setup(t);
  const queue = env.queue('dedup');
  const bull = env.bullQueue('dedup');
  const first = await queue.add('j', {}, { deduplication: { id: 'd' } });
  assert.equal(await queue.getDeduplicationJobId('d'), first.id);
  assert.equal(await queue.getDebounceJobId('d'), first.id);
  assert.equal(await bull.getDeduplicationJobId('d'), first.id);
  assert.equal(await queue.getDeduplicationJobId('none'), null);
  const same = await queue.add('j', {}, { deduplication: { id: 'd' } });
  assert.equal(same.id, first.id, 'deduplicated');
  assert.equal(await queue.removeDeduplicationKey('d'), 1);
  assert.equal(await queue.removeDebounceKey('d'), 0);
  const second = await queue.add('j', {}, { deduplication: { id: 'd' } });
  assert.notEqual(second.id, first.id, 'the window ended: a new job');
  // the first job no longer owns the key: its removeDeduplicationKey leaves it
  assert.equal(await first.removeDeduplicationKey(), false);
  assert.equal(await queue.getDeduplicationJobId('d'), second.id);
  assert.equal(await second.removeDeduplicationKey(), true);
  assert.equal(await queue.getDeduplicationJobId('d'), null);
  const plain = await queue.add('plain', {});
  assert.equal(await plain.removeDeduplicationKey(), false);
  await assert.rejects(queue.getDeduplicationJobId(''), ValidationError);
});

test('removeDeprecatedPriorityKey deletes the old priority key; disconnect lets go at once', async (t) => {
  const env = setup(t);
  const queue = env.queue('legacy');
  await env.redis.zadd(env.key('legacy', 'priority'), 1, 'x');
  assert.equal(await queue.removeDeprecatedPriorityKey(), 1);
  assert.equal(await env.redis.exists(env.key('legacy', 'priority')), 0);
  assert.equal(await queue.removeDeprecatedPriorityKey(), 0);
  await queue.disconnect();
  await assert.rejects(queue.getJobCounts(), ClosedError);
  await queue.close();
});

test('worker.extendJobLocks renews the locks its tokens hold; cancelJob aborts a job\'s signal', async (t) => {
  const env = setup(t);
  const queue = env.queue('locks');
  const manual = env.worker('locks', null);
  await queue.add('j', {});
  const job = await manual.getNextJob('tok-1');
  const lost = await manual.extendJobLocks([job.id, 'nope'], ['tok-1', 'tok-1'], 120_000);
  assert.deepEqual(lost, ['nope']);
  assert.ok((await env.redis.pttl(env.key('locks', `${job.id}:lock`))) > 60_000);
  await assert.rejects(manual.extendJobLocks([job.id], [], 1000), ValidationError);

  const signalQueue = env.queue('cancel');
  const reasons = [];
  const worker = env.worker('cancel', (j, _ctx, signal) => new Promise((resolve) => {
    signal.addEventListener('abort', () => {
      reasons.push(signal.reason);
      resolve('cancelled');
    });
  }));
  let started = next(worker, 'active');
  const running = await signalQueue.add('j', {});
  await started;
  assert.equal(worker.cancelJob('404', 'x'), false);
  const completed = next(worker, 'completed');
  assert.equal(worker.cancelJob(running.id, 'enough'), true);
  const [done, result] = await completed;
  assert.equal(done.id, running.id);
  assert.equal(result, 'cancelled');
  assert.deepEqual(reasons, ['enough']);
  started = next(worker, 'active');
  const another = await signalQueue.add('k', {});
  await started;
  const second = next(worker, 'completed');
  worker.cancelAllJobs('all');
  assert.equal((await second)[0].id, another.id);
  assert.deepEqual(reasons, ['enough', 'all']);
});

test('worker.delay resolves after its time or when aborted; disconnect closes the worker', async (t) => {
  const env = setup(t);
  const worker = env.worker('delay', async () => {}, { autorun: false });
  const controller = new AbortController();
  const started = Date.now();
  const waiting = worker.delay(60_000, controller);
  controller.abort();
  await waiting;
  assert.ok(Date.now() - started < 1000);
  const t0 = Date.now();
  await worker.delay(30);
  assert.ok(Date.now() - t0 >= 25);
  const closed = next(worker, 'closed');
  await worker.disconnect();
  await closed;
  assert.equal(worker.closed, true);
});

test('Job.optsFromJSON, Job.addJobLog and asJSONSandbox read as BullMQ\'s', async (t) => {
  const env = setup(t);
  const queue = env.queue('statics');
  const raw = JSON.stringify({ kl: 5, de: { id: 'x' }, fpof: true, tm: 'm', omc: true, attempts: 2 });
  assert.deepEqual(Job.optsFromJSON(raw), bullmq.Job.optsFromJSON(raw));
  assert.deepEqual(Job.optsFromJSON(undefined), {});
  assert.throws(() => Job.optsFromJSON('{'), ValidationError);
  const job = await queue.add('j', { a: 1 });
  assert.equal(await Job.addJobLog(queue, job.id, 'row', 1), 1);
  const sandbox = job.asJSONSandbox();
  assert.equal(sandbox.queueName, 'statics');
  assert.equal(sandbox.prefix, env.prefix);
  assert.equal(sandbox.queueQualifiedName, `${env.prefix}:statics`);
  assert.equal(sandbox.data, '{"a":1}');
});
