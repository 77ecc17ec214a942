'use strict';
// A processor that blocks the JS event loop does not lose its job: the lock is renewed and the
// stalled check runs on Rust timers, not JS ones (docs/architecture.md).
// Stalled checks are also run by a worker in another process, whose event loop is free, so a
// lapsed lock would be noticed while this process is blocked; a control run with a BullMQ
// worker (whose lock renewal is a JS timer) shows that such a stall is indeed detected.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { Worker: BullWorker } = require('bullmq');
const { JobQueueCoordinator } = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');
const { startWorkerProcess } = require('./fixtures/worker-process');

const LOCK_MS = 500;
const STALLED_INTERVAL_MS = 300;
const BLOCK_MS = 3 * LOCK_MS;

/** Spins for `ms` without yielding: timers, I/O and promise callbacks all wait. */
function blockEventLoop(ms) {
  const end = Date.now() + ms;
  let spins = 0;
  while (Date.now() < end) spins += 1;
  return spins;
}

function setup(t, tag) {
  const prefix = uniquePrefix(tag);
  const closers = [];
  const redis = new Redis(RAW_REDIS_URL);
  const coordinator = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await coordinator.shutdown({ timeoutMs: 2000 });
    redis.disconnect();
    await cleanup(REDIS_URL, prefix);
  });
  return {
    prefix,
    redis,
    coordinator,
    key: (queue, suffix) => `${prefix}:${queue}:${suffix}`,
    /** A worker process that only runs the stalled check (it fetches nothing). */
    async startChecker(queue, impl) {
      const checker = startWorkerProcess(REDIS_URL, prefix, queue, {
        IMPL: impl,
        CHECKER: '1',
        LOCK_DURATION: String(LOCK_MS),
        STALLED_INTERVAL: String(STALLED_INTERVAL_MS),
      });
      closers.push(() => checker.kill('SIGKILL'));
      return checker.ready;
    },
    onClose(fn) {
      closers.push(fn);
    },
  };
}

/** Events of the queue's stream for one job, by name. */
async function eventNames(redis, key, jobId) {
  const entries = await redis.xrange(key, '-', '+');
  return entries
    .map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])))
    .filter((e) => e.jobId === jobId)
    .map((e) => e.event);
}

for (const impl of ['ours', 'bullmq']) {
  test(`a processor blocking the event loop for 3× lockDuration is not stalled (stalled check also run by ${impl} in another process)`, { timeout: 30000 }, async (t) => {
    const env = setup(t, 'jqt-loop');
    const c = env.coordinator;
    const queue = 'busy';
    const checker = await env.startChecker(queue, impl);

    let calls = 0;
    let blockedFor = 0;
    const completed = [];
    const stalled = [];
    const failed = [];
    const worker = await c.registerWorker(queue, (job) => {
      if (job.data.probe) return env.redis.pttl(env.key(queue, `${job.id}:lock`));
      calls += 1;
      const t0 = Date.now();
      blockEventLoop(BLOCK_MS);
      blockedFor = Date.now() - t0;
      return { spun: job.data.n };
    }, { lockDuration: LOCK_MS, stalledInterval: STALLED_INTERVAL_MS, concurrency: 1 });
    worker.on('completed', (job, result) => completed.push({ id: job.id, result }));
    worker.on('stalled', (id) => stalled.push(id));
    worker.on('failed', (job, err) => failed.push({ id: job?.id, message: err.message }));

    // First a probe: the lock really lives only lockDuration, so a 1.5 s block outlives it
    // unless it is renewed.
    const probe = await c.enqueueJob(queue, 'probe', { probe: true }, { attempts: 1 });
    await waitFor(() => completed.length === 1, { message: 'the probe job' });
    const pttl = completed.shift().result;
    assert.ok(pttl > 0 && pttl <= LOCK_MS, `lock PTTL while running: ${pttl} (probe ${probe.id})`);

    const job = await c.enqueueJob(queue, 'spin', { n: 1 }, { attempts: 1 });
    await waitFor(() => completed.length > 0 || failed.length > 0, { timeoutMs: 15000, message: 'the job to finish' });

    assert.ok(blockedFor >= BLOCK_MS, `the processor blocked for ${blockedFor} ms`);
    assert.equal(calls, 1, 'the processor ran once');
    assert.deepEqual(failed, []);
    assert.deepEqual(completed, [{ id: job.id, result: { spun: 1 } }]);
    assert.deepEqual(stalled, [], 'no stalled event on the blocked worker');
    assert.deepEqual(checker.stalled, [], `no stalled event on the ${impl} checker`);

    const hash = await env.redis.hgetall(env.key(queue, job.id));
    assert.ok(hash.stc === undefined || hash.stc === '0', `stc is ${hash.stc}`);
    assert.equal(hash.atm, '1', 'attemptsMade 1');
    assert.equal(hash.ats, '1', 'started once');
    assert.equal(hash.defa, undefined);
    assert.deepEqual(JSON.parse(hash.returnvalue), { spun: 1 });
    const names = await eventNames(env.redis, env.key(queue, 'events'), job.id);
    assert.ok(!names.includes('stalled'), `events: ${names}`);
    assert.equal(names.filter((n) => n === 'active').length, 1, `events: ${names}`);
    assert.equal(names.filter((n) => n === 'completed').length, 1, `events: ${names}`);
    assert.equal(await env.redis.zscore(env.key(queue, 'completed'), job.id), hash.finishedOn);
  });
}

for (const impl of ['ours', 'bullmq']) {
  test(`control: a BullMQ worker whose processor blocks the same way does get its job stalled (checker: ${impl})`, { timeout: 30000 }, async (t) => {
    // Shows that the checker process and the timings above do detect a lapsed lock: BullMQ
    // renews locks from a JS timer, which cannot fire while the loop is blocked.
    const env = setup(t, 'jqt-loop-ctl');
    const queue = 'busy';
    const checker = await env.startChecker(queue, impl);

    let calls = 0;
    const bull = new BullWorker(queue, async (job) => {
      calls += 1;
      if (calls === 1) blockEventLoop(BLOCK_MS);
      return { spun: job.data.n };
    }, {
      prefix: env.prefix,
      connection: { url: RAW_REDIS_URL },
      lockDuration: LOCK_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      concurrency: 1,
    });
    bull.on('error', () => {}); // "Missing lock" when the first run tries to finish
    env.onClose(() => bull.close());
    await bull.waitUntilReady();

    const job = await env.coordinator.enqueueJob(queue, 'spin', { n: 1 }, { attempts: 1 });
    const stc = await waitFor(async () => Number(await env.redis.hget(env.key(queue, job.id), 'stc')), {
      timeoutMs: 15000,
      message: 'the blocked job to be recovered as stalled',
    });
    assert.ok(stc >= 1);
    await waitFor(() => checker.stalled.includes(job.id), { message: "the checker's stalled event" });
  });
}

test('registerWorker while the event loop is busy: the first jobs reach the processor only once the worker is set up', { timeout: 30000 }, async (t) => {
  // Jobs are already waiting, so the engine fetches and dispatches a batch as soon as the
  // native worker starts. If the JS thread is busy at that moment (other startup work, a
  // cold start, a loaded machine), the batch and the createWorker result are delivered in
  // the same turn of the event loop, and the batch must still find a usable Worker.
  const env = setup(t, 'jqt-loop-reg');
  const c = env.coordinator;
  const queue = 'startup';
  const job = await c.enqueueJob(queue, 'early', { n: 1 }, { attempts: 1 });

  const uncaught = [];
  const onUncaught = (err) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));

  const seen = [];
  const registering = c.registerWorker(queue, async (j, ctx) => {
    seen.push({ id: j.id, workerId: ctx.workerId });
    return 'ok';
  });
  // node:test ends a test at its first uncaught exception and runs the after hooks while the
  // body still runs: close this worker there too, and read Redis directly below (the
  // coordinator would reconnect after its shutdown and keep the process alive).
  env.onClose(async () => {
    const w = await registering.catch(() => null);
    if (w) await w.close(2000);
  });
  // Other synchronous startup work, right after the native worker has been asked to start.
  setImmediate(() => blockEventLoop(200));
  const worker = await registering;

  const jobKey = env.key(queue, job.id);
  await waitFor(async () => (await env.redis.hget(jobKey, 'finishedOn')) || uncaught.length > 0, {
    timeoutMs: 5000,
    message: 'the waiting job to be processed',
  });
  assert.deepEqual(uncaught.map((e) => e.message), [], 'no exception thrown from the batch callback');
  assert.deepEqual(seen, [{ id: job.id, workerId: worker.id }]);
  assert.equal(await env.redis.hget(jobKey, 'returnvalue'), '"ok"');
});
