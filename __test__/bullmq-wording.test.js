'use strict';
// BullMQ's classes fail with BullMQ's messages (which services match on), as our typed errors:
// the class and `code` say what kind of refusal it is, `field` what was refused, and nothing
// is written to Redis. The design's API keeps its own wording (errors.test.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const {
  Queue,
  Worker,
  Job,
  QueueEvents,
  JobQueueError,
  ValidationError,
  JobStateError,
  JobNotFoundError,
  JobQueueCoordinator,
} = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-words');
  const connection = { url: REDIS_URL };
  const closers = [];
  const redis = new Redis(RAW_REDIS_URL);
  const env = {
    prefix,
    connection,
    /** A Queue whose meta is written, so what follows starts from a known set of keys. */
    async queue(name) {
      const q = new Queue(name, { prefix, connection });
      closers.push(() => q.close());
      await q.waitUntilReady();
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
    events(name) {
      const e = new QueueEvents(name, { prefix, connection });
      closers.push(() => e.close());
      return e;
    },
    /** Every key under the prefix with its content, to show that nothing changed. */
    async snapshot() {
      const keys = (await redis.keys(`${prefix}:*`)).sort();
      const out = {};
      for (const k of keys) {
        const type = await redis.type(k);
        if (type === 'hash') out[k] = await redis.hgetall(k);
        else if (type === 'list') out[k] = await redis.lrange(k, 0, -1);
        else if (type === 'zset') out[k] = await redis.zrange(k, 0, -1, 'WITHSCORES');
        else if (type === 'string') out[k] = await redis.get(k);
        else if (type === 'stream') out[k] = await redis.xlen(k);
        else out[k] = type;
      }
      return out;
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await cleanup(REDIS_URL, prefix);
    redis.disconnect();
  });
  return env;
}

/** `promise` rejects with exactly `message`, as an instance of `Class` with `code` (and
 * `field`, when given). */
async function rejectsWith(promise, Class, code, message, field) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Class, `${message}: got ${err && err.name}: ${err && err.message}`);
    assert.ok(err instanceof JobQueueError);
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    if (field !== undefined) assert.equal(err.field, field, message);
    return true;
  });
}

const invalid = (promise, message, field) => rejectsWith(promise, ValidationError, 'ERR_VALIDATION', message, field);

test("Queue.add, addBulk and Job.create refuse options in BullMQ's words and write nothing", async (t) => {
  const env = setup(t);
  const queue = await env.queue('opts');
  const before = await env.snapshot();
  const cases = [
    [{ priority: 1.1 }, 'Priority should not be float', 'priority'],
    [{ priority: 2097152 }, 'Priority should be between 0 and 2097151', 'priority'],
    [{ priority: -1 }, 'Priority should be between 0 and 2097151', 'priority'],
    [{ jobId: '2' }, 'Custom Id cannot be integers', 'jobId'],
    [{ jobId: '1:0' }, 'Custom Id cannot contain :', 'jobId'],
    [{ jobId: '0' }, "JobId cannot be '0' or start with '0:'", 'opts.jobId'],
    [{ deduplication: { id: '' } }, 'Deduplication id must be provided', 'deduplication.id'],
    [{ debounce: { id: 'legacy' } }, 'Debounce option has been removed. Use deduplication option instead', 'debounce'],
    [
      { removeDependencyOnFailure: true, failParentOnFailure: true },
      'The following options cannot be used together: removeDependencyOnFailure, failParentOnFailure',
      'removeDependencyOnFailure',
    ],
    [
      { ignoreDependencyOnFailure: true, failParentOnFailure: true },
      'The following options cannot be used together: failParentOnFailure, ignoreDependencyOnFailure',
      'failParentOnFailure',
    ],
    [
      { deduplication: { id: 'd' }, parent: { id: '1', queue: `${env.prefix}:opts` } },
      'Deduplication and parent options cannot be used together',
      'deduplication',
    ],
    [{ backoff: { type: 'fixed', jitter: -1 } }, 'Jitter should be between 0 and 1', 'backoff.jitter'],
    [{ backoff: { type: 'exponential', jitter: 5 } }, 'Jitter should be between 0 and 1', 'backoff.jitter'],
    [{ sizeLimit: 12 }, 'The size of job test exceeds the limit 12 bytes', 'data'],
  ];
  for (const [opts, message, field] of cases) {
    await invalid(queue.add('test', { foo: 'bar' }, opts), message, field);
    await invalid(Job.create(queue, 'test', { foo: 'bar' }, opts), message);
    await invalid(queue.addBulk([{ name: 'ok', data: {} }, { name: 'test', data: { foo: 'bar' }, opts }]), message);
  }
  // 16 bytes of UTF-8 in 13 characters: the limit is in bytes
  await invalid(queue.add('test', { foo: 'βÅ®' }, { sizeLimit: 15 }), 'The size of job test exceeds the limit 15 bytes', 'data');
  assert.deepEqual(await env.snapshot(), before, 'nothing written');
});

test('an empty jobId gives a generated id, and a sizeLimit the data fits is kept, as in BullMQ', async (t) => {
  const env = setup(t);
  const queue = await env.queue('empty-id');
  const first = await queue.add('a', {});
  const job = await Job.create(queue, 'b', { foo: 'bar' }, { jobId: '', sizeLimit: 13 });
  assert.equal(job.id, String(Number(first.id) + 1));
  assert.equal((await queue.getJob(job.id)).opts.sizeLimit, 13);
});

test("Job methods on a missing job or one in the wrong state fail in BullMQ's words", async (t) => {
  const env = setup(t);
  const queue = await env.queue('job-ops');
  const events = env.events('job-ops');
  await events.waitUntilReady();
  const gone = await queue.add('gone', { x: 1 });
  await gone.remove();
  const before = await env.snapshot();
  const missing = (promise, command) =>
    rejectsWith(promise, JobNotFoundError, 'ERR_JOB_NOT_FOUND', `Missing key for job ${gone.id}. ${command}`);
  await missing(gone.updateData({ y: 2 }), 'updateData');
  await missing(gone.updateProgress(5), 'updateProgress');
  await missing(gone.log('row'), 'addLog');
  await missing(gone.changePriority({ priority: 2 }), 'changePriority');
  await missing(gone.changeDelay(100), 'changeDelay');
  await missing(gone.promote(), 'promote');
  await missing(gone.retry(), 'reprocessJob');
  await missing(gone.moveToDelayed(Date.now() + 1000), 'moveToDelayed');
  await rejectsWith(
    gone.waitUntilFinished(events),
    JobNotFoundError,
    'ERR_JOB_NOT_FOUND',
    `Missing key for job ${queue.toKey(gone.id)}. isFinished`,
  );
  assert.deepEqual(await env.snapshot(), before, 'nothing written');

  const waiting = await queue.add('waiting', { x: 1 });
  const state = (promise, message) => rejectsWith(promise, JobStateError, 'ERR_JOB_NOT_IN_STATE', message);
  await state(waiting.changeDelay(100), `Job ${waiting.id} is not in the delayed state. changeDelay`);
  await state(waiting.promote(), `Job ${waiting.id} is not in the delayed state. promote`);
  await state(waiting.retry(), `Job ${waiting.id} is not in the failed state. reprocessJob`);
  await state(waiting.retry('completed'), `Job ${waiting.id} is not in the completed state. reprocessJob`);
  await state(waiting.moveToDelayed(Date.now() + 1000), `Job ${waiting.id} is not in the active state. moveToDelayed`);
  assert.equal(await waiting.getState(), 'waiting', 'left where it was');
});

test("removing a running job or a job scheduler's next run is refused in BullMQ's words", async (t) => {
  const env = setup(t);
  const queue = await env.queue('removals');
  let release;
  const gate = new Promise((r) => (release = r));
  const started = [];
  env.worker('removals', async (job) => {
    started.push(job.id);
    await gate;
  });
  const running = await queue.add('r', {});
  await waitFor(() => started.length === 1);
  await rejectsWith(
    running.remove(),
    JobStateError,
    'ERR_JOB_NOT_IN_STATE',
    `Job ${running.id} could not be removed because it is locked by another worker`,
  );
  assert.equal(await queue.remove(running.id), 0, 'Queue.remove still answers 0, as BullMQ');
  release();

  const next = await queue.upsertJobScheduler('yearly', { pattern: '0 0 1 1 *' });
  await rejectsWith(
    next.remove(),
    JobStateError,
    'ERR_JOB_NOT_IN_STATE',
    `Job ${next.id} belongs to a job scheduler and cannot be removed directly. removeJob`,
  );
  await assert.rejects(queue.remove(next.id), JobStateError, 'Queue.remove refuses it too');
  assert.equal(await next.getState(), 'delayed', 'the pending run stays');
});

test("upsertJobScheduler refuses schedules in BullMQ's words and writes nothing", async (t) => {
  const env = setup(t);
  const queue = await env.queue('schedules');
  const before = await env.snapshot();
  await invalid(
    queue.upsertJobScheduler('s', { pattern: '* * * * *', every: 1000 }),
    'Both .pattern and .every options are defined for this repeatable job',
    'every',
  );
  await invalid(queue.upsertJobScheduler('s', {}), 'Either .pattern or .every options must be defined for this repeatable job');
  await invalid(
    queue.upsertJobScheduler('s', { pattern: '* * * * *', immediately: true, startDate: Date.now() + 60_000 }),
    'Both .immediately and .startDate options are defined for this repeatable job',
    'immediately',
  );
  await invalid(
    queue.upsertJobScheduler('s', { every: 100, endDate: Date.now() - 1000 }),
    'End date must be greater than current timestamp',
    'repeatOpts.endDate',
  );
  await invalid(
    queue.upsertJobScheduler('s', { every: 100 }, { opts: { debounce: { id: 'legacy' } } }),
    'Debounce option has been removed. Use deduplication option instead',
    'debounce',
  );
  assert.deepEqual(await env.snapshot(), before, 'nothing written');
});

test("Worker refuses options in BullMQ's words, before it connects", async (t) => {
  const env = setup(t);
  const make = (opts) => () => new Worker('w', async () => {}, { prefix: env.prefix, connection: env.connection, autorun: false, ...opts });
  const cases = [
    [{ concurrency: 0 }, 'concurrency must be a finite number greater than 0', 'concurrency'],
    [{ concurrency: NaN }, 'concurrency must be a finite number greater than 0', 'concurrency'],
    [{ concurrency: Infinity }, 'concurrency must be a finite number greater than 0', 'concurrency'],
    [{ maxStalledCount: -1 }, 'maxStalledCount must be greater or equal than 0', 'maxStalledCount'],
    [{ maxStartedAttempts: -1 }, 'maxStartedAttempts must be greater or equal than 0', 'maxStartedAttempts'],
    [{ stalledInterval: 0 }, 'stalledInterval must be greater than 0', 'stalledInterval'],
    [{ drainDelay: 0 }, 'drainDelay must be greater than 0', 'drainDelay'],
  ];
  for (const [opts, message, field] of cases) {
    assert.throws(make(opts), (err) => {
      assert.ok(err instanceof ValidationError, `${message}: ${err}`);
      assert.equal(err.code, 'ERR_VALIDATION');
      assert.equal(err.message, message);
      assert.equal(err.field, field);
      return true;
    });
  }
  // what BullMQ accepts but the engine cannot run is refused in our words
  assert.throws(make({ concurrency: 1.5 }), { name: 'ValidationError', field: 'concurrency', message: 'invalid concurrency: must be a positive integer' });

  const worker = env.worker('w', async () => {}, { autorun: false });
  assert.throws(() => (worker.concurrency = 0), { name: 'ValidationError', message: 'concurrency must be a finite number greater than 0' });
  assert.equal(worker.concurrency, 1, 'unchanged');
  assert.deepEqual(await env.snapshot(), {}, 'nothing written');
});

test("the design's API keeps its own wording, naming the field", async (t) => {
  const prefix = uniquePrefix('jqt-words-design');
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix } });
  t.after(async () => {
    await c.shutdown({ timeoutMs: 2000 }).catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  await invalid(c.enqueueJob('q', { x: 1 }, { priority: 1.5 }), 'invalid priority: must be a non-negative integer', 'priority');
  await invalid(c.enqueueJob('q', { x: 1 }, { jobId: '' }), 'invalid jobId: must not be empty', 'jobId');
  await invalid(c.enqueueJob('q', { x: 1 }, { jobId: '7' }), 'invalid jobId: Custom Id cannot be integers (integers are reserved for generated ids)', 'jobId');
  // BullMQ's own options keep BullMQ's words on either API
  await invalid(c.enqueueJob('q', { x: 1 }, { debounce: { id: 'd' } }), 'Debounce option has been removed. Use deduplication option instead', 'debounce');
  await invalid(c.enqueueJob('q', { foo: 'bar' }, { sizeLimit: 5 }), 'The size of job q exceeds the limit 5 bytes', 'data');
});
