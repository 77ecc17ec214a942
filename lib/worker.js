'use strict';
// A registered worker: the engine runs the loop, locks and timers in Rust and hands batches of
// jobs to `dispatch`, which runs the user's processor and reports each outcome back
// synchronously. Nothing here can throw into the native caller.

const { EventEmitter } = require('node:events');
const { ActiveJob } = require('./job');
const { isUnrecoverable, TimeoutError } = require('./errors');

class Worker extends EventEmitter {
  /**
   * `nonRetryable`: error names that fail a job at once (the coordinator's registry plus the
   * worker's own); `timeoutMs`: the worker's attempt timeout, for jobs that set none.
   */
  constructor(queueName, processor, native, { nonRetryable, timeoutMs, logger } = {}) {
    super();
    this.queueName = queueName;
    this._processor = processor;
    this._native = native; // the engine, for job.updateProgress / job.log
    this._nonRetryable = nonRetryable;
    this._timeoutMs = timeoutMs;
    this._logger = logger;
    this._aborts = new Map(); // handle -> AbortController, for jobs with a timeout
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
    this._closed = null;
    this.status = 'active';
    this.registeredAt = new Date();
  }

  get id() {
    return this._worker.id;
  }

  /** Attaches the native worker; batches that arrived before it are run now. */
  _attach(nativeWorker) {
    this._worker = nativeWorker;
    const early = this._early;
    this._early = null;
    for (const text of early || []) this._onJobs(text);
  }

  /** Called from Rust with a JSON batch `[{handle, job}]`. The engine may start fetching
   * before `createWorker` resolves, so early batches wait for `_attach`. */
  _onJobs(text) {
    if (!this._worker) {
      (this._early ||= []).push(text);
      return;
    }
    let batch;
    try {
      batch = JSON.parse(text);
    } catch (err) {
      this._error(err);
      return;
    }
    for (const { handle, job } of batch) this._run(handle, job);
  }

  _run(handle, fields) {
    const job = new ActiveJob(fields, this.queueName, this._native, this);
    const context = {
      workerId: this._worker.id,
      queueName: this.queueName,
      jobId: job.id,
      attemptNumber: job.attemptsMade + 1,
      startTime: Date.now(),
    };
    // Only jobs with a timeout pay for an AbortController; the engine keeps the clock.
    if (job.opts.timeoutMs > 0 || this._timeoutMs > 0) {
      const controller = new AbortController();
      this._aborts.set(handle, controller);
      context.signal = controller.signal;
    }
    if (this.listenerCount('active') > 0) this.emit('active', job);
    let result;
    try {
      result = this._processor(job, context);
    } catch (err) {
      result = Promise.reject(err);
    }
    Promise.resolve(result).then(
      (value) => {
        let text;
        try {
          text = JSON.stringify(value === undefined ? null : value);
        } catch (err) {
          this._fail(handle, err);
          return;
        }
        this._completed(handle, text ?? 'null');
      },
      (err) => {
        // A retried attempt is routine (debug); the last one is worth a warning.
        const final = job.discarded === true || isUnrecoverable(err, this._nonRetryable) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const level = final ? 'warn' : 'debug';
        if (this._logger?.enabled(level)) {
          this._logger[level](final ? 'job failed' : 'job attempt failed, will retry', {
            queue: this.queueName,
            jobId: job.id,
            jobName: job.name,
            traceId: job.traceId,
            workerId: context.workerId,
            attempt: context.attemptNumber,
            error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
          });
        }
        this._fail(handle, err, job.discarded === true);
      },
    );
  }

  /** Outcomes of one tick go to the engine in one call per kind, and settle in one trip. */
  _completed(handle, text) {
    if (this._aborts.size > 0) this._aborts.delete(handle);
    this._schedule();
    this._done.handles.push(handle);
    this._done.values.push(text);
  }

  _fail(handle, err, discarded = false) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this._aborts.size > 0) this._aborts.delete(handle);
    this._schedule();
    const f = this._failed;
    f.handles.push(handle);
    f.names.push(typeof error.name === 'string' ? error.name : null);
    f.messages.push(String(error.message));
    f.stacks.push(typeof error.stack === 'string' ? error.stack : null);
    f.unrecoverable.push(discarded || isUnrecoverable(error, this._nonRetryable));
  }

  _schedule() {
    if (!this._flushScheduled) {
      this._flushScheduled = true;
      process.nextTick(this._flush);
    }
  }

  /** Called from Rust with a JSON batch of events. */
  _onEvents(text) {
    let events;
    try {
      events = JSON.parse(text);
    } catch (err) {
      this._error(err);
      return;
    }
    for (const e of events) {
      switch (e.type) {
        case 'completed':
          if (this.listenerCount('completed') > 0) this.emit('completed', e.id, JSON.parse(e.result));
          break;
        case 'failed': {
          const error = new Error(e.reason);
          if (e.errorName) error.name = e.errorName;
          this.emit('failed', e.id, error, { retrying: e.retrying, name: e.name });
          break;
        }
        case 'timedOut': {
          const controller = this._aborts.get(e.handle);
          this._aborts.delete(e.handle);
          if (controller) controller.abort(new TimeoutError(`job ${e.id} timed out`));
          break;
        }
        case 'stalled':
          this.emit('stalled', e.id);
          break;
        case 'drained':
          this.emit('drained');
          break;
        default:
          this._error(new Error(e.message));
      }
    }
  }

  _error(err) {
    // An 'error' event without a listener would throw out of a native callback.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Stops taking new jobs; running jobs finish. */
  pause() {
    this._worker.pause();
    this.status = 'paused';
  }

  resume() {
    this._worker.resume();
    this.status = 'active';
  }

  /** `active`, `paused` (here or by another process), `error` (its last round trip to
   * Redis failed) or `closed`. */
  get state() {
    if (this.status === 'closed') return 'closed';
    const s = this._worker.stats();
    if (s.errored) return 'error';
    return s.paused ? 'paused' : 'active';
  }

  /** Processed / failed counts and activity of this worker. */
  stats() {
    return this._worker.stats();
  }

  /**
   * Stops fetching, waits up to `timeoutMs` (default 30 s) for running jobs, gives unfinished
   * ones back to the queue and releases everything that keeps the process alive.
   */
  close(timeoutMs = 30000) {
    if (!this._closed) {
      this.status = 'closed';
      this._closed = this._worker.close(timeoutMs).then(() => this.emit('closed'));
    }
    return this._closed;
  }
}

module.exports = { Worker };
