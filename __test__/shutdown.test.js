'use strict';
// JobQueueCoordinator.shutdown against a real Redis: a job running past the timeout goes back
// to the queue, one finishing in time is waited for, and the process can exit afterwards.

const test = require('node:test');
const assert = require('node:assert/strict');
const { JobQueueCoordinator } = require('..');
const { REDIS_URL, uniquePrefix, waitFor, cleanup, setupCoordinators } = require('./helpers');
const { ROOT, deferred, record, runChild, cleanEnv } = require('./api-helpers');

/** A fresh prefix and coordinator for this file's tests. */
const setup = (t, config) => setupCoordinators(t, 'jqt-shutdown', config);

test('shutdown({timeoutMs}) gives a job still running after the timeout back to the queue, unused', { timeout: 20000 }, async (t) => {
  const { c, make } = setup(t);
  const gate = deferred();
  const worker = await c.registerWorker('stop', async () => gate.promise);
  const ev = record(worker);
  const job = await c.enqueueJob('stop', {}, { attempts: 2 });
  await waitFor(() => ev.active.length === 1);
  const t0 = Date.now();
  await c.shutdown({ timeoutMs: 300 });
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 5000, `shutdown waited for the running job up to its timeout (${took} ms)`);
  gate.resolve('too late');
  const other = make();
  const counts = (await other.getQueueStatus('stop')).jobCounts;
  assert.equal(counts.active, 0);
  assert.equal(counts.waiting, 1, 'the unfinished job is waiting again');
  const stored = await other.getJob('stop', job.id);
  assert.equal(stored.attemptsMade, 0, 'an interrupted job does not use an attempt');
  assert.equal(stored.returnvalue, null, 'no return value: null, as BullMQ reads it');
  // It is processed by the next worker.
  const w2 = await other.registerWorker('stop', async () => 'second life');
  const ev2 = record(w2);
  await waitFor(() => ev2.completed.length === 1);
  assert.equal((await other.getJob('stop', job.id)).returnvalue, 'second life');
});

test('shutdown waits for a running job that finishes within the timeout', { timeout: 20000 }, async (t) => {
  const { c, make } = setup(t);
  const worker = await c.registerWorker('drain', async () => {
    await new Promise((r) => setTimeout(r, 300)); // the job's work
    return 'finished';
  });
  const ev = record(worker);
  const job = await c.enqueueJob('drain', {});
  await waitFor(() => ev.active.length === 1);
  await c.shutdown({ timeoutMs: 10000 });
  const stored = await make().getJob('drain', job.id);
  assert.equal(stored.returnvalue, 'finished');
});

test('after enqueue + processing one job, shutdown() lets the process exit on its own', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-exit');
  t.after(() => cleanup(REDIS_URL, prefix));
  const code = `
    const { JobQueueCoordinator } = require(${JSON.stringify(ROOT)});
    (async () => {
      const c = new JobQueueCoordinator({ redis: { url: process.env.TEST_URL, keyPrefix: process.env.TEST_PREFIX } });
      await c.initialize();
      const w = await c.registerWorker('exit', async (job) => ({ got: job.data.n }));
      const done = new Promise((resolve) => w.on('completed', resolve));
      const job = await c.enqueueJob('exit', { n: 5 });
      await done;
      console.log('completed ' + job.id);
      await c.shutdown();
      console.log('shut down');
      // no process.exit: the process must end because nothing keeps it alive
    })().catch((err) => { console.error(err); process.exitCode = 3; });
  `;
  const r = await runChild(code, cleanEnv({ TEST_URL: REDIS_URL, TEST_PREFIX: prefix }), 15000);
  assert.equal(r.signal, null, `the child exited by itself within 15 s (stdout ${r.stdout}, stderr ${r.stderr})`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /completed 1\nshut down\n/);
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
  t.after(() => c.shutdown());
  assert.deepEqual((await c.getJob('exit', '1')).returnvalue, { got: 5 });
});
