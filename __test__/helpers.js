'use strict';
// Small, generic helpers shared by the JS tests. Keep it that way: test-specific setup belongs
// in the test file.

const { randomBytes } = require('node:crypto');
const net = require('node:net');
const { execFileSync } = require('node:child_process');
const Redis = require('ioredis');

/**
 * On a Redis Cluster (`npm run test:cluster`, scripts/test-cluster.js): JQ_TEST_CLUSTER lists
 * the nodes and JQ_TEST_CLUSTER_TAGS one hash tag per master (`tag@host:port,...`). Each test
 * file takes one of the tags (by its file name), so its keys live on that master: REDIS_URL is
 * then the cluster (`redis+cluster://...`, for this package), every prefix carries the tag,
 * and RAW_REDIS_URL is that master itself, for the tests' own ioredis clients and BullMQ
 * (KEYS, SCAN and CLIENT LIST there see every key and connection of the test).
 */
const CLUSTER = (() => {
  const nodes = process.env.JQ_TEST_CLUSTER;
  if (!nodes) return null;
  const tags = (process.env.JQ_TEST_CLUSTER_TAGS || '').split(',').filter(Boolean).map((t) => t.split('@'));
  if (tags.length === 0) throw new Error('JQ_TEST_CLUSTER needs JQ_TEST_CLUSTER_TAGS (tag@host:port,...): see scripts/test-cluster.js');
  const file = require('node:path').basename(process.argv[1] || '');
  let h = 0;
  for (const ch of file) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const [tag, home] = tags[h % tags.length];
  return { url: `redis+cluster://${nodes}`, tag, home: `redis://${home}` };
})();

/** The Redis this package's connections are given in the tests (a cluster URL on a cluster). */
const REDIS_URL = CLUSTER ? CLUSTER.url : process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** The Redis server holding the tests' keys, for ioredis clients and BullMQ: REDIS_URL off a
 * cluster, the master serving this file's hash tag on one. */
const RAW_REDIS_URL = CLUSTER ? CLUSTER.home : REDIS_URL;

/** A key prefix no other test (or run) uses: `<tag>-<pid>-<random hex>`, no ':' in it; on a
 * cluster `{<file's hash tag>}<tag>-<pid>-<random hex>`. */
function uniquePrefix(tag = 'jqt') {
  return `${CLUSTER ? `{${CLUSTER.tag}}` : ''}${tag}-${process.pid}-${randomBytes(5).toString('hex')}`;
}

/**
 * The name of a key of `prefix` that belongs to no queue (`audit`, `queues`, `acl:<client>`,
 * `rate:<scope>:<client>`, `workers`...) as the engine names it: `P::<name>` when the prefix
 * holds a hash tag of its own, else `P::{P}:<name>` (docs/redis-layout.md, "Redis Cluster").
 */
function prefixKey(prefix, name) {
  const p = prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
  const open = p.indexOf('{');
  const close = open >= 0 ? p.indexOf('}', open + 1) : -1;
  return close > open + 1 ? `${p}::${name}` : `${p}::{${p}}:${name}`;
}

/**
 * Polls `fn` (sync or async) until it returns a truthy value, and resolves to that value.
 * Rejects after `timeoutMs` with `message` (or fn's source), the last value and the last error.
 */
async function waitFor(fn, { timeoutMs = 10000, intervalMs = 20, message } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await fn();
      lastError = undefined;
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = message || `condition ${String(fn).slice(0, 200)}`;
      const detail = lastError ? `last error: ${lastError.stack || lastError}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Deletes every key starting with `prefix` (SCAN MATCH prefix* + DEL); resolves to the count. */
async function cleanup(redisUrl, prefix) {
  if (!prefix || /[*?[\]\\]/.test(prefix)) throw new Error(`refusing to clean prefix ${prefix}`);
  // a test's keys on a cluster all live on the master of its hash tag
  const redis = new Redis(redisUrl === REDIS_URL ? RAW_REDIS_URL : redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * A fresh prefix `<tag>-...` and a coordinator on it, plus `make(config)` for more
 * coordinators on the same prefix and `redis()` for a raw client. Everything made here is
 * shut down and the prefix's keys deleted when the test ends, pass or fail.
 */
function setupCoordinators(t, tag, config = {}) {
  // required here, not at the top: helpers.js is also loaded by tests that never build one
  const { JobQueueCoordinator } = require('..');
  const prefix = uniquePrefix(tag);
  const closers = [];
  const make = (extra = {}) => {
    const c = new JobQueueCoordinator({ redis: { url: REDIS_URL, keyPrefix: prefix }, ...extra });
    closers.push(() => c.shutdown({ timeoutMs: 2000 }));
    return c;
  };
  const c = make(config);
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await cleanup(REDIS_URL, prefix);
  });
  return {
    prefix,
    c,
    make,
    redis() {
      const r = new Redis(RAW_REDIS_URL);
      closers.push(() => r.quit());
      return r;
    },
    onClose(fn) {
      closers.push(fn);
    },
  };
}

/** A free TCP port on 127.0.0.1 (for a redis-server a test starts itself). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING on 127.0.0.1:`port` (within 300 ms). */
function pings(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setTimeout(300, () => s.destroy() && resolve(false));
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/** Whether `cmd args...` runs and exits 0 (a tool the test needs is installed). */
function hasCommand(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = { REDIS_URL, RAW_REDIS_URL, CLUSTER, uniquePrefix, prefixKey, waitFor, cleanup, setupCoordinators, freePort, hasCommand, pings };
