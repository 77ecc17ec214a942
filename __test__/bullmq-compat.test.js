'use strict';
// Gaps found by running BullMQ's own test suite against our Queue, Worker and Job (see
// docs/bullmq-compatibility.md), each pinned by a test of ours against the real Redis.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const {
  Queue,
  Worker,
  DelayedError,
  WaitingError,
  WaitingChildrenError,
  ValidationError,
  JobStateError,
  Job,
} = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

function setup(t) {
  const prefix = uniquePrefix('jqt-compat');
  const connection = { url: REDIS_URL };
  const closers = [];
  const redis = new Redis(RAW_REDIS_URL);
  const env = {
    prefix,
    connection,
    redis,
    queue(name, opts = {}) {
      const q = new Queue(name, { prefix, connection, ...opts });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor, opts = {}) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
  };
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await cleanup(REDIS_URL, prefix);
    redis.disconnect();
  });
  return env;
}

test('the processor errors are exported with BullMQ names and messages', () => {
  assert.equal(new DelayedError().name, 'DelayedError');
  assert.equal(new DelayedError().message, 'bullmq:movedToDelayed');
  assert.equal(new WaitingError().message, 'bullmq:movedToWait');
  assert.equal(new WaitingChildrenError().message, 'bullmq:movedToWaitingChildren');
  assert.equal(new WaitingChildrenError('x').code, 'ERR_MOVED_TO_WAITING_CHILDREN');
});

test('a processor that moves its job to delayed and throws DelayedError leaves it delayed', async (t) => {
  const env = setup(t);
  const queue = env.queue('moves');
  const failed = [];
  const completed = [];
  let runs = 0;
  const worker = env.worker('moves', async (job) => {
    runs += 1;
    if (runs === 1) {
      await job.moveToDelayed(Date.now() + 60_000, job.token);
      throw new DelayedError();
    }
    return 'second';
  });
  worker.on('failed', (job) => failed.push(job.id));
  worker.on('completed', (job) => completed.push(job.id));
  const job = await queue.add('j', { a: 1 }, { attempts: 1 });
  await waitFor(async () => (await queue.getJobCounts('delayed')).delayed === 1 && runs === 1);
  // the worker forgot the job: it is neither active nor failed, and no attempt counted
  const counts = await queue.getJobCounts('active', 'failed', 'completed', 'delayed');
  assert.deepEqual(counts, { active: 0, failed: 0, completed: 0, delayed: 1 });
  const stored = await queue.getJob(job.id);
  assert.equal(await stored.getState(), 'delayed');
  assert.equal(stored.attemptsMade, 0);
  assert.equal(await env.redis.exists(`${env.prefix}:moves:${job.id}:lock`), 0);
  // promoted, it runs again and completes: the one attempt was not used up
  await stored.promote();
  await waitFor(() => completed.length === 1);
  assert.deepEqual(failed, []);
  assert.equal((await queue.getJob(job.id)).returnvalue, 'second');
});

test('the worker keeps processing after a DelayedError (its slot is freed)', async (t) => {
  const env = setup(t);
  const queue = env.queue('slots');
  const done = [];
  const worker = env.worker(
    'slots',
    async (job) => {
      if (job.data.delay) {
        await job.moveToDelayed(Date.now() + 60_000, job.token);
        throw new DelayedError();
      }
      done.push(job.id);
    },
    { concurrency: 1 },
  );
  await queue.add('d', { delay: true });
  await queue.add('n', {});
  await queue.add('n', {});
  await waitFor(() => done.length === 2);
  assert.equal(await queue.getDelayedCount(), 1);
  assert.equal(worker.isRunning(), true);
});

test('Worker.id is set from construction and is the id the worker runs with', async (t) => {
  const env = setup(t);
  const worker = env.worker('ids', async () => {}, { autorun: false });
  const before = worker.id;
  assert.match(before, /^[0-9a-f-]{36}$/);
  const queue = env.queue('ids');
  const seen = [];
  worker.on('completed', (job) => seen.push(job));
  worker.run().catch(() => {});
  await queue.add('j', {});
  await waitFor(() => seen.length === 1);
  assert.equal(worker.id, before);
  // the lock token the job ran under starts with the worker's id
  assert.ok(seen[0].token.startsWith(before), `token ${seen[0].token}`);
});

test('Queue.remove: 1 for a missing job, 0 for a running one, a JobStateError for a scheduler run', async (t) => {
  const env = setup(t);
  const queue = env.queue('remove');
  const removed = [];
  queue.on('removed', (id) => removed.push(id));
  assert.equal(await queue.remove('nope'), 1);
  assert.deepEqual(removed, ['nope']);

  let release;
  const gate = new Promise((r) => (release = r));
  const started = [];
  env.worker('remove', async (job) => {
    started.push(job.id);
    await gate;
  });
  const running = await queue.add('r', {});
  await waitFor(() => started.length === 1);
  assert.equal(await queue.remove(running.id), 0);
  assert.ok(await queue.getJob(running.id));
  release();

  // a yearly pattern: the scheduler's pending run is delayed until next January
  const next = await queue.upsertJobScheduler('sched', { pattern: '0 0 1 1 *' });
  assert.equal(await next.getState(), 'delayed');
  await assert.rejects(queue.remove(next.id), (err) => err instanceof JobStateError && /scheduler/.test(err.message));
  assert.ok(await queue.getJob(next.id), 'the pending run stays');
});

test('setGlobalConcurrency caps the jobs running at once across workers; getMeta reads it back', async (t) => {
  const env = setup(t);
  const queue = env.queue('global-conc');
  await queue.setGlobalConcurrency(1);
  assert.deepEqual(await queue.getMeta(), { concurrency: 1, maxLenEvents: 10000, paused: false, version: (await queue.getVersion()) });
  let running = 0;
  let most = 0;
  let done = 0;
  const processor = async () => {
    running += 1;
    most = Math.max(most, running);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20)); // work that takes a while, not a sync point
    running -= 1;
    done += 1;
  };
  env.worker('global-conc', processor, { concurrency: 4 });
  env.worker('global-conc', processor, { concurrency: 4 });
  await queue.addBulk(Array.from({ length: 8 }, (_, i) => ({ name: 'j', data: { i } })));
  await waitFor(() => done === 8);
  assert.equal(most, 1);
  assert.equal(await queue.getGlobalConcurrency(), 1);
  await queue.removeGlobalConcurrency();
  assert.equal((await queue.getMeta()).concurrency, undefined);
  assert.equal(await queue.getGlobalConcurrency(), null);
});

test('setGlobalConcurrency and setGlobalRateLimit refuse bad numbers and write nothing', async (t) => {
  const env = setup(t);
  const queue = env.queue('bad-limits', { skipMetasUpdate: true });
  await queue.waitUntilReady();
  await assert.rejects(queue.setGlobalConcurrency(0), ValidationError);
  await assert.rejects(queue.setGlobalConcurrency(1.5), ValidationError);
  await assert.rejects(queue.setGlobalRateLimit(0, 1000), ValidationError);
  await assert.rejects(queue.setGlobalRateLimit(1, -1), ValidationError);
  // what is not a number is refused by the same field, not taken as "no limit"
  for (const [call, field] of [
    [() => queue.setGlobalConcurrency('2'), 'concurrency'],
    [() => queue.setGlobalConcurrency(), 'concurrency'],
    [() => queue.setGlobalRateLimit(1), 'duration'],
    [() => queue.getRateLimitTtl(0), 'maxJobs'],
  ]) {
    await assert.rejects(call(), (err) => err instanceof ValidationError && err.field === field);
  }
  assert.equal(await env.redis.exists(`${env.prefix}:bad-limits:meta`), 0);
  assert.equal(await queue.getVersion(), null);
});

test('setGlobalRateLimit limits jobs per window; getRateLimitTtl reports the wait', async (t) => {
  const env = setup(t);
  const queue = env.queue('global-rate');
  await queue.setGlobalRateLimit(2, 1500);
  const meta = await queue.getMeta();
  assert.deepEqual({ max: meta.max, duration: meta.duration }, { max: 2, duration: 1500 });
  const started = [];
  env.worker('global-rate', async () => {
    started.push(Date.now());
  });
  await queue.addBulk(Array.from({ length: 4 }, () => ({ name: 'j', data: {} })));
  await waitFor(() => started.length >= 2);
  const ttl = await queue.getRateLimitTtl();
  // the window is used up: the next two wait for it to end
  if (started.length === 2) assert.ok(ttl > 0 && ttl <= 1500, `ttl ${ttl}`);
  await waitFor(() => started.length === 4);
  assert.ok(started[2] - started[0] >= 1400, `third job started ${started[2] - started[0]} ms after the first`);
  assert.deepEqual(await queue.getGlobalRateLimit(), { max: 2, duration: 1500 });
  await queue.removeGlobalRateLimit();
  assert.equal((await queue.getMeta()).max, undefined);
  assert.equal(await queue.getGlobalRateLimit(), null);
});

test('worker.rateLimit pauses every rate-limited worker of the queue, not only its own', async (t) => {
  const env = setup(t);
  const queue = env.queue('rl-wide');
  const limiter = { max: 100, duration: 1000 };
  const byB = [];
  let limitedAt = 0;
  const a = env.worker(
    'rl-wide',
    async () => {
      if (!limitedAt) {
        limitedAt = Date.now();
        await a.rateLimit(1500);
        throw Worker.RateLimitError();
      }
    },
    { limiter },
  );
  await queue.add('first', {});
  await waitFor(() => limitedAt > 0);
  assert.ok((await queue.getRateLimitTtl(limiter.max)) > 0, 'the queue is rate limited');
  // a second worker, started after the pause, fetches nothing until the pause ends
  env.worker('rl-wide', async () => byB.push(Date.now()), { limiter });
  await queue.add('second', {});
  await waitFor(async () => (await queue.getCompletedCount()) === 2);
  for (const at of byB) assert.ok(at - limitedAt >= 1400, `ran ${at - limitedAt} ms after the pause began`);
});

test('Queue.rateLimit pauses the queue for rate-limited workers', async (t) => {
  const env = setup(t);
  const queue = env.queue('q-rl');
  await queue.rateLimit(60_000);
  assert.ok((await queue.getRateLimitTtl(1)) > 59_000);
  // without a max, the limiter key's own TTL, as BullMQ reports it
  assert.ok((await queue.getRateLimitTtl()) > 59_000);
  await queue.removeRateLimitKey();
  assert.equal(await queue.getRateLimitTtl(), -2, 'no limiter key');
  assert.equal(await queue.getRateLimitTtl(5), 0);
  await assert.rejects(queue.rateLimit(-1), ValidationError);
});

test('queue name and job id errors carry BullMQ wording', async (t) => {
  const env = setup(t);
  assert.throws(() => new Queue('a:b', { connection: env.connection }), /Queue name cannot contain :/);
  assert.throws(() => new Queue('', { connection: env.connection }), /Queue name must be provided/);
  const queue = env.queue('ids-words');
  await assert.rejects(queue.add('j', {}, { jobId: '12' }), /Custom Id cannot be integers/);
  await assert.rejects(queue.add('j', {}, { jobId: 'a:b' }), /Custom Id cannot contain :/);
  assert.equal(await queue.count(), 0);
});

test('an ioredis instance (whose unset options are null) works as the connection', async (t) => {
  const env = setup(t);
  const client = new Redis(RAW_REDIS_URL, { maxRetriesPerRequest: null });
  t.after(() => client.disconnect());
  assert.equal(client.options.username, null);
  const queue = env.queue('ioredis-conn', { connection: client });
  const job = await queue.add('j', { x: 1 });
  assert.equal((await queue.getJob(job.id)).data.x, 1);
});

test('drain removes every waiting job even while a worker takes jobs between its batches', async (t) => {
  const env = setup(t);
  const queue = env.queue('drain-race');
  // a scheduler's pending run stays (drain keeps it), so the drain steps over kept jobs
  await queue.upsertJobScheduler('keep', { every: 3_600_000 }, { opts: { delay: 0 } });
  await queue.addBulk(Array.from({ length: 2500 }, (_, i) => ({ name: 'j', data: { i } })));
  const worker = env.worker('drain-race', async () => {}, { concurrency: 50 });
  await waitFor(async () => (await queue.getCompletedCount()) > 0);
  await queue.drain();
  await worker.close(true);
  const left = await queue.getJobs(['waiting', 'prioritized']);
  assert.deepEqual(
    left.map((j) => j.id).filter((id) => !id.startsWith('repeat:')),
    [],
  );
});

test("the processor's context stands in for BullMQ's token argument", async (t) => {
  const env = setup(t);
  const queue = env.queue('ctx-token');
  const seen = [];
  env.worker('ctx-token', async (job, token) => {
    // BullMQ code passes its second argument where a token goes
    seen.push({ text: `${token}`, extended: await job.extendLock(token, 30_000), token: job.token });
    if (!job.data.again) {
      await job.moveToDelayed(Date.now() + 60_000, token);
      throw new DelayedError();
    }
  });
  const job = await queue.add('j', {});
  await waitFor(async () => (await queue.getDelayedCount()) === 1);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].text, seen[0].token);
  assert.equal(seen[0].extended, 1);
  assert.equal(await (await queue.getJob(job.id)).getState(), 'delayed');
});

test('Job.create and Job.createBulk add jobs to a Queue', async (t) => {
  const env = setup(t);
  const queue = env.queue('create');
  const waiting = [];
  queue.on('waiting', (job) => waiting.push(job.id));
  const job = await Job.create(queue, 'one', { a: 1 }, { priority: 3 });
  assert.equal((await queue.getJob(job.id)).data.a, 1);
  assert.equal(await job.getState(), 'prioritized');
  const bulk = await Job.createBulk(queue, [{ name: 'b', data: { i: 1 } }, { name: 'b', data: { i: 2 } }]);
  assert.deepEqual(bulk.map((j) => j.data.i), [1, 2]);
  assert.equal(await queue.count(), 3);
  assert.deepEqual(waiting, []);
  await assert.rejects(Job.create({ name: 'x' }, 'n', {}), ValidationError);
});

test("Queue.add keeps a custom backoff type; the worker's backoffStrategy sets its delay", async (t) => {
  const env = setup(t);
  const queue = env.queue('custom-backoff');
  const calls = [];
  const attempts = [];
  env.worker(
    'custom-backoff',
    async (job) => {
      attempts.push(Date.now());
      if (attempts.length === 1) throw new Error('first');
      return 'ok';
    },
    {
      settings: {
        backoffStrategy: (attemptsMade, type, err) => {
          calls.push([attemptsMade, type, err.message]);
          return 400;
        },
      },
    },
  );
  const job = await queue.add('j', {}, { attempts: 2, backoff: { type: 'custom', delay: 5 } });
  assert.deepEqual((await queue.getJob(job.id)).opts.backoff, { type: 'custom', delay: 5 });
  await waitFor(async () => (await (await queue.getJob(job.id)).getState()) === 'completed');
  assert.deepEqual(calls, [[1, 'custom', 'first']]);
  assert.ok(attempts[1] - attempts[0] >= 380, `retried after ${attempts[1] - attempts[0]} ms`);
  // an empty type or a bad delay is still refused
  await assert.rejects(queue.add('j', {}, { attempts: 2, backoff: { type: '' } }), ValidationError);
  await assert.rejects(queue.add('j', {}, { attempts: 2, backoff: { type: 'custom', delay: -1 } }), ValidationError);
});

test('Queue.add stores a backoff without jitter as given (BullMQ adds none)', async (t) => {
  const env = setup(t);
  const queue = env.queue('no-jitter');
  const job = await queue.add('j', {}, { attempts: 3, backoff: { type: 'fixed', delay: 300 } });
  const stored = JSON.parse(await env.redis.hget(`${env.prefix}:no-jitter:${job.id}`, 'opts'));
  assert.deepEqual(stored.backoff, { type: 'fixed', delay: 300 });
});
