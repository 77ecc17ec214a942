'use strict';
// @shared-infra/job-queue: a Redis job queue coordinator with a Rust engine, wire-compatible
// with BullMQ 6.

const { JobQueueCoordinator, QUEUE_TYPES, QueueEvents } = require('./lib/coordinator');
const { createLogger } = require('./lib/logger');
const errors = require('./lib/errors');
const { Job, AddedJob, ActiveJob } = require('./lib/job');
const { Worker } = require('./lib/worker');
const { QueueManagerImpl } = require('./lib/managers/queue-manager');
const { JobSchedulerImpl } = require('./lib/managers/job-scheduler');
const { WorkerManagerImpl, ManagedWorker } = require('./lib/managers/worker-manager');
const { WorkerPoolManagerImpl } = require('./lib/managers/worker-pool-manager');
const { RetryHandlerImpl } = require('./lib/managers/retry-handler');
const { DeadLetterHandlerImpl } = require('./lib/managers/dead-letter-handler');
const { JobQueueMetricsImpl } = require('./lib/managers/metrics-collector');
const { QueueHealthCheckerImpl } = require('./lib/managers/health-checker');
const { PerformanceOptimizerImpl } = require('./lib/managers/performance-optimizer');

/** The default coordinator, configured from the environment; it connects on first use. */
const jobCoordinator = new JobQueueCoordinator();

module.exports = {
  JobQueueCoordinator,
  /** The design's name of the coordinator class. */
  JobQueueCoordinatorImpl: JobQueueCoordinator,
  QueueManagerImpl,
  JobSchedulerImpl,
  WorkerManagerImpl,
  ManagedWorker,
  WorkerPoolManagerImpl,
  RetryHandlerImpl,
  DeadLetterHandlerImpl,
  JobQueueMetricsImpl,
  QueueHealthCheckerImpl,
  PerformanceOptimizerImpl,
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
};
