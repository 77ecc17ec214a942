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

/**
 * A list of node addresses as the engine takes them (`[{ host, port }]`), from what ioredis
 * takes: `{ host, port }` objects, `'host:port'` strings, or bare port numbers (host
 * 127.0.0.1). Anything else is a ValidationError naming `field`.
 */
function nodeList(list, field) {
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError(field, 'must be a non-empty array of { host, port }');
  return list.map((n, i) => {
    const f = `${field}[${i}]`;
    let host;
    let port;
    if (typeof n === 'number') [host, port] = ['127.0.0.1', n];
    else if (typeof n === 'string') {
      const at = n.lastIndexOf(':');
      [host, port] = at > 0 ? [n.slice(0, at), Number(n.slice(at + 1))] : [n, 6379];
    } else if (n && typeof n === 'object') [host, port] = [n.host ?? '127.0.0.1', n.port ?? 6379];
    else throw new ValidationError(f, 'must be { host, port }, "host:port" or a port number');
    if (typeof host !== 'string' || host === '') throw new ValidationError(`${f}.host`, 'must be a non-empty string');
    port = Number(port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(`${f}.port`, 'must be an integer from 1 to 65535');
    return { host, port };
  });
}

/**
 * The engine's topology fields for a connection's options: `cluster: { nodes }` (the
 * design's form) or an ioredis Cluster instance's startup nodes → `clusterNodes`; ioredis'
 * Sentinel options `{ sentinels, name, sentinelUsername, sentinelPassword, role }` →
 * `sentinels`, `sentinelName`, … . `role` other than 'master' is refused: a queue writes,
 * and only the master takes writes. None of them: {} (one server).
 */
function topologySettings(c, field) {
  if (c.cluster !== undefined && c.cluster !== null && c.cluster !== false) {
    const cl = c.cluster;
    const nodes = Array.isArray(cl) ? cl : cl.nodes;
    return { clusterNodes: nodeList(nodes, Array.isArray(cl) ? `${field}.cluster` : `${field}.cluster.nodes`) };
  }
  if (c.sentinels !== undefined && c.sentinels !== null) {
    if (c.role !== undefined && c.role !== null && c.role !== 'master') {
      throw new ValidationError(`${field}.role`, "must be 'master': a job queue writes, and only the master takes writes");
    }
    const str = (v, f) => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw new ValidationError(`${field}.${f}`, 'must be a string');
      return v;
    };
    const name = str(c.name, 'name');
    if (!name) throw new ValidationError(`${field}.name`, "the sentinels' master set name is needed (e.g. 'mymaster')");
    return {
      sentinels: nodeList(c.sentinels, `${field}.sentinels`),
      sentinelName: name,
      sentinelUsername: str(c.sentinelUsername, 'sentinelUsername'),
      sentinelPassword: str(c.sentinelPassword, 'sentinelPassword'),
    };
  }
  return {};
}

/** `wait: { replicas, timeout }` (replication-acknowledged adds) as the engine's fields. */
function waitSettings(c, field) {
  const w = c.wait;
  if (w === undefined || w === null || w === false) return {};
  if (typeof w !== 'object') throw new ValidationError(`${field}.wait`, 'must be { replicas, timeout }');
  const int = (v, f, min) => {
    if (!Number.isInteger(v) || v < min || v > 2 ** 31) throw new ValidationError(`${field}.wait.${f}`, `must be an integer ≥ ${min}`);
    return v;
  };
  return { waitReplicas: int(w.replicas, 'replicas', 1), waitTimeout: w.timeout === undefined ? undefined : int(w.timeout, 'timeout', 1) };
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
  // an ioredis Cluster keeps its seed nodes in `.startupNodes` and the nodes' login in
  // `.options.redisOptions`
  if (c.isCluster === true && Array.isArray(c.startupNodes)) {
    c = { ...(c.options?.redisOptions || {}), cluster: { nodes: c.startupNodes } };
  } else if (c.options && typeof c.options === 'object' && (typeof c.connect === 'function' || typeof c.sendCommand === 'function')) {
    // an ioredis instance keeps what it was made with in `.options`
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
    ...topologySettings(c, 'connection'),
    ...waitSettings(c, 'connection'),
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

module.exports = { DEFAULT_PREFIX, engineConfig, acquireEngine, tlsSettings, topologySettings, waitSettings, connectNative };
