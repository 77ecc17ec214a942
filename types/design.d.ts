// The design's data types under the design's names: configuration, options, statuses, metrics,
// health, scaling, retries, dead letters, security and the job schemas. Where this package adds
// fields they are optional unless the design's own code never builds the type (outputs only).

import type { Job, JobsOptions, KeepJobs, QueueOptions, RepeatOptions, Worker, WorkerOptions, JobCounts } from './bullmq';
import type { JobCountsResult, JobTypeCountersResult, LatencyResult } from '../binding';

// ---------------------------------------------------------------------------------------------
// Jobs and their options

export interface BackoffOptions {
  type: 'fixed' | 'exponential';
  /** Base delay in ms. */
  delay: number;
  /** Cap on the computed delay in ms; default 5 minutes. */
  maxDelay?: number;
  /** Fraction in [0, 1]: the delay is drawn from [d × (1 − jitter), d]. Default 0.1, stored
   * with the job (so BullMQ's workers apply it too); 0 means none. */
  jitter?: number;
}

/**
 * Options of one job, in the design's spelling (delayMs, maxRetries, backoffStrategy, traceId)
 * and BullMQ's (delay, attempts, backoff, ...); both may be mixed.
 */
export interface JobOptions extends JobsOptions {
  /** The client the job is enqueued for (stored with it): its rate limit applies, and the
   * audit log names it. Else `data._metadata.clientId`. */
  clientId?: string;
  delayMs?: number;
  /** Total attempts (the design's name for `attempts`). */
  maxRetries?: number;
  backoffStrategy?: BackoffOptions;
  traceId?: string;
  /** An attempt running longer fails with TimeoutError (and follows the retry policy). */
  timeoutMs?: number;
  /** The design's scheduler puts a copy of the data here; the job's data is the data argument. */
  data?: unknown;
}

export interface ScheduleOptions {
  priority?: number;
  delayMs?: number;
  maxRetries?: number;
  backoffStrategy?: BackoffOptions;
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  jobId?: string;
  traceId?: string;
}

/** Options of a recurring job: its schedule and the options each run gets. */
export interface RecurringJobOptions {
  priority?: number;
  /** Total attempts of each run. */
  maxRetries?: number;
  backoffStrategy?: BackoffOptions;
  /** Kept finished runs; default 10 completed and 5 failed. */
  removeOnComplete?: KeepJobs;
  removeOnFail?: KeepJobs;
  /** IANA time zone the cron expression is read in; default UTC. */
  timezone?: string;
  startDate?: Date | number | string;
  endDate?: Date | number | string;
  /** Stop after this many runs. */
  maxRuns?: number;
  /** The schedule, for the four-argument form `scheduleRecurringJob(queue, name, data,
   * options)`: a cron expression (5 fields, or 6 with seconds) or `every` ms. */
  cronExpression?: string;
  every?: number;
  /** Run the first time now instead of at the first fire time (cron only). */
  immediately?: boolean;
  /** The schedule's id; default the job name. Scheduling the same id again replaces it. */
  schedulerId?: string;
  /** BullMQ spellings of the run options. */
  attempts?: number;
  backoff?: number | BackoffOptions;
  lifo?: boolean;
  keepLogs?: number;
  timeoutMs?: number;
}

/** A recurring job (a BullMQ job scheduler in Redis). */
export interface RepeatableJob {
  /** The scheduler id (default the job name). */
  id: string;
  name: string;
  data: any;
  /** The cron expression; for an `{ every }` schedule, empty (see `every`). */
  cronExpression: string;
  options: JobOptions;
  /** When the next run is due. */
  nextRun: Date;
  /** The scheduler's Redis key. */
  key?: string;
  queueName?: string;
  /** Interval in ms, for `{ every }` schedules. */
  every?: number | null;
  timezone?: string | null;
  /** Id of the job waiting for the next run. */
  jobId?: string;
  iterationCount?: number;
  maxRuns?: number | null;
  startDate?: Date | null;
  endDate?: Date | null;
}

/** A job waiting for its time (getScheduledJobs). */
export type ScheduledJob<T = any> = Job<T> & {
  /** When it becomes runnable. */
  runAt: Date;
};

/** One job of enqueueBulk. */
export interface BulkJob<T = any> {
  name?: string;
  data: T;
  /** A bulk add takes no `repeat` (enqueueJob makes recurring jobs one at a time). */
  options?: Omit<JobOptions, 'repeat'>;
}

export enum JobStatus {
  WAITING = 'waiting',
  ACTIVE = 'active',
  COMPLETED = 'completed',
  FAILED = 'failed',
  DELAYED = 'delayed',
  PAUSED = 'paused',
}

/** The design's record of a job's state. */
export interface JobState {
  id: string;
  status: JobStatus;
  progress: number;
  createdAt: Date;
  processedAt?: Date;
  completedAt?: Date;
  failedAt?: Date;
  attempts: number;
  maxAttempts: number;
  error?: string;
  result?: any;
  logs: JobLogEntry[];
}

export interface JobLogEntry {
  timestamp: Date;
  level: 'info' | 'warn' | 'error' | 'debug';
  message: string;
  metadata?: Record<string, any>;
}

// ---------------------------------------------------------------------------------------------
// Queues

export interface QueueConfig {
  name: string;
  /** A preset of QUEUE_TYPES ('photo-processing', 'batch-processing', 'maintenance'); a queue
   * named like a preset gets it without this. */
  type?: string;
  concurrency?: number;
  rateLimit?: { max: number; duration: number };
  defaultJobOptions?: Partial<JobOptions>;
  stalledInterval?: number;
  retryProcessDelay?: number;
  maxStalledCount?: number;
  cleanup?: {
    enabled: boolean;
    removeOnComplete?: number;
    removeOnFail?: number;
    completedJobAge?: number;
    failedJobAge?: number;
    interval?: number;
  };
  /** A JSON Schema every job's data must match (checked with ajv at every enqueue through the
   * coordinator that declared the queue; the error lists every violation). */
  schema?: object;
  /** JSON Schemas by job name, checked as well as `schema`. */
  jobSchemas?: Record<string, object>;
}

/** createQueue(name, config)'s config: a QueueConfig whose `name`, if given, is ignored for the
 * first argument. */
export type QueueCreateOptions = Omit<QueueConfig, 'name'> & { name?: string };

export interface QueueTypeConfig {
  name: string;
  displayName: string;
  description: string;
  defaultOptions: QueueOptions;
  jobTypes: string[];
  scaling: {
    minWorkers: number;
    maxWorkers: number;
    scalingThreshold: number;
  };
}

export interface QueueStatus {
  name: string;
  isPaused: boolean;
  /** BullMQ's getJobCounts: `waiting` without the prioritized jobs, which `prioritized` counts. */
  jobCounts: JobCounts;
  /** The design's backlog view: the same counts, but `waiting` is every job ready to run,
   * prioritized ones included (what a `counts.waiting > limit` check needs). */
  counts: JobCounts;
  /** Workers connected to Redis for this queue, from any process (ours or BullMQ's). */
  workers: number;
  /** Jobs finished per second over the last minute. */
  processingRate: number;
  /** Mean processing time (finishedOn − processedOn) of recent jobs, ms. */
  averageProcessingTime: number;
  health: {
    metrics: {
      /** Share of finished jobs that failed, 0 to 1. */
      errorRate: number;
      /** Completed jobs per second. */
      throughput: number;
      averageProcessingTime: number;
    };
  };
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

export interface HealthThresholds {
  /** Waiting jobs above which the queue is degraded (default 1000). */
  maxWaiting: number;
  /** Default 0.1. */
  maxErrorRate: number;
  /** ms the next job may have waited (default 300000). */
  maxWaitTime: number;
}

export interface HealthIssue {
  severity: 'info' | 'warning' | 'critical';
  message: string;
  /** Which check raised it. */
  rule?: 'high_depth' | 'no_workers' | 'error_rate' | 'paused' | 'long_wait' | 'not_found';
}

export interface QueueHealthMetrics {
  jobCounts: {
    active: number;
    waiting: number;
    completed: number;
    failed: number;
    delayed: number;
  };
  activeWorkers: number;
  isPaused: boolean;
  processingRate: number;
  averageWaitTime: number;
  errorRate: number;
  /** ms the oldest waiting job has waited. */
  oldestWaitingMs?: number;
}

export interface QueueHealthStatus {
  queueName: string;
  status: HealthStatus;
  message: string;
  metrics: QueueHealthMetrics | null;
  issues: HealthIssue[];
}

export interface HealthRecommendation {
  type: 'scale_workers' | 'adjust_settings' | 'investigate_errors' | 'resume_queue';
  priority: 'low' | 'medium' | 'high';
  description: string;
  action: string;
}

// ---------------------------------------------------------------------------------------------
// Workers

export interface JobProcessingContext {
  workerId: string;
  queueName: string;
  jobId: string;
  attemptNumber: number;
  startTime: number;
  /** Present when the attempt has a timeout; aborted (with a TimeoutError) when it passes. */
  signal?: AbortSignal;
  /** The job's lock token (not enumerable; the context also converts to it as a string). */
  readonly token?: string;
  /** The client the worker runs as, for validateJobExecution (a worker registered with
   * `clientId` is known by its id without it). */
  clientId?: string;
}

/** A job's processor, as the design types it: gets the job and the processing context; what it
 * returns (or resolves to) is the job's return value. */
export type JobProcessor<T = any, R = any, N extends string = string> = (
  job: Job<T, R, N>,
  context?: JobProcessingContext,
) => Promise<R> | R;

/** The processor registerWorker and `new Worker` take: a JobProcessor, and the context is always
 * passed (so an inline processor may use it without a check). */
export type WorkerProcessor<T = any, R = any, N extends string = string> = (
  job: Job<T, R, N>,
  context: JobProcessingContext,
  /** BullMQ's third argument: aborted when the attempt times out, or by worker.cancelJob
   * (a processor that declares it gets one for every job). */
  signal?: AbortSignal,
) => Promise<R> | R;

/** What the object form `registerWorker(config)` takes. */
export interface WorkerConfig<T = any, R = any> {
  queueName: string;
  processor: JobProcessor<T, R>;
  options?: WorkerOptions;
}

/** A registered worker with its bookkeeping (the object form of registerWorker). */
export interface ManagedWorker<T = any, R = any> {
  id: string;
  worker: Worker<T, R>;
  queueName: string;
  processor: JobProcessor<T, R>;
  options: WorkerOptions;
  status: 'active' | 'paused' | 'error' | 'stale';
  registeredAt: Date;
  /** The last job's end, or the registration time before the first job. */
  lastActivity: Date;
  processedJobs: number;
  failedJobs: number;
}

/** A worker of any process. Built from the engine's WorkerRecord (binding.d.ts) under the
 * design's names (`queueName`, `processedJobs`, `uptime`, Dates for times), so not that type. */
export interface WorkerStatus {
  id: string;
  queueName: string;
  /** `stale` when its process stopped sending heartbeats. */
  status: 'active' | 'paused' | 'error' | 'stale';
  processedJobs: number;
  failedJobs: number;
  /** ms since it started. */
  uptime: number;
  /** The last job's end, or the registration time before the first job. */
  lastActivity: Date;
  registeredAt?: Date;
  lastHeartbeat?: Date;
  pid?: number;
  host?: string;
  concurrency?: number;
  name?: string;
}

export interface ScalingResult {
  queueName: string;
  previousCount: number;
  targetCount: number;
  actualCount: number;
  action: 'scaled_up' | 'scaled_down' | 'no_change';
}

export interface WorkerPool {
  queueName: string;
  minWorkers: number;
  maxWorkers: number;
  currentWorkers: number;
  targetWorkers: number;
  autoScaling: boolean;
  lastScalingEvent?: Date;
  /** Ids of the pool's workers. */
  workerIds: string[];
  /** Its resizes, oldest first. */
  history: Array<{ at: Date; from: number; to: number; reason: string }>;
}

export interface WorkerPoolConfig<T = any, R = any> {
  minWorkers: number;
  maxWorkers: number;
  /** Default minWorkers. */
  initialWorkers?: number;
  /** Turns auto-scaling on with the default policy. */
  autoScaling?: boolean;
  processor: JobProcessor<T, R>;
  workerOptions?: WorkerOptions;
}

export interface AutoScalingPolicy {
  /** Drain the backlog within this many ms (default 60000). */
  targetProcessingTime: number;
  scalingFactor: number;
  scaleUpCooldown: number;
  scaleDownCooldown: number;
  maxScaleUpStep: number;
  maxScaleDownStep: number;
  /** How often the queue is checked, ms (default 30000). */
  checkInterval?: number;
}

/** The numbers auto-scaling works from (the design's per-queue metrics). */
export interface QueueMetrics {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
  activeWorkers: number;
  processingRate: number;
  averageProcessingTime: number;
}

// ---------------------------------------------------------------------------------------------
// Retries and dead letters

export interface RetryDecision {
  action: 'retry' | 'fail';
  reason: string;
  delay: number;
}

/** The engine's RetryStatsResult (binding.d.ts) under the design's names (`retriesByAttempt`,
 * `retriesByErrorType`) with the queue's name, so not that type. */
export interface RetryStatistics {
  queueName: string;
  totalRetries: number;
  /** Retries by the attempt number that failed. */
  retriesByAttempt: Record<string, number>;
  retriesByErrorType: Record<string, number>;
  /** Mean delay before a retry, ms. */
  averageRetryDelay: number;
  /** retriedSucceeded / (retriedSucceeded + retriedFailed). */
  retrySuccessRate: number;
  /** Retried jobs that then completed / failed for good. */
  retriedSucceeded?: number;
  retriedFailed?: number;
}

/** A job that failed for good (a dead letter). */
export interface FailedJob<T = any> {
  id: string;
  queueName: string;
  name: string;
  data: T;
  error: {
    name: string;
    message: string;
    stack?: string;
  };
  /** Attempts made. */
  attempts: number;
  failedAt: Date;
  originalJobOptions: any;
  /** The stored BullMQ fields. */
  opts?: JobsOptions;
  failedReason?: string;
  stacktrace?: string[];
  attemptsMade?: number;
  attemptsStarted?: number;
  stalledCounter?: number;
  timestamp?: number;
  processedOn?: number;
  finishedOn?: number;
  processedBy?: string;
  delay?: number;
  priority?: number;
  progress?: string | boolean | number | object;
  returnvalue?: unknown;
  repeatJobKey?: string;
  errorName?: string;
  archivedOn?: number;
}

/** The engine's FailedStatsResult (binding.d.ts) under the design's names (`totalFailedJobs`,
 * `failuresByJobType`, Dates for times) with the queue's name, so not that type. */
export interface FailedJobStatistics {
  queueName: string;
  totalFailedJobs: number;
  failuresByJobType: Record<string, number>;
  failuresByErrorType: Record<string, number>;
  oldestFailure?: Date;
  /** Jobs failed for good per minute over the last 15 minutes. */
  recentFailureRate: number;
  newestFailure?: Date;
  /** How many of the newest dead letters (at most 10,000) the breakdowns read. */
  sampled?: number;
  /** Jobs failed for good in the last 15 minutes. */
  recentFailures?: number;
}

export interface FailurePattern {
  queueName: string;
  jobName: string;
  failures: number;
  windowMs: number;
  threshold: number;
}

// ---------------------------------------------------------------------------------------------
// Metrics

/** `{ average, p50, p95, p99, count }` in ms: the engine's LatencyResult as it crosses. */
export interface Latency extends LatencyResult {}

/** Attempts of one job name: `{ completed, failed, deadLetter, retried }`, the engine's
 * JobTypeCountersResult as it crosses. */
export interface JobTypeCounters extends JobTypeCountersResult {}

export interface QueueMetricsSnapshot {
  name: string;
  isPaused: boolean;
  jobCounts: {
    waiting: number;
    active: number;
    completed: number;
    failed: number;
    delayed: number;
  };
  /** Jobs finished (completed or failed for good) per minute over the last 5 minutes. */
  processingRate: number;
  /** Completed jobs per second over the last minute. */
  throughput: number;
  averageProcessingTime: number;
  /** Share of the jobs finished in the last hour that failed for good, 0 to 1. */
  errorRate: number;
  /** Workers connected for the queue, from any process. */
  workers?: number;
  /** Jobs completed / failed for good per minute, the current minute first. */
  completedPerMinute?: number[];
  failedPerMinute?: number[];
  processingTime?: Latency;
  waitTime?: Latency;
  stalled?: number;
  oldestWaitingMs?: number;
  byJobType?: Record<string, JobTypeCounters>;
}

/** What getQueueMetrics resolves to: the snapshot with every detail present. The engine's
 * QueueMetricsResult (binding.d.ts) with `processingRate`, `throughput` and `errorRate` in the
 * design's units (see QueueMetricsSnapshot): the same fields, not the same meaning, so its parts
 * are reused rather than the whole. */
export interface QueueMetricsReport extends QueueMetricsSnapshot {
  /** Jobs per state, list by list (prioritized jobs apart from `waiting`). */
  jobCounts: JobCountsResult;
  workers: number;
  completedPerMinute: number[];
  failedPerMinute: number[];
  processingTime: Latency;
  waitTime: Latency;
  stalled: number;
  oldestWaitingMs: number;
  byJobType: Record<string, JobTypeCounters>;
}

export interface WorkerMetricsSnapshot {
  totalWorkers: number;
  activeWorkers: number;
  workersByQueue: Record<string, number>;
  averageJobsPerWorker: number;
  /** Each worker's status. */
  workers?: WorkerStatus[];
}

export interface WorkerMetricsReport extends WorkerMetricsSnapshot {
  workers: WorkerStatus[];
}

export interface SystemMetricsSnapshot {
  memory: {
    heapUsed: number;
    heapTotal: number;
    external: number;
    rss: number;
  };
  cpu: {
    user: number;
    system: number;
  };
  uptime: number;
}

export interface JobQueueMetricsSnapshot {
  timestamp: Date;
  queues: Map<string, QueueMetricsSnapshot>;
  workers: WorkerMetricsSnapshot;
  system: SystemMetricsSnapshot;
}

/** What collectMetrics resolves to: the snapshot with every detail present. */
export interface JobQueueMetricsReport extends JobQueueMetricsSnapshot {
  queues: Map<string, QueueMetricsReport>;
  workers: WorkerMetricsReport;
}

/** @deprecated the former name of JobQueueMetricsReport. */
export type MetricsSnapshot = JobQueueMetricsReport;
/** @deprecated the former name of WorkerMetricsReport. */
export type WorkerMetrics = WorkerMetricsReport;

/** Labels of a counter, gauge or histogram sample. */
export type MetricLabels = Record<string, string>;

// ---------------------------------------------------------------------------------------------
// Performance

export interface OptimizationResult {
  queueName: string;
  /** 0 to 100. */
  currentPerformance: number;
  recommendations: OptimizationAction[];
  /** Expected improvement, percent. */
  estimatedImprovement: number;
}

export interface OptimizationAction {
  type: string;
  priority: 'low' | 'medium' | 'high';
  description: string;
  expectedImpact: string;
}

export interface BottleneckAnalysis {
  queueName: string;
  avgQueueDepth: number;
  avgProcessingTime: number;
  /** Jobs per second. */
  throughput: number;
  errorRate: number;
  /** Share of the heap in use, 0 to 1. */
  memoryUsage: number;
  /** Share of one core used by this process, 0 to 1. */
  cpuUsage: number;
}

/** What recommendScaling resolves to (the design names it without fields). */
export interface ScalingRecommendation {
  queueName: string;
  currentWorkers: number;
  recommendedWorkers: number;
  action: 'scale_up' | 'scale_down' | 'no_change';
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Security

export interface SecurityConfig {
  maxJobDataSize: number;
  /** ms after which a job that has not run fails at once (SecurityError); 0 turns it off. */
  maxJobAge: number;
  /** Audit log of admin actions and denials (a capped stream under the key prefix). */
  enableAuditLogging: boolean;
  rateLimiting: {
    enabled: boolean;
    maxJobsPerMinute: number;
    /** The window the limit counts in, ms (default 60000). */
    windowMs: number;
  };
  /** The design's content rules on job data (script tags, javascript: URLs, inline event
   * handlers, eval(, prototype-pollution paths). */
  enableJobValidation?: boolean;
  /** Write every enqueued job to the audit log too (default false). */
  auditEnqueues?: boolean;
  /** The audit stream's approximate cap (default 100000 entries). */
  auditLogMaxLength?: number;
  accessControl?: AccessControlConfig;
}

/** How permissions are decided where they are not stored. */
export interface AccessControlConfig {
  /** For a client without any stored permission: allow everything (default; stored
   * permissions only narrow) or deny everything. */
  defaultPolicy?: 'allow' | 'deny';
  /** ms a process keeps a client's permissions before reading them again (default 1000). */
  cacheMs?: number;
}

/** The actions a Permission grants: `manage` includes `view`; `*` is every action. */
export type PermissionAction = 'enqueue' | 'view' | 'manage' | 'process' | '*';

/** An entry of the audit log. */
export interface AuditEntry {
  /** Its stream id (`<ms>-<n>`), in order of writing. */
  id: string;
  timestamp: Date;
  /** A client id (calls through `forClient`, jobs of a client), else `system`. */
  actor: string;
  /** `enqueue`, `retry`, `requeue`, `archive`, `purge`, `pause`, `resume`, `destroy`, `scale`,
   * `create`, `grant`, `revoke`; a denial names the action refused (`view`, `manage`...). */
  action: string;
  queue?: string;
  jobId?: string;
  outcome: 'success' | 'failure' | 'denied' | string;
  /** host:pid of the process that wrote it. */
  origin?: string;
  metadata?: Record<string, any>;
}

/** Which audit entries getAuditLog reads; every field narrows. */
export interface AuditLogQuery {
  since?: Date | number;
  until?: Date | number;
  actor?: string;
  action?: string;
  queue?: string;
  /** At most this many, newest first (default 100, up to 1000). */
  limit?: number;
}

/** What checkClientRateLimit decided. */
export interface RateLimitDecision {
  /** Counted (under the limit). */
  allowed: boolean;
  /** 0 when allowed; else ms until the client's window ends. */
  retryAfterMs: number;
  /** Jobs left in the window. */
  remaining: number;
}

/** TLS for the Redis connection (ioredis' `tls`, or the design's `{ enabled, ca }`). */
export interface RedisTlsOptions {
  /** false turns TLS off. */
  enabled?: boolean;
  /** PEM of the authorities to trust instead of the system's roots. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** PEM client certificate (mutual TLS); needs `key`. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** false skips verifying the server's certificate (tests only); default true. */
  rejectUnauthorized?: boolean;
}

export interface Permission {
  resource: string;
  actions: string[];
  conditions?: PermissionCondition[];
}

export interface PermissionCondition {
  field: string;
  operator: 'equals' | 'in' | 'not_in';
  value: any;
}

// ---------------------------------------------------------------------------------------------
// Configuration

/** The design's logger: { debug, info, warn, error }, each called as (message, fields). */
export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

/** A logger called as (fields, message), as pino and bunyan take it. */
export interface FieldsFirstLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** A node's address: `{ host, port }`, `'host:port'`, or a port on 127.0.0.1. */
export type RedisNodeAddress = { host?: string; port?: number } | string | number;

/** Replication-acknowledged adds: WAIT for `replicas` replicas, at most `timeout` ms. */
export interface RedisWaitOptions {
  replicas: number;
  timeout?: number;
}

/** The coordinator's configuration: the design's schema with its defaults filled in (what
 * `coordinator.config` holds), plus this package's optional settings. */
export interface JobQueueCoordinatorConfig {
  redis: {
    host: string;
    port: number;
    password?: string;
    db: number;
    keyPrefix: string;
    /** Retries of a command while the connection is down; null waits forever. */
    maxRetriesPerRequest: number | null;
    /** ms between those retries. */
    retryDelayOnFailover: number;
    /** `redis://` / `rediss://` URL; wins over host and port. */
    url?: string;
    /** An ACL user (REDIS_USERNAME). */
    username?: string;
    /** TLS (`true`: verified against the system's roots), or its options. */
    tls?: boolean | RedisTlsOptions;
    /** A Redis Cluster (REDIS_CLUSTER_NODES): its seed nodes; host, port and url are then
     * unused. Every queue needs a hash tag in its name or in `keyPrefix`. */
    cluster?: { nodes: RedisNodeAddress[] };
    /** Sentinels (REDIS_SENTINELS) that name the master of set `name`. */
    sentinels?: RedisNodeAddress[];
    /** The sentinels' master set name (REDIS_SENTINEL_NAME). */
    name?: string;
    /** ACL user on the sentinels themselves (REDIS_SENTINEL_USERNAME). */
    sentinelUsername?: string;
    /** The sentinels' own password (REDIS_SENTINEL_PASSWORD). */
    sentinelPassword?: string;
    /** ioredis' sentinel role: only 'master' is accepted (a queue writes). */
    role?: 'master';
    /** Replication-acknowledged adds (REDIS_WAIT_REPLICAS, REDIS_WAIT_TIMEOUT): an add
     * resolves once `replicas` replicas confirmed it (WAIT), else fails with a
     * ReplicationError after `timeout` ms (default 1000). */
    wait?: RedisWaitOptions;
  };
  defaultJobOptions: {
    attempts: number;
    backoff: {
      type: 'fixed' | 'exponential';
      delay: number;
      maxDelay?: number;
    };
    removeOnComplete: KeepJobs;
    removeOnFail: KeepJobs;
    priority: number;
  };
  defaultWorkerOptions: {
    concurrency: number;
    limiter?: {
      max: number;
      duration: number;
    };
    settings: {
      stalledInterval: number;
      retryProcessDelay: number;
      maxStalledCount: number;
    };
    lockDuration?: number;
  };
  security: {
    maxJobDataSize: number;
    /** ms; 0 turns the check off. */
    maxJobAge: number;
    enableJobValidation: boolean;
    rateLimiting: {
      enabled: boolean;
      maxJobsPerMinute: number;
      /** The window the limit counts in, ms (default 60000). */
      windowMs?: number;
    };
    // this package's, always filled in `coordinator.config`
    /** Audit log of admin actions and denials (default true). */
    enableAuditLogging?: boolean;
    /** Write every enqueued job to the audit log too (default false). */
    auditEnqueues?: boolean;
    /** The audit stream's approximate cap (default 100000 entries). */
    auditLogMaxLength?: number;
    accessControl?: AccessControlConfig;
  };
  monitoring: {
    metricsCollection: {
      enabled: boolean;
      interval: number;
    };
    healthChecks: {
      enabled: boolean;
      interval: number;
    };
    /** More than `threshold` failed attempts of one job name within `windowMs` (default 10 in
     * 60 s) emits `failurePattern` and logs a warning. */
    failurePatterns?: { threshold?: number; windowMs?: number };
    /** Thresholds of checkQueueHealth. */
    health?: Partial<HealthThresholds>;
  };
  performance: {
    autoScaling: {
      enabled: boolean;
      checkInterval: number;
      cooldownPeriod: number;
    };
    optimization: {
      enabled: boolean;
      analysisInterval: number;
    };
  };
  /** Where the coordinator logs; default JSON lines on stderr at LOG_LEVEL. It is called as
   * the design calls its logger, (message, fields), except for pino and bunyan loggers,
   * which are called (fields, message); `loggerStyle` chooses explicitly. */
  logger?: Logger | FieldsFirstLogger;
  /** 'design': logger[level](message, fields); 'pino': logger[level](fields, message). */
  loggerStyle?: 'design' | 'pino';
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends (...args: any[]) => any
    ? T[K]
    : T[K] extends Date | unknown[]
      ? T[K]
      : T[K] extends object
        ? DeepPartial<T[K]>
        : T[K];
};

/** What the coordinator's constructor takes: any part of JobQueueCoordinatorConfig (the rest
 * comes from the environment and the design's defaults), and `redis` may be a URL. */
export type JobQueueCoordinatorOptions = Omit<DeepPartial<JobQueueCoordinatorConfig>, 'redis' | 'logger'> & {
  redis?: string | DeepPartial<JobQueueCoordinatorConfig['redis']>;
  logger?: Logger | FieldsFirstLogger;
};

// ---------------------------------------------------------------------------------------------
// Coordinator status

export interface RedisHealth {
  connected: boolean;
  latencyMs?: number;
  error?: string;
}

export interface CoordinatorHealth {
  status: HealthStatus;
  redis: RedisHealth;
  queues: Record<string, HealthStatus>;
  checkedAt: Date;
}

export interface CoordinatorStatus {
  redis: RedisHealth;
  prefix: string;
  queues: string[];
  workers: Array<{ id: string; queueName: string; status: string }>;
  pools: Array<{ queueName: string; currentWorkers: number; autoScaling: boolean }>;
  /** Seconds since the process started. */
  uptime: number;
}

// ---------------------------------------------------------------------------------------------
// The design's job schemas (examples of job data; any data type works)

export interface PhotoProcessingJob {
  id: string;
  photoId: string;
  storage: {
    s3Key: string;
    bucket: string;
    originalSize: number;
    mimeType: string;
    etag?: string;
  };
  pipeline: {
    name: string;
    stages: ProcessingStage[];
    priority: number;
    configuration?: PipelineConfig;
  };
  context: {
    clientId: string;
    sessionId?: string;
    uploadedAt: string;
    traceId: string;
    retryCount?: number;
  };
  metadata: {
    originalFilename?: string;
    fileSize: number;
    dimensions?: { width: number; height: number };
    exifData?: Record<string, any>;
  };
}

export interface ProcessingStage {
  name: string;
  enabled: boolean;
  configuration?: Record<string, any>;
  dependencies?: string[];
  timeout?: number;
}

export interface PipelineConfig {
  thumbnailSizes?: ThumbnailSize[];
  compressionQuality?: number;
  outputFormat?: string;
  preserveExif?: boolean;
  watermark?: WatermarkConfig;
}

export interface ThumbnailSize {
  name: string;
  width: number;
  height: number;
  crop?: boolean;
}

export interface WatermarkConfig {
  enabled: boolean;
  text?: string;
  image?: string;
  position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'center';
  opacity: number;
}

export interface BatchProcessingJob {
  id: string;
  batchId: string;
  photoIds: string[];
  batchSize: number;
  pipeline: string;
  clientId: string;
  priority: number;
  metadata: {
    totalPhotos: number;
    estimatedDuration: number;
    createdAt: string;
  };
}

export interface CleanupJob {
  id: string;
  type: 'orphan_cleanup' | 'expired_files' | 'failed_uploads';
  scope: {
    buckets?: string[];
    olderThan?: string;
    dryRun?: boolean;
  };
  metadata: {
    scheduledAt: string;
    estimatedItems: number;
  };
}

export type { RepeatOptions };
