'use strict';
// The public API on a real Redis Cluster (issue 16): six redis-servers on loopback (three
// masters, three replicas, scripts/redis-topology.js), started once for this file and
// stopped by pid at the end. Queues are named with a hash tag chosen to land on each of the
// three masters, and every part of the package runs on them: BullMQ's Queue / Worker / Job /
// QueueEvents, the design's coordinator (config, environment and URL forms), an ioredis
// Cluster as `connection`, and BullMQ 6 itself (with an ioredis Cluster) on the same queues.

const test = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const IORedis = require('ioredis');
const bullmq = require('bullmq');
const { Queue, Worker, QueueEvents, Job, JobQueueCoordinator, ValidationError, UnrecoverableError } = require('..');
const { startCluster, withNode } = require('../scripts/redis-topology');
const { uniquePrefix, waitFor, hasCommand } = require('./helpers');
const { startWorkerProcess } = require('./fixtures/worker-process');

const run = promisify(execFile);
const skip = !(hasCommand('redis-server', ['--version']) && hasCommand('redis-cli', ['--version'])) && 'needs redis-server and redis-cli';

/** The cluster of this file, and one hash tag per master (`tags[i]` lands on `masters[i]`). */
let cluster;
let tags;
let masters;

test.before(async () => {
  if (skip) return;
  cluster = await startCluster({ masters: 3, replicas: 1, aof: false, nodeTimeout: 2000 });
  masters = await cluster.masters();
  tags = await cluster.tagsPerMaster('jqc');
});

test.after(async () => {
  if (cluster) await cluster.stop();
});

/**
 * Per test: a fresh untagged prefix (queues carry the tag), factories for our classes on the
 * cluster, BullMQ's on an ioredis Cluster, a coordinator, and raw ioredis Cluster clients;
 * all closed, and the prefix's keys deleted on every master, when the test ends.
 */
function setup(t, tag = 'jqc') {
  const prefix = uniquePrefix(tag);
  const connection = { cluster: { nodes: cluster.nodes } };
  const closers = [];
  const add = (fn) => closers.push(fn);
  const ioCluster = () => {
    const c = new IORedis.Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
    c.on('error', () => {});
    add(async () => c.disconnect());
    return c;
  };
  const env = {
    prefix,
    connection,
    /** `{tag of master i}name`. */
    name: (i, base) => `{${tags[i]}}${base}`,
    queue(name, opts = {}) {
      const q = new Queue(name, { connection, prefix, ...opts });
      add(() => q.close());
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { connection, prefix, ...opts });
      w.on('error', () => {});
      add(() => w.close());
      return w;
    },
    queueEvents(name, opts = {}) {
      const e = new QueueEvents(name, { connection, prefix, ...opts });
      add(() => e.close());
      return e;
    },
    coordinator(config = {}) {
      const c = new JobQueueCoordinator({ redis: { cluster: { nodes: cluster.nodes }, keyPrefix: prefix }, ...config });
      add(() => c.shutdown({ timeoutMs: 2000 }));
      return c;
    },
    ioCluster,
    bullQueue(name) {
      const q = new bullmq.Queue(name, { connection: ioCluster(), prefix });
      add(() => q.close());
      return q;
    },
    bullWorker(name, processor, opts = {}) {
      const w = new bullmq.Worker(name, processor, { connection: ioCluster(), prefix, ...opts });
      w.on('error', () => {});
      add(() => w.close(true));
      return w;
    },
    /** Every key of the prefix, on every master. */
    keys: () => cluster.keys(`${prefix}*`),
    onClose: add,
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    for (const port of await cluster.masters()) {
      await withNode(port, async (c) => {
        let cursor = '0';
        do {
          const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          // one slot per queue: delete key by key (a multi-key DEL may cross slots)
          for (const k of keys) await c.del(k);
        } while (cursor !== '0');
      });
    }
  });
  return env;
}

/** Waits for `n` emissions of `event` on `emitter`; resolves to their first arguments. */
function collect(emitter, event, n, timeoutMs = 15000) {
  const got = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${got.length} of ${n} '${event}' events within ${timeoutMs} ms`)), timeoutMs);
    emitter.on(event, (first) => {
      got.push(first);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

test('queue names tagged for each master land on it; an untagged name is a ValidationError saying how to name it, and nothing is written', { skip }, async (t) => {
  const env = setup(t);
  assert.equal(new Set(masters).size, 3, 'three masters');
  const names = [0, 1, 2].map((i) => env.name(i, 'placed'));
  for (let i = 0; i < 3; i++) {
    const q = env.queue(names[i]);
    await q.add('j', { i });
    assert.equal(await cluster.masterOf(q.toKey('wait')), masters[i], `${names[i]} on master ${i}`);
    assert.equal(await cluster.masterOf(`${env.prefix}:${names[i]}:1`), masters[i], 'its job hashes too');
  }
  const written = await env.keys();
  assert.ok(written.length > 0);

  const untagged = env.queue('plain');
  const refused = (e) => {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.code, 'ERR_VALIDATION');
    assert.equal(e.field, 'queueName');
    assert.match(e.message, /hash tag/);
    assert.match(e.message, /'\{plain\}'/, 'it suggests a tagged name');
    return true;
  };
  await assert.rejects(untagged.add('j', {}), refused);
  await assert.rejects(untagged.addBulk([{ name: 'j', data: {} }]), refused);
  await assert.rejects(untagged.getJobCounts(), refused);
  await assert.rejects(untagged.pause(), refused);
  const c = env.coordinator();
  await assert.rejects(c.enqueueJob('plain', 'j', {}), refused);
  await assert.rejects(c.createQueue('plain', {}), refused);
  await assert.rejects(c.registerWorker('plain', async () => {}), refused);
  const w = new Worker('plain', async () => {}, { connection: env.connection, prefix: env.prefix, autorun: false });
  const werr = once(w, 'error');
  w.run().catch(() => {});
  refused((await werr)[0]);
  await w.close();
  assert.deepEqual(await env.keys(), written, 'nothing written for the untagged queue');
});

test('Queue and Worker on every master: add, addBulk, delayed, priority and lifo order; getJobs, getJobCounts, getJob agree', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  for (let i = 0; i < 3; i++) {
    const name = env.name(i, 'basics');
    const q = env.queue(name);
    const first = await q.add('first', { n: 1 });
    const bulk = await q.addBulk([
      { name: 'b1', data: { n: 2 } },
      { name: 'b2', data: { n: 3 }, opts: { jobId: `custom-${i}` } },
    ]);
    const last = await q.add('lifo', { n: 4 }, { lifo: true });
    const high = await q.add('high', { n: 5 }, { priority: 1 });
    const low = await q.add('low', { n: 6 }, { priority: 9 });
    const later = await q.add('later', { n: 7 }, { delay: 300 });
    assert.deepEqual(await q.getJobCounts('waiting', 'prioritized', 'delayed'), { waiting: 4, prioritized: 2, delayed: 1 });
    assert.deepEqual((await q.getJobs(['waiting'], 0, -1, true)).map((j) => j.name), ['lifo', 'first', 'b1', 'b2']);
    assert.deepEqual((await q.getJobs(['prioritized'])).map((j) => j.id).sort(), [high.id, low.id].sort());
    const got = await q.getJob(`custom-${i}`);
    assert.deepEqual([got.id, got.name, got.data], [bulk[1].id, 'b2', { n: 3 }]);
    assert.equal(await q.getJob('missing'), undefined);

    const order = [];
    const w = env.worker(name, async (job) => {
      order.push(job.name);
      return job.data.n * 10;
    }, { concurrency: 1 });
    await waitFor(async () => (await q.getCompletedCount()) === 7, { timeoutMs: 15000, message: `7 completed on ${name}` });
    // wait (lifo first) before prioritized jobs, by priority; the delayed job once due
    assert.deepEqual(order, ['lifo', 'first', 'b1', 'b2', 'high', 'low', 'later']);
    const done = await q.getJob(later.id);
    assert.equal(done.returnvalue, 70);
    assert.ok(done.finishedOn >= done.timestamp + 300, 'the delayed job ran once due');
    assert.equal((await q.getJob(first.id)).returnvalue, 10);
    assert.deepEqual(await q.getJobCounts(), { active: 0, completed: 7, delayed: 0, failed: 0, prioritized: 0, waiting: 0, 'waiting-children': 0 });
    assert.equal((await q.getCompleted()).length, 7);
    assert.equal(await cluster.masterOf(q.toKey('completed')), masters[i]);
    await w.close();
  }
});

test('Job methods on a cluster: updateData, progress, log, retry, remove, promote, changeDelay, changePriority, moveToFailed and moveToCompleted by hand; QueueEvents completed, failed and progress', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(1, 'jobs');
  const q = env.queue(name);
  const events = env.queueEvents(name);
  await events.waitUntilReady();

  const j = await q.add('j', { v: 1 });
  await j.updateData({ v: 2 });
  await j.updateProgress(40);
  await j.log('first line');
  await j.log('second line');
  const read = await Job.fromId(q, j.id);
  assert.deepEqual([read.data, read.progress], [{ v: 2 }, 40]);
  assert.deepEqual(await q.getJobLogs(j.id), { logs: ['first line', 'second line'], count: 2 });

  const delayed = await q.add('d', {}, { delay: 60_000 });
  await delayed.changeDelay(120_000);
  assert.ok((await q.getJob(delayed.id)).delay === 120_000);
  await delayed.promote();
  assert.equal(await delayed.getState(), 'waiting');
  const prio = await q.add('p', {}, { priority: 5 });
  await prio.changePriority({ priority: 2 });
  assert.equal((await q.getJob(prio.id)).priority, 2);
  const gone = await q.add('gone', {});
  await gone.remove();
  assert.equal(await q.getJob(gone.id), undefined);

  // by hand: a worker without a processor takes jobs under a token
  const manual = env.worker(name, null);
  const token = 'tok-1';
  const taken = [];
  for (let k = 0; k < 3; k++) taken.push(await manual.getNextJob(token));
  assert.deepEqual(taken.map((x) => x.id), [j.id, delayed.id, prio.id]);
  const progress = collect(events, 'progress', 1);
  await taken[0].updateProgress({ step: 'half' });
  assert.deepEqual((await progress)[0], { jobId: j.id, data: { step: 'half' } });
  const completed = collect(events, 'completed', 1);
  await taken[0].moveToCompleted({ ok: true }, token, false);
  assert.deepEqual((await completed)[0], { jobId: j.id, returnvalue: { ok: true }, prev: 'active' });
  const failed = collect(events, 'failed', 2);
  await taken[1].moveToFailed(new Error('by hand'), token, false);
  await taken[2].moveToFailed(new UnrecoverableError('never again'), token, false);
  const f = await failed;
  assert.deepEqual(f.map((e) => [e.jobId, e.failedReason]), [[delayed.id, 'by hand'], [prio.id, 'never again']]);
  assert.deepEqual(await q.getJobCounts('completed', 'failed', 'active'), { completed: 1, failed: 2, active: 0 });

  // retry a failed job: a worker with a processor completes it
  const again = await q.getJob(delayed.id);
  await again.retry();
  assert.equal(await again.getState(), 'waiting');
  await manual.close();
  env.worker(name, async (job) => `re-${job.id}`);
  const finished = await again.waitUntilFinished(events, 10000);
  assert.equal(finished, `re-${delayed.id}`);
  assert.equal(await q.getJobCounts('failed').then((c) => c.failed), 1);
});

test('pause and resume, the rate limiter and global concurrency on a cluster queue', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(2, 'limits');
  const q = env.queue(name);
  await q.pause();
  assert.equal(await q.isPaused(), true);
  const ran = [];
  const w = env.worker(name, async (job) => {
    ran.push({ id: job.id, at: Date.now() });
  }, { concurrency: 5, limiter: { max: 2, duration: 500 } });
  await w.waitUntilReady();
  await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'r', data: { i } })));
  // paused: nothing runs (checked twice across the worker's fetch)
  await waitFor(async () => (await q.getJobCounts('paused', 'waiting')).waiting === 6, { message: 'six waiting while paused' });
  assert.equal(ran.length, 0);
  const start = Date.now();
  await q.resume();
  assert.equal(await q.isPaused(), false);
  await waitFor(() => ran.length === 6, { timeoutMs: 15000, message: 'six jobs run after resume' });
  // at most 2 per 500 ms: the 6th started no earlier than two windows after the first
  const took = ran[5].at - ran[0].at;
  assert.ok(took >= 900, `6 jobs at 2 per 500 ms took ${took} ms (from resume ${ran[5].at - start} ms)`);

  await q.setGlobalConcurrency(1);
  assert.equal(await q.getGlobalConcurrency(), 1);
  let running = 0;
  let most = 0;
  const w2 = env.worker(name, async () => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 30));
    running--;
  }, { concurrency: 4 });
  await w.close();
  await q.addBulk(Array.from({ length: 6 }, (_, i) => ({ name: 'g', data: { i } })));
  await waitFor(async () => (await q.getCompletedCount()) === 12, { timeoutMs: 15000 });
  assert.equal(most, 1, 'global concurrency 1 held across the worker');
  await w2.close();
});

test('job schedulers on a cluster: every and cron schedulers produce runs on their master, listed and removed', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(0, 'sched');
  const q = env.queue(name);
  await q.upsertJobScheduler('every-300', { every: 300 }, { name: 'tick', data: { kind: 'every' } });
  await q.upsertJobScheduler('each-second', { pattern: '* * * * * *' }, { name: 'cron', data: { kind: 'cron' } });
  const listed = await q.getJobSchedulers();
  assert.deepEqual(listed.map((s) => s.key).sort(), ['each-second', 'every-300']);
  assert.equal(await q.getJobSchedulersCount(), 2);
  const runs = [];
  env.worker(name, async (job) => {
    runs.push({ kind: job.data.kind, scheduler: job.repeatJobKey, at: Date.now() });
  });
  await waitFor(() => runs.filter((r) => r.kind === 'every').length >= 4 && runs.filter((r) => r.kind === 'cron').length >= 2, {
    timeoutMs: 15000,
    message: '4 runs of every-300 and 2 of the cron scheduler',
  });
  assert.deepEqual([...new Set(runs.map((r) => r.scheduler))].sort(), ['each-second', 'every-300']);
  assert.equal(await cluster.masterOf(q.toKey('repeat')), masters[0]);
  await q.removeJobScheduler('every-300');
  await q.removeJobScheduler('each-second');
  assert.equal(await q.getJobSchedulersCount(), 0);
  const settled = runs.length;
  // no new run is queued once removed (a run already fetched may still finish)
  await waitFor(async () => (await q.getJobCounts('delayed', 'waiting')).delayed === 0, { message: 'no pending scheduler runs' });
  assert.ok(runs.length <= settled + 2);
});

test('stalled recovery on a cluster: a worker process SIGKILLed mid-job; a worker of this process finds the job and completes it', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(2, 'stall');
  const doomed = startWorkerProcess(cluster.url, env.prefix, name, { LOCK_DURATION: '1000', STALLED_INTERVAL: '500', CONCURRENCY: '1' });
  t.after(() => doomed.kill('SIGKILL'));
  await doomed.ready;
  const q = env.queue(name);
  const job = await q.add('slow', { n: 1, holdMs: 60_000 }, { attempts: 1 });
  await waitFor(() => doomed.inFlight.has(job.id), { message: 'the child to start the job' });
  assert.deepEqual(await doomed.kill('SIGKILL'), { code: null, signal: 'SIGKILL' });
  assert.equal(await job.getState(), 'active', 'still active after the kill');

  const stalled = [];
  const w = env.worker(name, async (j) => ({ rescued: j.id, attemptsMade: j.attemptsMade }), { lockDuration: 1000, stalledInterval: 500 });
  w.on('stalled', (id) => stalled.push(id));
  const [done] = await once(w, 'completed');
  assert.equal(done.id, job.id);
  assert.deepEqual(done.returnvalue, { rescued: job.id, attemptsMade: 0 });
  assert.deepEqual(stalled, [job.id]);
  assert.deepEqual(await q.getJobCounts('active', 'completed', 'failed'), { active: 0, completed: 1, failed: 0 });
});

test('metrics, getWorkers, getQueueEvents, clean, drain, removeOrphanedJobs and obliterate on a cluster queue', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(0, 'admin');
  const other = env.name(1, 'admin');
  const q = env.queue(name);
  const q2 = env.queue(other);
  await q2.add('keep', { x: 1 });
  assert.deepEqual(await q.getWorkers(), []);
  const ev = env.queueEvents(name);
  await ev.waitUntilReady();
  const w = env.worker(name, async (job) => {
    if (job.data.fail) throw new Error('boom');
    return job.data.n;
  }, { name: 'w-admin', metrics: { maxDataPoints: 10 }, concurrency: 3 });
  await w.waitUntilReady();
  const listed = await q.getWorkers();
  assert.equal(listed.length, 1);
  assert.equal(listed[0].name, name);
  assert.equal(listed[0].rawname, `${env.prefix}:${Buffer.from(name).toString('base64')}:w:w-admin`);
  assert.deepEqual(await q2.getWorkers(), [], 'not listed for a queue on another master');
  const qe = await q.getQueueEvents();
  assert.equal(qe.length, 1);
  assert.equal(qe[0].rawname, `${env.prefix}:${Buffer.from(name).toString('base64')}:qe`);

  await q.addBulk([
    ...Array.from({ length: 8 }, (_, n) => ({ name: 'ok', data: { n } })),
    ...Array.from({ length: 2 }, (_, n) => ({ name: 'bad', data: { fail: true, n }, opts: { attempts: 1 } })),
  ]);
  await waitFor(async () => {
    const c = await q.getJobCounts('completed', 'failed');
    return c.completed === 8 && c.failed === 2;
  }, { message: '8 completed, 2 failed' });
  const metrics = await waitFor(async () => {
    const m = await q.getMetrics('completed');
    return m.meta.count === 8 && m;
  }, { message: 'completed metrics counted' });
  assert.ok(Array.isArray(metrics.data));
  assert.equal((await q.getMetrics('failed')).meta.count, 2);
  assert.match(await q.exportPrometheusMetrics(), /bullmq_job_completed_total\{queue="\{jqc\w+\}admin"\} 8/);

  await w.close();
  assert.deepEqual(await q.getWorkers(), [], 'a closed worker leaves the list');
  // clean: the 2 failed, then 5 of the completed
  assert.equal((await q.clean(0, 0, 'failed')).length, 2);
  assert.equal((await q.clean(0, 5, 'completed')).length, 5);
  assert.equal(await q.getCompletedCount(), 3);
  // drain: waiting (and with true, delayed) jobs go
  await q.addBulk([{ name: 'w', data: {} }, { name: 'w', data: {} }]);
  await q.add('d', {}, { delay: 60_000 });
  await q.drain();
  assert.deepEqual(await q.getJobCounts('waiting', 'delayed'), { waiting: 0, delayed: 1 });
  await q.drain(true);
  assert.equal(await q.getDelayedCount(), 0);
  // orphans: a job hash nothing references is removed, referenced jobs stay
  const kept = await q.add('kept', {});
  const io = env.ioCluster();
  await io.hset(`${env.prefix}:${name}:9999`, 'name', 'orphan', 'data', '{}');
  await io.set(`${env.prefix}:${name}:9999:logs`, 'x');
  assert.equal(await q.removeOrphanedJobs(), 1);
  assert.equal(await io.exists(`${env.prefix}:${name}:9999`), 0);
  assert.equal(await io.exists(`${env.prefix}:${name}:9999:logs`), 0);
  assert.ok(await q.getJob(kept.id));
  // obliterate removes this queue's keys only
  await q.obliterate({ force: true });
  assert.deepEqual((await cluster.keys(`${env.prefix}:${name}:*`)), []);
  assert.equal(await q2.getWaitingCount(), 1, 'the queue on another master is untouched');
});

test("the coordinator on a cluster (redis: { cluster: { nodes } }): queues on every master listed, workers, metrics, dead letters, retries", { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const c = env.coordinator();
  await c.initialize();
  const [a, b, z] = [0, 1, 2].map((i) => env.name(i, 'orders'));
  await c.createQueue(a, { defaultJobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 20 } } });
  await c.createQueue({ name: b });
  // a queue nobody declared, found on its master by refreshQueues
  const undeclared = env.queue(z);
  await undeclared.add('x', {});
  const admin = env.coordinator();
  await admin.refreshQueues();
  assert.deepEqual(admin.getQueueNames(), [a, b, z].sort());
  assert.deepEqual([...c.getAllQueues().keys()].sort(), [a, b].sort());
  const homes = await Promise.all([a, b, z].map((n) => cluster.masterOf(`${env.prefix}:${n}:meta`)));
  assert.deepEqual(homes, masters, 'one queue per master');

  const done = [];
  class Declined extends Error {
    constructor() {
      super('declined');
      this.name = 'Declined';
    }
  }
  for (const q of [a, b]) {
    await c.registerWorker(q, async (job) => {
      if (job.name === 'charge') throw new Declined();
      done.push(job.id);
      return { ok: job.id };
    }, { concurrency: 2 });
  }
  assert.equal(c.getWorkers(a).length, 1);
  const jobs = [];
  for (const q of [a, b]) for (let n = 0; n < 5; n++) jobs.push(await c.enqueueJob(q, 'work', { n }));
  const charge = await c.enqueueJob(a, 'charge', { amount: 5 });
  await c.enqueueBulk(b, [{ name: 'work', data: { n: 5 } }, { name: 'work', data: { n: 6 } }]);
  await waitFor(() => done.length === 12, { message: '12 jobs done on two masters' });
  await waitFor(async () => (await c.getQueueStatus(a)).jobCounts.failed === 1, { message: 'the charge failed for good' });

  // dead letters and retry statistics
  const [failed] = await c.getFailedJobs(a, 10);
  assert.deepEqual([failed.id, failed.error.name, failed.attempts], [charge.id, 'Declined', 2]);
  const stats = await c.getFailedJobStatistics(a);
  assert.equal(stats.totalFailedJobs, 1);
  assert.deepEqual(stats.failuresByJobType, { charge: 1 });
  const retries = await c.getRetryStatistics(a);
  assert.equal(retries.totalRetries, 1);
  assert.deepEqual(retries.retriesByErrorType, { Declined: 1 });
  await c.archiveFailedJob(a, charge.id);
  assert.deepEqual((await c.getArchivedJobs(a)).map((j) => j.id), [charge.id]);
  assert.equal((await c.getQueueStatus(a)).jobCounts.failed, 0);

  // status, pause, metrics
  await c.pauseQueue(b);
  assert.equal((await c.getQueueStatus(b)).isPaused, true);
  assert.equal((await c.getQueueStatus(a)).isPaused, false);
  await c.resumeQueue(b);
  const m = await waitFor(async () => {
    const r = await admin.getQueueMetrics(b);
    return r.processingTime.count === 7 && r;
  }, { message: 'metrics of queue b kept in Redis' });
  assert.equal(m.byJobType.work.completed, 7);
  const text = await c.exportPrometheusMetrics();
  assert.match(text, /# TYPE /);
  await c.destroyQueue(b);
  assert.equal(c.getQueue(b), null);
});

// The worker registry (`P::workers`, `P::workers:seen`, `P::workers:paused`) is written by one
// script taking its three keys: under a prefix without a hash tag they hash to different
// slots, and the heartbeat is refused (CROSSSLOT) until the registry keys share a tag
// (helper A's change to keys.rs / registry.rs: `P::{P}:workers`).
test('the worker registry on a cluster: heartbeats of workers on two masters, read by another coordinator; pause through the registry', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const c = env.coordinator();
  const admin = env.coordinator();
  const [a, b] = [0, 1].map((i) => env.name(i, 'reg'));
  const ran = [];
  const wa = await c.registerWorker(a, async (job) => ran.push(job.id));
  await c.registerWorker(b, async (job) => ran.push(job.id));
  await c.enqueueJob(a, 'x', {});
  await c.enqueueJob(b, 'x', {});
  await waitFor(() => ran.length === 2);
  const statuses = await waitFor(async () => {
    const s = await admin.getAllWorkerStatus();
    return s.length === 2 && s.reduce((n, w) => n + w.processedJobs, 0) === 2 && s;
  }, { message: 'the worker registry counts the processed jobs' });
  assert.deepEqual(statuses.map((s) => s.queueName).sort(), [a, b].sort());
  assert.equal((await admin.getWorkerMetrics()).totalWorkers, 2);
  await admin.pauseWorker(wa.id);
  await waitFor(async () => (await admin.getWorkerStatus(wa.id)).status === 'paused', { message: 'paused through the registry' });
});

test('security on a cluster: access control with grants stored once, forClient checks, the audit log and per-client rate limits', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const QUIET = { monitoring: { metricsCollection: { enabled: false }, healthChecks: { enabled: false } }, security: { accessControl: { cacheMs: 0 }, rateLimiting: { maxJobsPerMinute: 2 } } };
  const c = env.coordinator(QUIET);
  const other = env.coordinator(QUIET);
  const [emails, orders] = [0, 2].map((i) => env.name(i, 'sec'));
  await c.accessControl.grant('web', { resource: emails, actions: ['enqueue', 'view'] });
  assert.deepEqual(await other.accessControl.getClientPermissions('web'), [{ resource: emails, actions: ['enqueue', 'view'], conditions: [] }]);
  const web = other.forClient('web');
  const job = await web.enqueueJob(emails, 'welcome', { to: 'a@b.co' });
  assert.equal(job.opts.clientId, 'web');
  assert.equal((await web.getQueueStatus(emails)).jobCounts.waiting, 1);
  const before = await env.keys();
  await assert.rejects(web.enqueueJob(orders, 'x', {}), (e) => e.code === 'ERR_FORBIDDEN' && e.action === 'enqueue');
  await assert.rejects(web.pauseQueue(emails), (e) => e.code === 'ERR_FORBIDDEN' && e.action === 'manage');
  const after = (await env.keys()).filter((k) => !k.includes('audit'));
  assert.deepEqual(after, before.filter((k) => !k.includes('audit')), 'a denial writes nothing but its audit entry');
  // the per-client window: 2 jobs a minute for web; the third is refused
  await web.enqueueJob(emails, 'welcome', { to: 'c@d.co' });
  await assert.rejects(web.enqueueJob(emails, 'welcome', { to: 'e@f.co' }), (e) => e.code === 'ERR_RATE_LIMIT' && e.clientId === 'web');
  const decision = await c.securityManager.checkClientRateLimit('batch');
  assert.deepEqual(decision, { allowed: true, retryAfterMs: 0, remaining: 1 });
  // the audit log, read by another coordinator
  const denials = await c.securityManager.getAuditLog({ actor: 'web' });
  assert.ok(denials.filter((e) => e.outcome === 'denied').length >= 2, JSON.stringify(denials));
  assert.ok(denials.some((e) => e.action === 'enqueue' && e.queue === orders && e.outcome === 'denied'));
  await c.securityManager.auditJobActivity({ queue: emails, id: job.id }, 'inspected');
  const audited = await other.securityManager.getAuditLog({ action: 'inspected' });
  assert.equal(audited.length, 1);
  await c.accessControl.revoke('web', emails);
  assert.deepEqual(await other.accessControl.getClientPermissions('web'), []);
});

test('the environment form: a child process with REDIS_CLUSTER_NODES and no config enqueues on every master', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const names = [0, 1, 2].map((i) => env.name(i, 'env'));
  const script = `
    const { JobQueueCoordinator } = require(${JSON.stringify(require.resolve('..'))});
    (async () => {
      const c = new JobQueueCoordinator();
      await c.initialize();
      const ids = [];
      for (const q of ${JSON.stringify(names)}) ids.push((await c.enqueueJob(q, 'from-env', { q })).id);
      await c.shutdown({ timeoutMs: 1000 });
      process.stdout.write(JSON.stringify(ids));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const childEnv = { ...process.env, REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','), REDIS_KEY_PREFIX: env.prefix };
  delete childEnv.REDIS_URL;
  const { stdout } = await run(process.execPath, ['-e', script], { env: childEnv, timeout: 30000 });
  const ids = JSON.parse(stdout);
  for (let i = 0; i < 3; i++) {
    const job = await env.queue(names[i]).getJob(ids[i]);
    assert.deepEqual([job.name, job.data], ['from-env', { q: names[i] }]);
  }
  const homes = await Promise.all(names.map((n) => cluster.masterOf(`${env.prefix}:${n}:wait`)));
  assert.deepEqual(homes, masters);
});

test('the URL form (redis+cluster://) for the coordinator and the Queue; an ioredis Cluster instance as connection', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(1, 'forms');
  assert.match(cluster.url, /^redis\+cluster:\/\/127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){5}$/);
  const c = env.coordinator({ redis: { url: cluster.url, keyPrefix: env.prefix } });
  const viaUrl = await c.enqueueJob(name, 'url', { n: 1 });
  const q = new Queue(name, { connection: cluster.url, prefix: env.prefix });
  env.onClose(() => q.close());
  const viaQueue = await q.add('url-queue', { n: 2 });
  const io = env.ioCluster();
  const withInstance = new Queue(name, { connection: io, prefix: env.prefix });
  env.onClose(() => withInstance.close());
  const viaInstance = await withInstance.add('instance', { n: 3 });
  assert.deepEqual((await withInstance.getJobs(['waiting'], 0, -1, true)).map((j) => j.id), [viaUrl.id, viaQueue.id, viaInstance.id]);
  const done = [];
  const w = new Worker(name, async (job) => done.push(job.data.n), { connection: io, prefix: env.prefix });
  env.onClose(() => w.close());
  await waitFor(() => done.length === 3);
  assert.deepEqual(done, [1, 2, 3]);
  // the instance is the user's: closing our objects leaves it connected
  await w.close();
  await withInstance.close();
  assert.equal(await io.get(`${env.prefix}:${name}:id`), '3');
});

test('interop on a cluster: BullMQ 6 with an ioredis Cluster and this package on the same tagged queue', { skip, timeout: 60000 }, async (t) => {
  const env = setup(t);
  const name = env.name(2, 'interop');
  const bq = env.bullQueue(name);
  const ours = env.queue(name);
  // BullMQ's Queue adds, our Worker runs
  const fromBull = await Promise.all([1, 2, 3].map((n) => bq.add('from-bull', { n })));
  const ourRuns = [];
  const w = env.worker(name, async (job) => {
    ourRuns.push(job.id);
    return { by: 'ours', n: job.data.n };
  });
  await waitFor(() => ourRuns.length === 3, { message: 'our worker runs BullMQ jobs' });
  await w.close();
  for (const j of fromBull) {
    const read = await bq.getJob(j.id);
    assert.deepEqual(read.returnvalue, { by: 'ours', n: j.data.n }, 'BullMQ reads our result');
    assert.equal(await read.getState(), 'completed');
  }
  // our Queue adds, BullMQ's Worker runs
  const fromOurs = await ours.addBulk([4, 5, 6].map((n) => ({ name: 'from-ours', data: { n }, opts: { attempts: 2 } })));
  const failing = await ours.add('from-ours', { n: 7, fail: true }, { attempts: 1 });
  const bullRuns = [];
  const bw = env.bullWorker(name, async (job) => {
    bullRuns.push(job.id);
    if (job.data.fail) throw new Error('bull says no');
    return { by: 'bullmq', n: job.data.n };
  });
  await waitFor(async () => {
    const c = await ours.getJobCounts('completed', 'failed');
    return c.completed === 6 && c.failed === 1;
  }, { message: 'BullMQ runs our jobs' });
  for (const j of fromOurs) assert.deepEqual((await ours.getJob(j.id)).returnvalue, { by: 'bullmq', n: j.data.n });
  assert.equal((await ours.getJob(failing.id)).failedReason, 'bull says no');
  assert.equal(bullRuns.length, 4);
  await bw.close();
  // Bull Board-style reads through BullMQ's Queue agree with ours
  await ours.add('left', {}, { delay: 60_000 });
  await ours.add('prio', {}, { priority: 3 });
  const types = ['active', 'completed', 'delayed', 'failed', 'paused', 'prioritized', 'waiting', 'waiting-children'];
  assert.deepEqual(await bq.getJobCounts(...types), await ours.getJobCounts(...types));
  const ids = (list) => list.map((j) => j.id);
  assert.deepEqual(ids(await bq.getJobs(['completed'], 0, -1, true)), ids(await ours.getJobs(['completed'], 0, -1, true)));
  assert.deepEqual(ids(await bq.getFailed()), ids(await ours.getFailed()));
  assert.equal(await bq.isPaused(), await ours.isPaused());
});
