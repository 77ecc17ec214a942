'use strict';
// BullMQ 6's manual processing on our Worker and Job: a worker without a processor runs
// nothing, `getNextJob(token)` takes jobs locked with the caller's token, and the Job's
// `moveToCompleted` / `moveToFailed` / `moveToWait` settle them as a running worker would,
// refusing (and writing nothing) when the token does not hold the job. Against the real Redis,
// with BullMQ's own classes on the same queues where it matters.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const bullmq = require('bullmq');
const { Queue, Worker, Job, QueueEvents, UnrecoverableError, LockError, JobStateError, ValidationError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-manual');
  const connection = { url: REDIS_URL };
  const bullConnection = { url: RAW_REDIS_URL };
  const closers = [];
  const redis = new Redis(RAW_REDIS_URL);
  let n = 0;
  const env = {
    prefix,
    redis,
    /** A queue name of this test's own. */
    name: () => `manual-${++n}`,
    queue(name, opts = {}) {
      const q = new Queue(name, { prefix, connection, ...opts });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor = null, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    async events(name) {
      const qe = new QueueEvents(name, { prefix, connection });
      closers.push(() => qe.close());
      await qe.waitUntilReady();
      return qe;
    },
    bullQueue(name) {
      const q = new bullmq.Queue(name, { prefix, connection: bullConnection });
      closers.push(() => q.close());
      return q;
    },
    bullWorker(name, processor, opts = {}) {
      const w = new bullmq.Worker(name, processor, { prefix, connection: bullConnection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close());
      return w;
    },
    key: (name, suffix) => `${prefix}:${name}:${suffix}`,
    /** Every key of the queue with its type and whole content: equal snapshots mean nothing
     * was written in between. */
    async snapshot(name) {
      const keys = (await redis.keys(`${prefix}:${name}:*`)).sort();
      const out = [];
      for (const key of keys) {
        const type = await redis.type(key);
        let content;
        if (type === 'string') content = await redis.get(key);
        else if (type === 'hash') content = Object.entries(await redis.hgetall(key)).sort();
        else if (type === 'list') content = await redis.lrange(key, 0, -1);
        else if (type === 'set') content = (await redis.smembers(key)).sort();
        else if (type === 'zset') content = await redis.zrange(key, 0, -1, 'WITHSCORES');
        else if (type === 'stream') content = await redis.xrange(key, '-', '+');
        out.push([key, type, content, (await redis.pttl(key)) > 0]);
      }
      return out;
    },
    /** Whether the named worker connection of `workerName` is blocked waiting for a job. */
    async blocked(workerName) {
      const list = await redis.client('LIST');
      return list.split('\n').some((l) => l.includes(`:w:${workerName} `) && l.includes('cmd=bzpopmin'));
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
    redis.disconnect();
  });
  return env;
}

test('a worker without a processor runs nothing; getNextJob takes a job locked with the caller\'s token', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name, undefined);
  await worker.waitUntilReady();
  await assert.rejects(worker.run(), /No process function/);
  const added = await queue.add('email', { to: 'a@b' });
  const active = [];
  worker.on('active', (job, prev) => active.push([job.id, prev]));

  const job = await worker.getNextJob('my-token');
  assert.equal(job.id, added.id);
  assert.equal(job.token, 'my-token');
  assert.deepEqual(job.data, { to: 'a@b' });
  assert.equal(job.attemptsStarted, 1, 'nobody ran it before');
  assert.equal(await job.getState(), 'active');
  assert.equal(await env.redis.get(env.key(name, `${job.id}:lock`)), 'my-token');
  assert.deepEqual(active, [[job.id, 'waiting']]);
});

test('moveToCompleted settles as a worker does: state, fields, return value, events', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const events = await env.events(name);
  const worker = env.worker(name);
  await queue.add('a', { n: 1 });
  const completed = new Promise((resolve) => events.on('completed', resolve));

  const job = await worker.getNextJob('tok');
  const result = await job.moveToCompleted({ ok: true }, 'tok', false);
  assert.deepEqual(result, []);
  assert.equal(await job.getState(), 'completed');
  assert.deepEqual(job.returnvalue, { ok: true });
  assert.equal(job.attemptsMade, 1);
  assert.equal(typeof job.finishedOn, 'number');
  assert.deepEqual((await completed).returnvalue, { ok: true });
  assert.equal(await env.redis.exists(env.key(name, `${job.id}:lock`)), 0);
  const stored = await queue.getJob(job.id);
  assert.equal(stored.finishedOn, job.finishedOn);
  assert.deepEqual(stored.returnvalue, { ok: true });
});

test('a manual loop: moveToCompleted with fetchNext hands back BullMQ\'s [jobData, jobId, ...] for Job.fromJSON(worker, ...)', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await queue.add('step', { i }, { attempts: 2 })).id);

  const seen = [];
  let job = await worker.getNextJob('loop');
  for (;;) {
    seen.push([job.id, job.data.i, job.opts.attempts]);
    const [jobData, jobId, limitUntil, delayUntil] = await job.moveToCompleted(`done ${job.id}`, 'loop');
    if (!jobData) {
      assert.equal(jobId, undefined, 'nothing left: BullMQ answers []');
      break;
    }
    assert.equal(typeof jobData.data, 'string', 'BullMQ\'s JobJson: data as JSON text');
    assert.equal(limitUntil, 0);
    assert.equal(delayUntil, 0);
    assert.equal(await env.redis.get(env.key(name, `${jobId}:lock`)), 'loop', 'taken under the same token');
    job = Job.fromJSON(worker, jobData, jobId);
  }
  assert.deepEqual(seen, ids.map((id, i) => [id, i, 2]));
  assert.deepEqual(await queue.getJobCounts('completed', 'active', 'wait'), { completed: 3, active: 0, wait: 0 });
});

test('a wrong token, a job not active or a bad argument is refused with a typed error and nothing is written', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name);
  await queue.add('held', {}, { attempts: 3 });
  const waiting = await queue.add('waiting', {});
  const job = await worker.getNextJob('owner');
  const before = await env.snapshot(name);

  for (const attempt of [
    () => job.moveToCompleted('x', 'thief'),
    () => job.moveToFailed(new Error('x'), 'thief', true),
    () => job.moveToWait('thief'),
  ]) {
    const err = await attempt().then(() => null, (e) => e);
    assert.ok(err instanceof LockError, String(err));
    assert.equal(err.code, 'ERR_LOCK_MISMATCH');
  }
  // a waiting job holds no lock; with BullMQ's lockless token '0' it is still not active
  const fromQueue = await queue.getJob(waiting.id);
  await assert.rejects(fromQueue.moveToCompleted('x', 'owner'), (e) => e instanceof LockError && e.code === 'ERR_LOCK_MISSING');
  await assert.rejects(fromQueue.moveToFailed(new Error('x'), '0'), (e) => e instanceof JobStateError && e.code === 'ERR_JOB_NOT_IN_STATE');
  await assert.rejects(job.moveToCompleted('x', ''), ValidationError);
  await assert.rejects(job.moveToCompleted(10n, 'owner'), ValidationError);
  await assert.rejects(worker.getNextJob(''), ValidationError);
  await assert.rejects(worker.getNextJob('owner', { block: 'yes' }), ValidationError);
  assert.deepEqual(await env.snapshot(name), before);

  // the holder still settles it
  await job.moveToCompleted('mine', 'owner', false);
  assert.equal(await job.getState(), 'completed');
});

test('moveToFailed follows attempts and backoff as a worker does, and answers as BullMQ', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name, null, { removeOnFail: true });
  const backedOff = await queue.add('backoff', {}, { attempts: 3, backoff: { type: 'fixed', delay: 60000 } });
  const next = await queue.add('next', {}, { attempts: 2 });

  // attempts left with a backoff: delayed, the next job comes back with it
  const job = await worker.getNextJob('tok');
  assert.equal(job.id, backedOff.id);
  const result = await job.moveToFailed(new Error('first'), 'tok', true);
  assert.equal(await job.getState(), 'delayed');
  assert.equal(job.delay, 60000);
  assert.equal(job.attemptsMade, 1);
  assert.equal(job.failedReason, 'first');
  assert.equal(job.stacktrace.length, 1);
  assert.match(job.stacktrace[0], /manual-processing\.test\.js/);
  assert.equal(result[1], next.id);
  assert.equal(result[0].name, 'next');

  // attempts left, no backoff: back to waiting at once, nothing fetched (undefined, as BullMQ)
  const other = await Job.fromId(worker, next.id);
  assert.equal(await other.moveToFailed(new Error('again'), 'tok', true), undefined);
  assert.equal(await other.getState(), 'waiting');

  // the last attempt fails for good; the worker's removeOnFail applies
  const last = await worker.getNextJob('tok', { block: false });
  assert.equal(last.id, next.id);
  assert.deepEqual(await last.moveToFailed(new Error('final'), 'tok'), []);
  assert.equal(last.attemptsMade, 2);
  assert.equal(typeof last.finishedOn, 'number');
  assert.equal(await queue.getJob(next.id), undefined, 'removed on fail, as the worker says');
});

test('moveToFailed: UnrecoverableError and discard() fail at once; a custom backoff comes from the worker\'s settings', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const calls = [];
  const worker = env.worker(name, null, {
    settings: {
      backoffStrategy: (attemptsMade, type, err) => {
        calls.push([attemptsMade, type, err.message]);
        return 45000;
      },
    },
  });
  await queue.add('custom', {}, { attempts: 5, backoff: { type: 'mine' } });
  await queue.add('fatal', {}, { attempts: 5 });
  await queue.add('discarded', {}, { attempts: 5 });

  const custom = await worker.getNextJob('tok');
  await custom.moveToFailed(new Error('slow down'), 'tok');
  assert.deepEqual(calls, [[1, 'mine', 'slow down']]);
  assert.equal(await custom.getState(), 'delayed');
  assert.equal(custom.delay, 45000);

  const fatal = await worker.getNextJob('tok');
  await fatal.moveToFailed(new UnrecoverableError('no'), 'tok');
  assert.equal(await fatal.getState(), 'failed');

  const discarded = await worker.getNextJob('tok');
  discarded.discard();
  await discarded.moveToFailed(new Error('stop'), 'tok');
  assert.equal(await discarded.getState(), 'failed');
});

test('moveToWait gives the job back without an attempt: prioritized by its priority, else first in line', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name);
  const plain = await queue.add('plain', {});
  const urgent = await queue.add('urgent', {}, { priority: 1 });
  const a = await worker.getNextJob('tok');
  const b = await worker.getNextJob('tok');
  assert.deepEqual([a.id, b.id], [plain.id, urgent.id], 'wait first, then prioritized (as BullMQ)');
  const later = await queue.add('later', {});

  assert.equal(await b.moveToWait('tok'), 0);
  assert.equal(await b.getState(), 'prioritized');
  assert.equal(await a.moveToWait(), 0, 'without a token: whoever holds it');
  assert.equal(await a.getState(), 'waiting');
  assert.equal((await queue.getJob(a.id)).attemptsMade, 0);
  const again = await worker.getNextJob('tok');
  assert.equal(again.id, plain.id, 'ahead of the job added while it was out');
  assert.notEqual(again.id, later.id);
});

test('a BullMQ worker cannot steal a job held by hand, and the holder settles it afterwards', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name);
  const held = await queue.add('held', { n: 1 });
  const job = await worker.getNextJob('manual');
  const other = await queue.add('other', { n: 2 });

  const ran = [];
  const bull = env.bullWorker(name, async (j) => {
    ran.push(j.id);
    return 'bull';
  });
  const done = new Promise((resolve) => bull.on('completed', (j) => j.id === other.id && resolve()));
  await done;
  assert.deepEqual(ran, [other.id]);
  assert.equal(await job.getState(), 'active');
  assert.equal(await env.redis.get(env.key(name, `${held.id}:lock`)), 'manual');
  await job.moveToCompleted('by hand', 'manual', false);
  assert.equal(await job.getState(), 'completed');
  assert.deepEqual(ran, [other.id], 'BullMQ never ran it');
});

test('a job added by BullMQ is processed by hand by our worker; BullMQ reads the outcome', async (t) => {
  const env = setup(t);
  const name = env.name();
  const bullQueue = env.bullQueue(name);
  const worker = env.worker(name);
  const added = await bullQueue.add('bull-made', { from: 'bullmq' }, { attempts: 2, backoff: { type: 'fixed', delay: 1 } });

  const first = await worker.getNextJob('tok');
  assert.equal(first.id, added.id);
  assert.equal(first.name, 'bull-made');
  assert.deepEqual(first.data, { from: 'bullmq' });
  await first.moveToFailed(new Error('flaky'), 'tok');
  assert.ok(['delayed', 'waiting'].includes(await bullQueue.getJobState(added.id)));

  // its 1 ms backoff may not have passed on the first try
  const second = await waitFor(() => worker.getNextJob('tok', { block: false }), { message: 'the retry' });
  assert.equal(second.id, added.id);
  assert.equal(second.attemptsMade, 1);
  await second.moveToCompleted({ done: true }, 'tok', false);

  const read = await bullmq.Job.fromId(bullQueue, added.id);
  assert.equal(await read.getState(), 'completed');
  assert.deepEqual(read.returnvalue, { done: true });
  assert.equal(read.attemptsMade, 2);
  assert.equal(read.failedReason, 'flaky');
});

test('getNextJob blocks until a job arrives, at most drainDelay; block: false and pause answer at once', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name, null, { drainDelay: 0.3, name: 'blocker' });
  const drained = [];
  worker.on('drained', () => drained.push(Date.now()));

  assert.equal(await worker.getNextJob('tok'), undefined, 'empty, not drained yet: no wait');
  assert.equal(drained.length, 1);
  let started = Date.now();
  assert.equal(await worker.getNextJob('tok'), undefined);
  const waited = Date.now() - started;
  assert.ok(waited >= 250 && waited < 5000, `waited ${waited} ms for a 300 ms drainDelay`);
  assert.equal(drained.length, 1, 'drained once');

  const long = env.worker(name, null, { drainDelay: 30, name: 'waiter' });
  assert.equal(await long.getNextJob('tok', { block: false }), undefined);
  started = Date.now();
  const pending = long.getNextJob('tok');
  await waitFor(() => env.blocked('waiter'), { message: 'the worker waiting on the marker' });
  const added = await queue.add('late', {});
  assert.equal((await pending).id, added.id);
  assert.ok(Date.now() - started < 10000);

  await queue.add('paused', {});
  await long.pause();
  assert.equal(await long.getNextJob('tok'), undefined, 'paused worker');
  long.resume();
  assert.equal((await long.getNextJob('tok', { block: false })).name, 'paused');
});

test('close ends a getNextJob waiting for a job', async (t) => {
  const env = setup(t);
  const name = env.name();
  const worker = env.worker(name, null, { drainDelay: 60, name: 'closing' });
  assert.equal(await worker.getNextJob('tok', { block: false }), undefined);
  const started = Date.now();
  const pending = worker.getNextJob('tok');
  await waitFor(() => env.blocked('closing'), { message: 'the worker waiting on the marker' });
  await worker.close();
  assert.equal(await pending, undefined);
  assert.ok(Date.now() - started < 10000, 'not the 60 s drain delay');
});

test('getNextJob respects the queue\'s pause, global concurrency, rate limit, priorities and due delayed jobs', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name, null, { drainDelay: 5 });

  await queue.add('low', {}, { priority: 5 });
  await queue.add('high', {}, { priority: 1 });
  await queue.pause();
  assert.equal(await worker.getNextJob('tok', { block: false }), undefined, 'queue paused');
  await queue.resume();
  await queue.setGlobalConcurrency(1);
  const high = await worker.getNextJob('tok', { block: false });
  assert.equal(high.name, 'high', 'lowest priority number first');
  assert.equal(await worker.getNextJob('tok', { block: false }), undefined, 'global concurrency 1 is used');
  await high.moveToCompleted('ok', 'tok', false);
  const low = await worker.getNextJob('tok', { block: false });
  assert.equal(low.name, 'low');
  await low.moveToCompleted('ok', 'tok', false);
  await queue.removeGlobalConcurrency();

  const delayed = await queue.add('delayed', {}, { delay: 200 });
  assert.equal(await worker.getNextJob('tok', { block: false }), undefined, 'not due yet');
  const due = await worker.getNextJob('tok');
  assert.equal(due.id, delayed.id, 'promoted once due, within the wait');
  assert.ok(Date.now() >= delayed.timestamp + 200);

  const limited = env.worker(name, null, { limiter: { max: 1, duration: 60000 } });
  await queue.add('one', {});
  await queue.add('two', {});
  assert.equal((await limited.getNextJob('tok', { block: false })).name, 'one');
  assert.equal(await limited.getNextJob('tok', { block: false }), undefined, 'rate limited');
  assert.equal(await limited.getNextJob('tok'), undefined, 'still limited: no wait, no fetch');
  assert.deepEqual(await queue.getJobCounts('wait'), { wait: 1 });
});

test('locks of jobs taken by hand are not renewed; extendLock keeps them, startStalledCheckTimer takes back the rest', async (t) => {
  const env = setup(t);
  const name = env.name();
  const queue = env.queue(name);
  const worker = env.worker(name, null, { lockDuration: 300, stalledInterval: 100, maxStalledCount: 0 });
  const kept = await queue.add('kept', {});
  const lapsed = await queue.add('lapsed', {});
  const a = await worker.getNextJob('tok');
  const b = await worker.getNextJob('tok');
  assert.deepEqual([a.id, b.id], [kept.id, lapsed.id]);
  assert.equal(await a.extendLock('tok', 60000), 1);
  assert.equal(await a.extendLock('someone-else', 60000), 0);

  const stalled = [];
  worker.on('stalled', (id, prev) => stalled.push([id, prev]));
  await worker.startStalledCheckTimer();
  await waitFor(() => stalled.length > 0, { message: 'the stalled event' });
  assert.deepEqual(stalled, [[lapsed.id, 'active']]);
  assert.equal(await a.getState(), 'active', 'its lock was extended');
  assert.equal(await b.getState(), 'waiting');

  // stalled more than maxStalledCount (0): handed out with its deferred failure, as BullMQ
  const doomed = await worker.getNextJob('tok', { block: false });
  assert.equal(doomed.id, lapsed.id);
  assert.equal(doomed.deferredFailure, 'job stalled more than allowable limit');
  await doomed.moveToFailed(new UnrecoverableError(doomed.deferredFailure), 'tok');
  assert.equal(await doomed.getState(), 'failed');
  await a.moveToCompleted('ok', 'tok', false);
});
