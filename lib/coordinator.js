'use strict';
// JobQueueCoordinator: the design's facade (seeds 000 and 003). It validates what only JS can
// see, builds JSON payloads, and forwards to the native engine.

const { EventEmitter } = require('node:events');
const { NativeEngine } = require('../binding');
const { resolveConfig } = require('./config');
const { Job, AddedJob } = require('./job');
const { Worker } = require('./worker');
const { ValidationError, QueueNotFoundError, QueueExistsError, JobNotFoundError, fromReason } = require('./errors');
const {
  call,
  checkQueueName,
  serialiseData,
  serialiseOptions,
  keepBadNumbers,
  positiveInt,
  nonNegativeInt,
} = require('./input');
const scheduling = require('./scheduling');
const deadLetters = require('./dead-letters');
const { createLogger } = require('./logger');
const { FailurePatterns } = require('./failure-patterns');
const { WorkerPools } = require('./pools');
const operations = require('./operations');
const observability = require('./observability');

function nonNegativeMs(value, field) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative number of ms');
  }
  return value;
}

function fraction(value, field) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValidationError(field, 'must be a number between 0 and 1');
  }
  return value;
}

function keepText(value, field) {
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'boolean' ||
    (Number.isInteger(value) && value >= 0) ||
    (value !== null && typeof value === 'object');
  if (!ok) throw new ValidationError(field, 'must be a boolean, a count, or {age, count}');
  return JSON.stringify(value);
}

/** Most enqueueJob calls sent in one script call: smaller batches keep several calls in
 * flight, so Redis runs one while JS prepares the next. */
const MAX_COALESCED = 32;

/** One job's name and payload JSON, validated as far as JS can see. */
function describeJob(job, queueName, index) {
  if (!job || typeof job !== 'object') throw new ValidationError(`jobs[${index}]`, 'must be an object');
  const data = serialiseData(job.data);
  const name =
    typeof job.name === 'string' && job.name
      ? job.name
      : typeof job.data.type === 'string'
        ? job.data.type
        : queueName;
  const opts = serialiseOptions(job.options ?? job.opts);
  return { name, json: `{"name":${JSON.stringify(name)},"data":${data},"opts":${opts}}` };
}

class JobQueueCoordinator extends EventEmitter {
  constructor(config = {}) {
    super();
    this.config = resolveConfig(config);
    this._native = null;
    this._connecting = null;
    this._queues = new Map(); // name -> QueueConfig given to createQueue
    this._known = new Set(); // every queue this coordinator touched
    this._workers = new Map(); // id -> Worker
    this._defaultsText = new Map(); // queue -> JSON of its option layers
    this._pending = new Map(); // queue -> enqueueJob calls of this tick, sent as one call
    this._nonRetryable = new Set(); // error names registered with registerNonRetryableError
    this._cleanups = new Map(); // queue -> NativeCleanup of createQueue's cleanup option
    this._watches = new Set(); // QueueEvents open through events()
    this.logger = createLogger({ target: this.config.logger });
    this._pools = new WorkerPools({
      register: (queueName, processor, options) => this.registerWorker(queueName, processor, options),
      unregister: (worker) => worker.close(),
      status: (queueName) => this.getQueueStatus(queueName),
      logger: this.logger,
    });
    this._patterns = new FailurePatterns(this.config.monitoring?.failurePatterns, (p) => {
      this.logger.warn('failure pattern: a job keeps failing', p);
      if (this.listenerCount('failurePattern') > 0) this.emit('failurePattern', p);
    });
  }

  /** Connects to Redis. Every method calls it, so calling it yourself is optional. */
  initialize() {
    if (!this._connecting) {
      const r = this.config.redis;
      this._connecting = call(
        NativeEngine.connect({
          url: r.url,
          host: r.host,
          port: r.port,
          username: r.username,
          password: r.password,
          db: r.db,
          tls: r.tls === true || (r.tls !== undefined && r.tls !== false),
          prefix: r.keyPrefix,
          maxJobDataSize: this.config.security.maxJobDataSize,
        }),
      ).then((native) => {
        this._native = native;
        // the engine's own log events (Redis trouble, stalls, timeouts) join ours
        NativeEngine.setLogSink((line) => {
          const { level, msg, fields } = JSON.parse(line);
          this.logger[level](msg, fields);
        });
        return native;
      });
      this._connecting.catch(() => {
        this._connecting = null; // let a later call try again
      });
    }
    return this._connecting.then(() => undefined);
  }

  async _engine() {
    if (this._native) return this._native;
    await this.initialize();
    return this._native;
  }

  /**
   * Stops every worker (each waits up to `timeoutMs` for its running jobs, then gives the
   * rest back to the queue) and closes the connection so the process can exit.
   */
  async shutdown({ timeoutMs = 30000 } = {}) {
    this._pools.clear();
    for (const watch of [...this._watches]) watch.close();
    for (const cleanup of this._cleanups.values()) cleanup.stop();
    this._cleanups.clear();
    await Promise.all([...this._workers.values()].map((w) => w.close(timeoutMs)));
    this._workers.clear();
    if (this._connecting) await this._connecting.catch(() => {});
    if (this._native) this._native.close();
    this._native = null;
    this._connecting = null;
  }

  /** Records a queue's config in this coordinator; a name declared twice is an error. */
  _declareQueue(config) {
    serialiseOptions(config.defaultJobOptions, 'defaultJobOptions');
    if (this._queues.has(config.name)) throw new QueueExistsError(config.name);
    this._queues.set(config.name, { ...config });
    this._known.add(config.name);
    this._defaultsText.delete(config.name);
    return this.getQueue(config.name);
  }

  _forgetQueue(name) {
    this._queues.delete(name);
    this._known.delete(name);
    this._defaultsText.delete(name);
  }

  /** Emits an event of this coordinator when someone listens. */
  _emitLocal(event, payload) {
    if (this.listenerCount(event) > 0) this.emit(event, payload);
  }

  /** The queue's config as given to createQueue, or null. */
  getQueue(name) {
    const config = this._queues.get(name);
    return config ? { name, config } : null;
  }

  _defaults(queueName) {
    let text = this._defaultsText.get(queueName);
    if (text === undefined) {
      const layers = [this.config.defaultJobOptions];
      const q = this._queues.get(queueName);
      if (q && q.defaultJobOptions) layers.push(q.defaultJobOptions);
      text = JSON.stringify(layers, keepBadNumbers);
      this._defaultsText.set(queueName, text);
    }
    return text;
  }

  /**
   * Adds a job: `enqueueJob(queue, data, options?)` or `enqueueJob(queue, jobName, data,
   * options?)`. The name is `jobName`, else `data.type` when it is a string, else the queue.
   * Calls made in the same tick travel to Redis together in one script call; each job is
   * validated on its own, so one bad job does not fail its neighbours.
   */
  enqueueJob(queueName, ...args) {
    const [jobName, data, options] = typeof args[0] === 'string' ? args : [undefined, ...args];
    let part;
    try {
      checkQueueName(queueName);
      part = describeJob({ name: jobName, data, options }, queueName, 0);
    } catch (err) {
      return Promise.reject(err);
    }
    let batch = this._pending.get(queueName);
    if (!batch || batch.parts.length >= MAX_COALESCED) {
      batch = { parts: [], waiters: [] };
      this._pending.set(queueName, batch);
      process.nextTick(() => this._flush(queueName, batch));
    }
    batch.parts.push(part.json);
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject, part, data }));
  }

  async _flush(queueName, batch) {
    if (this._pending.get(queueName) === batch) this._pending.delete(queueName);
    let result;
    try {
      result = await this._send(queueName, batch.parts, false);
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    batch.waiters.forEach((w, i) => {
      const entry = result.jobs[i];
      if (Array.isArray(entry)) {
        const added = this._added(queueName, entry, result.opts, w.part.name, w.data);
        if (added instanceof Promise) added.then(w.resolve, w.reject);
        else w.resolve(added);
      } else {
        w.reject(fromReason(entry) || new Error(entry.message));
      }
    });
  }

  /** The job an add returned: the new one, or for an existing custom id a promise of the
   * stored one. */
  _added(queueName, [id, created, timestamp, optsIndex], opts, name, data) {
    if (created) {
      const job = new AddedJob(id, name, data, opts[optsIndex], timestamp, queueName);
      if (this.listenerCount('waiting') + this.listenerCount('delayed') > 0) {
        this._emitLocal(job.opts.delay > 0 ? 'delayed' : 'waiting', { queueName, jobId: id, name });
      }
      return job;
    }
    return this.getJob(queueName, id);
  }

  async _send(queueName, parts, allOrNothing) {
    const payload = `{"defaults":${this._defaults(queueName)},"jobs":[${parts.join(',')}]}`;
    const native = await this._engine();
    const result = JSON.parse(await call(native.addJobs(queueName, payload, allOrNothing)));
    this._known.add(queueName);
    return result;
  }

  /** Adds many jobs in one atomic call; all are validated before anything is written. */
  async enqueueBulk(queueName, jobs) {
    checkQueueName(queueName);
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
    const parts = jobs.map((j, i) => describeJob(j, queueName, i));
    const result = await this._send(queueName, parts.map((p) => p.json), true);
    const added = result.jobs.map((e, i) => this._added(queueName, e, result.opts, parts[i].name, jobs[i].data));
    // only jobs that already existed are read back; the rest need no promise each
    return added.some((a) => a instanceof Promise) ? Promise.all(added) : added;
  }

  /**
   * Starts a worker for the queue. `processor(job, context)` returns a promise; its value
   * becomes the job's return value, a thrown error its failure.
   */
  async registerWorker(queueName, processor, options = {}) {
    checkQueueName(queueName);
    if (typeof processor !== 'function') {
      throw new ValidationError('processor', 'must be a function');
    }
    const d = this.config.defaultWorkerOptions;
    const q = this._queues.get(queueName) || {};
    const o = { ...options, settings: { ...d.settings, ...options.settings } };
    const limiter = o.limiter || o.rateLimiter || q.rateLimit || d.limiter;
    const config = {
      concurrency: positiveInt(o.concurrency ?? q.concurrency ?? d.concurrency, 'concurrency'),
      lockDurationMs: positiveInt(o.lockDuration ?? d.lockDuration, 'lockDuration'),
      stalledIntervalMs: positiveInt(
        o.stalledInterval ?? q.stalledInterval ?? o.settings.stalledInterval,
        'stalledInterval',
      ),
      maxStalledCount: o.maxStalledCount ?? q.maxStalledCount ?? o.settings.maxStalledCount,
      name: o.name,
      limiterMax: limiter ? positiveInt(limiter.max, 'limiter.max') : undefined,
      limiterDurationMs: limiter ? positiveInt(limiter.duration, 'limiter.duration') : undefined,
      drainDelayMs: o.drainDelay,
      prefetch: o.prefetch === undefined ? undefined : nonNegativeInt(o.prefetch, 'prefetch'),
      timeoutMs: nonNegativeMs(o.timeoutMs ?? o.timeout, 'timeoutMs'),
      retryMaxDelayMs: nonNegativeMs(o.retry?.maxDelay, 'retry.maxDelay'),
      retryJitter: fraction(o.retry?.jitter, 'retry.jitter'),
      removeOnComplete: keepText(o.removeOnComplete, 'removeOnComplete'),
      removeOnFail: keepText(o.removeOnFail, 'removeOnFail'),
    };
    if (!Number.isInteger(config.maxStalledCount) || config.maxStalledCount < 0) {
      throw new ValidationError('maxStalledCount', 'must be a non-negative integer');
    }
    const nonRetryable = new Set(this._nonRetryable);
    for (const e of o.nonRetryableErrors || []) nonRetryable.add(typeof e === 'function' ? e.name : String(e));
    const native = await this._engine();
    const worker = Worker._onEngine(queueName, processor, native, config, {
      nonRetryable,
      timeoutMs: config.timeoutMs,
      logger: this.logger,
      prefix: this.config.redis.keyPrefix,
    });
    worker._options = options; // for scaleWorkers, which registers more workers like this one
    worker.run().catch(() => {}); // resolves when it closes; a failed start rejects _start below
    await worker._start();
    this._forwardEvents(worker);
    this._workers.set(worker.id, worker);
    this._known.add(queueName);
    worker.once('closed', () => this._workers.delete(worker.id));
    return worker;
  }

  /** Re-emits a worker's events on the coordinator, with the queue name, and watches its
   * failures for patterns. */
  _forwardEvents(worker) {
    const queueName = worker.queueName;
    const forward = (event, jobId, detail) => {
      if (this.listenerCount(event) > 0) this.emit(event, { queueName, jobId, detail });
    };
    worker.on('completed', (job, result) => forward('completed', job.id, result));
    worker.on('failed', (job, err, _prev, info) => {
      this._patterns.record(queueName, info.name);
      forward('failed', info.jobId, err);
    });
    worker.on('stalled', (jobId) => forward('stalled', jobId, undefined));
    worker.on('progress', (job, progress) => forward('progress', job.id, progress));
    worker.on('active', (job) => this._emitLocal('active', { queueName, jobId: job.id, name: job.name }));
    worker.on('drained', () => this._emitLocal('drained', { queueName }));
    worker.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  /** Workers registered through this coordinator. */
  getWorkers(queueName) {
    const all = [...this._workers.values()];
    return queueName ? all.filter((w) => w.queueName === queueName) : all;
  }

  async _requireQueue(native, queueName) {
    checkQueueName(queueName);
    if (this._known.has(queueName)) return;
    const counts = JSON.parse(await call(native.counts(queueName)));
    const any = Object.values(counts).some((n) => n > 0);
    if (!any && !(await call(native.isPaused(queueName)))) throw new QueueNotFoundError(queueName);
  }

  /**
   * `{name, isPaused, jobCounts, counts, workers, processingRate, averageProcessingTime}`:
   * workers connected from any process; rate in jobs/s over the last minute and mean
   * processing time in ms, both measured from finished jobs.
   */
  async getQueueStatus(queueName) {
    const native = await this._engine();
    await this._requireQueue(native, queueName);
    const [countsText, isPaused, workers, statsText] = await Promise.all([
      call(native.counts(queueName)),
      call(native.isPaused(queueName)),
      call(native.workerCount(queueName)),
      call(native.processingStats(queueName)),
    ]);
    const c = JSON.parse(countsText);
    const jobCounts = {
      waiting: c.waiting,
      active: c.active,
      completed: c.completed,
      failed: c.failed,
      delayed: c.delayed,
      prioritized: c.prioritized,
    };
    const stats = JSON.parse(statsText);
    return {
      name: queueName,
      isPaused,
      jobCounts,
      counts: jobCounts,
      workers,
      processingRate: stats.processingRate,
      averageProcessingTime: stats.averageProcessingTime,
    };
  }

  /** Failed jobs, newest first: `getFailedJobs(q, {start, end})` or `getFailedJobs(q, limit)`. */
  async getFailedJobs(queueName, range = {}) {
    const native = await this._engine();
    checkQueueName(queueName);
    let start = 0;
    let end = 99;
    if (typeof range === 'number') {
      end = positiveInt(range, 'limit') - 1;
    } else if (range) {
      start = range.start ?? 0;
      end = range.end ?? start + 99;
      if (!Number.isInteger(start) || start < 0) throw new ValidationError('start', 'must be a non-negative integer');
      if (!Number.isInteger(end) || end < start) throw new ValidationError('end', 'must be an integer ≥ start');
    }
    const jobs = JSON.parse(await call(native.failedJobs(queueName, start, end)));
    return jobs.map((j) => new Job(j, queueName));
  }

  /** The job with its current fields, or null. */
  async getJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._engine();
    const text = await call(native.getJob(queueName, String(jobId)));
    return text === null ? null : new Job(JSON.parse(text), queueName);
  }

  /** The job's log lines. */
  async getJobLogs(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._engine();
    return call(native.logs(queueName, String(jobId)));
  }

  /**
   * Moves a failed job back to waiting with fresh attempts: `retryJob(queue, jobId)`, or
   * `retryJob(jobId)`, which looks in every queue this coordinator has used.
   */
  async retryJob(...args) {
    const native = await this._engine();
    if (args.length >= 2) {
      const [queueName, jobId] = args;
      checkQueueName(queueName);
      await call(native.retryJob(queueName, String(jobId)));
      return;
    }
    const jobId = String(args[0]);
    const found = [];
    for (const q of this._known) {
      if ((await call(native.getJob(q, jobId))) !== null) found.push(q);
    }
    if (found.length === 0) {
      throw new JobNotFoundError(`job ${jobId} not found in any known queue (${[...this._known].join(', ') || 'none'})`);
    }
    if (found.length > 1) {
      throw new ValidationError('jobId', `${jobId} exists in several queues (${found.join(', ')}); pass the queue name`);
    }
    await call(native.retryJob(found[0], jobId));
  }

  /** Round-trip latency to Redis in ms. */
  async ping() {
    const native = await this._engine();
    return call(native.ping());
  }
}

const { QUEUE_TYPES, ...operationMethods } = operations;
const { QueueEvents, ...observabilityMethods } = observability;
Object.assign(JobQueueCoordinator.prototype, scheduling, deadLetters, operationMethods, observabilityMethods);

module.exports = { JobQueueCoordinator, QUEUE_TYPES, QueueEvents };
