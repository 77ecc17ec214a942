'use strict';
// The design's JobQueueCoordinatorConfig: every field optional. A field the caller leaves out
// comes from the environment (the design's variable names, listed in ENVIRONMENT below) and
// otherwise from the design's default. A variable that is set but cannot be read (a number
// that is not a number, a flag that is not a boolean) is a ValidationError naming the
// variable, thrown when the coordinator is built, before anything connects.

const fs = require('node:fs');
const { ValidationError } = require('./errors');

/**
 * Every variable read, with the config field it fills and its default. Where the design
 * names one setting twice (its architecture document uses WORKER_CONCURRENCY and
 * MAX_JOB_RETRIES, its full configuration DEFAULT_WORKER_CONCURRENCY and
 * DEFAULT_JOB_ATTEMPTS), the full configuration's name wins when both are set.
 * MAX_JOB_RETRIES means the same as the job option `maxRetries`: the job's attempts.
 */
const ENVIRONMENT = {
  REDIS_URL: 'redis.url',
  REDIS_HOST: 'redis.host (127.0.0.1)',
  REDIS_PORT: 'redis.port (6379)',
  REDIS_USERNAME: 'redis.username (an ACL user; none = the default user)',
  REDIS_PASSWORD: 'redis.password',
  REDIS_TLS: 'redis.tls (false; rediss:// URLs turn it on too)',
  REDIS_TLS_CA_FILE: 'redis.tls.ca, read from this PEM file (instead of the system roots)',
  REDIS_TLS_CERT_FILE: 'redis.tls.cert, read from this PEM file (mutual TLS)',
  REDIS_TLS_KEY_FILE: 'redis.tls.key, read from this PEM file (mutual TLS)',
  REDIS_DB: 'redis.db (0)',
  REDIS_KEY_PREFIX: 'redis.keyPrefix (bull, as BullMQ)',
  REDIS_CLUSTER_NODES: 'redis.cluster.nodes, as host:port,host:port (a Redis Cluster; url/host/port are then unused)',
  REDIS_SENTINELS: 'redis.sentinels, as host:port,host:port (the master is found through them)',
  REDIS_SENTINEL_NAME: "redis.name, the sentinels' master set name (needed with REDIS_SENTINELS)",
  REDIS_SENTINEL_USERNAME: 'redis.sentinelUsername (an ACL user on the sentinels)',
  REDIS_WAIT_REPLICAS: 'redis.wait.replicas: adds resolve once this many replicas confirmed them (WAIT); unset: at once',
  REDIS_WAIT_TIMEOUT: 'redis.wait.timeout (1000 ms): how long an add waits for those replicas',
  REDIS_SENTINEL_PASSWORD: 'redis.sentinelPassword (the sentinels\' own password)',
  DEFAULT_JOB_ATTEMPTS: 'defaultJobOptions.attempts (3)',
  MAX_JOB_RETRIES: 'defaultJobOptions.attempts, when DEFAULT_JOB_ATTEMPTS is unset',
  DEFAULT_JOB_BACKOFF_DELAY: 'defaultJobOptions.backoff.delay (2000, exponential)',
  DEFAULT_JOB_PRIORITY: 'defaultJobOptions.priority (0)',
  DEFAULT_WORKER_CONCURRENCY: 'defaultWorkerOptions.concurrency (1)',
  WORKER_CONCURRENCY: 'defaultWorkerOptions.concurrency, when DEFAULT_WORKER_CONCURRENCY is unset',
  WORKER_STALLED_INTERVAL: 'defaultWorkerOptions.settings.stalledInterval (30000)',
  WORKER_RETRY_PROCESS_DELAY: 'defaultWorkerOptions.settings.retryProcessDelay (5000)',
  MAX_JOB_DATA_SIZE: 'security.maxJobDataSize (1048576)',
  MAX_JOB_AGE: 'security.maxJobAge (3600000)',
  ENABLE_RATE_LIMITING: 'security.rateLimiting.enabled (true)',
  MAX_JOBS_PER_MINUTE: 'security.rateLimiting.maxJobsPerMinute (1000)',
  ENABLE_AUDIT_LOGGING: 'security.enableAuditLogging (true)',
  AUDIT_ENQUEUES: 'security.auditEnqueues (false)',
  ACCESS_CONTROL_DEFAULT_POLICY: 'security.accessControl.defaultPolicy (allow): for clients without stored permissions',
  ENABLE_METRICS_COLLECTION: 'monitoring.metricsCollection.enabled (true)',
  METRICS_COLLECTION_INTERVAL: 'monitoring.metricsCollection.interval (30000)',
  ENABLE_HEALTH_CHECKS: 'monitoring.healthChecks.enabled (true)',
  HEALTH_CHECK_INTERVAL: 'monitoring.healthChecks.interval (60000)',
  ENABLE_AUTO_SCALING: 'performance.autoScaling.enabled (false)',
  AUTO_SCALING_CHECK_INTERVAL: 'performance.autoScaling.checkInterval (30000)',
  SCALING_COOLDOWN_PERIOD: 'performance.autoScaling.cooldownPeriod (300000)',
  LOG_LEVEL: 'level of the built-in logger (info); read by lib/logger.js',
};

/** The variable's text, or undefined when unset or empty. */
function text(env, name) {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A number variable: finite, ≥ 0, and an integer when `integer`. */
function num(env, name, fallback, { integer = false, min = 0 } = {}) {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    const what = integer ? `an integer ≥ ${min}` : `a number ≥ ${min}`;
    throw new ValidationError(name, `must be ${what}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A `host:port,host:port` list variable as `[{ host, port }]`; undefined when unset. */
function nodes(env, name) {
  const v = text(env, name);
  if (v === undefined) return undefined;
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const out = list.map((item) => {
    const at = item.lastIndexOf(':');
    const port = Number(item.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ValidationError(name, `must be host:port pairs separated by commas, got ${JSON.stringify(v)}`);
    }
    return { host: item.slice(0, at), port };
  });
  if (out.length === 0) throw new ValidationError(name, `must list at least one host:port, got ${JSON.stringify(v)}`);
  return out;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A flag variable: true/false, 1/0, yes/no, on/off (any case). */
function flag(env, name, fallback) {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const t = v.trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  throw new ValidationError(name, `must be true or false, got ${JSON.stringify(v)}`);
}

/** `allow` or `deny`. */
function policy(env, name, fallback) {
  const v = text(env, name);
  if (v === undefined) return fallback;
  const t = v.trim().toLowerCase();
  if (t === 'allow' || t === 'deny') return t;
  throw new ValidationError(name, `must be allow or deny, got ${JSON.stringify(v)}`);
}

/** The first of the named variables that is set, read as `read` reads it. */
function first(env, names, read) {
  const name = names.find((n) => text(env, n) !== undefined) ?? names[0];
  return read(name);
}

/** A PEM file named by a variable, as text; unreadable is a ValidationError naming it. */
function pemFile(env, name) {
  const path = text(env, name);
  if (path === undefined) return undefined;
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(name, `cannot be read (${err.message})`);
  }
}

/** `redis.tls` from REDIS_TLS and the REDIS_TLS_*_FILE variables: undefined when none is set. */
function tlsFromEnvironment(env) {
  const files = { ca: pemFile(env, 'REDIS_TLS_CA_FILE'), cert: pemFile(env, 'REDIS_TLS_CERT_FILE'), key: pemFile(env, 'REDIS_TLS_KEY_FILE') };
  const on = flag(env, 'REDIS_TLS', undefined);
  if (on === false) return undefined;
  const given = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined));
  if (Object.keys(given).length > 0) return given;
  return on ? true : undefined;
}

/** `redis.cluster` or `redis.sentinels` (with `name` and the sentinels' login) from the
 * environment; {} when neither is set. Both set is a ValidationError. */
function environmentTopology(env) {
  const cluster = nodes(env, 'REDIS_CLUSTER_NODES');
  const sentinels = nodes(env, 'REDIS_SENTINELS');
  if (cluster && sentinels) throw new ValidationError('REDIS_SENTINELS', 'cannot be set with REDIS_CLUSTER_NODES: a deployment is a cluster or a sentinel-watched master, not both');
  if (cluster) return { cluster: { nodes: cluster } };
  if (!sentinels) return {};
  const name = text(env, 'REDIS_SENTINEL_NAME');
  if (!name) throw new ValidationError('REDIS_SENTINEL_NAME', "is needed with REDIS_SENTINELS (the master set's name, e.g. mymaster)");
  return { sentinels, name, sentinelUsername: text(env, 'REDIS_SENTINEL_USERNAME'), sentinelPassword: text(env, 'REDIS_SENTINEL_PASSWORD') };
}

/** The config the environment describes, with the design's defaults for the rest. */
function fromEnvironment(env = process.env) {
  const int = (name, fallback, min = 0) => num(env, name, fallback, { integer: true, min });
  return {
    redis: {
      url: text(env, 'REDIS_URL'),
      host: text(env, 'REDIS_HOST') ?? '127.0.0.1',
      port: int('REDIS_PORT', 6379, 1),
      username: text(env, 'REDIS_USERNAME'),
      password: text(env, 'REDIS_PASSWORD'),
      tls: tlsFromEnvironment(env),
      db: int('REDIS_DB', 0),
      keyPrefix: text(env, 'REDIS_KEY_PREFIX') ?? 'bull',
      ...environmentTopology(env),
      ...(text(env, 'REDIS_WAIT_REPLICAS') === undefined
        ? {}
        : { wait: { replicas: int('REDIS_WAIT_REPLICAS', 1, 1), timeout: int('REDIS_WAIT_TIMEOUT', 1000, 1) } }),
      maxRetriesPerRequest: 20,
      retryDelayOnFailover: 100,
    },
    defaultJobOptions: {
      attempts: first(env, ['DEFAULT_JOB_ATTEMPTS', 'MAX_JOB_RETRIES'], (n) => int(n, 3, 1)),
      backoff: { type: 'exponential', delay: num(env, 'DEFAULT_JOB_BACKOFF_DELAY', 2000) },
      priority: int('DEFAULT_JOB_PRIORITY', 0),
    },
    defaultWorkerOptions: {
      concurrency: first(env, ['DEFAULT_WORKER_CONCURRENCY', 'WORKER_CONCURRENCY'], (n) => int(n, 1, 1)),
      settings: {
        stalledInterval: int('WORKER_STALLED_INTERVAL', 30000, 1),
        retryProcessDelay: num(env, 'WORKER_RETRY_PROCESS_DELAY', 5000),
        maxStalledCount: 1,
      },
    },
    security: {
      maxJobDataSize: int('MAX_JOB_DATA_SIZE', 1048576, 1),
      maxJobAge: num(env, 'MAX_JOB_AGE', 3600000),
      enableJobValidation: true,
      enableAuditLogging: flag(env, 'ENABLE_AUDIT_LOGGING', true),
      auditEnqueues: flag(env, 'AUDIT_ENQUEUES', false),
      auditLogMaxLength: 100000,
      rateLimiting: {
        enabled: flag(env, 'ENABLE_RATE_LIMITING', true),
        maxJobsPerMinute: int('MAX_JOBS_PER_MINUTE', 1000, 1),
        windowMs: 60000,
      },
      accessControl: {
        defaultPolicy: policy(env, 'ACCESS_CONTROL_DEFAULT_POLICY', 'allow'),
        cacheMs: 1000,
      },
    },
    monitoring: {
      metricsCollection: {
        enabled: flag(env, 'ENABLE_METRICS_COLLECTION', true),
        interval: int('METRICS_COLLECTION_INTERVAL', 30000, 1),
      },
      healthChecks: {
        enabled: flag(env, 'ENABLE_HEALTH_CHECKS', true),
        interval: int('HEALTH_CHECK_INTERVAL', 60000, 1),
      },
    },
    performance: {
      autoScaling: {
        // off unless asked for: scaling changes how many workers run, which BullMQ never
        // does by itself (the design's example environment sets it to true)
        enabled: flag(env, 'ENABLE_AUTO_SCALING', false),
        checkInterval: int('AUTO_SCALING_CHECK_INTERVAL', 30000, 1),
        cooldownPeriod: num(env, 'SCALING_COOLDOWN_PERIOD', 300000),
      },
      // no variable in the design: off unless the config turns it on
      optimization: { enabled: false, analysisInterval: 300000 },
    },
  };
}

/** Checks a setting given in the config object (the environment's are checked on reading). */
function checkMs(value, field) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative number of ms');
  }
}

/** Checks ioredis' `maxRetriesPerRequest` and `retryDelayOnFailover` as `field.<name>`. */
function checkRetry(r, field = 'redis') {
  const retries = r.maxRetriesPerRequest;
  if (retries !== null && !(Number.isInteger(retries) && retries >= 0 && retries <= 0xffffffff)) {
    throw new ValidationError(`${field}.maxRetriesPerRequest`, 'must be a non-negative integer, or null to wait for the connection');
  }
  if (!Number.isInteger(r.retryDelayOnFailover) || r.retryDelayOnFailover < 0 || r.retryDelayOnFailover > 0xffffffff) {
    throw new ValidationError(`${field}.retryDelayOnFailover`, 'must be a non-negative integer of ms');
  }
}

function checkPositiveInt(value, field) {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) throw new ValidationError(field, 'must be a positive integer');
}

function checkFlag(value, field) {
  if (typeof value !== 'boolean') throw new ValidationError(field, 'must be a boolean');
}

/** Checks `security`: the settings the security manager and access control act on. */
function checkSecurity(s) {
  checkPositiveInt(s.maxJobDataSize, 'security.maxJobDataSize');
  checkMs(s.maxJobAge, 'security.maxJobAge');
  checkFlag(s.enableJobValidation, 'security.enableJobValidation');
  checkFlag(s.enableAuditLogging, 'security.enableAuditLogging');
  checkFlag(s.auditEnqueues, 'security.auditEnqueues');
  checkPositiveInt(s.auditLogMaxLength, 'security.auditLogMaxLength');
  checkFlag(s.rateLimiting.enabled, 'security.rateLimiting.enabled');
  checkPositiveInt(s.rateLimiting.maxJobsPerMinute, 'security.rateLimiting.maxJobsPerMinute');
  checkPositiveInt(s.rateLimiting.windowMs, 'security.rateLimiting.windowMs');
  if (s.accessControl.defaultPolicy !== 'allow' && s.accessControl.defaultPolicy !== 'deny') {
    throw new ValidationError('security.accessControl.defaultPolicy', 'must be allow or deny');
  }
  checkMs(s.accessControl.cacheMs, 'security.accessControl.cacheMs');
}

/** Validates the settings this module adds meaning to. */
function check(config) {
  checkRetry(config.redis);
  checkMs(config.defaultWorkerOptions.settings.retryProcessDelay, 'defaultWorkerOptions.settings.retryProcessDelay');
  checkSecurity(config.security);
}

/** The fields of `o` that are not undefined (a setting given as undefined means "not set"). */
function defined(o) {
  if (!o || typeof o !== 'object') return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Merges a user config over the environment defaults: each section, and each of its
 * sub-sections, field by field. */
function resolveConfig(user = {}, env = process.env) {
  const base = fromEnvironment(env);
  const redis = typeof user.redis === 'string' ? { url: user.redis } : user.redis || {};
  const out = { ...base, ...user };
  out.redis = { ...base.redis, ...redis };
  // An explicit address in the config wins over the environment's (REDIS_URL, a cluster's
  // nodes, sentinels).
  if (['url', 'host', 'port', 'cluster', 'sentinels'].some((k) => redis[k] !== undefined)) {
    for (const k of ['url', 'cluster', 'sentinels', 'name']) if (redis[k] === undefined) delete out.redis[k];
  }
  out.defaultJobOptions = { ...base.defaultJobOptions, ...user.defaultJobOptions };
  const w = user.defaultWorkerOptions || {};
  out.defaultWorkerOptions = {
    ...base.defaultWorkerOptions,
    ...w,
    settings: { ...base.defaultWorkerOptions.settings, ...w.settings },
  };
  const s = user.security || {};
  out.security = {
    ...base.security,
    ...defined(s),
    rateLimiting: { ...base.security.rateLimiting, ...defined(s.rateLimiting) },
    accessControl: { ...base.security.accessControl, ...defined(s.accessControl) },
  };
  const m = user.monitoring || {};
  out.monitoring = {
    ...base.monitoring,
    ...m,
    metricsCollection: { ...base.monitoring.metricsCollection, ...m.metricsCollection },
    healthChecks: { ...base.monitoring.healthChecks, ...m.healthChecks },
  };
  const p = user.performance || {};
  out.performance = {
    ...base.performance,
    ...p,
    autoScaling: { ...base.performance.autoScaling, ...p.autoScaling },
    optimization: { ...base.performance.optimization, ...p.optimization },
  };
  // a setting given as undefined means "not set"
  for (const key of ['maxRetriesPerRequest', 'retryDelayOnFailover']) {
    if (out.redis[key] === undefined) out.redis[key] = base.redis[key];
  }
  const settings = out.defaultWorkerOptions.settings;
  if (settings.retryProcessDelay === undefined) settings.retryProcessDelay = base.defaultWorkerOptions.settings.retryProcessDelay;
  check(out);
  return out;
}

/**
 * What the engine's connection takes from `config.redis` (or ioredis-style connection
 * options) about riding out an outage: unset fields keep the engine's defaults (20 retries,
 * 100 ms apart).
 */
function retrySettings(redis, field = 'redis') {
  checkRetry({ maxRetriesPerRequest: 20, retryDelayOnFailover: 100, ...stripUndefined(redis) }, field);
  return {
    maxRetriesPerRequest: redis.maxRetriesPerRequest ?? undefined,
    retryUntilConnected: redis.maxRetriesPerRequest === null || undefined,
    retryDelayOnFailover: redis.retryDelayOnFailover,
  };
}

function stripUndefined(o) {
  return Object.fromEntries(
    ['maxRetriesPerRequest', 'retryDelayOnFailover'].filter((k) => o[k] !== undefined).map((k) => [k, o[k]]),
  );
}

module.exports = { resolveConfig, retrySettings, ENVIRONMENT };
