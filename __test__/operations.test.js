'use strict';
// Operations (issue 6) against a real Redis: queues declared, listed, paused for every
// worker (BullMQ's too), cleaned and destroyed; workers seen, paused and closed across
// processes; a rate limit shared by several workers; worker pools scaled by hand and by
// auto-scaling; graceful shutdown on SIGTERM.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue, Worker: BullWorker } = require('bullmq');
const { QueueExistsError, ValidationError, WorkerNotFoundError, QUEUE_TYPES } = require('..');
const { REDIS_URL, RAW_REDIS_URL, waitFor, setupCoordinators } = require('./helpers');
const { startWorkerProcess } = require('./fixtures/worker-process');

const setup = (t, config) => setupCoordinators(t, 'jqt-ops', config);
const sleepless = (ms) => new Promise((r) => setTimeout(r, ms)); // job work, not synchronisation

test('createQueue stores the whole config for every process; presets apply by name; a second create is an error', async (t) => {
  const env = setup(t);
  const config = {
    name: 'orders',
    concurrency: 3,
    rateLimit: { max: 10, duration: 1000 },
    defaultJobOptions: { priority: 2 },
    stalledInterval: 5000,
    maxStalledCount: 2,
    cleanup: { enabled: true, removeOnComplete: 5, removeOnFail: 5, completedJobAge: 3600_000, failedJobAge: 3600_000, interval: 60_000 },
  };
  await env.c.createQueue(config);
  await assert.rejects(env.c.createQueue(config), QueueExistsError);
  await env.c.createQueue('photo-processing', {});
  const other = env.make();
  const all = await other.refreshQueues();
  assert.deepEqual([...other.getAllQueues().keys()], [...all.keys()], 'getAllQueues gives the refreshed view at once');
  assert.deepEqual([...all.keys()], ['orders', 'photo-processing']);
  assert.deepEqual(all.get('orders').config.rateLimit, { max: 10, duration: 1000 });
  const photo = all.get('photo-processing').config;
  assert.equal(photo.type, 'photo-processing');
  assert.deepEqual(photo.defaultJobOptions, QUEUE_TYPES['photo-processing'].defaultOptions.defaultJobOptions);
  assert.equal(photo.stalledInterval, 30000);
  const job = await env.c.enqueueJob('photo-processing', 'process-photo', {});
  assert.equal(job.opts.removeOnComplete, 100, 'the preset’s job defaults apply');
  await assert.rejects(env.c.createQueue({ name: 'x', type: 'nope' }), ValidationError);
  // a BullMQ queue nobody declared is listed too
  const bull = new Queue('legacy', { prefix: env.prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bull.close());
  await bull.add('j', {});
  assert.ok((await other.refreshQueues()).has('legacy'));
});

test('pauseQueue pauses BullMQ workers too; resumeQueue lets everyone go on', async (t) => {
  const env = setup(t);
  const bull = new Queue('paused', { prefix: env.prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bull.close());
  const events = [];
  env.c.on('paused', (e) => events.push(['paused', e.queueName]));
  env.c.on('resumed', (e) => events.push(['resumed', e.queueName]));
  await env.c.pauseQueue('paused');
  assert.equal(await bull.isPaused(), true);
  const ran = [];
  const bw = new BullWorker('paused', async (job) => ran.push(`bull:${job.id}`), { prefix: env.prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bw.close());
  await env.c.registerWorker('paused', async (job) => ran.push(`ours:${job.id}`));
  await env.c.enqueueBulk('paused', [{ data: {} }, { data: {} }, { data: {} }]);
  await sleepless(300); // an observation window: nothing may run while paused
  assert.deepEqual(ran, []);
  assert.equal((await env.c.getQueueStatus('paused')).isPaused, true);
  await env.c.resumeQueue('paused');
  await waitFor(() => ran.length === 3);
  assert.deepEqual(events, [['paused', 'paused'], ['resumed', 'paused']]);
});

test('periodic cleanup removes old finished jobs; destroyQueue removes every key', async (t) => {
  const env = setup(t);
  await env.c.createQueue({ name: 'tidy', cleanup: { enabled: true, removeOnComplete: 2, removeOnFail: 1, interval: 100 } });
  await env.c.registerWorker('tidy', async (job) => {
    if (job.data.fail) throw new Error('no');
    return 1;
  }, { concurrency: 5 });
  await env.c.enqueueBulk('tidy', [...Array(6)].map((_, i) => ({ data: { fail: i < 3 }, options: { attempts: 1 } })));
  await waitFor(async () => {
    const c = (await env.c.getQueueStatus('tidy')).jobCounts;
    return c.completed === 2 && c.failed === 1;
  });
  const redis = env.redis();
  assert.ok((await redis.keys(`${env.prefix}:tidy:*`)).length > 0);
  await env.c.destroyQueue('tidy');
  assert.deepEqual(await redis.keys(`${env.prefix}:tidy:*`), []);
  assert.equal(env.c.getWorkers('tidy').length, 0, 'its workers are closed');
  assert.ok(!env.c.getAllQueues().has('tidy'));
  assert.ok(!(await env.c.refreshQueues()).has('tidy'));
});

test('workers are visible, paused and resumed across processes; unregisterWorker closes one', async (t) => {
  const env = setup(t);
  const remote = startWorkerProcess(REDIS_URL, env.prefix, 'fleet', { CONCURRENCY: '1' });
  t.after(() => remote.close());
  await remote.ready;
  const local = await env.c.registerWorker('fleet', async () => 'local');
  const all = await waitFor(async () => {
    const list = await env.c.getAllWorkers('fleet');
    return list.length === 2 && list;
  });
  const other = all.find((w) => w.id !== local.id);
  assert.equal(other.pid, remote.pid);
  assert.equal(other.status, 'active');
  const status = await env.c.getWorkerStatus(other.id);
  assert.equal(status.queueName, 'fleet');
  assert.ok(status.uptime >= 0 && status.registeredAt instanceof Date);

  await env.c.pauseWorker(other.id);
  await waitFor(async () => (await env.c.getWorkerStatus(other.id)).status === 'paused', { message: 'the remote worker paused' });
  await env.c.pauseWorker(local.id);
  assert.equal((await env.c.getWorkerStatus(local.id)).status, 'paused');
  await env.c.enqueueBulk('fleet', [{ data: {} }, { data: {} }]);
  await sleepless(300); // observation window
  assert.equal((await env.c.getQueueStatus('fleet')).jobCounts.waiting, 2, 'no paused worker takes a job');
  await env.c.resumeWorker(other.id);
  await waitFor(async () => (await env.c.getQueueStatus('fleet')).jobCounts.completed === 2);
  const done = await env.redis().zrange(`${env.prefix}:fleet:completed`, 0, -1);
  for (const id of done) {
    assert.equal((await env.c.getJob('fleet', id)).returnvalue.pid, remote.pid, 'the resumed remote worker ran it');
  }
  await waitFor(async () => (await env.c.getWorkerStatus(other.id)).processedJobs === 2, { message: 'its heartbeat reports the jobs' });

  await assert.rejects(env.c.unregisterWorker(other.id), ValidationError, 'a remote worker is closed where it runs');
  await env.c.unregisterWorker(local.id);
  assert.equal(env.c.getWorkers('fleet').length, 0);
  await assert.rejects(env.c.getWorkerStatus('no-such-worker'), WorkerNotFoundError);
});

test('a worker whose process died is reported stale', async (t) => {
  const env = setup(t);
  const child = startWorkerProcess(REDIS_URL, env.prefix, 'dying', { CONCURRENCY: '1' });
  t.after(() => child.kill('SIGKILL'));
  await child.ready;
  const [entry] = await waitFor(async () => {
    const list = await env.c.getAllWorkers('dying');
    return list.length === 1 && list;
  });
  assert.equal(entry.status, 'active');
  await child.kill('SIGKILL');
  await waitFor(async () => (await env.c.getWorkerStatus(entry.id)).status === 'stale', { timeoutMs: 15000 });
  assert.equal((await env.c.getWorkerMetrics()).totalWorkers, 0, 'stale workers are not counted');
});

test('a rate limit is shared by all workers of a queue (two coordinators, two workers)', async (t) => {
  const env = setup(t);
  const limiter = { max: 3, duration: 300 };
  const other = env.make();
  for (const c of [env.c, other]) await c.registerWorker('limited', async () => 1, { concurrency: 5, limiter });
  const jobs = await env.c.enqueueBulk('limited', [...Array(12)].map(() => ({ data: {} })));
  await waitFor(async () => (await env.c.getQueueStatus('limited')).jobCounts.completed === 12, { timeoutMs: 15000 });
  const starts = (await Promise.all(jobs.map((j) => env.c.getJob('limited', j.id)))).map((j) => j.processedOn).sort((a, b) => a - b);
  for (let i = 0; i + limiter.max < starts.length; i++) {
    assert.ok(starts[i + limiter.max] - starts[i] >= limiter.duration - 5, `jobs ${i}..${i + limiter.max} started within ${starts[i + limiter.max] - starts[i]} ms`);
  }
});

test('a worker pool scales by hand within its bounds and returns ScalingResults', async (t) => {
  const { c } = setup(t);
  const pool = await c.createWorkerPool('pool', { minWorkers: 1, maxWorkers: 3, initialWorkers: 2, processor: async () => 1 });
  assert.equal(pool.currentWorkers, 2);
  assert.equal(c.getWorkers('pool').length, 2);
  assert.deepEqual(await c.scaleWorkerPool('pool', 5), { queueName: 'pool', previousCount: 2, targetCount: 3, actualCount: 3, action: 'scaled_up' });
  assert.deepEqual(await c.scaleWorkers('pool', 0), { queueName: 'pool', previousCount: 3, targetCount: 1, actualCount: 1, action: 'scaled_down' });
  assert.equal(c.getWorkers('pool').length, 1);
  assert.equal((await c.scaleWorkers('pool', 1)).action, 'no_change');
  await assert.rejects(c.createWorkerPool('pool2', { minWorkers: 3, maxWorkers: 2, processor: async () => 1 }), ValidationError);
});

test('auto-scaling grows a pool under a backlog and shrinks it when idle, within bounds and cooldowns', async (t) => {
  const { c } = setup(t);
  await c.createWorkerPool('auto', {
    minWorkers: 1,
    maxWorkers: 4,
    initialWorkers: 1,
    processor: async () => sleepless(20),
  });
  await c.enqueueBulk('auto', [...Array(150)].map(() => ({ data: {} })));
  const policy = {
    targetProcessingTime: 500,
    scalingFactor: 1.2,
    scaleUpCooldown: 200,
    scaleDownCooldown: 200,
    maxScaleUpStep: 1,
    maxScaleDownStep: 2,
    checkInterval: 50,
  };
  await c.enableAutoScaling('auto', policy);
  await waitFor(() => c.getWorkerPool('auto').currentWorkers === 4, { timeoutMs: 15000, message: 'the pool grows to max' });
  await waitFor(() => c.getWorkerPool('auto').currentWorkers === 1, { timeoutMs: 20000, message: 'the pool shrinks to min when idle' });
  await c.disableAutoScaling('auto');
  const { history } = c.getWorkerPool('auto');
  const auto = history.filter((h) => h.reason === 'auto');
  const ups = auto.filter((h) => h.to > h.from);
  const downs = auto.filter((h) => h.to < h.from);
  assert.deepEqual(ups.map((h) => h.to), [2, 3, 4], 'one worker per step up');
  for (const h of auto) assert.ok(h.to >= 1 && h.to <= 4, JSON.stringify(h));
  for (const h of downs) assert.ok(h.from - h.to <= 2, 'at most two per step down');
  for (const list of [ups, downs]) {
    for (let i = 1; i < list.length; i++) {
      assert.ok(list[i].at - list[i - 1].at >= 200, `cooldown respected: ${list[i].at - list[i - 1].at} ms`);
    }
  }
  assert.equal((await c.getQueueStatus('auto')).jobCounts.completed, 150);
});

test('SIGTERM shuts a worker process down gracefully: exit code 0, running jobs finish, none is lost', async (t) => {
  const env = setup(t);
  const child = startWorkerProcess(REDIS_URL, env.prefix, 'term', { CONCURRENCY: '4', SIGNALS: '1', SHUTDOWN_TIMEOUT: '5000' });
  t.after(() => child.kill('SIGKILL'));
  await child.ready;
  await env.c.enqueueBulk('term', [...Array(12)].map((_, n) => ({ data: { n, holdMs: 300 } })));
  await waitFor(() => child.inFlight.size === 4, { message: 'four jobs running in the child' });
  const exit = await child.kill('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null });
  const counts = (await env.c.getQueueStatus('term')).jobCounts;
  assert.equal(counts.active, 0, 'nothing left in active');
  assert.equal(counts.completed, 4, 'the running jobs finished');
  assert.equal(counts.waiting, 8);
  await env.c.registerWorker('term', async () => 'rest', { concurrency: 4 });
  await waitFor(async () => (await env.c.getQueueStatus('term')).jobCounts.completed === 12);
});

test('SIGTERM with a short timeout gives unfinished jobs back to waiting', async (t) => {
  const env = setup(t);
  const child = startWorkerProcess(REDIS_URL, env.prefix, 'short', { CONCURRENCY: '2', SIGNALS: '1', SHUTDOWN_TIMEOUT: '100' });
  t.after(() => child.kill('SIGKILL'));
  await child.ready;
  await env.c.enqueueBulk('short', [{ data: { holdMs: 5000 } }, { data: { holdMs: 5000 } }]);
  await waitFor(() => child.inFlight.size === 2);
  const exit = await child.kill('SIGTERM');
  assert.equal(exit.code, 0);
  const counts = (await env.c.getQueueStatus('short')).jobCounts;
  assert.deepEqual([counts.active, counts.waiting, counts.completed], [0, 2, 0]);
});
