'use strict';
// The order workers take jobs in, against a real Redis: priority, lifo and delay.

const test = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, setupCoordinators } = require('./helpers');
const { deferred, record } = require('./api-helpers');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-ordering', config);

test('priority: lower numbers run first, FIFO within a priority; unprioritised jobs first', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  const order = [];
  const worker = await c.registerWorker('prio', async (job) => {
    if (job.name === 'blocker') return gate.promise;
    order.push(job.name);
    return null;
  }, { concurrency: 1 });
  const ev = record(worker);
  // Hold the only slot so the rest queue up, then add in an order unlike the expected one.
  await c.enqueueJob('prio', 'blocker', {});
  await waitFor(() => ev.active.length === 1, { message: 'blocker active' });
  await c.enqueueJob('prio', 'p5', {}, { priority: 5 });
  await c.enqueueJob('prio', 'p1-a', {}, { priority: 1 });
  await c.enqueueJob('prio', 'p3', {}, { priority: 3 });
  await c.enqueueJob('prio', 'p1-b', {}, { priority: 1 });
  await c.enqueueJob('prio', 'max', {}, { priority: 2097151 });
  await c.enqueueJob('prio', 'none', {});
  assert.equal((await c.getQueueStatus('prio')).jobCounts.prioritized, 5);
  gate.resolve();
  await waitFor(() => ev.completed.length === 7, { message: '7 completions' });
  assert.deepEqual(order, ['none', 'p1-a', 'p1-b', 'p3', 'p5', 'max']);
});

test('lifo: a lifo job runs before the jobs waiting ahead of it', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  const order = [];
  const worker = await c.registerWorker('lifo', async (job) => {
    if (job.name === 'blocker') return gate.promise;
    order.push(job.name);
    return null;
  }, { concurrency: 1 });
  const ev = record(worker);
  await c.enqueueJob('lifo', 'blocker', {});
  await waitFor(() => ev.active.length === 1, { message: 'blocker active' });
  await c.enqueueJob('lifo', 'a', {});
  await c.enqueueJob('lifo', 'b', {});
  await c.enqueueJob('lifo', 'c', {}, { lifo: true });
  await c.enqueueJob('lifo', 'd', {});
  await c.enqueueJob('lifo', 'e', {}, { lifo: true });
  gate.resolve();
  await waitFor(() => ev.completed.length === 6, { message: '6 completions' });
  assert.deepEqual(order, ['e', 'c', 'a', 'b', 'd']);
});

test('a delayed job is delayed, does not run before its time, then runs', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const started = {};
  const worker = await c.registerWorker('later', async (job, context) => {
    started[job.name] = context.startTime;
    return null;
  });
  const ev = record(worker);
  const slow = await c.enqueueJob('later', 'slow', {}, { delayMs: 700 });
  const fast = await c.enqueueJob('later', 'fast', {}, { delay: 300 });
  const now = await c.enqueueJob('later', 'now', {});
  const status = await c.getQueueStatus('later');
  assert.ok(status.jobCounts.delayed >= 1, `delayed right after enqueue: ${JSON.stringify(status.jobCounts)}`);
  await waitFor(() => ev.completed.length === 3, { message: '3 completions' });
  for (const [name, job, delay] of [['slow', slow, 700], ['fast', fast, 300], ['now', now, 0]]) {
    const stored = await c.getJob('later', job.id);
    assert.ok(stored.processedOn >= job.timestamp + delay, `${name} processed ${stored.processedOn - job.timestamp} ms after enqueue, delay ${delay}`);
    assert.ok(started[name] >= job.timestamp + delay, `${name} started ${started[name] - job.timestamp} ms after enqueue`);
  }
  assert.ok(started.now < started.fast && started.fast < started.slow, 'run in order of due time');
});
