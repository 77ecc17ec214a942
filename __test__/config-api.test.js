'use strict';
// How JobQueueCoordinator finds Redis: the jobCoordinator default instance from REDIS_URL,
// REDIS_KEY_PREFIX, REDIS_HOST, REDIS_PORT and REDIS_DB (in child processes), and the redis
// config object. The full environment mapping is in config.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { JobQueueCoordinator } = require('..');
const { REDIS_URL, uniquePrefix, cleanup } = require('./helpers');
const { ROOT, runChild, cleanEnv } = require('./api-helpers');

test('the jobCoordinator default instance reads REDIS_URL and REDIS_KEY_PREFIX, connects lazily, and exits after shutdown', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-default');
  t.after(() => cleanup(REDIS_URL, prefix));
  const code = `
    const { jobCoordinator, JobQueueCoordinator } = require(${JSON.stringify(ROOT)});
    (async () => {
      if (!(jobCoordinator instanceof JobQueueCoordinator)) throw new Error('not a JobQueueCoordinator');
      const job = await jobCoordinator.enqueueJob('env-queue', { from: 'env' });
      console.log(JSON.stringify(job));
      await jobCoordinator.shutdown();
    })().catch((err) => { console.error(err); process.exitCode = 3; });
  `;
  const r = await runChild(code, cleanEnv({ REDIS_URL, REDIS_KEY_PREFIX: prefix }), 15000);
  assert.equal(r.signal, null, `exited by itself (stderr ${r.stderr})`);
  assert.equal(r.code, 0, r.stderr);
  const job = JSON.parse(r.stdout);
  const redis = new Redis(REDIS_URL);
  t.after(() => redis.quit());
  assert.equal(await redis.hget(`${prefix}:env-queue:${job.id}`, 'data'), JSON.stringify({ from: 'env' }));
  assert.notEqual(await redis.hget(`bull:env-queue:${job.id}`, 'data'), JSON.stringify({ from: 'env' }), 'not under the default prefix');

  // Requiring the package (creating the default instance) connects to nothing.
  const idle = await runChild(`require(${JSON.stringify(ROOT)}); console.log('loaded')`, cleanEnv({ REDIS_URL: 'redis://127.0.0.1:1' }), 10000);
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal(idle.stdout, 'loaded\n');
});

test('the jobCoordinator default instance reads REDIS_HOST, REDIS_PORT and REDIS_DB when REDIS_URL is unset', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-hostenv');
  const url = new URL(REDIS_URL);
  const db1 = new URL(REDIS_URL);
  db1.pathname = '/1';
  t.after(() => cleanup(db1.href, prefix));
  t.after(() => cleanup(REDIS_URL, prefix));
  const code = `
    const { jobCoordinator } = require(${JSON.stringify(ROOT)});
    jobCoordinator.enqueueJob('host-queue', { n: 1 })
      .then((job) => { console.log(job.id); return jobCoordinator.shutdown(); })
      .catch((err) => { console.error(err); process.exitCode = 3; });
  `;
  const env = cleanEnv({
    REDIS_HOST: url.hostname,
    REDIS_PORT: url.port || '6379',
    REDIS_DB: '1',
    REDIS_KEY_PREFIX: prefix,
  });
  if (url.password) env.REDIS_PASSWORD = decodeURIComponent(url.password);
  const r = await runChild(code, env, 15000);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  const inDb1 = new Redis(db1.href);
  const inDb0 = new Redis(REDIS_URL);
  t.after(() => Promise.all([inDb1.quit(), inDb0.quit()]));
  assert.equal(await inDb1.exists(`${prefix}:host-queue:${id}`), 1, 'the job is in db 1');
  assert.equal((await inDb0.keys(`${prefix}*`)).length, 0, 'nothing in db 0');
});

test('redis config as {host, port, db, keyPrefix}; a trailing ":" on keyPrefix is dropped', { timeout: 20000 }, async (t) => {
  const prefix = uniquePrefix('jqt-api-hostcfg');
  const url = new URL(REDIS_URL);
  t.after(() => cleanup(REDIS_URL, prefix));
  const c = new JobQueueCoordinator({
    redis: {
      host: url.hostname,
      port: Number(url.port || 6379),
      db: 0,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      keyPrefix: `${prefix}:`,
    },
  });
  t.after(() => c.shutdown());
  await c.initialize();
  const job = await c.enqueueJob('cfg', { n: 1 });
  const redis = new Redis(REDIS_URL);
  t.after(() => redis.quit());
  assert.equal(await redis.exists(`${prefix}:cfg:${job.id}`), 1);
  assert.equal(await redis.exists(`${prefix}::cfg:${job.id}`), 0);
  assert.ok(typeof (await c.ping()) === 'number');
});
