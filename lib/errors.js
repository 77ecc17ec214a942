'use strict';
// Exported error classes, each with a stable `code`. `fromNative` is the one place an engine
// error (whose message is JSON `{code, message, field?}`) becomes one of these.

class JobQueueError extends Error {
  constructor(message, code, options) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

class ValidationError extends JobQueueError {
  /** `new ValidationError(field, problem)`: the message is `invalid <field>: <problem>`. */
  constructor(field, message, code = 'ERR_VALIDATION') {
    super(field ? `invalid ${field}: ${message}` : message, code);
    this.field = field;
  }

  /** A ValidationError of `field` whose message is `message` as given: BullMQ's wording,
   * where BullMQ's classes promise it ('Priority should not be float'). */
  static worded(field, message) {
    const err = new this(undefined, message);
    err.field = field;
    return err;
  }
}

class JobStateError extends ValidationError {
  constructor(message) {
    super(undefined, message, 'ERR_JOB_NOT_IN_STATE');
  }
}

class QueueNotFoundError extends JobQueueError {
  constructor(queueName) {
    super(`queue ${queueName} not found`, 'ERR_QUEUE_NOT_FOUND');
    this.queueName = queueName;
  }
}

class QueueExistsError extends JobQueueError {
  constructor(queueName) {
    super(`queue ${queueName} already exists`, 'ERR_QUEUE_EXISTS');
    this.queueName = queueName;
  }
}

class JobNotFoundError extends JobQueueError {
  constructor(message) {
    super(message, 'ERR_JOB_NOT_FOUND');
  }
}

class WorkerNotFoundError extends JobQueueError {
  constructor(workerId) {
    super(`worker ${workerId} not found (not in this process, and no heartbeat in Redis)`, 'ERR_WORKER_NOT_FOUND');
    this.workerId = workerId;
  }
}

class ConnectionError extends JobQueueError {
  constructor(message) {
    super(message, 'ERR_CONNECTION');
  }
}

/**
 * A security rule refused the job (the design's SecurityError): content the design's rules
 * call malicious, or a job too old to run (`security.maxJobAge`). `violations` lists every
 * rule broken. A job failed with it is not retried (`retryable` is false).
 */
class SecurityError extends JobQueueError {
  constructor(message, violations = []) {
    super(message, 'ERR_SECURITY');
    this.violations = violations;
    this.retryable = false;
  }
}

/** A client's permissions do not allow the action (code ERR_FORBIDDEN). Nothing was done,
 * and the denial is in the audit log. */
class AuthorizationError extends JobQueueError {
  constructor(message, { clientId, action, queueName, jobType } = {}) {
    super(message, 'ERR_FORBIDDEN');
    this.clientId = clientId;
    this.action = action;
    this.queueName = queueName;
    this.jobType = jobType;
  }
}

class LockError extends JobQueueError {}
class CorruptJobError extends JobQueueError {}
class ClosedError extends JobQueueError {}
/** An add reached the master but fewer replicas than `redis.wait.replicas` confirmed it in
 * time (code ERR_NOT_REPLICATED): stored, and lost only if the master fails before
 * replicating it. Retry with the same custom jobId to be sure without a duplicate. */
class ReplicationError extends JobQueueError {}

/** Throw this from a processor to fail the job at once, without retries. */
class UnrecoverableError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnrecoverableError';
    this.code = 'ERR_UNRECOVERABLE';
  }
}

/** The error a job's attempt fails with when it runs past its `timeoutMs`; the processor's
 * `context.signal` is aborted with it. */
class TimeoutError extends JobQueueError {
  constructor(message) {
    super(message, 'ERR_TIMEOUT');
  }
}

/** The message that marks a rate-limit error (BullMQ's, so its own RateLimitError counts). */
const RATE_LIMIT_ERROR = 'bullmq:rateLimitExceeded';

/**
 * Two uses, one class (code ERR_RATE_LIMIT):
 * - thrown by a processor (`throw Worker.RateLimitError()`) after `worker.rateLimit(ms)`: the
 *   job goes back to the queue unprocessed, without using an attempt (BullMQ's);
 * - an enqueue over its client's rate limit (`security.rateLimiting`): nothing was written;
 *   `retryAfterMs` says when the client's window ends, `clientId` whose it is.
 */
class RateLimitError extends Error {
  constructor(message = RATE_LIMIT_ERROR, { retryAfterMs, clientId, limit } = {}) {
    super(message);
    this.name = 'RateLimitError';
    this.code = 'ERR_RATE_LIMIT';
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    if (clientId !== undefined) this.clientId = clientId;
    if (limit !== undefined) this.limit = limit;
  }
}

/** Messages that mark the errors below (BullMQ's, so its own classes count too). */
const DELAYED_ERROR = 'bullmq:movedToDelayed';
const WAITING_ERROR = 'bullmq:movedToWait';
const WAITING_CHILDREN_ERROR = 'bullmq:movedToWaitingChildren';

/** Thrown by a processor after `job.moveToDelayed(timestamp, token)`: the job stays delayed;
 * the worker neither completes nor fails it, and counts no attempt. */
class DelayedError extends Error {
  constructor(message = DELAYED_ERROR) {
    super(message);
    this.name = 'DelayedError';
    this.code = 'ERR_MOVED_TO_DELAYED';
  }
}

/** Thrown by a processor after `job.moveToWait(token)`: the job stays waiting; the worker
 * neither completes nor fails it, and counts no attempt. */
class WaitingError extends Error {
  constructor(message = WAITING_ERROR) {
    super(message);
    this.name = 'WaitingError';
    this.code = 'ERR_MOVED_TO_WAIT';
  }
}

/** Thrown by a processor that moved its job to wait for its children: the worker neither
 * completes nor fails it. */
class WaitingChildrenError extends Error {
  constructor(message = WAITING_CHILDREN_ERROR) {
    super(message);
    this.name = 'WaitingChildrenError';
    this.code = 'ERR_MOVED_TO_WAITING_CHILDREN';
  }
}

const MOVED_NAMES = new Set(['DelayedError', 'WaitingError', 'WaitingChildrenError']);
const MOVED_MESSAGES = new Set([DELAYED_ERROR, WAITING_ERROR, WAITING_CHILDREN_ERROR]);

/** Whether a processor's error says it moved its job itself (DelayedError, WaitingError,
 * WaitingChildrenError: ours or BullMQ's, recognised by class, name or message). */
function isMovedByProcessor(err) {
  if (err == null) return false;
  if (err instanceof DelayedError || err instanceof WaitingError || err instanceof WaitingChildrenError) return true;
  return MOVED_NAMES.has(err.name) || MOVED_MESSAGES.has(err.message);
}

/** Error names that mean "retrying cannot help" (the design's non-retryable errors). */
const NON_RETRYABLE = new Set([
  'UnrecoverableError',
  'ValidationError',
  'AuthenticationError',
  'AuthorizationError',
  'NotFoundError',
  'BadRequestError',
]);

/** Markers in an error message that mean "retrying cannot help", as the design has them. */
const NON_RETRYABLE_MARKERS = ['INVALID_DATA', 'PERMISSION_DENIED'];

/**
 * Whether `err` fails its job at once: an UnrecoverableError, a design non-retryable name
 * (its `name` or its class name), a name in `extra` (registered by the user), an error
 * carrying `retryable: false`, or a message with one of the design's markers.
 */
function isUnrecoverable(err, extra) {
  if (err instanceof UnrecoverableError) return true;
  if (err == null) return false;
  const names = [err.name, err.constructor?.name];
  if (names.some((n) => NON_RETRYABLE.has(n) || (extra !== undefined && extra.has(n)))) return true;
  if (err.retryable === false) return true;
  const message = err.message;
  return typeof message === 'string' && NON_RETRYABLE_MARKERS.some((m) => message.includes(m));
}

const BY_CODE = {
  // the engine's message is whole: `invalid <field>: ...`, or BullMQ's wording
  ERR_VALIDATION: (r) => ValidationError.worded(r.field, r.message),
  ERR_JOB_NOT_IN_STATE: (r) => new JobStateError(r.message),
  ERR_JOB_NOT_FOUND: (r) => new JobNotFoundError(r.message),
  ERR_CONNECTION: (r) => new ConnectionError(r.message),
  ERR_LOCK_MISMATCH: (r) => new LockError(r.message, r.code),
  ERR_LOCK_MISSING: (r) => new LockError(r.message, r.code),
  ERR_CORRUPT_JOB: (r) => new CorruptJobError(r.message, r.code),
  ERR_CLOSED: (r) => new ClosedError(r.message, r.code),
  ERR_NOT_REPLICATED: (r) => new ReplicationError(r.message, r.code),
};

/** The error class for an engine reason `{code, message, field?}`, or null. */
function fromReason(reason) {
  const make = reason && BY_CODE[reason.code];
  return make ? make(reason) : null;
}

/** Converts an error thrown by the native engine; anything else passes through. */
function fromNative(err) {
  let reason;
  try {
    reason = JSON.parse(err.message);
  } catch {
    return err;
  }
  return fromReason(reason) || err;
}

module.exports = {
  JobQueueError,
  ValidationError,
  JobStateError,
  QueueNotFoundError,
  QueueExistsError,
  JobNotFoundError,
  WorkerNotFoundError,
  ConnectionError,
  SecurityError,
  AuthorizationError,
  LockError,
  CorruptJobError,
  ClosedError,
  ReplicationError,
  UnrecoverableError,
  TimeoutError,
  RateLimitError,
  RATE_LIMIT_ERROR,
  DelayedError,
  WaitingError,
  WaitingChildrenError,
  DELAYED_ERROR,
  WAITING_ERROR,
  WAITING_CHILDREN_ERROR,
  isMovedByProcessor,
  isUnrecoverable,
  fromReason,
  fromNative,
};
