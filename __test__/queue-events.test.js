'use strict';
// The package's QueueEvents with BullMQ 6's API: events of the queue's Redis stream with
// BullMQ's arguments, compared with BullMQ's own QueueEvents reading the same stream.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Queue, Worker: BullWorker, QueueEvents: BullQueueEvents } = require('bullmq');
const { QueueEvents, Worker, JobQueueCoordinator, ValidationError } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

/** Every event name BullMQ's QueueEvents declares (plus the per-job forms we check). */
const EVENTS = [
  'active', 'added', 'cleaned', 'completed', 'deduplicated', 'delayed', 'drained', 'duplicated', 'failed',
  'paused', 'progress', 'removed', 'resumed', 'retries-exhausted', 'stalled', 'waiting', 'waiting-children',
];

function setup(t) {
  const prefix = uniquePrefix('jqt-qevents');
  const connection = { url: REDIS_URL };
  const bullConnection = { url: RAW_REDIS_URL }; // BullMQ's (on a cluster: the node of the test's keys)
  const closers = [];
  const track = (x, close = () => x.close()) => {
    closers.push(close);
    return x;
  };
  const env = {
    prefix,
    connection,
    queue: (name) => track(new Queue(name, { prefix, connection: bullConnection })),
    events: (name, opts = {}) => track(new QueueEvents(name, { prefix, connection, ...opts })),
    bullEvents: (name, opts = {}) => track(new BullQueueEvents(name, { prefix, connection: bullConnection, ...opts })),
    worker(name, fn, opts = {}) {
      const w = new Worker(name, fn, { prefix, connection, ...opts });
      w.on('error', () => {});
      return track(w, () => w.close(true));
    },
    bullWorker(name, fn, opts = {}) {
      const w = new BullWorker(name, fn, { prefix, connection: bullConnection, ...opts });
      w.on('error', () => {});
      return track(w, () => w.close(true));
    },
    redis: () => {
      const r = new Redis(RAW_REDIS_URL);
      return track(r, () => r.quit());
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return env;
}

/** Records `[event, ...args]` for each of EVENTS on `emitter`. */
function record(emitter) {
  const seen = [];
  for (const e of EVENTS) emitter.on(e, (...args) => seen.push([e, ...args]));
  return seen;
}

test('bad options throw ValidationError and write nothing', async (t) => {
  const env = setup(t);
  const redis = env.redis();
  for (const [name, opts] of [
    ['', {}],
    ['a:b', {}],
    ['q', { lastEventId: 'latest' }],
    ['q', { blockingTimeout: 0 }],
    ['q', { blockingTimeout: 1.5 }],
    ['q', { autorun: 'yes' }],
    ['q', { prefix: '' }],
  ]) {
    assert.throws(() => new QueueEvents(name, { prefix: env.prefix, ...opts }), ValidationError, JSON.stringify([name, opts]));
  }
  assert.deepEqual(await redis.keys(`${env.prefix}*`), []);
});

test("a BullMQ worker's jobs arrive with BullMQ's arguments: (args, eventId), returnvalue and progress parsed, <event>:<jobId>", async (t) => {
  const env = setup(t);
  const queue = env.queue('bull');
  const events = env.events('bull');
  await events.waitUntilReady();
  const seen = record(events);
  const perJob = [];
  const ok = await queue.add('ok', { n: 2 });
  events.on(`completed:${ok.id}`, (args, id) => perJob.push([args, id]));
  env.bullWorker('bull', async (job) => {
    await job.updateProgress({ pct: 50 });
    if (job.name === 'bad') throw new Error('broken');
    return { twice: job.data.n * 2 };
  });
  const bad = await queue.add('bad', {}, { attempts: 1 });
  const later = await queue.add('later', {}, { delay: 150 });
  await waitFor(() => seen.some(([e, a]) => e === 'completed' && a.jobId === later.id), { message: 'the delayed job completes' });

  const of = (event, jobId) => seen.filter(([e, a]) => e === event && a.jobId === jobId);
  for (const [, , id] of seen.filter(([e]) => e !== 'drained')) assert.match(id, /^\d+-\d+$/);
  assert.deepEqual(of('added', ok.id)[0][1], { jobId: ok.id, name: 'ok' });
  assert.equal(of('waiting', ok.id)[0][1].jobId, ok.id);
  assert.deepEqual(of('active', ok.id)[0][1], { jobId: ok.id, prev: 'waiting' });
  assert.deepEqual(of('progress', ok.id)[0][1], { jobId: ok.id, data: { pct: 50 } });
  assert.deepEqual(of('completed', ok.id)[0][1], { jobId: ok.id, returnvalue: { twice: 4 }, prev: 'active' });
  assert.deepEqual(of('failed', bad.id)[0][1], { jobId: bad.id, failedReason: 'broken', prev: 'active' });
  const [[, delayed]] = of('delayed', later.id);
  assert.equal(typeof delayed.delay, 'number');
  assert.ok(delayed.delay > Date.now() - 5000, 'delay is the time it is due, as BullMQ writes it');
  assert.deepEqual(perJob, [[of('completed', ok.id)[0][1], of('completed', ok.id)[0][2]]]);
  const drained = seen.filter(([e]) => e === 'drained');
  assert.ok(drained.length >= 1);
  assert.equal(drained[0].length, 2, 'drained gets only the event id');
  assert.match(drained[0][1], /^\d+-\d+$/);
});

test("ours and BullMQ's QueueEvents read the same stream into the same events and arguments", async (t) => {
  const env = setup(t);
  const queue = env.queue('same');
  const ours = env.events('same', { lastEventId: '0' });
  const theirs = env.bullEvents('same', { lastEventId: '0' });
  const a = record(ours);
  const b = record(theirs);
  const catchAll = [];
  ours.on('event', (name, args, id) => catchAll.push([name, args, id]));

  await queue.pause();
  await queue.resume();
  const worker = env.worker('same', async (job) => {
    await job.updateProgress(job.data.i);
    if (job.data.i === 2) throw new Error('two');
    return job.data.i;
  });
  const jobs = await queue.addBulk([1, 2, 3].map((i) => ({ name: 'n', data: { i }, opts: { attempts: 2 } })));
  await queue.add('dedup', { i: 9 }, { deduplication: { id: 'd1' }, delay: 60_000 });
  await queue.add('dedup', { i: 9 }, { deduplication: { id: 'd1' } });
  await waitFor(async () => (await queue.getFailedCount()) === 1 && (await queue.getCompletedCount()) === 2);
  await worker.close();
  const [dedup] = await queue.getDelayed();
  await dedup.remove();
  await queue.clean(0, 10, 'completed');
  const last = await queue.add('marker', {});
  await waitFor(() => a.some(([e, x]) => e === 'waiting' && x.jobId === last.id) && b.some(([e, x]) => e === 'waiting' && x.jobId === last.id));

  assert.deepEqual(a, b);
  const names = new Set(a.map(([e]) => e));
  for (const e of ['paused', 'resumed', 'added', 'waiting', 'active', 'progress', 'completed', 'failed', 'retries-exhausted', 'delayed', 'deduplicated', 'removed', 'cleaned', 'drained']) {
    assert.ok(names.has(e), `${e} in ${[...names]}`);
  }
  assert.deepEqual(a.find(([e]) => e === 'retries-exhausted')[1], { jobId: jobs[1].id, attemptsMade: '2' });
  assert.equal(a.find(([e]) => e === 'deduplicated')[1].deduplicationId, 'd1');
  assert.deepEqual(a.find(([e]) => e === 'cleaned')[1], { count: '2' });
  assert.equal(catchAll.length, a.length, "'event' fires for every entry");
});

test("lastEventId '$' starts after waitUntilReady; a given id replays what came after it", async (t) => {
  const env = setup(t);
  const queue = env.queue('from');
  const before = await queue.add('before', {});
  const events = env.events('from');
  await events.waitUntilReady();
  const seen = record(events);
  const after = await queue.add('after', {});
  await waitFor(() => seen.some(([e, x]) => e === 'added' && x.jobId === after.id));
  assert.equal(seen.filter(([, x]) => x.jobId === before.id).length, 0, 'nothing from before it started');

  const redis = env.redis();
  const [[firstId]] = await redis.xrange(`${env.prefix}:from:events`, '-', '+', 'COUNT', 1);
  const replay = env.events('from', { lastEventId: firstId });
  const replayed = record(replay);
  await waitFor(() => replayed.some(([e, x]) => e === 'added' && x.jobId === after.id));
  assert.ok(replayed.some(([e, x]) => e === 'waiting' && x.jobId === before.id), 'entries after the given id');
  assert.ok(!replayed.some(([, , id]) => id === firstId), 'not the given entry itself');
});

test('autorun: false waits for run(); run() resolves on close(); a second run() rejects', async (t) => {
  const env = setup(t);
  const queue = env.queue('manual');
  const events = env.events('manual', { autorun: false, blockingTimeout: 100 });
  await events.waitUntilReady();
  const seen = record(events);
  const early = await queue.add('early', {});
  let finished = false;
  const running = events.run().then(() => {
    finished = true;
  });
  await assert.rejects(events.run(), /already running/);
  await events.waitUntilReady();
  const late = await queue.add('late', {});
  await waitFor(() => seen.some(([e, x]) => e === 'added' && x.jobId === late.id));
  assert.ok(!seen.some(([, x]) => x.jobId === early.id), "'$' is taken when run() starts");
  assert.equal(finished, false);
  const closed = new Promise((resolve) => events.once('closed', resolve));
  await events.close();
  await running;
  await closed;
  assert.equal(finished, true);
  const count = seen.length;
  await queue.add('after-close', {});
  // a fresh reader proves the entry was written; the closed one must not have seen it
  const check = env.events('manual', { lastEventId: '0' });
  const all = record(check);
  await waitFor(() => all.some(([e, x]) => e === 'added' && x.name === 'after-close'));
  assert.equal(seen.length, count, 'nothing after close()');
});

test("the coordinator's events(queue) is a QueueEvents with BullMQ's arguments, closed by shutdown", async (t) => {
  const env = setup(t);
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: env.prefix } });
  t.after(() => c.shutdown({ timeoutMs: 1000 }));
  const events = await c.events('coord');
  assert.ok(events instanceof QueueEvents);
  const completed = new Promise((resolve) => events.once('completed', (...args) => resolve(args)));
  await c.registerWorker('coord', async (job) => ({ echo: job.data.v }));
  const job = await c.enqueueJob('coord', { v: 'x' });
  const [args, id] = await completed;
  assert.deepEqual(args, { jobId: job.id, returnvalue: { echo: 'x' }, prev: 'active' });
  assert.match(id, /^\d+-\d+$/);
  const closed = new Promise((resolve) => events.once('closed', resolve));
  await c.shutdown({ timeoutMs: 1000 });
  await closed;
  assert.equal(events.closed, true);
});
