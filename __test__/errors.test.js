'use strict';
// Bad input is rejected with the exported error classes, naming the field, and writes nothing
// to Redis (checked by SCAN over the test's prefix); unknown queues and jobs; connection
// failures.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const Redis = require('ioredis');
const {
  JobQueueCoordinator,
  JobQueueError,
  ValidationError,
  JobStateError,
  QueueNotFoundError,
  QueueExistsError,
  JobNotFoundError,
  ConnectionError,
  UnrecoverableError,
} = require('..');
const { REDIS_URL, RAW_REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');

/** A connected coordinator on a fresh prefix, plus `keys()`: every key under the prefix. */
async function setup(t, config = {}) {
  const prefix = uniquePrefix('jqt-err');
  const redis = new Redis(RAW_REDIS_URL);
  const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix }, ...config });
  t.after(async () => {
    await c.shutdown({ timeoutMs: 2000 }).catch(() => {});
    await cleanup(REDIS_URL, prefix);
    await redis.quit();
  });
  await c.initialize(); // connected, so "nothing written" is not just "never connected"
  const keys = async () => {
    const found = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found.sort();
  };
  assert.deepEqual(await keys(), [], 'a fresh prefix starts empty');
  return { prefix, c, keys, redis };
}

/**
 * Asserts `fn()` rejects with `Class` (code `code`), whose `.field` is `field` (when given) and
 * whose message names the field, then that the keys under the prefix are still `expectedKeys`.
 */
async function rejectsCleanly(keys, label, fn, { Class = ValidationError, code = 'ERR_VALIDATION', field, names, expectedKeys = [] } = {}) {
  let error;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  assert.ok(error, `${label}: expected a rejection, got success`);
  assert.ok(error instanceof Class, `${label}: expected ${Class.name}, got ${error && error.name}: ${error && error.message}`);
  assert.ok(error instanceof JobQueueError, `${label}: a JobQueueError`);
  assert.equal(error.code, code, `${label}: code`);
  if (field !== undefined) {
    const fields = [].concat(field);
    assert.ok(fields.includes(error.field), `${label}: field ${error.field}, expected one of ${fields}`);
  }
  for (const word of [].concat(names || field || [])) {
    if (word !== undefined) {
      assert.ok(error.message.includes(word), `${label}: message "${error.message}" names ${word}`);
    }
  }
  assert.deepEqual(await keys(), expectedKeys, `${label}: nothing written to Redis`);
  return error;
}

test('error classes are exported with stable codes; JobStateError is a ValidationError', () => {
  const cases = [
    [new ValidationError('priority', 'bad'), 'ERR_VALIDATION'],
    [new JobStateError('not failed'), 'ERR_JOB_NOT_IN_STATE'],
    [new QueueNotFoundError('q'), 'ERR_QUEUE_NOT_FOUND'],
    [new QueueExistsError('q'), 'ERR_QUEUE_EXISTS'],
    [new JobNotFoundError('gone'), 'ERR_JOB_NOT_FOUND'],
    [new ConnectionError('down'), 'ERR_CONNECTION'],
  ];
  for (const [err, code] of cases) {
    assert.ok(err instanceof Error);
    assert.ok(err instanceof JobQueueError);
    assert.equal(err.code, code);
    assert.equal(err.name, err.constructor.name);
  }
  const v = new ValidationError('priority', 'must be small');
  assert.equal(v.field, 'priority');
  assert.match(v.message, /priority/);
  assert.ok(new JobStateError('x') instanceof ValidationError);
  const u = new UnrecoverableError('stop');
  assert.ok(u instanceof Error);
  assert.equal(u.name, 'UnrecoverableError');
});

test('job data that is not a JSON-serialisable object is rejected naming "data"; nothing is written', async (t) => {
  const { c, keys } = await setup(t);
  const cycle = { a: 1 };
  cycle.self = cycle;
  const cases = {
    'a string (named form)': () => c.enqueueJob('q', 'name', 'just text'),
    'a string as the only argument after the queue': () => c.enqueueJob('q', 'just text'),
    'an array': () => c.enqueueJob('q', [1, 2, 3]),
    'null': () => c.enqueueJob('q', null),
    'undefined': () => c.enqueueJob('q', undefined),
    'a number': () => c.enqueueJob('q', 42),
    'an object with a BigInt': () => c.enqueueJob('q', { n: 10n }),
    'an object with a nested BigInt': () => c.enqueueJob('q', { deep: { list: [1, 2n] } }),
    'an object with a cycle': () => c.enqueueJob('q', cycle),
    'bulk: one job with string data': () => c.enqueueBulk('q', [{ data: { ok: 1 } }, { data: 'text' }]),
    'bulk: one job with a cycle': () => c.enqueueBulk('q', [{ data: { ok: 1 } }, { data: cycle }]),
  };
  for (const [label, fn] of Object.entries(cases)) {
    await rejectsCleanly(keys, label, fn, { field: 'data' });
  }
});

test('data over 1 MiB of JSON is rejected; security.maxJobDataSize overrides the limit (in bytes)', { timeout: 20000 }, async (t) => {
  const { c, keys } = await setup(t);
  const overhead = JSON.stringify({ s: '' }).length;
  const over = { s: 'x'.repeat(1024 * 1024 - overhead + 1) };
  assert.equal(JSON.stringify(over).length, 1024 * 1024 + 1);
  await rejectsCleanly(keys, '1 MiB + 1 byte', () => c.enqueueJob('q', over), { field: 'data' });
  await rejectsCleanly(keys, 'bulk with a 1 MiB + 1 job', () => c.enqueueBulk('q', [{ data: { ok: 1 } }, { data: over }]), { field: 'data' });
  const exact = { s: 'x'.repeat(1024 * 1024 - overhead) };
  const job = await c.enqueueJob('q', exact);
  assert.equal((await c.getJob('q', job.id)).data.s.length, exact.s.length, 'exactly 1 MiB is accepted');

  const small = await setup(t, { security: { maxJobDataSize: 100 } });
  const fits = { s: 'y'.repeat(100 - overhead) };
  await small.c.enqueueJob('q', fits);
  assert.equal((await small.keys()).length > 0, true);
  const before = await small.keys();
  await rejectsCleanly(small.keys, '101 bytes with maxJobDataSize 100', () => small.c.enqueueJob('q', { s: 'y'.repeat(101 - overhead) }), { field: 'data', expectedKeys: before });
  // 68 characters of JSON but 128 bytes of UTF-8: the limit is in bytes.
  const accented = { s: 'é'.repeat(60) };
  assert.ok(JSON.stringify(accented).length <= 100 && Buffer.byteLength(JSON.stringify(accented)) > 100);
  await rejectsCleanly(small.keys, '128 UTF-8 bytes in 68 characters', () => small.c.enqueueJob('q', accented), { field: 'data', expectedKeys: before });
});

test('bad delay, priority, attempts and backoff are rejected naming the field; nothing is written', async (t) => {
  const { c, keys } = await setup(t);
  const opt = (options) => () => c.enqueueJob('q', { x: 1 }, options);
  const cases = [
    ['negative delay', opt({ delay: -1 }), 'delay'],
    ['negative delayMs', opt({ delayMs: -100 }), ['delay', 'delayMs']],
    ['NaN delay', opt({ delay: NaN }), 'delay'],
    ['NaN delayMs', opt({ delayMs: NaN }), ['delay', 'delayMs']],
    ['Infinity delay', opt({ delay: Infinity }), 'delay'],
    ['string delay', opt({ delay: '100' }), 'delay'],
    ['priority -1', opt({ priority: -1 }), 'priority'],
    ['priority 2097152', opt({ priority: 2097152 }), 'priority'],
    ['priority 1.5', opt({ priority: 1.5 }), 'priority'],
    ['priority NaN', opt({ priority: NaN }), 'priority'],
    ['attempts 0', opt({ attempts: 0 }), 'attempts'],
    ['attempts -2', opt({ attempts: -2 }), 'attempts'],
    ['maxRetries 0', opt({ maxRetries: 0 }), ['attempts', 'maxRetries']],
    ['backoff type linear', opt({ backoff: { type: 'linear', delay: 10 } }), ['backoff.type', 'backoff']],
    ['backoffStrategy type linear', opt({ backoffStrategy: { type: 'linear', delay: 10 } }), ['backoff.type', 'backoffStrategy.type', 'backoff', 'backoffStrategy']],
    ['options not an object', () => c.enqueueJob('q', { x: 1 }, 'fast'), 'options'],
    ['bulk: second job has priority -1', () => c.enqueueBulk('q', [{ data: { ok: 1 } }, { data: { ok: 2 }, options: { priority: -1 } }]), 'priority'],
    ['bulk: third job has attempts 0', () => c.enqueueBulk('q', [{ data: { ok: 1 } }, { data: { ok: 2 } }, { data: {}, options: { attempts: 0 } }]), 'attempts'],
    ['bulk: not an array', () => c.enqueueBulk('q', { data: {} }), 'jobs'],
  ];
  for (const [label, fn, field] of cases) {
    const fields = [].concat(field);
    const err = await rejectsCleanly(keys, label, fn, { field: fields, names: [] });
    assert.ok(fields.some((f) => err.message.includes(f)), `${label}: message "${err.message}" names the field`);
  }
  // The boundaries are accepted.
  const ok = await c.enqueueBulk('q', [
    { data: {}, options: { priority: 0 } },
    { data: {}, options: { priority: 2097151 } },
    { data: {}, options: { attempts: 1, delay: 0 } },
    { data: {}, options: { backoff: { type: 'fixed', delay: 5 } } },
    { data: {}, options: { backoffStrategy: { type: 'exponential', delay: 5, maxDelay: 50 } } },
  ]);
  assert.equal(ok.length, 5);
});

test('same-tick enqueueJob calls: a bad job is rejected alone, its neighbours are added', async (t) => {
  const { c } = await setup(t);
  const results = await Promise.allSettled([
    c.enqueueJob('tick', { n: 1 }),
    c.enqueueJob('tick', { n: 2 }, { priority: -5 }),
    c.enqueueJob('tick', { n: 3 }),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.ok(results[1].reason instanceof ValidationError);
  assert.equal(results[1].reason.field, 'priority');
  assert.equal((await c.getQueueStatus('tick')).jobCounts.waiting, 2);
});

test('bad queue names, processors and worker options are rejected; nothing is written', async (t) => {
  const { c, keys } = await setup(t);
  const cases = [
    ['empty queue name', () => c.enqueueJob('', { x: 1 }), 'queueName'],
    ['queue name with ":"', () => c.enqueueJob('a:b', { x: 1 }), 'queueName'],
    ['non-string queue name', () => c.enqueueJob(7, { x: 1 }), 'queueName'],
    ['processor a string', () => c.registerWorker('q', 'not a function'), 'processor'],
    ['processor undefined', () => c.registerWorker('q'), 'processor'],
    ['processor an object', () => c.registerWorker('q', { process() {} }), 'processor'],
    ['concurrency 0', () => c.registerWorker('q', async () => {}, { concurrency: 0 }), 'concurrency'],
    ['concurrency 1.5', () => c.registerWorker('q', async () => {}, { concurrency: 1.5 }), 'concurrency'],
    ['lockDuration -1', () => c.registerWorker('q', async () => {}, { lockDuration: -1 }), 'lockDuration'],
    ['stalledInterval "soon"', () => c.registerWorker('q', async () => {}, { stalledInterval: 'soon' }), 'stalledInterval'],
    ['maxStalledCount -1', () => c.registerWorker('q', async () => {}, { maxStalledCount: -1 }), 'maxStalledCount'],
    ['createQueue without a name', () => c.createQueue({}), 'queueName'],
    ['createQueue with a bad name', () => c.createQueue({ name: 'x:y' }), 'queueName'],
    ['getFailedJobs start -1', () => c.getFailedJobs('q', { start: -1, end: 3 }), 'start'],
    ['getFailedJobs end < start', () => c.getFailedJobs('q', { start: 5, end: 2 }), 'end'],
    ['getFailedJobs limit 0', () => c.getFailedJobs('q', 0), 'limit'],
  ];
  for (const [label, fn, field] of cases) {
    await rejectsCleanly(keys, label, fn, { field });
  }
  assert.equal(c.getWorkers().length, 0, 'no worker was started');
  assert.equal(c.getQueue('x:y'), null);
});

test('worker settings the engine checks (retry, timeout, drain delay, prefetch, keep policies, lock floor) are refused by name; no worker starts, nothing is written', async (t) => {
  const { c, keys } = await setup(t);
  const fn = async () => {};
  const cases = [
    ['retry.jitter 1.5', { retry: { jitter: 1.5 } }, 'retry.jitter'],
    ['retry.jitter "high"', { retry: { jitter: 'high' } }, 'retry.jitter'],
    ['retry.maxDelay NaN', { retry: { maxDelay: NaN } }, 'retry.maxDelay'],
    ['timeoutMs -1', { timeoutMs: -1 }, 'timeoutMs'],
    ['settings.retryProcessDelay -5', { settings: { retryProcessDelay: -5 } }, 'retryProcessDelay'],
    ['drainDelay 0', { drainDelay: 0 }, 'drainDelay'],
    ['prefetch 1.5', { prefetch: 1.5 }, 'prefetch'],
    ['limiter.duration 0', { limiter: { max: 5, duration: 0 } }, 'limiter.duration'],
    ['removeOnComplete "yes"', { removeOnComplete: 'yes' }, 'removeOnComplete'],
    ['removeOnFail a function', { removeOnFail: () => true }, 'removeOnFail'],
    ['lockDuration 5 (under 10 ms)', { lockDuration: 5 }, 'lockDuration'],
    ['concurrency "4"', { concurrency: '4' }, 'concurrency'],
  ];
  for (const [label, options, field] of cases) {
    await rejectsCleanly(keys, label, () => c.registerWorker('q', fn, options), { field });
  }
  assert.equal(c.getWorkers().length, 0, 'no worker was started');
});

test('getQueueStatus of an unknown queue is QueueNotFoundError and writes nothing', async (t) => {
  const { c, keys } = await setup(t);
  const err = await rejectsCleanly(keys, 'unknown queue', () => c.getQueueStatus('nowhere'), {
    Class: QueueNotFoundError,
    code: 'ERR_QUEUE_NOT_FOUND',
    names: 'nowhere',
  });
  assert.equal(err.queueName, 'nowhere');
});

test('retryJob of a job that is not failed or missing resolves false; requeueFailedJob refuses with JobStateError / JobNotFoundError; nothing changes', { timeout: 20000 }, async (t) => {
  const { c, keys, prefix, redis } = await setup(t);
  const waiting = await c.enqueueJob('state', { x: 1 });
  const delayed = await c.enqueueJob('state', { x: 2 }, { delay: 60000 });
  const snapshot = async () => {
    const all = await keys();
    const out = {};
    for (const k of all) {
      const type = await redis.type(k);
      if (type === 'hash') out[k] = await redis.hgetall(k);
      else if (type === 'list') out[k] = await redis.lrange(k, 0, -1);
      else if (type === 'zset') out[k] = await redis.zrange(k, 0, -1, 'WITHSCORES');
      else if (type === 'string') out[k] = await redis.get(k);
      else if (type === 'set') out[k] = (await redis.smembers(k)).sort();
      else if (type === 'stream') out[k] = (await redis.xlen(k));
      else out[k] = type;
    }
    return out;
  };
  const before = await snapshot();
  for (const [label, id] of [['waiting', waiting.id], ['delayed', delayed.id]]) {
    assert.equal(await c.retryJob('state', id), false, `retry a ${label} job`);
    // the dead-letter form keeps the typed refusal
    const err = await rejectsCleanly(keys, `requeue a ${label} job`, () => c.requeueFailedJob('state', id), {
      Class: JobStateError,
      code: 'ERR_JOB_NOT_IN_STATE',
      expectedKeys: Object.keys(before).sort(),
    });
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, new RegExp(id));
  }
  assert.deepEqual(await snapshot(), before, 'no key changed');

  // A completed job.
  const worker = await c.registerWorker('state', async () => 'done');
  worker.on('error', () => {});
  const completed = [];
  worker.on('completed', (job) => completed.push(job.id));
  await waitFor(() => completed.includes(waiting.id));
  await worker.close();
  const afterRun = await snapshot();
  assert.equal(await c.retryJob('state', waiting.id), false, 'retry a completed job');
  assert.equal(await c.retryJob(waiting.id), false, 'retry a completed job by id alone');
  await rejectsCleanly(keys, 'requeue a completed job', () => c.requeueFailedJob('state', waiting.id), {
    Class: JobStateError,
    code: 'ERR_JOB_NOT_IN_STATE',
    expectedKeys: Object.keys(afterRun).sort(),
  });
  assert.deepEqual(await snapshot(), afterRun, 'no key changed');
  assert.equal((await c.getJob('state', waiting.id)).returnvalue, 'done');

  assert.equal(await c.retryJob('state', 'missing'), false, 'retry a missing job');
  await rejectsCleanly(keys, 'requeue a missing job', () => c.requeueFailedJob('state', 'missing'), {
    Class: JobNotFoundError,
    code: 'ERR_JOB_NOT_FOUND',
    expectedKeys: Object.keys(afterRun).sort(),
  });
  assert.equal(await redis.exists(`${prefix}:state:missing`), 0);
});

/** A TCP port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('connecting where nothing listens is ConnectionError, from initialize() and from any method', { timeout: 30000 }, async (t) => {
  const port = await closedPort();
  const byUrl = new JobQueueCoordinator({ redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: uniquePrefix('jqt-err') } });
  const byHost = new JobQueueCoordinator({ redis: { host: '127.0.0.1', port, keyPrefix: uniquePrefix('jqt-err') } });
  t.after(() => Promise.all([byUrl.shutdown(), byHost.shutdown()]));
  for (const [label, fn] of [
    ['initialize (url)', () => byUrl.initialize()],
    ['enqueueJob (url)', () => byUrl.enqueueJob('q', { x: 1 })],
    ['getQueueStatus (url)', () => byUrl.getQueueStatus('q')],
    ['initialize (host/port)', () => byHost.initialize()],
    ['registerWorker (host/port)', () => byHost.registerWorker('q', async () => {})],
  ]) {
    const t0 = Date.now();
    await assert.rejects(fn(), (err) => {
      assert.ok(err instanceof ConnectionError, `${label}: got ${err.name}: ${err.message}`);
      assert.equal(err.code, 'ERR_CONNECTION');
      return true;
    });
    assert.ok(Date.now() - t0 < 10000, `${label}: fails fast (${Date.now() - t0} ms)`);
  }
});

test('explicit {host, port} config wins over REDIS_URL in the environment', { timeout: 30000 }, async (t) => {
  const port = await closedPort();
  const saved = process.env.REDIS_URL;
  process.env.REDIS_URL = REDIS_URL; // a working Redis in the environment…
  let c;
  try {
    // …but the caller asked for a port where nothing listens.
    c = new JobQueueCoordinator({ redis: { host: '127.0.0.1', port, keyPrefix: uniquePrefix('jqt-err') } });
  } finally {
    if (saved === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = saved;
  }
  t.after(() => c.shutdown());
  await assert.rejects(c.initialize(), (err) => {
    assert.ok(err instanceof ConnectionError, `expected ConnectionError, got ${err.name}: ${err.message}`);
    return true;
  }, 'connected to REDIS_URL from the environment instead of the configured host/port');
});
