'use strict';
// The configuration read from the environment: every variable of the design arrives in the
// config field the design names, unset variables give the design's defaults, and a variable
// that cannot be read is a ValidationError naming it, at construction. Each case builds a
// coordinator in a child process with exactly the variables it sets.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { JobQueueCoordinator, ValidationError } = require('..');
const { ENVIRONMENT } = require('../lib/config');

const COORDINATOR = path.join(__dirname, '..', 'lib', 'coordinator.js');

const CHILD = `
const { JobQueueCoordinator } = require(${JSON.stringify(COORDINATOR)});
let out;
try {
  const c = new JobQueueCoordinator();
  out = { config: c.config, debugLogged: c.logger.enabled('debug') };
} catch (e) {
  out = { error: { name: e.name, code: e.code, field: e.field, message: e.message } };
}
process.stdout.write(JSON.stringify(out));
`;

/** `new JobQueueCoordinator()` in a child whose environment has only `vars` of ours. */
function inChild(vars) {
  const env = { ...process.env };
  for (const name of Object.keys(ENVIRONMENT)) delete env[name];
  Object.assign(env, vars);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', CHILD], { env, timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const DESIGN_DEFAULTS = {
  redis: {
    host: '127.0.0.1',
    port: 6379,
    db: 0,
    keyPrefix: 'bull',
    maxRetriesPerRequest: 20,
    retryDelayOnFailover: 100,
  },
  defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, priority: 0 },
  defaultWorkerOptions: {
    concurrency: 1,
    settings: { stalledInterval: 30000, retryProcessDelay: 5000, maxStalledCount: 1 },
  },
  security: {
    maxJobDataSize: 1048576,
    maxJobAge: 3600000,
    enableJobValidation: true,
    rateLimiting: { enabled: true, maxJobsPerMinute: 1000, windowMs: 60000 },
    // ours: the audit log and the access control's policy for clients without permissions
    enableAuditLogging: true,
    auditEnqueues: false,
    auditLogMaxLength: 100000,
    accessControl: { defaultPolicy: 'allow', cacheMs: 1000 },
  },
  monitoring: {
    metricsCollection: { enabled: true, interval: 30000 },
    healthChecks: { enabled: true, interval: 60000 },
  },
  performance: {
    autoScaling: { enabled: false, checkInterval: 30000, cooldownPeriod: 300000 }, // opt-in: see README
    optimization: { enabled: false, analysisInterval: 300000 },
  },
};

test('with no variable set, every section holds the design defaults', async () => {
  const { config, debugLogged } = await inChild({});
  assert.deepStrictEqual(config, DESIGN_DEFAULTS);
  assert.strictEqual(debugLogged, false, 'LOG_LEVEL defaults to info');
});

test('every variable of the design arrives in the config field it names', async () => {
  const { config, debugLogged } = await inChild({
    REDIS_HOST: 'redis.internal',
    REDIS_PORT: '6380',
    REDIS_PASSWORD: 's3cret',
    REDIS_DB: '4',
    REDIS_KEY_PREFIX: 'photo-queue',
    DEFAULT_JOB_ATTEMPTS: '7',
    DEFAULT_JOB_BACKOFF_DELAY: '1500',
    DEFAULT_JOB_PRIORITY: '2',
    DEFAULT_WORKER_CONCURRENCY: '6',
    WORKER_STALLED_INTERVAL: '45000',
    WORKER_RETRY_PROCESS_DELAY: '2500',
    MAX_JOB_DATA_SIZE: '2048',
    MAX_JOB_AGE: '7200000',
    ENABLE_RATE_LIMITING: 'false',
    MAX_JOBS_PER_MINUTE: '250',
    ENABLE_AUDIT_LOGGING: 'false',
    AUDIT_ENQUEUES: 'true',
    ACCESS_CONTROL_DEFAULT_POLICY: 'deny',
    REDIS_USERNAME: 'jq',
    ENABLE_METRICS_COLLECTION: 'false',
    METRICS_COLLECTION_INTERVAL: '10000',
    ENABLE_HEALTH_CHECKS: 'FALSE',
    HEALTH_CHECK_INTERVAL: '15000',
    ENABLE_AUTO_SCALING: '0',
    AUTO_SCALING_CHECK_INTERVAL: '20000',
    SCALING_COOLDOWN_PERIOD: '60000',
    LOG_LEVEL: 'debug',
  });
  assert.deepStrictEqual(config, {
    redis: {
      host: 'redis.internal',
      port: 6380,
      username: 'jq',
      password: 's3cret',
      db: 4,
      keyPrefix: 'photo-queue',
      maxRetriesPerRequest: 20,
      retryDelayOnFailover: 100,
    },
    defaultJobOptions: { attempts: 7, backoff: { type: 'exponential', delay: 1500 }, priority: 2 },
    defaultWorkerOptions: {
      concurrency: 6,
      settings: { stalledInterval: 45000, retryProcessDelay: 2500, maxStalledCount: 1 },
    },
    security: {
      maxJobDataSize: 2048,
      maxJobAge: 7200000,
      enableJobValidation: true,
      rateLimiting: { enabled: false, maxJobsPerMinute: 250, windowMs: 60000 },
      enableAuditLogging: false,
      auditEnqueues: true,
      auditLogMaxLength: 100000,
      accessControl: { defaultPolicy: 'deny', cacheMs: 1000 },
    },
    monitoring: {
      metricsCollection: { enabled: false, interval: 10000 },
      healthChecks: { enabled: false, interval: 15000 },
    },
    performance: {
      autoScaling: { enabled: false, checkInterval: 20000, cooldownPeriod: 60000 },
      optimization: { enabled: false, analysisInterval: 300000 },
    },
  });
  assert.strictEqual(debugLogged, true, 'LOG_LEVEL=debug keeps debug entries');
});

test('REDIS_URL is read, and flags accept true/false, 1/0, yes/no, on/off', async () => {
  const { config } = await inChild({
    REDIS_URL: 'redis://10.0.0.5:6390/2',
    ENABLE_RATE_LIMITING: 'yes',
    ENABLE_METRICS_COLLECTION: 'off',
    ENABLE_HEALTH_CHECKS: '1',
    ENABLE_AUTO_SCALING: 'No',
  });
  assert.strictEqual(config.redis.url, 'redis://10.0.0.5:6390/2');
  assert.strictEqual(config.security.rateLimiting.enabled, true);
  assert.strictEqual(config.monitoring.metricsCollection.enabled, false);
  assert.strictEqual(config.monitoring.healthChecks.enabled, true);
  assert.strictEqual(config.performance.autoScaling.enabled, false);
});

test("the architecture document's WORKER_CONCURRENCY and MAX_JOB_RETRIES fill the same fields; the full configuration's names win", async () => {
  const alone = await inChild({ WORKER_CONCURRENCY: '5', MAX_JOB_RETRIES: '4' });
  assert.strictEqual(alone.config.defaultWorkerOptions.concurrency, 5);
  assert.strictEqual(alone.config.defaultJobOptions.attempts, 4, 'maxRetries means attempts, as the job option does');
  const both = await inChild({
    WORKER_CONCURRENCY: '5',
    DEFAULT_WORKER_CONCURRENCY: '2',
    MAX_JOB_RETRIES: '4',
    DEFAULT_JOB_ATTEMPTS: '9',
  });
  assert.strictEqual(both.config.defaultWorkerOptions.concurrency, 2);
  assert.strictEqual(both.config.defaultJobOptions.attempts, 9);
});

test('a variable that is not a number (or not a flag) is a ValidationError naming it, at construction', async () => {
  const cases = {
    REDIS_PORT: 'six',
    REDIS_DB: '1.5',
    DEFAULT_JOB_ATTEMPTS: 'three',
    MAX_JOB_RETRIES: 'x',
    DEFAULT_JOB_BACKOFF_DELAY: '2s',
    DEFAULT_JOB_PRIORITY: '-1',
    DEFAULT_WORKER_CONCURRENCY: '0',
    WORKER_CONCURRENCY: 'many',
    WORKER_STALLED_INTERVAL: 'NaN',
    WORKER_RETRY_PROCESS_DELAY: 'soon',
    MAX_JOB_DATA_SIZE: '1MB',
    MAX_JOB_AGE: 'Infinity',
    ENABLE_RATE_LIMITING: 'maybe',
    MAX_JOBS_PER_MINUTE: '1e3x',
    ENABLE_METRICS_COLLECTION: 'enabled',
    METRICS_COLLECTION_INTERVAL: ' ',
    ENABLE_HEALTH_CHECKS: '2',
    HEALTH_CHECK_INTERVAL: '60s',
    ENABLE_AUTO_SCALING: 'y',
    AUTO_SCALING_CHECK_INTERVAL: '-30000',
    SCALING_COOLDOWN_PERIOD: 'five minutes',
    ENABLE_AUDIT_LOGGING: 'sometimes',
    AUDIT_ENQUEUES: 'all',
    ACCESS_CONTROL_DEFAULT_POLICY: 'maybe',
    REDIS_TLS: 'tls',
    REDIS_TLS_CA_FILE: '/nonexistent/ca.pem',
    REDIS_TLS_CERT_FILE: '/nonexistent/cert.pem',
    REDIS_TLS_KEY_FILE: '/nonexistent/key.pem',
  };
  for (const [name, value] of Object.entries(cases)) {
    const { error } = await inChild({ [name]: value });
    assert.ok(error, `${name}=${JSON.stringify(value)} was accepted`);
    assert.strictEqual(error.name, 'ValidationError', `${name}: ${error.message}`);
    assert.strictEqual(error.code, 'ERR_VALIDATION');
    assert.strictEqual(error.field, name);
    assert.match(error.message, new RegExp(name));
  }
});

test('the config object wins over the environment field by field, nested sections included', async () => {
  const saved = { ...process.env };
  process.env.METRICS_COLLECTION_INTERVAL = '12000';
  process.env.MAX_JOBS_PER_MINUTE = '300';
  process.env.WORKER_RETRY_PROCESS_DELAY = '800';
  let c;
  try {
    c = new JobQueueCoordinator({
      monitoring: { metricsCollection: { enabled: false } },
      security: { rateLimiting: { enabled: false } },
      performance: { autoScaling: { cooldownPeriod: 1000 } },
      defaultWorkerOptions: { settings: { stalledInterval: 5000 } },
      redis: { maxRetriesPerRequest: null },
    });
  } finally {
    for (const k of ['METRICS_COLLECTION_INTERVAL', 'MAX_JOBS_PER_MINUTE', 'WORKER_RETRY_PROCESS_DELAY']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  assert.deepStrictEqual(c.config.monitoring.metricsCollection, { enabled: false, interval: 12000 });
  assert.deepStrictEqual(c.config.security.rateLimiting, { enabled: false, maxJobsPerMinute: 300, windowMs: 60000 });
  assert.deepStrictEqual(c.config.performance.autoScaling, { enabled: false, checkInterval: 30000, cooldownPeriod: 1000 });
  assert.deepStrictEqual(c.config.defaultWorkerOptions.settings, { stalledInterval: 5000, retryProcessDelay: 800, maxStalledCount: 1 });
  assert.strictEqual(c.config.redis.maxRetriesPerRequest, null);
  assert.strictEqual(c.config.redis.retryDelayOnFailover, 100);
});

test('bad retry settings in the config object are ValidationErrors at construction', () => {
  for (const [config, field] of [
    [{ redis: { maxRetriesPerRequest: -1 } }, 'redis.maxRetriesPerRequest'],
    [{ redis: { maxRetriesPerRequest: 1.5 } }, 'redis.maxRetriesPerRequest'],
    [{ redis: { maxRetriesPerRequest: '20' } }, 'redis.maxRetriesPerRequest'],
    [{ redis: { retryDelayOnFailover: -5 } }, 'redis.retryDelayOnFailover'],
    [{ redis: { retryDelayOnFailover: null } }, 'redis.retryDelayOnFailover'],
    [{ defaultWorkerOptions: { settings: { retryProcessDelay: 'fast' } } }, 'defaultWorkerOptions.settings.retryProcessDelay'],
    [{ defaultWorkerOptions: { settings: { retryProcessDelay: -1 } } }, 'defaultWorkerOptions.settings.retryProcessDelay'],
  ]) {
    assert.throws(() => new JobQueueCoordinator(config), (err) => {
      assert.ok(err instanceof ValidationError, `${JSON.stringify(config)}: ${err}`);
      assert.strictEqual(err.field, field);
      return true;
    });
  }
});

test("a BullMQ-style connection's ioredis retry options reach the engine config, checked", () => {
  const { engineConfig } = require('../lib/connection');
  const waiting = engineConfig({ host: '127.0.0.1', maxRetriesPerRequest: null, retryDelayOnFailover: 50 });
  assert.strictEqual(waiting.retryUntilConnected, true);
  assert.strictEqual(waiting.retryDelayOnFailover, 50);
  const counted = engineConfig('redis://127.0.0.1:6379');
  assert.strictEqual(counted.retryUntilConnected, undefined, 'unset: the engine default (20 retries)');
  assert.strictEqual(engineConfig({ maxRetriesPerRequest: 3 }).maxRetriesPerRequest, 3);
  assert.throws(() => engineConfig({ maxRetriesPerRequest: 'lots' }), (err) => {
    assert.ok(err instanceof ValidationError);
    assert.strictEqual(err.field, 'connection.maxRetriesPerRequest');
    return true;
  });
});
