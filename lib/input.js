'use strict';
// Checks and conversions of caller input shared by the coordinator's methods: what only JS
// can see (types, names) is rejected here, before anything reaches the engine. Rules on
// values the engine stores or runs with (ranges, sizes, worker settings) are the engine's
// (crates/job-queue-core/src/input.rs, worker/settings.rs, producer.rs): JS only converts
// such values, and a value that cannot cross as what the engine takes crosses as one the
// engine refuses by the same field name.

const { NativeWorker } = require('../binding');
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

/** JSON text of job data. That it is an object, and its size, the engine checks. */
function serialiseData(data) {
  let text;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new ValidationError('data', `is not JSON-serialisable (${err.message})`);
  }
  if (text === undefined) throw new ValidationError('data', 'must be a JSON-serialisable object');
  return text;
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

/** A number argument as it crosses to the engine, which judges it: a number as it is,
 * anything else NaN (refused by the engine, naming the field). */
function numberArg(value) {
  return typeof value === 'number' ? value : NaN;
}

/** A number option: absent stays absent, otherwise as numberArg. */
function numberOption(value) {
  return value === undefined ? undefined : numberArg(value);
}

/** An option the engine takes as JSON text (`removeOnComplete`...): absent stays absent;
 * what JSON cannot carry crosses as a string, which the engine refuses by field name. */
function jsonOption(value) {
  if (value === undefined) return undefined;
  return JSON.stringify(value, keepBadNumbers) ?? JSON.stringify(String(value));
}

/** Checks a worker config (the binding's WorkerConfig) as the engine will start it, at once
 * and without Redis; throws the engine's ValidationError. Returns the config. */
function checkWorkerConfig(config) {
  try {
    NativeWorker.checkConfig(config);
  } catch (err) {
    throw fromNative(err);
  }
  return config;
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
  numberArg,
  numberOption,
  jsonOption,
  checkWorkerConfig,
};
