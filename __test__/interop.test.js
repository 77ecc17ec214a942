'use strict';
// BullMQ 6 and this package on the same queue (same prefix, same Redis): each side's jobs are
// processed by the other's workers and read back by the other's getters with the same values
// (the layout: docs/redis-layout.md).

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Queue, Worker: BullWorker, QueueEvents } = require('bullmq');
const { JobQueueCoordinator } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

/**
 * A fresh prefix plus factories for everything a test opens; all of it is closed and the
 * prefix's keys deleted when the test ends, pass or fail.
 */
function setup(t) {
  const prefix = uniquePrefix('jqt-interop');
  const connection = { url: RAW_REDIS_URL }; // BullMQ's
  const closers = [];
  const coordinator = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
  // node:test ends a test at an uncaught exception (see event-loop.test.js, registerWorker
  // race) and runs the hooks below while the body may still be inside registerWorker: let
  // such registrations finish first, so shutdown() closes their workers.
  const registering = new Set();
  const register = coordinator.registerWorker.bind(coordinator);
  coordinator.registerWorker = (...args) => {
    const p = register(...args);
    registering.add(p);
    p.catch(() => {}).finally(() => registering.delete(p));
    return p;
  };
  const env = {
    prefix,
    coordinator,
    bullQueue(name) {
      const q = new Queue(name, { prefix, connection });
      closers.push(() => q.close());
      return q;
    },
    bullWorker(name, processor, opts = {}) {
      const w = new BullWorker(name, processor, { prefix, connection, concurrency: 1, ...opts });
      w.on('error', () => {}); // connection noise while closing; assertions look at Redis
      closers.push(() => w.close());
      return w;
    },
    async queueEvents(name) {
      const qe = new QueueEvents(name, { prefix, connection });
      closers.push(() => qe.close());
      await qe.waitUntilReady();
      return qe;
    },
    redis() {
      const r = new Redis(RAW_REDIS_URL);
      closers.push(() => r.quit());
      return r;
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await Promise.allSettled([...registering]);
    await coordinator.shutdown({ timeoutMs: 2000 });
    await cleanup(REDIS_URL, prefix);
  });
  return env;
}

/** Event names of the queue's events stream, oldest first. */
async function streamEvents(redis, prefix, queue) {
  const entries = await redis.xrange(`${prefix}:${queue}:events`, '-', '+');
  return entries.map(([, fields]) => {
    const e = {};
    for (let i = 0; i < fields.length; i += 2) e[fields[i]] = fields[i + 1];
    return e;
  });
}

const COUNT_TYPES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'];

test('a job added by BullMQ is processed by our worker and BullMQ reads its return value', async (t) => {
  const env = setup(t);
  const queue = env.bullQueue('photos');
  const events = await env.queueEvents('photos');
  const fromEvents = new Promise((resolve) => {
    events.on('completed', ({ jobId, returnvalue }) => resolve({ jobId, returnvalue }));
  });

  const seen = [];
  await env.coordinator.registerWorker('photos', async (job, ctx) => {
    seen.push({ id: job.id, name: job.name, data: job.data, attempts: job.opts.attempts, n: ctx.attemptNumber });
    return { resized: job.data.photo, sizes: job.data.sizes.length };
  });
  const added = await queue.add('resize', { photo: 7, sizes: [64, 128] }, { attempts: 2 });

  const value = await added.waitUntilFinished(events, 10000);
  assert.deepEqual(value, { resized: 7, sizes: 2 });
  assert.deepEqual(seen, [
    { id: added.id, name: 'resize', data: { photo: 7, sizes: [64, 128] }, attempts: 2, n: 1 },
  ]);
  // The stream's `completed` entry carries the JSON return value (QueueEvents parses it).
  assert.deepEqual(await fromEvents, { jobId: added.id, returnvalue: { resized: 7, sizes: 2 } });

  const stored = await queue.getJob(added.id);
  assert.deepEqual(stored.returnvalue, { resized: 7, sizes: 2 });
  assert.equal(await stored.getState(), 'completed');
  assert.equal(stored.attemptsMade, 1);
  assert.ok(stored.processedOn >= stored.timestamp, 'processedOn after timestamp');
  assert.ok(stored.finishedOn >= stored.processedOn, 'finishedOn after processedOn');
  assert.deepEqual(await queue.getJobCounts('completed', 'active', 'waiting'), {
    completed: 1,
    active: 0,
    waiting: 0,
  });
  // Once idle, our worker blocks on the marker on a connection named as BullMQ names its
  // workers', so BullMQ (and Bull Board) can see it (docs/redis-layout.md).
  await waitFor(async () => (await queue.getWorkers()).length === 1, {
    timeoutMs: 5000,
    message: 'BullMQ getWorkers() to list our idle worker',
  });
});

test('a job added by us is processed by a BullMQ worker with the name, data and options we set', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const added = await c.enqueueJob('mail', 'welcome', { to: 'a@example.test', n: [1, 2, 3] }, {
    attempts: 4,
    backoff: { type: 'fixed', delay: 25 },
  });
  assert.equal(added.id, '1');

  const seen = [];
  env.bullWorker('mail', async (job) => {
    seen.push({
      id: job.id,
      name: job.name,
      data: job.data,
      attempts: job.opts.attempts,
      backoff: job.opts.backoff,
      attemptsMade: job.attemptsMade,
    });
    return { sent: job.data.to };
  });

  const done = await waitFor(async () => {
    const j = await c.getJob('mail', added.id);
    return j && j.finishedOn ? j : null;
  }, { message: 'the BullMQ worker to finish our job' });
  assert.deepEqual(seen, [
    {
      id: added.id,
      name: 'welcome',
      data: { to: 'a@example.test', n: [1, 2, 3] },
      attempts: 4,
      backoff: { type: 'fixed', delay: 25, jitter: 0.1 }, // our default jitter, stored for BullMQ to apply
      attemptsMade: 0,
    },
  ]);
  assert.deepEqual(done.returnvalue, { sent: 'a@example.test' });
  assert.equal(done.attemptsMade, 1);
  assert.equal(done.failedReason, undefined);
  const status = await c.getQueueStatus('mail');
  assert.equal(status.jobCounts.completed, 1);
  assert.equal(status.jobCounts.waiting, 0);
  assert.equal(status.jobCounts.active, 0);
});

test('priorities: our and BullMQ adds share one order, run lowest number first, FIFO within a priority', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  // Added in this order; priority 0 (no priority) always runs before any prioritized job.
  async function addMix(queueName) {
    const queue = env.bullQueue(queueName);
    await c.enqueueJob(queueName, 'ours-p3', { i: 1 }, { attempts: 1, priority: 3 });
    await c.enqueueJob(queueName, 'ours-p1', { i: 2 }, { attempts: 1, priority: 1 });
    await c.enqueueJob(queueName, 'ours-p2', { i: 3 }, { attempts: 1, priority: 2 });
    await queue.add('bull-p1', { i: 4 }, { priority: 1 });
    await c.enqueueJob(queueName, 'ours-p1-late', { i: 5 }, { attempts: 1, priority: 1 });
    await queue.add('bull-p2', { i: 6 }, { priority: 2 });
    await queue.add('bull-p0', { i: 7 });
    assert.deepEqual(await queue.getJobCounts('prioritized', 'waiting'), { prioritized: 6, waiting: 1 });
    return queue;
  }
  const expected = ['bull-p0', 'ours-p1', 'bull-p1', 'ours-p1-late', 'ours-p2', 'bull-p2', 'ours-p3'];

  // Round 1: our concurrency-1 worker.
  await addMix('prio-ours');
  const oursOrder = [];
  const worker = await c.registerWorker('prio-ours', async (job) => {
    oursOrder.push(job.name);
    return job.data.i;
  }, { concurrency: 1 });
  await waitFor(() => oursOrder.length === expected.length, { message: 'our worker to run 7 jobs' });
  await worker.close(2000);
  assert.deepEqual(oursOrder, expected);

  // Round 2: a BullMQ concurrency-1 worker on the same mix.
  await addMix('prio-bull');
  const bullOrder = [];
  env.bullWorker('prio-bull', async (job) => {
    bullOrder.push(job.name);
    return job.data.i;
  });
  await waitFor(() => bullOrder.length === expected.length, { message: 'the BullMQ worker to run 7 jobs' });
  assert.deepEqual(bullOrder, expected);
});

test('delays: our delayed job is seen as delayed by BullMQ and run by its worker not before its time', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('later');
  const added = await c.enqueueJob('later', 'remind', { who: 'x' }, { attempts: 1, delay: 700 });

  assert.equal((await queue.getJobCounts()).delayed, 1);
  const pending = await queue.getJob(added.id);
  assert.equal(pending.delay, 700);
  assert.equal(pending.timestamp, added.timestamp);
  assert.equal(await pending.getState(), 'delayed');

  let startedAt = 0;
  env.bullWorker('later', async () => {
    startedAt = Date.now();
    return 'reminded';
  });
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === 1, {
    message: 'the BullMQ worker to run our delayed job',
  });
  const due = added.timestamp + 700;
  assert.ok(startedAt >= due, `started ${due - startedAt} ms before its due time`);
  assert.ok(startedAt - due < 3000, `started ${startedAt - due} ms after its due time`);
  assert.equal((await c.getJob('later', added.id)).returnvalue, 'reminded');
});

test('delays: a BullMQ delayed job is seen as delayed by us and run by our worker not before its time', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('later');
  const added = await queue.add('remind', { who: 'y' }, { delay: 700 });

  const status = await c.getQueueStatus('later');
  assert.equal(status.jobCounts.delayed, 1);
  assert.equal(status.jobCounts.waiting, 0);
  const pending = await c.getJob('later', added.id);
  assert.equal(pending.delay, 700);
  assert.equal(pending.timestamp, added.timestamp);

  let startedAt = 0;
  await c.registerWorker('later', async () => {
    startedAt = Date.now();
    return 'reminded';
  });
  await waitFor(async () => (await c.getQueueStatus('later')).jobCounts.completed === 1, {
    message: 'our worker to run the BullMQ delayed job',
  });
  const due = added.timestamp + 700;
  assert.ok(startedAt >= due, `started ${due - startedAt} ms before its due time`);
  assert.ok(startedAt - due < 3000, `started ${startedAt - due} ms after its due time`);
  const done = await queue.getJob(added.id);
  assert.equal(done.returnvalue, 'reminded');
  assert.equal(await done.getState(), 'completed');
});

/** The fields of a failed job that both libraries must agree on. */
function failureView(job) {
  return {
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason,
    stacktrace: job.stacktrace,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
  };
}

/** Checks the events stream of a job that failed 3 times with backoff: 2 delayed retries, 1 failed. */
async function assertFailureEvents(redis, prefix, queueName, jobId) {
  const mine = (await streamEvents(redis, prefix, queueName)).filter((e) => e.jobId === jobId);
  const names = mine.map((e) => e.event);
  assert.equal(names.filter((n) => n === 'active').length, 3, `events: ${names}`);
  assert.equal(names.filter((n) => n === 'delayed').length, 2, `events: ${names}`);
  assert.equal(names.filter((n) => n === 'failed').length, 1, `retrying failures emit no 'failed': ${names}`);
  assert.deepEqual(names.slice(-2), ['failed', 'retries-exhausted']);
  assert.equal(mine.at(-1).attemptsMade, '3');
  assert.equal(mine.find((e) => e.event === 'failed').failedReason, 'boom 3');
}

test('3 attempts with exponential backoff 50: a BullMQ job failed by our worker looks failed to BullMQ', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('flaky');
  const added = await queue.add('flaky', { x: 1 }, { attempts: 3, backoff: { type: 'exponential', delay: 50 } });

  const starts = [];
  const failures = [];
  const worker = await c.registerWorker('flaky', async (job, ctx) => {
    starts.push(Date.now());
    throw new Error(`boom ${ctx.attemptNumber}`);
  });
  worker.on('failed', (job, err, _prev, { retrying }) => failures.push({ jobId: job.id, message: err.message, retrying }));

  await waitFor(() => failures.length === 3, { message: 'three failures' });
  assert.deepEqual(failures, [
    { jobId: added.id, message: 'boom 1', retrying: true },
    { jobId: added.id, message: 'boom 2', retrying: true },
    { jobId: added.id, message: 'boom 3', retrying: false },
  ]);
  // exponential: 50 ms after the 1st failure, 100 ms after the 2nd
  assert.ok(starts[1] - starts[0] >= 50, `2nd attempt ${starts[1] - starts[0]} ms after the 1st`);
  assert.ok(starts[2] - starts[1] >= 100, `3rd attempt ${starts[2] - starts[1]} ms after the 2nd`);

  const bull = await waitFor(async () => {
    const j = await queue.getJob(added.id);
    return j && j.finishedOn ? j : null;
  }, { message: 'the job to be finished' });
  assert.equal(await bull.getState(), 'failed');
  assert.equal(bull.attemptsMade, 3);
  assert.equal(bull.failedReason, 'boom 3');
  assert.equal(bull.stacktrace.length, 3);
  bull.stacktrace.forEach((s, i) => assert.match(s, new RegExp(`^Error: boom ${i + 1}\\n`)));
  assert.deepEqual(await queue.getJobCounts('failed', 'delayed', 'waiting', 'active'), {
    failed: 1,
    delayed: 0,
    waiting: 0,
    active: 0,
  });
  const ours = await c.getJob('flaky', added.id);
  assert.deepEqual(failureView(ours), failureView(bull));
  await assertFailureEvents(env.redis(), env.prefix, 'flaky', added.id);
});

test('3 attempts with exponential backoff 50: our job failed by a BullMQ worker looks failed to us', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('flaky');
  // jitter 0: our default 10% jitter is stored with the job and BullMQ's worker honours it
  const added = await c.enqueueJob('flaky', 'flaky', { x: 2 }, {
    attempts: 3,
    backoff: { type: 'exponential', delay: 50, jitter: 0 },
  });

  const starts = [];
  env.bullWorker('flaky', async (job) => {
    starts.push(Date.now());
    throw new Error(`boom ${job.attemptsMade + 1}`);
  });

  const ours = await waitFor(async () => {
    const j = await c.getJob('flaky', added.id);
    return j && j.finishedOn ? j : null;
  }, { message: 'the job to be finished' });
  assert.equal(starts.length, 3);
  assert.ok(starts[1] - starts[0] >= 50, `2nd attempt ${starts[1] - starts[0]} ms after the 1st`);
  assert.ok(starts[2] - starts[1] >= 100, `3rd attempt ${starts[2] - starts[1]} ms after the 2nd`);
  assert.equal(ours.attemptsMade, 3);
  assert.equal(ours.failedReason, 'boom 3');
  assert.equal(ours.stacktrace.length, 3);
  ours.stacktrace.forEach((s, i) => assert.match(s, new RegExp(`^Error: boom ${i + 1}\\n`)));
  // state 'failed', as we can tell it: in the failed list and counted as failed
  const failed = await c.getFailedJobs('flaky');
  assert.deepEqual(failed.map((j) => j.id), [added.id]);
  const counts = (await c.getQueueStatus('flaky')).jobCounts;
  assert.deepEqual(counts, { waiting: 0, active: 0, completed: 0, failed: 1, delayed: 0, prioritized: 0 });

  const bull = await queue.getJob(added.id);
  assert.equal(await bull.getState(), 'failed');
  assert.deepEqual(failureView(ours), failureView(bull));
  await assertFailureEvents(env.redis(), env.prefix, 'flaky', added.id);
});

test('our getQueueStatus().jobCounts equals BullMQ getJobCounts() on a queue with jobs in every state', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('mixed');

  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const worker = await c.registerWorker('mixed', async (job) => {
    if (job.data.kind === 'fail') throw new Error('no');
    if (job.data.kind === 'hold') await held;
    return job.data.kind;
  }, { concurrency: 1 }); // no job is held ahead by default: exactly one is active below

  // completed ×2 (one each), failed ×1
  await c.enqueueJob('mixed', 'ok', { kind: 'ok' }, { attempts: 1 });
  await queue.add('ok', { kind: 'ok' });
  await c.enqueueJob('mixed', 'fail', { kind: 'fail' }, { attempts: 1 });
  await waitFor(async () => {
    const n = (await c.getQueueStatus('mixed')).jobCounts;
    return n.completed === 2 && n.failed === 1;
  }, { message: '2 completed and 1 failed' });
  // active ×1: the concurrency-1 worker holds it, so what follows stays put
  await queue.add('hold', { kind: 'hold' });
  await waitFor(async () => (await c.getQueueStatus('mixed')).jobCounts.active === 1, {
    message: 'the hold job to be active',
  });
  // waiting ×3, prioritized ×2, delayed ×2 (far in the future)
  await c.enqueueJob('mixed', 'w', { kind: 'ok' }, { attempts: 1 });
  await queue.add('w', { kind: 'ok' });
  await c.enqueueBulk('mixed', [{ name: 'w', data: { kind: 'ok' }, options: { attempts: 1 } }]);
  await c.enqueueJob('mixed', 'p', { kind: 'ok' }, { attempts: 1, priority: 5 });
  await queue.add('p', { kind: 'ok' }, { priority: 2 });
  await c.enqueueJob('mixed', 'd', { kind: 'ok' }, { attempts: 1, delay: 60000 });
  await queue.add('d', { kind: 'ok' }, { delay: 60000 });

  const ours = (await c.getQueueStatus('mixed')).jobCounts;
  const bull = await queue.getJobCounts(...COUNT_TYPES);
  assert.deepEqual(ours, { waiting: 3, active: 1, completed: 2, failed: 1, delayed: 2, prioritized: 2 });
  assert.deepEqual(bull, ours);

  release();
  await worker.close(5000);
});

test('our getQueueStatus().jobCounts equals BullMQ getJobCounts() before any job has finished', async (t) => {
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('fresh');
  await queue.add('w', { kind: 'ok' });
  await c.enqueueJob('fresh', 'p', { kind: 'ok' }, { attempts: 1, priority: 1 });
  await c.enqueueJob('fresh', 'd', { kind: 'ok' }, { attempts: 1, delay: 60000 });

  const ours = (await c.getQueueStatus('fresh')).jobCounts;
  assert.deepEqual(ours, { waiting: 1, active: 0, completed: 0, failed: 0, delayed: 1, prioritized: 1 });
  assert.deepEqual(await queue.getJobCounts(...COUNT_TYPES), ours);
});

test('BullMQ getWorkers() lists our worker while it is busy, not only once it has been idle', async (t) => {
  // Each worker has its named connection for as long as it lives; Bull Board shows
  // "no workers" for a queue whose workers are all busy otherwise.
  const env = setup(t);
  const c = env.coordinator;
  const queue = env.bullQueue('busy');
  await c.enqueueJob('busy', 'hold', { n: 1 }, { attempts: 1 });
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  // Registered with a job waiting, so it is busy from its first fetch on.
  const worker = await c.registerWorker('busy', async () => held, { concurrency: 1 });
  try {
    await waitFor(async () => (await queue.getJobCounts('active')).active === 1, { message: 'the job to be active' });
    await waitFor(async () => (await queue.getWorkers()).length === 1, {
      timeoutMs: 3000,
      message: 'BullMQ getWorkers() to list our busy worker',
    });
    assert.equal((await c.getQueueStatus('busy')).workers, 1);
  } finally {
    release();
    await worker.close(2000);
  }
});

test('a job scheduler BullMQ creates is listed by us and its iterations run on our worker, once each', async (t) => {
  const env = setup(t);
  const queue = env.bullQueue('bull-sched');
  await queue.upsertJobScheduler('beat', { every: 100, limit: 4 }, { name: 'beat', data: { k: 1 }, opts: { attempts: 2 } });
  const [listed] = await env.coordinator.getRecurringJobs('bull-sched');
  assert.equal(listed.key, 'beat');
  assert.equal(listed.name, 'beat');
  assert.equal(listed.every, 100);
  assert.deepEqual(listed.data, { k: 1 });
  assert.equal(listed.options.attempts, 2);

  const ran = [];
  await env.coordinator.registerWorker('bull-sched', async (job) => {
    ran.push({ id: job.id, data: job.data });
  });
  await waitFor(async () => {
    const c = await queue.getJobCounts('completed', 'delayed', 'waiting', 'active');
    return c.completed === 4 && c.delayed + c.waiting + c.active === 0;
  });
  assert.equal(ran.length, 4);
  assert.equal(new Set(ran.map((r) => r.id)).size, 4);
  assert.ok(ran.every((r) => r.id.startsWith('repeat:beat:') && r.data.k === 1), JSON.stringify(ran));
  const [after] = await queue.getJobSchedulers();
  assert.equal(after.iterationCount, 4);
});

test('a recurring job we create is listed by BullMQ and run by a BullMQ worker', async (t) => {
  const env = setup(t);
  const queue = env.bullQueue('our-sched');
  const cron = await env.coordinator.scheduleRecurringJob('our-sched', 'nightly', { n: 1 }, '0 3 * * *', {
    timezone: 'America/New_York',
  });
  await env.coordinator.scheduleRecurringJob('our-sched', 'pulse', { p: 1 }, { every: 100 }, { maxRuns: 3 });
  const schedulers = await queue.getJobSchedulers();
  const nightly = schedulers.find((s) => s.key === 'nightly');
  assert.equal(nightly.pattern, '0 3 * * *');
  assert.equal(nightly.tz, 'America/New_York');
  assert.equal(nightly.next, cron.nextRun.getTime());
  assert.deepEqual(nightly.template.data, { n: 1 });
  const pulse = schedulers.find((s) => s.key === 'pulse');
  assert.equal(pulse.every, 100);
  assert.equal(pulse.limit, 3);

  const ran = [];
  env.bullWorker('our-sched', async (job) => {
    ran.push(job.id);
  });
  await waitFor(async () => {
    const c = await queue.getJobCounts('completed', 'waiting', 'active');
    return c.completed === 3 && c.waiting + c.active === 0;
  });
  assert.equal(new Set(ran).size, 3);
  assert.ok(ran.every((id) => id.startsWith('repeat:pulse:')), ran.join());
  // the nightly iteration is still waiting for 03:00 New York time
  const delayed = await queue.getDelayed();
  assert.deepEqual(delayed.map((j) => j.id), [cron.jobId]);
});
