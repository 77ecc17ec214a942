'use strict';
// BullMQ 6's `Worker` on our engine. The engine runs the loop, locks, stalled checks and
// timers in Rust and hands batches of jobs to `_onJobs`, which runs the processor and reports
// each outcome back synchronously; settled outcomes come back as events. Nothing here can
// throw into the native caller.
//
// Two ways in: `new Worker(name, processor, opts)` as with BullMQ (its own engine, shared
// with other objects of this process on the same Redis and prefix), and `Worker._onEngine`,
// with which the coordinator runs workers on its engine with its own options.
//
// Without a processor the worker runs nothing by itself: its caller takes jobs with
// `getNextJob(token)` and settles them with the Job's `moveToCompleted` / `moveToFailed` /
// `moveToWait`, through the engine's manual worker (`_manual()`), as BullMQ's manual
// processing.

const { GuardedEmitter } = require('./emitter');
const { randomUUID } = require('node:crypto');
const Jobs = require('./job');
const { isUnrecoverable, isMovedByProcessor, TimeoutError, UnrecoverableError, ValidationError, RateLimitError, RATE_LIMIT_ERROR, fromNative } = require('./errors');
const { call, checkQueueName, numberArg, numberOption, jsonOption, checkWorkerConfig } = require('./input');
const { DEFAULT_PREFIX, engineConfig, acquireEngine } = require('./connection');
const wire = require('./wire');

/** Longest wait `close()` allows running jobs (the engine takes a u32 of ms): ~24 days. */
const NO_TIMEOUT = 2 ** 31 - 1;

const ON_ENGINE = Symbol('onEngine');

/** The one worker option BullMQ's Worker checks that the engine does not take (yet):
 * `maxStartedAttempts`, in BullMQ's words. Every other option is checked by the engine
 * (worker/settings.rs), in BullMQ's words where BullMQ refuses the value. */
function bullmqChecks(opts) {
  const { maxStartedAttempts } = opts;
  if (typeof maxStartedAttempts === 'number' && !(maxStartedAttempts >= 0)) {
    throw ValidationError.worded('maxStartedAttempts', 'maxStartedAttempts must be greater or equal than 0');
  }
  if (maxStartedAttempts !== undefined && maxStartedAttempts !== null && typeof maxStartedAttempts !== 'number') {
    throw new ValidationError('maxStartedAttempts', 'must be a non-negative number');
  }
}

/** The engine's worker config from BullMQ worker options, checked by the engine; throws
 * ValidationError. */
function nativeConfig(opts) {
  bullmqChecks(opts);
  const limiter = opts.limiter;
  if (limiter !== undefined && (limiter === null || typeof limiter !== 'object')) {
    throw new ValidationError('limiter', 'must be {max, duration}');
  }
  if (opts.name !== undefined && typeof opts.name !== 'string') throw new ValidationError('name', 'must be a string');
  const drainDelay = numberOption(opts.drainDelay); // seconds, as BullMQ
  return checkWorkerConfig({
    concurrency: numberOption(opts.concurrency) ?? 1,
    lockDurationMs: numberOption(opts.lockDuration) ?? 30000,
    stalledIntervalMs: numberOption(opts.stalledInterval) ?? 30000,
    maxStalledCount: numberOption(opts.maxStalledCount) ?? 1,
    name: opts.name,
    limiterMax: limiter ? numberOption(limiter.max) : undefined,
    limiterDurationMs: limiter ? numberOption(limiter.duration) : undefined,
    drainDelayMs: drainDelay === undefined ? undefined : drainDelay * 1000,
    removeOnComplete: jsonOption(opts.removeOnComplete),
    removeOnFail: jsonOption(opts.removeOnFail),
    // jobs held ahead of free slots: none by default (as BullMQ), a count, or 'auto' (one
    // while attempts are short and there is no limiter)
    prefetch: opts.prefetch === 'auto' ? undefined : numberOption(opts.prefetch),
    prefetchAuto: opts.prefetch === 'auto' || undefined,
  });
}

const { BUILT_IN_BACKOFFS } = Jobs;

class Worker extends GuardedEmitter {
  /** The error a processor throws (after `rateLimit`) to give its job back to the queue
   * unprocessed, as with BullMQ. */
  static RateLimitError() {
    return new RateLimitError();
  }

  /**
   * `new Worker(name, processor, { connection, prefix = 'bull', concurrency = 1, limiter,
   * lockDuration = 30000, stalledInterval = 30000, maxStalledCount = 1, drainDelay = 5,
   * autorun = true, removeOnComplete, removeOnFail, settings: { backoffStrategy }, name,
   * prefetch })`; `prefetch` (ours) is a count of jobs held ahead of free slots, or 'auto'.
   * `processor(job, context, signal)`: `job` carries the lock `token`; `context` is the
   * design's `{ workerId, queueName, jobId, attemptNumber, startTime, signal?, token }`;
   * `signal` (as BullMQ's third argument) is there when the job has a timeout. Where BullMQ
   * passes the lock token second, the context stands in for it: Job methods taking a token
   * accept it, and it converts to the token as a string.
   */
  constructor(name, processor, opts = {}) {
    super();
    const onEngine = opts?.[ON_ENGINE];
    if (!onEngine) {
      checkQueueName(name);
      if (processor !== undefined && processor !== null && typeof processor !== 'function') {
        throw new ValidationError('processor', 'must be a function (sandboxed processor files are not supported)');
      }
      if (opts === null || typeof opts !== 'object') throw new ValidationError('opts', 'must be an object');
    }
    const settings = opts.settings ?? {};
    if (settings.backoffStrategy !== undefined && typeof settings.backoffStrategy !== 'function') {
      throw new ValidationError('settings.backoffStrategy', 'must be a function');
    }
    if (opts.autorun !== undefined && typeof opts.autorun !== 'boolean') throw new ValidationError('autorun', 'must be a boolean');
    this._config = onEngine ? onEngine.config : nativeConfig(opts);
    this._id = this._config.id ?? randomUUID();
    const prefix = onEngine?.prefix ?? opts.prefix ?? DEFAULT_PREFIX;
    const connection = onEngine ? null : engineConfig(opts.connection, prefix);

    /** The queue's name, as BullMQ's `worker.name`. */
    this.name = name;
    this.queueName = name;
    this.opts = {
      drainDelay: 5,
      concurrency: this._config.concurrency ?? 1,
      lockDuration: this._config.lockDurationMs ?? 30000,
      maxStalledCount: this._config.maxStalledCount ?? 1,
      stalledInterval: this._config.stalledIntervalMs ?? 30000,
      autorun: true,
      ...opts,
      prefix,
    };
    delete this.opts[ON_ENGINE];
    this._processor = processor ?? undefined;
    // as BullMQ's: a processor taking a third argument gets an abort signal for every job
    // (cancelJob, cancelAllJobs); others only for jobs with a timeout
    this._signalEveryJob = typeof this._processor === 'function' && this._processor.length >= 3;
    // BullMQ's maxStartedAttempts (0 or none: no limit), set on the engine's worker
    const maxStarted = onEngine ? undefined : opts.maxStartedAttempts;
    this._maxStartedAttempts = Number.isFinite(maxStarted) && maxStarted >= 1 ? Math.min(Math.floor(maxStarted), 2 ** 32 - 1) : undefined;
    this._backoffStrategy = settings.backoffStrategy;
    this._nonRetryable = onEngine?.nonRetryable;
    this._timeoutMs = onEngine?.timeoutMs ?? 0;
    this._logger = onEngine?.logger;
    this._concurrency = this._config.concurrency ?? 1;
    this._aborts = new Map(); // handle -> AbortController, for jobs with a timeout
    this._jobs = new Map(); // handle -> Job, from dispatch until the engine settled it
    this._errors = new Map(); // handle -> the error its processor threw, until the engine settled it
    // close() without a timeout: BullMQ waits for running jobs; the coordinator's workers keep
    // its 30 s shutdown limit
    this._closeMs = onEngine ? 30000 : NO_TIMEOUT;
    this._idle = []; // resolvers waiting for _jobs to empty (pause, close)
    this._worker = null; // NativeWorker, set by _attach()
    this._early = null; // job batches that arrived before _attach
    this._done = { handles: [], values: [] }; // completions not yet reported
    this._failed = { handles: [], names: [], messages: [], stacks: [], unrecoverable: [] }; // likewise
    this._flushScheduled = false;
    this._flush = () => {
      this._flushScheduled = false;
      const done = this._done;
      const failed = this._failed;
      if (done.handles.length > 0) {
        this._done = { handles: [], values: [] };
        this._worker.complete(done.handles, done.values);
      }
      if (failed.handles.length > 0) {
        this._failed = { handles: [], names: [], messages: [], stacks: [], unrecoverable: [] };
        this._worker.fail(failed.handles, failed.names, failed.messages, failed.stacks, failed.unrecoverable);
      }
    };
    this._paused = false;
    this._running = false;
    this._endRun = null; // ends the pending run(): a pause that waited for running jobs, or close
    this._connecting = null; // promise of the native worker being created, connected but idle
    this._starting = null; // promise of the native worker running
    this._closing = null; // promise of close()
    this._manualWorker = null; // promise of { native: NativeManualWorker, ... }, see _manual()
    this._stalledChecks = false; // startStalledCheckTimer() was called
    this._stalledTimer = null;
    this._forced = false; // closed without waiting: jobs given back or abandoned are no errors
    this._abandoned = false; // close(true): outcomes from now on are ignored
    this._release = null;
    this.closed = false;
    this.status = 'active';
    this.registeredAt = new Date();
    // what a Job needs of its queue: name, prefix, the engine, and where progress events go
    this._queueHandle = {
      name,
      prefix,
      native: () => this._engine,
      emit: (event, ...args) => (this.listenerCount(event) > 0 ? this.emit(event, ...args) : false),
      _manual: () => this._manual(),
    };
    // ActiveJob reports progress as (jobId, progress); BullMQ's worker event is (job, progress)
    this._progressSink = {
      listenerCount: (event) => this.listenerCount(event),
      emit: (event, jobId, progress) => {
        for (const job of this._jobs.values()) {
          if (job.id === jobId) return this.emit(event, job, progress);
        }
        return false;
      },
    };
    if (onEngine) {
      this._native = onEngine.native;
      this._engine = Promise.resolve(onEngine.native);
    } else {
      this._native = null;
      this._engine = acquireEngine(connection).then(({ native, release }) => {
        this._native = native;
        this._release = release;
        if (this._closing) release();
        return native;
      });
      this._engine.catch((err) => this._error(err));
      // As BullMQ's, the worker opens its named connection at once, run or not, so
      // getWorkers lists it from 'ready' / waitUntilReady on
      this._connect().then(
        () => setImmediate(() => this.emit('ready')),
        (err) => this._engine.then(() => this._error(err), () => {}), // an engine error is out already
      );
      if (this.opts.autorun !== false && this._processor) {
        this.run().catch((err) => this._error(err));
      }
    }
  }

  /**
   * A worker on an engine that is already connected (the coordinator's), with the engine's
   * worker config as is and the coordinator's extras: `nonRetryable` (error names that fail
   * a job at once), `timeoutMs` (the worker's attempt timeout, for jobs that set none),
   * `logger`, `prefix` (the engine's key prefix). Call `_start()` to begin.
   */
  static _onEngine(queueName, processor, native, config, { nonRetryable, timeoutMs, logger, prefix } = {}) {
    return new Worker(queueName, processor, { [ON_ENGINE]: { native, config, nonRetryable, timeoutMs, logger, prefix } });
  }

  /** The worker's id (its registry entry and lock tokens), fixed from construction as in
   * BullMQ. */
  get id() {
    return this._worker ? this._worker.id : this._id;
  }

  get concurrency() {
    return this._concurrency;
  }

  /** Takes effect at once: more jobs are fetched, or fewer as running ones finish. */
  set concurrency(value) {
    checkWorkerConfig({ concurrency: numberArg(value) });
    this._concurrency = value;
    this.opts.concurrency = value;
    if (this._worker) this._worker.setConcurrency(value);
  }

  /** Resolves once the connection to Redis and the worker's named connection are up (the
   * one BullMQ's `getWorkers` lists). */
  async waitUntilReady() {
    await this._engine;
    await this._connect();
  }

  /** BullMQ's: resolves to the JobScheduler of the worker's queue (made once; see
   * Queue#jobScheduler), whose `error` events are the worker's. */
  get jobScheduler() {
    if (!this._schedulerQueue) {
      // a queue handle on this worker's engine, made for it: it writes no meta and closes
      // nothing
      const { Queue, ON_ENGINE } = require('./queue');
      this._schedulerQueue = new Queue(this.name, { prefix: this.opts.prefix, [ON_ENGINE]: () => this._engine });
      this._schedulerQueue.on('error', (err) => this.emit('error', err));
    }
    return this._schedulerQueue.jobScheduler;
  }

  /** The engine this worker talks through: a Worker is a queue handle too (lib/job.js), so
   * `Job.fromJSON(worker, jobJson, jobId)` makes jobs that can be settled, as in BullMQ. */
  native() {
    return this._engine;
  }

  /** What settling by hand needs (lib/job.js manualOf): the engine's manual worker with this
   * worker's options, its custom backoff and its non-retryable error names. Made once. */
  _manual() {
    this._manualWorker ??= this._engine.then((native) => {
      let manual;
      try {
        manual = native.manualWorker(this.name, { ...this._config, id: this._id, concurrency: this._concurrency });
      } catch (err) {
        throw fromNative(err);
      }
      return { native: manual, backoffStrategy: this._backoffStrategy, nonRetryable: this._nonRetryable };
    });
    return this._manualWorker;
  }

  /**
   * BullMQ's manual processing: moves the next job to active, locked with `token` (the
   * caller's string) for `lockDuration`, and resolves to it (undefined when there is none,
   * while paused or closing, or while a rate limit the last fetch met lasts). Pause, global
   * concurrency, rate limits, priorities and due delayed jobs apply as for a running worker.
   * With `block` (default true), when the last call found nothing it first waits for a job to
   * arrive, at most `drainDelay` seconds (or until the next delayed job is due). Emits
   * `active` with the job, and `drained` when the queue has just run dry. The lock is not
   * renewed: extend it with `job.extendLock(token, ms)`, settle with `job.moveToCompleted`,
   * `moveToFailed` or `moveToWait`.
   */
  async getNextJob(token, { block = true } = {}) {
    token = Jobs.checkToken(token);
    if (typeof block !== 'boolean') throw new ValidationError('block', 'must be a boolean');
    if (this._paused || this._closing) return undefined;
    const manual = await this._manual();
    const next = wire.decodeNextJob(await call(manual.native.nextJob(token, block)));
    if (next.scheduleError) this._error(new Error(`Failed to add repeatable job for next iteration: ${next.scheduleError}`));
    if (!next.job) {
      if (next.drained && this.listenerCount('drained') > 0) this.emit('drained');
      return undefined;
    }
    const job = this._jobFor(next.job);
    job.token = token;
    if (this.listenerCount('active') > 0) this.emit('active', job, 'waiting');
    return job;
  }

  /**
   * Runs the queue's stalled check now and every `stalledInterval` ms until the worker
   * closes (skipped while it is paused), as BullMQ's: jobs whose lock lapsed go back to
   * waiting (or fail, past `maxStalledCount`) and `stalled` is emitted for each. For manual
   * processing; a worker with a processor runs the check by itself, so this does nothing
   * there.
   */
  async startStalledCheckTimer() {
    if (this._processor || this._closing || this._stalledChecks) return;
    this._stalledChecks = true;
    const manual = await this._manual();
    const tick = async () => {
      this._stalledTimer = null;
      if (this._closing) return;
      if (!this._paused) {
        try {
          const ids = await call(manual.native.checkStalled());
          for (const id of ids) if (this.listenerCount('stalled') > 0) this.emit('stalled', id, 'active');
        } catch (err) {
          this._error(err);
        }
      }
      if (!this._closing) this._stalledTimer = setTimeout(tick, this.opts.stalledInterval);
    };
    tick();
  }

  /** Creates the engine's worker, connected but not fetching; resolves when its named
   * connection is up. Nothing after close(). */
  _connect() {
    if (!this._connecting) {
      if (this._closing) return Promise.resolve();
      this._connecting = (async () => {
        const native = await this._engine;
        const nativeWorker = await call(
          native.createWorker(
            this.name,
            { ...this._config, id: this._id, concurrency: this._concurrency },
            (text) => this._onJobs(text),
            (text) => this._onEvents(text),
          ),
        );
        if (this._paused) nativeWorker.pause();
        if (this._maxStartedAttempts) nativeWorker.setMaxStartedAttempts(this._maxStartedAttempts);
        this._attach(nativeWorker);
      })();
    }
    return this._connecting;
  }

  /** Connects (if not yet) and starts fetching; nothing once closing. */
  _start() {
    if (!this._starting) {
      this._starting = (async () => {
        await this._connect();
        if (!this._closing) this._worker.run();
      })();
    }
    return this._starting;
  }

  /**
   * Starts processing (when `autorun` was false). Resolves when the worker has closed.
   */
  async run() {
    if (!this._processor) throw new Error('No process function is defined.');
    if (this._running) throw new Error('Worker is already running.');
    if (this._closing) throw new Error('Worker is closing');
    // as BullMQ's: a paused worker's run() ends at once; resume() runs it again
    if (this._paused) return;
    this._running = true;
    let end;
    const ended = new Promise((resolve) => {
      end = () => {
        if (this._endRun === end) this._endRun = null;
        this._running = false;
        resolve();
      };
    });
    this._endRun = end;
    try {
      await this._start();
      // run again after a pause: the engine's worker fetches again
      if (this._worker && !this._closing && !this._paused) this._worker.resume();
    } catch (err) {
      end();
      throw err;
    }
    await ended;
  }

  /**
   * Whether run() is running, as BullMQ's: from run() until close(), or until a pause()
   * that waited for the running jobs (a pause with `doNotWaitActive` leaves it running,
   * fetching nothing, until resume()).
   */
  isRunning() {
    return this._running;
  }

  isPaused() {
    return this._paused;
  }

  /** Attaches the native worker; batches that arrived before it are run now. */
  _attach(nativeWorker) {
    this._worker = nativeWorker;
    const early = this._early;
    this._early = null;
    for (const text of early || []) this._onJobs(text);
  }

  /** The Job object for fields the engine fetched (the one place jobs are made here). */
  _jobFor(fields) {
    return Jobs.Job.fromStored(this._queueHandle, fields);
  }

  /** Called from Rust, in the order the engine sent them, with a JSON batch of jobs
   * `[{handle, token, job}]`, of events `{events: [...]}`, or what a round trip settled with
   * the jobs it fetched `{events, jobs}` (one channel, so a job's outcome is announced before
   * the jobs fetched with it start, and those are running before anything a listener of the
   * outcome awaits goes on). The engine may start fetching before `createWorker` resolves,
   * so early batches wait for `_attach`. */
  _onJobs(text) {
    if (!this._worker) {
      (this._early ||= []).push(text);
      return;
    }
    let batch;
    try {
      batch = wire.decodeWorkerMessage(text);
    } catch (err) {
      this._error(err);
      return;
    }
    if (!Array.isArray(batch)) {
      this._handleEvents(batch.events);
      if (!batch.jobs) return;
      batch = batch.jobs;
    }
    for (const { handle, token, job } of batch) this._run(handle, token, job);
  }

  _run(handle, token, fields) {
    const job = this._jobFor(fields);
    job.token = token;
    this._jobs.set(handle, job);
    const context = {
      workerId: this._worker.id,
      queueName: this.name,
      jobId: job.id,
      attemptNumber: job.attemptsMade + 1,
      startTime: Date.now(),
    };
    // BullMQ code gets the lock token second; the context stands in for it (see tokenOf in
    // job.js), and prints as it
    Object.defineProperty(context, 'token', { value: token, enumerable: false });
    Object.defineProperty(context, 'toString', { value: () => token, enumerable: false });
    // Only jobs with a timeout (the engine keeps the clock) and processors that take the
    // signal pay for an AbortController.
    if (this._signalEveryJob || job.opts.timeoutMs > 0 || this._timeoutMs > 0) {
      const controller = new AbortController();
      this._aborts.set(handle, controller);
      context.signal = controller.signal;
    }
    if (this.listenerCount('active') > 0) this.emit('active', job, 'waiting');
    let result;
    try {
      result = this._processor(job, context, context.signal);
    } catch (err) {
      result = Promise.reject(err);
    }
    Promise.resolve(result).then(
      (value) => {
        let text;
        try {
          text = JSON.stringify(value === undefined ? null : value);
        } catch (err) {
          this._fail(handle, err, job);
          return;
        }
        job.returnvalue = value;
        this._completed(handle, text ?? 'null');
      },
      (err) => this._fail(handle, err, job),
    );
  }

  /** Outcomes of one tick go to the engine in one call per kind, and settle in one trip. */
  _completed(handle, text) {
    if (this._abandoned) return; // closed by force: the stalled check has the job
    if (this._aborts.size > 0) this._aborts.delete(handle);
    this._schedule();
    this._done.handles.push(handle);
    this._done.values.push(text);
  }

  _fail(handle, err, job) {
    if (this._abandoned) return; // closed by force: the stalled check has the job
    const error = err instanceof Error ? err : new Error(String(err));
    if (this._aborts.size > 0) this._aborts.delete(handle);
    if (isMovedByProcessor(error)) {
      // the processor moved the job itself (job.moveToDelayed, moveToWait...): leave it
      // where it is, as BullMQ does; no attempt, no event
      this._jobs.delete(handle);
      this._worker.forget([handle]);
      this._checkIdle();
      return;
    }
    if (error.message === RATE_LIMIT_ERROR) {
      // back to the queue unprocessed, as BullMQ does after worker.rateLimit()
      this._jobs.delete(handle);
      this._worker.release([handle]);
      this._checkIdle();
      return;
    }
    // the error the 'failed' event passes, as thrown (unless the engine already failed the
    // job, e.g. on its timeout, and will not report it again)
    if (this._jobs.has(handle)) this._errors.set(handle, error);
    job.failedReason = error.message;
    // job.discard() makes this failure final, as in BullMQ
    const unrecoverable = job.discarded === true || isUnrecoverable(error, this._nonRetryable);
    // Whether to ask a custom backoff strategy for a delay (BullMQ asks only when attempts
    // remain). Retry-or-fail itself is the engine's decision: its 'failed' event says which,
    // and the failure is logged from there.
    const final = unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const name = typeof error.name === 'string' ? error.name : null;
    const stack = typeof error.stack === 'string' ? error.stack : null;
    const backoff = job.opts.backoff;
    if (!final && this._backoffStrategy && backoff && typeof backoff === 'object' && !BUILT_IN_BACKOFFS.has(backoff.type)) {
      this._failCustom(handle, error, job, name, stack);
      return;
    }
    this._schedule();
    const f = this._failed;
    f.handles.push(handle);
    f.names.push(name);
    f.messages.push(String(error.message));
    f.stacks.push(stack);
    f.unrecoverable.push(unrecoverable);
  }

  /** A job whose backoff type only `settings.backoffStrategy` knows: the strategy gives the
   * delay (-1: do not retry), as BullMQ's `(attemptsMade, type, err, job)`. */
  _failCustom(handle, error, job, name, stack) {
    const report = (delay) => {
      if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
        this._worker.fail([handle], [name], [String(error.message)], [stack], [true]);
      } else {
        this._worker.failWithDelay(handle, name, String(error.message), stack, delay);
      }
    };
    let delay;
    try {
      delay = this._backoffStrategy(job.attemptsMade + 1, job.opts.backoff.type, error, job);
    } catch (err) {
      this._error(err);
      delay = 0;
    }
    if (delay && typeof delay.then === 'function') {
      delay.then(report, (err) => {
        this._error(err);
        report(0);
      });
    } else {
      report(delay);
    }
  }

  /** Logs a failed attempt as the engine settled it: `e` is its 'failed' event, which says
   * whether a retry follows (and after how long) and carries the job's trace id. */
  _logFailure(e, error) {
    // A retried attempt is routine (debug); the last one is worth a warning.
    const level = e.retrying ? 'debug' : 'warn';
    if (!this._logger.enabled(level)) return;
    const fields = {
      queue: this.name,
      jobId: e.id,
      jobName: e.name,
      traceId: e.traceId ?? undefined,
      workerId: this.id,
      attempt: e.attempt,
      error: `${error.name}: ${error.message}`,
    };
    if (e.retrying) fields.retryDelayMs = e.retryDelayMs;
    this._logger[level](e.retrying ? 'job attempt failed, will retry' : 'job failed', fields);
  }

  _schedule() {
    if (!this._flushScheduled) {
      this._flushScheduled = true;
      process.nextTick(this._flush);
    }
  }

  /** Called from Rust with a JSON batch of events (the engine sends them with the jobs, see
   * _onJobs; this stays the events callback createWorker takes). */
  _onEvents(text) {
    let events;
    try {
      events = wire.decodeWorkerEvents(text);
    } catch (err) {
      this._error(err);
      return;
    }
    this._handleEvents(events);
  }

  /** A batch of the worker's events, as the engine settled them. */
  _handleEvents(events) {
    for (const e of events) {
      switch (e.type) {
        case 'completed': {
          const job = this._settled(e.handle);
          if (job) {
            job.finishedOn = Date.now();
            job.attemptsMade += 1;
          }
          if (this.listenerCount('completed') > 0) {
            this.emit('completed', job, job ? job.returnvalue : JSON.parse(e.result), 'active');
          }
          break;
        }
        case 'failed': {
          // a job failed without running (it stalled too often) comes with its fields
          const job = this._settled(e.handle) ?? (e.job ? this._jobFor(e.job) : undefined);
          let error = this._errors.get(e.handle);
          if (error) this._errors.delete(e.handle);
          if (job) {
            job.attemptsMade += 1;
            if (!e.retrying) job.finishedOn = Date.now();
            // as BullMQ's moveToFailed: a retry after a backoff shows its delay
            else if (e.retryDelayMs > 0) job.delay = e.retryDelayMs;
            if (error?.stack) (job.stacktrace ||= []).push(error.stack);
          }
          if (!error || error.message !== e.reason) {
            // failed by the engine (timeout, stalled too often) rather than thrown
            if (e.errorName === 'TimeoutError') error = new TimeoutError(e.reason);
            else if (e.errorName === 'UnrecoverableError') error = new UnrecoverableError(e.reason);
            else error = new Error(e.reason);
            if (e.errorName) error.name = e.errorName;
            if (job) job.failedReason = e.reason;
          }
          if (this._logger) this._logFailure(e, error);
          if (this.listenerCount('failed') > 0) {
            this.emit('failed', job, error, 'active', { retrying: e.retrying, name: e.name, jobId: e.id });
          }
          break;
        }
        case 'timedOut': {
          const controller = this._aborts.get(e.handle);
          this._aborts.delete(e.handle);
          if (controller) controller.abort(new TimeoutError(`job ${e.id} timed out`));
          break;
        }
        case 'stalled':
          if (this.listenerCount('stalled') > 0) this.emit('stalled', e.id, 'active');
          break;
        case 'drained':
          if (this.listenerCount('drained') > 0) this.emit('drained');
          break;
        default:
          if (e.handle != null) {
            this._settled(e.handle);
            this._errors.delete(e.handle);
          }
          // jobs given back by a forced close are expected, not errors
          if (!(this._forced && e.handle != null)) this._error(new Error(e.message));
      }
    }
  }

  /** The engine is done with the job dispatched with `handle`: forget it. */
  _settled(handle) {
    if (handle == null) return undefined;
    const job = this._jobs.get(handle);
    if (job) {
      this._jobs.delete(handle);
      this._checkIdle();
    }
    return job;
  }

  _checkIdle() {
    if (this._jobs.size === 0 && this._idle.length > 0) {
      const idle = this._idle;
      this._idle = [];
      for (const resolve of idle) resolve();
    }
  }

  /** Resolves when every job handed to the processor has been settled (jobs that start
   * meanwhile, fetched with the last outcomes, are waited for too). */
  async _whenIdle() {
    while (this._jobs.size > 0) await new Promise((resolve) => this._idle.push(resolve));
  }

  _error(err) {
    // An 'error' event without a listener would throw out of a native callback.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * Stops fetching jobs; resolves once the running ones are settled (at once with
   * `doNotWaitActive`). Emits `paused`.
   */
  async pause(doNotWaitActive = false) {
    if (this._paused) return;
    this._paused = true;
    this.status = 'paused';
    if (this._worker) this._worker.pause();
    if (!doNotWaitActive) {
      await this._whenIdle();
      // as BullMQ's main loop, run() ends once paused with nothing running
      if (this._paused && this._endRun) this._endRun();
    }
    this.emit('paused');
  }

  /** Fetches again after `pause()`, running run() again if the pause ended it (as
   * BullMQ's). Emits `resumed`. */
  resume() {
    if (!this._paused && this._running) return;
    if (this._closing) return;
    this._paused = false;
    this.status = 'active';
    if (this._worker) this._worker.resume();
    if (!this._running && this._processor) this.run().catch((err) => this._error(err));
    this.emit('resumed');
  }

  /** Fetches no job for `expireTimeMs` (running jobs carry on). A processor that then throws
   * `Worker.RateLimitError()` gives its job back to the queue without using an attempt. */
  async rateLimit(expireTimeMs) {
    if (typeof expireTimeMs !== 'number' || !Number.isFinite(expireTimeMs) || expireTimeMs < 0) {
      throw new ValidationError('expireTimeMs', 'must be a non-negative number of ms');
    }
    // as BullMQ's, the queue's limiter key only: rate-limited workers of the queue (any
    // process) fetch nothing while it lives, and a processor that then throws
    // Worker.RateLimitError() gives its job back and waits for it, whatever its limiter
    if (expireTimeMs > 0) await call((await this._engine).pauseRateLimited(this.name, Math.ceil(expireTimeMs)));
  }

  /** `active`, `paused` (here or by another process), `error` (its last round trip to
   * Redis failed) or `closed`. */
  get state() {
    if (this.status === 'closed') return 'closed';
    if (!this._worker) return this._paused ? 'paused' : 'active';
    const s = this._worker.stats();
    if (s.errored) return 'error';
    return s.paused ? 'paused' : 'active';
  }

  /** Processed / failed counts and activity of this worker. */
  stats() {
    if (!this._worker) return { completed: 0, failed: 0, lastActivityMs: 0, uptimeMs: 0, errored: false, paused: this._paused };
    return this._worker.stats();
  }

  /**
   * Aborts the signal of job `jobId` running here, with `reason` (BullMQ's cancelJob): the
   * processor decides what to do with it. True when the job runs here with a signal (its
   * processor takes a third argument, or it has a timeout).
   */
  cancelJob(jobId, reason) {
    for (const [handle, job] of this._jobs) {
      if (job.id === String(jobId)) {
        const controller = this._aborts.get(handle);
        if (!controller) return false;
        controller.abort(reason);
        return true;
      }
    }
    return false;
  }

  /** Aborts the signals of every job running here with one (BullMQ's cancelAllJobs). */
  cancelAllJobs(reason) {
    for (const controller of this._aborts.values()) controller.abort(reason);
  }

  /**
   * Renews the locks of jobs `jobIds` for `duration` ms, each only if the token of the same
   * rank in `tokens` holds it; resolves to the ids not renewed (BullMQ's extendJobLocks).
   */
  async extendJobLocks(jobIds, tokens, duration) {
    if (!Array.isArray(jobIds) || !Array.isArray(tokens) || jobIds.length !== tokens.length) {
      throw new ValidationError('tokens', 'jobIds and tokens must be arrays of the same length');
    }
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
      throw new ValidationError('duration', 'must be a positive number of ms');
    }
    const ids = jobIds.map((id) => String(id));
    const ts = tokens.map((t) => Jobs.checkToken(t));
    return call((await this._engine).extendLocks(this.name, ids, ts, duration));
  }

  /** Resolves after `milliseconds` (default 100), or once `abortController` aborts, as
   * BullMQ's worker.delay. */
  delay(milliseconds, abortController) {
    return new Promise((resolve) => {
      const signal = abortController?.signal;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, milliseconds || 100);
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done);
    });
  }

  /** BullMQ's forced disconnect: closes at once, as close(true) (running jobs are left to
   * the stalled check). */
  disconnect() {
    return this.close(true);
  }

  /**
   * Stops fetching and waits for the running jobs to be settled, then releases everything
   * that keeps the process alive. Emits `closing`, then `closed`.
   * `force` (`true`), as BullMQ: do not wait. Running jobs are left active with their locks
   * no longer renewed; once a lock lapses, the stalled check of a worker on the queue (any
   * process, BullMQ's too) moves the job back to wait, counting a stall (past
   * `maxStalledCount` it fails). What their processors return afterwards is ignored.
   * A number instead of `force` (ours, the coordinator's shutdown timeout) waits at most that
   * many ms, then gives what still runs back to the front of the queue at once, without
   * using an attempt.
   */
  close(force = false) {
    if (!this._closing) {
      const abandon = typeof force !== 'number' && Boolean(force);
      const timeoutMs = typeof force === 'number' ? Math.max(0, Math.min(force, NO_TIMEOUT)) : this._closeMs;
      this._forced = abandon || timeoutMs === 0;
      this._abandoned = abandon;
      this.status = 'closed';
      this.emit('closing', 'closing queue');
      if (this._stalledTimer) clearTimeout(this._stalledTimer);
      this._stalledTimer = null;
      this._closing = (async () => {
        try {
          if (this._connecting) {
            await this._connecting.catch(() => {});
            if (this._worker) await (abandon ? this._worker.closeAbandoning() : this._worker.close(timeoutMs));
          }
          // ends a getNextJob waiting for a job; jobs taken by hand stay active
          if (this._manualWorker) await this._manualWorker.then((m) => m.native.close(), () => {});
        } finally {
          this._jobs.clear();
          this._errors.clear();
          this._checkIdle();
          if (this._release) this._release();
          this.closed = true;
          if (this._endRun) this._endRun();
          this.emit('closed');
        }
      })();
    }
    return this._closing;
  }
}

module.exports = { Worker };
