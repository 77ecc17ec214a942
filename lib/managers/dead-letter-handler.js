'use strict';
// The design's DeadLetterHandler. Dead letters are BullMQ's failed jobs (so BullMQ and
// dashboards see them); the archive, the error name and the retry counters are our own keys
// and fields. It also watches failures for patterns (one job name failing again and again).

const { Job } = require('../job');
const { ValidationError } = require('../errors');
const { call, checkQueueName, checkJobId, positiveInt } = require('../input');
const { FailurePatterns } = require('../failure-patterns');

/** `olderThan` as the latest failure time to purge, in ms: a Date, or an age in ms. */
function purgeUntil(olderThan) {
  if (olderThan === undefined || olderThan === null) return undefined;
  if (olderThan instanceof Date && !Number.isNaN(olderThan.getTime())) return olderThan.getTime();
  if (typeof olderThan === 'number' && Number.isFinite(olderThan) && olderThan >= 0) return Date.now() - olderThan;
  throw new ValidationError('olderThan', 'must be a Date or an age in ms');
}

const dates = (s, fields) => {
  for (const f of fields) s[f] = s[f] == null ? null : new Date(s[f]);
  return s;
};

class DeadLetterHandlerImpl {
  constructor(ctx) {
    this._ctx = ctx;
    this._patterns = new FailurePatterns(ctx.config.monitoring?.failurePatterns, (p) => {
      ctx.logger.warn('failure pattern: a job keeps failing', p);
      ctx.emit('failurePattern', p);
    });
  }

  /** Counts a failed attempt of `jobName` on the queue towards the failure patterns. */
  recordFailure(queueName, jobName) {
    this._patterns.record(queueName, jobName);
  }

  /** Failed jobs, newest first: `getFailedJobs(q, {start, end})` or `getFailedJobs(q, limit)`. */
  async getFailedJobs(queueName, range = {}) {
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
    const native = await this._ctx.engine();
    const jobs = JSON.parse(await call(native.failedJobs(queueName, start, end)));
    return jobs.map((j) => Job.fromStored(this._ctx.queueHandle(queueName), j));
  }

  /** Moves a dead letter back to waiting with fresh attempts. */
  async requeueFailedJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    await call(native.retryJob(queueName, checkJobId(jobId)));
  }

  /** Keeps a dead letter but takes it off the failed list (see getArchivedJobs). */
  async archiveFailedJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    await call(native.archiveFailed(queueName, checkJobId(jobId)));
  }

  /** Archived dead letters, most recently archived first. */
  async getArchivedJobs(queueName, { start = 0, end = 99 } = {}) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const jobs = JSON.parse(await call(native.archivedJobs(queueName, start, end)));
    return jobs.map((j) => Job.fromStored(this._ctx.queueHandle(queueName), j));
  }

  /**
   * Deletes dead letters: all, or those that failed before `olderThan` (a Date, or an age in
   * ms). Resolves to how many were deleted.
   */
  async purgeFailedJobs(queueName, olderThan) {
    checkQueueName(queueName);
    const until = purgeUntil(olderThan);
    const native = await this._ctx.engine();
    return call(native.purgeFailed(queueName, until));
  }

  /**
   * `{ total, sampled, byJobName, byErrorType, oldestFailure, newestFailure, recentFailures,
   * recentFailureRate }`: counts over the newest 10,000 dead letters; recent = the last 15
   * minutes, the rate per minute.
   */
  async getFailedJobStatistics(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const s = JSON.parse(await call(native.failedStats(queueName)));
    return dates(s, ['oldestFailure', 'newestFailure']);
  }
}

module.exports = { DeadLetterHandlerImpl };
