'use strict';
// The design's queue, scheduling, worker and worker-pool managers, called the way the
// design's code calls them: through the coordinator's sub-manager properties
// (`coordinator.queueManager.getQueueNames()`), in each call form the design uses, against a
// real Redis. The flat facade methods are the same functions (checked once here).

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue: BullQueue } = require('bullmq');
const {
  JobQueueCoordinator,
  JobQueueCoordinatorImpl,
  QueueManagerImpl,
  JobSchedulerImpl,
  WorkerManagerImpl,
  WorkerPoolManagerImpl,
  QUEUE_TYPES,
  ValidationError,
  Queue,
} = require('..');
const { REDIS_URL, RAW_REDIS_URL, waitFor, setupCoordinators } = require('./helpers');
const { ManagedWorker } = require('../lib/managers/worker-manager');

const setup = (t, config) => setupCoordinators(t, 'jqt-mgr', config);

test('the coordinator is composed of the design managers; JobQueueCoordinatorImpl is the same class', (t) => {
  assert.equal(JobQueueCoordinatorImpl, JobQueueCoordinator);
  const { c } = setup(t);
  assert.ok(c.queueManager instanceof QueueManagerImpl);
  assert.ok(c.jobScheduler instanceof JobSchedulerImpl);
  assert.ok(c.workerManager instanceof WorkerManagerImpl);
  assert.ok(c.workerPoolManager instanceof WorkerPoolManagerImpl);
  for (const name of ['retryHandler', 'deadLetterHandler', 'metricsCollector', 'healthChecker']) {
    assert.equal(typeof c[name], 'object', `coordinator.${name}`);
  }
});

test('queueManager: createQueue (both forms), getQueue, getAllQueues (sync Map), getQueueNames, pause/resume, getQueueStatus with health.metrics, destroyQueue', { timeout: 20000 }, async (t) => {
  const { c, make, prefix } = setup(t);
  const qm = c.queueManager;
  // 003's form: (name, config), where config is a QueueConfig, which carries the name too
  const orders = await qm.createQueue('orders', { name: 'orders', concurrency: 2, defaultJobOptions: { priority: 3 } });
  assert.equal(orders.name, 'orders');
  // 001's form: (config)
  await qm.createQueue({ name: 'photo-processing' });
  assert.equal(qm.getQueue('orders'), orders, 'getQueue returns the queue createQueue returned');
  // it is a BullMQ Queue on the coordinator's connection, with the queue's job defaults
  assert.ok(orders instanceof Queue);
  const direct = await orders.add('direct', { a: 1 });
  assert.equal(direct.priority, 3, "the queue's defaultJobOptions apply to Queue.add");
  assert.equal(await direct.getState(), 'prioritized');
  assert.deepEqual(await orders.getJobCounts('prioritized', 'waiting'), { prioritized: 1, waiting: 0 });
  await direct.remove();
  assert.equal(qm.getQueue('nope'), null);

  const all = qm.getAllQueues();
  assert.ok(all instanceof Map, 'getAllQueues is synchronous and returns a Map');
  assert.deepEqual([...all.keys()], ['orders', 'photo-processing']);
  for (const [name, queue] of qm.getAllQueues()) assert.equal(queue.name, name);

  // a BullMQ queue nobody declared is found in Redis by refreshQueues, then listed by the
  // synchronous getQueueNames / getAllQueues
  const bull = new BullQueue('legacy', { prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bull.close());
  await bull.add('j', { x: 1 });
  const admin = make();
  assert.deepEqual(admin.queueManager.getQueueNames(), [], 'nothing known before the first refresh');
  await admin.queueManager.refreshQueues();
  assert.deepEqual(admin.queueManager.getQueueNames(), ['legacy', 'orders', 'photo-processing']);
  assert.ok(admin.queueManager.getAllQueues().has('legacy'));
  assert.equal(admin.queueManager.getQueue('legacy').name, 'legacy');

  await qm.pauseQueue('orders');
  assert.equal(await bull.isPaused(), false, 'pausing one queue leaves the others');
  let status = await qm.getQueueStatus('orders');
  assert.equal(status.isPaused, true);
  await qm.resumeQueue('orders');

  await c.jobScheduler.enqueueJob('orders', { type: 'o' });
  status = await qm.getQueueStatus('orders');
  assert.equal(status.isPaused, false);
  // the design's backlog check reads counts.waiting: a prioritized job is counted there
  assert.equal(status.counts.waiting, 1);
  assert.equal(status.jobCounts.prioritized, 1);
  assert.equal(typeof status.health.status, 'string');
  // the design's monitoring example reads these three
  for (const k of ['errorRate', 'throughput', 'averageProcessingTime']) {
    assert.equal(typeof status.health.metrics[k], 'number', `status.health.metrics.${k}`);
  }

  await qm.destroyQueue('orders');
  assert.equal(qm.getQueue('orders'), null);
  assert.ok(!qm.getAllQueues().has('orders'));
  assert.ok(!qm.getQueueNames().includes('orders'));
});

test('QUEUE_TYPES carry the design shape: defaultOptions { defaultJobOptions, settings }', () => {
  const photo = QUEUE_TYPES['photo-processing'];
  assert.deepEqual(photo.defaultOptions.settings, { stalledInterval: 30000, retryProcessDelay: 5000, maxStalledCount: 1 });
  assert.equal(photo.defaultOptions.defaultJobOptions.attempts, 3);
  assert.deepEqual(photo.scaling, { minWorkers: 2, maxWorkers: 10, scalingThreshold: 50 });
});

test('jobScheduler: scheduleJob, scheduleRecurringJob (5 and 4 arguments), getScheduledJobs, updateJobPriority, cancelJob, cancelScheduledJob, retryJob → boolean', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const js = c.jobScheduler;
  const later = await js.scheduleJob('mail', 'reminder', { to: 'a' }, { delayMs: 60_000, priority: 2 });
  assert.ok(later.id);
  assert.match(later.traceId, /^trace_\d+_[0-9a-f]+$/);

  // 003's form: a cron expression, resolving to a RepeatableJob
  const daily = await js.scheduleRecurringJob('mail', 'digest', { kind: 'daily' }, '0 9 * * *', { timezone: 'Europe/Berlin' });
  assert.equal(daily.cronExpression, '0 9 * * *');
  assert.ok(daily.nextRun instanceof Date && daily.nextRun.getTime() > Date.now());
  // 001's form: options only, resolving to the Job of the first run
  const first = await js.scheduleRecurringJob('mail', 'flush', { n: 1 }, { cronExpression: '*/5 * * * *', maxRuns: 3 });
  assert.equal(first.name, 'flush');
  assert.deepEqual(first.data, { n: 1 });
  assert.equal(first.repeatJobKey, 'flush');
  await assert.rejects(js.scheduleRecurringJob('mail', 'none', {}, { maxRuns: 3 }), ValidationError);

  const scheduled = await js.getScheduledJobs('mail');
  assert.deepEqual(scheduled.map((j) => j.name).sort(), ['digest', 'flush', 'reminder']);

  await js.updateJobPriority('mail', later.id, 1);
  assert.equal((await c.getJob('mail', later.id)).priority, 1);

  assert.equal(await js.cancelJob('mail', later.id), true);
  assert.equal(await js.cancelJob('mail', later.id), false, 'a second cancel finds nothing');
  assert.equal(await js.cancelJob('mail', 'no-such-job'), false);
  await js.cancelScheduledJob('mail', 'digest');
  assert.deepEqual((await js.getScheduledJobs('mail')).map((j) => j.name), ['flush']);

  // retryJob resolves a boolean in both forms
  const failing = await c.workerManager.registerWorker('pay', async () => {
    throw new Error('card declined');
  });
  const job = await js.enqueueJob('pay', { amount: 5 }, { attempts: 1 });
  await waitFor(async () => (await c.getJob('pay', job.id))?.failedReason, { message: 'the job failed' });
  await failing.close();
  assert.equal(await js.retryJob('pay', job.id), true);
  assert.equal(await js.retryJob('pay', job.id), false, 'no longer failed');
  assert.equal(c.retryJob, JobQueueCoordinator.prototype.retryJob);
});

test('workerManager: registerWorker (both forms), getWorker, getWorkersByQueue, getWorkers, getWorkerStatus, getAllWorkerStatus, pause/resume, scaleWorkers, closeWorker, unregisterWorker', { timeout: 30000 }, async (t) => {
  const { c } = setup(t);
  const wm = c.workerManager;
  const processed = [];
  const processor = async (job) => {
    processed.push(job.id);
    return { ok: true };
  };
  // 003's form: (queue, processor, options) → the worker
  const w1 = await wm.registerWorker('photos', processor, { concurrency: 2 });
  assert.equal(w1.queueName, 'photos');
  // 001's form: (WorkerConfig) → the ManagedWorker
  const managed = await wm.registerWorker({ queueName: 'photos', processor, concurrency: 1 });
  assert.ok(managed instanceof ManagedWorker);
  assert.equal(managed.queueName, 'photos');
  assert.equal(managed.processor, processor);
  assert.equal(managed.status, 'active');
  assert.ok(managed.registeredAt instanceof Date);
  assert.ok(managed.lastActivity instanceof Date, 'lastActivity is a Date before any job');

  assert.equal(wm.getWorker(managed.id), managed);
  assert.equal(wm.getWorker('nope'), null);
  assert.deepEqual(wm.getWorkersByQueue('photos').map((m) => m.id).sort(), [w1.id, managed.id].sort());
  assert.equal(wm.getWorkers('photos').length, 2);
  assert.equal(wm.getWorkers().length, 2);

  const job = await c.enqueueJob('photos', { type: 'resize' });
  await waitFor(() => processed.includes(job.id), { message: 'the job ran' });
  await waitFor(async () => (await wm.getAllWorkerStatus()).reduce((n, s) => n + s.processedJobs, 0) === 1, {
    message: 'the registry counts the processed job',
  });
  const statuses = await wm.getAllWorkerStatus();
  assert.deepEqual(statuses.map((s) => s.id).sort(), [w1.id, managed.id].sort());
  for (const s of statuses) assert.ok(s.lastActivity instanceof Date);

  const st = await wm.getWorkerStatus(w1.id);
  assert.equal(st.queueName, 'photos');
  assert.ok(st.lastActivity instanceof Date);

  await wm.pauseWorker(managed.id);
  assert.equal((await wm.getWorkerStatus(managed.id)).status, 'paused');
  await wm.resumeWorker(managed.id);
  assert.equal((await wm.getWorkerStatus(managed.id)).status, 'active');

  const up = await wm.scaleWorkers('photos', 3);
  assert.deepEqual({ ...up }, { queueName: 'photos', previousCount: 2, targetCount: 3, actualCount: 3, action: 'scaled_up' });
  const down = await c.scaleWorkers('photos', 1);
  assert.equal(down.actualCount, 1);
  assert.equal(down.action, 'scaled_down');

  const [last] = wm.getWorkers('photos');
  await wm.closeWorker(last.id);
  assert.equal(wm.getWorkers('photos').length, 0);
  const again = await wm.registerWorker('photos', processor);
  await wm.unregisterWorker(again.id);
  assert.equal(wm.getWorker(again.id), null);
});

test('workerPoolManager: createWorkerPool (autoScaling: true starts a policy), scaleWorkerPool, enable/disableAutoScaling, getWorkerPool, getAllWorkerPools', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const pm = c.workerPoolManager;
  const processor = async () => 'done';
  const pool = await pm.createWorkerPool('render', { minWorkers: 1, maxWorkers: 4, initialWorkers: 2, autoScaling: true, processor });
  assert.equal(pool.currentWorkers, 2);
  assert.equal(pool.autoScaling, true, 'WorkerPoolConfig.autoScaling: true enables the default policy');
  assert.equal(c.workerManager.getWorkers('render').length, 2);

  const r = await pm.scaleWorkerPool('render', 9);
  assert.equal(r.actualCount, 4, 'clamped to maxWorkers');
  await pm.disableAutoScaling('render');
  assert.equal(pm.getWorkerPool('render').autoScaling, false);
  await pm.enableAutoScaling('render', {
    targetProcessingTime: 1000,
    scalingFactor: 1,
    scaleUpCooldown: 0,
    scaleDownCooldown: 0,
    maxScaleUpStep: 1,
    maxScaleDownStep: 1,
    checkInterval: 50,
  });
  // nothing waits, so the policy steps the pool down towards minWorkers
  await waitFor(() => pm.getWorkerPool('render').currentWorkers === 1, { message: 'auto-scaled down to minWorkers' });
  assert.ok(pm.getAllWorkerPools().has('render'));
  assert.equal(pm.getWorkerPool('nope'), null);
});

test('jobScheduler.enqueueJob: 100 same-tick calls travel in batches, yet ids and waiting events keep call order', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const heard = [];
  c.on('waiting', (e) => heard.push(e.jobId));
  const jobs = await Promise.all(Array.from({ length: 100 }, (_, i) => c.jobScheduler.enqueueJob('orderly', { i })));
  const ids = jobs.map((j) => j.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids follow call order');
  assert.deepEqual(jobs.map((j) => j.data.i), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(heard, ids, 'waiting events in call order');
});
