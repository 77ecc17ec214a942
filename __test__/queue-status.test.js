'use strict';
// getQueueStatus against a real Redis: counts, workers, isPaused, processingRate and
// averageProcessingTime computed from what actually ran.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Queue } = require('bullmq');
const { REDIS_URL, RAW_REDIS_URL, waitFor, setupCoordinators } = require('./helpers');
const { deferred, record } = require('./api-helpers');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-queue-status', config);

test('getQueueStatus: counts, workers, isPaused, processingRate and averageProcessingTime are real', { timeout: 20000 }, async (t) => {
  const { c, make, prefix } = setup(t);
  const gate = deferred();
  const worker = await c.registerWorker('stats', async (job) => {
    if (job.name === 'hold') return gate.promise;
    await new Promise((r) => setTimeout(r, 20 + 15 * job.data.i)); // the job's work
    if (job.data.fail) throw new Error('planned');
    return job.data.i;
  }, { concurrency: 1 });
  const ev = record(worker);
  const done = await c.enqueueBulk('stats', [
    { data: { i: 0 } },
    { data: { i: 1 } },
    { data: { i: 2, fail: true }, options: { attempts: 1 } },
    { data: { i: 3 } },
  ]);
  await waitFor(() => ev.completed.length + ev.failed.length === 4, { message: '4 finished' });
  await c.enqueueJob('stats', 'hold', {});
  await waitFor(() => ev.active.length === 5, { message: 'hold active' });
  await c.enqueueJob('stats', { i: 9 });
  await c.enqueueJob('stats', { i: 9 }, { priority: 4 });
  await c.enqueueJob('stats', { i: 9 }, { delay: 60000 });

  const status = await c.getQueueStatus('stats');
  assert.equal(status.name, 'stats');
  assert.equal(status.isPaused, false);
  assert.deepEqual(status.jobCounts, { waiting: 1, active: 1, completed: 3, failed: 1, delayed: 1, prioritized: 1 });
  // counts: the design's backlog view, waiting with the prioritized job included
  assert.deepEqual(status.counts, { ...status.jobCounts, waiting: 2 });
  assert.equal(status.workers, 1);

  // processingRate: finished jobs per second over the last minute.
  assert.ok(Math.abs(status.processingRate - 4 / 60) < 1e-6, `processingRate ${status.processingRate}, expected 4/60`);
  // averageProcessingTime: mean finishedOn − processedOn of the finished jobs.
  const stored = await Promise.all(done.map((j) => c.getJob('stats', j.id)));
  const mean = stored.reduce((s, j) => s + (j.finishedOn - j.processedOn), 0) / stored.length;
  assert.ok(mean >= 20, `the jobs took time (${mean} ms)`);
  assert.ok(Math.abs(status.averageProcessingTime - mean) <= 1, `averageProcessingTime ${status.averageProcessingTime}, expected ${mean}`);

  // Another coordinator (another process, say) sees the same queue without having used it.
  const other = make();
  const seen = await other.getQueueStatus('stats');
  assert.deepEqual(seen.jobCounts, status.jobCounts);
  assert.equal(seen.workers, 1, 'workers of any process are counted');

  // A queue paused through BullMQ reads as paused.
  const bull = new Queue('stats', { prefix, connection: { url: RAW_REDIS_URL } });
  t.after(() => bull.close());
  await bull.pause();
  assert.equal((await c.getQueueStatus('stats')).isPaused, true);
  await bull.resume();
  assert.equal((await c.getQueueStatus('stats')).isPaused, false);
  gate.resolve();
});
