'use strict';
// The design's WorkerManager: starts workers on queues, tracks this process's workers, and
// reports, pauses and resumes workers of every process through the registry in Redis.

const { Worker } = require('../worker');
const { ValidationError, WorkerNotFoundError, SecurityError, AuthorizationError, RateLimitError, DelayedError } = require('../errors');
const { checkClientId } = require('./access-control');
const { call, checkQueueName, nonNegativeInt, numberOption, jsonOption, checkWorkerConfig } = require('../input');
const { engineConfig, acquireEngine } = require('../connection');

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
    lastActivity: new Date(w.lastActivity || w.startedAt),
    lastHeartbeat: new Date(w.lastHeartbeat),
    concurrency: w.concurrency,
    pid: w.pid,
    host: w.host,
  };
}

/** A worker's state as the design's WorkerStatus names it: a closed worker is `stale`. */
const designStatus = (state) => (state === 'closed' ? 'stale' : state);

/**
 * The design's ManagedWorker: a worker of this process with what it was registered with.
 * `status`, `lastActivity`, `processedJobs` and `failedJobs` are read live.
 */
class ManagedWorker {
  constructor(worker, processor, options) {
    this.worker = worker;
    this.processor = processor;
    this.options = options;
  }

  get id() {
    return this.worker.id;
  }

  get queueName() {
    return this.worker.queueName;
  }

  get registeredAt() {
    return this.worker.registeredAt;
  }

  /** One of the design's states: `active`, `paused`, `error` (its last round trip to Redis
   * failed) or `stale` (closed: it takes no more jobs). */
  get status() {
    return designStatus(this.worker.state);
  }

  /** When it last finished a job (its registration until it has). */
  get lastActivity() {
    const ms = this.worker.stats().lastActivityMs;
    return ms ? new Date(ms) : this.worker.registeredAt;
  }

  get processedJobs() {
    return this.worker.stats().completed;
  }

  get failedJobs() {
    return this.worker.stats().failed;
  }

  toJSON() {
    const { id, queueName, options, status, registeredAt, lastActivity, processedJobs, failedJobs } = this;
    return { id, queueName, options, status, registeredAt, lastActivity, processedJobs, failedJobs };
  }
}

class WorkerManagerImpl {
  /**
   * `queues` is the queue manager (declared configs, known queues); `retry` the retry
   * handler (error names that are not retried); `failures(queueName, jobName, jobId, error,
   * retrying)` is told of every failed attempt (the failure-pattern watch, dead letters);
   * `security` the security manager (checks before every attempt), `access` the access
   * control (a worker's permission to run a queue's jobs).
   */
  constructor(ctx, { queues, retry, failures, security, access }) {
    this._ctx = ctx;
    this._queues = queues;
    this._retry = retry;
    this._failures = failures;
    this._security = security;
    this._access = access;
    this._managed = new Map(); // id -> ManagedWorker
    this.onWorkerClosed = null; // set by the coordinator: forget a closed worker elsewhere
  }

  /**
   * Starts a worker, in either of the design's forms:
   * - `registerWorker(queue, processor, options?)` → the Worker;
   * - `registerWorker({ queueName, processor, ...options })` (a WorkerConfig, whose options
   *   may also sit under `options`) → the ManagedWorker.
   * `processor(job, context)` returns a promise; its value becomes the job's return value, a
   * thrown error its failure.
   */
  async registerWorker(queueOrConfig, processor, options = {}) {
    if (queueOrConfig !== null && typeof queueOrConfig === 'object') {
      const { queueName, processor: fn, options: nested, ...rest } = queueOrConfig;
      const worker = await this._start(queueName, fn, { ...rest, ...nested });
      return this._managed.get(worker.id);
    }
    return this._start(queueOrConfig, processor, options);
  }

  async _start(queueName, processor, options = {}) {
    checkQueueName(queueName);
    if (typeof processor !== 'function') {
      throw new ValidationError('processor', 'must be a function');
    }
    if (options === null || typeof options !== 'object') throw new ValidationError('options', 'must be an object');
    const identity = options.clientId === undefined ? undefined : checkClientId(options.clientId, 'clientId');
    const d = this._ctx.config.defaultWorkerOptions;
    const q = this._queues.declaredConfig(queueName) || {};
    const o = { ...options, settings: { ...d.settings, ...options.settings } };
    const limiter = o.limiter || o.rateLimiter || q.rateLimit || d.limiter;
    // the engine checks every setting (naming it as here) before anything starts
    const config = checkWorkerConfig({
      concurrency: numberOption(o.concurrency ?? q.concurrency ?? d.concurrency),
      lockDurationMs: numberOption(o.lockDuration ?? d.lockDuration),
      stalledIntervalMs: numberOption(o.stalledInterval ?? q.stalledInterval ?? o.settings.stalledInterval),
      maxStalledCount: numberOption(o.maxStalledCount ?? q.maxStalledCount ?? o.settings.maxStalledCount),
      name: o.name,
      limiterMax: limiter ? numberOption(limiter.max) : undefined,
      limiterDurationMs: limiter ? numberOption(limiter.duration) : undefined,
      drainDelayMs: numberOption(o.drainDelay),
      prefetch: o.prefetch === 'auto' ? undefined : numberOption(o.prefetch),
      prefetchAuto: o.prefetch === 'auto' || undefined,
      retryProcessDelayMs: numberOption(options.settings?.retryProcessDelay ?? q.retryProcessDelay ?? d.settings.retryProcessDelay),
      timeoutMs: numberOption(o.timeoutMs ?? o.timeout),
      retryMaxDelayMs: numberOption(o.retry?.maxDelay),
      retryJitter: numberOption(o.retry?.jitter),
      removeOnComplete: jsonOption(o.removeOnComplete),
      removeOnFail: jsonOption(o.removeOnFail),
    });
    const nonRetryable = new Set(this._retry.nonRetryableNames());
    for (const e of o.nonRetryableErrors || []) nonRetryable.add(typeof e === 'function' ? e.name : String(e));
    // a worker running as a client needs `process` permission on the queue to start at all
    if (identity !== undefined && this._access) await this._access.authorize(identity, 'process', queueName);
    const holder = { worker: null };
    const guarded = this._security ? this._guard(processor, holder) : processor;
    // A worker given its own connection runs on an engine connected there.
    let release = () => {};
    let native;
    if (o.connection !== undefined) {
      const r = this._ctx.config.redis;
      const own = await acquireEngine(engineConfig(o.connection, r.keyPrefix, { maxJobDataSize: this._ctx.config.security.maxJobDataSize }));
      native = own.native;
      release = own.release;
    } else {
      native = await this._ctx.engine();
    }
    const worker = Worker._onEngine(queueName, guarded, native, config, {
      nonRetryable,
      timeoutMs: config.timeoutMs,
      logger: this._ctx.logger,
      prefix: this._ctx.config.redis.keyPrefix,
    });
    holder.worker = worker;
    this._security?.setWorkerIdentity(worker.id, identity);
    worker.run().catch(() => {}); // resolves when it closes; a failed start rejects _start below
    try {
      await worker._start();
    } catch (err) {
      release();
      throw err;
    }
    this._forwardEvents(worker);
    this._managed.set(worker.id, new ManagedWorker(worker, processor, options));
    this._queues.markKnown(queueName);
    worker.once('closed', () => {
      this._managed.delete(worker.id);
      this._security?.setWorkerIdentity(worker.id, undefined);
      release();
      this.onWorkerClosed?.(worker);
    });
    this._ctx.logger.info('worker registered', { workerId: worker.id, queue: queueName, concurrency: config.concurrency });
    return worker;
  }

  /**
   * The processor behind the security manager's checks before every attempt: a job too old
   * fails at once (SecurityError, not retried); a job of a client over its rate limit waits
   * in delayed until the client's window ends, without using an attempt; when the worker's
   * client lost its permission to run the queue's jobs, the job goes back to the queue
   * unprocessed and the worker closes.
   */
  _guard(processor, holder) {
    const security = this._security;
    const refused = (job, context, err) => {
      if (err instanceof RateLimitError && err.retryAfterMs > 0) {
        return job.moveToDelayed(Date.now() + err.retryAfterMs, context.token).then(() => {
          throw new DelayedError();
        });
      }
      if (err instanceof AuthorizationError) {
        const worker = holder.worker;
        this._ctx.logger.warn('worker lost its permission to run the queue; closing it', { workerId: worker?.id, queue: worker?.queueName, clientId: err.clientId });
        worker?.emit('error', err);
        setImmediate(() => worker?.close().catch(() => {}));
        throw new RateLimitError(); // back to the queue, no attempt used
      }
      throw err;
    };
    return (job, context, signal) => {
      let pending;
      try {
        pending = security.executionCheck(job, context);
      } catch (err) {
        if (err instanceof SecurityError) this._ctx.logger.warn('job refused before its attempt', { queue: job.queueName, jobId: job.id, error: err.message });
        throw err;
      }
      if (pending === null) return processor(job, context, signal);
      return pending.then(
        () => processor(job, context, signal),
        (err) => refused(job, context, err),
      );
    };
  }

  /** Re-emits a worker's events on the coordinator, with the queue name, and reports its
   * failures to the failure-pattern watch. */
  _forwardEvents(worker) {
    const queueName = worker.queueName;
    const ctx = this._ctx;
    const forward = (event, jobId, detail) => {
      if (ctx.listening(event)) ctx.emit(event, { queueName, jobId, detail });
    };
    worker.on('completed', (job, result) => forward('completed', job.id, result));
    worker.on('failed', (_job, err, _prev, info) => {
      this._failures(queueName, info.name, info.jobId, err, info.retrying);
      forward('failed', info.jobId, err);
    });
    worker.on('stalled', (jobId) => forward('stalled', jobId, undefined));
    worker.on('progress', (job, progress) => forward('progress', job.id, progress));
    worker.on('active', (job) => ctx.emit('active', { queueName, jobId: job.id, name: job.name }));
    worker.on('drained', () => ctx.emit('drained', { queueName }));
    worker.on('error', (err) => ctx.emit('error', err));
  }

  /** Workers of this process, optionally of one queue. */
  getWorkers(queueName) {
    const all = [...this._managed.values()].map((m) => m.worker);
    return queueName ? all.filter((w) => w.queueName === queueName) : all;
  }

  /** The ManagedWorker of this process with that id, or null (as getQueue and
   * getWorkerPool answer for one they do not have). */
  getWorker(workerId) {
    return this._managed.get(workerId) ?? null;
  }

  /** This process's ManagedWorkers of the queue. */
  getWorkersByQueue(queueName) {
    return [...this._managed.values()].filter((m) => m.queueName === queueName);
  }

  /**
   * Closes one of this process's workers (its running jobs finish first, up to `timeoutMs`).
   * It closes with the timeout form, `close(timeoutMs)`, never BullMQ's `close(true)`: what
   * is still running at the timeout goes back to the front of the queue at once, unused,
   * as the design's graceful shutdown says. `close(true)` would leave those jobs active until
   * their locks lapse (up to `lockDuration`, 30 s by default) and count a stall against each,
   * failing it past `maxStalledCount`, for a shutdown that was planned.
   */
  async unregisterWorker(workerId, { timeoutMs = 30000 } = {}) {
    const managed = this._managed.get(workerId);
    if (!managed) {
      const remote = await this._registryEntry(workerId);
      if (remote) {
        throw new ValidationError('workerId', `worker ${workerId} runs in process ${remote.pid} on ${remote.host}; close it there, or pauseWorker it`);
      }
      throw new WorkerNotFoundError(workerId);
    }
    await managed.worker.close(timeoutMs);
  }

  /** The design's other name of unregisterWorker. */
  closeWorker(workerId, options) {
    return this.unregisterWorker(workerId, options);
  }

  /** Closes this process's workers of the queue. */
  async closeQueueWorkers(queueName) {
    await Promise.all(this.getWorkers(queueName).map((w) => this.unregisterWorker(w.id)));
  }

  /** Closes every worker of this process, each waiting up to `timeoutMs` for running jobs,
   * then giving the unfinished ones back (see unregisterWorker). */
  async closeAll(timeoutMs) {
    await Promise.all(this.getWorkers().map((w) => w.close(timeoutMs)));
  }

  /**
   * `{id, queueName, status, processedJobs, failedJobs, uptime, lastActivity, registeredAt,
   * ...}` of a worker in any process; status is active, paused, error, or stale (closed, or
   * its process stopped sending heartbeats). `lastActivity` is its last finished job, else its
   * registration.
   */
  async getWorkerStatus(workerId) {
    const local = this._managed.get(workerId);
    if (local) {
      const s = local.worker.stats();
      return {
        id: workerId,
        queueName: local.queueName,
        status: local.status,
        processedJobs: s.completed,
        failedJobs: s.failed,
        registeredAt: local.registeredAt,
        uptime: s.uptimeMs,
        lastActivity: s.lastActivityMs ? new Date(s.lastActivityMs) : local.registeredAt,
        pid: process.pid,
      };
    }
    const remote = await this._registryEntry(workerId);
    if (!remote) throw new WorkerNotFoundError(workerId);
    return fromRegistry(remote);
  }

  /** WorkerStatus of the workers of every process (from the registry in Redis), optionally
   * of one queue. */
  async getAllWorkers(queueName) {
    const native = await this._ctx.engine();
    const list = await call(native.workers());
    return list.filter((w) => !queueName || w.queue === queueName).map(fromRegistry);
  }

  /** The design's name: WorkerStatus of every worker of every process. */
  getAllWorkerStatus() {
    return this.getAllWorkers();
  }

  /** Pauses a worker of this or any other process (there, at its next heartbeat, ≤ 2 s). */
  async pauseWorker(workerId) {
    await this._setWorkerPaused(workerId, true);
  }

  async resumeWorker(workerId) {
    await this._setWorkerPaused(workerId, false);
  }

  async _setWorkerPaused(workerId, paused) {
    const local = this._managed.get(workerId);
    if (local) {
      // running jobs carry on; pausing does not wait for them (as in other processes)
      if (paused) await local.worker.pause(true);
      else local.worker.resume();
      return;
    }
    const native = await this._ctx.engine();
    if (!(await call(native.requestWorkerPause(String(workerId), paused)))) throw new WorkerNotFoundError(workerId);
  }

  async _registryEntry(workerId) {
    const native = await this._ctx.engine();
    return (await call(native.workers())).find((w) => w.id === workerId);
  }

  /**
   * Scales the queue's workers in this process to `targetCount`: more workers like the first
   * one registered (or fewer). A ScalingResult. (The coordinator's scaleWorkers sends a queue
   * with a worker pool to the pool instead.)
   */
  async scaleWorkers(queueName, targetCount) {
    checkQueueName(queueName);
    nonNegativeInt(targetCount, 'targetCount');
    return this._ctx.audited('scale', { queue: queueName }, () => this._scale(queueName, targetCount), (r) =>
      r.actualCount === r.previousCount ? null : { from: r.previousCount, to: r.actualCount, target: r.targetCount },
    );
  }

  async _scale(queueName, targetCount) {
    const managed = this.getWorkersByQueue(queueName);
    const previousCount = managed.length;
    if (targetCount > previousCount && previousCount === 0) {
      throw new ValidationError('queueName', `no worker on ${queueName} to copy; registerWorker or createWorkerPool first`);
    }
    const model = managed[0];
    for (let n = previousCount; n < targetCount; n++) await this._start(queueName, model.processor, model.options);
    await Promise.all(managed.slice(targetCount).map((m) => m.worker.close()));
    const actualCount = this.getWorkers(queueName).length;
    const action = actualCount > previousCount ? 'scaled_up' : actualCount < previousCount ? 'scaled_down' : 'no_change';
    return { queueName, previousCount, targetCount, actualCount, action };
  }
}

module.exports = { WorkerManagerImpl, ManagedWorker };
