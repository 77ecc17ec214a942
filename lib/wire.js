'use strict';
// The one place the JS side encodes and decodes what crosses to the engine as JSON text.
//
// The hot paths keep a compact text encoding, built and read here only:
// - add payloads `{"defaults":[opts...],"anyData"?:true,"jobs":[{name,data,opts}...]}`, built
//   by string concatenation from texts the callers already hold (no re-serialising of data);
// - add results `{"opts":[stored opts text...],"jobs":[[id, created, timestamp, opts index] |
//   {code, message, field}]}`;
// - job batches handed to a worker's processor `[{handle, token, job}]`;
// - worker events `[{type, handle?, id?, ...}]`;
// - what fetching and settling by hand did (decodeNextJob, decodeManualSettled).
// Job lists and schedulers' templates carry user data, so they cross as JSON text too and
// are decoded here. Everything else crosses as typed objects (see binding.d.ts).

/** One job of an add payload: `name` any string, `dataJson` and `optsJson` JSON texts. */
function encodeJob(name, dataJson, optsJson) {
  return `{"name":${JSON.stringify(name)},"data":${dataJson},"opts":${optsJson}}`;
}

/**
 * The add payload for `jobTexts` (each from encodeJob). `defaultsJson` is the JSON text of
 * the array of option layers merged under each job's own options; `anyData` accepts any JSON
 * as data (BullMQ's Queue does), not only objects.
 */
function encodeAddPayload(defaultsJson, jobTexts, anyData = false, bullmq = false) {
  // `bullmq`: options as BullMQ's Queue takes them (custom backoff types, no default jitter)
  const flags = (anyData ? '"anyData":true,' : '') + (bullmq ? '"bullmq":true,' : '');
  return `{"defaults":${defaultsJson},${flags}"jobs":[${jobTexts.join(',')}]}`;
}

/** The engine's answer to an add payload: `{ opts, jobs }` as described above. */
function decodeAddResult(text) {
  return JSON.parse(text);
}

/** A batch of jobs for a worker's processor: `[{ handle, token, job }]`. */
function decodeJobBatch(text) {
  return JSON.parse(text);
}

/** What a worker's engine sends on its one channel, in order: a batch of jobs (an array, see
 * decodeJobBatch) or `{ events }`, a batch of its events (see decodeWorkerEvents). */
function decodeWorkerMessage(text) {
  return JSON.parse(text);
}

/** A batch of a worker's events: `[{ type, ... }]`. */
function decodeWorkerEvents(text) {
  return JSON.parse(text);
}

/** A job's stored fields (or null for none). */
function decodeJob(text) {
  return text === null ? null : JSON.parse(text);
}

/** A list of jobs' stored fields. */
function decodeJobs(text) {
  return JSON.parse(text);
}

/** What a fetch by hand found: `{ job (stored fields) | null, rateLimitMs, nextDelayedMs,
 * drained, scheduleError }`. */
function decodeNextJob(text) {
  return JSON.parse(text);
}

/** What a settle by hand did: `{ finishedOn, attemptsMade, retrying, retryDelayMs,
 * stacktrace (JSON text), next (as decodeNextJob) | null }`. */
function decodeManualSettled(text) {
  return JSON.parse(text);
}

/** A scheduler as the engine lists it, with its template `data` and `opts` decoded. */
function decodeScheduler(record) {
  return { ...record, data: JSON.parse(record.data), opts: JSON.parse(record.opts) };
}

module.exports = {
  encodeJob,
  encodeAddPayload,
  decodeAddResult,
  decodeJobBatch,
  decodeWorkerMessage,
  decodeWorkerEvents,
  decodeJob,
  decodeJobs,
  decodeScheduler,
  decodeNextJob,
  decodeManualSettled,
};
