'use strict';
// The design's QueueManager: declares queues (with the design's presets and periodic
// cleanup), pauses and resumes them, reports their status, and keeps the registry of queues
// this process knows. Queue state (paused, declared configs) lives in Redis, so every process
// sees and acts on the same queues.

const { ValidationError, QueueNotFoundError, QueueExistsError } = require('../errors');
const { call, checkQueueName, serialiseOptions, keepBadNumbers } = require('../input');

/** The design's queue-type presets, usable by name in createQueue (`type`, or the queue's
 * own name). `defaultOptions` is BullMQ's QueueOptions shape, as the design has it. */
const QUEUE_TYPES = {
  'photo-processing': {
    name: 'photo-processing',
    displayName: 'Photo Processing',
    description: 'Main queue for photo processing operations',
    defaultOptions: {
      defaultJobOptions: {
        attempts: 3,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: 100,
        removeOnFail: 50,
      },
      settings: { stalledInterval: 30000, retryProcessDelay: 5000, maxStalledCount: 1 },
    },
    jobTypes: ['process-photo', 'generate-thumbnails', 'extract-metadata'],
    scaling: { minWorkers: 2, maxWorkers: 10, scalingThreshold: 50 },
  },
  'batch-processing': {
    name: 'batch-processing',
    displayName: 'Batch Processing',
    description: 'Queue for batch operations on multiple photos',
    defaultOptions: {
      defaultJobOptions: {
        attempts: 2,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: 20,
        removeOnFail: 20,
      },
      settings: { stalledInterval: 60000, retryProcessDelay: 10000, maxStalledCount: 1 },
    },
    jobTypes: ['batch-process', 'batch-cleanup'],
    scaling: { minWorkers: 1, maxWorkers: 3, scalingThreshold: 10 },
  },
  maintenance: {
    name: 'maintenance',
    displayName: 'System Maintenance',
    description: 'Queue for system maintenance and cleanup tasks',
    defaultOptions: {
      defaultJobOptions: {
        attempts: 1,
        backoff: { type: 'fixed', delay: 60000 },
        removeOnComplete: 10,
        removeOnFail: 10,
      },
      settings: { stalledInterval: 120000, retryProcessDelay: 30000, maxStalledCount: 1 },
    },
    jobTypes: ['cleanup-orphans', 'consistency-check', 'metrics-aggregation'],
    scaling: { minWorkers: 1, maxWorkers: 2, scalingThreshold: 5 },
  },
};

/** The design's cleanup defaults. */
const CLEANUP_DEFAULTS = {
  removeOnComplete: 100,
  removeOnFail: 50,
  completedJobAge: 24 * 3600_000,
  failedJobAge: 7 * 24 * 3600_000,
  interval: 3600_000,
};

/** How long a background refresh of the queue list (getAllQueues) is considered fresh. */
const REFRESH_AFTER_MS = 5_000;

/** A queue config with its preset (config.type, or the queue's own name) under it. */
function withPreset(config) {
  const presetName = config.type ?? (QUEUE_TYPES[config.name] ? config.name : undefined);
  if (presetName === undefined) return config;
  const preset = QUEUE_TYPES[presetName];
  if (!preset) {
    throw new ValidationError('type', `unknown queue type ${presetName} (known: ${Object.keys(QUEUE_TYPES).join(', ')})`);
  }
  const { defaultJobOptions, settings } = preset.defaultOptions;
  return {
    ...settings,
    ...config,
    defaultJobOptions: { ...defaultJobOptions, ...config.defaultJobOptions },
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

class QueueManagerImpl {
  /**
   * `queueFor(name, config)` makes the object getQueue returns for a queue;
   * `health(name)` is the health checker's verdict, which getQueueStatus carries;
   * `closeWorkers(name)` closes this process's workers of a queue about to be destroyed.
   */
  constructor(ctx, { queueFor, health, closeWorkers }) {
    this._ctx = ctx;
    this._queueFor = queueFor;
    this._health = health;
    this._closeWorkers = closeWorkers;
    this._declared = new Map(); // name -> QueueConfig given to createQueue
    this._known = new Set(); // every queue this coordinator used or saw in Redis
    this._objects = new Map(); // name -> the queue object of getQueue / getAllQueues
    this._defaultsText = new Map(); // name -> JSON of its job option layers
    this._cleanups = new Map(); // name -> NativeCleanup of createQueue's cleanup option
    this._refreshing = null;
    this._refreshedAt = 0;
  }

  /**
   * Declares a queue: `createQueue(config)` or `createQueue(name, config)` (the config may
   * carry `name` too; the first argument wins). A preset applies when `config.type` names
   * one or the queue has a preset's name. The configuration is recorded in Redis, so every
   * process's getAllQueues sees it; creating a name this coordinator created already is a
   * QueueExistsError. With `cleanup.enabled`, old finished jobs are removed periodically.
   * `schema` (a JSON Schema for every job's data) and `jobSchemas` (by job name) are checked
   * at every enqueue through this coordinator; one that does not compile is a
   * ValidationError and nothing is written. Audited as `create`.
   */
  async createQueue(nameOrConfig, maybeConfig) {
    const given = typeof nameOrConfig === 'string' ? { ...maybeConfig, name: nameOrConfig } : nameOrConfig;
    if (!given || typeof given !== 'object') throw new ValidationError('config', 'must be an object');
    checkQueueName(given.name);
    const config = withPreset(given);
    const cleanup = config.cleanup?.enabled ? checkCleanup(config.cleanup) : undefined;
    serialiseOptions(config.defaultJobOptions, 'defaultJobOptions');
    if (this._declared.has(config.name)) throw new QueueExistsError(config.name);
    // a schema that does not compile is refused before anything is written
    const enableSchemas = this._ctx.security?.compileSchemas(config.name, config);
    return this._ctx.audited('create', { queue: config.name }, () => this._create(config, cleanup, enableSchemas));
  }

  async _create(config, cleanup, enableSchemas) {
    const native = await this._ctx.engine();
    if (this._declared.has(config.name)) throw new QueueExistsError(config.name);
    enableSchemas?.();
    this._declared.set(config.name, { ...config });
    this._objects.delete(config.name);
    this.markKnown(config.name);
    this._defaultsText.delete(config.name);
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
    this._ctx.logger.info('queue created', { queue: config.name });
    return this.getQueue(config.name);
  }

  /** The queue object of a queue this coordinator declared or has seen, or null. */
  getQueue(name) {
    if (!this._known.has(name)) return null;
    let queue = this._objects.get(name);
    if (!queue) {
      queue = this._queueFor(name, this._declared.get(name) ?? null);
      this._objects.set(name, queue);
    }
    return queue;
  }

  /**
   * Every queue known to this process, at once (the design's synchronous form): declared
   * and used here, plus every queue of the key prefix found in Redis by the last refresh. A
   * refresh starts in the background when the list is older than a few seconds; await
   * `refreshQueues()` for the cross-process view now.
   */
  getAllQueues() {
    if (Date.now() - this._refreshedAt > REFRESH_AFTER_MS) {
      this.refreshQueues().catch((err) => this._ctx.logger.debug('queue list refresh failed', { error: err.message }));
    }
    return this._snapshot();
  }

  /** Reads every queue of the key prefix from Redis (declared ones and queues merely in use,
   * BullMQ's included), and resolves to the same Map getAllQueues gives. */
  refreshQueues() {
    if (!this._refreshing) {
      this._refreshing = (async () => {
        try {
          const native = await this._ctx.engine();
          const list = await call(native.queues());
          for (const { name, config } of list) {
            this.markKnown(name);
            if (config && !this._declared.has(name) && !this._objects.has(name)) {
              this._objects.set(name, this._queueFor(name, JSON.parse(config)));
            }
          }
          this._refreshedAt = Date.now();
          return this._snapshot();
        } finally {
          this._refreshing = null;
        }
      })();
    }
    return this._refreshing;
  }

  _snapshot() {
    return new Map([...this._known].sort().map((name) => [name, this.getQueue(name)]));
  }

  /** Names of the queues getAllQueues lists, at once (the design's synchronous repository
   * call); await `refreshQueues()` first for the cross-process view now. */
  getQueueNames() {
    return [...this.getAllQueues().keys()];
  }

  /** Names of every queue of the key prefix, read from Redis now. */
  async queueNamesInRedis() {
    return [...(await this.refreshQueues()).keys()];
  }

  /**
   * Deletes the queue and every key it has, after closing this coordinator's workers on it.
   * Refused while jobs are active (workers
   * elsewhere may run them) unless `force`.
   */
  async destroyQueue(name, { force = false } = {}) {
    checkQueueName(name);
    return this._ctx.audited('destroy', { queue: name }, () => this._destroy(name, force), () => ({ force }));
  }

  async _destroy(name, force) {
    const native = await this._ctx.engine();
    await this._closeWorkers(name);
    this._cleanups.get(name)?.stop();
    this._cleanups.delete(name);
    await call(native.obliterate(name, force));
    this._declared.delete(name);
    this._ctx.security?.forgetSchemas(name);
    this._known.delete(name);
    const queue = this._objects.get(name);
    this._objects.delete(name);
    this._defaultsText.delete(name);
    await queue?.close?.();
  }

  /** Pauses the queue for every worker in every process, BullMQ's included. */
  async pauseQueue(name) {
    checkQueueName(name);
    await this._ctx.audited('pause', { queue: name }, async () => {
      const native = await this._ctx.engine();
      const changed = await call(native.pauseQueue(name));
      if (changed) this._ctx.emit('paused', { queueName: name });
      return changed;
    }, (changed) => (changed ? {} : null));
  }

  async resumeQueue(name) {
    checkQueueName(name);
    await this._ctx.audited('resume', { queue: name }, async () => {
      const native = await this._ctx.engine();
      const changed = await call(native.resumeQueue(name));
      if (changed) this._ctx.emit('resumed', { queueName: name });
      return changed;
    }, (changed) => (changed ? {} : null));
  }

  /**
   * `{name, isPaused, jobCounts, counts, workers, processingRate, averageProcessingTime,
   * health}`: workers connected from any process; rate in jobs/s over the last minute and
   * mean processing time in ms, both measured from finished jobs; `health` is the health
   * checker's verdict, whose `metrics` carry errorRate, throughput and averageProcessingTime.
   */
  async getQueueStatus(queueName) {
    const native = await this._ctx.engine();
    await this.requireQueue(native, queueName);
    const [c, isPaused, workers, stats, health] = await Promise.all([
      call(native.counts(queueName)),
      call(native.isPaused(queueName)),
      call(native.workerCount(queueName)),
      call(native.processingStats(queueName)),
      this._health(queueName),
    ]);
    // jobCounts: BullMQ's getJobCounts, list by list (prioritized jobs apart from waiting);
    // counts: the design's backlog view (its `status.counts.waiting > 1000` check), where
    // waiting is every job ready to run, prioritized ones included
    const jobCounts = {
      waiting: c.waiting,
      active: c.active,
      completed: c.completed,
      failed: c.failed,
      delayed: c.delayed,
      prioritized: c.prioritized,
    };
    const counts = { ...jobCounts, waiting: c.waiting + c.prioritized };
    return {
      name: queueName,
      isPaused,
      jobCounts,
      counts,
      workers,
      processingRate: stats.processingRate,
      averageProcessingTime: stats.averageProcessingTime,
      health,
    };
  }

  /** Throws QueueNotFoundError unless the queue was used here or has any trace in Redis. */
  async requireQueue(native, queueName) {
    checkQueueName(queueName);
    if (this._known.has(queueName)) return;
    const counts = await call(native.counts(queueName));
    const any = Object.values(counts).some((n) => n > 0);
    if (!any && !(await call(native.isPaused(queueName)))) throw new QueueNotFoundError(queueName);
    this.markKnown(queueName);
  }

  /** Records that this process used the queue (it then shows in getAllQueues). */
  markKnown(name) {
    this._known.add(name);
  }

  isKnown(name) {
    return this._known.has(name);
  }

  /** The config given to createQueue for the queue, or undefined. */
  declaredConfig(name) {
    return this._declared.get(name);
  }

  /** Names of the queues this coordinator declared. */
  declaredNames() {
    return [...this._declared.keys()];
  }

  /** JSON of the job option layers of the queue (the coordinator's, then the queue's). */
  defaultsText(queueName) {
    let text = this._defaultsText.get(queueName);
    if (text === undefined) {
      const layers = [this._ctx.config.defaultJobOptions];
      const q = this._declared.get(queueName);
      if (q && q.defaultJobOptions) layers.push(q.defaultJobOptions);
      text = JSON.stringify(layers, keepBadNumbers);
      this._defaultsText.set(queueName, text);
    }
    return text;
  }

  /** Stops the periodic cleanups and closes the queue objects handed out. */
  async close() {
    for (const cleanup of this._cleanups.values()) cleanup.stop();
    this._cleanups.clear();
    const objects = [...this._objects.values()];
    this._objects.clear();
    await Promise.all(objects.map((q) => q?.close?.()));
  }
}

module.exports = { QueueManagerImpl, QUEUE_TYPES };
