'use strict';
// @shared-infra/job-queue: a Redis job queue coordinator with a Rust engine, wire-compatible
// with BullMQ 6.

const { JobQueueCoordinator, QUEUE_TYPES } = require('./lib/coordinator');
const { QueueEvents } = require('./lib/queue-events');
const { createLogger } = require('./lib/logger');
const errors = require('./lib/errors');
const { Job, AddedJob, ActiveJob } = require('./lib/job');
const { Worker } = require('./lib/worker');

/** The default coordinator, configured from the environment; it connects on first use. */
const jobCoordinator = new JobQueueCoordinator();

module.exports = {
  JobQueueCoordinator,
  QUEUE_TYPES,
  QueueEvents,
  createLogger,
  jobCoordinator,
  Job,
  AddedJob,
  ActiveJob,
  Worker,
  JobQueueError: errors.JobQueueError,
  ValidationError: errors.ValidationError,
  JobStateError: errors.JobStateError,
  QueueNotFoundError: errors.QueueNotFoundError,
  QueueExistsError: errors.QueueExistsError,
  JobNotFoundError: errors.JobNotFoundError,
  WorkerNotFoundError: errors.WorkerNotFoundError,
  ConnectionError: errors.ConnectionError,
  LockError: errors.LockError,
  CorruptJobError: errors.CorruptJobError,
  ClosedError: errors.ClosedError,
  UnrecoverableError: errors.UnrecoverableError,
  TimeoutError: errors.TimeoutError,
  RateLimitError: errors.RateLimitError,
};
