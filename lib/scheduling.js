'use strict';
// The design's JobScheduler (seed 003 §3.2), as methods of JobQueueCoordinator: one-off
// scheduled jobs with a trace id, recurring jobs (cron or a fixed interval) kept in Redis as
// BullMQ job schedulers, and changes to jobs that have not started.

const { randomBytes } = require('node:crypto');
const { Job } = require('./job');
const { ValidationError, JobNotFoundError } = require('./errors');
const { call, checkQueueName, checkJobId, serialiseData, keepBadNumbers } = require('./input');

/** What recurring jobs keep of finished iterations unless told otherwise (the design's). */
const RECURRING_KEEP = { removeOnComplete: 10, removeOnFail: 5 };

/** A trace id in the design's shape: `trace_<ms>_<random>`. */
function generateTraceId() {
  return `trace_${Date.now()}_${randomBytes(6).toString('hex')}`;
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

/** A scheduler as the engine lists it → the design's `RepeatableJob`. */
function repeatableJob(s, queueName) {
  return {
    id: s.key,
    key: s.key,
    queueName,
    name: s.name,
    data: s.data,
    cronExpression: s.pattern ?? null,
    every: s.every ?? null,
    timezone: s.tz ?? null,
    options: s.opts,
    nextRun: s.next == null ? null : new Date(s.next),
    iterationCount: s.iterationCount ?? 0,
    maxRuns: s.limit ?? null,
    startDate: s.startDate == null ? null : new Date(s.startDate),
    endDate: s.endDate == null ? null : new Date(s.endDate),
  };
}

module.exports = {
  /**
   * Adds a job with the design's `ScheduleOptions` (priority, delayMs, maxRetries,
   * backoffStrategy, removeOnComplete, removeOnFail, jobId, traceId). The trace id, given or
   * generated, is stored with the job and is `job.traceId` in the processor.
   */
  async scheduleJob(queueName, jobName, data, options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ValidationError('options', 'must be an object');
    }
    const traceId = options.traceId ?? generateTraceId();
    if (typeof traceId !== 'string' || traceId === '') {
      throw new ValidationError('traceId', 'must be a non-empty string');
    }
    if (typeof jobName !== 'string' || jobName === '') {
      throw new ValidationError('jobName', 'must be a non-empty string');
    }
    return this.enqueueJob(queueName, jobName, data, { ...options, traceId });
  },

  /**
   * Creates or replaces a recurring job: `cronExpression` is a cron string (5 fields, or 6
   * with seconds) or `{ every: ms }`. The schedule lives in Redis as a BullMQ job scheduler
   * whose id is `options.schedulerId`, else the job name, so calling this again at every
   * start-up updates one schedule instead of adding another. Returns a `RepeatableJob`.
   */
  async scheduleRecurringJob(queueName, jobName, data, cronExpression, options = {}) {
    checkQueueName(queueName);
    if (typeof jobName !== 'string' || jobName === '') {
      throw new ValidationError('jobName', 'must be a non-empty string');
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ValidationError('options', 'must be an object');
    }
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
    const payload =
      `{"defaults":${this._defaults(queueName)},"id":${JSON.stringify(schedulerId)},` +
      `"name":${JSON.stringify(jobName)},"data":${serialiseData(data)},` +
      `"opts":${JSON.stringify(opts, keepBadNumbers)},"repeat":${JSON.stringify(repeat, keepBadNumbers)}}`;
    const native = await this._engine();
    const { jobId, next } = JSON.parse(await call(native.upsertScheduler(queueName, payload)));
    this._known.add(queueName);
    return {
      id: schedulerId,
      key: schedulerId,
      queueName,
      name: jobName,
      data,
      cronExpression: repeat.pattern ?? null,
      every: repeat.every ?? null,
      timezone: repeat.tz,
      options: opts,
      nextRun: new Date(next),
      jobId,
    };
  },

  /** The queue's recurring jobs (ours and BullMQ's job schedulers), soonest next run first. */
  async getRecurringJobs(queueName) {
    checkQueueName(queueName);
    const native = await this._engine();
    const list = JSON.parse(await call(native.schedulers(queueName)));
    return list.map((s) => repeatableJob(s, queueName));
  },

  /**
   * Jobs waiting for their time: one-off delayed jobs and the next iteration of each
   * recurring job, soonest first. Each has `runAt`, the Date it becomes runnable.
   */
  async getScheduledJobs(queueName, { start = 0, end = 999 } = {}) {
    checkQueueName(queueName);
    const native = await this._engine();
    const jobs = JSON.parse(await call(native.delayedJobs(queueName, start, end)));
    return jobs.map((j) => Object.assign(Job.fromStored(this._queueHandle(queueName), j), { runAt: new Date(j.timestamp + j.delay) }));
  },

  /**
   * Cancels a recurring job (by its scheduler id, or the id of one of its iterations) or a
   * job that has not started (delayed or waiting). A running job cannot be cancelled.
   */
  async cancelScheduledJob(queueName, idOrKey) {
    checkQueueName(queueName);
    const id = checkJobId(idOrKey);
    const native = await this._engine();
    if (await call(native.removeScheduler(queueName, id))) return;
    const text = await call(native.getJob(queueName, id));
    if (text === null) throw new JobNotFoundError(`no recurring job or job ${id} in queue ${queueName}`);
    const { repeatJobKey } = JSON.parse(text);
    if (repeatJobKey && (await call(native.removeScheduler(queueName, repeatJobKey)))) return;
    await call(native.removeJob(queueName, id));
  },

  /** Gives a job a new priority (0 = none, 1 runs first); a waiting job moves at once. */
  async updateJobPriority(queueName, jobId, priority) {
    checkQueueName(queueName);
    if (!Number.isInteger(priority) || priority < 0 || priority > 2097151) {
      throw new ValidationError('priority', 'must be an integer between 0 and 2097151');
    }
    const native = await this._engine();
    await call(native.changePriority(queueName, checkJobId(jobId), priority));
  },

  /** Makes a delayed job runnable now. */
  async promoteJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._engine();
    await call(native.promoteJob(queueName, checkJobId(jobId)));
  },

  /** Makes a delayed job due `delayMs` from now. */
  async changeDelay(queueName, jobId, delayMs) {
    checkQueueName(queueName);
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new ValidationError('delayMs', 'must be a non-negative number of ms');
    }
    const native = await this._engine();
    await call(native.changeDelay(queueName, checkJobId(jobId), delayMs));
  },
};
