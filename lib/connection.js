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

/** PEM text of a certificate or key option: a string, a Buffer, or (for `ca`) an array of them. */
function pem(value, field, list = false) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (list && Array.isArray(value)) return value.map((v, i) => pem(v, `${field}[${i}]`)).join('\n');
  throw new ValidationError(field, list ? 'must be PEM text, a Buffer, or an array of them' : 'must be PEM text or a Buffer');
}

/**
 * What a `tls` option asks for (ioredis' `tls`, or the design's `{ enabled, ca }`): `on`, and
 * the `material` the engine takes: PEM `ca` (trusted instead of the system's roots), `cert`
 * and `key` (mutual TLS), `rejectUnauthorized` (false skips verifying the server; default
 * true). `true` is TLS with the system's roots; `false`, null or `{ enabled: false }` is none.
 */
function tlsSettings(tls, field = 'redis.tls') {
  if (tls === undefined || tls === null || tls === false) return { on: false, material: undefined };
  if (tls === true) return { on: true, material: undefined };
  if (typeof tls !== 'object' || Array.isArray(tls)) throw new ValidationError(field, 'must be a boolean or an object of TLS options');
  if (tls.enabled === false) return { on: false, material: undefined };
  if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean') {
    throw new ValidationError(`${field}.rejectUnauthorized`, 'must be a boolean');
  }
  const material = {
    ca: pem(tls.ca, `${field}.ca`, true),
    cert: pem(tls.cert, `${field}.cert`),
    key: pem(tls.key, `${field}.key`),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
  if ((material.cert === undefined) !== (material.key === undefined)) {
    throw new ValidationError(field, 'a client certificate (cert) needs its key, and a key its cert');
  }
  const any = Object.values(material).some((v) => v !== undefined);
  return { on: true, material: any ? material : undefined };
}

/** Connects a NativeEngine for an engine config (its `tlsMaterial` goes as the TLS argument). */
function connectNative(config) {
  const { tlsMaterial, ...rest } = config;
  return NativeEngine.connect(rest, tlsMaterial);
}

/**
 * The engine config for a BullMQ `connection` and `prefix`:
 * - a `redis://` / `rediss://` URL string;
 * - ioredis-style options `{ host, port, username, password, db, tls, url,
 *   maxRetriesPerRequest, retryDelayOnFailover }` (`tls` may be `true` or an object of TLS
 *   options, of which `ca`, `cert`, `key` and `rejectUnauthorized` are used: see
 *   tlsSettings; the last two act as in ioredis for non-blocking commands);
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
  const tls = tlsSettings(c.tls, 'connection.tls');
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
    tls: tls.on || undefined,
    tlsMaterial: tls.material,
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
    entry = { holders: 0, engine: call(connectNative(config)) };
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

module.exports = { DEFAULT_PREFIX, engineConfig, acquireEngine, tlsSettings, connectNative };
