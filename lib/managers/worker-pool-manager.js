'use strict';
// The design's WorkerPoolManager: pools of a queue's workers in this process, scaled by hand
// or by an auto-scaling policy driven by the queue's real depth and processing rate, read
// from Redis.

const { ValidationError } = require('../errors');
const { checkQueueName, positiveInt, nonNegativeInt } = require('../input');

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

class WorkerPoolManagerImpl {
  /** `register(queueName, processor, options)` and `unregister(worker)` manage one worker;
   * `status(queueName)` reads the queue's counts and rate. */
  constructor(ctx, { register, unregister, status }) {
    this._register = register;
    this._unregister = unregister;
    this._status = status;
    this._logger = ctx.logger;
    // the coordinator's performance.autoScaling settings are the defaults of every policy
    const a = ctx.config.performance?.autoScaling ?? {};
    this._policyDefaults = {
      ...POLICY_DEFAULTS,
      ...(a.checkInterval !== undefined ? { checkInterval: a.checkInterval } : {}),
      ...(a.cooldownPeriod !== undefined ? { scaleUpCooldown: a.cooldownPeriod, scaleDownCooldown: a.cooldownPeriod } : {}),
    };
    this._pools = new Map(); // queue -> pool state
  }

  /**
   * Creates a pool of `initialWorkers` workers running `processor`, bounded by
   * `minWorkers`/`maxWorkers`; with `autoScaling` (an AutoScalingPolicy) it scales itself.
   */
  async createWorkerPool(queueName, config = {}) {
    checkQueueName(queueName);
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
    try {
      await this._resize(pool, initialWorkers);
      if (config.autoScaling) this._startAutoScaling(queueName, config.autoScaling === true ? {} : config.autoScaling);
    } catch (err) {
      this._pools.delete(queueName);
      await Promise.all(pool.workers.map((w) => this._unregister(w)));
      throw err;
    }
    return this.getWorkerPool(queueName);
  }

  /** The design's WorkerPool view of a pool, or null. */
  getWorkerPool(queueName) {
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

  getAllWorkerPools() {
    return new Map([...this._pools.keys()].map((q) => [q, this.getWorkerPool(q)]));
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
  async scaleWorkerPool(queueName, target, reason = 'manual') {
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
  async enableAutoScaling(queueName, policy = {}) {
    this._startAutoScaling(queueName, policy);
  }

  async disableAutoScaling(queueName) {
    this._stopAutoScaling(queueName);
  }

  _startAutoScaling(queueName, policy = {}) {
    const pool = this._pool(queueName);
    const p = { ...this._policyDefaults, ...policy };
    for (const f of ['targetProcessingTime', 'scalingFactor', 'checkInterval']) {
      if (!(typeof p[f] === 'number' && p[f] > 0)) throw new ValidationError(f, 'must be a positive number');
    }
    for (const f of ['scaleUpCooldown', 'scaleDownCooldown', 'maxScaleUpStep', 'maxScaleDownStep']) {
      if (!(typeof p[f] === 'number' && p[f] >= 0)) throw new ValidationError(f, 'must be a non-negative number');
    }
    this._stopAutoScaling(queueName);
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

  _stopAutoScaling(queueName) {
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
    for (const q of this._pools.keys()) this._stopAutoScaling(q);
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

module.exports = { WorkerPoolManagerImpl, recommendedWorkers, POLICY_DEFAULTS };
