'use strict';
// The design's QueueManager, WorkerManager and WorkerPoolManager (seed 003 §3.1, §3.3, §6.1)
// as methods of JobQueueCoordinator. Queue state (paused, declared configs) and the worker
// registry live in Redis, so every process sees and acts on the same queues and workers.

const { ValidationError, WorkerNotFoundError } = require('./errors');
const { call, checkQueueName, nonNegativeInt } = require('./input');

/** The queue-type presets of seed 003 §5.1, usable by name in createQueue. */
const QUEUE_TYPES = {
  'photo-processing': {
    name: 'photo-processing',
    displayName: 'Photo Processing',
    description: 'Main queue for photo processing operations',
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: 100,
      removeOnFail: 50,
    },
    stalledInterval: 30000,
    retryProcessDelay: 5000,
    maxStalledCount: 1,
    jobTypes: ['process-photo', 'generate-thumbnails', 'extract-metadata'],
    scaling: { minWorkers: 2, maxWorkers: 10, scalingThreshold: 50 },
  },
  'batch-processing': {
    name: 'batch-processing',
    displayName: 'Batch Processing',
    description: 'Queue for batch operations on multiple photos',
    defaultJobOptions: {
      attempts: 2,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: 20,
      removeOnFail: 20,
    },
    stalledInterval: 60000,
    retryProcessDelay: 10000,
    maxStalledCount: 1,
    jobTypes: ['batch-process', 'batch-cleanup'],
    scaling: { minWorkers: 1, maxWorkers: 3, scalingThreshold: 10 },
  },
  maintenance: {
    name: 'maintenance',
    displayName: 'System Maintenance',
    description: 'Queue for system maintenance and cleanup tasks',
    defaultJobOptions: {
      attempts: 1,
      backoff: { type: 'fixed', delay: 60000 },
      removeOnComplete: 10,
      removeOnFail: 10,
    },
    stalledInterval: 120000,
    retryProcessDelay: 30000,
    maxStalledCount: 1,
    jobTypes: ['cleanup-orphans', 'consistency-check', 'metrics-aggregation'],
    scaling: { minWorkers: 1, maxWorkers: 2, scalingThreshold: 5 },
  },
};

/** The design's cleanup defaults (seed 003 §3.1). */
const CLEANUP_DEFAULTS = {
  removeOnComplete: 100,
  removeOnFail: 50,
  completedJobAge: 24 * 3600_000,
  failedJobAge: 7 * 24 * 3600_000,
  interval: 3600_000,
};

/** A queue config with its preset (config.type, or the queue's own name) under it. */
function withPreset(config) {
  const presetName = config.type ?? (QUEUE_TYPES[config.name] ? config.name : undefined);
  if (presetName === undefined) return config;
  const preset = QUEUE_TYPES[presetName];
  if (!preset) {
    throw new ValidationError('type', `unknown queue type ${presetName} (known: ${Object.keys(QUEUE_TYPES).join(', ')})`);
  }
  const { name: _n, displayName: _d, description: _s, jobTypes: _j, scaling: _c, ...defaults } = preset;
  return {
    ...defaults,
    ...config,
    defaultJobOptions: { ...preset.defaultJobOptions, ...config.defaultJobOptions },
    type: presetName,
  };
}

function checkCleanup(cleanup) {
  if (cleanup === undefined) return undefined;
  if (cleanup === null || typeof cleanup !== 'object') throw new ValidationError('cleanup', 'must be an object');
  const c = { ...CLEANUP_DEFAULTS, ...cleanup };
  for (const f of ['removeOnComplete', 'removeOnFail', 'completedJobAge', 'failedJobAge']) {
    if (!(Number.isFinite(c[f]) && c[f] >= 0)) throw new ValidationError(`cleanup.${f}`, 'must be a non-negative number');
  }
  if (!(Number.isFinite(c.interval) && c.interval > 0)) throw new ValidationError('cleanup.interval', 'must be a positive number of ms');
  return c;
}

/** A worker's status from the registry (any process) in the design's WorkerStatus shape. */
function fromRegistry(w) {
  return {
    id: w.id,
    queueName: w.queue,
    name: w.name ?? undefined,
    status: w.status,
    processedJobs: w.processedJobs,
    failedJobs: w.failedJobs,
    registeredAt: new Date(w.startedAt),
    uptime: Date.now() - w.startedAt,
    lastActivity: w.lastActivity ? new Date(w.lastActivity) : null,
    lastHeartbeat: new Date(w.lastHeartbeat),
    concurrency: w.concurrency,
    pid: w.pid,
    host: w.host,
  };
}

module.exports = {
  QUEUE_TYPES,

  /**
   * Declares a queue: `createQueue(config)` or `createQueue(name, config)`. A preset of
   * seed 003 §5.1 applies when `config.type` names one or the queue has a preset's name.
   * The configuration is recorded in Redis (getAllQueues in every process sees it); creating
   * a name this coordinator created already is a QueueExistsError. With `cleanup.enabled`,
   * old finished jobs are removed periodically.
   */
  async createQueue(nameOrConfig, maybeConfig) {
    const given = typeof nameOrConfig === 'string' ? { ...maybeConfig, name: nameOrConfig } : nameOrConfig;
    if (!given || typeof given !== 'object') throw new ValidationError('config', 'must be an object');
    checkQueueName(given.name);
    const config = withPreset(given);
    const cleanup = config.cleanup?.enabled ? checkCleanup(config.cleanup) : undefined;
    const native = await this._engine();
    const queue = this._declareQueue(config);
    await call(native.registerQueue(config.name, JSON.stringify(config)));
    if (cleanup) {
      this._cleanups.set(
        config.name,
        await native.startCleanup(config.name, {
          intervalMs: cleanup.interval,
          completedAgeMs: cleanup.completedJobAge,
          keepCompleted: cleanup.removeOnComplete,
          failedAgeMs: cleanup.failedJobAge,
          keepFailed: cleanup.removeOnFail,
        }),
      );
    }
    return queue;
  },

  /** Every queue of the key prefix, from Redis: declared ones with their config, and queues
   * in use without a declaration (for example BullMQ's), by name. */
  async getAllQueues() {
    const native = await this._engine();
    const list = JSON.parse(await call(native.queues()));
    return new Map(list.map(([name, config]) => [name, { name, config: config ? JSON.parse(config) : null }]));
  },

  /**
   * Deletes the queue and every key it has, after closing this coordinator's workers on it.
   * Refused while jobs are active (workers elsewhere may run them) unless `force`.
   */
  async destroyQueue(name, { force = false } = {}) {
    checkQueueName(name);
    const native = await this._engine();
    for (const w of this.getWorkers(name)) await this.unregisterWorker(w.id);
    this._cleanups.get(name)?.stop();
    this._cleanups.delete(name);
    await call(native.obliterate(name, force));
    this._forgetQueue(name);
  },

  /** Pauses the queue for every worker in every process, BullMQ's included. */
  async pauseQueue(name) {
    checkQueueName(name);
    const native = await this._engine();
    if (await call(native.pauseQueue(name))) this._emitLocal('paused', { queueName: name });
  },

  async resumeQueue(name) {
    checkQueueName(name);
    const native = await this._engine();
    if (await call(native.resumeQueue(name))) this._emitLocal('resumed', { queueName: name });
  },

  /** Closes one of this coordinator's workers (its running jobs finish first). */
  async unregisterWorker(workerId, { timeoutMs = 30000 } = {}) {
    const worker = this._workers.get(workerId);
    if (!worker) {
      const remote = await this._registryEntry(workerId);
      if (remote) {
        throw new ValidationError('workerId', `worker ${workerId} runs in process ${remote.pid} on ${remote.host}; close it there, or pauseWorker it`);
      }
      throw new WorkerNotFoundError(workerId);
    }
    this._pools.forget(worker);
    await worker.close(timeoutMs);
  },

  /**
   * `{id, queueName, status, processedJobs, failedJobs, uptime, lastActivity, registeredAt,
   * ...}` of a worker in any process; status is active, paused, error, or stale (its
   * process stopped sending heartbeats).
   */
  async getWorkerStatus(workerId) {
    const local = this._workers.get(workerId);
    if (local) {
      const s = local.stats();
      return {
        id: workerId,
        queueName: local.queueName,
        status: local.state,
        processedJobs: s.completed,
        failedJobs: s.failed,
        registeredAt: local.registeredAt,
        uptime: s.uptimeMs,
        lastActivity: s.lastActivityMs ? new Date(s.lastActivityMs) : null,
        pid: process.pid,
      };
    }
    const remote = await this._registryEntry(workerId);
    if (!remote) throw new WorkerNotFoundError(workerId);
    return fromRegistry(remote);
  },

  /** Workers of every process (from the registry in Redis), optionally of one queue. */
  async getAllWorkers(queueName) {
    const native = await this._engine();
    const list = JSON.parse(await call(native.workers()));
    return list.filter((w) => !queueName || w.queue === queueName).map(fromRegistry);
  },

  /** Pauses a worker of this or any other process (there, at its next heartbeat, ≤ 2 s). */
  async pauseWorker(workerId) {
    await this._setWorkerPaused(workerId, true);
  },

  async resumeWorker(workerId) {
    await this._setWorkerPaused(workerId, false);
  },

  async _setWorkerPaused(workerId, paused) {
    const local = this._workers.get(workerId);
    if (local) {
      if (paused) local.pause();
      else local.resume();
      return;
    }
    const native = await this._engine();
    if (!(await call(native.requestWorkerPause(String(workerId), paused)))) throw new WorkerNotFoundError(workerId);
  },

  async _registryEntry(workerId) {
    const native = await this._engine();
    return JSON.parse(await call(native.workers())).find((w) => w.id === workerId);
  },

  /** Creates a pool of `initialWorkers` workers running `processor`, bounded by min/max. */
  async createWorkerPool(queueName, config) {
    checkQueueName(queueName);
    return this._pools.create(queueName, config);
  },

  /** Scales a pool to `targetWorkers` (clamped to its bounds): a ScalingResult. */
  async scaleWorkerPool(queueName, targetWorkers) {
    return this._pools.scale(queueName, targetWorkers);
  },

  /**
   * Scales the queue's workers in this process to `targetCount`: its pool if it has one,
   * else more workers like the first one registered (or fewer). A ScalingResult.
   */
  async scaleWorkers(queueName, targetCount) {
    checkQueueName(queueName);
    if (this._pools.has(queueName)) return this._pools.scale(queueName, targetCount);
    nonNegativeInt(targetCount, 'targetCount');
    const workers = this.getWorkers(queueName);
    const previousCount = workers.length;
    if (targetCount > previousCount && previousCount === 0) {
      throw new ValidationError('queueName', `no worker on ${queueName} to copy; registerWorker or createWorkerPool first`);
    }
    const model = workers[0];
    for (let n = previousCount; n < targetCount; n++) await this.registerWorker(queueName, model._processor, model._options);
    for (const w of workers.slice(targetCount)) await w.close();
    const actualCount = this.getWorkers(queueName).length;
    const action = actualCount > previousCount ? 'scaled_up' : actualCount < previousCount ? 'scaled_down' : 'no_change';
    return { queueName, previousCount, targetCount, actualCount, action };
  },

  async enableAutoScaling(queueName, policy) {
    this._pools.enableAutoScaling(queueName, policy);
  },

  async disableAutoScaling(queueName) {
    this._pools.disableAutoScaling(queueName);
  },

  getWorkerPool(queueName) {
    return this._pools.describe(queueName);
  },

  getAllWorkerPools() {
    return this._pools.all();
  },

  /**
   * Wires SIGTERM and SIGINT to a graceful shutdown: stop fetching, let running jobs finish
   * for up to `timeoutMs`, give the rest back to the queue, close connections, then exit
   * with code 0 (or `exitCode`). Returns a function that removes the handlers.
   */
  installSignalHandlers({ timeoutMs = 30000, signals = ['SIGTERM', 'SIGINT'], exit = true, exitCode = 0 } = {}) {
    let stopping = false;
    const handler = async (signal) => {
      if (stopping) return;
      stopping = true;
      this.logger.info('shutting down', { signal, timeoutMs });
      let code = exitCode;
      try {
        await this.shutdown({ timeoutMs });
      } catch (err) {
        this.logger.error('shutdown failed', { error: err.message });
        code = 1;
      }
      if (exit) process.exit(code);
    };
    for (const s of signals) process.on(s, handler);
    return () => {
      for (const s of signals) process.removeListener(s, handler);
    };
  },
};
