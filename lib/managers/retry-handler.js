'use strict';
// The design's RetryHandler: which errors are not worth retrying, and the retry statistics
// that the settling script counts in Redis as retries happen, in every worker.

const { ValidationError } = require('../errors');
const { call, checkQueueName } = require('../input');

class RetryHandlerImpl {
  constructor(ctx) {
    this._ctx = ctx;
    this._nonRetryable = new Set(); // error names registered with registerNonRetryableError
  }

  /**
   * `{ totalRetries, byAttempt, byErrorType, averageRetryDelay, retriedSucceeded,
   * retriedFailed, retrySuccessRate }`, counted in Redis as retries happen, by every worker.
   */
  async getRetryStatistics(queueName) {
    checkQueueName(queueName);
    const native = await this._ctx.engine();
    return JSON.parse(await call(native.retryStats(queueName)));
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

module.exports = { RetryHandlerImpl };
