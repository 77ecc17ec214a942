'use strict';
// The `repeat` job option: the design's (and BullMQ's before its job schedulers) way of
// asking enqueueJob / Queue.add for a recurring job. It is read here into a job scheduler's
// schedule, so both paths create or update one scheduler instead of adding a plain job.

const { ValidationError } = require('./errors');

/**
 * The design's / BullMQ's `repeat` job option → `{ schedule, options, key }` for
 * _upsertRecurring: `schedule` is the cron text (`cron` or `pattern`) or `{ every }`, and
 * `options` the RecurringJobOptions spelling of tz, startDate, endDate, limit, immediately.
 */
function repeatSchedule(repeat, field) {
  if (typeof repeat !== 'object' || Array.isArray(repeat)) throw new ValidationError(field, 'must be an object');
  const { cron, pattern, every, tz, startDate, endDate, limit, immediately, key, ...unknown } = repeat;
  for (const own of ['count', 'offset', 'prevMillis']) {
    if (own in unknown) throw new ValidationError(`${field}.${own}`, 'is kept by the job scheduler itself and cannot be set');
  }
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new ValidationError(`${field}.${extra[0]}`, 'is not a repeat option');
  const cronText = cron ?? pattern;
  if (cronText !== undefined && every !== undefined) throw new ValidationError(field, 'takes a cron expression or every, not both');
  if (cronText === undefined && every === undefined) throw new ValidationError(field, 'needs a cron expression (cron or pattern) or every (ms)');
  if (key !== undefined && (typeof key !== 'string' || key === '')) throw new ValidationError(`${field}.key`, 'must be a non-empty string');
  const options = {};
  if (tz !== undefined) options.timezone = tz;
  if (startDate !== undefined) options.startDate = startDate;
  if (endDate !== undefined) options.endDate = endDate;
  if (limit !== undefined) options.maxRuns = limit;
  if (immediately !== undefined) options.immediately = immediately;
  return { schedule: cronText !== undefined ? cronText : { every }, options, key };
}

module.exports = { repeatSchedule };
