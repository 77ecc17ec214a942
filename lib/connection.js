'use strict';
// Connections for the BullMQ-style classes (Queue, Worker, QueueEvents, Job.fromId): what a
// BullMQ user passes as `connection` (ioredis-style options, a URL, or an ioredis instance)
// becomes the engine's connection config, and objects of one process that name the same
// Redis and prefix share one engine (one multiplexed connection), released when the last
// of them closes.

const { NativeEngine } = require('../binding');
const { ValidationError } = require('./errors');
const { call } = require('./input');
const { retrySettings } = require('./config');

/** BullMQ's default key prefix. */
const DEFAULT_PREFIX = 'bull';

/**
 * The engine config for a BullMQ `connection` and `prefix`:
 * - a `redis://` / `rediss://` URL string;
 * - ioredis-style options `{ host, port, username, password, db, tls, url,
 *   maxRetriesPerRequest, retryDelayOnFailover }` (`tls` may be `true` or an object of TLS
 *   options: either turns TLS on; the last two act as in ioredis for non-blocking commands);
 * - an ioredis instance (or anything with `.options` of that shape): its options are read
 *   and our own clients connect the same way.
 * Without a connection, 127.0.0.1:6379 as BullMQ does.
 */
function engineConfig(connection, prefix = DEFAULT_PREFIX, extra = {}) {
  if (typeof prefix !== 'string' || prefix === '') throw new ValidationError('prefix', 'must be a non-empty string');
  let c = connection ?? {};
  if (typeof c === 'string') c = { url: c };
  if (typeof c !== 'object') throw new ValidationError('connection', 'must be a URL, ioredis options, or an ioredis instance');
  // an ioredis instance (or Cluster-less client) keeps what it was made with in `.options`
  if (c.options && typeof c.options === 'object' && (typeof c.connect === 'function' || typeof c.sendCommand === 'function')) {
    c = c.options;
  }
  // ioredis fills unset options with null (username, password, db...): null means unset
  const tls = c.tls === true || (c.tls !== undefined && c.tls !== null && c.tls !== false);
  // ioredis keeps unset fields as null; absent and null mean the same here
  const text = (v, field) => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ValidationError(`connection.${field}`, 'must be a string');
    return v;
  };
  const number = (v, field) => {
    if (v === undefined || v === null) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ValidationError(`connection.${field}`, 'must be a non-negative integer');
    return n;
  };
  return {
    url: text(c.url, 'url'),
    host: text(c.host, 'host'),
    port: number(c.port, 'port'),
    username: text(c.username, 'username'),
    password: text(c.password, 'password'),
    db: number(c.db, 'db'),
    tls: tls || undefined,
    prefix: prefix.endsWith(':') ? prefix.slice(0, -1) : prefix,
    // ioredis' maxRetriesPerRequest (null: wait for the connection) and retryDelayOnFailover
    ...retrySettings(c, 'connection'),
    ...extra,
  };
}

/** Engines of this process by their config, each with the number of holders. */
const shared = new Map();

/**
 * An engine for this config, shared with every other holder of the same config. Call the
 * returned `release()` once when done: the engine closes when its last holder releases it.
 */
async function acquireEngine(config) {
  const key = JSON.stringify(config);
  let entry = shared.get(key);
  if (!entry) {
    entry = { holders: 0, engine: call(NativeEngine.connect(config)) };
    shared.set(key, entry);
    entry.engine.catch(() => {
      if (shared.get(key) === entry) shared.delete(key);
    });
  }
  entry.holders++;
  let native;
  try {
    native = await entry.engine;
  } catch (err) {
    entry.holders--;
    throw err;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    entry.holders--;
    if (entry.holders === 0 && shared.get(key) === entry) {
      shared.delete(key);
      native.close();
    }
  };
  return { native, release };
}

module.exports = { DEFAULT_PREFIX, engineConfig, acquireEngine };
