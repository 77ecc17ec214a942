// The coordinator (the design's facade) and its managers: the design's manager interfaces, the
// classes that implement them (reached through the coordinator's properties), and the flat
// methods the coordinator keeps for every one of them.

import { EventEmitter } from 'node:events';
import type { Job, Queue, QueueEvents, Worker, WorkerOptions } from './bullmq';
import type {
  AuditEntry,
  AuditLogQuery,
  AutoScalingPolicy,
  BackoffOptions,
  BottleneckAnalysis,
  BulkJob,
  CoordinatorHealth,
  CoordinatorStatus,
  FailedJob,
  FailedJobStatistics,
  FailurePattern,
  HealthRecommendation,
  HealthThresholds,
  JobOptions,
  JobProcessingContext,
  JobProcessor,
  JobQueueCoordinatorConfig,
  JobQueueCoordinatorOptions,
  JobQueueMetricsReport,
  JobQueueMetricsSnapshot,
  ManagedWorker,
  MetricLabels,
  OptimizationResult,
  Permission,
  PermissionCondition,
  RateLimitDecision,
  QueueConfig,
  QueueCreateOptions,
  QueueHealthStatus,
  QueueMetricsReport,
  QueueMetricsSnapshot,
  QueueStatus,
  RecurringJobOptions,
  RepeatableJob,
  RetryDecision,
  RetryStatistics,
  ScalingRecommendation,
  ScalingResult,
  ScheduledJob,
  ScheduleOptions,
  WorkerConfig,
  WorkerMetricsReport,
  WorkerMetricsSnapshot,
  WorkerPool,
  WorkerPoolConfig,
  WorkerProcessor,
  WorkerStatus,
} from './design';

/** A range of a list, both ends included (0 is the newest). */
export interface ListRange {
  start?: number;
  end?: number;
}

// ---------------------------------------------------------------------------------------------
// The design's manager interfaces

export interface QueueManager {
  createQueue(name: string, config: QueueConfig): Promise<Queue>;
  getQueue(name: string): Queue | null;
  getAllQueues(): Map<string, Queue>;
  destroyQueue(name: string): Promise<void>;
  pauseQueue(name: string): Promise<void>;
  resumeQueue(name: string): Promise<void>;
  getQueueStatus(name: string): Promise<QueueStatus>;
}

export interface JobScheduler {
  scheduleJob<T>(queueName: string, jobName: string, data: T, options: ScheduleOptions): Promise<Job<T>>;
  scheduleRecurringJob<T>(
    queueName: string,
    jobName: string,
    data: T,
    cronExpression: string,
    options?: RecurringJobOptions,
  ): Promise<RepeatableJob>;
  cancelScheduledJob(queueName: string, jobId: string): Promise<void>;
  getScheduledJobs(queueName: string): Promise<Job[]>;
  updateJobPriority(queueName: string, jobId: string, priority: number): Promise<void>;
}

export interface WorkerManager {
  registerWorker(queueName: string, processor: JobProcessor, options?: WorkerOptions): Promise<Worker>;
  unregisterWorker(workerId: string): Promise<void>;
  getWorkers(queueName?: string): Worker[];
  getWorkerStatus(workerId: string): Promise<WorkerStatus>;
  scaleWorkers(queueName: string, targetCount: number): Promise<ScalingResult>;
  pauseWorker(workerId: string): Promise<void>;
  resumeWorker(workerId: string): Promise<void>;
}

export interface QueueHealthChecker {
  checkQueueHealth(queueName: string): Promise<QueueHealthStatus>;
  getAllQueuesHealth(): Promise<Map<string, QueueHealthStatus>>;
  getHealthRecommendations(queueName: string): Promise<HealthRecommendation[]>;
}

export interface WorkerPoolManager {
  createWorkerPool(queueName: string, config: WorkerPoolConfig): Promise<WorkerPool>;
  scaleWorkerPool(queueName: string, targetWorkers: number): Promise<ScalingResult>;
  enableAutoScaling(queueName: string, policy: AutoScalingPolicy): Promise<void>;
  disableAutoScaling(queueName: string): Promise<void>;
  getWorkerPool(queueName: string): WorkerPool | null;
  getAllWorkerPools(): Map<string, WorkerPool>;
}

export interface RetryHandler {
  calculateRetryDelay(attempt: number, options: BackoffOptions): number;
  shouldRetry(error: Error, attempt: number, maxAttempts: number): boolean;
  handleJobRetry(job: Job, error: Error): Promise<RetryDecision>;
  getRetryStatistics(queueName: string): Promise<RetryStatistics>;
}

export interface DeadLetterHandler {
  handleFailedJob(job: Job, error: Error): Promise<void>;
  getFailedJobs(queueName: string, limit?: number): Promise<FailedJob[]>;
  requeueFailedJob(queueName: string, jobId: string): Promise<void>;
  archiveFailedJob(queueName: string, jobId: string): Promise<void>;
  purgeFailedJobs(queueName: string, olderThan?: Date): Promise<number>;
  getFailedJobStatistics(queueName: string): Promise<FailedJobStatistics>;
}

export interface JobQueueMetrics {
  collectMetrics(): Promise<JobQueueMetricsSnapshot>;
  getQueueMetrics(queueName: string): Promise<QueueMetricsSnapshot>;
  getWorkerMetrics(workerId?: string): Promise<WorkerMetricsSnapshot>;
  exportPrometheusMetrics(): Promise<string>;
}

/** Counters, gauges and histograms (exported by exportPrometheusMetrics). */
export interface MetricsCollector {
  incrementCounter(name: string, labels?: MetricLabels): void;
  setGauge(name: string, value: number, labels?: MetricLabels): void;
  recordHistogram(name: string, value: number, labels?: MetricLabels): void;
}

export interface PerformanceOptimizer {
  optimizeQueue(queueName: string): Promise<OptimizationResult>;
  analyzeBottlenecks(queueName: string): Promise<BottleneckAnalysis>;
  recommendScaling(queueName: string): Promise<ScalingRecommendation>;
}

export interface JobSecurityManager {
  validateJobData(queueName: string, jobName: string, data: any): Promise<void>;
  sanitizeJobInput(data: any): any;
  validateJobExecution(job: Job, context: JobProcessingContext): Promise<void>;
  auditJobActivity(job: Job, action: string, metadata?: any): Promise<void>;
}

export interface JobAccessControl {
  canEnqueueJob(clientId: string, queueName: string, jobType: string): Promise<boolean>;
  canViewQueue(clientId: string, queueName: string): Promise<boolean>;
  canManageQueue(clientId: string, queueName: string): Promise<boolean>;
  getClientPermissions(clientId: string): Promise<Permission[]>;
}

// ---------------------------------------------------------------------------------------------
// The managers (a coordinator makes them; reach them through its properties)

export declare class QueueManagerImpl implements QueueManager {
  private constructor();
  createQueue(config: QueueConfig): Promise<Queue>;
  createQueue(name: string, config?: QueueCreateOptions): Promise<Queue>;
  /** The queue this coordinator created or used, or null. */
  getQueue(name: string): Queue | null;
  /** The queues this coordinator created or used. */
  getAllQueues(): Map<string, Queue>;
  /** Names of the queues getAllQueues lists (await refreshQueues() for the view from Redis now). */
  getQueueNames(): string[];
  /** Reads every queue of the key prefix from Redis (other processes' and BullMQ's too). */
  refreshQueues(): Promise<Map<string, Queue>>;
  /** Deletes the queue and all its keys; refused while jobs are active unless force. */
  destroyQueue(name: string, options?: { force?: boolean }): Promise<void>;
  /** Pauses the queue for every worker of every process (BullMQ's too). */
  pauseQueue(name: string): Promise<void>;
  resumeQueue(name: string): Promise<void>;
  getQueueStatus(name: string): Promise<QueueStatus>;
}

export declare class JobSchedulerImpl implements JobScheduler {
  private constructor();
  /** Adds a job with a trace id (given or generated), visible to the processor as job.traceId. */
  scheduleJob<T>(queueName: string, jobName: string, data: T, options?: ScheduleOptions): Promise<Job<T>>;
  /** Creates or replaces a recurring job: a cron expression (5 fields, or 6 with seconds). */
  scheduleRecurringJob<T>(
    queueName: string,
    jobName: string,
    data: T,
    cronExpression: string,
    options?: RecurringJobOptions,
  ): Promise<RepeatableJob>;
  /** An `{ every: ms }` schedule (pass the options, even `{}`, to get a RepeatableJob). */
  scheduleRecurringJob<T>(
    queueName: string,
    jobName: string,
    data: T,
    every: { every: number },
    options: RecurringJobOptions,
  ): Promise<RepeatableJob>;
  /** The four-argument form (an object as the fourth argument and no fifth): the schedule is
   * in the options (`cronExpression` or `every`); resolves to the job waiting for the first run. */
  scheduleRecurringJob<T>(queueName: string, jobName: string, data: T, options: RecurringJobOptions): Promise<Job<T>>;
  /** Recurring jobs of the queue (ours and BullMQ's job schedulers), soonest first. */
  getRecurringJobs(queueName: string): Promise<RepeatableJob[]>;
  /** Cancels a recurring job (by its id or a run's id) or a job that has not started. */
  cancelScheduledJob(queueName: string, jobId: string): Promise<void>;
  /** Delayed jobs and the next run of each recurring job, soonest first. */
  getScheduledJobs(queueName: string, range?: ListRange): Promise<ScheduledJob[]>;
  updateJobPriority(queueName: string, jobId: string, priority: number): Promise<void>;
  /** Moves a failed job back to waiting; false when the queue has no failed job by that id. */
  retryJob(queueName: string, jobId: string): Promise<boolean>;
  /** Removes a job that has not started; false when there was none to cancel. */
  cancelJob(queueName: string, jobId: string): Promise<boolean>;
  /** Makes a delayed job runnable now. */
  promoteJob(queueName: string, jobId: string): Promise<void>;
  /** Makes a delayed job due delayMs from now. */
  changeDelay(queueName: string, jobId: string, delayMs: number): Promise<void>;
}

export declare class WorkerManagerImpl implements WorkerManager {
  private constructor();
  registerWorker<T = any, R = any>(queueName: string, processor: WorkerProcessor<T, R>, options?: WorkerOptions): Promise<Worker<T, R>>;
  registerWorker<T = any, R = any>(config: WorkerConfig<T, R>): Promise<ManagedWorker<T, R>>;
  /** Closes the worker, waiting up to timeoutMs for its active jobs. */
  unregisterWorker(workerId: string, options?: { timeoutMs?: number }): Promise<void>;
  closeWorker(workerId: string): Promise<void>;
  /** This process's workers (of one queue). */
  getWorkers(queueName?: string): Worker[];
  getWorker(workerId: string): ManagedWorker | null;
  getWorkersByQueue(queueName: string): ManagedWorker[];
  getWorkerStatus(workerId: string): Promise<WorkerStatus>;
  /** Workers of every process, from the registry in Redis. */
  getAllWorkerStatus(): Promise<WorkerStatus[]>;
  getAllWorkers(queueName?: string): Promise<WorkerStatus[]>;
  scaleWorkers(queueName: string, targetCount: number): Promise<ScalingResult>;
  pauseWorker(workerId: string): Promise<void>;
  resumeWorker(workerId: string): Promise<void>;
}

export declare class QueueHealthCheckerImpl implements QueueHealthChecker {
  private constructor();
  checkQueueHealth(queueName: string, thresholds?: Partial<HealthThresholds>): Promise<QueueHealthStatus>;
  getAllQueuesHealth(): Promise<Map<string, QueueHealthStatus>>;
  getHealthRecommendations(queueName: string): Promise<HealthRecommendation[]>;
}

export declare class WorkerPoolManagerImpl implements WorkerPoolManager {
  private constructor();
  createWorkerPool<T = any, R = any>(queueName: string, config: WorkerPoolConfig<T, R>): Promise<WorkerPool>;
  scaleWorkerPool(queueName: string, targetWorkers: number): Promise<ScalingResult>;
  /** Unset fields of the policy take their defaults. */
  enableAutoScaling(queueName: string, policy: Partial<AutoScalingPolicy>): Promise<void>;
  disableAutoScaling(queueName: string): Promise<void>;
  getWorkerPool(queueName: string): WorkerPool | null;
  getAllWorkerPools(): Map<string, WorkerPool>;
}

export declare class RetryHandlerImpl implements RetryHandler {
  private constructor();
  calculateRetryDelay(attempt: number, options: BackoffOptions): number;
  shouldRetry(error: Error, attempt: number, maxAttempts: number): boolean;
  handleJobRetry(job: Job, error: Error): Promise<RetryDecision>;
  getRetryStatistics(queueName: string): Promise<RetryStatistics>;
  /** Error classes (or names) that fail jobs at once in this coordinator's workers. */
  registerNonRetryableError(error: string | (abstract new (...args: any[]) => Error)): void;
}

export declare class DeadLetterHandlerImpl implements DeadLetterHandler {
  private constructor();
  handleFailedJob(job: Job, error: Error): Promise<void>;
  /** The newest dead letters: the first `limit` (default 100), or a range. */
  getFailedJobs(queueName: string, limit?: number | ListRange): Promise<FailedJob[]>;
  /** Moves a dead letter back to waiting with fresh attempts. */
  requeueFailedJob(queueName: string, jobId: string): Promise<void>;
  /** Keeps a dead letter but takes it off the failed list. */
  archiveFailedJob(queueName: string, jobId: string): Promise<void>;
  getArchivedJobs(queueName: string, range?: ListRange): Promise<Job[]>;
  /** Deletes dead letters (those failed before a Date, or older than an age in ms); resolves to the count. */
  purgeFailedJobs(queueName: string, olderThan?: Date | number): Promise<number>;
  getFailedJobStatistics(queueName: string): Promise<FailedJobStatistics>;
}

/** The design's JobQueueMetrics and MetricsCollector in one (the coordinator's metricsCollector). */
export declare class JobQueueMetricsImpl implements JobQueueMetrics, MetricsCollector {
  private constructor();
  collectMetrics(): Promise<JobQueueMetricsReport>;
  /** The queue's metrics, from Redis (every process's workers count). */
  getQueueMetrics(queueName: string): Promise<QueueMetricsReport>;
  getWorkerMetrics(workerId?: string): Promise<WorkerMetricsReport>;
  /** Prometheus text exposition (version 0.0.4) of every queue, this process and the
   * counters, gauges and histograms recorded here. */
  exportPrometheusMetrics(): Promise<string>;
  incrementCounter(name: string, labels?: MetricLabels): void;
  setGauge(name: string, value: number, labels?: MetricLabels): void;
  recordHistogram(name: string, value: number, labels?: MetricLabels): void;
}

export declare class PerformanceOptimizerImpl implements PerformanceOptimizer {
  private constructor();
  optimizeQueue(queueName: string): Promise<OptimizationResult>;
  analyzeBottlenecks(queueName: string): Promise<BottleneckAnalysis>;
  recommendScaling(queueName: string): Promise<ScalingRecommendation>;
}

/** The design's JobSecurityManager (`coordinator.securityManager`), with this package's rate
 * limit, audit log reading and schema checks. */
export declare class JobSecurityManagerImpl implements JobSecurityManager {
  private constructor();
  /** Format and size, the design's content rules (SecurityError), the queue's JSON Schemas
   * (ValidationError); each error lists every violation. */
  validateJobData(queueName: string, jobName: string, data: any): Promise<void>;
  /** A copy without `__proto__`, `constructor` or `prototype` keys at any depth (enqueue
   * applies it). */
  sanitizeJobInput<T>(data: T): T;
  /** Before an attempt: too old (security.maxJobAge) → SecurityError; the worker's client
   * without `process` permission → AuthorizationError; the job's client over its rate limit →
   * RateLimitError. */
  validateJobExecution(job: Job, context: Partial<JobProcessingContext> & { queueName?: string }): Promise<void>;
  /** Appends to the audit log; `metadata.outcome` (default success) and `metadata.actor`
   * (default the calling client, else system) are taken out of the metadata. */
  auditJobActivity(job: Job | { queue: string; id?: string | number }, action: string, metadata?: Record<string, any>): Promise<void>;
  /** Audit entries, newest first. */
  getAuditLog(query?: AuditLogQuery): Promise<AuditEntry[]>;
  /** Counts `cost` (default 1) against the client's window (shared through Redis by every
   * process); over the limit counts nothing. `scope` keeps separate windows (default
   * 'enqueue'; 'run' is the per-attempt one). */
  checkClientRateLimit(clientId: string, options?: { cost?: number; scope?: string }): Promise<RateLimitDecision>;
}

/** The design's JobAccessControl (`coordinator.accessControl`): permissions stored in Redis,
 * enforced by `coordinator.forClient(id)`. */
export declare class JobAccessControlImpl implements JobAccessControl {
  private constructor();
  canEnqueueJob(clientId: string, queueName: string, jobType: string, data?: object): Promise<boolean>;
  canViewQueue(clientId: string, queueName: string): Promise<boolean>;
  canManageQueue(clientId: string, queueName: string): Promise<boolean>;
  /** Whether a worker running as the client may run the queue's jobs. */
  canProcessQueue(clientId: string, queueName: string): Promise<boolean>;
  getClientPermissions(clientId: string): Promise<Permission[]>;
  /** Resolves when allowed; else audits the denial and rejects with AuthorizationError. */
  authorize(
    clientId: string,
    action: 'enqueue' | 'view' | 'manage' | 'process',
    queueName: string,
    job?: { jobType?: string; data?: object; jobId?: string | number },
  ): Promise<void>;
  /** Adds the permission's grants (kept when they exist); resolves to how many were new. */
  grant(clientId: string, permission: { resource: string; actions: string[]; conditions?: PermissionCondition[] }): Promise<number>;
  /** Removes the grants on `resource` (of `actions`, or all); resolves to how many. */
  revoke(clientId: string, resource: string, actions?: string[]): Promise<number>;
}

/**
 * `coordinator.forClient(clientId)`: the coordinator's calls as that client may make them.
 * Enqueue calls need `enqueue` for the job's type, reads `view`, changes `manage`,
 * registerWorker `process`; a denial is an AuthorizationError (audited). Jobs carry the
 * client's id, and the audit log names the client.
 */
export declare class ClientCoordinator {
  private constructor();
  readonly clientId: string;
  getClientPermissions(): Promise<Permission[]>;
  enqueueJob<T extends object>(queueName: string, data: T, options?: JobOptions): Promise<Job<T>>;
  enqueueJob<T extends object>(queueName: string, jobName: string, data: T, options?: JobOptions): Promise<Job<T>>;
  enqueueBulk<T extends object>(queueName: string, jobs: BulkJob<T>[]): Promise<Job<T>[]>;
  scheduleJob<T extends object>(queueName: string, jobName: string, data: T, options?: ScheduleOptions): Promise<Job<T>>;
  scheduleRecurringJob<T extends object>(queueName: string, jobName: string, data: T, cronExpression: string | { every: number }, options?: RecurringJobOptions): Promise<RepeatableJob>;
  scheduleRecurringJob<T extends object>(queueName: string, jobName: string, data: T, options: RecurringJobOptions): Promise<Job<T>>;
  createQueue(config: QueueConfig): Promise<Queue>;
  createQueue(name: string, config?: QueueCreateOptions): Promise<Queue>;
  registerWorker<T = any, R = any>(queueName: string, processor: WorkerProcessor<T, R>, options?: WorkerOptions): Promise<Worker<T, R>>;
  registerWorker<T = any, R = any>(config: WorkerConfig<T, R>): Promise<ManagedWorker<T, R>>;
  /** Only the two-argument form. */
  retryJob(queueName: string, jobId: string): Promise<boolean>;
  /** The queues of the prefix the client may view. */
  getQueueNames(): Promise<string[]>;
  getAllQueuesHealth(): Promise<Map<string, QueueHealthStatus>>;
  getAllWorkers(queueName?: string): Promise<WorkerStatus[]>;
  // view
  getQueueStatus(queueName: string): Promise<QueueStatus>;
  getJob(queueName: string, jobId: string): Promise<Job | null>;
  getJobLogs(queueName: string, jobId: string): Promise<string[]>;
  getFailedJobs(queueName: string, limit?: number | ListRange): Promise<FailedJob[]>;
  getArchivedJobs(queueName: string, range?: ListRange): Promise<Job[]>;
  getFailedJobStatistics(queueName: string): Promise<FailedJobStatistics>;
  getRecurringJobs(queueName: string): Promise<RepeatableJob[]>;
  getScheduledJobs(queueName: string, range?: ListRange): Promise<ScheduledJob[]>;
  getQueueMetrics(queueName: string): Promise<QueueMetricsReport>;
  checkQueueHealth(queueName: string, thresholds?: Partial<HealthThresholds>): Promise<QueueHealthStatus>;
  getHealthRecommendations(queueName: string): Promise<HealthRecommendation[]>;
  getRetryStatistics(queueName: string): Promise<RetryStatistics>;
  analyzeBottlenecks(queueName: string): Promise<BottleneckAnalysis>;
  optimizeQueue(queueName: string): Promise<OptimizationResult>;
  recommendScaling(queueName: string): Promise<ScalingRecommendation>;
  events(queueName: string): Promise<QueueEvents>;
  // manage
  destroyQueue(name: string, options?: { force?: boolean }): Promise<void>;
  pauseQueue(name: string): Promise<void>;
  resumeQueue(name: string): Promise<void>;
  cancelScheduledJob(queueName: string, idOrKey: string): Promise<void>;
  cancelJob(queueName: string, jobId: string): Promise<boolean>;
  updateJobPriority(queueName: string, jobId: string, priority: number): Promise<void>;
  promoteJob(queueName: string, jobId: string): Promise<void>;
  changeDelay(queueName: string, jobId: string, delayMs: number): Promise<void>;
  requeueFailedJob(queueName: string, jobId: string): Promise<void>;
  archiveFailedJob(queueName: string, jobId: string): Promise<void>;
  purgeFailedJobs(queueName: string, olderThan?: Date | number): Promise<number>;
  scaleWorkers(queueName: string, targetCount: number): Promise<ScalingResult>;
  createWorkerPool<T = any, R = any>(queueName: string, config: WorkerPoolConfig<T, R>): Promise<WorkerPool>;
  scaleWorkerPool(queueName: string, targetWorkers: number): Promise<ScalingResult>;
  enableAutoScaling(queueName: string, policy: Partial<AutoScalingPolicy>): Promise<void>;
  disableAutoScaling(queueName: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The coordinator

export type CoordinatorJobEvent = { queueName: string; jobId: string; detail?: unknown };

/**
 * The design's JobQueueCoordinator: its managers as properties, and every manager method also
 * as a flat method.
 */
export declare class JobQueueCoordinator extends EventEmitter {
  constructor(config?: JobQueueCoordinatorOptions);
  /** The configuration in use: what was given, then the environment, then the design's defaults. */
  readonly config: JobQueueCoordinatorConfig;
  readonly logger: {
    enabled(level: string): boolean;
    debug(msg: string, fields?: object): void;
    info(msg: string, fields?: object): void;
    warn(msg: string, fields?: object): void;
    error(msg: string, fields?: object): void;
  };

  readonly queueManager: QueueManagerImpl;
  readonly jobScheduler: JobSchedulerImpl;
  readonly workerManager: WorkerManagerImpl;
  readonly workerPoolManager: WorkerPoolManagerImpl;
  readonly retryHandler: RetryHandlerImpl;
  readonly deadLetterHandler: DeadLetterHandlerImpl;
  readonly metricsCollector: JobQueueMetricsImpl;
  readonly healthChecker: QueueHealthCheckerImpl;
  readonly performanceOptimizer: PerformanceOptimizerImpl;
  readonly securityManager: JobSecurityManagerImpl;
  readonly accessControl: JobAccessControlImpl;

  /** A view of this coordinator for one client, its calls checked against the client's
   * permissions (AuthorizationError when denied, audited). */
  forClient(clientId: string): ClientCoordinator;

  /** Connects to Redis. Every method calls it, so calling it yourself is optional. */
  initialize(): Promise<void>;
  /** Closes workers (waiting up to timeoutMs for their active jobs), queues and the connection. */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
  /** SIGTERM/SIGINT → graceful shutdown, then exit; returns a function removing the handlers. */
  installSignalHandlers(options?: { timeoutMs?: number; signals?: NodeJS.Signals[]; exit?: boolean; exitCode?: number }): () => void;
  /** Round trip to Redis, ms. */
  ping(): Promise<number>;

  // Queues
  createQueue(config: QueueConfig): Promise<Queue>;
  createQueue(name: string, config?: QueueCreateOptions): Promise<Queue>;
  getQueue(name: string): Queue | null;
  getAllQueues(): Map<string, Queue>;
  getQueueNames(): string[];
  refreshQueues(): Promise<Map<string, Queue>>;
  destroyQueue(name: string, options?: { force?: boolean }): Promise<void>;
  pauseQueue(name: string): Promise<void>;
  resumeQueue(name: string): Promise<void>;
  getQueueStatus(queueName: string): Promise<QueueStatus>;

  // Jobs
  /** Adds a job named after `data.type` (or the queue). */
  enqueueJob<T extends object>(queueName: string, data: T, options?: JobOptions): Promise<Job<T>>;
  enqueueJob<T extends object>(queueName: string, jobName: string, data: T, options?: JobOptions): Promise<Job<T>>;
  /** Adds all the jobs in one call (all or none). */
  enqueueBulk<T extends object>(queueName: string, jobs: BulkJob<T>[]): Promise<Job<T>[]>;
  getJob(queueName: string, jobId: string): Promise<Job | null>;
  getJobLogs(queueName: string, jobId: string): Promise<string[]>;
  /** Moves a failed job back to waiting; false when there was no failed job by that id. The
   * one-argument form looks in every queue this coordinator knows. */
  retryJob(jobId: string): Promise<boolean>;
  retryJob(queueName: string, jobId: string): Promise<boolean>;
  /** Removes a job that has not started; false when there was none to cancel. */
  cancelJob(queueName: string, jobId: string): Promise<boolean>;

  // Scheduling
  scheduleJob<T extends object>(queueName: string, jobName: string, data: T, options?: ScheduleOptions): Promise<Job<T>>;
  /** Creates or replaces a recurring job: a cron expression (5 fields, or 6 with seconds). */
  scheduleRecurringJob<T extends object>(
    queueName: string,
    jobName: string,
    data: T,
    cronExpression: string,
    options?: RecurringJobOptions,
  ): Promise<RepeatableJob>;
  /** An `{ every: ms }` schedule (pass the options, even `{}`, to get a RepeatableJob). */
  scheduleRecurringJob<T extends object>(
    queueName: string,
    jobName: string,
    data: T,
    every: { every: number },
    options: RecurringJobOptions,
  ): Promise<RepeatableJob>;
  /** The four-argument form (an object as the fourth argument and no fifth): the schedule is
   * in the options (`cronExpression` or `every`); resolves to the job waiting for the first run. */
  scheduleRecurringJob<T extends object>(queueName: string, jobName: string, data: T, options: RecurringJobOptions): Promise<Job<T>>;
  getRecurringJobs(queueName: string): Promise<RepeatableJob[]>;
  getScheduledJobs(queueName: string, range?: ListRange): Promise<ScheduledJob[]>;
  cancelScheduledJob(queueName: string, idOrKey: string): Promise<void>;
  updateJobPriority(queueName: string, jobId: string, priority: number): Promise<void>;
  promoteJob(queueName: string, jobId: string): Promise<void>;
  changeDelay(queueName: string, jobId: string, delayMs: number): Promise<void>;

  // Workers
  registerWorker<T = any, R = any>(queueName: string, processor: WorkerProcessor<T, R>, options?: WorkerOptions): Promise<Worker<T, R>>;
  registerWorker<T = any, R = any>(config: WorkerConfig<T, R>): Promise<ManagedWorker<T, R>>;
  unregisterWorker(workerId: string, options?: { timeoutMs?: number }): Promise<void>;
  closeWorker(workerId: string): Promise<void>;
  getWorkers(queueName?: string): Worker[];
  getWorker(workerId: string): ManagedWorker | null;
  getWorkersByQueue(queueName: string): ManagedWorker[];
  getWorkerStatus(workerId: string): Promise<WorkerStatus>;
  getAllWorkers(queueName?: string): Promise<WorkerStatus[]>;
  getAllWorkerStatus(): Promise<WorkerStatus[]>;
  pauseWorker(workerId: string): Promise<void>;
  resumeWorker(workerId: string): Promise<void>;
  scaleWorkers(queueName: string, targetCount: number): Promise<ScalingResult>;

  // Worker pools
  createWorkerPool<T = any, R = any>(queueName: string, config: WorkerPoolConfig<T, R>): Promise<WorkerPool>;
  scaleWorkerPool(queueName: string, targetWorkers: number): Promise<ScalingResult>;
  enableAutoScaling(queueName: string, policy: Partial<AutoScalingPolicy>): Promise<void>;
  disableAutoScaling(queueName: string): Promise<void>;
  getWorkerPool(queueName: string): WorkerPool | null;
  getAllWorkerPools(): Map<string, WorkerPool>;

  // Dead letters and retries
  getFailedJobs(queueName: string, limit?: number | ListRange): Promise<FailedJob[]>;
  requeueFailedJob(queueName: string, jobId: string): Promise<void>;
  archiveFailedJob(queueName: string, jobId: string): Promise<void>;
  getArchivedJobs(queueName: string, range?: ListRange): Promise<Job[]>;
  purgeFailedJobs(queueName: string, olderThan?: Date | number): Promise<number>;
  getFailedJobStatistics(queueName: string): Promise<FailedJobStatistics>;
  getRetryStatistics(queueName: string): Promise<RetryStatistics>;
  registerNonRetryableError(error: string | (abstract new (...args: any[]) => Error)): void;

  // Monitoring
  getQueueMetrics(queueName: string): Promise<QueueMetricsReport>;
  getWorkerMetrics(workerId?: string): Promise<WorkerMetricsReport>;
  collectMetrics(): Promise<JobQueueMetricsReport>;
  exportPrometheusMetrics(): Promise<string>;
  checkQueueHealth(queueName: string, thresholds?: Partial<HealthThresholds>): Promise<QueueHealthStatus>;
  getAllQueuesHealth(): Promise<Map<string, QueueHealthStatus>>;
  getHealthRecommendations(queueName: string): Promise<HealthRecommendation[]>;
  getHealth(): Promise<CoordinatorHealth>;
  getStatus(): Promise<CoordinatorStatus>;
  /** Follows the queue's Redis events stream (events of every process, BullMQ's too). */
  events(queueName: string): Promise<QueueEvents>;

  on(event: 'failurePattern', listener: (pattern: FailurePattern) => void): this;
  on(event: 'completed' | 'failed' | 'stalled' | 'progress', listener: (e: CoordinatorJobEvent) => void): this;
  on(event: 'active' | 'waiting' | 'delayed', listener: (e: { queueName: string; jobId: string; name: string }) => void): this;
  on(event: 'paused' | 'resumed' | 'drained', listener: (e: { queueName: string }) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** The design's name for the coordinator class. */
export declare const JobQueueCoordinatorImpl: typeof JobQueueCoordinator;
export type JobQueueCoordinatorImpl = JobQueueCoordinator;
