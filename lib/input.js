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
  return JSON.stringify(options, keepBadNumbers);
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

module.exports = {
  call,
  checkQueueName,
  checkJobId,
  serialiseData,
  serialiseOptions,
  keepBadNumbers,
  positiveInt,
  nonNegativeInt,
};
