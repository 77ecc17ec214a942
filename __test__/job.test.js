'use strict';
// BullMQ 6's Job class on our engine (lib/job.js): fields, constructors and every method
// against the real Redis, and both ways with the real BullMQ: a job BullMQ added read by our
// Job, a job we added read by BullMQ's Job, with the same values and states.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Queue: BullQueue, Worker: BullWorker, QueueEvents: BullQueueEvents, Job: BullJob } = require('bullmq');
const { JobQueueCoordinator } = require('..');
const { Job, AddedJob } = require('../lib/job');
const { acquireEngine, engineConfig } = require('../lib/connection');
const { ValidationError, JobNotFoundError, JobStateError, LockError } = require('../lib/errors');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

/**
 * A fresh prefix and, on it: queue handles as lib/job.js takes them, our coordinator, BullMQ
 * queues, manual BullMQ workers (jobs fetched with a token of our choosing), BullMQ
 * QueueEvents and a raw client. All closed and the prefix's keys deleted when the test ends.
 */
async function setup(t) {
  const prefix = uniquePrefix('jqt-job');
  const connection = { url: RAW_REDIS_URL }; // BullMQ's
  const closers = [];
  const { native, release } = await acquireEngine(engineConfig(REDIS_URL, prefix));
  closers.push(async () => release());
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
  closers.push(() => c.shutdown({ timeoutMs: 2000 }));
  const raw = new Redis(RAW_REDIS_URL);
  closers.push(() => raw.quit());
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return {
    prefix,
    c,
    raw,
    key: (queue, suffix) => `${prefix}:${queue}:${suffix}`,
    handle: (name) => ({ name, prefix, native: async () => native }),
    bullQueue(name) {
      const q = new BullQueue(name, { prefix, connection });
      closers.push(() => q.close());
      return q;
    },
    /** A BullMQ worker that runs nothing by itself: `getNextJob(token)` makes a job active. */
    manualWorker(name) {
      const w = new BullWorker(name, null, { prefix, connection, autorun: false, lockDuration: 30000 });
      w.on('error', () => {});
      closers.push(() => w.close());
      return w;
    },
    async queueEvents(name) {
      const qe = new BullQueueEvents(name, { prefix, connection });
      closers.push(() => qe.close());
      await qe.waitUntilReady();
      return qe;
    },
  };
}

/** The fields BullMQ's Job exposes that both sides must agree on. */
const SHARED_FIELDS = [
  'id',
  'name',
  'data',
  'opts',
  'progress',
  'returnvalue',
  'failedReason',
  'stacktrace',
  'attemptsMade',
  'attemptsStarted',
  'stalledCounter',
  'timestamp',
  'processedOn',
  'finishedOn',
  'delay',
  'priority',
  'repeatJobKey',
  'deduplicationId',
  'processedBy',
  'queueName',
];

function pick(job) {
  const out = {};
  for (const f of SHARED_FIELDS) out[f] = job[f] ?? null; // absent and undefined alike
  return out;
}

test('new Job(queue, name, data, opts, id) has BullMQ\'s fields and defaults; the queue handle stays out of JSON', async (t) => {
  const env = await setup(t);
  const handle = env.handle('ctor');
  const bq = env.bullQueue('ctor');
  const opts = { delay: 500, priority: 3, repeatJobKey: 'rk', deduplication: { id: 'd1' }, keepLogs: 4, timestamp: 1234 };
  const ours = new Job(handle, 'n', { a: 1 }, opts, 'id-1');
  const theirs = new BullJob(bq, 'n', { a: 1 }, opts, 'id-1');
  for (const f of ['id', 'name', 'data', 'progress', 'returnvalue', 'stacktrace', 'attemptsMade', 'attemptsStarted', 'stalledCounter', 'timestamp', 'delay', 'priority', 'repeatJobKey', 'deduplicationId', 'queueName']) {
    assert.deepEqual(ours[f], theirs[f], f);
  }
  assert.equal(ours.opts.repeatJobKey, undefined, 'repeatJobKey moves out of opts');
  assert.equal(ours.opts.attempts, 0, 'attempts defaults to 0');
  assert.equal(ours.opts.keepLogs, 4);
  assert.equal(ours.queue, handle);
  assert.equal(ours.prefix, env.prefix);
  assert.ok(!Object.keys(ours).includes('queue'));
  assert.ok(!('queue' in ours.toJSON()));
  assert.equal(JSON.parse(JSON.stringify(ours)).id, 'id-1');

  assert.throws(() => new Job({}, 'n', {}), ValidationError);
  assert.throws(() => new Job(handle, 'n', {}, 'not-an-object'), ValidationError);
});

test('a job BullMQ added reads the same through our Job.fromId, and our getState agrees with BullMQ\'s', async (t) => {
  const env = await setup(t);
  const bq = env.bullQueue('from-bull');
  const handle = env.handle('from-bull');
  await bq.add('plain', { n: 1 }, { jobId: 'p1', attempts: 3, backoff: { type: 'exponential', delay: 10 }, keepLogs: 2, removeOnComplete: 5 });
  await bq.add('prio', { n: 2 }, { jobId: 'p2', priority: 9, deduplication: { id: 'dd' } });
  await bq.add('later', { n: 3 }, { jobId: 'p3', delay: 60000 });
  for (const id of ['p1', 'p2', 'p3']) {
    const theirs = await BullJob.fromId(bq, id);
    const ours = await Job.fromId(handle, id);
    assert.ok(ours instanceof Job);
    assert.deepEqual(pick(ours), pick(theirs), `job ${id}`);
    assert.equal(await ours.getState(), await theirs.getState(), `state of ${id}`);
  }
  assert.equal(await (await Job.fromId(handle, 'p1')).getState(), 'waiting');
  assert.equal(await (await Job.fromId(handle, 'p2')).getState(), 'prioritized');
  assert.equal(await (await Job.fromId(handle, 'p3')).getState(), 'delayed');
  assert.equal((await Job.fromId(handle, 'p2')).deduplicationId, 'dd');
  assert.equal((await Job.fromId(handle, 'p1')).opts.keepLogs, 2, 'kl reads as keepLogs');

  assert.equal(await Job.fromId(handle, 'nope'), undefined);
  assert.equal(await Job.fromId(handle, undefined), undefined);
  await assert.rejects(Job.fromId(handle, { id: 1 }), ValidationError);
});

test('a job we added reads the same through BullMQ\'s Job.fromId, through every state BullMQ reports', async (t) => {
  const env = await setup(t);
  const bq = env.bullQueue('from-us');
  const handle = env.handle('from-us');
  const added = await env.c.enqueueJob('from-us', 'mail', { to: 'x' }, { jobId: 'u1', priority: 2, attempts: 2, keepLogs: 3 });
  const again = await Job.fromId(handle, 'u1');
  const theirs = await BullJob.fromId(bq, 'u1');
  assert.deepEqual(pick(again), pick(theirs));
  assert.equal(added.opts.keepLogs, 3, 'the added job shows options as BullMQ does');
  assert.deepEqual(added.opts, theirs.opts);
  assert.equal(await again.getState(), 'prioritized');
  assert.equal(await theirs.getState(), 'prioritized');

  // active, then completed, seen alike from both sides
  const worker = env.manualWorker('from-us');
  const running = await worker.getNextJob('tok-1');
  assert.equal(running.id, 'u1');
  assert.equal(await again.getState(), 'active');
  assert.ok(await again.isActive());
  const ranOurs = await Job.fromId(handle, 'u1');
  assert.equal(ranOurs.attemptsStarted, 1);
  assert.ok(ranOurs.processedOn > 0);
  await running.moveToCompleted({ ok: true }, 'tok-1', false);
  const doneOurs = await Job.fromId(handle, 'u1');
  const doneTheirs = await BullJob.fromId(bq, 'u1');
  assert.deepEqual(pick(doneOurs), pick(doneTheirs));
  assert.deepEqual(doneOurs.returnvalue, { ok: true });
  assert.equal(await doneOurs.getState(), 'completed');
  assert.equal(await doneTheirs.getState(), 'completed');
  assert.ok(await doneOurs.isCompleted());
  assert.equal(await doneOurs.isFailed(), false);
});

test('getState and the is* checks for waiting, prioritized, delayed, failed and unknown jobs', async (t) => {
  const env = await setup(t);
  const h = env.handle('st');
  const bq = env.bullQueue('st');
  const waiting = await env.c.enqueueJob('st', 'w', {}, { attempts: 1 });
  const prio = await env.c.enqueueJob('st', 'p', {}, { priority: 1 });
  const delayed = await env.c.enqueueJob('st', 'd', {}, { delay: 60000 });
  assert.equal(await waiting.getState(), 'waiting');
  assert.ok(await waiting.isWaiting());
  assert.equal(await prio.getState(), 'prioritized');
  assert.equal(await prio.isWaiting(), false, 'as in BullMQ, a prioritized job is not in wait');
  assert.ok(await delayed.isDelayed());
  assert.equal(await delayed.isWaitingChildren(), false);

  // a job that fails for good (BullMQ worker, one attempt)
  const worker = env.manualWorker('st');
  const first = await worker.getNextJob('tok');
  await first.moveToFailed(new Error('boom'), 'tok', false);
  const failed = await Job.fromId(h, first.id);
  assert.equal(await failed.getState(), 'failed');
  assert.ok(await failed.isFailed());
  assert.equal(failed.failedReason, 'boom');
  assert.equal(failed.stacktrace.length, 1);
  assert.equal(await (await BullJob.fromId(bq, first.id)).getState(), 'failed');

  const gone = new Job(h, 'x', {}, {}, 'no-such-job');
  assert.equal(await gone.getState(), 'unknown');
  assert.equal(await gone.isCompleted(), false);
});

test('updateProgress, log (kept to keepLogs rows) and updateData write what BullMQ reads; bad input writes nothing', async (t) => {
  const env = await setup(t);
  const h = env.handle('upd');
  const bq = env.bullQueue('upd');
  const job = await env.c.enqueueJob('upd', 'j', { v: 1 }, { keepLogs: 2 });
  await job.updateProgress({ pct: 40 });
  assert.deepEqual(job.progress, { pct: 40 });
  assert.equal(await job.log('one'), 1);
  assert.equal(await job.log('two'), 2);
  assert.equal(await job.log('three'), 2, 'keepLogs keeps the last 2');
  await job.updateData({ v: 2, more: [1, 2] });
  assert.deepEqual(job.data, { v: 2, more: [1, 2] });

  const theirs = await BullJob.fromId(bq, job.id);
  assert.deepEqual(theirs.progress, { pct: 40 });
  assert.deepEqual(theirs.data, { v: 2, more: [1, 2] });
  assert.deepEqual((await bq.getJobLogs(job.id)).logs, ['two', 'three']);
  const ours = await Job.fromId(h, job.id);
  assert.deepEqual(ours.progress, { pct: 40 });
  assert.deepEqual(ours.data, { v: 2, more: [1, 2] });

  // BullMQ's updates read back through ours
  await theirs.updateProgress(77);
  await theirs.updateData({ from: 'bull' });
  const reread = await Job.fromId(h, job.id);
  assert.equal(reread.progress, 77);
  assert.deepEqual(reread.data, { from: 'bull' });

  const before = await env.raw.hgetall(env.key('upd', job.id));
  await assert.rejects(job.updateData('text'), ValidationError);
  await assert.rejects(job.updateData({ big: 'x'.repeat(2 << 20) }), ValidationError);
  await assert.rejects(job.updateProgress(undefined), ValidationError);
  await assert.rejects(job.log(undefined), ValidationError);
  assert.deepEqual(await env.raw.hgetall(env.key('upd', job.id)), before, 'nothing written');

  const missing = new Job(h, 'x', {}, {}, 'missing');
  await assert.rejects(missing.updateData({ a: 1 }), JobNotFoundError);
  await assert.rejects(missing.updateProgress(1), JobNotFoundError);
  assert.equal(await env.raw.exists(env.key('upd', 'missing')), 0);
});

test('remove deletes a waiting job and its logs; a running (locked) job is refused and kept', async (t) => {
  const env = await setup(t);
  const h = env.handle('rm');
  const a = await env.c.enqueueJob('rm', 'a', {});
  await a.log('line');
  const removed = [];
  const emitting = { ...h, emit: (event, job) => removed.push([event, job.id]) };
  const aa = await Job.fromId(emitting, a.id);
  await aa.remove();
  assert.deepEqual(removed, [['removed', a.id]]);
  assert.equal(await env.raw.exists(env.key('rm', a.id)), 0);
  assert.equal(await env.raw.exists(env.key('rm', `${a.id}:logs`)), 0);
  assert.equal(await env.raw.lpos(env.key('rm', 'wait'), a.id), null);
  await assert.rejects(aa.remove(), JobNotFoundError);

  const b = await env.c.enqueueJob('rm', 'b', {});
  const worker = env.manualWorker('rm');
  await worker.getNextJob('tok-b');
  await assert.rejects(b.remove(), (err) => err instanceof JobStateError && err.code === 'ERR_JOB_NOT_IN_STATE');
  assert.equal(await b.getState(), 'active', 'still there');
  assert.equal(await env.raw.get(env.key('rm', `${b.id}:lock`)), 'tok-b');
  await assert.rejects(b.remove({ removeChildren: 'yes' }), ValidationError);
});

test('retry moves a failed or a completed job back to waiting, resetting the counters asked for', async (t) => {
  const env = await setup(t);
  const h = env.handle('re');
  const bq = env.bullQueue('re');
  const worker = env.manualWorker('re');
  await env.c.enqueueJob('re', 'f', {}, { jobId: 'f1', attempts: 1 });
  await env.c.enqueueJob('re', 'c', {}, { jobId: 'c1' });
  const f = await worker.getNextJob('t1');
  await f.moveToFailed(new Error('bad'), 't1', false);
  const c = await worker.getNextJob('t2');
  await c.moveToCompleted('fine', 't2', false);

  const failed = await Job.fromId(h, 'f1');
  assert.equal(failed.attemptsMade, 1);
  await assert.rejects(failed.retry('completed'), JobStateError, 'f1 is not completed');
  await assert.rejects(failed.retry('active'), ValidationError);
  await failed.retry();
  assert.equal(failed.failedReason, null);
  assert.equal(failed.finishedOn, null);
  assert.equal(await failed.getState(), 'waiting');
  const f1 = await BullJob.fromId(bq, 'f1');
  assert.equal(f1.failedReason, undefined, 'failedReason deleted');
  assert.equal(f1.attemptsMade, 1, 'attempts kept without resetAttemptsMade');

  const completed = await Job.fromId(h, 'c1');
  await completed.retry('completed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  assert.equal(completed.returnvalue, null);
  assert.equal(completed.attemptsMade, 0);
  assert.equal(completed.attemptsStarted, 0);
  const c1 = await BullJob.fromId(bq, 'c1');
  assert.equal(await c1.getState(), 'waiting');
  assert.equal(c1.returnvalue, null);
  assert.equal(c1.attemptsMade, 0);
  assert.equal(c1.attemptsStarted, 0);
  assert.equal(c1.finishedOn, undefined);
  assert.equal(await bq.getWaitingCount(), 2);
  await assert.rejects(new Job(h, 'x', {}, {}, 'zz').retry(), JobNotFoundError);
});

test('promote, changeDelay and changePriority({priority, lifo}) move the job as BullMQ does', async (t) => {
  const env = await setup(t);
  const h = env.handle('mv');
  const d = await env.c.enqueueJob('mv', 'd', {}, { delay: 60000 });
  const before = Number(await env.raw.zscore(env.key('mv', 'delayed'), d.id));
  await d.changeDelay(120000);
  assert.equal(d.delay, 120000);
  const after = Number(await env.raw.zscore(env.key('mv', 'delayed'), d.id));
  assert.ok(after > before, 'due later');
  assert.equal((await Job.fromId(h, d.id)).delay, 120000);
  await assert.rejects(d.changeDelay(-1), ValidationError);
  await d.promote();
  assert.equal(d.delay, 0);
  assert.equal(await d.getState(), 'waiting');
  assert.equal((await Job.fromId(h, d.id)).delay, 0);
  await assert.rejects(d.promote(), JobStateError, 'not delayed any more');
  await assert.rejects(d.changeDelay(10), JobStateError);

  // priorities: 'b' with lifo goes ahead of 'a' of the same priority
  const a = await env.c.enqueueJob('mv', 'a', {}, { priority: 5 });
  const b = await env.c.enqueueJob('mv', 'b', {}, { priority: 7 });
  await b.changePriority({ priority: 5, lifo: true });
  assert.equal(b.priority, 5);
  const order = await env.raw.zrange(env.key('mv', 'prioritized'), 0, -1);
  assert.deepEqual(order, [b.id, a.id]);
  // priority 0 with lifo: the right of wait, next to run
  await a.changePriority({ priority: 0, lifo: true });
  assert.equal(await a.getState(), 'waiting');
  assert.equal(await env.raw.lindex(env.key('mv', 'wait'), -1), a.id);
  assert.equal((await Job.fromId(h, a.id)).priority, 0);
  await assert.rejects(a.changePriority({ priority: 2 ** 21 }), ValidationError);
  await assert.rejects(a.changePriority({ priority: 1.5 }), ValidationError);
  await assert.rejects(a.changePriority({ priority: 1, lifo: 'yes' }), ValidationError);
  assert.equal((await Job.fromId(h, a.id)).priority, 0, 'nothing written by bad input');
});

test('extendLock renews only for the holder; moveToDelayed checks the token, frees the lock and keeps the attempt', async (t) => {
  const env = await setup(t);
  const h = env.handle('lk');
  const bq = env.bullQueue('lk');
  await env.c.enqueueJob('lk', 'j', {}, { jobId: 'l1', attempts: 3 });
  const worker = env.manualWorker('lk');
  await worker.getNextJob('holder');
  const job = await Job.fromId(h, 'l1');
  const lockKey = env.key('lk', 'l1:lock');
  await env.raw.pexpire(lockKey, 1000);
  assert.equal(await job.extendLock('holder', 60000), 1);
  assert.ok((await env.raw.pttl(lockKey)) > 30000, 'renewed');
  assert.equal(await job.extendLock('someone-else', 60000), 0);
  assert.equal(await env.raw.get(lockKey), 'holder');
  await assert.rejects(job.extendLock('', 1000), ValidationError);
  await assert.rejects(job.extendLock('holder', 0), ValidationError);

  const due = Date.now() + 60000;
  await assert.rejects(job.moveToDelayed(due, 'someone-else'), (e) => e instanceof LockError && e.code === 'ERR_LOCK_MISMATCH');
  assert.equal(await job.getState(), 'active', 'a wrong token changes nothing');
  assert.equal(await env.raw.get(lockKey), 'holder');
  await assert.rejects(job.moveToDelayed(-5, 'holder'), ValidationError);

  await job.moveToDelayed(due, 'holder');
  assert.ok(job.delay > 50000 && job.delay <= 60000, `delay ${job.delay}`);
  assert.equal(await job.getState(), 'delayed');
  assert.equal(await env.raw.exists(lockKey), 0, 'lock released');
  const score = Number(await env.raw.zscore(env.key('lk', 'delayed'), 'l1'));
  assert.equal(Math.floor(score / 4096), due, 'due at the timestamp');
  const theirs = await BullJob.fromId(bq, 'l1');
  assert.equal(await theirs.getState(), 'delayed');
  assert.equal(theirs.attemptsMade, 0, 'the attempt does not count');
  assert.equal(theirs.delay, job.delay);
  await assert.rejects(job.moveToDelayed(due, 'holder'), JobStateError, 'no longer active');

  // without a token the lock is not checked (BullMQ's default)
  await job.promote();
  await worker.getNextJob('again');
  await job.moveToDelayed(Date.now() - 1000);
  assert.equal(job.delay, 0, 'a past timestamp means now');
  assert.equal(await job.getState(), 'delayed');
});

test('waitUntilFinished resolves with the return value, rejects with the failedReason, settles at once for a finished job, and times out', async (t) => {
  const env = await setup(t);
  const qe = await env.queueEvents('wf');
  await env.c.registerWorker('wf', async (job) => {
    if (job.data.fail) throw new Error(`no ${job.data.n}`);
    return { doubled: job.data.n * 2 };
  });
  const ok = await env.c.enqueueJob('wf', 'ok', { n: 21 });
  assert.deepEqual(await ok.waitUntilFinished(qe), { doubled: 42 });
  const bad = await env.c.enqueueJob('wf', 'bad', { n: 1, fail: true }, { attempts: 1 });
  await assert.rejects(bad.waitUntilFinished(qe), (e) => e instanceof Error && e.message === 'no 1');

  // finished before anyone waited: a QueueEvents opened afterwards sees no event, the stored
  // state answers
  const late = await env.queueEvents('wf');
  assert.deepEqual(await ok.waitUntilFinished(late, 5000), { doubled: 42 });
  await assert.rejects(bad.waitUntilFinished(late, 5000), /no 1/);
  assert.equal(late.listenerCount('completed'), 0, 'listeners removed');
  assert.equal(late.listenerCount('failed'), 0);

  // nobody processes 'idle': the ttl ends the wait
  const h = env.handle('idle');
  const idle = await Job.fromId(h, (await env.c.enqueueJob('idle', 'i', {})).id);
  const qeIdle = await env.queueEvents('idle');
  await assert.rejects(idle.waitUntilFinished(qeIdle, 50), /timed out/);
  await assert.rejects(new Job(h, 'x', {}, {}, 'missing').waitUntilFinished(qeIdle), JobNotFoundError);
  await assert.rejects(idle.waitUntilFinished(undefined), ValidationError);
});

test('an AddedJob is a Job: BullMQ methods work through the coordinator\'s handle; without a handle they throw ValidationError', async (t) => {
  const env = await setup(t);
  const bulk = await env.c.enqueueBulk('ad', [
    { name: 'a', data: { i: 1 } },
    { name: 'b', data: { i: 2 }, options: { delay: 30000 } },
  ]);
  assert.ok(bulk.every((j) => j instanceof Job && j instanceof AddedJob));
  assert.equal(bulk[1].delay, 30000);
  assert.equal(bulk[0].delay, 0);
  assert.equal(await bulk[1].getState(), 'delayed');
  await bulk[1].promote();
  assert.equal(bulk[1].delay, 0);
  await bulk[0].remove();
  assert.equal(await bulk[0].getState(), 'unknown');
  const got = await env.c.getJob('ad', bulk[1].id);
  assert.ok(got instanceof Job);
  assert.equal(await got.getState(), 'waiting');

  const orphan = new AddedJob('1', 'n', { a: 1 }, '{"attempts":2}', 5, 'ad');
  assert.equal(orphan.opts.attempts, 2);
  await assert.rejects(orphan.getState(), ValidationError);
  await assert.rejects(orphan.updateProgress(1), ValidationError);
});

test('discard() inside a processor makes the failure final: no retry left', async (t) => {
  const env = await setup(t);
  const runs = [];
  await env.c.registerWorker('dc', async (job) => {
    runs.push(job.id);
    job.discard();
    throw new Error('give up');
  });
  const job = await env.c.enqueueJob('dc', 'j', {}, { attempts: 5 });
  await waitFor(async () => (await job.getState()) === 'failed');
  const stored = await env.c.getJob('dc', job.id);
  assert.equal(stored.attemptsMade, 1);
  assert.deepEqual(runs, [job.id]);
});

test('toJSON lists the fields without the queue; asJSON is BullMQ\'s string-encoded form; fromJSON reads BullMQ\'s JobJson', async (t) => {
  const env = await setup(t);
  const h = env.handle('js');
  const bq = env.bullQueue('js');
  await bq.add('n', { a: [1] }, { jobId: 'j1', priority: 4, attempts: 2 });
  const ours = await Job.fromId(h, 'j1');
  const theirs = await BullJob.fromId(bq, 'j1');
  assert.deepEqual(ours.asJSON(), theirs.asJSON());
  const plain = ours.toJSON();
  assert.equal(plain.queue, undefined);
  assert.deepEqual(plain.data, { a: [1] });
  assert.equal(plain.queueName, 'js');

  const json = await bq.backend.getJobData('j1');
  const fromJson = Job.fromJSON(h, json, 'j1');
  assert.deepEqual(pick(fromJson), pick(theirs));
  assert.equal(await fromJson.getState(), 'prioritized');
  assert.throws(() => Job.fromJSON(h, { data: 'not json' }), ValidationError);
});
