'use strict';
// Property-based fuzzing (fast-check) of the public API with bad and edge input: wrong types,
// huge, negative, NaN, unicode and control characters, names with ':' or braces, deep and
// cyclic data, prototype-pollution keys. Every call must resolve, or reject (or throw) with an
// exported error class that has a `code`; a rejected call must write nothing (the private
// Redis's DEBUG DIGEST, i.e. every key and stream, is unchanged); no call may stay pending.
// Runs are bounded (numRuns; FUZZ_RUNS multiplies them) and seeded (FUZZ_SEED replays one), so
// npm test stays fast. FUZZ_SWEEP=1 lists every distinct failure instead of stopping at the first.

const test = require('node:test');
const assert = require('node:assert/strict');
const fc = require('fast-check');
const Redis = require('ioredis');
const api = require('..');
const { RedisServer, freePort } = require('../chaos/redis');

const { JobQueueCoordinator, Queue, Worker, Job, JobQueueError } = api;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261202;
const RUNS = Number(process.env.FUZZ_RUNS || 1);
/** Longest a call may take before it counts as a promise left pending. */
const PENDING_MS = 5000;
/** The exported error classes (each a JobQueueError with a code). */
const EXPORTED = Object.values(api).filter((v) => typeof v === 'function' && (v === JobQueueError || v.prototype instanceof JobQueueError));

/** `o` shown as `text` in fast-check's reports (its printer would recurse through it). */
const shownAs = (o, text) => Object.defineProperty(o, fc.toStringMethod, { value: () => text, enumerable: false });
function deep(depth) {
  let o = { leaf: 1 };
  for (let i = 0; i < depth; i++) o = { o };
  return shownAs(o, `deep(${depth})`);
}
const cyclic = () => {
  const o = { a: 1 };
  o.self = o;
  return shownAs(o, 'cyclic');
};
const pollution = () => JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');

/** Strings a caller may pass for a name or an id. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom('', ' ', ':', 'a:b', '{q}', '{', '}', 'a{b}c', '*', '?', '\0', '\n', '\u202e', '😀', '__proto__', 'constructor', 'prototype', '-1', '0', 'NaN', 'x'.repeat(5000)),
);
/** Anything. */
const nasty = fc.oneof(
  nastyString,
  fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -1, 0, -0, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1.5, true, false),
  fc.integer(),
  fc.double(),
  fc.constantFrom(10n, Symbol('s'), () => 1, new Date(NaN), new Date(0), Buffer.from('b'), [], [1, 'a'], {}),
  fc.constant(null).map(deep.bind(null, 2000)),
  fc.constant(null).map(cyclic),
  fc.constant(null).map(pollution),
  fc.dictionary(nastyString, fc.oneof(fc.integer(), nastyString, fc.constant(NaN)), { maxKeys: 4 }),
  fc.array(fc.oneof(fc.integer(), nastyString), { maxLength: 4 }),
);
const nastyArgs = fc.array(nasty, { maxLength: 4 });

/** Methods left out: those that wait by design (for events, a job, or a close). */
const WAITING = new Set(['close', 'disconnect', 'shutdown', 'waitUntilReady', 'waitUntilFinished', 'getNextJob', 'run', 'installSignalHandlers', 'startStalledCheckTimer', 'delay', 'getQueueEvents']);
const EMITTER = new Set(Object.getOwnPropertyNames(require('node:events').EventEmitter.prototype));
function methodsOf(obj) {
  const names = new Set();
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n === 'constructor' || n.startsWith('_') || WAITING.has(n) || EMITTER.has(n)) continue;
      const d = Object.getOwnPropertyDescriptor(p, n);
      if (typeof d.value === 'function') names.add(n);
    }
  }
  return [...names].sort();
}

async function setup(t) {
  const server = new RedisServer({ port: await freePort(), aof: false });
  await server.start();
  const redis = new Redis(server.url);
  const connection = { host: '127.0.0.1', port: server.port };
  const made = [];
  t.after(async () => {
    for (const close of made.reverse()) await close().catch(() => {});
    redis.disconnect();
    await server.stop();
  });
  return { server, redis, connection, made, digest: () => redis.call('DEBUG', 'DIGEST') };
}

/** Runs `fn`; a throw or rejection must be an exported error with a code and must have
 * written nothing; a call must not stay pending. Resolves to {ok, value} or {ok: false, err}. */
const SWEEP = process.env.FUZZ_SWEEP === '1' ? new Map() : null;
async function check(env, label, fn, opts) {
  if (!SWEEP) return checkOnce(env, label, fn, opts);
  try {
    return await checkOnce(env, label, fn, opts);
  } catch (err) {
    const key = `${label.split('(')[0]}: ${String(err.message).slice(label.length).split('\n')[0].slice(0, 160)}`;
    if (!SWEEP.has(key)) SWEEP.set(key, label.slice(0, 200));
    return { ok: false, err };
  }
}
if (SWEEP) process.on('exit', () => console.log([...SWEEP].map(([k, v]) => `SWEEP ${k}\n    e.g. ${v}`).join('\n')));

async function checkOnce(env, label, fn, { digest = true } = {}) {
  const before = digest ? await env.digest() : null;
  let timer;
  let outcome;
  try {
    const pending = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} still pending after ${PENDING_MS} ms`)), PENDING_MS);
    });
    outcome = { ok: true, value: await Promise.race([Promise.resolve().then(fn), pending]) };
  } catch (err) {
    outcome = { ok: false, err };
  } finally {
    clearTimeout(timer);
  }
  if (!outcome.ok) {
    const err = outcome.err;
    assert.ok(
      EXPORTED.some((C) => err instanceof C) && typeof err.code === 'string' && err.code.length > 0,
      `${label} rejected with ${err && err.constructor && err.constructor.name} (code ${err && err.code}): ${err && err.message}`,
    );
    if (digest) assert.equal(await env.digest(), before, `${label} rejected (${err.code}) but wrote to Redis`);
  }
  return outcome;
}

const show = (args) => args.map((a) => {
  try {
    return typeof a === 'bigint' || typeof a === 'symbol' || typeof a === 'function' ? String(a) : JSON.stringify(a)?.slice(0, 60);
  } catch {
    return '[cyclic]';
  }
}).join(', ');

test('fuzz: every Queue method with generated arguments succeeds or rejects typed, writing nothing when it rejects', { timeout: 180000 }, async (t) => {
  const env = await setup(t);
  const q = new Queue('fq', { connection: env.connection, prefix: 'fz' });
  env.made.push(() => q.close());
  await q.add('seed', { a: 1 }, { jobId: 'j1' });
  const methods = methodsOf(q);
  assert.ok(methods.length > 40, `Queue methods found: ${methods}`);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...methods), nastyArgs, async (m, args) => {
      await check(env, `queue.${m}(${show(args)})`, () => q[m](...args));
    }),
    { seed: SEED, numRuns: 400 * RUNS },
  );
  assert.equal({}.polluted, undefined, 'Object.prototype polluted');
});

test('fuzz: Queue and Worker constructors with generated names and options', { timeout: 120000 }, async (t) => {
  const env = await setup(t);
  await fc.assert(
    fc.asyncProperty(nasty, nasty, async (name, opts) => {
      const o = opts && typeof opts === 'object' && !Array.isArray(opts) ? { ...opts, connection: env.connection, prefix: 'fz' } : opts;
      const r = await check(env, `new Queue(${show([name, opts])})`, () => new Queue(name, o));
      if (r.ok) await r.value.close();
      const w = await check(env, `new Worker(${show([name, opts])})`, () => new Worker(name, async () => 1, { ...(o && typeof o === 'object' ? o : {}), autorun: false }));
      if (w.ok) await w.value.close();
    }),
    { seed: SEED, numRuns: 60 * RUNS },
  );
});

test('fuzz: every Job method with generated arguments, on a job in each of its states', { timeout: 180000 }, async (t) => {
  const env = await setup(t);
  const q = new Queue('fj', { connection: env.connection, prefix: 'fz' });
  env.made.push(() => q.close());
  const job = await q.add('seed', { a: 1 }, { jobId: 'j1' });
  const fetched = await Job.fromId(q, 'j1');
  const methods = methodsOf(fetched);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...methods), nastyArgs, async (m, args) => {
      await check(env, `job.${m}(${show(args)})`, () => fetched[m](...args));
      if (!(await q.getJob('j1'))) await q.add('seed', { a: 1 }, { jobId: 'j1' });
    }),
    { seed: SEED, numRuns: 250 * RUNS },
  );
  for (const s of ['create', 'createBulk', 'fromId']) {
    await fc.assert(
      fc.asyncProperty(nasty, nasty, nasty, async (a, b, c) => {
        await check(env, `Job.${s}(q, ${show([a, b, c])})`, () => Job[s](q, a, b, c));
      }),
      { seed: SEED, numRuns: 40 * RUNS },
    );
  }
  assert.ok(job.id);
  assert.equal({}.polluted, undefined, 'Object.prototype polluted');
});

test('fuzz: every coordinator method with generated arguments succeeds or rejects typed, writing nothing when it rejects', { timeout: 240000 }, async (t) => {
  const env = await setup(t);
  const make = () => {
    const c = new JobQueueCoordinator({ redis: { url: env.server.url, keyPrefix: 'fz' }, logging: { level: 'silent' } });
    env.made.push(() => c.shutdown({ timeoutMs: 1000 }));
    return c;
  };
  let c = make();
  await c.createQueue('fc');
  await c.enqueueJob('fc', 'seed', { a: 1 }, { jobId: 'j1' });
  const { DELEGATED } = require('../lib/coordinator');
  const methods = Object.values(DELEGATED).flat();
  // calls that start workers or timers: no digest check while one may run, and a fresh
  // coordinator after one succeeded
  const STARTS = new Set(['registerWorker', 'createWorkerPool', 'enableAutoScaling', 'scaleWorkerPool', 'scheduleRecurringJob']);
  const queueName = fc.oneof(fc.constant('fc'), nastyString);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...methods), queueName, nastyArgs, async (m, qn, rest) => {
      const args = [qn, ...rest];
      const r = await check(env, `coordinator.${m}(${show(args)})`, () => c[m](...args), { digest: !STARTS.has(m) });
      if (r.ok && STARTS.has(m)) {
        await c.shutdown({ timeoutMs: 1000 });
        c = make();
      }
    }),
    { seed: SEED, numRuns: 400 * RUNS },
  );
  assert.equal({}.polluted, undefined, 'Object.prototype polluted');
});

test('fuzz: job data with prototype-pollution keys round-trips as data and pollutes nothing', { timeout: 60000 }, async (t) => {
  const env = await setup(t);
  const q = new Queue('fp', { connection: env.connection, prefix: 'fz' });
  env.made.push(() => q.close());
  const job = await q.add('p', pollution());
  const back = await q.getJob(job.id);
  assert.equal({}.polluted, undefined);
  assert.equal(Object.getPrototypeOf(back.data), Object.prototype);
  assert.deepEqual(JSON.parse(JSON.stringify(back.data)), JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}'));
});
