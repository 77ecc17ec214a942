'use strict';
// Settings that decide how calls and workers ride out a Redis outage: redis.maxRetriesPerRequest
// and redis.retryDelayOnFailover (ioredis' meaning, for non-blocking commands) and
// retryProcessDelay (a worker's wait after a failed round trip). Each test runs its own
// redis-server on a free loopback port and stops it by its own pid.
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const { JobQueueCoordinator, ConnectionError } = require('..');
const { waitFor, uniquePrefix, freePort, hasCommand, pings } = require('./helpers');

const skip = !hasCommand('redis-server', ['--version']) && 'no redis-server installed';

/** A redis-server without persistence on `port`; resolves once it answers. */
async function startRedis(port) {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  server.exited = new Promise((resolve) => server.once('exit', resolve));
  await waitFor(() => pings(port), { timeoutMs: 10000, message: `redis-server on ${port}` });
  return server;
}

async function stopRedis(server) {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  await server.exited;
}

/** A private Redis and coordinators on it; all stopped when the test ends. */
async function privateRedis(t) {
  const port = await freePort();
  let server = await startRedis(port);
  const coordinators = [];
  t.after(async () => {
    for (const c of coordinators) await c.shutdown({ timeoutMs: 500 }).catch(() => {});
    await stopRedis(server);
  });
  return {
    coordinator(config = {}) {
      const { redis, ...rest } = config;
      const c = new JobQueueCoordinator({
        redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: uniquePrefix('outage'), ...redis },
        ...rest,
      });
      coordinators.push(c);
      return c;
    },
    stop: () => stopRedis(server),
    async restart() {
      server = await startRedis(port);
    },
  };
}

/** ms a call takes to settle, and how. */
async function timed(promise) {
  const t0 = Date.now();
  try {
    return { value: await promise, ms: Date.now() - t0 };
  } catch (error) {
    return { error, ms: Date.now() - t0 };
  }
}

test('with Redis down, a call fails with ConnectionError after maxRetriesPerRequest retries, retryDelayOnFailover apart', { skip, timeout: 30000 }, async (t) => {
  const r = await privateRedis(t);
  const patient = r.coordinator({ redis: { maxRetriesPerRequest: 4, retryDelayOnFailover: 250 } });
  const impatient = r.coordinator({ redis: { maxRetriesPerRequest: 0, retryDelayOnFailover: 250 } });
  await Promise.all([patient.initialize(), impatient.initialize()]);
  await r.stop();

  const slow = await timed(patient.getQueueStatus('q'));
  assert.ok(slow.error instanceof ConnectionError, `got ${slow.error || 'success'}`);
  assert.strictEqual(slow.error.code, 'ERR_CONNECTION');
  assert.ok(slow.ms >= 4 * 250 - 20, `4 retries 250 ms apart take at least 1 s (took ${slow.ms} ms)`);
  assert.ok(slow.ms < 4 * 250 + 2000, `and not much more (took ${slow.ms} ms)`);

  const fast = await timed(impatient.enqueueJob('q', { n: 1 }));
  assert.ok(fast.error instanceof ConnectionError, `got ${fast.error || 'success'}`);
  assert.ok(fast.ms < 250, `0 retries fail at the first connection error (took ${fast.ms} ms)`);
});

test('with maxRetriesPerRequest null, calls made while Redis is down wait and succeed once it is back', { skip, timeout: 30000 }, async (t) => {
  const r = await privateRedis(t);
  const c = r.coordinator({ redis: { maxRetriesPerRequest: null, retryDelayOnFailover: 50 } });
  await c.initialize();
  await r.stop();

  const settled = [];
  const enqueued = c.enqueueJob('q', { n: 1 }, { attempts: 1 }).finally(() => settled.push('enqueue'));
  const pinged = c.ping().finally(() => settled.push('ping'));
  // The outage itself (not a synchronisation): long enough that 20 retries 50 ms apart, the
  // default count, would have given up.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.deepStrictEqual(settled, [], 'nothing gave up while Redis was down');

  await r.restart();
  const job = await enqueued;
  assert.ok((await pinged) >= 0);
  const stored = await c.getJob('q', job.id);
  assert.deepStrictEqual(stored.data, { n: 1 }, 'the waiting enqueue reached the restarted Redis');
});

test('retryProcessDelay is the wait after a failed round trip: per worker, per queue, or the coordinator default', { skip, timeout: 30000 }, async (t) => {
  const r = await privateRedis(t);
  const c = r.coordinator({
    redis: { maxRetriesPerRequest: 0 },
    defaultWorkerOptions: { settings: { retryProcessDelay: 500 } },
  });
  await c.createQueue('by-queue', { retryProcessDelay: 300 });
  const errors = { 'by-worker': [], 'by-queue': [], 'by-default': [] };
  const expected = { 'by-worker': 900, 'by-queue': 300, 'by-default': 500 };
  for (const queue of Object.keys(errors)) {
    const options = { stalledInterval: 60000 }; // no stalled check during the outage
    if (queue === 'by-worker') options.settings = { retryProcessDelay: 900 };
    const worker = await c.registerWorker(queue, async () => {}, options);
    worker.on('error', () => errors[queue].push(Date.now()));
  }
  await r.stop();

  await waitFor(() => Object.values(errors).every((at) => at.length >= 4), {
    timeoutMs: 15000,
    message: 'each worker to fail four round trips',
  });
  for (const [queue, at] of Object.entries(errors)) {
    const gaps = at.slice(1, 4).map((time, i) => time - at[i]);
    for (const gap of gaps) {
      assert.ok(gap >= expected[queue] - 30, `${queue}: ${gap} ms between tries, expected ${expected[queue]} (gaps ${gaps})`);
      assert.ok(gap < expected[queue] + 400, `${queue}: ${gap} ms between tries, expected ${expected[queue]} (gaps ${gaps})`);
    }
  }
});
