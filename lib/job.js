'use strict';
// BullMQ 6's `Job` on our engine: the same fields, constructors and methods, reading and
// writing the hash fields BullMQ does, so a job added by BullMQ reads the same here and one
// added here reads the same in BullMQ.
//
// A job belongs to a queue handle: any object with `name` (the queue name), `prefix` (the
// key prefix, optional) and `native()` (a promise of the connected NativeEngine). Queue and
// Worker classes pass themselves; the coordinator passes a small handle. If the handle also
// has `emit`, `updateProgress` and `remove` announce on it as BullMQ's Queue does.

const { ValidationError, JobNotFoundError, isUnrecoverable, fromNative } = require('./errors');
const { call, checkJobId, serialiseData } = require('./input');
const wire = require('./wire');
const { DEFAULT_PREFIX } = require('./connection');

/** Constructs without work; the caller fills the fields. */
const BARE = Symbol('bare job');

/** Stored option keys that BullMQ shortens, and their public names. */
const LONG_NAMES = {
  de: 'deduplication',
  fpof: 'failParentOnFailure',
  cpof: 'continueParentOnFailure',
  idof: 'ignoreDependencyOnFailure',
  kl: 'keepLogs',
  rdof: 'removeDependencyOnFailure',
};

/** BullMQ's highest priority. */
const PRIORITY_LIMIT = 2 ** 21 - 1;

const STATES = new Set(['completed', 'failed']);

/** A backoff option as BullMQ keeps it on a job: a number n is `{type: 'fixed', delay: n}`. */
function normaliseBackoff(backoff) {
  if (Number.isFinite(backoff)) return { type: 'fixed', delay: backoff };
  return backoff || undefined;
}

/**
 * Options as BullMQ's Job exposes them: stored short keys under their public names, the
 * telemetry pair folded into `telemetry`, `attempts` defaulting to 0, `backoff` normalised
 * (present, possibly undefined, as in BullMQ), and `repeatJobKey` moved out (it is a field
 * of the job).
 */
function publicOpts(stored) {
  const opts = { attempts: 0 };
  if (stored && typeof stored === 'object') {
    for (const key of Object.keys(stored)) {
      const value = stored[key];
      if (key === 'repeatJobKey') continue;
      if (key === 'tm') opts.telemetry = { ...opts.telemetry, metadata: value };
      else if (key === 'omc') opts.telemetry = { ...opts.telemetry, omitContext: value };
      else opts[LONG_NAMES[key] ?? key] = value;
    }
  }
  opts.backoff = normaliseBackoff(opts.backoff);
  return opts;
}

/** A queue handle, checked as far as a job needs it. */
function checkHandle(queue) {
  if (!queue || typeof queue !== 'object' || typeof queue.name !== 'string' || queue.name === '') {
    throw new ValidationError('queue', 'must be a queue handle: an object with a non-empty `name`, `prefix` and `native()`');
  }
  return queue;
}

function attach(job, queue) {
  job.queue = checkHandle(queue);
}

/** Stacktrace text (a JSON array) as an array, leniently as BullMQ reads it. */
function traces(text) {
  if (Array.isArray(text)) return text;
  if (typeof text !== 'string' || text === '') return [];
  try {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/** A stored return value (JSON text) as a value; undefined when it is not JSON. */
function returnValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A lock token as given: the token, or a worker's processing context, which stands in for
 * it where BullMQ passes the token to the processor. */
function tokenOf(token) {
  if (token !== null && typeof token === 'object' && typeof token.token === 'string') return token.token;
  return token;
}

/** A lock token argument (or a processing context standing in for it) as the token. */
function checkToken(token) {
  token = tokenOf(token);
  if (typeof token !== 'string' || token === '') throw new ValidationError('token', 'must be a non-empty string');
  return token;
}

/** Backoff types the engine works out itself; others need the worker's backoffStrategy. */
const BUILT_IN_BACKOFFS = new Set(['fixed', 'exponential']);

/**
 * What settling by hand needs of a job's queue handle: `{ native }`, the engine's manual
 * worker, plus the worker's `backoffStrategy` and `nonRetryable` names. A Worker (or a job it
 * handed out) gives its own, with its options (lock duration, name, limiter, keep policies);
 * any other handle, one with default worker options on its engine.
 */
async function manualOf(queue) {
  if (typeof queue?._manual === 'function') return queue._manual();
  const native = await engineOf(queue);
  try {
    return { native: native.manualWorker(queue.name, {}) };
  } catch (err) {
    throw fromNative(err);
  }
}

/** BullMQ's JobJson (data, stacktrace and returnvalue as JSON text, opts by their public
 * names) from the engine's job JSON, for `Job.fromJSON`. */
function jobJsonOf(f) {
  const json = {
    id: f.id,
    name: f.name,
    data: JSON.stringify(f.data === undefined ? {} : f.data),
    opts: publicOpts(f.opts),
    progress: f.progress ?? 0,
    delay: f.delay ?? 0,
    priority: f.priority ?? 0,
    timestamp: f.timestamp,
    attemptsStarted: f.attemptsStarted ?? 0,
    attemptsMade: f.attemptsMade ?? 0,
    stalledCounter: f.stalledCounter ?? 0,
    stacktrace: JSON.stringify(f.stacktrace ?? []),
  };
  if (f.processedOn !== undefined) json.processedOn = f.processedOn;
  if (f.finishedOn !== undefined) json.finishedOn = f.finishedOn;
  if (f.repeatJobKey !== undefined) json.repeatJobKey = f.repeatJobKey;
  if (f.deduplicationId !== undefined) json.deduplicationId = f.deduplicationId;
  if (f.failedReason !== undefined) json.failedReason = f.failedReason;
  if (f.deferredFailure !== undefined) json.deferredFailure = f.deferredFailure;
  if (f.returnvalue !== undefined) json.returnvalue = JSON.stringify(f.returnvalue);
  if (f.processedBy !== undefined) json.processedBy = f.processedBy;
  return json;
}

/**
 * BullMQ's answer of a settle that fetched: `[jobJson, jobId, 0, 0]` with the next job (now
 * active under the same token; `Job.fromJSON(worker, jobJson, jobId)` makes it a Job);
 * without one, `[null, 0, rateLimitMs, 0]` when the rate limit stopped the fetch or
 * `[null, 0, 0, nextDelayedMs]` when a delayed job is pending (only when `waitInfo`), else [].
 */
function nextJobData(next, waitInfo) {
  if (!next) return [];
  if (next.job) return [jobJsonOf(next.job), next.job.id, 0, 0];
  if (!waitInfo) return [];
  if (next.rateLimitMs > 0) return [null, 0, next.rateLimitMs, 0];
  if (next.nextDelayedMs > 0) return [null, 0, 0, next.nextDelayedMs];
  return [];
}

function checkMs(value, field) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative number of ms');
  }
  return value;
}

/** Fills `job` from the engine's job JSON (NativeEngine.getJob): data, opts, progress and
 * returnvalue already parsed; absent fields are absent. */
function fillStored(job, queue, f) {
  attach(job, queue);
  job.id = f.id;
  job.name = f.name;
  job.data = f.data;
  job.opts = publicOpts(f.opts);
  job.progress = f.progress ?? 0;
  job.returnvalue = f.returnvalue === undefined ? null : f.returnvalue;
  job.failedReason = f.failedReason;
  job.stacktrace = f.stacktrace ?? [];
  job.attemptsMade = f.attemptsMade ?? 0;
  job.attemptsStarted = f.attemptsStarted ?? 0;
  job.stalledCounter = f.stalledCounter ?? 0;
  job.timestamp = f.timestamp;
  job.processedOn = f.processedOn;
  job.finishedOn = f.finishedOn;
  job.delay = f.delay ?? 0;
  job.priority = f.priority ?? 0;
  job.repeatJobKey = f.repeatJobKey;
  job.deduplicationId = f.deduplicationId;
  job.deferredFailure = f.deferredFailure;
  job.processedBy = f.processedBy;
  job.queueName = queue.name;
  // our own fields: the class name of the final error, and when it was archived
  if (f.errorName !== undefined) job.errorName = f.errorName;
  if (f.archivedOn !== undefined) job.archivedOn = f.archivedOn;
  return job;
}

class Job {
  // the queue handle: behind an accessor, so it stays out of enumeration and JSON as
  // BullMQ keeps it, at no per-job property definition cost
  #queue;

  get queue() {
    return this.#queue;
  }

  set queue(queue) {
    this.#queue = queue;
  }

  /**
   * BullMQ's form: `new Job(queue, name, data, opts?, id?)` builds a job object without
   * adding it (`Queue.add` adds). `queue` is a queue handle.
   */
  constructor(queue, name, data, opts = {}, id) {
    if (queue === BARE) return;
    if (arguments.length === 2 && typeof name === 'string' && isStoredFields(queue)) {
      // the earlier internal form `new Job(storedFields, queueName)`, without a handle
      fillStored(this, { name }, queue);
      return;
    }
    attach(this, queue);
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
      throw new ValidationError('opts', 'must be an object');
    }
    const { repeatJobKey, ...rest } = opts;
    this.id = id === undefined ? undefined : String(id);
    this.name = name;
    this.data = data;
    this.opts = { attempts: 0, ...rest };
    this.opts.backoff = normaliseBackoff(rest.backoff);
    this.progress = 0;
    this.returnvalue = null;
    this.failedReason = undefined;
    this.stacktrace = null;
    this.attemptsMade = 0;
    this.attemptsStarted = 0;
    this.stalledCounter = 0;
    this.timestamp = opts.timestamp ? opts.timestamp : Date.now();
    this.processedOn = undefined;
    this.finishedOn = undefined;
    this.delay = opts.delay ?? 0;
    this.priority = opts.priority || 0;
    this.repeatJobKey = repeatJobKey;
    this.deduplicationId = opts.deduplication?.id;
    this.queueName = queue.name;
  }

  /** A job from the engine's job JSON (what NativeEngine.getJob returns, parsed). */
  static fromStored(queue, fields) {
    return fillStored(Reflect.construct(Job, [BARE], this), queue, fields);
  }

  /**
   * BullMQ's `Job.fromJSON(queue, json, jobId?)`: `json` is BullMQ's JobJson, with `data`,
   * `returnvalue` and `stacktrace` as JSON text and `opts` an object.
   */
  static fromJSON(queue, json, jobId) {
    if (!json || typeof json !== 'object') throw new ValidationError('json', 'must be a job JSON object');
    let data;
    try {
      data = JSON.parse(json.data || '{}');
    } catch (err) {
      throw new ValidationError('json.data', `is not JSON (${err.message})`);
    }
    const job = Reflect.construct(Job, [queue, json.name, data, publicOpts(json.opts), json.id || jobId], this);
    job.progress = json.progress ?? 0;
    job.delay = json.delay ?? 0;
    job.priority = json.priority ?? 0;
    job.timestamp = json.timestamp;
    if (json.finishedOn) job.finishedOn = json.finishedOn;
    if (json.processedOn) job.processedOn = json.processedOn;
    if (json.repeatJobKey) job.repeatJobKey = json.repeatJobKey;
    if (json.deduplicationId) job.deduplicationId = json.deduplicationId;
    if (json.failedReason) job.failedReason = json.failedReason;
    job.attemptsStarted = json.attemptsStarted ?? 0;
    job.attemptsMade = json.attemptsMade ?? 0;
    job.stalledCounter = json.stalledCounter ?? 0;
    if (json.deferredFailure) job.deferredFailure = json.deferredFailure;
    job.stacktrace = traces(json.stacktrace);
    if (typeof json.returnvalue === 'string') job.returnvalue = returnValue(json.returnvalue);
    if (json.processedBy) job.processedBy = json.processedBy;
    return job;
  }

  /** BullMQ's `Job.create(queue, name, data, opts)`: adds the job to `queue` (a Queue) and
   * resolves to it, without the Queue's `waiting` event. */
  static async create(queue, name, data, opts) {
    const [job] = await this.createBulk(queue, [{ name, data, opts }]);
    return job;
  }

  /** BullMQ's `Job.createBulk(queue, [{ name, data, opts }])`: adds them atomically. */
  static async createBulk(queue, jobs) {
    if (!queue || typeof queue.addBulk !== 'function') throw new ValidationError('queue', 'must be a Queue');
    return queue.addBulk(jobs);
  }

  /**
   * BullMQ's `Job.optsFromJSON(rawOpts, optsDecode?)`: job options from their stored JSON
   * text, short keys (`kl`, `de`, `fpof`...) under their public names (`optsDecode` maps
   * them; BullMQ's map by default) and the telemetry pair folded into `telemetry`.
   */
  static optsFromJSON(rawOpts, optsDecode = LONG_NAMES) {
    let stored;
    try {
      stored = JSON.parse(rawOpts || '{}');
    } catch (err) {
      throw new ValidationError('rawOpts', `is not JSON (${err.message})`);
    }
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) {
      throw new ValidationError('rawOpts', 'must be the JSON text of an object');
    }
    const options = {};
    for (const [key, value] of Object.entries(stored)) {
      if (optsDecode?.[key]) options[optsDecode[key]] = value;
      else if (key === 'tm') options.telemetry = { ...options.telemetry, metadata: value };
      else if (key === 'omc') options.telemetry = { ...options.telemetry, omitContext: value };
      else options[key] = value;
    }
    return options;
  }

  /** BullMQ's `Job.addJobLog(queue, jobId, logRow, keepLogs?)`: appends a row to the log of
   * job `jobId` of `queue` (a Queue); resolves to the row count. */
  static async addJobLog(queue, jobId, logRow, keepLogs) {
    if (!queue || typeof queue.addJobLog !== 'function') throw new ValidationError('queue', 'must be a Queue');
    return queue.addJobLog(jobId, logRow, keepLogs);
  }

  /** BullMQ's `Job.fromId(queue, jobId)`: the stored job, or undefined. */
  static async fromId(queue, jobId) {
    if (jobId === undefined || jobId === null || jobId === '') return undefined;
    const id = checkJobId(jobId);
    const native = await engineOf(queue);
    const text = await call(native.getJob(queue.name, id));
    return text === null ? undefined : this.fromStored(queue, JSON.parse(text));
  }

  /** The key prefix of the job's queue. */
  get prefix() {
    return this.queue?.prefix;
  }

  /** `<prefix>:<queue name>`, as BullMQ's Job names its queue's keys. */
  get queueQualifiedName() {
    const prefix = this.queue?.prefix ?? DEFAULT_PREFIX;
    return `${prefix.endsWith(':') ? prefix.slice(0, -1) : prefix}:${this.queueName}`;
  }

  /** The trace id the job was scheduled with (`scheduleJob`), if any. */
  get traceId() {
    return this.opts?.traceId;
  }

  /** Stores progress (a number, string, boolean or object) and emits a `progress` event. */
  async updateProgress(progress) {
    let text;
    try {
      text = progress === undefined ? undefined : JSON.stringify(progress);
    } catch (err) {
      throw new ValidationError('progress', `is not JSON-serialisable (${err.message})`);
    }
    if (text === undefined) throw new ValidationError('progress', 'must be a number, string, boolean or object');
    const native = await this._engine();
    await call(native.updateProgress(this.queueName, this._jobId(), text));
    this.progress = progress;
    if (typeof this.queue.emit === 'function') this.queue.emit('progress', this, progress);
  }

  /** Replaces the job's data. */
  async updateData(data) {
    const text = serialiseData(data);
    const native = await this._engine();
    await call(native.updateData(this.queueName, this._jobId(), text));
    this.data = data;
  }

  /** Appends a row to the job's log (kept to `opts.keepLogs` rows); resolves to the count. */
  async log(logRow) {
    if (logRow === undefined || logRow === null) throw new ValidationError('logRow', 'must be a string');
    const native = await this._engine();
    const keep = Number.isInteger(this.opts?.keepLogs) && this.opts.keepLogs > 0 ? this.opts.keepLogs : 0;
    let row;
    try {
      row = String(logRow);
    } catch (err) {
      // an object with no toString (made with a null prototype) and the like
      throw new ValidationError('logRow', `must be a string (${err.message})`);
    }
    return call(native.addLog(this.queueName, this._jobId(), row, keep));
  }

  /**
   * Clears the job's log, keeping its newest `keepLogs` rows when given (as BullMQ's
   * `clearLogs`; 0 or none clears it all). A job without a log is no error.
   */
  async clearLogs(keepLogs) {
    if (keepLogs !== undefined && keepLogs !== null && (!Number.isInteger(keepLogs) || keepLogs < 0)) {
      throw new ValidationError('keepLogs', 'must be a non-negative integer');
    }
    const native = await this._engine();
    await call(native.clearLogs(this.queueName, this._jobId(), keepLogs ?? 0));
  }

  /**
   * Ends the job's deduplication window now, if the job still owns it (a later job may have
   * taken the id over), so the next add with its deduplication id adds a job. Resolves to
   * whether a window ended (false for a job without a deduplication id), as BullMQ's.
   */
  async removeDeduplicationKey() {
    if (!this.deduplicationId) return false;
    const native = await this._engine();
    return call(native.removeDedupKey(this.queueName, String(this.deduplicationId), this._jobId()));
  }

  /** 'completed', 'failed', 'delayed', 'active', 'waiting', 'waiting-children',
   * 'prioritized' or 'unknown'. */
  async getState() {
    const native = await this._engine();
    return call(native.jobState(this.queueName, this._jobId()));
  }

  async isCompleted() {
    return (await this.getState()) === 'completed';
  }

  async isFailed() {
    return (await this.getState()) === 'failed';
  }

  async isDelayed() {
    return (await this.getState()) === 'delayed';
  }

  async isActive() {
    return (await this.getState()) === 'active';
  }

  async isWaiting() {
    return (await this.getState()) === 'waiting';
  }

  async isWaitingChildren() {
    return (await this.getState()) === 'waiting-children';
  }

  /**
   * Deletes the job with its logs. A job a worker holds (active, locked) is refused with a
   * JobStateError, as BullMQ refuses it, and so is the next run of a job scheduler. Jobs
   * here have no children, so `removeChildren` has nothing to remove.
   */
  async remove({ removeChildren = true } = {}) {
    if (typeof removeChildren !== 'boolean') throw new ValidationError('removeChildren', 'must be a boolean');
    const native = await this._engine();
    await call(native.removeJob(this.queueName, this._jobId()));
    if (typeof this.queue.emit === 'function') this.queue.emit('removed', this);
  }

  /**
   * Moves a finished job (`state` 'failed' or 'completed') back to waiting. Options:
   * `resetAttemptsMade`, `resetAttemptsStarted`.
   */
  async retry(state = 'failed', opts = {}) {
    if (!STATES.has(state)) throw new ValidationError('state', "must be 'completed' or 'failed'");
    if (opts === null || typeof opts !== 'object') throw new ValidationError('opts', 'must be an object');
    const native = await this._engine();
    await call(native.retryFinished(this.queueName, this._jobId(), state, opts.resetAttemptsMade === true, opts.resetAttemptsStarted === true));
    this.failedReason = null;
    this.finishedOn = null;
    this.processedOn = null;
    this.returnvalue = null;
    if (opts.resetAttemptsMade) this.attemptsMade = 0;
    if (opts.resetAttemptsStarted) this.attemptsStarted = 0;
  }

  /** Runs a delayed job now. */
  async promote() {
    const native = await this._engine();
    await call(native.promoteJob(this.queueName, this._jobId()));
    this.delay = 0;
  }

  /** Makes a delayed job due `delay` ms from now. */
  async changeDelay(delay) {
    checkMs(delay, 'delay');
    const native = await this._engine();
    await call(native.changeDelay(this.queueName, this._jobId(), delay));
    this.delay = delay;
  }

  /** Gives the job a new priority (0 = none); a waiting job moves at once, first among its
   * peers with `lifo`. */
  async changePriority(opts) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('opts', 'must be an object');
    const { priority = 0, lifo = false } = opts;
    if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_LIMIT) {
      throw new ValidationError('priority', `must be an integer between 0 and ${PRIORITY_LIMIT}`);
    }
    if (typeof lifo !== 'boolean') throw new ValidationError('lifo', 'must be a boolean');
    const native = await this._engine();
    await call(native.changeJobPriority(this.queueName, this._jobId(), priority, lifo));
    this.priority = priority;
  }

  /** Renews the job's lock for `duration` ms if `token` holds it; resolves to 1 if it was
   * renewed, else 0. */
  async extendLock(token, duration) {
    token = tokenOf(token);
    if (typeof token !== 'string' || token === '') throw new ValidationError('token', 'must be a non-empty string');
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0) {
      throw new ValidationError('duration', 'must be a positive number of ms');
    }
    const native = await this._engine();
    return call(native.extendLock(this.queueName, this._jobId(), token, duration));
  }

  /**
   * Moves the running job to delayed until `timestamp` (ms since the epoch; now if past),
   * releasing its lock; with `token`, only if it holds the lock. The attempt does not count.
   * A processor doing this must then throw BullMQ's DelayedError so its worker does not
   * also finish the job.
   */
  async moveToDelayed(timestamp, token) {
    token = tokenOf(token);
    checkMs(timestamp, 'timestamp');
    if (token !== undefined && (typeof token !== 'string' || token === '')) {
      throw new ValidationError('token', 'must be a non-empty string when given');
    }
    const native = await this._engine();
    this.delay = await call(native.moveToDelayed(this.queueName, this._jobId(), timestamp, token));
  }

  /**
   * Completes the job held with `token` (BullMQ's manual processing: `worker.getNextJob`,
   * then this), as a worker does: same keep policies (the job's, else the worker's), events
   * and metrics. With `fetchNext` (default true) the next job is taken in the same call,
   * locked with the same token, and the answer is BullMQ's `[jobJson, jobId, rateLimitMs,
   * nextDelayedMs]` (see nextJobData); else `[]`. A LockError when `token` does not hold the
   * job's lock ('0', BullMQ's lockless token, skips the check), a JobStateError when the job
   * is not active; nothing is written then.
   */
  async moveToCompleted(returnValue, token, fetchNext = true) {
    token = checkToken(token);
    let text;
    try {
      text = JSON.stringify(returnValue === undefined ? null : returnValue);
    } catch (err) {
      throw new ValidationError('returnValue', `is not JSON-serialisable (${err.message})`);
    }
    const id = this._jobId();
    const manual = await manualOf(this.queue);
    const fetch = Boolean(fetchNext);
    const settled = wire.decodeManualSettled(await call(manual.native.complete(id, token, text ?? 'null', fetch)));
    this.returnvalue = returnValue === undefined ? null : returnValue;
    this.finishedOn = settled.finishedOn;
    this.attemptsMade = settled.attemptsMade;
    return fetch ? nextJobData(settled.next, true) : [];
  }

  /**
   * Fails the current attempt of the job held with `token`, as a worker does: retried while
   * attempts remain (at once, or after its backoff, a custom one from the worker's
   * `settings.backoffStrategy`), else failed for good; UnrecoverableError, `discard()` and
   * the worker's non-retryable errors fail it at once. Updates `failedReason`, `stacktrace`,
   * `attemptsMade`, `finishedOn` and `delay`. Answers as BullMQ: undefined after a retry at
   * once; else with `fetchNext` (default false) the next job as moveToCompleted does, but
   * after a delayed retry only a job (else []); else []. Refused as moveToCompleted is.
   */
  async moveToFailed(err, token, fetchNext = false) {
    token = checkToken(token);
    const error = err instanceof Error ? err : new Error(String(err?.message ?? err));
    const id = this._jobId();
    const manual = await manualOf(this.queue);
    let unrecoverable = this.discarded === true || isUnrecoverable(error, manual.nonRetryable);
    let delayMs;
    const backoff = this.opts?.backoff;
    const attemptsLeft = this.attemptsMade + 1 < (this.opts?.attempts ?? 1);
    if (!unrecoverable && attemptsLeft && manual.backoffStrategy && backoff && typeof backoff === 'object' && !BUILT_IN_BACKOFFS.has(backoff.type)) {
      // as the worker: the strategy's delay, and -1 (or no number) means no retry
      const delay = await manual.backoffStrategy(this.attemptsMade + 1, backoff.type, error, this);
      if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) unrecoverable = true;
      else delayMs = delay;
    }
    const failure = {
      name: typeof error.name === 'string' ? error.name : null,
      message: String(error.message),
      stack: typeof error.stack === 'string' ? error.stack : null,
      unrecoverable,
      delayMs,
    };
    const fetch = Boolean(fetchNext);
    const settled = wire.decodeManualSettled(await call(manual.native.fail(id, token, failure, fetch)));
    this.failedReason = error.message;
    this.attemptsMade = settled.attemptsMade;
    if (settled.stacktrace != null) this.stacktrace = JSON.parse(settled.stacktrace);
    if (settled.finishedOn != null) this.finishedOn = settled.finishedOn;
    if (settled.retrying && settled.retryDelayMs > 0) this.delay = settled.retryDelayMs;
    if (settled.retrying && !(settled.retryDelayMs > 0)) return undefined;
    return fetch ? nextJobData(settled.next, !settled.retrying) : [];
  }

  /**
   * Moves the active job back to waiting (prioritized by its priority, else the front of
   * wait) without counting an attempt, as BullMQ's `moveToWait`; with `token`, only if it
   * holds the job's lock (without, whoever holds it). Resolves to the ms left of the queue's
   * rate limit (0 when none). A processor doing this then throws WaitingError.
   */
  async moveToWait(token) {
    if (token !== undefined) token = checkToken(token);
    const id = this._jobId();
    const manual = await manualOf(this.queue);
    return call(manual.native.moveToWait(id, token));
  }

  /** Marks the job so a failure of the running attempt is final: no retry. */
  discard() {
    this.discarded = true;
  }

  /**
   * Resolves with the job's return value when it completes, or rejects with an Error whose
   * message is its failedReason when it fails for good. `queueEvents` is a QueueEvents of
   * the job's queue (BullMQ's, or ours): its 'completed' / 'failed' events, whose argument
   * is `{ jobId, returnvalue | failedReason, prev }`, are listened to, and the job's stored
   * state is checked once they are, so a job that already finished settles at once. With
   * `ttl` (ms), rejects when no outcome arrived in that time.
   */
  async waitUntilFinished(queueEvents, ttl) {
    if (!queueEvents || typeof queueEvents.on !== 'function') {
      throw new ValidationError('queueEvents', 'must be a QueueEvents of the job\'s queue');
    }
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
      throw new ValidationError('ttl', 'must be a non-negative number of ms');
    }
    const native = await this._engine();
    const jobId = this._jobId();
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer;
      const off = (event, fn) => (queueEvents.off ?? queueEvents.removeListener).call(queueEvents, event, fn);
      const finish = (fn, value) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        off('completed', onCompleted);
        off('failed', onFailed);
        fn(value);
      };
      const onCompleted = (args) => {
        if (args && String(args.jobId) === jobId) finish(resolve, args.returnvalue);
      };
      const onFailed = (args) => {
        if (args && String(args.jobId) === jobId) finish(reject, new Error(args.failedReason));
      };
      queueEvents.on('completed', onCompleted);
      queueEvents.on('failed', onFailed);
      if (ttl) {
        timer = setTimeout(
          () => finish(reject, new Error(`Job wait ${this.name} timed out before finishing, no finish notification arrived after ${ttl}ms (id=${jobId})`)),
          ttl,
        );
      }
      (async () => {
        // listening before reading: an outcome lands either in the events or in the read
        if (typeof queueEvents.waitUntilReady === 'function') await queueEvents.waitUntilReady();
        const { status, result } = await call(native.jobFinished(this.queueName, jobId));
        if (status === 1) finish(resolve, result == null ? null : returnValue(result));
        else if (status === 2) finish(reject, new Error(result ?? ''));
        else if (status === -1) finish(reject, new JobNotFoundError(`Missing key for job ${this._key()}. isFinished`));
      })().catch((err) => finish(reject, err));
    });
  }

  /** The job's fields (not its queue), as BullMQ's toJSON. */
  toJSON() {
    const out = {};
    for (const key of Object.keys(this)) out[key] = this[key];
    return out;
  }

  /** BullMQ's storage form: `data`, `failedReason`, `stacktrace` and `returnvalue` as JSON
   * text; undefined fields left out. */
  asJSON() {
    const all = {
      id: this.id,
      name: this.name,
      data: JSON.stringify(this.data === undefined ? {} : this.data),
      opts: this.opts,
      progress: this.progress,
      attemptsMade: this.attemptsMade,
      attemptsStarted: this.attemptsStarted,
      stalledCounter: this.stalledCounter,
      finishedOn: this.finishedOn,
      processedOn: this.processedOn,
      timestamp: this.timestamp,
      failedReason: JSON.stringify(this.failedReason),
      stacktrace: JSON.stringify(this.stacktrace),
      deduplicationId: this.deduplicationId,
      repeatJobKey: this.repeatJobKey,
      returnvalue: JSON.stringify(this.returnvalue),
    };
    const out = {};
    for (const key of Object.keys(all)) if (all[key] !== undefined) out[key] = all[key];
    return out;
  }

  /** BullMQ's form for its sandboxed processors: `asJSON()` with `queueName`,
   * `queueQualifiedName` and `prefix`. */
  asJSONSandbox() {
    return { ...this.asJSON(), queueName: this.queueName, queueQualifiedName: this.queueQualifiedName, prefix: this.prefix };
  }

  /** The connected engine of the job's queue. */
  _engine() {
    return engineOf(this.queue);
  }

  /** The job's Redis key (`<prefix>:<queue>:<id>`), as BullMQ's messages name it. */
  _key() {
    const prefix = this.queue.prefix ?? DEFAULT_PREFIX;
    return `${prefix.endsWith(':') ? prefix.slice(0, -1) : prefix}:${this.queueName}:${this._jobId()}`;
  }

  _jobId() {
    if (this.id === undefined || this.id === null || this.id === '') {
      throw new ValidationError('id', 'the job has no id (it was not added)');
    }
    return String(this.id);
  }
}

function isStoredFields(value) {
  return value !== null && typeof value === 'object' && typeof value.native !== 'function' && 'id' in value && 'data' in value;
}

async function engineOf(queue) {
  if (!queue || typeof queue.native !== 'function') {
    throw new ValidationError('queue', 'this job has no queue handle with native(): it cannot reach Redis');
  }
  if (typeof queue.name !== 'string' || queue.name === '') throw new ValidationError('queue', 'the queue handle has no name');
  return queue.native();
}

/** Fields of an added job worked out from its stored options on first read. */
const FROM_OPTS = {
  delay: (stored) => stored.delay ?? 0,
  priority: (stored) => stored.priority || 0,
  repeatJobKey: (stored) => stored.repeatJobKey,
  deduplicationId: (stored) => stored.de?.id,
};

/**
 * The job enqueueJob / enqueueBulk return: a Job whose options arrive as the stored JSON
 * text and are parsed only when read (most callers never read them), with the fields that
 * depend on them worked out then too.
 */
class AddedJob extends Job {
  #optsText;
  #stored; // the stored options object, once parsed

  constructor(id, name, data, optsText, timestamp, queueName, queue) {
    super(BARE);
    this.queue = queue === undefined ? { name: queueName } : checkHandle(queue);
    this.id = id;
    this.name = name;
    this.data = data;
    this.progress = 0;
    this.returnvalue = null;
    this.stacktrace = null;
    this.attemptsMade = 0;
    this.attemptsStarted = 0;
    this.stalledCounter = 0;
    this.timestamp = timestamp;
    this.queueName = queueName;
    this.#optsText = optsText;
  }

  get opts() {
    const value = publicOpts(this.#parsed());
    Object.defineProperty(this, 'opts', { value, enumerable: true, writable: true, configurable: true });
    return value;
  }

  set opts(value) {
    Object.defineProperty(this, 'opts', { value, enumerable: true, writable: true, configurable: true });
  }

  #parsed() {
    if (this.#stored === undefined) this.#stored = JSON.parse(this.#optsText);
    return this.#stored;
  }

  toJSON() {
    void this.opts;
    for (const key of Object.keys(FROM_OPTS)) void this[key];
    return super.toJSON();
  }

  static {
    // each field becomes an own value on first read (or on assignment, e.g. by promote())
    for (const [key, compute] of Object.entries(FROM_OPTS)) {
      Object.defineProperty(AddedJob.prototype, key, {
        get() {
          const value = compute(this.#parsed());
          Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
          return value;
        },
        set(value) {
          Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
        },
        enumerable: false,
        configurable: true,
      });
    }
  }
}

/**
 * The job a processor of the current worker receives: a Job whose `updateProgress` also
 * emits `progress` on the worker (and so on the coordinator).
 */
class ActiveJob extends Job {
  #worker;

  constructor(fields, queueName, native, worker) {
    super(BARE);
    fillStored(this, { name: queueName, native: async () => native }, fields);
    this.#worker = worker;
  }

  async updateProgress(progress) {
    await super.updateProgress(progress);
    if (this.#worker?.listenerCount('progress') > 0) this.#worker.emit('progress', this.id, progress);
  }
}

module.exports = { Job, AddedJob, ActiveJob, PRIORITY_LIMIT, BUILT_IN_BACKOFFS, publicOpts, checkToken };
