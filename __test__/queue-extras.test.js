'use strict';
// The Queue methods BullMQ 6 has beyond the basics (getCountsPerPriority, getQueueEvents,
// removeOrphanedJobs, exportPrometheusMetrics), the legacy paused list on resume, and what a
// worker does with jobs given back or failed with a backoff — each checked against real
// Redis and, where both can read the same queue, against BullMQ's own classes.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const bullmq = require('bullmq');
const { Queue, Worker, QueueEvents, ValidationError, RateLimitError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-qextras');
  const connection = { url: REDIS_URL };
  const closers = [];
  const redis = new Redis(RAW_REDIS_URL);
  const env = {
    prefix,
    redis,
    queue(name, opts = {}) {
      const q = new Queue(name, { prefix, connection, ...opts });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    queueEvents(name) {
      const qe = new QueueEvents(name, { prefix, connection });
      closers.push(() => qe.close());
      return qe;
    },
    bullQueue(name) {
      const q = new bullmq.Queue(name, { prefix, connection: new Redis(RAW_REDIS_URL, { maxRetriesPerRequest: null }) });
      closers.push(async () => {
        await q.close();
        q.opts.connection.disconnect();
      });
      return q;
    },
    bullQueueEvents(name) {
      const qe = new bullmq.QueueEvents(name, { prefix, connection: { url: RAW_REDIS_URL } });
      closers.push(() => qe.close());
      return qe;
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await cleanup(REDIS_URL, prefix);
    redis.disconnect();
  });
  return env;
}

test('getCountsPerPriority counts wait for 0 and each priority, paused or not, as BullMQ', async (t) => {
  const env = setup(t);
  const queue = env.queue('per-priority');
  await queue.addBulk(Array.from({ length: 42 }, (_, i) => ({ name: 'j', data: {}, opts: { priority: i % 4 } })));
  const expected = { 0: 11, 1: 11, 2: 10, 3: 10, 7: 0 };
  assert.deepEqual(await queue.getCountsPerPriority([0, 1, 2, 3, 7, 1]), expected);
  await queue.pause();
  await queue.add('j', {});
  const paused = await queue.getCountsPerPriority([0, 1, 2, 3, 7]);
  assert.deepEqual(paused, { ...expected, 0: 12 }, "a paused queue's jobs stay in wait and count");
  const bull = env.bullQueue('per-priority');
  assert.deepEqual(await bull.getCountsPerPriority([0, 1, 2, 3, 7]), paused, "BullMQ's answer on the same queue");

  for (const bad of [[-1], [1.5], ['1'], [2_097_152]]) {
    await assert.rejects(queue.getCountsPerPriority(bad), ValidationError, JSON.stringify(bad));
  }
  await assert.rejects(queue.getCountsPerPriority(3), ValidationError);
});

test('getQueueEvents lists the QueueEvents of the queue, ours and BullMQ’s, for both Queues', async (t) => {
  const env = setup(t);
  const queue = env.queue('listeners');
  const bull = env.bullQueue('listeners');
  env.queue('other'); // a queue of the same prefix whose listeners must not show
  assert.deepEqual(await queue.getQueueEvents(), []);
  const ours = env.queueEvents('listeners');
  await ours.waitUntilReady();
  const elsewhere = env.queueEvents('other');
  await elsewhere.waitUntilReady();
  await waitFor(async () => (await bull.getQueueEvents()).length === 1, { message: "BullMQ's Queue lists our QueueEvents" });
  const theirs = env.bullQueueEvents('listeners');
  await theirs.waitUntilReady();
  const listed = await waitFor(async () => {
    const l = await queue.getQueueEvents();
    return l.length === 2 && l;
  });
  for (const client of listed) {
    assert.equal(client.name, 'listeners');
    assert.equal(client.rawname, `${env.prefix}:${Buffer.from('listeners').toString('base64')}:qe`);
    assert.ok(client.addr && client.age !== undefined);
  }
  assert.equal((await queue.getWorkers()).length, 0, 'listeners are not workers');
  await ours.close();
  await waitFor(async () => (await queue.getQueueEvents()).length === 1, { message: 'a closed QueueEvents leaves the list' });
});

test('removeOrphanedJobs deletes job keys no state references and nothing else', async (t) => {
  const env = setup(t);
  const queue = env.queue('orphans');
  const base = `${env.prefix}:orphans:`;
  const waiting = await queue.add('w', {});
  const delayed = await queue.add('d', {}, { delay: 60_000 });
  const prioritized = await queue.add('p', {}, { priority: 3 });
  const done = await queue.add('c', {}, { attempts: 1 });
  const worker = env.worker('orphans', async (job) => {
    if (job.id === done.id) return 'ok';
    throw new Error('not this one');
  });
  await waitFor(async () => (await queue.getCompletedCount()) === 1);
  await worker.close();
  await queue.retryJobs({ state: 'failed' });
  // orphans: hashes, a job known only by its sub-keys, one owning a deduplication key
  const orphanIds = ['9990', '9991', 'orphan-custom'];
  for (const id of orphanIds) await env.redis.hset(`${base}${id}`, 'name', 'orphan', 'data', '{}');
  await env.redis.set(`${base}9991:logs`, 'x');
  await env.redis.set(`${base}5555:lock`, 'x');
  await env.redis.hset(`${base}9992`, 'name', 'orphan', 'deid', 'dd');
  await env.redis.set(`${base}de:dd`, '9992');
  await env.redis.set(`${base}repeat:some-scheduler`, 'x');

  assert.equal(await queue.removeOrphanedJobs(1000, 2), 2, 'the limit stops it');
  assert.equal(await queue.removeOrphanedJobs(5), 3, 'a small SCAN count still finds the rest');
  assert.equal(await queue.removeOrphanedJobs(), 0);
  for (const id of [...orphanIds, '9991:logs', '5555:lock', '9992', 'de:dd']) {
    assert.equal(await env.redis.exists(`${base}${id}`), 0, id);
  }
  assert.equal(await env.redis.exists(`${base}repeat:some-scheduler`), 1);
  for (const job of [waiting, delayed, prioritized, done]) assert.ok(await queue.getJob(job.id), job.name);
  assert.deepEqual(await queue.getJobCounts('completed', 'delayed', 'prioritized'), { completed: 1, delayed: 1, prioritized: 1 });

  await assert.rejects(queue.removeOrphanedJobs(0), ValidationError);
  await assert.rejects(queue.removeOrphanedJobs(10, -1), ValidationError);
  await assert.rejects(queue.removeOrphanedJobs('10'), ValidationError);
});

test('exportPrometheusMetrics writes what BullMQ writes for the same queue, with global labels', async (t) => {
  const env = setup(t);
  const name = 'prom "q"\\x';
  const queue = env.queue(name);
  await queue.addBulk([{ name: 'a', data: {} }, { name: 'b', data: {} }, { name: 'c', data: {}, opts: { delay: 60_000 } }]);
  const worker = env.worker(name, async (job) => {
    if (job.name === 'b') throw new Error('no');
  });
  await waitFor(async () => (await queue.getCompletedCount()) === 1 && (await queue.getFailedCount()) === 1);
  await waitFor(async () => (await queue.getMetrics('failed')).meta.count === 1, { message: 'the worker flushed its metrics' });
  await worker.close();

  const text = await queue.exportPrometheusMetrics({ env: 'prod "eu"', shard: 2 });
  const bull = env.bullQueue(name);
  assert.equal(text, await bull.exportPrometheusMetrics({ env: 'prod "eu"', shard: '2' }));
  const q = 'prom \\"q\\"\\\\x';
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 2), ['# HELP bullmq_job_count Number of jobs in the queue by state', '# TYPE bullmq_job_count gauge']);
  assert.ok(lines.includes(`bullmq_job_count{queue="${q}", state="completed", env="prod \\"eu\\"", shard="2"} 1`), text);
  assert.ok(lines.includes(`bullmq_job_count{queue="${q}", state="delayed", env="prod \\"eu\\"", shard="2"} 1`), text);
  assert.ok(lines.includes(`bullmq_job_completed_total{queue="${q}", env="prod \\"eu\\"", shard="2"} 1`), text);
  assert.ok(lines.includes(`bullmq_job_failed_total{queue="${q}", env="prod \\"eu\\"", shard="2"} 1`), text);
  assert.equal(await queue.exportPrometheusMetrics(), await bull.exportPrometheusMetrics());

  for (const bad of [{ 'bad-name': 'x' }, { queue: 'x' }, { __x: 'y' }, { env: {} }, 'env']) {
    await assert.rejects(queue.exportPrometheusMetrics(bad), ValidationError, JSON.stringify(bad));
  }
});

test('resume moves a legacy paused list into wait in its order; workers then run it oldest first', async (t) => {
  const env = setup(t);
  const queue = env.queue('legacy');
  const events = env.queueEvents('legacy');
  await events.waitUntilReady();
  let resumed = 0;
  events.on('resumed', () => resumed++);
  // as BullMQ 5 left a paused queue: jobs in `paused`, the oldest at the right
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const job = await queue.add('j', { i });
    ids.push(job.id);
  }
  await env.redis.rename(`${env.prefix}:legacy:wait`, `${env.prefix}:legacy:paused`);
  assert.equal(await queue.getJobState(ids[0]), 'waiting');
  await queue.resume();
  assert.equal(await env.redis.exists(`${env.prefix}:legacy:paused`), 0);
  assert.deepEqual(await queue.getJobCounts('waiting', 'paused'), { waiting: 3, paused: 0 });
  const ran = [];
  env.worker('legacy', async (job) => {
    ran.push(job.id);
  });
  await waitFor(() => ran.length === 3);
  assert.deepEqual(ran, ids);
  await waitFor(() => resumed === 1, { message: 'one resumed event' });
});

test('a job given back by RateLimitError goes ahead of its priority, not ahead of every job', async (t) => {
  const env = setup(t);
  const queue = env.queue('given-back');
  const jobs = await queue.addBulk([1, 2, 3, 4].map((i) => ({ name: `${i}`, data: {}, opts: { priority: 10 } })));
  await queue.add('urgent', {}, { priority: 1 });
  let worker;
  const tried = [];
  worker = env.worker('given-back', async (job) => {
    tried.push(job.name);
    if (job.name === 'urgent') return;
    await worker.rateLimit(60_000);
    throw new RateLimitError();
  }, { limiter: { max: 2, duration: 60_000 } });
  // the urgent job runs, then job 1 is taken and given back: ahead of the other jobs of
  // priority 10 (BullMQ's order), not behind them nor in wait ahead of any priority
  await waitFor(async () => tried.length === 2 && (await queue.getJobState(jobs[0].id)) === 'prioritized');
  assert.deepEqual(tried, ['urgent', '1']);
  const order = (await queue.getJobs(['prioritized'], 0, -1, true)).map((j) => j.name);
  assert.deepEqual(order, ['1', '2', '3', '4']);
  assert.equal(await queue.getWaitingCount(), 0);
  assert.equal((await queue.getJob(jobs[0].id)).attemptsMade, 0, 'no attempt counted');
});

test("the 'failed' event's job carries the backoff delay of its retry, as BullMQ's", async (t) => {
  const env = setup(t);
  const queue = env.queue('backoff');
  await queue.add('j', {}, { attempts: 2, backoff: { type: 'fixed', delay: 60_000 } });
  const worker = env.worker('backoff', async () => {
    throw new Error('boom');
  });
  const [job, err] = await new Promise((resolve) => worker.once('failed', (...args) => resolve(args)));
  assert.equal(err.message, 'boom');
  assert.equal(job.attemptsMade, 1);
  assert.equal(job.delay, 60_000);
  assert.equal((await queue.getJob(job.id)).delay, 60_000, 'as stored');
});

test('getJobs fills a page in place of jobs whose hash is gone, as BullMQ', async (t) => {
  const env = setup(t);
  const queue = env.queue('backfill');
  const jobs = [];
  for (let i = 1; i <= 6; i++) jobs.push(await queue.add('j', { i }));
  await env.redis.del(`${env.prefix}:backfill:${jobs[1].id}`, `${env.prefix}:backfill:${jobs[2].id}`);
  const page = await queue.getJobs(['waiting'], 0, 2, true);
  assert.deepEqual(page.map((j) => j.data.i), [1, 4, 5]);
  const bull = env.bullQueue('backfill');
  for (const [start, end, asc] of [[0, 2, true], [1, 3, true], [0, 1, false], [0, -1, true], [4, 9, true]]) {
    const ours = (await queue.getJobs(['waiting'], start, end, asc)).map((j) => j.id);
    const theirs = (await bull.getJobs(['waiting'], start, end, asc)).map((j) => j.id);
    assert.deepEqual(ours, theirs, `${start}..${end} ${asc ? 'asc' : 'desc'}`);
  }
});
