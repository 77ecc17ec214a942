'use strict';
// Queue: BullMQ 6's Queue class on our engine. Same constructor, method names, arguments and
// results, and the same Redis layout, so code written for BullMQ's Queue runs unchanged and a
// queue can be shared with BullMQ producers, workers and Bull Board.
//
// A Queue is also a queue handle for jobs: `{ name, prefix, native() }`, where native()
// resolves to the engine it talks through.

const { GuardedEmitter } = require('./emitter');
const { Job, AddedJob } = require('./job');
const { engineConfig, acquireEngine, DEFAULT_PREFIX } = require('./connection');
const { ValidationError, ClosedError, JobStateError, JobNotFoundError } = require('./errors');
const { AddBatcher } = require('./add-batcher');
const { call, checkQueueName, checkJobId, keepBadNumbers, numberArg, numberOption } = require('./input');
const { repeatSchedule } = require('./repeat');
const { LABEL, escapeLabel } = require('./managers/metric-registry');
const wire = require('./wire');

/** The states getJobs and getJobCounts use when none are given (BullMQ's list). */
const DEFAULT_TYPES = ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children'];
const KNOWN_TYPES = new Set([...DEFAULT_TYPES, 'wait', 'paused']);
/** States clean accepts, by BullMQ's names. */
const CLEAN_TYPES = new Set(['completed', 'failed', 'delayed', 'prioritized', 'wait', 'waiting', 'paused', 'active']);
/** Most jobs one engine call cleans, retries or promotes; methods loop over batches. */
const BATCH = 1000;
/** BullMQ's default cap of the events stream. */
const DEFAULT_MAX_LEN_EVENTS = 10000;
/** The label a Queue writes as the queue's `version` meta field (BullMQ writes its own). */
const LIBRARY_LABEL = `${require('../package.json').name}:${require('../package.json').version}`;

/**
 * Option key (not part of BullMQ's options) by which the coordinator makes a Queue on its own
 * engine: a function resolving to the connected engine. Such a queue shares the coordinator's
 * connection, leaves the queue's meta as it is, and does not close the engine on close().
 */
const ON_ENGINE = Symbol('onEngine');

function plainObject(value, field) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be an object');
  return value;
}

function integer(value, field, { min = -Infinity } = {}) {
  if (!Number.isInteger(value) || value < min) {
    throw new ValidationError(field, min === 0 ? 'must be a non-negative integer' : 'must be an integer');
  }
  return value;
}

function nonNegativeNumber(value, field) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative number');
  }
  return value;
}

/** Job types as BullMQ takes them: a name, an array of names, or several names; none means
 * every state. Duplicates go; unknown names are a ValidationError. */
function jobTypes(types) {
  const list = types.flat().filter((t) => t !== undefined);
  if (list.length === 0) return [...DEFAULT_TYPES];
  for (const t of list) {
    if (typeof t !== 'string' || !KNOWN_TYPES.has(t)) {
      const shown = typeof t === 'string' ? JSON.stringify(t) : `of type ${typeof t}`;
      throw new ValidationError('types', `unknown job type ${shown} (known: ${[...KNOWN_TYPES].join(', ')})`);
    }
  }
  return [...new Set(list)];
}

/** JSON text of job data: any JSON value, as BullMQ stores it (undefined is `{}`). */
function dataText(data) {
  if (data === undefined) return '{}';
  let text;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new ValidationError('data', `is not JSON-serialisable (${err.message})`);
  }
  if (text === undefined) throw new ValidationError('data', 'is not JSON-serialisable');
  return text;
}

/** One job of add / addBulk: its engine payload entry and its data's JSON text. */
function jobPart(name, data, opts, field) {
  if (typeof name !== 'string') throw new ValidationError(`${field}name`, 'must be a string');
  const o = plainObject(opts, `${field}opts`);
  if (o.jobId !== undefined) {
    const id = String(o.jobId);
    if (id === '0' || id.startsWith('0:')) throw ValidationError.worded(`${field}opts.jobId`, "JobId cannot be '0' or start with '0:'");
  }
  const dataJson = dataText(data);
  return { dataJson, text: `{"name":${JSON.stringify(name)},"data":${dataJson},"opts":${JSON.stringify(o, keepBadNumbers)}}` };
}

/** A date of repeat options as ms (Date, ms, or date text). */
function dateMs(value, field) {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new ValidationError(field, 'must be a Date, ms since the epoch, or a date string');
  return ms;
}

/** exportPrometheusMetrics' extra labels as `, name="value"` text, in the order given. */
function globalLabels(globalVariables) {
  if (globalVariables === undefined || globalVariables === null) return '';
  if (typeof globalVariables !== 'object' || Array.isArray(globalVariables)) {
    throw new ValidationError('globalVariables', 'must be an object of label values');
  }
  let text = '';
  for (const [name, value] of Object.entries(globalVariables)) {
    if (!LABEL.test(name) || name.startsWith('__') || name === 'queue' || name === 'state') {
      throw new ValidationError('globalVariables', `${JSON.stringify(name)} is not a Prometheus label name this exposition can add (queue and state are its own)`);
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ValidationError('globalVariables', `label ${name} must be a string, number or boolean`);
    }
    text += `, ${name}="${escapeLabel(String(value))}"`;
  }
  return text;
}

/** A scheduler as the engine lists it → BullMQ's JobSchedulerJson. */
function schedulerJson(s) {
  const out = { key: s.key, name: s.name, next: s.next ?? undefined };
  if (s.iterationCount) out.iterationCount = s.iterationCount;
  if (s.limit) out.limit = s.limit;
  if (s.startDate) out.startDate = s.startDate;
  if (s.endDate) out.endDate = s.endDate;
  if (s.tz) out.tz = s.tz;
  if (s.pattern) out.pattern = s.pattern;
  if (s.every) out.every = s.every;
  if (s.offset) out.offset = s.offset;
  const data = s.data && Object.keys(s.data).length > 0 ? s.data : undefined;
  const opts = s.opts && Object.keys(s.opts).length > 0 ? s.opts : undefined;
  if (data !== undefined || opts !== undefined) {
    out.template = {};
    if (data !== undefined) out.template.data = data;
    if (opts !== undefined) out.template.opts = opts;
  }
  return out;
}

/**
 * BullMQ's `JobScheduler` as `queue.jobScheduler` gives it: the queue's job schedulers,
 * read and removed through the queue's connection. Its `error` events go to the queue's.
 * (Create or update schedulers with `queue.upsertJobScheduler`.)
 */
class QueueJobScheduler extends GuardedEmitter {
  #queue;

  constructor(queue) {
    super();
    this.#queue = queue;
    this.name = queue.name;
    this.on('error', (err) => queue.emit('error', err));
  }

  /** Resolves when the queue's connection is up. */
  async waitUntilReady() {
    return this.#queue.waitUntilReady();
  }

  /** Whether `id` names a job scheduler of the queue (ours or BullMQ's). */
  async isJobScheduler(id) {
    if (typeof id !== 'string' || id === '') throw new ValidationError('id', 'must be a non-empty string');
    const native = await this.#queue.native();
    return call(native.isScheduler(this.#queue.name, id));
  }

  /** The scheduler `id` as getJobScheduler gives it, or undefined. */
  getScheduler(id) {
    return this.#queue.getJobScheduler(id);
  }

  getJobSchedulers(start = 0, end = -1, asc = false) {
    return this.#queue.getJobSchedulers(start, end, asc);
  }

  getSchedulersCount() {
    return this.#queue.getJobSchedulersCount();
  }

  /** Removes scheduler `id` and its pending run; resolves to 1, or 0 when there was none. */
  async removeJobScheduler(id) {
    return (await this.#queue.removeJobScheduler(id)) ? 1 : 0;
  }

  /** Nothing to release: it uses the queue's connection. */
  async close() {}

  async disconnect() {}
}

class Queue extends GuardedEmitter {
  /**
   * `new Queue(name, { connection, prefix = 'bull', defaultJobOptions, streams: { events:
   * { maxLen } } })`. Connects at once (as BullMQ does); `waitUntilReady()` resolves when
   * connected. A connection failure is emitted as `error` (when listened to) and rejects
   * every call.
   */
  constructor(name, opts = {}) {
    super();
    checkQueueName(name);
    const o = plainObject(opts, 'opts');
    const prefix = o.prefix ?? DEFAULT_PREFIX;
    const maxLen = o.streams?.events?.maxLen ?? DEFAULT_MAX_LEN_EVENTS;
    integer(maxLen, 'streams.events.maxLen', { min: 0 });
    this.name = name;
    this.opts = { ...o, prefix };
    delete this.opts[ON_ENGINE];
    this.prefix = prefix;
    this.qualifiedName = `${prefix.endsWith(':') ? prefix.slice(0, -1) : prefix}:${name}`;
    this.jobsOpts = { ...plainObject(o.defaultJobOptions, 'defaultJobOptions') };
    this._maxLenEvents = maxLen;
    this.closing = undefined;
    this._release = null;
    // add() calls of one tick travel together (as the coordinator's enqueueJob); adds
    // accepted before close() are sent on the engine even if close() comes meanwhile
    this._adds = new AddBatcher(
      async (texts) => this._addTexts(texts, false, await (this._engineFn ? this._engineFn() : this._engine)),
      (entry, opts, w) => {
        const job = this._added(entry, opts, w.name, JSON.parse(w.dataJson));
        if (job instanceof Promise) {
          return job.then((j) => {
            this.emit('waiting', j);
            return j;
          });
        }
        this.emit('waiting', job);
        return job;
      },
    );
    if (typeof o[ON_ENGINE] === 'function') {
      this._engineFn = o[ON_ENGINE];
      this._engine = Promise.resolve();
      this._meta = Promise.resolve();
      return;
    }
    const config = engineConfig(o.connection, prefix);
    this._engine = acquireEngine(config).then(({ native, release }) => {
      this._release = release;
      if (this.closing) release();
      return native;
    });
    this._engine.catch((err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    // BullMQ's Queue declares the events stream cap and its library's label in the queue's
    // meta when it starts (unless skipMetasUpdate)
    this._meta = this._engine
      .then((native) => (o.skipMetasUpdate ? undefined : call(native.setQueueMeta(name, maxLen, LIBRARY_LABEL))))
      .catch((err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
  }

  /** BullMQ's: resolves to the queue's JobScheduler (made once), whose `error` events are
   * the queue's. */
  get jobScheduler() {
    this._jobScheduler ??= new QueueJobScheduler(this);
    return Promise.resolve(this._jobScheduler);
  }

  /** The meta fields this queue writes when it starts (BullMQ's `metaValues`). */
  get metaValues() {
    return { 'opts.maxLenEvents': this._maxLenEvents, version: LIBRARY_LABEL };
  }

  /** The job options every add starts from. */
  get defaultJobOptions() {
    return { ...this.jobsOpts };
  }

  /** The engine this queue talks through (the queue handle contract). */
  native() {
    if (this.closing) return Promise.reject(new ClosedError(`queue ${this.name} is closed`, 'ERR_CLOSED'));
    return this._engineFn ? this._engineFn() : this._engine;
  }

  /** Resolves to the engine when connected and the queue's meta is declared (BullMQ's
   * resolves to its client). */
  async waitUntilReady() {
    const native = await this.native();
    await this._meta;
    return native;
  }

  /** The Redis key of `type` in this queue (`<prefix>:<name>:<type>`). */
  toKey(type) {
    return `${this.qualifiedName}:${type}`;
  }

  /** A job object for stored fields, through the one place jobs are made. */
  _toJob(fields) {
    return Job.fromStored(this, fields);
  }

  /** The engine call adding payload entries `texts`: with `allOrNothing` one invalid job
   * rejects the call and nothing is written; otherwise each entry gets its own outcome.
   * `native` is the engine to use (default: this queue's, refused once closing). */
  async _addTexts(texts, allOrNothing = true, native) {
    const engine = native ?? (await this.native());
    const payload = wire.encodeAddPayload(`[${JSON.stringify(this.jobsOpts, keepBadNumbers)}]`, texts, true, true);
    return wire.decodeAddResult(await call(engine.addJobs(this.name, payload, allOrNothing)));
  }

  /** The job an add returned: the new one (its data read back from the JSON text that was
   * stored, its options parsed when first read), or the stored one for an existing custom
   * id. */
  _added([id, created, timestamp, optsIndex], optsTexts, name, data) {
    if (!created) return this.getJob(id);
    // options are parsed when first read: most callers of add never read them
    return new AddedJob(id, name, data, optsTexts[optsIndex], timestamp, this.name, this);
  }

  /**
   * Adds a job (`data` any JSON value) and emits `waiting` with it. The add() calls of one
   * tick travel to Redis together in one engine call (in call order, so ids keep it); each
   * job is validated and added on its own, so one bad job does not fail its neighbours.
   * With `opts.repeat` (`{ pattern | cron, every, tz, startDate, endDate, limit, immediately,
   * key }`) it creates or updates job scheduler `repeat.key` (else `opts.jobId`, else `name`)
   * instead, as the design's scheduler expects of add, and resolves to the job of the first
   * run. (BullMQ 6 itself no longer reads `repeat` in add: it stores it and adds a plain job.)
   */
  add(name, data, opts) {
    if (opts && typeof opts === 'object' && opts.repeat != null) return this._addRepeating(name, data, opts);
    let part;
    try {
      if (this.closing) throw new ClosedError(`queue ${this.name} is closed`, 'ERR_CLOSED');
      part = jobPart(name, data, opts, '');
    } catch (err) {
      return Promise.reject(err);
    }
    return this._adds.add(part.text, { name, dataJson: part.dataJson });
  }

  async _addRepeating(name, data, opts) {
    if (typeof name !== 'string') throw new ValidationError('name', 'must be a string');
    const { repeat, jobId, ...jobOpts } = opts;
    const { schedule, options, key } = repeatSchedule(repeat, 'opts.repeat');
    const repeatOpts = typeof schedule === 'string' ? { pattern: schedule } : { every: schedule.every };
    if (options.timezone !== undefined) repeatOpts.tz = options.timezone;
    if (options.startDate !== undefined) repeatOpts.startDate = options.startDate;
    if (options.endDate !== undefined) repeatOpts.endDate = options.endDate;
    if (options.maxRuns !== undefined) repeatOpts.limit = options.maxRuns;
    if (options.immediately !== undefined) repeatOpts.immediately = options.immediately;
    const id = key ?? (jobId !== undefined ? String(jobId) : name);
    const job = await this.upsertJobScheduler(id, repeatOpts, { name, data, opts: jobOpts });
    if (job) this.emit('waiting', job);
    return job;
  }

  /** Adds `[{ name, data, opts }]` atomically: all or none. */
  async addBulk(jobs) {
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
    const parts = jobs.map((j, i) => {
      if (!j || typeof j !== 'object') throw new ValidationError(`jobs[${i}]`, 'must be an object');
      if (j.opts && typeof j.opts === 'object' && j.opts.repeat != null) {
        throw new ValidationError(`jobs[${i}].opts.repeat`, 'is not taken by addBulk (as BullMQ types it): add a recurring job with add or upsertJobScheduler');
      }
      return jobPart(j.name, j.data, j.opts, `jobs[${i}].`);
    });
    if (parts.length === 0) return [];
    const result = await this._addTexts(parts.map((p) => p.text));
    const added = result.jobs.map((entry, i) => this._added(entry, result.opts, jobs[i].name, JSON.parse(parts[i].dataJson)));
    // only jobs that already existed are read back; the rest need no promise each
    return added.some((a) => a instanceof Promise) ? Promise.all(added) : added;
  }

  /** The job's state: 'completed', 'failed', 'delayed', 'active', 'waiting',
   * 'waiting-children', 'prioritized' or 'unknown' (as BullMQ's getJobState). */
  async getJobState(jobId) {
    const id = checkJobId(jobId);
    const native = await this.native();
    return call(native.jobState(this.name, id));
  }

  /** The job's log rows `start..end` (inclusive; negative counts from the end), oldest first
   * unless `asc` is false, and how many there are: `{ logs, count }` (as BullMQ's). */
  async getJobLogs(jobId, start = 0, end = -1, asc = true) {
    const id = checkJobId(jobId);
    integer(start, 'start');
    integer(end, 'end');
    const native = await this.native();
    const all = await call(native.logs(this.name, id));
    const ordered = asc ? all : [...all].reverse();
    const from = start < 0 ? Math.max(0, ordered.length + start) : start;
    const to = end < 0 ? ordered.length + end : end;
    return { logs: ordered.slice(from, to + 1), count: all.length };
  }

  /** Appends a row to the job's log, keeping the newest `keepLogs` rows when given; resolves
   * to the number of rows (as BullMQ's). */
  async addJobLog(jobId, logRow, keepLogs) {
    const id = checkJobId(jobId);
    if (logRow === undefined || logRow === null) throw new ValidationError('logRow', 'must be a string');
    if (keepLogs !== undefined) integer(keepLogs, 'keepLogs', { min: 0 });
    const native = await this.native();
    return call(native.addLog(this.name, id, String(logRow), keepLogs ?? 0));
  }

  /** Stores the job's progress (a number, string, boolean or object), writes a `progress`
   * event in the events stream and emits `progress` (jobId, progress) on this queue, as
   * BullMQ's. */
  async updateJobProgress(jobId, progress) {
    const id = checkJobId(jobId);
    let text;
    try {
      text = progress === undefined ? undefined : JSON.stringify(progress);
    } catch (err) {
      throw new ValidationError('progress', `is not JSON-serialisable (${err.message})`);
    }
    if (text === undefined) throw new ValidationError('progress', 'must be a number, string, boolean or object');
    const native = await this.native();
    await call(native.updateProgress(this.name, id, text));
    this.emit('progress', id, progress);
  }

  /**
   * Ids of the jobs in the given states (an array of BullMQ's names; none: every state),
   * ranks `start..end` of each state (default 0..1, as BullMQ), newest first or with `asc`
   * oldest first, each id once (BullMQ's getRanges).
   */
  async getRanges(types, start = 0, end = 1, asc = false) {
    const list = jobTypes(types === undefined ? [] : [types]);
    integer(start, 'start');
    integer(end, 'end');
    const native = await this.native();
    return call(native.jobIdsByState(this.name, list, start, end, Boolean(asc)));
  }

  /** getJobCounts(...types), as BullMQ's recordJobCountsMetric returns it (BullMQ also
   * records the counts on its telemetry meter, which this queue does not take). */
  recordJobCountsMetric(...types) {
    return this.getJobCounts(...types);
  }

  /** The id of the job whose deduplication window `id` is open, or null. */
  async getDeduplicationJobId(id) {
    if (typeof id !== 'string' || id === '') throw new ValidationError('id', 'must be a non-empty string');
    const native = await this.native();
    return call(native.dedupJobId(this.name, id));
  }

  /** BullMQ's deprecated name of getDeduplicationJobId. */
  getDebounceJobId(id) {
    return this.getDeduplicationJobId(id);
  }

  /** Ends deduplication window `id` now, whichever job owns it, so the next add with that
   * id adds a job; resolves to 1, or 0 when there was none (as BullMQ's). */
  async removeDeduplicationKey(id) {
    if (typeof id !== 'string' || id === '') throw new ValidationError('id', 'must be a non-empty string');
    const native = await this.native();
    return (await call(native.removeDedupKey(this.name, id, undefined))) ? 1 : 0;
  }

  /** BullMQ's deprecated name of removeDeduplicationKey. */
  removeDebounceKey(id) {
    return this.removeDeduplicationKey(id);
  }

  /** Deletes the `priority` key older BullMQ versions kept (before the `prioritized` set);
   * resolves to 1, or 0 when there was none. */
  async removeDeprecatedPriorityKey() {
    const native = await this.native();
    return (await call(native.removeLegacyPriority(this.name))) ? 1 : 0;
  }

  /** Whether the queue runs as many jobs as its global concurrency allows (false without
   * one). */
  async isMaxed() {
    const native = await this.native();
    return call(native.isMaxed(this.name));
  }

  /** The job, or undefined when there is none. */
  async getJob(jobId) {
    const id = checkJobId(jobId);
    const native = await this.native();
    const text = await call(native.getJob(this.name, id));
    return text === null ? undefined : this._toJob(JSON.parse(text));
  }

  /**
   * Jobs in the given states (a name or an array; default every state), ranks `start..end`
   * of each state, newest first or with `asc` oldest first.
   */
  async getJobs(types, start = 0, end = -1, asc = false) {
    const list = jobTypes(types === undefined ? [] : [types]);
    integer(start, 'start');
    integer(end, 'end');
    const native = await this.native();
    const jobs = JSON.parse(await call(native.jobsByState(this.name, list, start, end, Boolean(asc))));
    return jobs.map((f) => this._toJob(f));
  }

  /** `{ [type]: count }` for the given types (default every state), read at one instant. */
  async getJobCounts(...types) {
    const list = jobTypes(types);
    const native = await this.native();
    const counts = await call(native.countsByState(this.name, list));
    return Object.fromEntries(list.map((t, i) => [t, counts[i]]));
  }

  /** The sum of the counts of the given types. */
  async getJobCountByTypes(...types) {
    const counts = await this.getJobCounts(...types);
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Jobs not started yet: waiting (with BullMQ 5's paused list), delayed, prioritized and
   * waiting for children. */
  count() {
    return this.getJobCountByTypes('waiting', 'paused', 'delayed', 'prioritized', 'waiting-children');
  }

  getWaitingCount() {
    return this.getJobCountByTypes('waiting');
  }

  getActiveCount() {
    return this.getJobCountByTypes('active');
  }

  getCompletedCount() {
    return this.getJobCountByTypes('completed');
  }

  getFailedCount() {
    return this.getJobCountByTypes('failed');
  }

  getDelayedCount() {
    return this.getJobCountByTypes('delayed');
  }

  getPrioritizedCount() {
    return this.getJobCountByTypes('prioritized');
  }

  getWaitingChildrenCount() {
    return this.getJobCountByTypes('waiting-children');
  }

  getWaiting(start = 0, end = -1) {
    return this.getJobs(['waiting'], start, end, true);
  }

  getActive(start = 0, end = -1) {
    return this.getJobs(['active'], start, end, true);
  }

  getDelayed(start = 0, end = -1) {
    return this.getJobs(['delayed'], start, end, true);
  }

  getPrioritized(start = 0, end = -1) {
    return this.getJobs(['prioritized'], start, end, true);
  }

  getWaitingChildren(start = 0, end = -1) {
    return this.getJobs(['waiting-children'], start, end, true);
  }

  getCompleted(start = 0, end = -1) {
    return this.getJobs(['completed'], start, end, false);
  }

  getFailed(start = 0, end = -1) {
    return this.getJobs(['failed'], start, end, false);
  }

  /** Pauses the queue for every worker (ours and BullMQ's); emits `paused`. */
  async pause() {
    const native = await this.native();
    await call(native.pauseQueue(this.name));
    this.emit('paused');
  }

  /** Resumes the queue; emits `resumed`. */
  async resume() {
    const native = await this.native();
    await call(native.resumeQueue(this.name));
    this.emit('resumed');
  }

  async isPaused() {
    const native = await this.native();
    return call(native.isPaused(this.name));
  }

  /**
   * Removes every job that has not started: waiting and prioritized, and with `delayed`
   * the delayed ones too. Job schedulers keep their next iteration.
   */
  async drain(delayed = false) {
    const native = await this.native();
    await call(native.drainQueue(this.name, Boolean(delayed)));
  }

  /**
   * Removes up to `limit` jobs (0 = no limit) of state `type` (default completed) older than
   * `grace` ms, in batches; emits `cleaned` (ids, type) per batch; returns the removed ids.
   * A job's age counts from when it finished, else started, else was added; active jobs
   * whose lock is held and schedulers' next iterations stay.
   */
  async clean(grace, limit, type = 'completed') {
    nonNegativeNumber(grace, 'grace');
    const max = limit === undefined || limit === 0 ? Infinity : integer(limit, 'limit', { min: 0 });
    if (!CLEAN_TYPES.has(type)) {
      throw new ValidationError('type', `must be one of ${[...CLEAN_TYPES].join(', ')}`);
    }
    const state = type === 'waiting' ? 'wait' : type;
    const native = await this.native();
    const removed = [];
    while (removed.length < max) {
      const perCall = Math.min(BATCH, max - removed.length);
      const ids = await call(native.cleanJobs(this.name, state, Math.floor(grace), perCall));
      this.emit('cleaned', ids, state);
      removed.push(...ids);
      if (ids.length < perCall) break;
    }
    return removed;
  }

  /**
   * Deletes the queue and all its keys (pausing it first). Refused while jobs are active,
   * unless `force`.
   */
  async obliterate(opts = {}) {
    const { force = false } = plainObject(opts, 'opts');
    await this.pause();
    const native = await this.native();
    await call(native.obliterate(this.name, Boolean(force)));
  }

  /**
   * Removes a job that is not running. As BullMQ: resolves to 1 (and emits `removed`) when
   * the job is gone afterwards, also when there was no such job; 0 when it is running (its
   * worker holds its lock). The pending run of a job scheduler is refused with a
   * JobStateError: remove the scheduler instead.
   */
  async remove(jobId, _opts) {
    const id = checkJobId(jobId);
    const native = await this.native();
    try {
      await call(native.removeJob(this.name, id));
    } catch (err) {
      if (err instanceof JobNotFoundError) {
        this.emit('removed', id);
        return 1;
      }
      if (err instanceof JobStateError && !/job scheduler/.test(err.message)) return 0;
      throw err;
    }
    this.emit('removed', id);
    return 1;
  }

  /**
   * The queue's settings kept in Redis, as BullMQ reads them: `{ paused, concurrency?, max?,
   * duration?, maxLenEvents?, version?, ... }` (numbers as numbers, `paused` a boolean).
   */
  async getMeta() {
    const native = await this.native();
    const raw = JSON.parse(await call(native.queueMeta(this.name)));
    const { concurrency, max, duration, paused, 'opts.maxLenEvents': maxLenEvents, ...rest } = raw;
    const meta = { ...rest };
    if (concurrency) meta.concurrency = Number(concurrency);
    if (maxLenEvents) meta.maxLenEvents = Number(maxLenEvents);
    if (max) meta.max = Number(max);
    if (duration) meta.duration = Number(duration);
    meta.paused = paused === '1';
    return meta;
  }

  /** The library label in the queue's meta (`<library>:<version>`), or null when none was
   * written. */
  async getVersion() {
    const native = await this.native();
    await this._meta;
    const raw = JSON.parse(await call(native.queueMeta(this.name)));
    return raw.version ?? null;
  }

  /** The queue's global concurrency, or null when it has none. */
  async getGlobalConcurrency() {
    return (await this.getMeta()).concurrency ?? null;
  }

  /** The queue's global rate limit `{ max, duration }`, or null when it has none. */
  async getGlobalRateLimit() {
    const { max, duration } = await this.getMeta();
    return max && duration ? { max, duration } : null;
  }

  /** At most `concurrency` jobs of this queue run at once across all workers (ours and
   * BullMQ's). */
  async setGlobalConcurrency(concurrency) {
    const native = await this.native();
    await call(native.setGlobalConcurrency(this.name, numberArg(concurrency)));
  }

  async removeGlobalConcurrency() {
    const native = await this.native();
    await call(native.setGlobalConcurrency(this.name, undefined));
  }

  /** At most `max` jobs of this queue start per `duration` ms, across all workers. */
  async setGlobalRateLimit(max, duration) {
    const native = await this.native();
    await call(native.setGlobalRateLimit(this.name, numberArg(max), numberArg(duration)));
  }

  async removeGlobalRateLimit() {
    const native = await this.native();
    await call(native.setGlobalRateLimit(this.name, undefined, undefined));
  }

  /** Rate-limited workers of the queue (a limiter option or a global rate limit) fetch
   * nothing for `expireTimeMs`, as BullMQ's Queue.rateLimit. */
  async rateLimit(expireTimeMs) {
    nonNegativeNumber(expireTimeMs, 'expireTimeMs');
    const native = await this.native();
    if (expireTimeMs > 0) await call(native.pauseRateLimited(this.name, Math.ceil(expireTimeMs)));
  }

  /** Ms that workers allowed `maxJobs` per window (default: the global rate limit's max)
   * must still wait before fetching; 0 when they may fetch. With neither a `maxJobs` nor a
   * global max, the limiter key's TTL as Redis reports it (-2: none), as BullMQ. */
  async getRateLimitTtl(maxJobs) {
    const native = await this.native();
    return call(native.rateLimitTtl(this.name, numberOption(maxJobs)));
  }

  /** Ends a rate-limit pause (or a used-up window) now. */
  async removeRateLimitKey() {
    const native = await this.native();
    await call(native.pauseRateLimited(this.name, 0));
  }

  /**
   * Moves failed (or, with `state: 'completed'`, completed) jobs that finished at or before
   * `timestamp` (default now) back to wait, `count` per call (default 1000) until none are
   * left.
   */
  async retryJobs(opts = {}) {
    const o = plainObject(opts, 'opts');
    const state = o.state ?? 'failed';
    if (state !== 'failed' && state !== 'completed') throw new ValidationError('state', "must be 'failed' or 'completed'");
    const count = Math.min(o.count === undefined ? BATCH : integer(o.count, 'count', { min: 1 }), BATCH);
    const timestamp = o.timestamp === undefined ? Date.now() : nonNegativeNumber(o.timestamp, 'timestamp');
    const native = await this.native();
    let moved;
    do {
      moved = await call(native.moveJobsToWait(this.name, state, count, Math.floor(timestamp)));
    } while (moved === count);
  }

  /** Makes every delayed job runnable now, `count` per call (default 1000). */
  async promoteJobs(opts = {}) {
    const o = plainObject(opts, 'opts');
    const count = Math.min(o.count === undefined ? BATCH : integer(o.count, 'count', { min: 1 }), BATCH);
    const native = await this.native();
    let moved;
    do {
      moved = await call(native.moveJobsToWait(this.name, 'delayed', count, 0));
    } while (moved === count);
  }

  /**
   * Creates or updates job scheduler `id`: `repeatOpts` is `{ pattern }` (cron) or
   * `{ every }` (ms) with `tz`, `startDate`, `endDate`, `limit`, `immediately`;
   * `jobTemplate` is `{ name, data, opts }` of its jobs (name defaults to the id).
   * Returns the scheduler's next job.
   */
  async upsertJobScheduler(jobSchedulerId, repeatOpts, jobTemplate = {}) {
    if (typeof jobSchedulerId !== 'string' || jobSchedulerId === '') {
      throw new ValidationError('jobSchedulerId', 'must be a non-empty string');
    }
    const r = { ...plainObject(repeatOpts, 'repeatOpts') };
    const t = plainObject(jobTemplate, 'jobTemplate');
    r.startDate = dateMs(r.startDate, 'repeatOpts.startDate');
    r.endDate = dateMs(r.endDate, 'repeatOpts.endDate');
    if (r.endDate !== undefined && r.endDate < Date.now()) {
      throw ValidationError.worded('repeatOpts.endDate', 'End date must be greater than current timestamp');
    }
    const name = t.name ?? jobSchedulerId;
    if (typeof name !== 'string') throw new ValidationError('jobTemplate.name', 'must be a string');
    const payload =
      `{"defaults":[${JSON.stringify(this.jobsOpts, keepBadNumbers)}],"id":${JSON.stringify(jobSchedulerId)},` +
      `"name":${JSON.stringify(name)},"data":${dataText(t.data)},` +
      `"opts":${JSON.stringify(plainObject(t.opts, 'jobTemplate.opts'), keepBadNumbers)},` +
      `"repeat":${JSON.stringify(r, keepBadNumbers)}}`;
    const native = await this.native();
    const { jobId } = await call(native.upsertScheduler(this.name, payload));
    return this.getJob(jobId);
  }

  /** Job schedulers by next run (`asc`: soonest first), ranks `start..end`. */
  async getJobSchedulers(start = 0, end = -1, asc = false) {
    integer(start, 'start');
    integer(end, 'end');
    const native = await this.native();
    const list = (await call(native.schedulers(this.name))).map((s) => schedulerJson(wire.decodeScheduler(s)));
    if (!asc) list.reverse();
    const from = start < 0 ? Math.max(list.length + start, 0) : start;
    const to = end < 0 ? list.length + end : end;
    return list.slice(from, to + 1);
  }

  /** One job scheduler, or undefined. */
  async getJobScheduler(id) {
    return (await this.getJobSchedulers(0, -1, true)).find((s) => s.key === id);
  }

  async getJobSchedulersCount() {
    return (await this.getJobSchedulers()).length;
  }

  /** Removes a job scheduler and its pending iteration; true when there was one. */
  async removeJobScheduler(jobSchedulerId) {
    const id = checkJobId(jobSchedulerId);
    const native = await this.native();
    return call(native.removeScheduler(this.name, id));
  }

  /** The Redis connections of this queue's workers (any process, BullMQ's too), as CLIENT
   * LIST fields with `name` the queue's name and `rawname` the connection's. */
  async getWorkers() {
    const native = await this.native();
    return call(native.workerClients(this.name));
  }

  async getWorkersCount() {
    return (await this.getWorkers()).length;
  }

  /** The Redis connections following this queue's events stream (any process's QueueEvents,
   * ours and BullMQ's, and the coordinator's `events()`), as getWorkers gives workers'. */
  async getQueueEvents() {
    const native = await this.native();
    return call(native.queueEventsClients(this.name));
  }

  /** `{ [priority]: count }` of the jobs waiting to run with each of `priorities` (each
   * once): priority 0 counts the wait list (a paused queue's jobs included), any other the
   * prioritized jobs of that priority. */
  async getCountsPerPriority(priorities) {
    if (!Array.isArray(priorities)) throw new ValidationError('priorities', 'must be an array of priorities');
    const unique = [...new Set(priorities)];
    for (const p of unique) integer(p, 'priorities', { min: 0 });
    const native = await this.native();
    const counts = await call(native.countsPerPriority(this.name, unique));
    return Object.fromEntries(unique.map((p, i) => [`${p}`, counts[i]]));
  }

  /**
   * Deletes orphaned jobs: job hashes (and job sub-keys such as logs and locks) that no
   * state of the queue references, which older BullMQ versions could leave behind. Walks
   * the queue's keys with SCAN, about `count` keys per call, each batch of candidates
   * checked and deleted in one script call; stops after `limit` jobs (0: no limit).
   * Resolves to how many went. Jobs in any state, our archived dead letters included, stay.
   */
  async removeOrphanedJobs(count = 1000, limit = 0) {
    integer(count, 'count', { min: 1 });
    integer(limit, 'limit', { min: 0 });
    const native = await this.native();
    return call(native.removeOrphanedJobs(this.name, count, limit));
  }

  /**
   * The queue's job counts (getJobCounts) and finished-job totals (getMetrics' counters) in
   * Prometheus' text format, as BullMQ writes them: `bullmq_job_count{queue, state}`,
   * `bullmq_job_completed_total{queue}`, `bullmq_job_failed_total{queue}`, each sample with
   * the labels of `globalVariables` after its own. The totals count what workers with
   * metrics on recorded (ours and BullMQ's).
   */
  async exportPrometheusMetrics(globalVariables) {
    const labels = globalLabels(globalVariables);
    const queue = escapeLabel(String(this.name));
    const [counts, completed, failed] = await Promise.all([
      this.getJobCounts(),
      this.getMetrics('completed'),
      this.getMetrics('failed'),
    ]);
    const lines = ['# HELP bullmq_job_count Number of jobs in the queue by state', '# TYPE bullmq_job_count gauge'];
    for (const [state, count] of Object.entries(counts)) {
      lines.push(`bullmq_job_count{queue="${queue}", state="${state}"${labels}} ${count}`);
    }
    lines.push(
      '# HELP bullmq_job_completed_total Total number of completed jobs',
      '# TYPE bullmq_job_completed_total counter',
      `bullmq_job_completed_total{queue="${queue}"${labels}} ${completed.meta.count}`,
      '# HELP bullmq_job_failed_total Total number of failed jobs',
      '# TYPE bullmq_job_failed_total counter',
      `bullmq_job_failed_total{queue="${queue}"${labels}} ${failed.meta.count}`,
    );
    return lines.join('\n');
  }

  /**
   * Jobs finished per minute, `type` 'completed' or 'failed' (kept by workers with metrics
   * on): `{ meta: { count, prevTS, prevCount }, data, count }`, data newest minute first.
   */
  async getMetrics(type, start = 0, end = -1) {
    if (type !== 'completed' && type !== 'failed') throw new ValidationError('type', "must be 'completed' or 'failed'");
    integer(start, 'start');
    integer(end, 'end');
    const native = await this.native();
    return call(native.metricsSeries(this.name, type, start, end));
  }

  /** Trims the events stream to about `maxLength` entries; returns how many went. */
  async trimEvents(maxLength) {
    integer(maxLength, 'maxLength', { min: 0 });
    const native = await this.native();
    return call(native.trimEvents(this.name, maxLength));
  }

  /**
   * BullMQ's forced disconnect: lets go of the connection at once, without waiting for adds
   * in flight or the meta write (close() waits for them); later calls reject with a
   * ClosedError. The connection is shared with the other objects of this process on the same
   * Redis and prefix, and closes when the last of them lets go.
   */
  async disconnect() {
    if (!this.closing) this.closing = Promise.resolve();
    await this._engine.catch(() => {});
    if (this._release) this._release();
  }

  /** Closes the queue, releasing its connection (shared with other objects of the same
   * connection until the last of them closes). */
  close() {
    if (!this.closing) {
      this.closing = (async () => {
        await this._meta;
        // adds accepted before close() finish on the engine first
        await this._adds.idle();
        await this._engine.catch(() => {});
        if (this._release) this._release();
      })();
    }
    return this.closing;
  }
}

module.exports = { ON_ENGINE, Queue, QueueJobScheduler };
