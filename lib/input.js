'use strict';
// Checks and conversions of caller input shared by the coordinator's methods: what only JS
// can see (types, names) is rejected here, before anything reaches the engine.

const { ValidationError, fromNative } = require('./errors');

/** Runs a native call, converting its error to the exported classes. */
async function call(promise) {
  try {
    return await promise;
  } catch (err) {
    throw fromNative(err);
  }
}

function checkQueueName(name) {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ValidationError('queueName', 'Queue name must be provided (a non-empty string)');
  }
  if (name.includes(':')) throw new ValidationError('queueName', 'Queue name cannot contain :');
}

/** A job id argument as the string the engine takes. */
function checkJobId(jobId) {
  if ((typeof jobId !== 'string' && typeof jobId !== 'number') || jobId === '') {
    throw new ValidationError('jobId', 'must be a non-empty string or a number');
  }
  return String(jobId);
}

/** JSON text of job data: a JSON-serialisable plain object. */
function serialiseData(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ValidationError('data', 'must be a JSON-serialisable object');
  }
  try {
    return JSON.stringify(data);
  } catch (err) {
    throw new ValidationError('data', `is not JSON-serialisable (${err.message})`);
  }
}

/** Numbers that JSON cannot carry (NaN, ±Infinity) cross as strings, so the engine rejects
 * them by field name instead of seeing a silent null. */
function keepBadNumbers(_key, value) {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function serialiseOptions(options, field = 'options') {
  if (options === undefined || options === null) return '{}';
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError(field, 'must be an object');
  }
  try {
    return JSON.stringify(options, keepBadNumbers);
  } catch (err) {
    // cyclic, or a BigInt: not options any engine could store
    throw new ValidationError(field, `is not JSON-serialisable (${err.message})`);
  }
}

function positiveInt(value, field) {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
    throw new ValidationError(field, 'must be a positive integer');
  }
  return value;
}

function nonNegativeInt(value, field) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ValidationError(field, 'must be a non-negative integer');
  }
  return value;
}

/** A duration option in ms, if given: a finite number ≥ 0. */
function nonNegativeMs(value, field) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a non-negative number of ms');
  }
  return value;
}

/** A fraction option, if given: a number in [0, 1]. */
function fraction(value, field) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValidationError(field, 'must be a number between 0 and 1');
  }
  return value;
}

/** `removeOnComplete` / `removeOnFail` as the engine takes them: JSON of a boolean, a count or
 * `{age, count}`. */
function keepText(value, field) {
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'boolean' ||
    (Number.isInteger(value) && value >= 0) ||
    (value !== null && typeof value === 'object' && !Array.isArray(value));
  if (!ok) throw new ValidationError(field, 'must be a boolean, a count, or {age, count}');
  return JSON.stringify(value);
}

module.exports = {
  call,
  checkQueueName,
  checkJobId,
  serialiseData,
  serialiseOptions,
  keepBadNumbers,
  positiveInt,
  nonNegativeInt,
  nonNegativeMs,
  fraction,
  keepText,
};
