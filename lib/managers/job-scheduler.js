'use strict';
// The design's JobScheduler: adds jobs (one at a time, coalesced per tick, or in bulk),
// schedules one-off and recurring jobs (kept in Redis as BullMQ job schedulers), and changes,
// retries or cancels jobs that exist.

const { randomBytes } = require('node:crypto');
const { Job, AddedJob } = require('../job');
const { ValidationError, JobNotFoundError, JobStateError } = require('../errors');
const { AddBatcher } = require('../add-batcher');
const { call, checkQueueName, checkJobId, serialiseOptions, keepBadNumbers } = require('../input');
const { repeatSchedule } = require('../repeat');
const { clientIdOf } = require('./security-manager');
const wire = require('../wire');

/** What recurring jobs keep of finished iterations unless told otherwise (the design's). */
const RECURRING_KEEP = { removeOnComplete: 10, removeOnFail: 5 };

/** A trace id in the design's shape: `trace_<ms>_<random>`. */
function generateTraceId() {
  return `trace_${Date.now()}_${randomBytes(6).toString('hex')}`;
}

/**
 * One job's name, stored data and payload JSON, validated as far as JS can see: its data
 * through the security manager (`security`: sanitised, the content rules, the queue's
 * schemas), its client id (the `clientId` option or `data._metadata.clientId`).
 */
function describeJob(job, queueName, index, security) {
  if (!job || typeof job !== 'object') throw new ValidationError(`jobs[${index}]`, 'must be an object');
  if (job.data === null || typeof job.data !== 'object' || Array.isArray(job.data)) {
    throw new ValidationError('data', 'must be a JSON-serialisable object');
  }
  const name =
    typeof job.name === 'string' && job.name
      ? job.name
      : typeof job.data?.type === 'string'
        ? job.data.type
        : queueName;
  const given = job.options ?? job.opts;
  if (index !== undefined && given && typeof given === 'object' && given.repeat != null) {
    throw new ValidationError(`jobs[${index}].options.repeat`, 'is not taken by a bulk add: enqueue a recurring job on its own');
  }
  const opts = serialiseOptions(given);
  const { data, json } = security.prepareData(queueName, name, job.data);
  const clientId = clientIdOf(given, data);
  return { name, data, clientId, json: `{"name":${JSON.stringify(name)},"data":${json},"opts":${opts}}` };
}

/** Jobs per client of an add's parts. */
function clientCosts(parts) {
  const costs = new Map();
  for (const p of parts) if (p.clientId !== undefined) costs.set(p.clientId, (costs.get(p.clientId) ?? 0) + 1);
  return costs;
}

/** A date option as ms or text the engine reads (a Date, ms since the epoch, or ISO text). */
function dateOption(value, field) {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError(field, 'is an invalid Date');
    return value.getTime();
  }
  if (typeof value === 'number' || typeof value === 'string') return value;
  throw new ValidationError(field, 'must be a Date, ms since the epoch, or an ISO date string');
}

function checkOptionsObject(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError('options', 'must be an object');
  }
}

/** A scheduler as the engine lists it → the design's `RepeatableJob`. `cronExpression` is
 * always a string (empty for an `{ every }` schedule, whose interval is `every`). */
function repeatableJob(s, queueName) {
  return {
    id: s.key,
    key: s.key,
    queueName,
    name: s.name,
    data: s.data,
    cronExpression: s.pattern ?? '',
    every: s.every ?? null,
    timezone: s.tz ?? null,
    options: s.opts,
    nextRun: new Date(s.next),
    iterationCount: s.iterationCount ?? 0,
    maxRuns: s.limit ?? null,
    startDate: s.startDate == null ? null : new Date(s.startDate),
    endDate: s.endDate == null ? null : new Date(s.endDate),
  };
}

/** True for the engine's "no such job" and "not in a state for that" refusals. */
const isAbsentOrWrongState = (err) => err instanceof JobNotFoundError || err instanceof JobStateError;

class JobSchedulerImpl {
  /** `queues` is the queue manager (known queues, option layers, the queue list);
   * `security` the security manager (job data, per-client rate limits, the audit log). */
  constructor(ctx, { queues, security }) {
    this._ctx = ctx;
    this._queues = queues;
    this._security = security;
    this._batchers = new Map(); // queue -> the AddBatcher of its enqueueJob calls
  }

  /**
   * Adds a job: `enqueueJob(queue, data, options?)` or `enqueueJob(queue, jobName, data,
   * options?)`. The name is `jobName`, else `data.type` when it is a string, else the queue.
   * Calls made in the same tick travel to Redis together in one script call; each job is
   * validated on its own, so one bad job does not fail its neighbours.
   */
  enqueueJob(queueName, ...args) {
    const [jobName, data, options] = typeof args[0] === 'string' ? args : [undefined, ...args];
    if (options && typeof options === 'object' && options.repeat != null) {
      return this._enqueueRepeating(queueName, jobName, data, options);
    }
    let part;
    try {
      checkQueueName(queueName);
      part = describeJob({ name: jobName, data, options }, queueName, undefined, this._security);
    } catch (err) {
      return Promise.reject(err);
    }
    let batcher = this._batchers.get(queueName);
    if (!batcher) {
      batcher = new AddBatcher(
        (texts) => this._send(queueName, texts, false),
        (entry, opts, w) => this._added(queueName, entry, opts, w.name, w.data),
      );
      this._batchers.set(queueName, batcher);
    }
    const security = this._ctx.config.security;
    const limited = part.clientId !== undefined && security.rateLimiting.enabled;
    const added = limited
      ? this._security.admitEnqueue(clientCosts([part])).then(() => batcher.add(part.json, { name: part.name, data: part.data }))
      : batcher.add(part.json, { name: part.name, data: part.data });
    if (!security.auditEnqueues) return added;
    return added.then(async (job) => {
      await this._auditAdd(queueName, part, job);
      return job;
    });
  }

  /** Writes an added job's `enqueue` entry to the audit log (`security.auditEnqueues`). */
  _auditAdd(queueName, part, job) {
    return this._security.record({ action: 'enqueue', queue: queueName, jobId: job.id, actor: part.clientId, metadata: { name: part.name } });
  }

  /**
   * enqueueJob with `options.repeat` (the design's recurring form, which BullMQ before its
   * job schedulers took in Queue.add): creates or updates the job scheduler and resolves to
   * the job waiting for the first run. `repeat` is `{ cron | pattern, every, tz, startDate,
   * endDate, limit, immediately, key }`; the scheduler's id is `repeat.key`, else `jobId`,
   * else the job name, so enqueueing it again at every start-up updates one schedule.
   */
  async _enqueueRepeating(queueName, jobName, data, options) {
    checkQueueName(queueName);
    const { repeat, jobId, ...rest } = options;
    const r = repeatSchedule(repeat, 'options.repeat');
    const name = jobName ?? (data && typeof data.type === 'string' ? data.type : queueName);
    const recurring = await this._upsertRecurring(queueName, name, data, r.schedule, {
      ...rest,
      ...r.options,
      schedulerId: r.key ?? (jobId !== undefined ? String(jobId) : name),
    });
    return (await this.getJob(queueName, recurring.jobId)) ?? recurring;
  }

  /** The job an add returned: the new one, or for an existing custom id a promise of the
   * stored one. */
  _added(queueName, [id, created, timestamp, optsIndex], opts, name, data) {
    if (created) {
      const job = new AddedJob(id, name, data, opts[optsIndex], timestamp, queueName, this._ctx.queueHandle(queueName));
      if (this._ctx.listening('waiting') || this._ctx.listening('delayed')) {
        this._ctx.emit(job.opts.delay > 0 ? 'delayed' : 'waiting', { queueName, jobId: id, name });
      }
      return job;
    }
    return this.getJob(queueName, id);
  }

  async _send(queueName, parts, allOrNothing) {
    const payload = wire.encodeAddPayload(this._queues.defaultsText(queueName), parts);
    const native = await this._ctx.engine();
    const result = wire.decodeAddResult(await call(native.addJobs(queueName, payload, allOrNothing)));
    this._queues.markKnown(queueName);
    return result;
  }

  /** Adds many jobs in one atomic call; all are validated before anything is written. */
  async enqueueBulk(queueName, jobs) {
    checkQueueName(queueName);
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
    const parts = jobs.map((j, i) => describeJob(j, queueName, i, this._security));
    // every client's jobs fit in its window, or nothing is counted nor written
    await this._security.admitEnqueue(clientCosts(parts));
    const result = await this._send(queueName, parts.map((p) => p.json), true);
    const added = result.jobs.map((e, i) => this._added(queueName, e, result.opts, parts[i].name, parts[i].data));
    // only jobs that already existed are read back; the rest need no promise each
    const all = added.some((a) => a instanceof Promise) ? await Promise.all(added) : added;
    if (this._ctx.config.security.auditEnqueues) {
      await Promise.all(all.map((job, i) => this._auditAdd(queueName, parts[i], job)));
    }
    return all;
  }

  /**
   * Adds a job with the design's `ScheduleOptions` (priority, delayMs, maxRetries,
   * backoffStrategy, removeOnComplete, removeOnFail, jobId, traceId). The trace id, given or
   * generated, is stored with the job and is `job.traceId` in the processor.
   */
  async scheduleJob(queueName, jobName, data, options = {}) {
    checkOptionsObject(options);
    const traceId = options.traceId ?? generateTraceId();
    if (typeof traceId !== 'string' || traceId === '') {
      throw new ValidationError('traceId', 'must be a non-empty string');
    }
    if (typeof jobName !== 'string' || jobName === '') {
      throw new ValidationError('jobName', 'must be a non-empty string');
    }
    return this.enqueueJob(queueName, jobName, data, { ...options, traceId });
  }

  /**
   * Creates or replaces a recurring job, in either of the design's forms:
   * - `scheduleRecurringJob(queue, jobName, data, cronExpression, options?)` →
   *   RepeatableJob; `cronExpression` is a cron string (5 fields, or 6 with seconds) or
   *   `{ every: ms }`;
   * - `scheduleRecurringJob(queue, jobName, data, options)` → the Job of the first run, with
   *   the schedule in `options.cronExpression` / `options.cron` / `options.pattern` /
   *   `options.repeat.{cron, pattern, every}` / `options.every`.
   * The schedule lives in Redis as a BullMQ job scheduler whose id is `options.schedulerId`,
   * else the job name, so calling this again at every start-up updates one schedule.
   */
  async scheduleRecurringJob(queueName, jobName, data, cronOrOptions, maybeOptions) {
    if (cronOrOptions !== null && typeof cronOrOptions === 'object' && !('every' in cronOrOptions) && maybeOptions === undefined) {
      const { cronExpression, cron, pattern, repeat = {}, ...rest } = cronOrOptions;
      const schedule = cronExpression ?? cron ?? pattern ?? repeat.cron ?? repeat.pattern;
      const every = rest.every ?? repeat.every;
      const { cron: _c, pattern: _p, every: _e, tz, ...repeatRest } = repeat;
      const options = { ...repeatRest, ...(tz !== undefined ? { timezone: tz } : {}), ...rest };
      const recurring = await this._upsertRecurring(queueName, jobName, data, schedule ?? (every !== undefined ? { every } : undefined), options);
      return (await this.getJob(queueName, recurring.jobId)) ?? recurring;
    }
    return this._upsertRecurring(queueName, jobName, data, cronOrOptions, maybeOptions ?? {});
  }

  async _upsertRecurring(queueName, jobName, data, cronExpression, options) {
    checkQueueName(queueName);
    if (typeof jobName !== 'string' || jobName === '') {
      throw new ValidationError('jobName', 'must be a non-empty string');
    }
    checkOptionsObject(options);
    const {
      timezone,
      tz,
      startDate,
      endDate,
      maxRuns,
      limit,
      immediately,
      schedulerId = jobName,
      every: everyOption,
      ...jobOptions
    } = options;
    const repeat = {
      tz: timezone ?? tz ?? 'UTC',
      startDate: dateOption(startDate, 'startDate'),
      endDate: dateOption(endDate, 'endDate'),
      limit: maxRuns ?? limit,
      immediately,
    };
    if (typeof cronExpression === 'string') {
      repeat.pattern = cronExpression;
    } else if (cronExpression && typeof cronExpression === 'object' && 'every' in cronExpression) {
      repeat.every = cronExpression.every;
    } else if (cronExpression == null && everyOption !== undefined) {
      repeat.every = everyOption;
    } else {
      throw new ValidationError('cronExpression', 'must be a cron expression string or { every: ms }');
    }
    if (typeof schedulerId !== 'string' || schedulerId === '') {
      throw new ValidationError('schedulerId', 'must be a non-empty string');
    }
    const opts = { ...RECURRING_KEEP, ...jobOptions };
    const prepared = this._security.prepareData(queueName, jobName, data);
    data = prepared.data;
    const payload =
      `{"defaults":${this._queues.defaultsText(queueName)},"id":${JSON.stringify(schedulerId)},` +
      `"name":${JSON.stringify(jobName)},"data":${prepared.json},` +
      `"opts":${JSON.stringify(opts, keepBadNumbers)},"repeat":${JSON.stringify(repeat, keepBadNumbers)}}`;
    const native = await this._ctx.engine();
    const { jobId, next } = await call(native.upsertScheduler(queueName, payload));
    this._queues.markKnown(queueName);
    return {
      id: schedulerId,
      key: schedulerId,
      queueName,
      name: jobName,
      data,
      cronExpression: repeat.pattern ?? '',
      every: repeat.every ?? null,
      timezone: repeat.tz,
      options: opts,
      nextRun: new Date(next),
      jobId,
    };
  }

  /** The queue's recurring jobs (ours and BullMQ's job schedulers), soonest next run first.
   * A scheduler with no next run (being removed as this reads) is left out. */
  async getRecurringJobs(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const list = await call(native.schedulers(queueName));
    return list.filter((s) => s.next != null).map((s) => repeatableJob(wire.decodeScheduler(s), queueName));
  }

  /**
   * Jobs waiting for their time: one-off delayed jobs and the next iteration of each
   * recurring job, soonest first. Each has `runAt`, the Date it becomes runnable.
   */
  async getScheduledJobs(queueName, { start = 0, end = 999 } = {}) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const jobs = JSON.parse(await call(native.delayedJobs(queueName, start, end)));
    return jobs.map((j) => Object.assign(Job.fromStored(this._ctx.queueHandle(queueName), j), { runAt: new Date(j.timestamp + j.delay) }));
  }

  /**
   * Cancels a recurring job (by its scheduler id, or the id of one of its iterations) or a
   * job that has not started (delayed or waiting). A running job cannot be cancelled.
   */
  async cancelScheduledJob(queueName, idOrKey) {
    checkQueueName(queueName);
    const id = checkJobId(idOrKey);
    const native = await this._ctx.engine();
    if (await call(native.removeScheduler(queueName, id))) return;
    const text = await call(native.getJob(queueName, id));
    if (text === null) throw new JobNotFoundError(`no recurring job or job ${id} in queue ${queueName}`);
    const { repeatJobKey } = JSON.parse(text);
    if (repeatJobKey && (await call(native.removeScheduler(queueName, repeatJobKey)))) return;
    await call(native.removeJob(queueName, id));
  }

  /**
   * Like cancelScheduledJob, but resolves `true` when something was cancelled and `false`
   * when there is no such job or it can no longer be cancelled (running or finished).
   */
  async cancelJob(queueName, jobId) {
    checkQueueName(queueName);
    checkJobId(jobId);
    try {
      await this.cancelScheduledJob(queueName, jobId);
      return true;
    } catch (err) {
      if (isAbsentOrWrongState(err)) return false;
      throw err;
    }
  }

  /** Gives a job a new priority (0 = none, 1 runs first); a waiting job moves at once. */
  async updateJobPriority(queueName, jobId, priority) {
    checkQueueName(queueName);
    if (!Number.isInteger(priority) || priority < 0 || priority > 2097151) {
      throw new ValidationError('priority', 'must be an integer between 0 and 2097151');
    }
    const native = await this._ctx.engine();
    await call(native.changePriority(queueName, checkJobId(jobId), priority));
  }

  /** Makes a delayed job runnable now. */
  async promoteJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    await call(native.promoteJob(queueName, checkJobId(jobId)));
  }

  /** Makes a delayed job due `delayMs` from now. */
  async changeDelay(queueName, jobId, delayMs) {
    checkQueueName(queueName);
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new ValidationError('delayMs', 'must be a non-negative number of ms');
    }
    const native = await this._ctx.engine();
    await call(native.changeDelay(queueName, checkJobId(jobId), delayMs));
  }

  /** The job with its current fields, or null. */
  async getJob(queueName, jobId) {
    checkQueueName(queueName);
    const id = checkJobId(jobId);
    const native = await this._ctx.engine();
    const text = await call(native.getJob(queueName, id));
    return text === null ? null : Job.fromStored(this._ctx.queueHandle(queueName), JSON.parse(text));
  }

  /** The job's log lines. */
  async getJobLogs(queueName, jobId) {
    checkQueueName(queueName);
    const id = checkJobId(jobId);
    const native = await this._ctx.engine();
    return call(native.logs(queueName, id));
  }

  /**
   * Moves a failed job back to waiting with fresh attempts: `retryJob(queue, jobId)`, or
   * `retryJob(jobId)`, which looks in every queue of the key prefix (read from Redis).
   * Resolves `true` when the job was retried, `false` when there is no such job or it is
   * not failed. A job id found in several queues is a ValidationError: pass the queue.
   */
  async retryJob(...args) {
    const native = await this._ctx.engine();
    let queueName;
    let jobId;
    if (args.length >= 2) {
      [queueName, jobId] = args;
      checkQueueName(queueName);
      jobId = checkJobId(jobId);
    } else {
      jobId = checkJobId(args[0]);
      const names = await this._queues.queueNamesInRedis();
      const stored = await Promise.all(names.map((q) => call(native.getJob(q, jobId))));
      const found = names.filter((_q, i) => stored[i] !== null);
      if (found.length === 0) return false;
      if (found.length > 1) {
        throw new ValidationError('jobId', `${jobId} exists in several queues (${found.join(', ')}); pass the queue name`);
      }
      queueName = found[0];
    }
    return this._ctx.audited(
      'retry',
      { queue: queueName, jobId },
      async () => {
        try {
          await call(native.retryJob(queueName, jobId));
        } catch (err) {
          if (isAbsentOrWrongState(err)) return false;
          throw err;
        }
        return true;
      },
      (retried) => (retried ? {} : null),
    );
  }
}

module.exports = { JobSchedulerImpl, generateTraceId };
