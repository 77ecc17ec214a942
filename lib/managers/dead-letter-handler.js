'use strict';
// The design's DeadLetterHandler. Dead letters are BullMQ's failed jobs (so BullMQ and
// dashboards see them); the archive, the error name and the retry counters are our own keys
// and fields. It also watches failures for patterns (one job name failing again and again).

const { Job } = require('../job');
const { ValidationError, JobStateError } = require('../errors');
const { errorTypeOf } = require('./retry-handler');
const { call, checkQueueName, checkJobId, positiveInt } = require('../input');
const { FailurePatterns } = require('../failure-patterns');

/** `olderThan` as the latest failure time to purge, in ms: a Date, or an age in ms. */
function purgeUntil(olderThan) {
  if (olderThan === undefined || olderThan === null) return undefined;
  if (olderThan instanceof Date && !Number.isNaN(olderThan.getTime())) return olderThan.getTime();
  if (typeof olderThan === 'number' && Number.isFinite(olderThan) && olderThan >= 0) return Date.now() - olderThan;
  throw new ValidationError('olderThan', 'must be a Date or an age in ms');
}

/**
 * A dead letter as the design's FailedJob: the stored job's fields (and Job's methods) plus
 * `error: {name, message, stack}`, `attempts`, `failedAt: Date` and `originalJobOptions`.
 */
class FailedJob extends Job {
  /** The stored job's fields as a FailedJob acting through the queue handle `queue`. */
  static fromStored(queue, fields) {
    const job = super.fromStored(queue, fields);
    const stack = Array.isArray(job.stacktrace) && job.stacktrace.length > 0 ? job.stacktrace[job.stacktrace.length - 1] : undefined;
    job.error = { name: job.errorName ?? 'Error', message: job.failedReason ?? '', stack };
    job.attempts = job.attemptsMade ?? 0;
    job.failedAt = job.finishedOn == null ? undefined : new Date(job.finishedOn);
    job.originalJobOptions = job.opts ?? {};
    return job;
  }
}

/** Whether a stored job has failed for good (BullMQ keeps finishedOn and failedReason; a
 * retry deletes both, a completion sets returnvalue). */
const isDeadLetter = (j) => j.finishedOn != null && j.failedReason != null && j.returnvalue === undefined;

/** How many dead letters this process remembers having handled (for idempotency). */
const HANDLED_MEMORY = 10_000;

class DeadLetterHandlerImpl {
  /** `metrics` is the coordinator's metric registry (the design's MetricsCollector). */
  constructor(ctx, { metrics } = {}) {
    this._ctx = ctx;
    this._metrics = metrics;
    this._handled = new Map(); // "queue\0id" -> ms up to which its failures are handled
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
    return jobs.map((j) => FailedJob.fromStored(this._ctx.queueHandle(queueName), j));
  }

  /**
   * The design's handleFailedJob: records a job that failed for good (a dead letter) once:
   * logs it at error, counts it (`dead_letters_handled_total{queue, job_type, error_type}`
   * in exportPrometheusMetrics), feeds the failure-pattern watch and emits the coordinator's
   * `deadLetter` event with the FailedJob. `job` is any job object with `id` and `queueName`
   * (ours, or a BullMQ Job: its `queue.name` counts too); `error` the error it failed with
   * (else the stored reason is used).
   *
   * It reads the job from Redis and writes nothing there, so it cannot disturb a job:
   * - failed (or archived): recorded, with the stored fields;
   * - gone (removed on failure): recorded from the object given;
   * - in any other state (running, waiting for a retry, completed): JobStateError, nothing
   *   recorded.
   * Calling it again for the same failure (or for a failure our own workers reported) does
   * nothing: each failure is recorded once per process.
   */
  async handleFailedJob(job, error) {
    if (job === null || typeof job !== 'object') throw new ValidationError('job', 'must be a job object');
    const queueName = job.queueName ?? job.queue?.name;
    checkQueueName(queueName);
    const id = checkJobId(job.id);
    if (error != null && typeof error !== 'object') throw new ValidationError('error', 'must be an Error');
    const native = await this._ctx.engine();
    const text = await call(native.getJob(queueName, id));
    let failed;
    if (text) {
      const stored = JSON.parse(text);
      if (!isDeadLetter(stored)) {
        throw new JobStateError(`job ${id} of ${queueName} has not failed for good; nothing recorded`);
      }
      failed = FailedJob.fromStored(this._ctx.queueHandle(queueName), stored);
    } else {
      failed = FailedJob.fromStored(this._ctx.queueHandle(queueName),
        {
          id,
          name: job.name,
          data: job.data,
          opts: job.opts ?? {},
          attemptsMade: job.attemptsMade ?? 0,
          finishedOn: job.finishedOn ?? Date.now(),
          failedReason: error?.message ?? job.failedReason ?? '',
          errorName: undefined,
          stacktrace: [],
        },
      );
    }
    if (error != null) {
      failed.error = { name: errorTypeOf(error), message: String(error.message ?? ''), stack: typeof error.stack === 'string' ? error.stack : failed.error.stack };
    }
    const key = `${queueName}\0${id}`;
    const handledUpTo = this._handled.get(key);
    if (handledUpTo !== undefined && (text === null || handledUpTo >= failed.failedAt.getTime())) return;
    this._remember(key, Math.max(Date.now(), failed.failedAt.getTime()));
    this._ctx.logger.error('job permanently failed', {
      jobId: id,
      queue: queueName,
      jobName: failed.name,
      error: failed.error.message,
      attempts: failed.attempts,
    });
    this._patterns.record(queueName, failed.name);
    this._record(failed);
  }

  /**
   * A job of one of our own workers failed for good (the worker has logged it and fed the
   * failure-pattern watch): count it, and emit `deadLetter` when someone listens (that
   * reads the job once from Redis).
   */
  noteWorkerDeadLetter(queueName, jobId, error, jobName) {
    const key = `${queueName}\0${jobId}`;
    this._remember(key, Date.now());
    if (!this._ctx.listening('deadLetter')) {
      this._metrics?.incrementCounter('dead_letters_handled_total', { queue: queueName, job_type: jobName, error_type: errorTypeOf(error) });
      return;
    }
    this._ctx
      .engine()
      .then((native) => call(native.getJob(queueName, jobId)))
      .then((text) => {
        const fields = text ? JSON.parse(text) : { id: jobId, name: jobName, opts: {}, attemptsMade: 0, finishedOn: Date.now(), failedReason: error?.message ?? '', stacktrace: [] };
        this._record(FailedJob.fromStored(this._ctx.queueHandle(queueName), fields));
      })
      .catch((err) => this._ctx.logger.error('dead letter not reported', { queue: queueName, jobId, error: err.message }));
  }

  _record(failed) {
    this._metrics?.incrementCounter('dead_letters_handled_total', { queue: failed.queueName, job_type: failed.name, error_type: failed.error.name });
    this._ctx.emit('deadLetter', failed);
  }

  _remember(key, upTo) {
    this._handled.delete(key); // re-insert: the map's order is the age of the entries
    this._handled.set(key, upTo);
    if (this._handled.size > HANDLED_MEMORY) this._handled.delete(this._handled.keys().next().value);
  }

  /** Moves a dead letter back to waiting with fresh attempts. */
  async requeueFailedJob(queueName, jobId) {
    checkQueueName(queueName);
    const id = checkJobId(jobId);
    await this._ctx.audited('requeue', { queue: queueName, jobId: id }, async () => {
      const native = await this._ctx.engine();
      const text = await call(native.getJob(queueName, id));
      await call(native.retryJob(queueName, id));
      const name = text ? JSON.parse(text).name : undefined;
      this._ctx.logger.info('failed job requeued', { queue: queueName, jobId: id });
      this._metrics?.incrementCounter('failed_jobs_requeued_total', { queue: queueName, job_type: name });
    });
  }

  /** Keeps a dead letter but takes it off the failed list (see getArchivedJobs). */
  async archiveFailedJob(queueName, jobId) {
    checkQueueName(queueName);
    const id = checkJobId(jobId);
    await this._ctx.audited('archive', { queue: queueName, jobId: id }, async () => {
      const native = await this._ctx.engine();
      await call(native.archiveFailed(queueName, id));
    });
  }

  /** Archived dead letters, most recently archived first. */
  async getArchivedJobs(queueName, { start = 0, end = 99 } = {}) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const jobs = JSON.parse(await call(native.archivedJobs(queueName, start, end)));
    return jobs.map((j) => FailedJob.fromStored(this._ctx.queueHandle(queueName), j));
  }

  /**
   * Deletes dead letters: all, or those that failed before `olderThan` (a Date, or an age in
   * ms). Resolves to how many were deleted.
   */
  async purgeFailedJobs(queueName, olderThan) {
    checkQueueName(queueName);
    const until = purgeUntil(olderThan);
    return this._ctx.audited('purge', { queue: queueName }, async () => {
      const native = await this._ctx.engine();
      return call(native.purgeFailed(queueName, until));
    }, (count) => ({ count, ...(until !== undefined ? { failedBefore: until } : {}) }));
  }

  /**
   * The design's FailedJobStatistics `{ queueName, totalFailedJobs, failuresByJobType,
   * failuresByErrorType, oldestFailure?: Date, recentFailureRate }` plus `sampled` (how many
   * of the newest, at most 10,000, dead letters the breakdowns count), `newestFailure` and
   * `recentFailures`: recent = the last 15 minutes, the rate per minute. `oldestFailure` and
   * `newestFailure` are undefined when there are none.
   */
  async getFailedJobStatistics(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const s = await call(native.failedStats(queueName));
    const date = (ms) => (ms == null ? undefined : new Date(ms));
    return {
      queueName,
      totalFailedJobs: s.total,
      failuresByJobType: s.byJobName,
      failuresByErrorType: s.byErrorType,
      oldestFailure: date(s.oldestFailure),
      recentFailureRate: s.recentFailureRate,
      sampled: s.sampled,
      newestFailure: date(s.newestFailure),
      recentFailures: s.recentFailures,
    };
  }
}

module.exports = { DeadLetterHandlerImpl, FailedJob };
