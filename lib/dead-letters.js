'use strict';
// The design's RetryHandler and DeadLetterHandler (seed 003 §7.1, §7.2), as methods of
// JobQueueCoordinator. Dead letters are BullMQ's failed jobs (so BullMQ and dashboards see
// them); the archive, the error name and the retry counters are our own keys and fields.

const { Job } = require('./job');
const { ValidationError } = require('./errors');
const { call, checkQueueName, checkJobId } = require('./input');

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

module.exports = {
  /** Moves a dead letter back to waiting with fresh attempts. */
  async requeueFailedJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._engine();
    await call(native.retryJob(queueName, checkJobId(jobId)));
  },

  /** Keeps a dead letter but takes it off the failed list (see getArchivedJobs). */
  async archiveFailedJob(queueName, jobId) {
    checkQueueName(queueName);
    const native = await this._engine();
    await call(native.archiveFailed(queueName, checkJobId(jobId)));
  },

  /** Archived dead letters, most recently archived first. */
  async getArchivedJobs(queueName, { start = 0, end = 99 } = {}) {
    checkQueueName(queueName);
    const native = await this._engine();
    const jobs = JSON.parse(await call(native.archivedJobs(queueName, start, end)));
    return jobs.map((j) => Job.fromStored(this._queueHandle(queueName), j));
  },

  /**
   * Deletes dead letters: all, or those that failed before `olderThan` (a Date, or an age in
   * ms). Resolves to how many were deleted.
   */
  async purgeFailedJobs(queueName, olderThan) {
    checkQueueName(queueName);
    const until = purgeUntil(olderThan);
    const native = await this._engine();
    return call(native.purgeFailed(queueName, until));
  },

  /**
   * `{ total, sampled, byJobName, byErrorType, oldestFailure, newestFailure, recentFailures,
   * recentFailureRate }`: counts over the newest 10,000 dead letters; recent = the last 15
   * minutes, the rate per minute.
   */
  async getFailedJobStatistics(queueName) {
    checkQueueName(queueName);
    const native = await this._engine();
    const s = JSON.parse(await call(native.failedStats(queueName)));
    return dates(s, ['oldestFailure', 'newestFailure']);
  },

  /**
   * `{ totalRetries, byAttempt, byErrorType, averageRetryDelay, retriedSucceeded,
   * retriedFailed, retrySuccessRate }`, counted in Redis as retries happen, by every worker.
   */
  async getRetryStatistics(queueName) {
    checkQueueName(queueName);
    const native = await this._engine();
    return JSON.parse(await call(native.retryStats(queueName)));
  },

  /**
   * Marks an error class (or class name) as not worth retrying: a processor that throws it
   * fails the job at once, in every worker of this coordinator.
   */
  registerNonRetryableError(errorClassOrName) {
    const name = typeof errorClassOrName === 'function' ? errorClassOrName.name : errorClassOrName;
    if (typeof name !== 'string' || name === '') {
      throw new ValidationError('error', 'must be an error class or its name');
    }
    this._nonRetryable.add(name);
  },
};
