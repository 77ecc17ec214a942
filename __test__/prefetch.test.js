'use strict';
// Prefetch is opt-in: by default a worker fetches only for its free slots, as BullMQ does, so
// `active` never exceeds its concurrency and a later higher-priority job is never overtaken
// by a held one. `prefetch: 'auto'` holds one job ahead while attempts are short. The same
// option acts on registerWorker and on the Worker class.
const test = require('node:test');
const assert = require('node:assert');
const Redis = require('ioredis');
const { ValidationError, Queue, Worker } = require('..');
const { setupCoordinators, waitFor, uniquePrefix, cleanup, REDIS_URL, RAW_REDIS_URL } = require('./helpers');

/** A processor whose jobs named 'slow' wait for `release()`; others finish at once. */
function gate() {
  let open;
  const opened = new Promise((resolve) => (open = resolve));
  const order = [];
  return {
    order,
    release: () => open(),
    processor: async (job) => {
      order.push(job.name);
      if (job.name === 'slow') await opened;
    },
  };
}

test('by default active never exceeds the concurrency and a later higher-priority job goes first', async (t) => {
  const { c } = setupCoordinators(t, 'jqt-prefetch');
  const g = gate();
  for (const name of ['fast', 'fast', 'slow', 'later']) {
    await c.enqueueJob('q', name, { x: 1 }, { attempts: 1, priority: 5 });
  }
  const worker = await c.registerWorker('q', g.processor, { concurrency: 1 });
  await waitFor(() => g.order.length === 3, { message: 'two short jobs done and the slow one running' });
  // with a job held ahead, active would reach 2 right after the short attempts
  const over = await waitFor(async () => (await c.getQueueStatus('q')).jobCounts.active > 1, { timeoutMs: 500 }).catch(() => false);
  assert.strictEqual(over, false, 'active stayed at the concurrency of 1');
  await c.enqueueJob('q', 'urgent', { x: 1 }, { attempts: 1, priority: 1 });
  g.release();
  await waitFor(async () => (await c.getQueueStatus('q')).jobCounts.completed === 5, { message: 'all five jobs done' });
  assert.deepStrictEqual(g.order, ['fast', 'fast', 'slow', 'urgent', 'later']);
  await worker.close(1000);
});

test("prefetch: 'auto' holds one job ahead while attempts are short", async (t) => {
  const { c } = setupCoordinators(t, 'jqt-prefetch');
  const g = gate();
  // enough short attempts for the running mean to fall under 5 ms even if the first ones
  // are slow (a cold JIT, a busy machine)
  const names = [...Array(40).fill('fast'), 'slow', 'later'];
  await c.enqueueBulk('q', names.map((name) => ({ name, data: { x: 1 }, options: { attempts: 1 } })));
  const worker = await c.registerWorker('q', g.processor, { concurrency: 1, prefetch: 'auto' });
  await waitFor(async () => g.order.at(-1) === 'slow' && (await c.getQueueStatus('q')).jobCounts.active === 2, {
    message: 'the slow job running and the next one held',
  });
  g.release();
  await waitFor(async () => (await c.getQueueStatus('q')).jobCounts.completed === names.length, { message: 'all jobs done' });
  await worker.close(1000);
});

test('prefetch takes a count or "auto"; anything else is a ValidationError', async (t) => {
  const { c } = setupCoordinators(t, 'jqt-prefetch');
  for (const bad of ['always', -1, 1.5, true]) {
    await assert.rejects(c.registerWorker('q', async () => {}, { prefetch: bad }), (err) => {
      assert.ok(err instanceof ValidationError, `${bad}: ${err}`);
      assert.strictEqual(err.field, 'prefetch');
      return true;
    });
  }
  const worker = await c.registerWorker('q', async () => {}, { prefetch: 2 });
  await worker.close(1000);
});

/** Queue and Worker classes on a key prefix of their own, closed and cleaned up after. */
function classes(t) {
  const prefix = uniquePrefix('jqt-prefetch-cls');
  const connection = { url: REDIS_URL };
  const closers = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return {
    prefix,
    queue(name) {
      const q = new Queue(name, { prefix, connection });
      closers.push(() => q.close());
      return q;
    },
    worker(name, processor, opts) {
      const w = new Worker(name, processor, { prefix, connection, ...opts });
      w.on('error', () => {});
      closers.push(() => w.close(true));
      return w;
    },
  };
}

test('Worker class: prefetch n holds n jobs ahead of its free slots; by default none', async (t) => {
  const env = classes(t);
  for (const [queueName, opts, expectedActive] of [
    ['held', { prefetch: 1 }, 2],
    ['plain', {}, 1],
  ]) {
    const queue = env.queue(queueName);
    await queue.addBulk(['slow', 'a', 'b'].map((name) => ({ name, data: { x: 1 } })));
    const g = gate();
    env.worker(queueName, g.processor, { concurrency: 1, ...opts });
    await waitFor(() => g.order.length === 1, { message: `${queueName}: the slow job running` });
    if (expectedActive > 1) {
      await waitFor(async () => (await queue.getActiveCount()) === expectedActive, { message: `${queueName}: one job held ahead` });
    } else {
      const over = await waitFor(async () => (await queue.getActiveCount()) > 1, { timeoutMs: 500 }).catch(() => false);
      assert.strictEqual(over, false, `${queueName}: active stayed at the concurrency of 1`);
    }
    g.release();
    await waitFor(async () => (await queue.getCompletedCount()) === 3, { message: `${queueName}: all jobs done` });
    assert.deepStrictEqual(g.order, ['slow', 'a', 'b']);
  }
});

test("Worker class: prefetch 'auto' holds one job ahead while attempts are short", async (t) => {
  const env = classes(t);
  const queue = env.queue('q');
  const names = [...Array(40).fill('fast'), 'slow', 'later'];
  await queue.addBulk(names.map((name) => ({ name, data: { x: 1 } })));
  const g = gate();
  const worker = env.worker('q', g.processor, { concurrency: 1, prefetch: 'auto' });
  assert.strictEqual(worker.opts.prefetch, 'auto');
  await waitFor(async () => g.order.at(-1) === 'slow' && (await queue.getActiveCount()) === 2, {
    message: 'the slow job running and the next one held',
  });
  g.release();
  await waitFor(async () => (await queue.getCompletedCount()) === names.length, { message: 'all jobs done' });
});

test('Worker class: a prefetch other than a count or "auto" is a ValidationError and writes nothing', async (t) => {
  const env = classes(t);
  const redis = new Redis(RAW_REDIS_URL);
  t.after(() => redis.quit());
  for (const bad of ['always', -1, 1.5, true, null]) {
    assert.throws(
      () => new Worker('q', async () => {}, { prefix: env.prefix, connection: { url: REDIS_URL }, prefetch: bad }),
      (err) => err instanceof ValidationError && err.field === 'prefetch',
      JSON.stringify(bad),
    );
  }
  assert.deepStrictEqual(await redis.keys(`${env.prefix}*`), []);
});
