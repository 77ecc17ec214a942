'use strict';
// Failure patterns (the design's error handling): more than `threshold` failed
// attempts of one job name within `windowMs`, seen by this process's workers. Each pattern
// is reported once per window, so a burst raises one alert, not one per failure.

const { ValidationError } = require('./errors');

class FailurePatterns {
  /** `onPattern({queueName, jobName, failures, windowMs, threshold})` is called per alert. */
  constructor({ threshold = 10, windowMs = 60_000 } = {}, onPattern) {
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new ValidationError('monitoring.failurePatterns.threshold', 'must be a positive integer');
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new ValidationError('monitoring.failurePatterns.windowMs', 'must be a positive number of ms');
    }
    this.threshold = threshold;
    this.windowMs = windowMs;
    this._onPattern = onPattern;
    this._seen = new Map(); // "queue\0name" -> { times: number[], alertedAt }
  }

  /** Records one failed attempt of a `jobName` job of `queueName` at `now`. */
  record(queueName, jobName, now = Date.now()) {
    const key = `${queueName}\0${jobName}`;
    let entry = this._seen.get(key);
    if (!entry) {
      entry = { times: [], alertedAt: -Infinity };
      this._seen.set(key, entry);
    }
    const since = now - this.windowMs;
    entry.times.push(now);
    while (entry.times[0] <= since) entry.times.shift();
    if (entry.times.length > this.threshold && entry.alertedAt <= since) {
      entry.alertedAt = now;
      this._onPattern({
        queueName,
        jobName,
        failures: entry.times.length,
        windowMs: this.windowMs,
        threshold: this.threshold,
      });
    }
  }
}

module.exports = { FailurePatterns };
