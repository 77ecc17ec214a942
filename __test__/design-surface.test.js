'use strict';
// The design's surface where it used to differ from ours: the `repeat` job option, recurring
// jobs of `{ every }` schedules, the synchronous queue names, waiting counts, the design's
// metric units, its logger form and the worker repository's answers. Each runs the design's
// call form against a real Redis.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue: BullQueue } = require('bullmq');
const { Queue, ValidationError, JobQueueCoordinator, createLogger } = require('..');
const { REDIS_URL, RAW_REDIS_URL, waitFor, setupCoordinators } = require('./helpers');
const { inDesignUnits } = require('../lib/managers/metrics-collector');

const setup = (t, config) => setupCoordinators(t, 'jqt-surface', config);

test('enqueueJob with repeat (the design form) creates one job scheduler and resolves to its first run', async (t) => {
  const { c } = setup(t);
  const start = new Date(Date.now() + 3_600_000);
  const job = await c.enqueueJob('reports', 'daily', { kind: 'sales' }, {
    priority: 2,
    repeat: { cron: '0 6 * * *', tz: 'Europe/Paris', startDate: start, limit: 30 },
  });
  assert.equal(await job.getState(), 'delayed', 'the first run waits for its time');
  assert.equal(job.name, 'daily');
  assert.deepEqual(job.data, { kind: 'sales' });
  assert.equal(job.opts.priority, 2, 'the other options are the runs’ options');
  const [rec] = await c.getRecurringJobs('reports');
  assert.equal(rec.id, 'daily');
  assert.equal(rec.cronExpression, '0 6 * * *');
  assert.equal(rec.timezone, 'Europe/Paris');
  assert.equal(rec.maxRuns, 30);
  assert.ok(rec.nextRun.getTime() >= start.getTime(), 'no run before startDate');

  // enqueueing it again at the next start-up updates the one schedule
  await c.enqueueJob('reports', 'daily', { kind: 'sales' }, { repeat: { cron: '0 7 * * *', tz: 'Europe/Paris' } });
  const list = await c.getRecurringJobs('reports');
  assert.equal(list.length, 1);
  assert.equal(list[0].cronExpression, '0 7 * * *');
  const counts = await c.getQueue('reports').getJobCounts();
  assert.equal(counts.delayed + counts.waiting + counts.prioritized, 1, 'one pending run, not two');
});

test('enqueueJob with repeat every runs the job on schedule, limit times', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const runs = [];
  await c.registerWorker('ticks', async (job) => {
    runs.push(job.data.n);
  });
  // the design's one-argument data form: the name is data.type
  const first = await c.enqueueJob('ticks', { type: 'tick', n: 1 }, { repeat: { every: 150, limit: 3 } });
  assert.equal(first.name, 'tick');
  await waitFor(() => runs.length === 3, { message: 'three runs' });
  // after the third run no further run is pending: the limit ended the schedule
  const counts = await waitFor(async () => {
    const n = await c.getQueue('ticks').getJobCounts();
    return n.completed === 3 && n;
  }, { message: 'the third run completed' });
  assert.equal(counts.delayed + counts.waiting + counts.prioritized + counts.active, 0);
  assert.deepEqual(runs, [1, 1, 1]);
});

test('a bad repeat option is a ValidationError and writes nothing', async (t) => {
  const { c } = setup(t);
  await c.createQueue('strict');
  const bad = [
    { every: 100, cron: '* * * * *' },
    {},
    { evry: 100 },
    { every: 100, count: 3 },
    'daily',
  ];
  for (const repeat of bad) {
    await assert.rejects(c.enqueueJob('strict', { type: 'x' }, { repeat }), ValidationError, JSON.stringify(repeat));
    await assert.rejects(c.getQueue('strict').add('x', {}, { repeat }), ValidationError, JSON.stringify(repeat));
  }
  // a bulk add takes no repeat (it would add plain jobs): refused, and nothing of the bulk is written
  await assert.rejects(c.enqueueBulk('strict', [{ data: { type: 'ok' } }, { data: { type: 'r' }, options: { repeat: { every: 100 } } }]), ValidationError);
  await assert.rejects(c.getQueue('strict').addBulk([{ name: 'ok', data: {} }, { name: 'r', data: {}, opts: { repeat: { every: 100 } } }]), ValidationError);
  assert.deepEqual(await c.getRecurringJobs('strict'), []);
  const counts = await c.getQueue('strict').getJobCounts();
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0);
});

test("Queue.add with repeat creates a job scheduler BullMQ's own Queue lists", async (t) => {
  const { c, prefix } = setup(t);
  const queue = new Queue('sync', { prefix, connection: { url: REDIS_URL } });
  t.after(() => queue.close());
  const job = await queue.add('pull', { source: 'crm' }, { repeat: { pattern: '*/10 * * * *' }, attempts: 4 });
  assert.equal(job.repeatJobKey, 'pull');
  assert.equal(job.opts.attempts, 4);
  const bull = new BullQueue('sync', { prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bull.close());
  const [s] = await bull.getJobSchedulers();
  assert.equal(s.key, 'pull');
  assert.equal(s.pattern, '*/10 * * * *');
  // the options the design's JobScheduler builds for a recurring job, unset fields and all
  const designOpts = {
    repeat: { cron: '0 2 * * *', tz: 'UTC', startDate: undefined, endDate: undefined, limit: undefined },
    priority: 0,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: 10,
    removeOnFail: 5,
  };
  const designQueue = await c.createQueue('sync'); // the queue the design's scheduler adds to
  const nightly = await designQueue.add('nightly', { full: true }, designOpts);
  assert.equal(nightly.repeatJobKey, 'nightly');
  assert.equal((await c.getRecurringJobs('sync')).find((r) => r.id === 'nightly').cronExpression, '0 2 * * *');
  // repeat.key names the scheduler; a second one lives beside the first
  await queue.add('pull', { source: 'erp' }, { repeat: { every: 60_000, key: 'pull-erp' } });
  assert.deepEqual((await c.getRecurringJobs('sync')).map((r) => r.id).sort(), ['nightly', 'pull', 'pull-erp']);
});

test('an every-schedule is a RepeatableJob with a string cronExpression and a Date nextRun', async (t) => {
  const { c } = setup(t);
  const rep = await c.scheduleRecurringJob('beats', 'beat', { v: 1 }, { every: 60_000 }, {});
  assert.equal(rep.cronExpression, '');
  assert.equal(rep.every, 60_000);
  assert.ok(rep.nextRun instanceof Date && !Number.isNaN(rep.nextRun.getTime()));
  const [listed] = await c.jobScheduler.getRecurringJobs('beats');
  assert.equal(listed.cronExpression, '');
  assert.ok(listed.nextRun instanceof Date);
  assert.equal(typeof listed.nextRun.getTime(), 'number');
});

test('getQueueNames answers at once with an array; refreshQueues reads Redis now', async (t) => {
  const { c, make } = setup(t);
  await c.createQueue('alpha');
  const names = c.queueManager.getQueueNames();
  assert.ok(Array.isArray(names), 'not a promise');
  assert.deepEqual(names, ['alpha']);
  await c.enqueueJob('beta', { type: 'x' });
  const other = make();
  await other.refreshQueues();
  assert.deepEqual(other.getQueueNames(), ['alpha', 'beta']);
});

test("getQueueStatus: counts.waiting includes prioritized jobs (the design's backlog check sees them); jobCounts is BullMQ's", async (t) => {
  const { c } = setup(t);
  await c.enqueueJob('backlog', { type: 'a' }, { priority: 1 });
  await c.enqueueJob('backlog', { type: 'b' }, { priority: 5 });
  await c.enqueueJob('backlog', { type: 'c' });
  const status = await c.getQueueStatus('backlog');
  assert.equal(status.counts.waiting, 3, "the design's backlog: every job ready to run");
  assert.equal(status.counts.prioritized, 2);
  // jobCounts is BullMQ's getJobCounts, which keeps the two apart
  assert.equal(status.jobCounts.waiting, 1);
  assert.equal(status.jobCounts.prioritized, 2);
  assert.deepEqual(await c.getQueue('backlog').getJobCounts('waiting', 'prioritized'), { waiting: 1, prioritized: 2 });
});

test("getQueueMetrics: processingRate per minute over 5 minutes, throughput per second over the last minute, errorRate over the hour", { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  await c.registerWorker('units', async (job) => {
    if (job.data.fail) throw new Error('no');
  }, { concurrency: 4 });
  for (let i = 0; i < 9; i++) await c.enqueueJob('units', { type: 'ok', i });
  await c.enqueueJob('units', { type: 'bad', fail: true }, { attempts: 1 });
  const m = await waitFor(async () => {
    const r = await c.getQueueMetrics('units');
    return sum(r.completedPerMinute) + sum(r.failedPerMinute) === 10 && r;
  }, { message: 'ten jobs finished and counted' });
  assert.equal(m.processingRate, 10 / 5, 'ten jobs in the last 5 minutes → 2 per minute');
  assert.ok(m.throughput > 0 && m.throughput <= 9 / 60, `throughput ${m.throughput} (9 completed within the last minute at most)`);
  assert.equal(m.errorRate, 1 / 10);
  // the flat QueueMetrics fields of the design
  assert.equal(m.activeWorkers, 1);
  assert.equal(m.waiting, 0);
});

test('the design units from per-minute series (the current minute first)', () => {
  const minute = 60_000;
  const at = 10 * minute + 15_000; // a quarter into the current minute
  const m = inDesignUnits(
    { completedPerMinute: [6, 60, 10, 0, 4, 100], failedPerMinute: [0, 0, 0, 20, 0, 0], errorRate: 0.5 },
    at,
  );
  assert.equal(m.processingRate, (6 + 60 + 10 + 20 + 4) / 5, 'the current minute and the 4 before it');
  assert.equal(m.throughput, (6 + 60 * 0.75) / 60, 'the current quarter minute and three quarters of the previous one');
  assert.equal(m.errorRate, 20 / (180 + 20));
  assert.equal(inDesignUnits({ completedPerMinute: [], failedPerMinute: [], errorRate: 0 }, at).errorRate, 0);
});

test("a config logger is called as the design calls it, (message, fields); pino's as (fields, message)", async (t) => {
  const seen = [];
  const design = { debug() {}, info: (...a) => seen.push(['design', ...a]), warn() {}, error() {} };
  const { c } = setup(t, { logger: design });
  await c.registerWorker('logs', async () => {});
  const registered = seen.find((e) => e[1] === 'worker registered');
  assert.ok(registered, 'the message comes first');
  assert.equal(registered[2].queue, 'logs');

  const pinoLike = { levels: { values: { info: 30 } }, debug() {}, info: (...a) => seen.push(['pino', ...a]), warn() {}, error() {} };
  const p = new JobQueueCoordinator({ redis: { url: REDIS_URL }, logger: pinoLike });
  p.logger.info('hello', { a: 1 });
  assert.deepEqual(seen.at(-1), ['pino', { a: 1 }, 'hello']);

  const forced = new JobQueueCoordinator({ redis: { url: REDIS_URL }, logger: design, loggerStyle: 'pino' });
  forced.logger.info('hi', { b: 2 });
  assert.deepEqual(seen.at(-1), ['design', { b: 2 }, 'hi']);
  assert.throws(() => new JobQueueCoordinator({ logger: design, loggerStyle: 'winston' }), ValidationError);
  assert.throws(() => createLogger({ target: design, style: 'x' }), ValidationError);
});

test("getWorker answers null for an unknown id; a closed worker's status is one of the design's", { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const wm = c.workerManager;
  assert.equal(wm.getWorker('nope'), null);
  assert.equal(c.getWorker('nope'), null);
  const managed = await wm.registerWorker({ queueName: 'repo', processor: async () => 1 });
  assert.equal(wm.getWorker(managed.id), managed);
  const status = await wm.getWorkerStatus(managed.id);
  assert.ok(['active', 'paused', 'error', 'stale'].includes(status.status));
  await wm.closeWorker(managed.id);
  assert.equal(managed.status, 'stale', 'closed: it takes no more jobs');
  assert.equal(wm.getWorker(managed.id), null);
});

test('deadLetterHandler.archiveFailedJob / purgeFailedJobs and metricsCollector.collectMetrics, through the managers as the design calls them', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  await c.registerWorker('dead', async () => {
    throw new TypeError('bad input');
  });
  for (const id of ['x', 'y', 'z']) await c.enqueueJob('dead', 'parse', { id }, { attempts: 1, jobId: id });
  const dlq = c.deadLetterHandler;
  await waitFor(async () => (await dlq.getFailedJobs('dead')).length === 3, { message: 'three dead letters' });

  await dlq.archiveFailedJob('dead', 'x');
  const left = await dlq.getFailedJobs('dead');
  assert.deepEqual(left.map((f) => f.id).sort(), ['y', 'z']);
  assert.equal(left[0].error.name, 'TypeError');
  assert.ok(left[0].failedAt instanceof Date);

  // the design's form: a Date; nothing failed before an hour ago, everything before now
  assert.equal(await dlq.purgeFailedJobs('dead', new Date(Date.now() - 3_600_000)), 0);
  assert.equal(await dlq.purgeFailedJobs('dead', new Date(Date.now() + 1)), 2);
  assert.deepEqual(await dlq.getFailedJobs('dead'), []);
  assert.equal((await dlq.getFailedJobStatistics('dead')).totalFailedJobs, 0);

  // workers send their metric counts about once a second
  await waitFor(async () => sum((await c.metricsCollector.getQueueMetrics('dead')).failedPerMinute) === 3, { message: 'failures counted' });
  const snapshot = await c.metricsCollector.collectMetrics();
  assert.ok(snapshot.timestamp instanceof Date);
  const dead = snapshot.queues.get('dead');
  assert.equal(dead.name, 'dead');
  assert.equal(dead.errorRate, 1, 'every finished job failed for good');
  assert.equal(dead.processingRate, 3 / 5, 'three finished within 5 minutes, per minute');
  assert.equal(snapshot.workers.totalWorkers, 1);
  assert.ok(snapshot.system.memory.heapUsed > 0);
});

test("the design's JobOptions.data (its scheduler's metadata copy) is kept in job.opts as BullMQ keeps it; job.data is the data argument", async (t) => {
  const { c } = setup(t);
  const meta = { id: 1, _metadata: { scheduledBy: 'job-scheduler', traceId: 'trace_1_a' } };
  const job = await c.enqueueJob('meta', 'm', { id: 1 }, { data: meta });
  const stored = await c.getJob('meta', job.id);
  assert.deepEqual(stored.data, { id: 1 });
  assert.deepEqual(stored.opts.data, meta);
});

function sum(series) {
  return series.reduce((a, b) => a + b, 0);
}
