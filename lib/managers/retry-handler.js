'use strict';
// The design's RetryHandler: the backoff delay of a retry, which errors are not worth
// retrying, the retry decision for a failed attempt, and the retry statistics that the
// settling script counts in Redis as retries happen, in every worker.
//
// calculateRetryDelay follows the design: the delay plus up to 10% random jitter. The
// engine's own retries (our workers and BullMQ's) instead store the job's backoff with its
// `jitter` fraction and draw the delay from [d × (1 − jitter), d], as BullMQ does; the
// design's formula is what this method answers, for callers that schedule retries themselves.

const { ValidationError, isUnrecoverable } = require('../errors');
const { call, checkQueueName } = require('../input');

/** The design's defaults: a 5-minute cap on exponential delays, 2 s exponential backoff. */
const MAX_DELAY_DEFAULT = 300_000;
const BACKOFF_DEFAULT = { type: 'exponential', delay: 2000 };
const DEFAULT_ATTEMPTS = 3;

function checkBackoff(options) {
  if (typeof options === 'number') return { type: 'fixed', delay: options };
  if (options === null || typeof options !== 'object') throw new ValidationError('options', 'must be BackoffOptions {type, delay, maxDelay?}');
  if (typeof options.delay !== 'number' || !Number.isFinite(options.delay) || options.delay < 0) {
    throw new ValidationError('options.delay', 'must be a non-negative number of ms');
  }
  if (options.maxDelay !== undefined && (typeof options.maxDelay !== 'number' || !(options.maxDelay >= 0))) {
    throw new ValidationError('options.maxDelay', 'must be a non-negative number of ms');
  }
  return options;
}

function checkAttempt(value, field) {
  if (!Number.isInteger(value) || value < 0) throw new ValidationError(field, 'must be a non-negative integer');
  return value;
}

class RetryHandlerImpl {
  /** `metrics` is the coordinator's metric registry (the design's MetricsCollector). */
  constructor(ctx, { metrics } = {}) {
    this._ctx = ctx;
    this._metrics = metrics;
    this._nonRetryable = new Set(); // error names registered with registerNonRetryableError
  }

  /**
   * The design's delay before retry number `attempt` (1 = the first retry): `fixed` → delay,
   * `exponential` → delay × 2^(attempt−1) capped at `maxDelay` (default 5 min); any other
   * type → delay. Then up to +10% random jitter; rounded to whole ms.
   */
  calculateRetryDelay(attempt, options) {
    if (!Number.isInteger(attempt) || attempt < 1) throw new ValidationError('attempt', 'must be a positive integer');
    const o = checkBackoff(options);
    let delay;
    if (o.type === 'exponential') delay = Math.min(o.delay * 2 ** (attempt - 1), o.maxDelay || MAX_DELAY_DEFAULT);
    else delay = o.delay;
    delay += delay * 0.1 * Math.random();
    return Math.round(delay);
  }

  /**
   * False when `attempt` has reached `maxAttempts`, or the error is not worth retrying:
   * an UnrecoverableError, one of the design's names (ValidationError, AuthenticationError,
   * AuthorizationError, NotFoundError, BadRequestError), a name registered with
   * registerNonRetryableError, an error with `retryable: false`, or a message carrying
   * INVALID_DATA or PERMISSION_DENIED. Our workers fail a job at once on the same errors.
   */
  shouldRetry(error, attempt, maxAttempts) {
    checkAttempt(attempt, 'attempt');
    checkAttempt(maxAttempts, 'maxAttempts');
    if (attempt >= maxAttempts) return false;
    return !isUnrecoverable(error, this._nonRetryable);
  }

  /**
   * The design's decision for a job whose attempt failed with `error`: `{action: 'retry',
   * reason: 'retryable_error', delay}` or `{action: 'fail', reason: 'max_attempts_exceeded' |
   * 'non_retryable_error', delay: 0}`. The attempt is `job.attemptsMade + 1`, the limit
   * `job.opts.attempts` (default 3), the delay from `job.opts.backoff` (default exponential
   * 2 s). It decides, logs and counts; it does not move the job (workers retry by themselves).
   */
  async handleJobRetry(job, error) {
    if (job === null || typeof job !== 'object') throw new ValidationError('job', 'must be a job');
    const attempt = checkAttempt(job.attemptsMade ?? 0, 'job.attemptsMade') + 1;
    const maxAttempts = job.opts?.attempts || DEFAULT_ATTEMPTS;
    const labels = { queue: job.queueName, job_type: job.name };
    const errorType = errorTypeOf(error);
    if (!this.shouldRetry(error, attempt, maxAttempts)) {
      this._metrics?.incrementCounter('job_retries_exhausted_total', { ...labels, error_type: errorType });
      return { action: 'fail', reason: attempt >= maxAttempts ? 'max_attempts_exceeded' : 'non_retryable_error', delay: 0 };
    }
    const backoff = job.opts?.backoff ?? BACKOFF_DEFAULT;
    const delay = this.calculateRetryDelay(attempt, backoff);
    this._ctx.logger.warn('job will be retried', {
      jobId: job.id,
      queue: job.queueName,
      jobName: job.name,
      attempt,
      maxAttempts,
      delay,
      error: error?.message,
    });
    this._metrics?.incrementCounter('job_retry_decisions_total', { ...labels, attempt: String(attempt) });
    this._metrics?.recordHistogram('job_retry_delay_ms', delay, labels);
    return { action: 'retry', reason: 'retryable_error', delay };
  }

  /**
   * The design's RetryStatistics `{ queueName, totalRetries, retriesByAttempt,
   * retriesByErrorType, averageRetryDelay, retrySuccessRate }` plus `retriedSucceeded` and
   * `retriedFailed` (jobs that needed a retry and then completed / failed for good), counted
   * in Redis as retries happen, by every worker.
   */
  async getRetryStatistics(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    const s = await call(native.retryStats(queueName));
    return {
      queueName,
      totalRetries: s.totalRetries,
      retriesByAttempt: s.byAttempt,
      retriesByErrorType: s.byErrorType,
      averageRetryDelay: s.averageRetryDelay,
      retrySuccessRate: s.retrySuccessRate,
      retriedSucceeded: s.retriedSucceeded,
      retriedFailed: s.retriedFailed,
    };
  }

  /**
   * Marks an error class (or class name) as not worth retrying: a processor that throws it
   * fails the job at once, in every worker this coordinator starts afterwards.
   */
  registerNonRetryableError(errorClassOrName) {
    const name = typeof errorClassOrName === 'function' ? errorClassOrName.name : errorClassOrName;
    if (typeof name !== 'string' || name === '') {
      throw new ValidationError('error', 'must be an error class or its name');
    }
    this._nonRetryable.add(name);
  }

  /** The error names registered as not worth retrying. */
  nonRetryableNames() {
    return [...this._nonRetryable];
  }
}

/** The error's class name for metric labels (the design's `error.constructor.name`). */
function errorTypeOf(error) {
  if (error == null) return 'Error';
  if (typeof error.name === 'string' && error.name !== '') return error.name;
  return error.constructor?.name || 'Error';
}

module.exports = { RetryHandlerImpl, errorTypeOf };
