'use strict';
// A registered worker: the engine runs the loop, locks and timers in Rust and hands batches of
// jobs to `dispatch`, which runs the user's processor and reports each outcome back
// synchronously. Nothing here can throw into the native caller.

const { EventEmitter } = require('node:events');
const { ActiveJob } = require('./job');
const { isUnrecoverable } = require('./errors');

class Worker extends EventEmitter {
  constructor(queueName, processor, native) {
    super();
    this.queueName = queueName;
    this._processor = processor;
    this._native = native; // the engine, for job.updateProgress / job.log
    this._worker = null; // NativeWorker, set by _attach()
    this._early = null; // job batches that arrived before _attach
    this._done = { handles: [], values: [] }; // completions not yet reported
    this._failed = { handles: [], messages: [], stacks: [], unrecoverable: [] }; // likewise
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
        this._failed = { handles: [], messages: [], stacks: [], unrecoverable: [] };
        this._worker.fail(failed.handles, failed.messages, failed.stacks, failed.unrecoverable);
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
    const job = new ActiveJob(fields, this.queueName, this._native);
    const context = {
      workerId: this._worker.id,
      queueName: this.queueName,
      jobId: job.id,
      attemptNumber: job.attemptsMade + 1,
      startTime: Date.now(),
    };
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
      (err) => this._fail(handle, err),
    );
  }

  /** Outcomes of one tick go to the engine in one call per kind, and settle in one trip. */
  _completed(handle, text) {
    this._schedule();
    this._done.handles.push(handle);
    this._done.values.push(text);
  }

  _fail(handle, err) {
    const error = err instanceof Error ? err : new Error(String(err));
    this._schedule();
    const f = this._failed;
    f.handles.push(handle);
    f.messages.push(String(error.message));
    f.stacks.push(typeof error.stack === 'string' ? error.stack : null);
    f.unrecoverable.push(isUnrecoverable(error));
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
        case 'failed':
          this.emit('failed', e.id, new Error(e.reason), { retrying: e.retrying });
          break;
        case 'stalled':
          this.emit('stalled', e.id);
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
