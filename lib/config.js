'use strict';
// The design's JobQueueCoordinatorConfig (seed 003 §11): every field optional, defaults from
// the environment (§11.2) and then from the design.

const env = process.env;

function num(name, fallback) {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function fromEnvironment() {
  return {
    redis: {
      url: env.REDIS_URL || undefined,
      host: env.REDIS_HOST || '127.0.0.1',
      port: num('REDIS_PORT', 6379),
      password: env.REDIS_PASSWORD || undefined,
      db: num('REDIS_DB', 0),
      keyPrefix: env.REDIS_KEY_PREFIX || 'bull',
    },
    defaultJobOptions: {
      attempts: num('DEFAULT_JOB_ATTEMPTS', 3),
      backoff: { type: 'exponential', delay: num('DEFAULT_JOB_BACKOFF_DELAY', 2000) },
      priority: num('DEFAULT_JOB_PRIORITY', 0),
    },
    defaultWorkerOptions: {
      concurrency: num('DEFAULT_WORKER_CONCURRENCY', 1),
      settings: {
        stalledInterval: num('WORKER_STALLED_INTERVAL', 30000),
        maxStalledCount: 1,
      },
    },
    security: {
      maxJobDataSize: num('MAX_JOB_DATA_SIZE', 1048576),
    },
  };
}

/** Merges a user config over the environment defaults, one level into each section. */
function resolveConfig(user = {}) {
  const base = fromEnvironment();
  const redis = typeof user.redis === 'string' ? { url: user.redis } : user.redis || {};
  const out = { ...base, ...user };
  out.redis = { ...base.redis, ...redis };
  // An explicit address in the config wins over REDIS_URL from the environment.
  if (!redis.url && (redis.host !== undefined || redis.port !== undefined)) delete out.redis.url;
  out.defaultJobOptions = { ...base.defaultJobOptions, ...user.defaultJobOptions };
  const w = user.defaultWorkerOptions || {};
  out.defaultWorkerOptions = {
    ...base.defaultWorkerOptions,
    ...w,
    settings: { ...base.defaultWorkerOptions.settings, ...w.settings },
  };
  out.security = { ...base.security, ...user.security };
  return out;
}

module.exports = { resolveConfig };
