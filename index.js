'use strict';
// @shared-infra/job-queue: a Redis job queue coordinator with a Rust engine, wire-compatible
// with BullMQ 6.
//
// Every export is one `exports.Name = ...;` line. Node's ESM loader finds CommonJS exports by
// reading this file's text (it does not run it), and it recognises exactly this form, so
// `import { Name } from '@shared-infra/job-queue'` works for each of them. To add an export, add
// one such line; do not build `module.exports` from a computed object.

const errors = require('./lib/errors');

exports.JobQueueCoordinator = require('./lib/coordinator').JobQueueCoordinator;
exports.QUEUE_TYPES = require('./lib/coordinator').QUEUE_TYPES;
exports.QueueEvents = require('./lib/queue-events').QueueEvents;
exports.createLogger = require('./lib/logger').createLogger;
/** The Redis ACL a user of this package needs (`ACL SETUSER` arguments for a prefix). */
exports.redisAclRule = require('./lib/acl').redisAclRule;
exports.Job = require('./lib/job').Job;
exports.AddedJob = require('./lib/job').AddedJob;
exports.ActiveJob = require('./lib/job').ActiveJob;
exports.Worker = require('./lib/worker').Worker;
exports.Queue = require('./lib/queue').Queue;

/** The design's names of the coordinator and its managers' classes. */
exports.JobQueueCoordinatorImpl = exports.JobQueueCoordinator;
exports.QueueManagerImpl = require('./lib/managers/queue-manager').QueueManagerImpl;
exports.JobSchedulerImpl = require('./lib/managers/job-scheduler').JobSchedulerImpl;
exports.WorkerManagerImpl = require('./lib/managers/worker-manager').WorkerManagerImpl;
exports.WorkerPoolManagerImpl = require('./lib/managers/worker-pool-manager').WorkerPoolManagerImpl;
exports.RetryHandlerImpl = require('./lib/managers/retry-handler').RetryHandlerImpl;
exports.DeadLetterHandlerImpl = require('./lib/managers/dead-letter-handler').DeadLetterHandlerImpl;
exports.JobQueueMetricsImpl = require('./lib/managers/metrics-collector').JobQueueMetricsImpl;
exports.QueueHealthCheckerImpl = require('./lib/managers/health-checker').QueueHealthCheckerImpl;
exports.PerformanceOptimizerImpl = require('./lib/managers/performance-optimizer').PerformanceOptimizerImpl;
exports.JobSecurityManagerImpl = require('./lib/managers/security-manager').JobSecurityManagerImpl;
exports.JobAccessControlImpl = require('./lib/managers/access-control').JobAccessControlImpl;
exports.ClientCoordinator = require('./lib/client-coordinator').ClientCoordinator;

/** The design's job states (a string enum). */
exports.JobStatus = Object.freeze({
  WAITING: 'waiting',
  ACTIVE: 'active',
  COMPLETED: 'completed',
  FAILED: 'failed',
  DELAYED: 'delayed',
  PAUSED: 'paused',
});

exports.JobQueueError = errors.JobQueueError;
exports.ValidationError = errors.ValidationError;
exports.JobStateError = errors.JobStateError;
exports.QueueNotFoundError = errors.QueueNotFoundError;
exports.QueueExistsError = errors.QueueExistsError;
exports.JobNotFoundError = errors.JobNotFoundError;
exports.WorkerNotFoundError = errors.WorkerNotFoundError;
exports.ConnectionError = errors.ConnectionError;
exports.SecurityError = errors.SecurityError;
exports.AuthorizationError = errors.AuthorizationError;
exports.LockError = errors.LockError;
exports.CorruptJobError = errors.CorruptJobError;
exports.ClosedError = errors.ClosedError;
exports.ReplicationError = errors.ReplicationError;
exports.UnrecoverableError = errors.UnrecoverableError;
exports.TimeoutError = errors.TimeoutError;
exports.RateLimitError = errors.RateLimitError;
exports.DelayedError = errors.DelayedError;
exports.WaitingError = errors.WaitingError;
exports.WaitingChildrenError = errors.WaitingChildrenError;

/** The default coordinator, configured from the environment; it connects on first use. */
exports.jobCoordinator = new exports.JobQueueCoordinator();
