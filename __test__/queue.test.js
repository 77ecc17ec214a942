'use strict';
// The BullMQ-style Queue class (lib/queue.js) against a real Redis, and side by side with
// BullMQ 6 itself on the same queues: each sees the other's jobs, and their getters agree.

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const Redis = require('ioredis');
const bullmq = require('bullmq');
const { Queue, JobQueueCoordinator, ValidationError, ClosedError, ConnectionError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup, freePort } = require('./helpers');

/** A fresh prefix, and factories for our Queue, BullMQ's Queue and Worker, a coordinator
 * and a raw client on it; all closed and the prefix's keys deleted when the test ends. */
function setup(t) {
  const prefix = uniquePrefix('jqt-queue');
  const connection = { url: REDIS_URL };
  const bullConnection = { url: RAW_REDIS_URL }; // BullMQ's (on a cluster: the node of the test's keys)
  const closers = [];
  const env = {
    prefix,
    connection,
    queue(name, opts = {}) {
      const q = new Queue(name, { connection, prefix, ...opts });
      closers.push(() => q.close());
      return q;
    },
    bullQueue(name) {
      const q = new bullmq.Queue(name, { connection: bullConnection, prefix });
      closers.push(() => q.close());
      return q;
    },
    bullWorker(name, processor, opts = {}) {
      const w = new bullmq.Worker(name, processor, { connection: bullConnection, prefix, ...opts });
      closers.push(() => w.close(true));
      return w;
    },
    coordinator() {
      const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
      closers.push(() => c.shutdown({ timeoutMs: 2000 }));
      return c;
    },
    redis() {
      const r = new Redis(RAW_REDIS_URL);
      closers.push(async () => r.disconnect());
      return r;
    },
    /** Every key of the prefix, sorted. */
    async keys(r) {
      return (await r.keys(`${prefix}:*`)).sort();
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return env;
}

/** Runs `n` jobs of the queue to completion with a coordinator worker (processor `fn`). */
async function runJobs(env, name, fn = async (job) => ({ done: job.id })) {
  const c = env.coordinator();
  const w = await c.registerWorker(name, fn, { concurrency: 4 });
  return { c, w };
}

test('add and getJob: any JSON data, options and defaults; waiting event; BullMQ reads the jobs', async (t) => {
  const env = setup(t);
  const q = env.queue('adds', { defaultJobOptions: { attempts: 3 } });
  const bq = env.bullQueue('adds');
  const waiting = [];
  q.on('waiting', (job) => waiting.push(job.id));

  const obj = await q.add('obj', { a: 1 });
  const num = await q.add('num', 42, { priority: 5 });
  const str = await q.add('str', 'text', { delay: 60000 });
  const arr = await q.add('arr', [1, 'x'], { jobId: 'custom-1' });
  const nul = await q.add('nul', null);
  const undef = await q.add('undef');

  assert.deepEqual(waiting, [obj.id, num.id, str.id, 'custom-1', nul.id, undef.id]);
  assert.equal(obj.name, 'obj');
  assert.deepEqual(obj.data, { a: 1 });
  assert.equal(obj.opts.attempts, 3, 'queue defaults apply');
  assert.equal(num.opts.priority, 5);
  assert.equal(str.opts.delay, 60000);
  assert.ok(obj.timestamp > 0);

  for (const [id, data, name] of [
    [obj.id, { a: 1 }, 'obj'],
    [num.id, 42, 'num'],
    [str.id, 'text', 'str'],
    ['custom-1', [1, 'x'], 'arr'],
    [nul.id, null, 'nul'],
    [undef.id, {}, 'undef'],
  ]) {
    const ours = await q.getJob(id);
    assert.equal(ours.name, name);
    assert.deepEqual(ours.data, data, `our getJob(${id})`);
    const theirs = await bq.getJob(id);
    assert.deepEqual(theirs.data, data, `BullMQ getJob(${id})`);
    assert.equal(theirs.name, name);
  }
  assert.equal(await q.getJob('nope'), undefined);

  // a custom id that exists already gives back the stored job, not a new one
  const again = await q.add('other', { b: 2 }, { jobId: 'custom-1' });
  assert.equal(again.id, 'custom-1');
  assert.deepEqual(again.data, [1, 'x']);
  assert.equal(await q.count(), 6);
});

test('bad input is a ValidationError and writes nothing', async (t) => {
  const env = setup(t);
  const r = env.redis();
  const q = env.queue('bad');
  await q.waitUntilReady();
  const before = await env.keys(r);

  const cases = [
    () => q.add('x', {}, { jobId: '0' }),
    () => q.add('x', {}, { jobId: '0:abc' }),
    () => q.add(5, {}),
    () => q.add('x', { big: 1n }),
    () => q.add('x', {}, 'opts'),
    () => q.addBulk([{ name: 'ok', data: {} }, { name: 'bad', data: {}, opts: { jobId: '0' } }]),
    () => q.addBulk('nope'),
    () => q.getJobs(['waiting', 'bogus']),
    () => q.getJobCounts('meta'),
    () => q.clean(-1, 0, 'completed'),
    () => q.clean(0, 1.5, 'completed'),
    () => q.clean(0, 0, 'waiting-children'),
    () => q.retryJobs({ state: 'delayed' }),
    () => q.promoteJobs({ count: 0 }),
    () => q.getMetrics('active'),
    () => q.trimEvents(-1),
    () => q.upsertJobScheduler('', { every: 1000 }),
    () => q.upsertJobScheduler('s', { every: 1000, endDate: Date.now() - 1000 }),
    () => q.getJob(''),
  ];
  for (const [i, c] of cases.entries()) {
    await assert.rejects(c, (err) => err instanceof ValidationError && err.code === 'ERR_VALIDATION', `case ${i}`);
  }
  assert.throws(() => new Queue('a:b', { connection: env.connection }), ValidationError);
  assert.throws(() => new Queue('ok', { connection: env.connection, streams: { events: { maxLen: -1 } } }), ValidationError);
  assert.deepEqual(await env.keys(r), before, 'nothing was written');
});

test('addBulk adds all atomically; counts and lists agree with BullMQ by state and order', async (t) => {
  const env = setup(t);
  const q = env.queue('lists');
  const bq = env.bullQueue('lists');
  const jobs = await q.addBulk([
    { name: 'w1', data: { i: 1 } },
    { name: 'w2', data: { i: 2 } },
    { name: 'p1', data: { i: 3 }, opts: { priority: 2 } },
    { name: 'p2', data: { i: 4 }, opts: { priority: 1 } },
    { name: 'd1', data: { i: 5 }, opts: { delay: 60000 } },
    { name: 'd2', data: { i: 6 }, opts: { delay: 30000 } },
  ]);
  assert.deepEqual(jobs.map((j) => j.name), ['w1', 'w2', 'p1', 'p2', 'd1', 'd2']);
  // and BullMQ's jobs count the same
  await bq.add('w3', { i: 7 });

  const ours = await q.getJobCounts();
  assert.deepEqual(ours, await bq.getJobCounts());
  assert.deepEqual(ours, { active: 0, completed: 0, delayed: 2, failed: 0, prioritized: 2, waiting: 3, 'waiting-children': 0 });
  assert.deepEqual(await q.getJobCounts('waiting', 'delayed'), { waiting: 3, delayed: 2 });
  assert.equal(await q.getJobCountByTypes('waiting', 'prioritized'), 5);
  assert.equal(await q.count(), await bq.count());
  assert.equal(await q.count(), 7);
  assert.equal(await q.getWaitingCount(), 3);
  assert.equal(await q.getPrioritizedCount(), 2);
  assert.equal(await q.getDelayedCount(), 2);
  assert.equal(await q.getActiveCount(), 0);
  assert.equal(await q.getCompletedCount(), 0);
  assert.equal(await q.getFailedCount(), 0);

  const ids = (list) => list.map((j) => j.id);
  assert.deepEqual(ids(await q.getWaiting()), ids(await bq.getWaiting()));
  assert.deepEqual((await q.getWaiting()).map((j) => j.name), ['w1', 'w2', 'w3'], 'oldest first');
  assert.deepEqual((await q.getWaiting(0, 0)).map((j) => j.name), ['w1']);
  assert.deepEqual((await q.getPrioritized()).map((j) => j.name), ['p2', 'p1']);
  assert.deepEqual(ids(await q.getPrioritized()), ids(await bq.getPrioritized()));
  assert.deepEqual((await q.getDelayed()).map((j) => j.name), ['d2', 'd1'], 'soonest first');
  assert.deepEqual(ids(await q.getDelayed()), ids(await bq.getDelayed()));
  for (const [types, asc] of [
    [['waiting'], false],
    [['waiting', 'delayed'], true],
    ['prioritized', false],
    [undefined, false],
    [[], true],
  ]) {
    assert.deepEqual(ids(await q.getJobs(types, 0, -1, asc)), ids(await bq.getJobs(types, 0, -1, asc)), JSON.stringify({ types, asc }));
  }
  assert.deepEqual(ids(await q.getJobs(['waiting'], 1, 1, true)), ids(await bq.getJobs(['waiting'], 1, 1, true)));
});

test('BullMQ workers run jobs our Queue added; our getters see the results', async (t) => {
  const env = setup(t);
  const q = env.queue('to-bull');
  const bq = env.bullQueue('to-bull');
  await q.addBulk([
    { name: 'ok', data: { n: 1 } },
    { name: 'ok', data: { n: 2 } },
    { name: 'boom', data: { n: 3 } },
  ]);
  env.bullWorker('to-bull', async (job) => {
    if (job.name === 'boom') throw new Error('bad luck');
    return { twice: job.data.n * 2 };
  });
  await waitFor(async () => (await q.getCompletedCount()) === 2 && (await q.getFailedCount()) === 1);
  assert.deepEqual(await q.getJobCounts(), await bq.getJobCounts());
  const completed = await q.getCompleted();
  assert.deepEqual(completed.map((j) => j.returnvalue.twice).sort(), [2, 4]);
  const [failed] = await q.getFailed();
  assert.equal(failed.failedReason, 'bad luck');
  assert.deepEqual((await bq.getFailed()).map((j) => j.id), [failed.id]);
});

test('our workers run jobs BullMQ added; counts agree throughout', async (t) => {
  const env = setup(t);
  const q = env.queue('from-bull');
  const bq = env.bullQueue('from-bull');
  await bq.addBulk([1, 2, 3, 4].map((n) => ({ name: 'n', data: { n } })));
  assert.deepEqual(await q.getJobCounts(), await bq.getJobCounts());
  assert.deepEqual((await q.getWaiting()).map((j) => j.data.n), [1, 2, 3, 4]);
  await runJobs(env, 'from-bull', async (job) => job.data.n + 1);
  await waitFor(async () => (await q.getCompletedCount()) === 4);
  assert.deepEqual(await q.getJobCounts(), await bq.getJobCounts());
  const values = (await q.getCompleted()).map((j) => j.returnvalue).sort();
  assert.deepEqual(values, [2, 3, 4, 5]);
});

test('pause, resume and isPaused act for BullMQ too, with events', async (t) => {
  const env = setup(t);
  const q = env.queue('pausing');
  const bq = env.bullQueue('pausing');
  const events = [];
  q.on('paused', () => events.push('paused'));
  q.on('resumed', () => events.push('resumed'));
  await q.pause();
  assert.equal(await q.isPaused(), true);
  assert.equal(await bq.isPaused(), true);
  await q.add('held', {});
  let ran = 0;
  const w = env.bullWorker('pausing', async () => {
    ran++;
  });
  await w.waitUntilReady();
  // the job stays waiting while paused: BullMQ's worker does not take it
  assert.equal(await q.getWaitingCount(), 1);
  await q.resume();
  assert.equal(await q.isPaused(), false);
  await waitFor(async () => (await q.getCompletedCount()) === 1);
  assert.equal(ran, 1);
  await bq.pause();
  assert.equal(await q.isPaused(), true);
  assert.deepEqual(events, ['paused', 'resumed']);
});

test('drain removes jobs not started, delayed ones only when asked; schedulers keep their next job', async (t) => {
  const env = setup(t);
  const q = env.queue('draining');
  const bq = env.bullQueue('draining');
  await q.addBulk([
    { name: 'w', data: {} },
    { name: 'w', data: {} },
    { name: 'p', data: {}, opts: { priority: 3 } },
    { name: 'd', data: {}, opts: { delay: 60000 } },
  ]);
  const next = await q.upsertJobScheduler('tick', { every: 3600000 }, { name: 'tick' });
  const waitingScheduled = await q.getJob(next.id);
  assert.ok(waitingScheduled, 'the scheduler has a next job');

  await q.drain();
  let counts = await q.getJobCounts('waiting', 'prioritized', 'delayed');
  const schedulerInWait = (await q.getWaiting()).map((j) => j.id);
  const schedulerInDelayed = (await q.getDelayed()).map((j) => j.id).filter((id) => id === next.id);
  assert.equal(counts.prioritized, 0);
  assert.deepEqual(
    schedulerInWait.filter((id) => id !== next.id),
    [],
    'only the scheduler job may stay waiting',
  );
  assert.equal(counts.delayed, 1 + schedulerInDelayed.length, 'delayed jobs stay');
  assert.ok(await q.getJob(next.id), 'scheduler job kept');

  await q.drain(true);
  counts = await q.getJobCounts('waiting', 'prioritized', 'delayed');
  assert.equal(counts.waiting + counts.prioritized + counts.delayed, 1, 'only the scheduler job is left');
  assert.ok(await q.getJob(next.id));
  assert.deepEqual(await q.getJobCounts(), await bq.getJobCounts());
});

test('drain goes through more jobs than one engine call handles', async (t) => {
  const env = setup(t);
  const q = env.queue('big-drain');
  const jobs = Array.from({ length: 2500 }, (_, i) => ({ name: 'j', data: { i } }));
  await q.addBulk(jobs);
  assert.equal(await q.getWaitingCount(), 2500);
  await q.drain();
  assert.equal(await q.getWaitingCount(), 0);
  const r = env.redis();
  assert.equal((await r.keys(`${env.prefix}:big-drain:[0-9]*`)).length, 0, 'job hashes deleted');
});

test('clean removes jobs older than grace, up to limit, returns ids and emits cleaned', async (t) => {
  const env = setup(t);
  const q = env.queue('cleaning');
  const r = env.redis();
  const added = await q.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'c', data: { i } })));
  await runJobs(env, 'cleaning');
  await waitFor(async () => (await q.getCompletedCount()) === 5);

  // three jobs finished an hour ago
  const old = Date.now() - 3600_000;
  const oldIds = added.slice(0, 3).map((j) => j.id);
  for (const id of oldIds) {
    await r.zadd(`${env.prefix}:cleaning:completed`, old, id);
    await r.hset(`${env.prefix}:cleaning:${id}`, 'finishedOn', old);
  }
  const cleaned = [];
  q.on('cleaned', (ids, type) => cleaned.push([ids, type]));

  assert.deepEqual(await q.clean(7200_000, 0), [], 'nothing is two hours old');
  const first = await q.clean(60_000, 2, 'completed');
  assert.equal(first.length, 2, 'limit');
  const rest = await q.clean(60_000, 0, 'completed');
  assert.deepEqual([...first, ...rest].sort(), [...oldIds].sort());
  assert.equal(await q.getCompletedCount(), 2);
  for (const id of oldIds) assert.equal(await q.getJob(id), undefined);
  assert.deepEqual(cleaned.map(([ids, type]) => [ids.length, type]), [[0, 'completed'], [2, 'completed'], [1, 'completed']]);
  const events = await r.xrange(`${env.prefix}:cleaning:events`, '-', '+');
  const counts = events.filter(([, f]) => f[1] === 'cleaned').map(([, f]) => f[3]);
  assert.deepEqual(counts.slice(-3), ['0', '2', '1'], 'one cleaned event per batch, with the count');

  // waiting jobs by their added time: `waiting` is wait's BullMQ name
  await q.pause();
  await q.addBulk([{ name: 'w', data: {} }, { name: 'w', data: {} }]);
  assert.deepEqual(await q.clean(60_000, 0, 'waiting'), []);
  const gone = await q.clean(0, 0, 'wait');
  assert.equal(gone.length, 2);
  assert.equal(await q.getWaitingCount(), 0);
  assert.deepEqual(cleaned.at(-1), [gone, 'wait']);
});

test('clean leaves an active job whose lock is held', async (t) => {
  const env = setup(t);
  const q = env.queue('clean-active');
  await q.add('slow', {});
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  await runJobs(env, 'clean-active', () => held);
  await waitFor(async () => (await q.getActiveCount()) === 1);
  assert.deepEqual(await q.clean(0, 0, 'active'), []);
  assert.equal(await q.getActiveCount(), 1);
  release();
  await waitFor(async () => (await q.getCompletedCount()) === 1);
});

test('remove deletes a job that is not running and emits removed', async (t) => {
  const env = setup(t);
  const q = env.queue('removing');
  const bq = env.bullQueue('removing');
  const removed = [];
  q.on('removed', (id) => removed.push(id));
  const job = await q.add('r', {});
  assert.equal(await q.remove(job.id), 1);
  assert.equal(await q.getJob(job.id), undefined);
  assert.equal(await bq.getJob(job.id), undefined);
  // as BullMQ's Queue.remove (and BullMQ's Queue here): a job already gone counts as removed
  assert.equal(await q.remove(job.id), 1, 'already gone');
  assert.equal(await bq.remove(job.id), 1, "BullMQ's answer for a job already gone");
  assert.deepEqual(removed, [job.id, job.id]);
  assert.equal(await q.getWaitingCount(), 0);
});

test('retryJobs moves failed (or completed) jobs back to wait in batches of count', async (t) => {
  const env = setup(t);
  const q = env.queue('retrying');
  const bq = env.bullQueue('retrying');
  await q.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: i < 3 ? 'fail' : 'ok', data: { i } })));
  const { w } = await runJobs(env, 'retrying', async (job) => {
    if (job.name === 'fail') throw new Error('nope');
    return 'fine';
  });
  await waitFor(async () => (await q.getFailedCount()) === 3 && (await q.getCompletedCount()) === 2);
  w.pause();
  await q.pause();

  // finished later than this timestamp: not retried
  await q.retryJobs({ timestamp: 1 });
  assert.equal(await q.getFailedCount(), 3);

  await q.retryJobs({ count: 2 });
  assert.deepEqual(await q.getJobCounts('failed', 'waiting'), { failed: 0, waiting: 3 });
  const job = (await q.getWaiting())[0];
  assert.equal(job.failedReason, undefined, 'failure cleared');
  assert.equal(job.finishedOn, undefined);

  await q.retryJobs({ state: 'completed' });
  assert.deepEqual(await q.getJobCounts('completed', 'waiting'), { completed: 0, waiting: 5 });
  assert.deepEqual(await q.getJobCounts(), await bq.getJobCounts());
});

test('promoteJobs makes every delayed job runnable, count per call', async (t) => {
  const env = setup(t);
  const q = env.queue('promoting');
  await q.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'd', data: { i }, opts: { delay: 600_000 + i } })));
  await q.add('prio', {}, { delay: 600_000, priority: 4 });
  assert.equal(await q.getDelayedCount(), 6);
  const events = [];
  await q.promoteJobs({ count: 2 });
  assert.deepEqual(await q.getJobCounts('delayed', 'waiting', 'prioritized'), { delayed: 0, waiting: 5, prioritized: 1 });
  const [first] = await q.getWaiting(0, 0);
  assert.equal(first.delay, 0);
  // BullMQ's workers run promoted jobs
  env.bullWorker('promoting', async (job) => events.push(job.name));
  await waitFor(async () => (await q.getCompletedCount()) === 6);
  assert.equal(events.length, 6);
});

test('job schedulers: upsert returns the next job, BullMQ lists it, remove deletes it', async (t) => {
  const env = setup(t);
  const q = env.queue('scheduling');
  const bq = env.bullQueue('scheduling');
  const job = await q.upsertJobScheduler('hourly', { every: 3600_000 }, { name: 'tick', data: { n: 1 }, opts: { attempts: 2 } });
  assert.equal(job.name, 'tick');
  assert.deepEqual(job.data, { n: 1 });
  assert.equal(job.repeatJobKey, 'hourly');
  await q.upsertJobScheduler('nightly', { pattern: '0 3 * * *', tz: 'UTC' });

  const ours = await q.getJobSchedulers(0, -1, true);
  assert.deepEqual(ours.map((s) => s.key), ['hourly', 'nightly']);
  assert.equal(ours[0].every, 3600_000);
  assert.equal(ours[0].name, 'tick');
  assert.deepEqual(ours[0].template.data, { n: 1 });
  assert.equal(ours[1].pattern, '0 3 * * *');
  assert.equal(ours[1].name, 'nightly', 'name defaults to the id');
  const theirs = await bq.getJobSchedulers(0, -1, true);
  assert.deepEqual(theirs.map((s) => [s.key, s.name, s.next]), ours.map((s) => [s.key, s.name, s.next]));
  assert.deepEqual((await q.getJobSchedulers()).map((s) => s.key), ['nightly', 'hourly'], 'latest first by default');
  assert.deepEqual((await q.getJobSchedulers(0, 0, true)).map((s) => s.key), ['hourly']);
  assert.equal((await q.getJobScheduler('nightly')).pattern, '0 3 * * *');
  assert.equal(await q.getJobSchedulersCount(), 2);

  // upsert again updates the one scheduler
  await q.upsertJobScheduler('hourly', { every: 7200_000 }, { name: 'tick' });
  assert.equal((await q.getJobScheduler('hourly')).every, 7200_000);
  assert.equal(await q.getJobSchedulersCount(), 2);

  assert.equal(await q.removeJobScheduler('hourly'), true);
  assert.equal(await q.removeJobScheduler('hourly'), false);
  assert.deepEqual((await bq.getJobSchedulers()).map((s) => s.key), ['nightly']);
});

test('getWorkers lists the connections of BullMQ workers and ours on the queue', async (t) => {
  const env = setup(t);
  const q = env.queue('workers');
  assert.deepEqual(await q.getWorkers(), []);
  const bw = env.bullWorker('workers', async () => {}, { name: 'bull-one' });
  await bw.waitUntilReady();
  await runJobs(env, 'workers');
  const bq = env.bullQueue('workers');
  await waitFor(async () => (await q.getWorkersCount()) >= 2);
  const workers = await q.getWorkers();
  assert.ok(workers.every((w) => w.name === 'workers'));
  assert.ok(workers.some((w) => w.rawname.endsWith(':w:bull-one')));
  assert.ok(workers.every((w) => typeof w.addr === 'string' && w.id));
  assert.equal(workers.length, (await bq.getWorkers()).length);
});

test('getMetrics reads the per-minute series our workers write, as BullMQ does', async (t) => {
  const env = setup(t);
  const q = env.queue('metrics');
  const bq = env.bullQueue('metrics');
  await q.addBulk(Array.from({ length: 4 }, (_, i) => ({ name: i === 0 ? 'fail' : 'ok', data: {} })));
  await runJobs(env, 'metrics', async (job) => {
    if (job.name === 'fail') throw new Error('x');
  });
  await waitFor(async () => (await q.getMetrics('completed')).meta.count === 3 && (await q.getMetrics('failed')).meta.count === 1, {
    message: 'metrics counted',
  });
  for (const type of ['completed', 'failed']) {
    const ours = await q.getMetrics(type);
    assert.deepEqual(ours, await bq.getMetrics(type));
    assert.equal(ours.count, ours.data.length);
  }
});

test('trimEvents trims the events stream; streams.events.maxLen is declared in meta', async (t) => {
  const env = setup(t);
  const r = env.redis();
  const q = env.queue('events', { streams: { events: { maxLen: 500 } } });
  await q.waitUntilReady();
  assert.equal(await r.hget(`${env.prefix}:events:meta`, 'opts.maxLenEvents'), '500');
  await q.addBulk(Array.from({ length: 300 }, () => ({ name: 'e', data: {} })));
  const key = `${env.prefix}:events:events`;
  const before = await r.xlen(key);
  assert.ok(before >= 300);
  const removed = await q.trimEvents(0);
  const after = await r.xlen(key);
  assert.ok(removed > 0, 'entries removed');
  assert.equal(before - after, removed);
  assert.ok(after < 200, `about zero left (approximate trimming), got ${after}`);
});

test('obliterate pauses, refuses with active jobs unless forced, and deletes every key', async (t) => {
  const env = setup(t);
  const r = env.redis();
  const q = env.queue('doomed');
  await q.addBulk([{ name: 'a', data: {} }, { name: 'b', data: {}, opts: { delay: 60000 } }]);
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const { c } = await runJobs(env, 'doomed', () => held);
  await waitFor(async () => (await q.getActiveCount()) === 1);
  await assert.rejects(q.obliterate(), ValidationError);
  assert.ok((await r.keys(`${env.prefix}:doomed:*`)).length > 0, 'nothing deleted');
  await q.obliterate({ force: true });
  release();
  await c.shutdown({ timeoutMs: 2000 });
  const left = (await r.keys(`${env.prefix}:doomed:*`)).filter((k) => !/:(metrics:|events|meta|marker|stalled|limiter|[0-9]+:lock)/.test(k));
  assert.deepEqual(left, [], 'job and state keys are gone');
  assert.deepEqual(await q.getJobCounts('waiting', 'delayed'), { waiting: 0, delayed: 0 });

  const q2 = env.queue('doomed-too');
  await q2.add('x', {});
  await q2.obliterate();
  assert.deepEqual(await r.keys(`${env.prefix}:doomed-too:*`), []);
});

test('queue handle: name, prefix and native(); close releases and later calls reject', async (t) => {
  const env = setup(t);
  const q = env.queue('handle');
  assert.equal(q.name, 'handle');
  assert.equal(q.prefix, env.prefix);
  assert.equal(q.toKey('wait'), `${env.prefix}:handle:wait`);
  const native = await q.native();
  assert.equal(native, await q.waitUntilReady());
  const job = await q.add('x', { v: 1 });
  assert.ok(JSON.parse(await native.getJob('handle', job.id)).data.v === 1);
  await q.close();
  await q.close();
  await assert.rejects(q.add('y', {}), ClosedError);
  await assert.rejects(q.getJobCounts(), ClosedError);
});

test('a connection that fails is emitted as error and rejects calls', async (t) => {
  const port = await freePort();
  const q = new Queue('nowhere', { connection: { host: '127.0.0.1', port } });
  t.after(() => q.close());
  const errored = once(q, 'error');
  const [err] = await errored;
  assert.ok(err instanceof ConnectionError, String(err));
  await assert.rejects(q.waitUntilReady(), ConnectionError);
  await assert.rejects(q.add('x', {}), ConnectionError);
});
