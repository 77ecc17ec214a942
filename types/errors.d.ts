// This package's error classes, each with a stable `code`. (BullMQ's processor errors, such as
// UnrecoverableError, are declared with the BullMQ classes.)

export declare class JobQueueError extends Error {
  readonly code: string;
}
/** Bad input: nothing was written to Redis. */
export declare class ValidationError extends JobQueueError {
  /** The message is `invalid <field>: <problem>` (just `problem` without a field). */
  constructor(field: string | undefined, problem: string, code?: string);
  /** One whose message is `message` as given (BullMQ's wording on BullMQ's classes). */
  static worded(field: string | undefined, message: string): ValidationError;
  /** The option or argument that was rejected. */
  readonly field?: string;
  /** Every violation, when job data did not match its queue's JSON Schema. */
  readonly violations?: SecurityViolation[];
}
/** The job is not in a state the operation applies to. */
export declare class JobStateError extends ValidationError {
  constructor(message: string);
}
export declare class QueueNotFoundError extends JobQueueError {
  readonly queueName: string;
}
export declare class QueueExistsError extends JobQueueError {
  readonly queueName: string;
}
export declare class JobNotFoundError extends JobQueueError {}
export declare class WorkerNotFoundError extends JobQueueError {
  readonly workerId: string;
}
export declare class ConnectionError extends JobQueueError {}
/** One rule broken, in SecurityError's and ValidationError's `violations`. */
export interface SecurityViolation {
  rule: string;
  message?: string;
  path?: string;
  keyword?: string;
  [detail: string]: unknown;
}
/** A security rule refused the job (code ERR_SECURITY): its data's content, or its age before
 * an attempt (the job fails at once, not retried). */
export declare class SecurityError extends JobQueueError {
  readonly code: 'ERR_SECURITY';
  readonly violations: SecurityViolation[];
  readonly retryable: false;
}
/** The client's permissions do not allow it (code ERR_FORBIDDEN); audited. */
export declare class AuthorizationError extends JobQueueError {
  readonly code: 'ERR_FORBIDDEN';
  readonly clientId?: string;
  readonly action?: string;
  readonly queueName?: string;
  readonly jobType?: string;
}
export declare class LockError extends JobQueueError {}
export declare class CorruptJobError extends JobQueueError {}
export declare class ClosedError extends JobQueueError {}
/** An add reached the master but fewer replicas than `redis.wait.replicas` confirmed it in
 * time (code ERR_NOT_REPLICATED): the job is stored, and lost only if the master fails
 * before replicating it. */
export declare class ReplicationError extends JobQueueError {
  readonly code: 'ERR_NOT_REPLICATED';
}
/** What an attempt that ran past its timeout fails with (code ERR_TIMEOUT). */
export declare class TimeoutError extends JobQueueError {}
