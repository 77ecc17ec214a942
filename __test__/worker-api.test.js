'use strict';
// JobQueueCoordinator's workers against a real Redis: the processor's arguments and return
// value, events, progress and logs, removal of finished jobs, concurrency, pause/resume, close
// and lock renewal. (worker.test.js covers the BullMQ-style Worker class.)

const test = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, setupCoordinators } = require('./helpers');
const { deferred, record } = require('./api-helpers');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-worker-api', config);

test('the processor gets the job and context; its value is the return value, events fire', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const seen = [];
  const worker = await c.registerWorker('work', async (job, context) => {
    seen.push({ job, context, now: Date.now() });
    return { doubled: job.data.n * 2 };
  });
  const ev = record(worker);
  assert.equal(typeof worker.id, 'string');
  assert.ok(worker.id.length > 0);
  assert.equal(worker.queueName, 'work');

  const added = await c.enqueueJob('work', 'double', { n: 21 }, { traceId: 'tr' });
  await waitFor(() => ev.completed.length === 1, { message: 'completed event' });
  assert.deepEqual(ev.completed, [{ id: added.id, result: { doubled: 42 } }]);
  assert.equal(ev.active.length, 1);
  assert.equal(ev.active[0].id, added.id);
  assert.equal(ev.failed.length, 0);

  assert.equal(seen.length, 1);
  const { job, context, now } = seen[0];
  assert.equal(job.id, added.id);
  assert.equal(job.name, 'double');
  assert.deepEqual(job.data, { n: 21 });
  assert.equal(job.opts.traceId, 'tr');
  // the same Job the 'completed' event passed: settled, as BullMQ updates it
  assert.equal(job.attemptsMade, 1);
  assert.deepEqual(job.returnvalue, { doubled: 42 });
  assert.equal(job.timestamp, added.timestamp);
  assert.equal(job.queueName, 'work');
  assert.equal(typeof job.updateProgress, 'function');
  assert.equal(typeof job.log, 'function');
  assert.equal(context.workerId, worker.id);
  assert.equal(context.queueName, 'work');
  assert.equal(context.jobId, added.id);
  assert.equal(context.attemptNumber, 1);
  assert.ok(context.startTime <= now && context.startTime >= added.timestamp, 'startTime is when the attempt started');

  const stored = await c.getJob('work', added.id);
  assert.deepEqual(stored.returnvalue, { doubled: 42 });
  assert.equal(stored.attemptsMade, 1);
  assert.ok(stored.finishedOn >= stored.processedOn);
  assert.equal((await c.getQueueStatus('work')).jobCounts.completed, 1);
});

test('a worker registered on a queue that already has waiting jobs processes them', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const added = await c.enqueueBulk('backlog', [{ data: { i: 1 } }, { data: { i: 2 } }, { data: { i: 3 } }]);
  const processed = [];
  const worker = await c.registerWorker('backlog', async (job, context) => {
    processed.push({ id: job.id, workerId: context.workerId });
    return job.data.i;
  });
  const ev = record(worker);
  await waitFor(() => ev.completed.length === 3, { message: '3 completed events' });
  assert.deepEqual(processed.map((p) => p.id), added.map((j) => j.id));
  assert.ok(processed.every((p) => p.workerId === worker.id));
});

test('updateProgress (number and object) is visible through getJob while the job runs; log lines through getJobLogs', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const step1 = deferred();
  const step2 = deferred();
  const logCounts = [];
  const worker = await c.registerWorker('progress', async (job) => {
    await job.updateProgress(40);
    logCounts.push(await job.log('started'));
    await step1.promise;
    await job.updateProgress({ stage: 'upload', percent: 80 });
    logCounts.push(await job.log(`step ${2}`));
    await step2.promise;
    return 'done';
  });
  const ev = record(worker);
  const job = await c.enqueueJob('progress', { x: 1 });
  await waitFor(async () => (await c.getJob('progress', job.id)).progress === 40, { message: 'progress 40' });
  assert.equal((await c.getQueueStatus('progress')).jobCounts.active, 1, 'still running');
  assert.deepEqual(await c.getJobLogs('progress', job.id), ['started']);
  step1.resolve();
  await waitFor(async () => (await c.getJob('progress', job.id)).progress?.stage === 'upload', { message: 'object progress' });
  assert.deepEqual((await c.getJob('progress', job.id)).progress, { stage: 'upload', percent: 80 });
  step2.resolve();
  await waitFor(() => ev.completed.length === 1);
  assert.deepEqual(logCounts, [1, 2], 'log() resolves to the number of lines');
  assert.deepEqual(await c.getJobLogs('progress', job.id), ['started', 'step 2']);
  assert.deepEqual((await c.getJob('progress', job.id)).progress, { stage: 'upload', percent: 80 });
  assert.deepEqual(await c.getJobLogs('progress', 'no-such-job'), []);
  assert.equal(await c.getJob('progress', 'no-such-job'), null);
});

test('removeOnComplete / removeOnFail: true removes the finished job', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const worker = await c.registerWorker('remove', async (job) => {
    if (job.data.fail) throw new Error('x');
    return 1;
  });
  const ev = record(worker);
  const kept = await c.enqueueJob('remove', { fail: false });
  const gone = await c.enqueueJob('remove', { fail: false }, { removeOnComplete: true });
  const goneFailed = await c.enqueueJob('remove', { fail: true }, { removeOnFail: true, attempts: 1 });
  const keptFailed = await c.enqueueJob('remove', { fail: true }, { attempts: 1 });
  await waitFor(() => ev.completed.length === 2 && ev.failed.length === 2);
  await waitFor(async () => (await c.getJob('remove', gone.id)) === null, { message: 'removed on complete' });
  await waitFor(async () => (await c.getJob('remove', goneFailed.id)) === null, { message: 'removed on fail' });
  assert.notEqual(await c.getJob('remove', kept.id), null);
  assert.notEqual(await c.getJob('remove', keptFailed.id), null);
  const counts = (await c.getQueueStatus('remove')).jobCounts;
  assert.equal(counts.completed, 1);
  assert.equal(counts.failed, 1);
});

test('concurrency: at most N jobs run at once', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  let running = 0;
  let maxRunning = 0;
  const worker = await c.registerWorker('conc', async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await gate.promise;
    running--;
    return null;
  }, { concurrency: 3 });
  const ev = record(worker);
  await c.enqueueBulk('conc', Array.from({ length: 5 }, (_, i) => ({ data: { i } })));
  await waitFor(() => running === 3, { message: '3 running' });
  const counts = (await c.getQueueStatus('conc')).jobCounts;
  assert.equal(counts.active, 3);
  assert.equal(counts.waiting, 2, 'the worker fetched no more than its concurrency');
  gate.resolve();
  await waitFor(() => ev.completed.length === 5);
  assert.equal(maxRunning, 3);
});

test('worker pause stops fetching (a running job still finishes) and resume restarts it', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const gate = deferred();
  const processed = [];
  const worker = await c.registerWorker('pausing', async (job) => {
    processed.push(job.name);
    if (job.name === 'first') await gate.promise;
    return job.name;
  }, { concurrency: 1 });
  const ev = record(worker);
  await c.enqueueJob('pausing', 'first', {});
  await waitFor(() => processed.length === 1);
  worker.pause();
  await c.enqueueJob('pausing', 'second', {});
  gate.resolve();
  await waitFor(() => ev.completed.length === 1, { message: 'the running job finishes while paused' });
  // Observation window: nothing may be fetched while paused.
  const until = Date.now() + 600;
  while (Date.now() < until) {
    const counts = (await c.getQueueStatus('pausing')).jobCounts;
    assert.equal(counts.waiting, 1, 'the second job stays waiting while the worker is paused');
    assert.equal(counts.active, 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(processed, ['first']);
  worker.resume();
  await waitFor(() => ev.completed.length === 2, { message: 'the second job after resume' });
  assert.deepEqual(processed, ['first', 'second']);

  // Pause an idle worker (blocked waiting for jobs), then add: nothing is taken until resume.
  worker.pause();
  await c.enqueueJob('pausing', 'third', {});
  const until2 = Date.now() + 600;
  while (Date.now() < until2) {
    assert.equal((await c.getQueueStatus('pausing')).jobCounts.waiting, 1, 'third stays waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
  worker.resume();
  await waitFor(() => ev.completed.length === 3, { message: 'third after resume' });
});

test('worker close: stops fetching, the worker count drops, other workers go on', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const byA = [];
  const a = await c.registerWorker('closing', async (job) => {
    byA.push(job.id);
    return 'a';
  });
  const ev = record(a);
  await c.enqueueJob('closing', {});
  await waitFor(() => ev.completed.length === 1);
  await waitFor(async () => (await c.getQueueStatus('closing')).workers === 1, { message: 'one worker connected' });
  await a.close();
  await waitFor(async () => (await c.getQueueStatus('closing')).workers === 0, { message: 'no worker connected after close' });
  const job = await c.enqueueJob('closing', {});
  const until = Date.now() + 400;
  while (Date.now() < until) {
    assert.equal((await c.getQueueStatus('closing')).jobCounts.waiting, 1, 'a closed worker takes nothing');
    await new Promise((r) => setTimeout(r, 50));
  }
  const b = await c.registerWorker('closing', async () => 'b');
  const evB = record(b);
  await waitFor(() => evB.completed.length === 1);
  assert.equal(evB.completed[0].id, job.id);
  assert.deepEqual(byA.length, 1);
});

test('registerWorker options: lockDuration is renewed for a job that outlives it; stalledInterval/maxStalledCount accepted', { timeout: 20000 }, async (t) => {
  const { c } = setup(t);
  const stalled = [];
  const worker = await c.registerWorker('locks', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // the job's work: 3× lockDuration
    return 'survived';
  }, { lockDuration: 500, stalledInterval: 300, maxStalledCount: 0, concurrency: 2 });
  const ev = record(worker);
  worker.on('stalled', (id) => stalled.push(id));
  const job = await c.enqueueJob('locks', {}, { attempts: 1 });
  await waitFor(() => ev.completed.length + ev.failed.length === 1, { message: 'the job finishes' });
  assert.deepEqual(ev.failed, []);
  assert.deepEqual(stalled, []);
  const stored = await c.getJob('locks', job.id);
  assert.equal(stored.returnvalue, 'survived');
  assert.equal(stored.attemptsMade, 1);
});
