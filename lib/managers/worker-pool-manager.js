'use strict';
// The design's WorkerPoolManager: pools of a queue's workers in this process, scaled by hand
// or by an auto-scaling policy driven by the queue's real depth and processing rate, read
// from Redis, with one of the design's scaling patterns (scaling-patterns.js). With
// `performance.autoScaling.enabled` it also scales, every `checkInterval`, the workers of
// every queue this coordinator runs workers for (see startAutoScaling).

const { ValidationError } = require('../errors');
const { checkQueueName, positiveInt, nonNegativeInt } = require('../input');
const { wantedWorkers, checkPattern, PATTERN_DEFAULTS } = require('./scaling-patterns');
const { Periodic, fromEnv } = require('./periodic');

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
 * How many workers the queue wants by the reactive pattern: enough to drain `waiting` within
 * `targetProcessingTime` at the rate each worker achieves now, times `scalingFactor`; with
 * nothing waiting, 70% of the current count (the design's gradual scale-down).
 */
function recommendedWorkers({ waiting, processingRate, workers }, policy) {
  const m = { jobCounts: { waiting, prioritized: 0 }, processingRate };
  return wantedWorkers(m, workers, { ...POLICY_DEFAULTS, ...PATTERN_DEFAULTS, ...policy, pattern: 'reactive' }).workers;
}

/** Bounds of a queue scaled without a pool when its type sets none. */
const UNPOOLED_MIN = 1;
const UNPOOLED_MAX = 10;

class WorkerPoolManagerImpl {
  /** `register(queueName, processor, options)` and `unregister(worker)` manage one worker;
   * `metrics(queueName)` reads the queue's metrics (engineQueueMetrics); `workers` is the
   * worker manager and `bounds(queueName)` the `{minWorkers, maxWorkers}` of the queue's
   * type, if any (for queues scaled without a pool); `registry` the application metrics. */
  constructor(ctx, { register, unregister, metrics, workers, bounds, registry }) {
    this._registry = registry; // application metrics: the design's worker_scaling_events
    this._register = register;
    this._unregister = unregister;
    this._metrics = metrics;
    this._workers = workers;
    this._bounds = bounds;
    this._logger = ctx.logger;
    this._ctx = ctx;
    // the coordinator's performance.autoScaling settings are the defaults of every policy
    // (the design's environment variables stand in for fields the config leaves out)
    const given = ctx.config.performance?.autoScaling ?? {};
    if (given === null || typeof given !== 'object') throw new ValidationError('performance.autoScaling', 'must be an object');
    const a = {
      ...given,
      enabled: given.enabled ?? fromEnv('ENABLE_AUTO_SCALING', 'boolean'),
      checkInterval: given.checkInterval ?? fromEnv('AUTO_SCALING_CHECK_INTERVAL'),
      cooldownPeriod: given.cooldownPeriod ?? fromEnv('SCALING_COOLDOWN_PERIOD'),
    };
    if (a.enabled !== undefined && typeof a.enabled !== 'boolean') throw new ValidationError('performance.autoScaling.enabled', 'must be a boolean');
    this._policyDefaults = {
      ...POLICY_DEFAULTS,
      ...PATTERN_DEFAULTS,
      ...(a.checkInterval !== undefined ? { checkInterval: a.checkInterval } : {}),
      ...(a.cooldownPeriod !== undefined ? { scaleUpCooldown: a.cooldownPeriod, scaleDownCooldown: a.cooldownPeriod } : {}),
      ...(a.pattern !== undefined ? { pattern: a.pattern } : {}),
      ...(a.schedule !== undefined ? { schedule: a.schedule } : {}),
    };
    this._pools = new Map(); // queue -> pool state
    this._unpooled = new Map(); // queue -> {lastScaleUp, lastScaleDown, maxWorkers} for coordinator-wide scaling
    this._global = null;
    if (a.enabled) {
      const policy = this._checkPolicy({});
      this._globalPolicy = policy;
      this._global = new Periodic(policy.checkInterval, () => this._autoScaleAll(), (err) => this._logger.error('auto-scaling check failed', { error: err.message }));
    }
  }

  /** Starts the coordinator-wide auto-scaling when `performance.autoScaling.enabled`. */
  start() {
    this._global?.start();
  }

  /** Stops the coordinator-wide auto-scaling (and waits for a check in progress). */
  async stop() {
    await this._global?.stop();
  }

  /**
   * One coordinator-wide round (`performance.autoScaling.enabled`), with the default policy
   * (`cooldownPeriod` as both cooldowns, `pattern` reactive unless set):
   * - every pool without a policy of its own scales within its min/max;
   * - every queue with workers registered in this process but no pool scales between its
   *   queue type's `scaling.minWorkers`/`maxWorkers` (QUEUE_TYPES, by the type the queue was
   *   created with), else between 1 and 10 (or the count it had when first seen, if more);
   *   new workers copy the first one registered (scaleWorkers).
   */
  async _autoScaleAll() {
    const policy = this._globalPolicy;
    for (const pool of this._pools.values()) {
      if (pool.policy === null) await this._autoScale(pool, policy);
    }
    const queues = new Set(this._workers.getWorkers().map((w) => w.queueName));
    for (const queueName of queues) {
      if (this._pools.has(queueName)) continue;
      let state = this._unpooled.get(queueName);
      if (!state) {
        const count = this._workers.getWorkersByQueue(queueName).length;
        const b = this._bounds(queueName);
        state = {
          minWorkers: b?.minWorkers ?? UNPOOLED_MIN,
          maxWorkers: b?.maxWorkers ?? Math.max(UNPOOLED_MAX, count),
          lastScaleUp: 0,
          lastScaleDown: 0,
        };
        this._unpooled.set(queueName, state);
      }
      const current = this._workers.getWorkersByQueue(queueName).length;
      const target = await this._decide(queueName, current, state, policy);
      if (target === null) continue;
      const result = await this._workers.scaleWorkers(queueName, target.count);
      this._logger.info('workers auto-scaled', { queue: queueName, from: result.previousCount, to: result.actualCount, reason: target.reason, detail: target.detail });
      this._ctx.emit('scaled', { queueName, previousCount: result.previousCount, actualCount: result.actualCount, reason: target.reason, detail: target.detail });
      if (result.actualCount !== result.previousCount) {
        this._registry?.recordHistogram('worker_scaling_events', result.actualCount - result.previousCount, { queue: queueName });
      }
    }
    for (const q of this._unpooled.keys()) if (!queues.has(q)) this._unpooled.delete(q);
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

  /** The auto-scaling policy of the queue's pool, or null. */
  policyOf(queueName) {
    return this._pools.get(queueName)?.policy ?? null;
  }

  /** The default policy (the design's defaults under the coordinator's performance.autoScaling). */
  defaultPolicy() {
    return { ...this._policyDefaults };
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

  async _resize(pool, target, reason = 'initial', detail = undefined) {
    if (reason === 'initial') return this._resizeNow(pool, target, reason, detail);
    return this._ctx.audited('scale', { queue: pool.queueName }, () => this._resizeNow(pool, target, reason, detail), (r) =>
      r.actualCount === r.previousCount
        ? null
        : { from: r.previousCount, to: r.actualCount, target: r.targetCount, reason, ...(detail ? { detail } : {}) },
    );
  }

  async _resizeNow(pool, target, reason, detail) {
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
      pool.history.push({ at: pool.lastScalingEvent, from: previousCount, to: actualCount, reason, ...(detail ? { detail } : {}) });
      this._logger.info('worker pool scaled', { queue: pool.queueName, from: previousCount, to: actualCount, reason, detail });
      this._ctx.emit('scaled', { queueName: pool.queueName, previousCount, actualCount, reason, detail });
      this._registry?.recordHistogram('worker_scaling_events', actualCount - previousCount, { queue: pool.queueName });
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

  /** The policy merged over the defaults, checked. */
  _checkPolicy(policy) {
    if (policy === null || typeof policy !== 'object') throw new ValidationError('policy', 'must be an AutoScalingPolicy object');
    const p = { ...this._policyDefaults, ...policy };
    for (const f of ['targetProcessingTime', 'scalingFactor', 'checkInterval']) {
      if (!(typeof p[f] === 'number' && p[f] > 0)) throw new ValidationError(f, 'must be a positive number');
    }
    for (const f of ['scaleUpCooldown', 'scaleDownCooldown', 'maxScaleUpStep', 'maxScaleDownStep']) {
      if (!(typeof p[f] === 'number' && p[f] >= 0)) throw new ValidationError(f, 'must be a non-negative number');
    }
    return checkPattern(p);
  }

  _startAutoScaling(queueName, policy = {}) {
    const pool = this._pool(queueName);
    const p = this._checkPolicy(policy);
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

  /**
   * The count to scale to, within the bounds of `state` ({minWorkers, maxWorkers,
   * lastScaleUp, lastScaleDown}), the policy's steps and cooldowns; null for no change.
   */
  async _decide(queueName, current, state, p) {
    const m = await this._metrics(queueName);
    const want = wantedWorkers(m, current, p);
    const now = Date.now();
    let target = current;
    if (want.workers > current && now - state.lastScaleUp >= p.scaleUpCooldown) {
      target = Math.min(want.workers, current + p.maxScaleUpStep);
    } else if (want.workers < current && now - state.lastScaleDown >= p.scaleDownCooldown) {
      target = Math.max(want.workers, current - p.maxScaleDownStep);
    }
    target = Math.max(state.minWorkers, Math.min(state.maxWorkers, target));
    if (target === current) return null;
    if (target > current) state.lastScaleUp = now;
    else state.lastScaleDown = now;
    return { count: target, reason: 'auto', detail: `${p.pattern}: ${want.reason}` };
  }

  /** One auto-scaling decision for a pool, by its own policy or `policy`. */
  async _autoScale(pool, policy = pool.policy) {
    const p = policy;
    const own = p === pool.policy;
    const target = await this._decide(pool.queueName, pool.workers.length, pool, p);
    // the pool's policy changed meanwhile: its own timer decides
    if (target === null || (own ? pool.policy !== p : pool.policy !== null)) return;
    await this._resize(pool, target.count, target.reason, target.detail);
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
