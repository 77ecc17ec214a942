'use strict';
// Job objects handed to callers and processors. `opts` of a freshly added job arrives as
// JSON text and is parsed only when read.

class Job {
  constructor(fields, queueName) {
    Object.assign(this, fields);
    this.queueName = queueName;
  }

  /** The trace id the job was scheduled with (`scheduleJob`), if any. */
  get traceId() {
    return this.opts?.traceId;
  }
}

/** The job returned by enqueueJob / enqueueBulk: `{id, name, data, opts, timestamp, queueName}`. */
class AddedJob {
  #optsText; // parsed on first read of `opts`: most callers of enqueue never read it

  constructor(id, name, data, optsText, timestamp, queueName) {
    this.id = id;
    this.name = name;
    this.data = data;
    this.timestamp = timestamp;
    this.queueName = queueName;
    this.#optsText = optsText;
  }

  get opts() {
    const value = JSON.parse(this.#optsText);
    Object.defineProperty(this, 'opts', { value, enumerable: true });
    return value;
  }

  /** The trace id the job was scheduled with (`scheduleJob`), if any. */
  get traceId() {
    return this.opts.traceId;
  }

  toJSON() {
    const { id, name, data, opts, timestamp, queueName } = this;
    return { id, name, data, opts, timestamp, queueName };
  }
}

/** The job a processor receives: the stored job plus `updateProgress` and `log`. */
class ActiveJob extends Job {
  #native;
  #worker;

  constructor(fields, queueName, native, worker) {
    super(fields, queueName);
    this.#native = native;
    this.#worker = worker;
  }

  /** Stores progress (a number or an object) and emits a `progress` event, in the queue's
   * events stream and on the worker (and so on the coordinator). */
  async updateProgress(progress) {
    this.progress = progress;
    await this.#native.updateProgress(this.queueName, this.id, JSON.stringify(progress));
    if (this.#worker?.listenerCount('progress') > 0) this.#worker.emit('progress', this.id, progress);
  }

  /** Appends a line to the job's log; resolves to the number of lines. */
  async log(text) {
    return this.#native.addLog(this.queueName, this.id, String(text), this.opts?.kl ?? 0);
  }
}

module.exports = { Job, AddedJob, ActiveJob };
