'use strict';
// Worker pools (seed 003 §6.1): a queue's workers in this process, scaled by hand or by an
// auto-scaling policy driven by the queue's real depth and processing rate, read from Redis.

const { ValidationError } = require('./errors');
const { positiveInt, nonNegativeInt } = require('./input');

/** The design's AutoScalingPolicy defaults. */
const POLICY_DEFAULTS = {
  targetProcessingTime: 60_000,
  scalingFactor: 1.2,
  scaleUpCooldown: 300_000,
  scaleDownCooldown: 300_000,
  maxScaleUpStep: Infinity,
  maxScaleDownStep: Infinity,
  checkInterval: 30_000,
};

/**
 * How many workers the queue wants: enough to drain `waiting` within
 * `targetProcessingTime` at the rate each worker achieves now, times `scalingFactor`; with
 * nothing waiting, 70% of the current count (the design's gradual scale-down).
 */
function recommendedWorkers({ waiting, processingRate, workers }, policy) {
  if (waiting === 0) return Math.floor(workers * 0.7);
  // jobs/s per worker now; before any job finished, assume one job per second per worker
  const perWorker = workers > 0 && processingRate > 0 ? processingRate / workers : 1;
  const required = Math.ceil(waiting / (perWorker * (policy.targetProcessingTime / 1000)));
  return Math.ceil(required * policy.scalingFactor);
}

class WorkerPools {
  /** `register(queueName, processor, options)` and `unregister(worker)` manage one worker;
   * `status(queueName)` reads the queue's counts and rate. */
  constructor({ register, unregister, status, logger }) {
    this._register = register;
    this._unregister = unregister;
    this._status = status;
    this._logger = logger;
    this._pools = new Map(); // queue -> pool state
  }

  async create(queueName, config = {}) {
    if (this._pools.has(queueName)) throw new ValidationError('queueName', `a worker pool for ${queueName} exists already`);
    if (typeof config.processor !== 'function') throw new ValidationError('processor', 'must be a function');
    const minWorkers = nonNegativeInt(config.minWorkers ?? 1, 'minWorkers');
    const maxWorkers = positiveInt(config.maxWorkers ?? Math.max(minWorkers, 1), 'maxWorkers');
    if (maxWorkers < minWorkers) throw new ValidationError('maxWorkers', 'must be ≥ minWorkers');
    const initialWorkers = nonNegativeInt(config.initialWorkers ?? minWorkers, 'initialWorkers');
    if (initialWorkers < minWorkers || initialWorkers > maxWorkers) {
      throw new ValidationError('initialWorkers', `must be between minWorkers (${minWorkers}) and maxWorkers (${maxWorkers})`);
    }
    const pool = {
      queueName,
      minWorkers,
      maxWorkers,
      processor: config.processor,
      workerOptions: config.workerOptions || {},
      workers: [],
      targetWorkers: initialWorkers,
      policy: null,
      timer: null,
      lastScaleUp: 0,
      lastScaleDown: 0,
      lastScalingEvent: undefined,
      history: [],
    };
    this._pools.set(queueName, pool);
    await this._resize(pool, initialWorkers);
    return this.describe(queueName);
  }

  /** The design's WorkerPool view of a pool, or null. */
  describe(queueName) {
    const p = this._pools.get(queueName);
    if (!p) return null;
    return {
      queueName,
      minWorkers: p.minWorkers,
      maxWorkers: p.maxWorkers,
      currentWorkers: p.workers.length,
      targetWorkers: p.targetWorkers,
      autoScaling: p.policy !== null,
      lastScalingEvent: p.lastScalingEvent,
      workerIds: p.workers.map((w) => w.id),
      /** Every scaling this pool did: `{at, from, to, reason}`. */
      history: [...p.history],
    };
  }

  all() {
    return new Map([...this._pools.keys()].map((q) => [q, this.describe(q)]));
  }

  has(queueName) {
    return this._pools.has(queueName);
  }

  _pool(queueName) {
    const pool = this._pools.get(queueName);
    if (!pool) throw new ValidationError('queueName', `no worker pool for ${queueName}`);
    return pool;
  }

  /** Scales to `target`, clamped to the pool's bounds; resolves to a ScalingResult. */
  scale(queueName, target, reason = 'manual') {
    const pool = this._pool(queueName);
    nonNegativeInt(target, 'targetWorkers');
    return this._resize(pool, Math.max(pool.minWorkers, Math.min(pool.maxWorkers, target)), reason);
  }

  async _resize(pool, target, reason = 'initial') {
    const previousCount = pool.workers.length;
    pool.targetWorkers = target;
    while (pool.workers.length < target) {
      pool.workers.push(await this._register(pool.queueName, pool.processor, pool.workerOptions));
    }
    while (pool.workers.length > target) {
      await this._unregister(pool.workers.pop());
    }
    const actualCount = pool.workers.length;
    if (actualCount !== previousCount) {
      pool.lastScalingEvent = new Date();
      pool.history.push({ at: pool.lastScalingEvent, from: previousCount, to: actualCount, reason });
      this._logger.info('worker pool scaled', { queue: pool.queueName, from: previousCount, to: actualCount, reason });
    }
    const action = actualCount > previousCount ? 'scaled_up' : actualCount < previousCount ? 'scaled_down' : 'no_change';
    return { queueName: pool.queueName, previousCount, targetCount: target, actualCount, action };
  }

  /** Starts checking the queue every `policy.checkInterval` ms and scaling as it says. */
  enableAutoScaling(queueName, policy = {}) {
    const pool = this._pool(queueName);
    const p = { ...POLICY_DEFAULTS, ...policy };
    for (const f of ['targetProcessingTime', 'scalingFactor', 'checkInterval']) {
      if (!(typeof p[f] === 'number' && p[f] > 0)) throw new ValidationError(f, 'must be a positive number');
    }
    for (const f of ['scaleUpCooldown', 'scaleDownCooldown', 'maxScaleUpStep', 'maxScaleDownStep']) {
      if (!(typeof p[f] === 'number' && p[f] >= 0)) throw new ValidationError(f, 'must be a non-negative number');
    }
    this.disableAutoScaling(queueName);
    pool.policy = p;
    const tick = async () => {
      try {
        await this._autoScale(pool);
      } catch (err) {
        this._logger.error('auto-scaling check failed', { queue: queueName, error: err.message });
      }
      if (pool.policy === p) {
        pool.timer = setTimeout(tick, p.checkInterval);
        pool.timer.unref();
      }
    };
    pool.timer = setTimeout(tick, p.checkInterval);
    pool.timer.unref();
  }

  disableAutoScaling(queueName) {
    const pool = this._pool(queueName);
    clearTimeout(pool.timer);
    pool.timer = null;
    pool.policy = null;
  }

  /** One auto-scaling decision, within min/max, step sizes and cooldowns. */
  async _autoScale(pool) {
    const p = pool.policy;
    const status = await this._status(pool.queueName);
    const current = pool.workers.length;
    const wanted = recommendedWorkers(
      { waiting: status.jobCounts.waiting + status.jobCounts.prioritized, processingRate: status.processingRate, workers: current },
      p,
    );
    const now = Date.now();
    let target = current;
    if (wanted > current && now - pool.lastScaleUp >= p.scaleUpCooldown) {
      target = Math.min(wanted, current + p.maxScaleUpStep);
    } else if (wanted < current && now - pool.lastScaleDown >= p.scaleDownCooldown) {
      target = Math.max(wanted, current - p.maxScaleDownStep);
    }
    target = Math.max(pool.minWorkers, Math.min(pool.maxWorkers, target));
    if (target === current || pool.policy !== p) return;
    if (target > current) pool.lastScaleUp = now;
    else pool.lastScaleDown = now;
    await this._resize(pool, target, 'auto');
  }

  /** Stops every pool's auto-scaling and forgets the pools (their workers close elsewhere). */
  clear() {
    for (const q of this._pools.keys()) this.disableAutoScaling(q);
    this._pools.clear();
  }

  /** Forgets a worker closed outside the pool (unregisterWorker, destroyQueue). */
  forget(worker) {
    for (const pool of this._pools.values()) {
      const i = pool.workers.indexOf(worker);
      if (i >= 0) pool.workers.splice(i, 1);
    }
  }
}

module.exports = { WorkerPools, recommendedWorkers, POLICY_DEFAULTS };
