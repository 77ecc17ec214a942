'use strict';
// Scheduling (issue 4) against a real Redis: scheduleJob and trace ids, ordering guarantees
// (priority, FIFO, LIFO, delays), recurring jobs (every and cron, limits, several workers and
// coordinators), listing and cancelling, priority/delay changes and promotion,
// deduplication, and bad input. BullMQ interop for schedulers is in interop.test.js; the cron
// evaluation is checked against cron-parser in crates/job-queue-core/tests/cron_golden.rs.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ValidationError, JobNotFoundError, JobStateError } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-sched', config);

/** Registers a concurrency-1 worker that records the ids (and jobs) it runs, in order. */
async function recorder(c, queue, options = {}) {
  const jobs = [];
  const worker = await c.registerWorker(queue, async (job) => {
    jobs.push({ id: job.id, name: job.name, data: job.data, traceId: job.traceId, at: Date.now(), job });
  }, { concurrency: 1, ...options });
  worker.on('error', () => {});
  return { jobs, worker, ids: () => jobs.map((j) => j.id) };
}

test('scheduleJob stores a trace id, given or generated, and the processor sees it', async (t) => {
  const { c } = setup(t);
  const given = await c.scheduleJob('traced', 'email', { to: 'a' }, { traceId: 'trace-abc', priority: 2 });
  const generated = await c.scheduleJob('traced', 'email', { to: 'b' }, {});
  assert.equal(given.traceId, 'trace-abc');
  assert.match(generated.traceId, /^trace_\d+_[0-9a-f]{12}$/);
  assert.equal((await c.getJob('traced', generated.id)).traceId, generated.traceId);

  const r = await recorder(c, 'traced');
  await waitFor(() => r.jobs.length === 2);
  assert.deepEqual(
    r.jobs.map((j) => j.traceId).sort(),
    ['trace-abc', generated.traceId].sort(),
  );
});

test('jobs run by priority (lower first), FIFO within a priority, and lifo jumps the line', async (t) => {
  const { c } = setup(t);
  // plain jobs run before prioritized ones, as in BullMQ (wait is drained first)
  await c.enqueueJob('order', 'p', { n: 1 }, { jobId: 'p3-a', priority: 3 });
  await c.enqueueJob('order', 'p', { n: 2 }, { jobId: 'p1-a', priority: 1 });
  await c.enqueueJob('order', 'p', { n: 3 }, { jobId: 'p3-b', priority: 3 });
  await c.enqueueJob('order', 'p', { n: 4 }, { jobId: 'p1-b', priority: 1 });
  await c.enqueueJob('order', 'p', { n: 5 }, { jobId: 'fifo-a' });
  await c.enqueueJob('order', 'p', { n: 6 }, { jobId: 'fifo-b' });
  await c.enqueueJob('order', 'p', { n: 7 }, { jobId: 'lifo', lifo: true });
  const r = await recorder(c, 'order');
  await waitFor(() => r.jobs.length === 7);
  assert.deepEqual(r.ids(), ['lifo', 'fifo-a', 'fifo-b', 'p1-a', 'p1-b', 'p3-a', 'p3-b']);
});

test('a delayed job never runs early and starts within 50 ms of its time on an idle worker', async (t) => {
  const { c } = setup(t);
  const r = await recorder(c, 'later');
  // the worker is idle, blocked on the marker, before the jobs arrive
  await waitFor(async () => (await c.getQueueStatus('later').catch(() => null))?.workers === 1);
  const delays = [150, 400, 700];
  const added = await Promise.all(delays.map((delayMs) => c.enqueueJob('later', 'd', {}, { delayMs })));
  await waitFor(() => r.jobs.length === 3, { timeoutMs: 5000 });
  for (const job of added) {
    const due = job.timestamp + job.opts.delay;
    const ran = r.jobs.find((j) => j.id === job.id).at;
    assert.ok(ran >= due, `job ${job.id} ran ${due - ran} ms early`);
    assert.ok(ran - due < 50, `job ${job.id} started ${ran - due} ms after its time`);
  }
});

test('an every-schedule with maxRuns produces exactly that many jobs across two coordinators', async (t) => {
  const env = setup(t);
  const other = env.make();
  const a = await recorder(env.c, 'ticks');
  const b = await recorder(other, 'ticks');
  const rep = await env.c.scheduleRecurringJob('ticks', 'tick', { v: 1 }, { every: 100 }, { maxRuns: 5 });
  assert.equal(rep.every, 100);
  assert.equal(rep.cronExpression, '', 'an every-schedule has no cron expression: an empty string, as RepeatableJob types it');
  // a second coordinator upserting the same schedule keeps one scheduler, not two
  await other.scheduleRecurringJob('ticks', 'tick', { v: 1 }, { every: 100 }, { maxRuns: 5 });
  assert.equal((await env.c.getRecurringJobs('ticks')).length, 1);

  await waitFor(async () => {
    const s = await env.c.getQueueStatus('ticks');
    return s.jobCounts.completed === 5 && s.jobCounts.delayed + s.jobCounts.waiting + s.jobCounts.active === 0;
  });
  const all = [...a.jobs, ...b.jobs];
  assert.equal(all.length, 5, `ran ${all.map((j) => j.id)}`);
  assert.equal(new Set(all.map((j) => j.id)).size, 5);
  const slots = all.map((j) => Number(j.id.split(':').pop())).sort((x, y) => x - y);
  for (let i = 1; i < slots.length; i++) assert.equal(slots[i] - slots[i - 1], 100, `slots ${slots}`);
  assert.deepEqual(all.map((j) => j.data), Array(5).fill({ v: 1 }));
  const [listed] = await env.c.getRecurringJobs('ticks');
  assert.equal(listed.iterationCount, 5);
});

test('a cron schedule with seconds fires on its second boundaries, in order, and stops at maxRuns', async (t) => {
  const { c } = setup(t);
  const r = await recorder(c, 'cron');
  const rep = await c.scheduleRecurringJob('cron', 'beat', {}, '*/1 * * * * *', { maxRuns: 3, timezone: 'Asia/Tokyo' });
  assert.equal(rep.nextRun.getTime() % 1000, 0, 'the first run is on a second boundary');
  assert.ok(rep.nextRun.getTime() > Date.now() - 1000);
  await waitFor(() => r.jobs.length === 3, { timeoutMs: 8000 });
  const slots = r.jobs.map((j) => Number(j.id.split(':').pop()));
  assert.deepEqual(slots, [0, 1, 2].map((i) => rep.nextRun.getTime() + i * 1000));
  r.jobs.forEach((j, i) => assert.ok(j.at >= slots[i], `iteration ${i} ran early`));
  await waitFor(async () => (await c.getScheduledJobs('cron')).length === 0);
});

test('getScheduledJobs lists delayed and next recurring jobs; cancelScheduledJob removes either', async (t) => {
  const { c } = setup(t);
  const once = await c.scheduleJob('plan', 'remind', { who: 'x' }, { delayMs: 60_000 });
  const daily = await c.scheduleRecurringJob('plan', 'report', { r: 1 }, '0 9 * * 1-5', {
    timezone: 'Europe/Berlin',
    priority: 4,
    maxRetries: 2,
  });
  assert.ok(daily.nextRun > new Date());
  const scheduled = await c.getScheduledJobs('plan');
  assert.deepEqual(scheduled.map((j) => j.id), [once.id, daily.jobId]);
  assert.equal(scheduled[1].runAt.getTime(), daily.nextRun.getTime());
  assert.equal(scheduled[1].opts.repeat.pattern, '0 9 * * 1-5');
  assert.equal(scheduled[1].opts.attempts, 2);
  assert.equal(scheduled[1].priority, 4);

  const [listed] = await c.getRecurringJobs('plan');
  assert.equal(listed.key, 'report');
  assert.equal(listed.cronExpression, '0 9 * * 1-5');
  assert.equal(listed.timezone, 'Europe/Berlin');
  assert.deepEqual(listed.data, { r: 1 });
  assert.equal(listed.nextRun.getTime(), daily.nextRun.getTime());

  await c.cancelScheduledJob('plan', 'report');
  await c.cancelScheduledJob('plan', once.id);
  assert.deepEqual(await c.getScheduledJobs('plan'), []);
  assert.deepEqual(await c.getRecurringJobs('plan'), []);
  await assert.rejects(c.cancelScheduledJob('plan', 'report'), JobNotFoundError);
});

test('cancelling by the id of a recurring job iteration cancels its schedule', async (t) => {
  const { c } = setup(t);
  const rep = await c.scheduleRecurringJob('iter', 'r', {}, '0 0 1 1 *');
  await c.cancelScheduledJob('iter', rep.jobId);
  assert.deepEqual(await c.getRecurringJobs('iter'), []);
  assert.equal(await c.getJob('iter', rep.jobId), null);
});

test('updateJobPriority reorders waiting jobs; promoteJob and changeDelay move delayed ones', async (t) => {
  const { c } = setup(t);
  for (const id of ['a', 'b', 'c']) await c.enqueueJob('ops', 'j', {}, { jobId: id, priority: 5 });
  await c.updateJobPriority('ops', 'c', 1);
  const soon = await c.enqueueJob('ops', 'j', {}, { jobId: 'soon', delayMs: 60_000 });
  const late = await c.enqueueJob('ops', 'j', {}, { jobId: 'late', delayMs: 1000 });
  await c.changeDelay('ops', 'late', 600_000);
  await c.promoteJob('ops', soon.id);
  await assert.rejects(c.promoteJob('ops', 'a'), JobStateError);
  await assert.rejects(c.updateJobPriority('ops', 'nope', 1), JobNotFoundError);

  const r = await recorder(c, 'ops');
  await waitFor(() => r.jobs.length === 4);
  assert.deepEqual(r.ids(), ['soon', 'c', 'a', 'b']);
  const stillLate = (await c.getScheduledJobs('ops')).map((j) => [j.id, j.runAt.getTime() - late.timestamp]);
  assert.equal(stillLate.length, 1);
  assert.ok(stillLate[0][1] >= 590_000, `late is due in ${stillLate[0][1]} ms`);
});

test('deduplication returns the job that owns the id until it finishes', async (t) => {
  const { c } = setup(t);
  const first = await c.enqueueJob('dedup', 'd', { n: 1 }, { deduplication: { id: 'same' } });
  const second = await c.enqueueJob('dedup', 'd', { n: 2 }, { deduplication: { id: 'same' } });
  assert.equal(second.id, first.id);
  assert.deepEqual(second.data, { n: 1 });
  const idem = await c.enqueueJob('dedup', 'd', { n: 3 }, { jobId: 'fixed' });
  assert.equal((await c.enqueueJob('dedup', 'd', { n: 4 }, { jobId: 'fixed' })).id, idem.id);

  const r = await recorder(c, 'dedup');
  await waitFor(() => r.jobs.length === 2);
  const third = await c.enqueueJob('dedup', 'd', { n: 5 }, { deduplication: { id: 'same' } });
  assert.notEqual(third.id, first.id, 'a finished owner frees the id');
  await waitFor(() => r.jobs.length === 3);
});

test('bad schedules are rejected with ValidationError by field, and nothing is written', async (t) => {
  const env = setup(t);
  const { c } = env;
  const cases = [
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * *'), 'cronExpression'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '0 25 * * *'), 'cronExpression'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '0 0 30 2 *'), 'cronExpression'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, 42), 'cronExpression'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * * * *', { timezone: 'Moon/Base' }), 'timezone'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * * * *', { maxRuns: 0 }), 'maxRuns'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * * * *', { endDate: new Date(1000) }), 'endDate'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * * * *', { startDate: 'soon' }), 'startDate'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * * * *', { jobId: 'x' }), 'jobId'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, { every: -5 }), 'every'],
    [() => c.scheduleRecurringJob('bad', 'j', {}, '* * * * *', { priority: -1 }), 'priority'],
    [() => c.scheduleJob('bad', 'j', {}, { traceId: 7 }), 'traceId'],
    [() => c.updateJobPriority('bad', 'x', 1.5), 'priority'],
    [() => c.changeDelay('bad', 'x', -1), 'delayMs'],
    [() => c.enqueueJob('bad', 'j', {}, { deduplication: { ttl: 5 } }), 'deduplication.id'],
  ];
  for (const [run, field] of cases) {
    await assert.rejects(run(), (err) => {
      assert.ok(err instanceof ValidationError, `${field}: ${err}`);
      assert.equal(err.code, 'ERR_VALIDATION');
      assert.equal(err.field, field, err.message);
      return true;
    });
  }
  assert.deepEqual(await env.redis().keys(`${env.prefix}:*`), []);
});
